//! The operational database's one interface over its two backends: SQLite, embedded in a
//! file of the state folder (the default), and PostgreSQL, for several servers sharing
//! one database. The modules that keep their tables there write their statements once,
//! in the SQL both understand (`?1` parameters, `ON CONFLICT … DO`, `RETURNING`), and
//! read rows as [`Row`]s of dynamically typed [`Value`]s, as SQLite has them.
//!
//! Each backend's schema is its own list of migrations ([`crate::ops`]); both end at the
//! same schema version with the same tables and columns.

mod postgres;
mod sqlite;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod tls;
mod value;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

pub use value::{FromValue, ToValue, Value};

/// Where the operational database is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpsLocation {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database, by its `postgres://` URL.
    Postgres(String),
}

impl OpsLocation {
    /// The location from `--ops` or the configuration: a `postgres://` or
    /// `postgresql://` URL, or a SQLite file's path.
    pub fn parse(text: &str) -> OpsLocation {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            OpsLocation::Postgres(text.to_string())
        } else {
            OpsLocation::Sqlite(PathBuf::from(text))
        }
    }
}

impl fmt::Display for OpsLocation {
    /// The location as people may read it: a URL without its password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpsLocation::Sqlite(path) => write!(f, "{}", path.display()),
            OpsLocation::Postgres(url) => f.write_str(&postgres::without_password(url)),
        }
    }
}

/// What went wrong in the operational database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{}", postgres_message(.0))]
    Postgres(#[from] ::postgres::Error),
    /// The database could not be reached or refused the connection.
    #[error("cannot connect to {location}: {}", with_causes(.source))]
    Connect {
        location: String,
        #[source]
        source: ::postgres::Error,
    },
    /// The URL's settings cannot be used (its TLS parameters).
    #[error("{location}: {message}")]
    Settings { location: String, message: String },
    /// A query that should return a row returned none.
    #[error("the query returned no rows")]
    NoRows,
    /// A value that is not what its column should hold.
    #[error("column {column}: {message}")]
    Column { column: String, message: String },
    /// A parameter that does not fit the database's type for it.
    #[error("parameter: {0}")]
    Parameter(String),
    /// A connection's thread could not be started.
    #[error("starting a connection's thread: {0}")]
    Thread(std::io::Error),
    /// The connection's worker thread is gone.
    #[error("the database connection closed")]
    Closed,
}

/// PostgreSQL's message for an error of a statement (its error's own text is only "db
/// error"), else the error's text.
fn postgres_message(e: &::postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => e.to_string(),
    }
}

/// The error's text followed by its causes' (the client's own text for a failed
/// connection does not say why: "error performing TLS handshake").
fn with_causes(e: &::postgres::Error) -> String {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text = format!("{text}: {c}");
        cause = c.source();
    }
    text
}

/// A result of the operational database.
pub type DbResult<T> = std::result::Result<T, DbError>;

/// One row of a result: its values in column order, readable by index or name.
#[derive(Debug, Clone)]
pub struct Row {
    names: Arc<[String]>,
    values: Vec<Value>,
}

/// A column of a [`Row`]: its index or its name.
pub trait RowIndex {
    /// The column's index in `names`.
    fn index(&self, names: &[String]) -> DbResult<usize>;
}

impl RowIndex for usize {
    fn index(&self, names: &[String]) -> DbResult<usize> {
        (*self < names.len())
            .then_some(*self)
            .ok_or(DbError::Column {
                column: self.to_string(),
                message: format!("no such column: the row has {}", names.len()),
            })
    }
}

impl RowIndex for &str {
    fn index(&self, names: &[String]) -> DbResult<usize> {
        names
            .iter()
            .position(|n| n == self)
            .ok_or_else(|| DbError::Column {
                column: self.to_string(),
                message: "no such column".into(),
            })
    }
}

impl Row {
    /// Column `i` as a `T`.
    pub fn get<I: RowIndex, T: FromValue>(&self, i: I) -> DbResult<T> {
        let index = i.index(&self.names)?;
        T::from_value(&self.values[index]).map_err(|message| DbError::Column {
            column: self.names[index].clone(),
            message,
        })
    }

