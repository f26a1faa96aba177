//! Idempotency keys in the operational database: per table and client (the actor who
//! sent the batch), the rows a key's batch had and its body's hash. Keys from before they
//! were per client (actor '') are shared by all clients of their table.

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

/// The batch `actor` first sent under `key`, if any.
pub(crate) fn find(
    conn: &Connection,
    table: Table,
    actor: &str,
    key: &str,
) -> Result<Option<KeyRecord>> {
    Ok(conn
        .prepare_cached(
            "SELECT rows, body_hash FROM ingest_keys
             WHERE table_name = ?1 AND key = ?2 AND actor IN (?3, '')
             ORDER BY actor DESC LIMIT 1",
        )?
        .query_row(params![table.name(), key, actor], |r| {
            Ok(KeyRecord {
                rows: r.get(0)?,
                hash: r.get(1)?,
            })
        })
        .optional()?)
}

/// A key of one client for one table.
pub(crate) type Key<'a> = (Table, &'a str, &'a str);

/// Remembers keys (in one transaction); a key already known keeps its first batch.
pub(crate) fn remember<'a>(
    conn: &Connection,
    keys: impl IntoIterator<Item = (Key<'a>, &'a KeyRecord)>,
) -> Result<()> {
    let tx = conn.unchecked_transaction()?;
    {
        let mut insert = tx.prepare_cached(
            "INSERT OR IGNORE INTO ingest_keys (table_name, actor, key, rows, body_hash, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        let at = now_text();
        for ((table, actor, key), k) in keys {
            insert.execute(params![table.name(), actor, key, k.rows, k.hash, at])?;
        }
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{MIGRATIONS, OpsDb};

    fn record(rows: u64) -> KeyRecord {
        KeyRecord {
            rows,
            hash: format!("h{rows}"),
        }
    }

    #[test]
    fn keys_are_per_client_and_older_keys_stay_shared() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cxray.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
            .unwrap();
        for (i, sql) in MIGRATIONS[..5].iter().enumerate() {
            conn.execute_batch(sql).unwrap();
            conn.execute(
                "INSERT INTO schema_migrations VALUES (?1, 'then')",
                params![i + 1],
            )
            .unwrap();
        }
        conn.execute(
            "INSERT INTO ingest_keys VALUES ('transactions', 'old', 3, 'h3', 'then')",
            [],
        )
        .unwrap();
        drop(conn);

        let db = OpsDb::open(&path).unwrap();
        let t = Table::Transactions;
        for actor in ["web:a", "web:b"] {
            assert_eq!(find(db.conn(), t, actor, "old").unwrap(), Some(record(3)));
        }
        let (one, two) = (record(1), record(2));
        remember(
            db.conn(),
            [((t, "web:a", "k"), &one), ((t, "web:b", "k"), &two)],
        )
        .unwrap();
        remember(db.conn(), [((t, "web:a", "k"), &two)]).unwrap();
        assert_eq!(find(db.conn(), t, "web:a", "k").unwrap(), Some(one));
        assert_eq!(find(db.conn(), t, "web:b", "k").unwrap(), Some(two));
        assert_eq!(find(db.conn(), t, "web:c", "k").unwrap(), None);
        assert_eq!(
            find(db.conn(), Table::Interactions, "web:a", "k").unwrap(),
            None
        );
    }
}
