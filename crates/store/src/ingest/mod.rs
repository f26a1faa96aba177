//! Ingestion: batches of NDJSON rows sent to the server, validated as `cxray import`
//! validates them, acknowledged once durable, committed to the Delta tables by size and by
//! time, exactly once.
//!
//! A request's batch is validated whole ([`validate`]; one bad row refuses the batch) and
//! handed to the [`appender`], a thread that writes it to the table's write-ahead log
//! ([`wal`]) and syncs, sharing one sync among the requests waiting (group commit); only
//! then is it acknowledged. The table's committer ([`commit`]) buffers acknowledged
//! batches and commits them in one Delta commit when enough rows are buffered or the
//! oldest has waited long enough; each commit records the log position of its last batch
//! as a Delta application transaction, so at startup [`recover`] commits exactly the
//! batches beyond it. A log segment is removed only once the commits covering it are
//! synced ([`sync`]). Idempotency keys are kept in the operational database ([`keys`]).

mod appender;
mod commit;
mod keys;
mod recent;
mod recover;
mod stats;
pub(crate) mod sync;
pub(crate) mod validate;
pub(crate) mod wal;
mod watch;

use std::fs::File;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cxray_core::domain::Table;
use cxray_core::erasure::ErasedRows;
use tokio::sync::{mpsc, oneshot};

use self::appender::{Append, Appender};
use self::commit::Committer;
use self::stats::Counters;
use crate::erased::Erased;
use crate::folder::DataFolder;
use crate::import::source::KeyLimits;
use crate::schema::{Attributes, Limits, contract_schema};
use crate::{Result, StoreError, tables};

pub use self::recent::{Matched, RecentCommits};
pub use self::stats::{Stats, TableStats};
pub use self::validate::{MAX_LISTED, Rejection, Rejections};
pub use self::watch::ByCustomer;

/// Batches waiting for a committer before the appender waits (backpressure).
const QUEUE: usize = 64;

/// Rows of the latest commits kept in memory at least (twice the rows of a commit if more).
const RECENT_ROWS: usize = 1 << 16;

/// When buffered rows are committed.
#[derive(Debug, Clone, Copy)]
pub struct IngestOptions {
    /// Commit once this many rows are buffered for a table…
    pub flush_rows: usize,
    /// …or once the oldest buffered batch has waited this long.
    pub flush_every: Duration,
    /// What batches may add to a table.
    pub limits: Limits,
    /// Whether rows of erased customers are refused (with the batch) or accepted.
    pub erased_rows: ErasedRows,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            flush_rows: 250_000,
            flush_every: Duration::from_secs(2),
            limits: Limits::default(),
            erased_rows: ErasedRows::default(),
        }
    }
}

/// Who sends a batch: the actor the audit log names, and the client whose idempotency
/// keys it uses (an API token, e.g. `token:7`), so that two clients of one user never
/// share a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub actor: String,
    pub id: String,
}

/// A batch acknowledged: its rows are durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    /// Rows in the batch (for a re-sent batch, in the batch first sent).
    pub accepted: u64,
    /// The batch was sent before under the same idempotency key; nothing was written.
    pub duplicate: bool,
}