    /// Column `i`'s name.
    pub fn name(&self, i: usize) -> &str {
        &self.names[i]
    }
}

/// The parameters of a statement: `params![…]`, `[]`, or a slice of values.
pub trait Params {
    /// The parameters as values, in order.
    fn values(&self) -> DbResult<Vec<Value>>;
}

impl Params for [&dyn ToValue; 0] {
    fn values(&self) -> DbResult<Vec<Value>> {
        Ok(Vec::new())
    }
}

/// Arrays of 1 to 16 parameters.
macro_rules! array_params {
    ($($n:literal)*) => {$(
        impl<T: ToValue> Params for [T; $n] {
            fn values(&self) -> DbResult<Vec<Value>> {
                self.iter().map(ToValue::to_value).collect()
            }
        }
    )*};
}

array_params!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);

impl<T: ToValue> Params for &[T] {
    fn values(&self) -> DbResult<Vec<Value>> {
        self.iter().map(ToValue::to_value).collect()
    }
}

impl<T: ToValue> Params for Vec<T> {
    fn values(&self) -> DbResult<Vec<Value>> {
        self.iter().map(ToValue::to_value).collect()
    }
}

impl<T: ToValue> Params for &Vec<T> {
    fn values(&self) -> DbResult<Vec<Value>> {
        self.iter().map(ToValue::to_value).collect()
    }
}

/// A statement's parameters, in order: `params![a, b]`.
#[macro_export]
macro_rules! params {
    () => { &[] as &[&dyn $crate::db::ToValue] };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::db::ToValue),+] as &[&dyn $crate::db::ToValue] };
}
pub use crate::params;

/// `None` for a query that returned no row, as `rusqlite::OptionalExtension` has it.
pub trait OptionalExtension<T> {
    /// The row's value, or none when there was no row.
    fn optional(self) -> DbResult<Option<T>>;
}

