//! The lease of several servers sharing one PostgreSQL operational database: the server
//! holding it accepts ingestion and does the background writing (rule scans, the outbox,
//! survey answers' commits). It is a session-level advisory lock, held on a connection of
//! its own for as long as that connection lives: when the holder's process dies, its
//! connection closes and PostgreSQL releases the lock, and the next server to try takes
//! it. The holder announces its address in the `leader` table, where the others read it
//! to tell clients where to go.

use std::time::Duration;

use serde::Serialize;

use crate::Result;
use crate::db::{Conn, OptionalExtension, params};
use crate::ops::{OpsDb, now_text};

/// The lease's advisory lock, distinct from the writers' (`db::postgres::BEGIN_WRITE`).
const KEY: i64 = 7166902122;

/// A connection of its own on which a server takes and holds the lease.
pub struct Lease {
    conn: Conn,
}

impl Lease {
    /// A new connection to the PostgreSQL database at `url` for the lease, which gives up
    /// on a server that stops answering within about `timeout`. Dropping it closes the
    /// connection, releasing the lease if held.
    pub fn connect(url: &str, timeout: Duration) -> Result<Lease> {
        let conn = Conn::dedicated(url, timeout)?;
        // The server too gives up on a holder that stops answering (a machine that died
        // without closing its connections), so the lease passes on within about
        // `timeout` rather than the system's two hours.
        let seconds = timeout.as_secs().max(1);
        conn.execute_batch(&format!(
            "SET tcp_keepalives_idle = {seconds}; SET tcp_keepalives_interval = {seconds};
             SET tcp_keepalives_count = 2; SET tcp_user_timeout = {}",
            timeout.as_millis().max(1000)
        ))?;
        Ok(Lease { conn })
    }

    /// Takes the lease if no other connection holds it; whether this one holds it now.
    /// Call it only while not holding it (each success takes the lock once more).
    pub fn try_take(&self) -> Result<bool> {
        Ok(self
            .conn
            .query_row("SELECT pg_try_advisory_lock(?1)", params![KEY], |r| {
                r.get(0)
            })?)
    }

    /// Whether this connection still holds the lease (an error when it is broken).
    pub fn held(&self) -> Result<bool> {
        let held: i64 = self.conn.query_row(
            "SELECT count(*) FROM pg_locks
             WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
               AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = ?1",
            params![KEY],
            |r| r.get(0),
        )?;
        Ok(held > 0)
    }
}

/// The server holding the lease, as it announced itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Leader {
    /// The URL at which the server is reached.
    pub address: String,
    /// When it took the lease.
    pub since: String,
}

impl OpsDb {
    /// Announces `address` as the leader's, from now.
    pub fn announce_leader(&self, address: &str) -> Result<()> {
        let tx = self.conn().write()?;
        tx.execute(
            "INSERT INTO leader (id, address, since) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET address = ?1, since = ?2",
            params![address, now_text()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The leader last announced, if any.
    pub fn leader(&self) -> Result<Option<Leader>> {
        Ok(self
            .conn()
            .query_row("SELECT address, since FROM leader WHERE id = 1", [], |r| {
                Ok(Leader {
                    address: r.get(0)?,
                    since: r.get(1)?,
                })
            })
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::TestDb;

    const TIMEOUT: Duration = Duration::from_secs(2);

    /// Two servers' connections for the lease, the first holding it.
    fn two(database: &TestDb) -> (Lease, Lease) {
        let url = database.postgres_url();
        let (a, b) = (Lease::connect(url, TIMEOUT), Lease::connect(url, TIMEOUT));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(a.try_take().unwrap());
        (a, b)
    }

    #[test]
    fn of_two_servers_one_holds_the_lease_until_its_connection_ends() {
        let database = TestDb::postgres();
        let (a, b) = two(&database);
        assert!(!b.try_take().unwrap(), "only one holds it");
        assert!(a.held().unwrap());
        assert!(!b.held().unwrap());
        drop(a);
        // The server ends the session as soon as it reads the connection's end.
        let started = std::time::Instant::now();
        while !b.try_take().unwrap() {
            assert!(
                started.elapsed() < TIMEOUT,
                "released with the holder's connection"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(b.held().unwrap());
    }

    #[test]
    fn a_connection_the_server_ends_loses_the_lease_to_the_next() {
        let database = TestDb::postgres();
        let (a, b) = two(&database);
        // The holder's backend is ended as a dead client's would be.
        let admin = Conn::open(database.location()).unwrap();
        let ended: i64 = admin
            .query_row(
                "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_locks
                 WHERE locktype = 'advisory' AND objsubid = 1
                   AND ((classid::bigint << 32) | objid::bigint) = ?1",
                params![KEY],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(ended, 1);
        assert!(a.held().is_err(), "the holder learns its lease is gone");
        assert!(b.try_take().unwrap());
    }

    #[test]
    fn the_leader_announced_last_is_read_back() {
        let database = TestDb::postgres();
        let db = database.open();
        assert_eq!(db.leader().unwrap(), None);
        db.announce_leader("http://10.0.0.1:8080").unwrap();
        db.announce_leader("http://10.0.0.2:8080").unwrap();
        let leader = db.leader().unwrap().unwrap();
        assert_eq!(leader.address, "http://10.0.0.2:8080");
    }
}
