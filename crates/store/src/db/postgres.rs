//! The PostgreSQL backend. The synchronous client runs its own small runtime, which must
//! not be entered from inside another (the server's and the CLI's tokio), so each
//! connection lives on a thread of its own and statements are sent to it. Connections
//! are kept for reuse once their [`Client`] is dropped; statements are prepared once per
//! connection. Parameters are written `?1` (or `?`) as in SQLite and sent as `$1`.

use std::collections::HashMap;
use std::error::Error;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use postgres::NoTls;
use postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

use super::{DbError, DbResult, Row, Value, tls};

/// Begins a write transaction: writers take turns on one advisory lock (per database),
/// as SQLite's writers on its write lock.
pub(super) const BEGIN_WRITE: &str = "BEGIN; SELECT pg_advisory_xact_lock(7166902121)";

/// How long a statement waits for a lock before it fails (SQLite's busy timeout is 5 s).
const LOCK_TIMEOUT: &str = "SET lock_timeout = '10s'";

/// Idle connections kept for reuse, the most recently used.
const IDLE: usize = 8;

/// Prepared statements kept per connection before the cache starts again.
const PREPARED: usize = 512;

/// The prepared statements of one connection, by their SQL as sent.
type Prepared = HashMap<String, postgres::Statement>;

/// Work for a connection's thread.
type Job = Box<dyn FnOnce(&mut postgres::Client, &mut Prepared) + Send>;

/// Connections no one uses now, with the URL each is connected to.
static KEPT: Mutex<Vec<(String, mpsc::Sender<Job>)>> = Mutex::new(Vec::new());

/// A connection to a PostgreSQL database.
pub(super) struct Client {
    url: String,
    jobs: Option<mpsc::Sender<Job>>,
    /// Kept for reuse when dropped (else closed, ending its session).
    reused: bool,
}

impl Client {
    /// An idle connection to `url`, or a new one.
    pub(super) fn connect(url: &str) -> DbResult<Client> {
        while let Some(jobs) = take_idle(url) {
            let client = Client {
                url: url.to_string(),
                jobs: Some(jobs),
                reused: true,
            };
            if client.call(|c, _| Ok(!c.is_closed())).unwrap_or(false) {
                return Ok(client);
            }
        }
        Ok(Client {
            url: url.to_string(),
            jobs: Some(spawn(url, None)?),
            reused: true,
        })
    }

    /// A new connection to `url` that is closed when dropped, never reused, so what its
    /// session holds ends with it; a peer that stops answering fails its statements within
    /// about `timeout` (TCP user timeout and keepalives), rather than hanging.
    pub(super) fn dedicated(url: &str, timeout: Duration) -> DbResult<Client> {
        Ok(Client {
            url: url.to_string(),
            jobs: Some(spawn(url, Some(timeout))?),
            reused: false,
        })
    }

    /// Runs a statement; the number of rows it changed.
    pub(super) fn execute(&self, sql: &str, values: Vec<Value>) -> DbResult<usize> {
        let sql = numbered(sql);
        self.call(move |client, prepared| {
            let stmt = prepare(client, prepared, &sql)?;
            let n = client.execute(&stmt, &refs(&values))?;
            Ok(usize::try_from(n).unwrap_or(usize::MAX))
        })
    }

    /// Every row of a query.
    pub(super) fn query(&self, sql: &str, values: Vec<Value>) -> DbResult<Vec<Row>> {
        let sql = numbered(sql);
        self.call(move |client, prepared| {
            let stmt = prepare(client, prepared, &sql)?;
            let names: Arc<[String]> = stmt.columns().iter().map(|c| c.name().into()).collect();
            client
                .query(&stmt, &refs(&values))?
                .iter()
                .map(|r| read_row(r, &names))
                .collect()
        })
    }

    /// Runs statements separated by `;`, without parameters.
    pub(super) fn batch(&self, sql: &str) -> DbResult<()> {
        let sql = sql.to_string();
        self.call(move |client, _| Ok(client.batch_execute(&sql)?))
    }

    /// Runs `f` on the connection's thread and waits for its result.
    fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut postgres::Client, &mut Prepared) -> DbResult<T> + Send + 'static,
    ) -> DbResult<T> {
        let (reply, result) = mpsc::channel();
        let job: Job = Box::new(move |client, prepared| {
            let _ = reply.send(f(client, prepared));
        });
        let jobs = self.jobs.as_ref().ok_or(DbError::Closed)?;
        jobs.send(job).map_err(|_| DbError::Closed)?;
        result.recv().map_err(|_| DbError::Closed)?
    }
}