impl<T> OptionalExtension<T> for DbResult<T> {
    fn optional(self) -> DbResult<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(DbError::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Whether the PostgreSQL URL's settings can be used (its TLS parameters), before any
/// connection: what is wrong, naming the URL without its password.
pub fn check_postgres(url: &str) -> DbResult<()> {
    postgres::check(url)
}

/// Rows one PostgreSQL `INSERT` of [`Conn::insert_rows`] sends at most.
pub const ROWS_PER_INSERT: usize = 1000;

/// Parameters one PostgreSQL statement may have.
const MAX_PARAMETERS: usize = 32_767;

/// `rows` groups of `width` numbered parameters: `(?1, ?2), (?3, ?4)`.
fn placeholders(rows: usize, width: usize) -> String {
    let row = |r: usize| {
        let numbers: Vec<String> = (1..=width).map(|c| format!("?{}", r * width + c)).collect();
        format!("({})", numbers.join(", "))
    };
    (0..rows).map(row).collect::<Vec<_>>().join(", ")
}

/// A connection to the operational database.
pub struct Conn {
    backend: Backend,
}

enum Backend {
    Sqlite(rusqlite::Connection),
    Postgres(postgres::Client),
}

impl Conn {
    /// Connects to the database at `location` (a SQLite file is created if missing).
    pub fn open(location: &OpsLocation) -> DbResult<Conn> {
        let backend = match location {
            OpsLocation::Sqlite(path) => Backend::Sqlite(sqlite::open(path)?),
            OpsLocation::Postgres(url) => Backend::Postgres(postgres::Client::connect(url)?),
        };
        Ok(Conn { backend })
    }

    /// A new connection of its own to the PostgreSQL database at `url`, closed when
    /// dropped (never reused, so what its session holds ends with it), whose statements
    /// fail within about `timeout` when the server stops answering.
    pub fn dedicated(url: &str, timeout: std::time::Duration) -> DbResult<Conn> {
        let backend = Backend::Postgres(postgres::Client::dedicated(url, timeout)?);
        Ok(Conn { backend })
    }

    /// Whether this is a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// The SQLite connection, for what only SQLite has (its file's integrity, backup).
    pub fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match &self.backend {
            Backend::Sqlite(c) => Some(c),
            Backend::Postgres(_) => None,
        }
    }

    /// Runs a statement; the number of rows it changed.
    pub fn execute<P: Params>(&self, sql: &str, params: P) -> DbResult<usize> {
        let values = params.values()?;
        match &self.backend {
            Backend::Sqlite(c) => sqlite::execute(c, sql, &values),
            Backend::Postgres(c) => c.execute(sql, values),
        }
    }

    /// Inserts `rows`, each the values of the columns `head` names (`INSERT INTO t (a, b)`):
    /// on SQLite one cached statement a row, on PostgreSQL up to [`ROWS_PER_INSERT`] rows a
    /// statement, since each statement there is a round trip.
    pub fn insert_rows<P: Params>(&self, head: &str, rows: &[P]) -> DbResult<()> {
        let Some(first) = rows.first() else {
            return Ok(());
        };
        let width = first.values()?.len().max(1);
        let per_statement = match self.backend {
            Backend::Sqlite(_) => 1,
            Backend::Postgres(_) => ROWS_PER_INSERT.min(MAX_PARAMETERS / width),
        };
        // Written once for the full groups (every row's on SQLite), once for the last.
        let sql = |rows: usize| format!("{head} VALUES {}", placeholders(rows, width));
        let full = sql(per_statement);
        for chunk in rows.chunks(per_statement) {
            let mut values = Vec::with_capacity(chunk.len() * width);
            for row in chunk {
                values.extend(row.values()?);
            }
            match chunk.len() == per_statement {
                true => self.execute(&full, values)?,
                false => self.execute(&sql(chunk.len()), values)?,
            };
        }
        Ok(())
    }

    /// Runs an `INSERT` into a table with an `id` key; the new row's id.
    pub fn insert<P: Params>(&self, sql: &str, params: P) -> DbResult<i64> {
        self.query_row(&format!("{sql} RETURNING id"), params, |r| r.get(0))
    }

    /// Runs statements separated by `;`, without parameters.
    pub fn execute_batch(&self, sql: &str) -> DbResult<()> {
        match &self.backend {
            Backend::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Backend::Postgres(c) => c.batch(sql),
        }
    }

    /// Every row of a query.
    pub fn query<P: Params>(&self, sql: &str, params: P) -> DbResult<Vec<Row>> {
        let values = params.values()?;
        match &self.backend {
            Backend::Sqlite(c) => sqlite::query(c, sql, &values),
            Backend::Postgres(c) => c.query(sql, values),
        }
    }

    /// The first row of a query, read by `f`; [`DbError::NoRows`] when there is none.
    pub fn query_row<P: Params, T>(
        &self,
        sql: &str,
        params: P,
        f: impl FnOnce(&Row) -> DbResult<T>,
    ) -> DbResult<T> {
        let rows = self.query(sql, params)?;
        f(rows.first().ok_or(DbError::NoRows)?)
    }

    /// Every row of a query, each read by `f`.
    pub fn query_map<P: Params, T>(
        &self,
        sql: &str,
        params: P,
        f: impl FnMut(&Row) -> DbResult<T>,
    ) -> DbResult<Vec<T>> {
        self.query(sql, params)?.iter().map(f).collect()
    }

    /// A statement to run once or many times.
    pub fn prepare(&self, sql: &str) -> DbResult<Statement<'_>> {
        let sql = sql.to_string();
        Ok(Statement { conn: self, sql })
    }

