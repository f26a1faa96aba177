//! Idempotency keys in the operational database: per table and client (an API token, kept
//! in the column `actor`), the rows a key's batch had and its body's hash. Older keys stay
//! as they were kept: per user (their actor, `web:` and the email) or, from before that,
//! shared by all clients of their table (actor '').

use crate::db::{Conn, OptionalExtension, params};
use cxray_core::domain::Table;

use super::Client;
use crate::Result;
use crate::ops::now_text;

/// What a key's first batch was.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct KeyRecord {
    pub rows: u64,
    pub hash: String,
}

/// The batch `client` first sent under `key`, if any (or its user, or anyone, under an
/// older key).
pub(crate) fn find(
    conn: &Conn,
    table: Table,
    client: &Client,
    key: &str,
) -> Result<Option<KeyRecord>> {
    Ok(conn
        .prepare_cached(
            "SELECT rows, body_hash FROM ingest_keys
             WHERE table_name = ?1 AND key = ?2 AND actor IN (?3, ?4, '')
             ORDER BY actor = ?3 DESC, actor = ?4 DESC LIMIT 1",
        )?
        .query_row(params![table.name(), key, client.id, client.actor], |r| {
            Ok(KeyRecord {
                rows: r.get(0)?,
                hash: r.get(1)?,
            })
        })
        .optional()?)
}

/// A key of one client (its id) for one table.
pub(crate) type Key<'a> = (Table, &'a str, &'a str);

/// Remembers keys (in one transaction); a key already known keeps its first batch.
pub(crate) fn remember<'a>(
    conn: &Conn,
    keys: impl IntoIterator<Item = (Key<'a>, &'a KeyRecord)>,
) -> Result<()> {
    let tx = conn.write()?;
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO ingest_keys (table_name, actor, key, rows, body_hash, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
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
    use crate::ops::OpsDb;

    fn record(rows: u64) -> KeyRecord {
        KeyRecord {
            rows,
            hash: format!("h{rows}"),
        }
    }

    #[test]
    fn keys_are_per_token_and_older_keys_stay_per_user_or_shared() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cxray.db");
        let conn = crate::ops::db_at_version(&path, 5);
        conn.execute(
            "INSERT INTO ingest_keys VALUES ('transactions', 'old', 3, 'h3', 'then')",
            [],
        )
        .unwrap();
        drop(conn);

        let db = OpsDb::open(&path).unwrap();
        let t = Table::Transactions;
        let client = |id: &str, actor: &str| Client {
            id: id.into(),
            actor: actor.into(),
        };
        let (a1, a2, b) = (
            client("token:1", "web:a"),
            client("token:2", "web:a"),
            client("token:3", "web:b"),
        );
        for c in [&a1, &a2, &b] {
            assert_eq!(find(db.conn(), t, c, "old").unwrap(), Some(record(3)));
        }
        // A key kept per user (as before keys were per token).
        remember(db.conn(), [((t, "web:a", "user"), &record(4))]).unwrap();
        assert_eq!(find(db.conn(), t, &a2, "user").unwrap(), Some(record(4)));
        assert_eq!(find(db.conn(), t, &b, "user").unwrap(), None);

        let (one, two) = (record(1), record(2));
        remember(
            db.conn(),
            [((t, "token:1", "k"), &one), ((t, "token:2", "k"), &two)],
        )
        .unwrap();
        remember(db.conn(), [((t, "token:1", "k"), &two)]).unwrap();
        assert_eq!(find(db.conn(), t, &a1, "k").unwrap(), Some(one));
        assert_eq!(find(db.conn(), t, &a2, "k").unwrap(), Some(two));
        assert_eq!(find(db.conn(), t, &b, "k").unwrap(), None);
        assert_eq!(
            find(db.conn(), Table::Interactions, &a1, "k").unwrap(),
            None
        );
    }
}