impl Drop for Client {
    /// Keeps the connection for reuse; the least recently used of more than [`IDLE`]
    /// closes.
    fn drop(&mut self) {
        let Some(jobs) = self.jobs.take().filter(|_| self.reused) else {
            return;
        };
        let mut kept = KEPT.lock().unwrap_or_else(|e| e.into_inner());
        kept.push((self.url.clone(), jobs));
        if kept.len() > IDLE {
            kept.remove(0);
        }
    }
}

fn take_idle(url: &str) -> Option<mpsc::Sender<Job>> {
    let mut kept = KEPT.lock().unwrap_or_else(|e| e.into_inner());
    let i = kept.iter().rposition(|(u, _)| u == url)?;
    Some(kept.remove(i).1)
}

/// Connects on a new thread, which then runs the jobs sent until its sender is dropped;
/// with a `timeout`, a dead peer is noticed within it (see [`Client::dedicated`]).
fn spawn(url: &str, timeout: Option<Duration>) -> DbResult<mpsc::Sender<Job>> {
    let (jobs, received) = mpsc::channel::<Job>();
    let (ready, connected) = mpsc::channel();
    let (shown, mut target) = (without_password(url), target(url)?);
    if let Some(t) = timeout {
        watchful(&mut target.config, t);
    }
    std::thread::Builder::new()
        .name("cxray-postgres".into())
        .spawn(move || {
            let client = match target.tls {
                Some(tls) => target.config.connect(tls),
                None => target.config.connect(NoTls),
            };
            let client = client.and_then(|mut c| {
                c.batch_execute(LOCK_TIMEOUT)?;
                Ok(c)
            });
            let mut client = match client {
                Ok(c) => c,
                Err(source) => {
                    let location = shown;
                    let _ = ready.send(Err(DbError::Connect { location, source }));
                    return;
                }
            };
            let _ = ready.send(Ok(()));
            let mut prepared = Prepared::new();
            for job in received {
                job(&mut client, &mut prepared);
            }
        })
        .map_err(DbError::Thread)?;
    connected.recv().map_err(|_| DbError::Closed)??;
    Ok(jobs)
}

/// How to reach `url`; what is wrong with its settings otherwise.
fn target(url: &str) -> DbResult<tls::Target> {
    tls::target(url).map_err(|message| DbError::Settings {
        location: without_password(url),
        message,
    })
}

/// Whether `url`'s settings can be used.
pub(super) fn check(url: &str) -> DbResult<()> {
    target(url).map(|_| ())
}

/// Sets `config` to give up on a peer that does not answer within about `timeout`:
/// connecting, unacknowledged writes, and keepalive probes of an idle connection (whole
/// seconds, at least one).
fn watchful(config: &mut postgres::Config, timeout: Duration) {
    let probe = timeout.max(Duration::from_secs(1));
    config
        .connect_timeout(probe)
        .tcp_user_timeout(timeout)
        .keepalives(true)
        .keepalives_idle(probe)
        .keepalives_interval(probe)
        .keepalives_retries(2);
}

fn prepare(
    client: &mut postgres::Client,
    prepared: &mut Prepared,
    sql: &str,
) -> DbResult<postgres::Statement> {
    if let Some(stmt) = prepared.get(sql) {
        return Ok(stmt.clone());
    }
    if prepared.len() >= PREPARED {
        prepared.clear();
    }
    let stmt = client.prepare(sql)?;
    prepared.insert(sql.to_string(), stmt.clone());
    Ok(stmt)
}

fn refs(values: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

fn read_row(row: &postgres::Row, names: &Arc<[String]>) -> DbResult<Row> {
    let values = (0..names.len())
        .map(|i| row.try_get::<_, Value>(i))
        .collect::<Result<_, _>>()?;
    Ok(Row {
        names: names.clone(),
        values,
    })
}

/// `sql` with its `?N` and `?` parameters written `$N`, outside quotes.
pub(super) fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let (mut quote, mut next) = (None, 1);
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '\'' | '"') => quote = Some(c),
            (None, '?') => {
                out.push('$');
                if chars.peek().is_some_and(char::is_ascii_digit) {
                    continue;
                }
                out.push_str(&next.to_string());
                next += 1;
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// A PostgreSQL URL with its password left out, for messages and logs.
pub(super) fn without_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "a PostgreSQL URL that does not parse".into(),
    }
}