    /// A statement to run once or many times (every statement is cached).
    pub fn prepare_cached(&self, sql: &str) -> DbResult<Statement<'_>> {
        self.prepare(sql)
    }

    /// A write transaction. Writers take turns: SQLite takes its write lock at the start
    /// (waiting up to the busy timeout), PostgreSQL a transaction-scoped advisory lock,
    /// so a transaction that reads and then writes never loses to another writer
    /// halfway. It rolls back when dropped uncommitted.
    pub fn write(&self) -> DbResult<Tx<'_>> {
        match &self.backend {
            Backend::Sqlite(c) => c.execute_batch("BEGIN IMMEDIATE")?,
            // A lock not had in time leaves the transaction begun and failed: end it, so
            // the connection is usable again.
            Backend::Postgres(c) => c.batch(postgres::BEGIN_WRITE).inspect_err(|_| {
                let _ = c.batch("ROLLBACK");
            })?,
        }
        Ok(Tx {
            conn: self,
            done: false,
        })
    }
}

/// A statement of a connection, as `rusqlite::Statement` has it (SQLite caches the
/// prepared statement, PostgreSQL's client its prepared form).
pub struct Statement<'c> {
    conn: &'c Conn,
    sql: String,
}

impl Statement<'_> {
    /// Runs the statement; the number of rows it changed.
    pub fn execute<P: Params>(&mut self, params: P) -> DbResult<usize> {
        self.conn.execute(&self.sql, params)
    }

    /// Every row, each read by `f`.
    pub fn query_map<P: Params, T>(
        &mut self,
        params: P,
        f: impl FnMut(&Row) -> DbResult<T>,
    ) -> DbResult<std::vec::IntoIter<DbResult<T>>> {
        let rows = self.conn.query(&self.sql, params)?;
        Ok(rows.iter().map(f).collect::<Vec<_>>().into_iter())
    }

    /// Every row.
    pub fn query<P: Params>(&mut self, params: P) -> DbResult<Vec<Row>> {
        self.conn.query(&self.sql, params)
    }

    /// The first row, read by `f`; [`DbError::NoRows`] when there is none.
    pub fn query_row<P: Params, T>(
        &mut self,
        params: P,
        f: impl FnOnce(&Row) -> DbResult<T>,
    ) -> DbResult<T> {
        self.conn.query_row(&self.sql, params, f)
    }
}

/// A write transaction ([`Conn::write`]); it reads and writes as its connection.
pub struct Tx<'c> {
    conn: &'c Conn,
    done: bool,
}

impl Tx<'_> {
    /// Commits the transaction.
    pub fn commit(mut self) -> DbResult<()> {
        self.done = true;
        self.conn.execute_batch("COMMIT")
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        self.conn
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.done {
            // Nothing to do when the rollback fails: the connection is then broken, and
            // the database rolls the transaction back when it closes.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::TestDb;
    use super::*;

    #[test]
    fn rows_inserted_many_a_statement_are_all_there_on_both_backends() {
        for database in [TestDb::sqlite(), TestDb::postgres()] {
            let conn = Conn::open(database.location()).unwrap();
            conn.execute_batch("CREATE TABLE numbers (n BIGINT NOT NULL, name TEXT)")
                .unwrap();
            for count in [0, 1, ROWS_PER_INSERT, 2 * ROWS_PER_INSERT + 7] {
                conn.execute("DELETE FROM numbers", []).unwrap();
                let row = |n: i64| match n % 3 {
                    0 => [Value::Int(n), Value::Null],
                    _ => [Value::Int(n), Value::Text(format!("n{n}"))],
                };
                let rows: Vec<[Value; 2]> = (0..count as i64).map(row).collect();
                conn.insert_rows("INSERT INTO numbers (n, name)", &rows)
                    .unwrap();
                let sql = "SELECT COUNT(*), COALESCE(SUM(n), 0), COUNT(name),
                                  COUNT(*) FILTER (WHERE name = 'n' || n) FROM numbers";
                let (rows, sum, named, right): (i64, i64, i64, i64) = conn
                    .query_row(sql, [], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                    })
                    .unwrap();
                let count = count as i64;
                assert_eq!((rows, sum), (count, count * (count - 1) / 2), "{count}");
                assert_eq!((named, right), (count - (count + 2) / 3, named), "{count}");
            }
        }
    }
}
