//! Which of several servers leads: the one that accepts ingestion and runs the
//! background writing (rule scans, the outbox's rounds, survey answers' commits). Servers
//! sharing a data folder on object storage and an operational database on PostgreSQL
//! lead in turn, as the holder of the lease there ([`cxray_store::lease`]); a server of a
//! local data folder or of SQLite is the only one, and always leads.
//!
//! A thread keeps the lease: a follower tries to take it every `every`; the leader checks
//! every third of `hold` (half of `every`) that its connection still holds it, and one that
//! lost it tries again only after `every` and `hold`, so that another takes over. The leader
//! acts as one until `hold` after the start of its last good check, so a lost connection
//! stops it within `hold` even when the check hangs; a server that takes the lease waits
//! `hold` before acting, so it starts only after the last holder stopped (both measure
//! time at the same rate).

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cxray_store::DataFolder;
use cxray_store::db::OpsLocation;
use cxray_store::lease::Lease;
use tokio::sync::watch;

/// How the lease is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct LeaseOptions {
    /// How often a follower tries to take the lease (a leader that dies is replaced
    /// within about one and a half of these).
    pub every: Duration,
    /// The URL at which this server is reached, announced when it leads (else
    /// `http://` and the address it listens on).
    pub advertise: Option<String>,
}

impl Default for LeaseOptions {
    fn default() -> Self {
        LeaseOptions {
            every: Duration::from_secs(5),
            advertise: None,
        }
    }
}

/// Since when and until when this server may act as the leader.
#[derive(Debug, Clone, Copy)]
enum Term {
    /// It follows.
    None,
    /// It always leads (one server alone).
    Sole,
    /// It holds the lease: it leads from `from` (when the previous holder has stopped)
    /// until `until` (unless a check extends it).
    Lease { from: Instant, until: Instant },
}

impl Term {
    fn leading(self, now: Instant) -> bool {
        match self {
            Term::None => false,
            Term::Sole => true,
            Term::Lease { from, until } => from <= now && now < until,
        }
    }
}

/// Whether this server leads, and the leader's address as last announced.
pub struct Leadership {
    term: Mutex<Term>,
    leader: Mutex<Option<String>>,
    /// How often a follower tries to take the lease.
    every: Duration,
    /// This server's address.
    address: String,
    /// Whether it leads, as the lease's thread last saw it: what background work waits on.
    changes: watch::Sender<bool>,
    /// Dropped to stop the lease's thread (releasing the lease).
    stop: Mutex<Option<mpsc::Sender<()>>>,
}

impl Leadership {
    /// The leadership of the server at `address` over `folder`: with the tables on
    /// object storage and the operational database on PostgreSQL a thread keeps the
    /// lease, trying every `every`; else the server always leads.
    pub fn start(folder: &DataFolder, every: Duration, address: String) -> Arc<Leadership> {
        let (OpsLocation::Postgres(url), Some(_)) = (folder.ops_location(), folder.node()) else {
            return Arc::new(Leadership::new(Term::Sole, every, address));
        };
        let (stop, stopped) = mpsc::channel();
        let this = Arc::new(Leadership::new(Term::None, every, address));
        *this.stop.lock().expect("lease lock") = Some(stop);
        let (keeper, folder) = (this.clone(), folder.clone());
        let started = std::thread::Builder::new()
            .name("cxray-lease".into())
            .spawn(move || keeper.keep(&folder, &url, &stopped));
        if let Err(e) = started {
            tracing::error!("the lease's thread did not start: this server follows: {e}");
        }
        this
    }

    fn new(term: Term, every: Duration, address: String) -> Leadership {
        let leading = term.leading(Instant::now());
        Leadership {
            term: Mutex::new(term),
            leader: Mutex::new(None),
            every,
            address,
            changes: watch::Sender::new(leading),
            stop: Mutex::new(None),
        }
    }

    /// Whether this server leads now.
    pub fn leading(&self) -> bool {
        self.term
            .lock()
            .expect("lease lock")
            .leading(Instant::now())
    }

    /// How long until this server leads, when it holds the lease and waits for the last
    /// holder to have stopped.
    pub fn starting_in(&self) -> Option<Duration> {
        match *self.term.lock().expect("lease lock") {
            Term::Lease { from, .. } => from.checked_duration_since(Instant::now()),
            _ => None,
        }
    }

    /// The leader's address as last announced (this server's when it leads).
    pub fn leader(&self) -> Option<String> {
        match self.leading() {
            true => Some(self.address.clone()),
            false => self.leader.lock().expect("lease lock").clone(),
        }
    }

    /// Seconds after which a client refused by a follower may try again: about when a
    /// dead leader has been replaced.
    pub fn retry_after(&self) -> u64 {
        (self.every + self.hold()).as_secs_f64().ceil() as u64
    }