type BoxError = Box<dyn Error + Sync + Send>;

impl ToSql for Value {
    /// The value as the type PostgreSQL inferred for its parameter.
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => int_to_sql(*i, ty, out),
            Value::Real(r) if *ty == Type::FLOAT4 => (*r as f32).to_sql(ty, out),
            Value::Real(r) => r.to_sql(ty, out),
            Value::Text(t) => t.to_sql(ty, out),
            Value::Blob(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn int_to_sql(i: i64, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
    match *ty {
        Type::INT2 => i16::try_from(i)?.to_sql(ty, out),
        Type::INT4 => i32::try_from(i)?.to_sql(ty, out),
        Type::FLOAT8 => (i as f64).to_sql(ty, out),
        Type::FLOAT4 => (i as f32).to_sql(ty, out),
        Type::BOOL => (i != 0).to_sql(ty, out),
        Type::TEXT | Type::VARCHAR => i.to_string().to_sql(ty, out),
        _ => i.to_sql(ty, out),
    }
}

impl<'a> FromSql<'a> for Value {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(match *ty {
            Type::INT2 => Value::Int(i16::from_sql(ty, raw)?.into()),
            Type::INT4 => Value::Int(i32::from_sql(ty, raw)?.into()),
            Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
            Type::OID => Value::Int(u32::from_sql(ty, raw)?.into()),
            Type::BOOL => Value::Int(bool::from_sql(ty, raw)?.into()),
            Type::FLOAT4 => Value::Real(f32::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => Value::Real(f64::from_sql(ty, raw)?),
            Type::NUMERIC => numeric(raw)?,
            Type::BYTEA => Value::Blob(raw.to_vec()),
            _ => Value::Text(String::from_sql(ty, raw)?),
        })
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Value::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A `numeric` (what PostgreSQL's `SUM` and `AVG` of integers return): an integer when
/// it has no decimals and fits, else a real.
fn numeric(raw: &[u8]) -> Result<Value, BoxError> {
    let word = |i: usize| -> Result<u16, BoxError> {
        let b = raw.get(2 * i..2 * i + 2).ok_or("a truncated numeric")?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    };
    let (digits, weight, sign, scale) = (word(0)?, word(1)? as i16, word(2)?, word(3)?);
    if sign == 0xC000 {
        return Ok(Value::Real(f64::NAN));
    }
    let mut whole: i128 = 0;
    let mut real = 0.0f64;
    for i in 0..digits {
        let d = word(4 + usize::from(i))?;
        let power = i32::from(weight) - i32::from(i);
        real += f64::from(d) * 10_000f64.powi(power);
        if power >= 0 {
            whole = whole.saturating_mul(10_000).saturating_add(i128::from(d));
        }
    }
    let last = i32::from(weight) - i32::from(digits) + 1;
    if scale == 0 && last >= 0 {
        whole = whole.saturating_mul(10_000i128.saturating_pow(last as u32));
    }
    let negative = sign == 0x4000;
    match i64::try_from(whole) {
        Ok(w) if scale == 0 => Ok(Value::Int(if negative { -w } else { w })),
        _ => Ok(Value::Real(if negative { -real } else { real })),
    }
}

#[cfg(test)]
mod tests {
    use super::numbered;
    use crate::db::Conn;
    use crate::db::testing::TestDb;

    #[test]
    fn a_writer_that_waits_too_long_for_the_lock_leaves_its_connection_usable() {
        let database = TestDb::postgres();
        let (first, second) = (
            Conn::open(database.location()),
            Conn::open(database.location()),
        );
        let (first, second) = (first.unwrap(), second.unwrap());
        let held = first.write().unwrap();
        second.execute_batch("SET lock_timeout = '100ms'").unwrap();
        let refused = second.write().err().expect("the lock is held");
        assert!(refused.to_string().contains("lock timeout"), "{refused}");
        let one: i64 = second.query_row("SELECT 1", [], |r| r.get(0)).unwrap();
        assert_eq!(one, 1);
        drop(held);
        second.write().unwrap().commit().unwrap();
    }

    #[test]
    fn parameters_are_numbered_outside_quotes() {
        assert_eq!(numbered("a = ?1 AND b = ?12"), "a = $1 AND b = $12");
        assert_eq!(numbered("a = ? AND b = ?"), "a = $1 AND b = $2");
        assert_eq!(numbered("a = '?' AND b = ?2"), "a = '?' AND b = $2");
    }
}
