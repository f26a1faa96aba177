//! The SQLite backend: a file of the state folder, in write-ahead-log mode.

use std::path::Path;
use std::sync::Arc;

use rusqlite::Connection;
use rusqlite::types::{ToSqlOutput, ValueRef};

use super::{DbResult, Row, Value};

/// Opens (creating if needed) the database file.
pub(super) fn open(path: &Path) -> DbResult<Connection> {
    let conn = Connection::open(path)?;
    // First, so the pragmas below wait for a lock another process (a server starting up,
    // a migration) holds instead of failing at once with "database is locked".
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // Up to 64 MiB of pages in memory (SQLite's default is 2 MiB): a scan deciding on a
    // million invitations inserts into indexes in random order.
    conn.pragma_update(None, "cache_size", -65_536)?;
    Ok(conn)
}

/// Runs a statement (prepared once per connection).
pub(super) fn execute(conn: &Connection, sql: &str, values: &[Value]) -> DbResult<usize> {
    let mut stmt = conn.prepare_cached(sql)?;
    Ok(stmt.execute(rusqlite::params_from_iter(values))?)
}

/// Every row of a query.
pub(super) fn query(conn: &Connection, sql: &str, values: &[Value]) -> DbResult<Vec<Row>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let names: Arc<[String]> = stmt.column_names().into_iter().map(String::from).collect();
    let width = names.len();
    let mut rows = stmt.query(rusqlite::params_from_iter(values))?;
    let mut read = Vec::new();
    while let Some(row) = rows.next()? {
        let values = (0..width)
            .map(|i| row.get_ref(i).map(value))
            .collect::<rusqlite::Result<_>>()?;
        read.push(Row {
            names: names.clone(),
            values,
        });
    }
    Ok(read)
}

fn value(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(r) => Value::Real(r),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Real(r) => ToSqlOutput::Borrowed(ValueRef::Real(*r)),
            Value::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            Value::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}