/// Why a batch was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{} invalid rows; nothing was written", .0.count)]
    Rejected(Rejections),
    #[error("the batch has no rows")]
    Empty,
    /// The batch would take a table beyond a limit.
    #[error("{0}; nothing was written")]
    Limit(String),
    #[error("this idempotency key was used before with a different batch")]
    KeyReused,
    #[error("table {0} is missing: run `cxray init`")]
    MissingTable(Table),
    #[error("ingestion is stopping")]
    Stopped,
    #[error("ingestion stopped: the write-ahead log failed ({0})")]
    Broken(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Ingestion into the tables of one data folder: recovered when opened, flushed when
/// closed. One server at a time may ingest into a folder.
pub struct Ingest {
    folder: DataFolder,
    limits: Limits,
    /// The customers whose rows are refused (read once: `cxray forget` cannot run while
    /// a server ingests).
    erased: Arc<Erased>,
    sender: Mutex<Option<std::sync::mpsc::Sender<Append>>>,
    appender: Mutex<Option<std::thread::JoinHandle<()>>>,
    committers: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    counters: Arc<Counters>,
    recent: Arc<RecentCommits>,
    /// The tables seen to exist, by [`Table::ALL`] index (on object storage a look costs
    /// a request).
    present: [AtomicBool; Table::ALL.len()],
    _lock: File,
}

impl Ingest {
    /// Locks the folder's write-ahead log, recovers every table from it, and starts the
    /// appender and the committers.
    pub async fn open(folder: &DataFolder, options: IngestOptions) -> Result<Ingest> {
        let lock = lock(folder)?;
        let counters = Arc::new(Counters::default());
        let kept = options.flush_rows.saturating_mul(2).max(RECENT_ROWS);
        let recent = Arc::new(RecentCommits::new(kept));
        let mut next_seq = [1; 6];
        for (i, table) in Table::ALL.into_iter().enumerate() {
            next_seq[i] = recover::recover(folder, table, options, &counters, &recent).await?;
        }
        let mut attributes = Vec::with_capacity(Table::ALL.len());
        for table in Table::ALL {
            attributes.push(table_attributes(folder, table, options.limits.attributes).await?);
        }
        let db = folder.ops_db()?;
        let erased = Arc::new(Erased::load(&db, options.erased_rows)?);
        if let Some(c) = db.conn().sqlite() {
            c.pragma_update(None, "synchronous", "NORMAL")?;
        }
        let (mut committers, mut handles) = (Vec::new(), Vec::new());
        for table in Table::ALL {
            let (tx, rx) = mpsc::channel(QUEUE);
            let committer = Committer::new(
                folder.clone(),
                table,
                options,
                counters.clone(),
                recent.clone(),
            );
            handles.push(tokio::spawn(committer.run(rx)));
            committers.push(tx);
        }
        let appender = Appender {
            wal: folder.wal_dir(),
            segments: Default::default(),
            next_seq,
            db,
            committers,
            counters: counters.clone(),
            attributes,
            broken: None,
        };
        let (sender, rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("cxray-wal".into())
            .spawn(move || appender.run(rx))
            .map_err(|e| StoreError::io(&folder.wal_dir(), e))?;
        Ok(Ingest {
            folder: folder.clone(),
            limits: options.limits,
            erased,
            sender: Mutex::new(Some(sender)),
            appender: Mutex::new(Some(thread)),
            committers: Mutex::new(handles),
            counters,
            recent,
            present: Default::default(),
            _lock: lock,
        })
    }

    /// Validates an NDJSON batch for `table` and, when every row is valid, returns once
    /// its rows are durable. A batch the same client re-sends under the same `key` is not
    /// written again.
    pub async fn ingest(
        &self,
        table: Table,
        key: Option<String>,
        client: Client,
        body: Vec<u8>,
    ) -> Result<Ack, IngestError> {
        if !self.present[index(table)].load(Ordering::Relaxed) {
            if !self.folder.has_table(table.name()).await? {
                return Err(IngestError::MissingTable(table));
            }
            // A table once there stays: no more looks for it.
            self.present[index(table)].store(true, Ordering::Relaxed);
        }
        let keys = KeyLimits::new(table, self.limits);
        let erased = self.erased.clone();
        let (body, validated) = tokio::task::spawn_blocking(move || {
            let validated = validate::validate(table, &body, keys, &erased);
            (body, validated)
        })
        .await
        .map_err(|e| StoreError::Input(format!("validation task: {e}")))?;
        let validated = validated.inspect_err(|e| {
            if let IngestError::Rejected(rows) = e {
                self.counters.rejected(table, rows.count as u64);
            }
        })?;
        let (reply, answer) = oneshot::channel();
        let sender = self.sender.lock().expect("sender lock").clone();
        let append = Append {
            table,
            key,
            client,
            body,
            validated,
            reply,
        };
        sender
            .ok_or(IngestError::Stopped)?
            .send(append)
            .map_err(|_| IngestError::Stopped)?;
        answer.await.map_err(|_| IngestError::Stopped)?
    }

    /// Stops accepting batches, writes those under way, and commits everything buffered.
    pub async fn close(&self) {
        drop(self.sender.lock().expect("sender lock").take());
        let appender = self.appender.lock().expect("appender lock").take();
        if let Some(thread) = appender {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
        let committers = std::mem::take(&mut *self.committers.lock().expect("committers lock"));
        for handle in committers {
            let _ = handle.await;
        }
    }

    /// The number of Delta commits since it was opened, changing after each (the tables'
    /// new versions are readable then): what rule evaluation waits for.
    pub fn commits(&self) -> tokio::sync::watch::Receiver<u64> {
        self.counters.commits()
    }

    /// The rows of each table's latest commits (two commits' worth, at least 65,536), for
    /// what reads the rows commits added.
    pub fn recent(&self) -> Arc<RecentCommits> {
        self.recent.clone()
    }

    /// What ingestion has done since it was opened.
    pub fn stats(&self) -> Stats {
        self.counters.stats()
    }
}

/// Takes the folder's ingestion lock (held until the process ends or [`Ingest`] is
/// dropped): two servers appending to one log would break its order.
fn lock(folder: &DataFolder) -> Result<File> {
    let dir = folder.wal_dir();
    wal::create_dir_durably(&dir)?;
    crate::folder::lock(&dir.join("LOCK"), || {
        StoreError::Folder(format!(
            "another cxray server is serving {}: one at a time",
            folder.location()
        ))
    })
}

/// The attribute columns `table` has (none while it is missing).
async fn table_attributes(folder: &DataFolder, table: Table, limit: usize) -> Result<Attributes> {
    if !folder.has_table(table.name()).await? {
        return Ok(Attributes::of(table, &contract_schema(table), limit));
    }
    let delta = tables::open(folder, table, None).await?;
    tables::attributes(&delta, table, limit)
}

/// A table's position in [`Table::ALL`].
fn index(table: Table) -> usize {
    Table::ALL
        .iter()
        .position(|t| *t == table)
        .expect("a table")
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::tables;

    const A: &str = "{\"customer_id\":\"c1\",\"at\":\"2025-01-01T10:00:00Z\",\"amount\":1}\n\
                     {\"customer_id\":\"c2\",\"at\":\"2025-01-01T11:00:00Z\",\"amount\":2}\n";
    const B: &str =
        "{\"customer_id\":\"c3\",\"at\":\"2025-01-02\",\"amount\":3,\"order_id\":\"b\"}";

    async fn folder() -> (tempfile::TempDir, DataFolder) {
        let dir = tempfile::tempdir().unwrap();
        let (folder, _) = DataFolder::create(dir.path().join("data")).unwrap();
        tables::create_all(&folder).await.unwrap();
        (dir, folder)
    }

    async fn open(folder: &DataFolder) -> Ingest {
        let options = IngestOptions {
            flush_rows: 1_000_000,
            flush_every: Duration::from_secs(3600),
            ..IngestOptions::default()
        };
        Ingest::open(folder, options).await.unwrap()
    }

    fn client() -> Client {
        Client {
            actor: "test".into(),
            id: "token:1".into(),
        }
    }

    async fn send(ingest: &Ingest, key: &str, body: &str) -> Result<Ack, IngestError> {
        let key = Some(key.to_string());
        ingest
            .ingest(Table::Transactions, key, client(), body.as_bytes().to_vec())
            .await
    }

    async fn rows(folder: &DataFolder) -> u64 {
        tables::info(folder, Table::Transactions)
            .await
            .unwrap()
            .rows
    }

    fn segments(folder: &DataFolder) -> usize {
        let dir = folder.wal_dir().join("transactions");
        std::fs::read_dir(dir).map_or(0, |d| d.count())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_log_beyond_the_committed_position_is_replayed_once() {
        let (_dir, folder) = folder().await;
        let ingest = open(&folder).await;
        let ack = send(&ingest, "a", A).await.unwrap();
        assert_eq!((ack.accepted, ack.duplicate), (2, false));
        assert_eq!(rows(&folder).await, 0, "buffered until closed");
        assert!(open_again_fails(&folder).await);
        ingest.close().await;
        drop(ingest);
        assert_eq!((rows(&folder).await, segments(&folder)), (2, 0));

        // A crash after committing batch 1 but before removing its log, with batch 2
        // acknowledged but not committed, and a third torn while being written.
        let dir = folder.wal_dir().join("transactions");
        let mut segment = wal::Segment::create(&dir, 1).unwrap();
        segment
            .append(1, Some("a"), &client(), A.as_bytes())
            .unwrap();
        segment
            .append(2, Some("b"), &client(), B.as_bytes())
            .unwrap();
        let path = dir.join(format!("{:020}.wal", 1));
        let mut file = File::options().append(true).open(&path).unwrap();
        file.write_all(&[9, 0, 0, 0, 1, 2]).unwrap();

        let ingest = open(&folder).await;
        assert_eq!((rows(&folder).await, segments(&folder)), (3, 0));
        let again = send(&ingest, "b", B).await.unwrap();
        assert_eq!((again.accepted, again.duplicate), (1, true));
        assert!(matches!(
            send(&ingest, "b", A).await,
            Err(IngestError::KeyReused)
        ));
        let stats = ingest.stats();
        assert_eq!(stats.tables[1].1.rows, 0);
        ingest.close().await;
        drop(ingest);

        let ingest = open(&folder).await;
        assert_eq!(rows(&folder).await, 3);
        ingest.close().await;
        let audit = folder.ops_db().unwrap().recent_audit(10).unwrap();
        assert_eq!(audit.iter().filter(|a| a.action == "import").count(), 2);
    }

    async fn open_again_fails(folder: &DataFolder) -> bool {
        let e = Ingest::open(folder, IngestOptions::default()).await.err();
        e.is_some_and(|e| e.to_string().contains("another cxray server"))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_batch_refused_for_a_failed_write_is_not_committed_at_the_next_start() {
        let (_dir, folder) = folder().await;
        let ingest = open(&folder).await;
        send(&ingest, "a", A).await.unwrap();
        // The keys can no longer be remembered: the log is written and synced, then the
        // group fails.
        let db = folder.ops_db().unwrap();
        db.conn()
            .execute_batch(
                "CREATE TRIGGER refuse BEFORE INSERT ON ingest_keys
                 BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
            )
            .unwrap();
        assert!(matches!(
            send(&ingest, "b", B).await,
            Err(IngestError::Broken(_))
        ));
        ingest.close().await;
        drop(ingest);
        db.conn().execute_batch("DROP TRIGGER refuse").unwrap();

        let ingest = open(&folder).await;
        assert_eq!(rows(&folder).await, 2, "only the acknowledged batch");
        let again = send(&ingest, "b", B).await.unwrap();
        assert_eq!((again.accepted, again.duplicate), (1, false));
        ingest.close().await;
        assert_eq!(rows(&folder).await, 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_logged_batch_that_can_never_be_committed_is_set_aside() {
        let (_dir, folder) = folder().await;
        // Logged by a version that let colliding keys through.
        let colliding =
            "{\"customer_id\":\"c9\",\"at\":\"2025-01-02\",\"amount\":1,\"Tier\":1,\"tier\":2}";
        let dir = folder.wal_dir().join("transactions");
        let mut segment = wal::Segment::create(&dir, 1).unwrap();
        segment
            .append(1, Some("a"), &client(), A.as_bytes())
            .unwrap();
        segment
            .append(2, Some("x"), &client(), colliding.as_bytes())
            .unwrap();
        segment
            .append(3, Some("b"), &client(), B.as_bytes())
            .unwrap();
        segment.sync().unwrap();

        let ingest = open(&folder).await;
        assert_eq!(rows(&folder).await, 3);
        let aside = folder
            .rejects_dir()
            .join(format!("ingest-transactions-{:020}.ndjson", 2));
        assert_eq!(std::fs::read_to_string(aside).unwrap(), colliding);
        ingest.close().await;
    }
}
