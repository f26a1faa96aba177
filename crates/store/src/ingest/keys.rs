//! Idempotency keys in the operational database: per table, the rows a key's batch had
//! and its body's hash.

use cxray_core::domain::Table;
use rusqlite::{Connection, OptionalExtension, params};

use crate::Result;
use crate::ops::now_text;

/// What a key's first batch was.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct KeyRecord {
    pub rows: u64,
    pub hash: String,
}

/// The batch first sent under `key`, if any.
pub(crate) fn find(conn: &Connection, table: Table, key: &str) -> Result<Option<KeyRecord>> {
    Ok(conn
        .prepare_cached(
            "SELECT rows, body_hash FROM ingest_keys WHERE table_name = ?1 AND key = ?2",
        )?
        .query_row(params![table.name(), key], |r| {
            Ok(KeyRecord {
                rows: r.get(0)?,
                hash: r.get(1)?,
            })
        })
        .optional()?)
}

/// Remembers keys (in one transaction); a key already known keeps its first batch.
pub(crate) fn remember<'a>(
    conn: &Connection,
    keys: impl IntoIterator<Item = (Table, &'a str, &'a KeyRecord)>,
) -> Result<()> {
    let tx = conn.unchecked_transaction()?;
    {
        let mut insert = tx.prepare_cached(
            "INSERT OR IGNORE INTO ingest_keys (table_name, key, rows, body_hash, at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let at = now_text();
        for (table, key, k) in keys {
            insert.execute(params![table.name(), key, k.rows, k.hash, at])?;
        }
    }
    tx.commit()?;
    Ok(())
}