    /// Returns once this server leads (at once when it does).
    pub async fn until_leading(&self) {
        let mut changes = self.changes.subscribe();
        while !self.leading() {
            // The sender lives as long as `self`; what it says may be a term that has
            // just run out, so look again a little later.
            let _ = changes.wait_for(|leading| *leading).await;
            if !self.leading() {
                tokio::time::sleep(self.hold() / 3).await;
            }
        }
    }

    /// Stops leading at once and releases the lease.
    pub fn stop(&self) {
        *self.term.lock().expect("lease lock") = Term::None;
        self.publish();
        drop(self.stop.lock().expect("lease lock").take());
    }

    /// How long a good check lets the leader act, and how long a new holder waits.
    fn hold(&self) -> Duration {
        self.every / 2
    }

    /// Keeps the lease until `stopped` says stop: takes it when free, checks it while held.
    fn keep(&self, folder: &DataFolder, url: &str, stopped: &mpsc::Receiver<()>) {
        let mut lease: Option<Lease> = None;
        loop {
            let wait = match lease.take() {
                Some(held) if self.holds() => {
                    lease = self.check(held);
                    // A server that lost the lease lets the others try first.
                    match lease {
                        Some(_) => self.hold() / 3,
                        None => self.every + self.hold(),
                    }
                }
                kept => {
                    lease = self.try_take(folder, url, kept);
                    match self.holds() {
                        true => self.hold() / 3,
                        false => self.every,
                    }
                }
            };
            self.publish();
            if stopped.recv_timeout(wait) != Err(mpsc::RecvTimeoutError::Timeout) {
                return;
            }
        }
    }

    /// Whether the lease is held (this server may not lead yet, or any more).
    fn holds(&self) -> bool {
        matches!(*self.term.lock().expect("lease lock"), Term::Lease { .. })
    }

    /// Tries to take the lease on `kept` (or a new connection); reads the leader's
    /// address when another server holds it. The connection, unless broken.
    fn try_take(&self, folder: &DataFolder, url: &str, kept: Option<Lease>) -> Option<Lease> {
        let started = Instant::now();
        let lease = match kept {
            Some(l) => l,
            None => Lease::connect(url, self.every)
                .inspect_err(|e| tracing::warn!("the lease: {e}"))
                .ok()?,
        };
        match lease.try_take() {
            Ok(true) => {
                *self.term.lock().expect("lease lock") = Term::Lease {
                    from: Instant::now() + self.hold(),
                    until: started + self.hold(),
                };
                tracing::info!(
                    "this server took the lease: it leads once the last holder has stopped"
                );
                self.announce(folder);
            }
            Ok(false) => self.follow(folder),
            Err(e) => {
                tracing::warn!("the lease: {e}");
                return None;
            }
        }
        Some(lease)
    }

    /// Checks the lease is still held, extending the term; else stops leading at once.
    fn check(&self, lease: Lease) -> Option<Lease> {
        let started = Instant::now();
        let held = lease.held();
        let mut term = self.term.lock().expect("lease lock");
        match (held, *term) {
            (Ok(true), Term::Lease { from, .. }) => {
                let until = started + self.hold();
                *term = Term::Lease { from, until };
                Some(lease)
            }
            (held, _) => {
                *term = Term::None;
                let why = held.err().map_or("released".into(), |e| e.to_string());
                tracing::warn!("this server lost the lease ({why}): it follows");
                None
            }
        }
    }

    /// Announces this server as the leader.
    fn announce(&self, folder: &DataFolder) {
        let address = &self.address;
        if let Err(e) = folder.ops_db().and_then(|db| db.announce_leader(address)) {
            tracing::warn!("announcing this server as the leader: {e}");
        }
    }

    /// Reads the leader's address as announced.
    fn follow(&self, folder: &DataFolder) {
        match folder.ops_db().and_then(|db| db.leader()) {
            Ok(leader) => {
                *self.leader.lock().expect("lease lock") = leader.map(|l| l.address);
            }
            Err(e) => tracing::warn!("reading the leader's address: {e}"),
        }
    }

    /// Tells background work whether this server leads, when that changed.
    fn publish(&self) {
        let leading = self.leading();
        self.changes.send_if_modified(|was| {
            let changed = *was != leading;
            *was = leading;
            changed
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_term_leads_from_its_start_until_its_end() {
        let now = Instant::now();
        let second = Duration::from_secs(1);
        let term = Term::Lease {
            from: now + second,
            until: now + 3 * second,
        };
        assert!(!term.leading(now));
        assert!(term.leading(now + 2 * second));
        assert!(!term.leading(now + 3 * second));
        assert!(Term::Sole.leading(now));
        assert!(!Term::None.leading(now));
    }
}
