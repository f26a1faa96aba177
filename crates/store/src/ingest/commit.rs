//! The committer of one table: it buffers acknowledged batches and commits them to the
//! Delta table by size and by time, each commit recording the write-ahead log position it
//! covers; then it removes the log segments the table now holds.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cxray_core::domain::Table;
use datafusion::arrow::array::RecordBatch;
use deltalake_core::DeltaTable;
use deltalake_core::kernel::Transaction;
use deltalake_core::kernel::transaction::CommitProperties;
use deltalake_core::writer::{DeltaWriter, RecordBatchWriter, WriteMode};
use tokio::sync::mpsc;

use super::watch::Matching;
use super::{Counters, IngestOptions, RecentCommits, sync, wal};
use crate::folder::DataFolder;
use crate::ops::{ImportRecord, now_text};
use crate::{Result, StoreError, tables};

/// An acknowledged batch on its way to the table.
pub(crate) struct Pending {
    pub seq: u64,
    pub batch: RecordBatch,
    pub actor: String,
}

/// The Delta application transaction that holds a table's committed log position: of
/// the node's own log where several nodes share the tables (`cxray-ingest-<table>-<node>`).
fn position_app_id(folder: &DataFolder, table: Table) -> String {
    match folder.node() {
        Some(node) => format!("cxray-ingest-{table}-{node}"),
        None => format!("cxray-ingest-{table}"),
    }
}

/// The last log position of this node committed to `delta` (0 when none).
async fn committed_position(folder: &DataFolder, delta: &DeltaTable, table: Table) -> Result<u64> {
    let version = delta
        .snapshot()?
        .transaction_version(delta.log_store().as_ref(), position_app_id(folder, table))
        .await?;
    Ok(version.map_or(0, |v| v as u64))
}

pub(crate) struct Committer {
    folder: DataFolder,
    table: Table,
    options: IngestOptions,
    counters: Arc<Counters>,
    recent: Arc<RecentCommits>,
    delta: Option<DeltaTable>,
    /// The last position the table holds, as of opening it or committing.
    committed: u64,
    /// The last position committed and made durable: the log through it can go.
    durable: u64,
    /// Versions committed but not yet synced (a sync failed): synced with the next.
    unsynced: Vec<u64>,
    buffer: Vec<Pending>,
    rows: usize,
    /// The matches of the conditions watched on the table in the buffered batches, and
    /// the time spent finding them.
    matching: Matching,
    matching_time: Duration,
    /// The open data files of the next commit, and how many buffered batches they hold:
    /// batches are written as they come, so a commit only finishes the files.
    writer: Option<RecordBatchWriter>,
    written: usize,
    /// When the oldest buffered batch arrived.
    since: Option<Instant>,
    /// The last commit failed: wait for the retry however full the buffer gets.
    failed: bool,
}

impl Committer {
    pub fn new(
        folder: DataFolder,
        table: Table,
        options: IngestOptions,
        counters: Arc<Counters>,
        recent: Arc<RecentCommits>,
    ) -> Self {
        Committer {
            folder,
            table,
            options,
            counters,
            recent,
            delta: None,
            committed: 0,
            durable: 0,
            unsynced: Vec::new(),
            buffer: Vec::new(),
            rows: 0,
            matching: Matching::default(),
            matching_time: Duration::ZERO,
            writer: None,
            written: 0,
            since: None,
            failed: false,
        }
    }

    /// Buffers a batch, evaluates the conditions watched on the table on it, and writes
    /// it to the next commit's data files (unless the last commit failed: its retry
    /// writes them).
    pub async fn push(&mut self, pending: Pending) {
        self.rows += pending.batch.num_rows();
        self.since.get_or_insert_with(Instant::now);
        let (watched, started) = (self.recent.watched(self.table), Instant::now());
        self.matching
            .add(&watched, self.buffer.len(), &pending.batch);
        self.matching_time += started.elapsed();
        self.buffer.push(pending);
        if !self.failed
            && let Err(e) = self.stream().await
        {
            tracing::warn!("ingestion into {}: {e} (the commit will retry)", self.table);
        }
    }

    /// Writes the buffered batches the data files do not hold yet.
    async fn stream(&mut self) -> Result<()> {
        self.open().await?;
        let writer = match &mut self.writer {
            Some(w) => w,
            None => {
                let delta = self.delta.as_ref().expect("opened");
                self.written = 0;
                self.writer.insert(RecordBatchWriter::for_table(delta)?)
            }
        };
        for p in &self.buffer[self.written..] {
            let batch = p.batch.clone();
            if let Err(e) = writer.write_with_mode(batch, WriteMode::MergeSchema).await {
                writer.reset();
                self.writer = None;
                return Err(e.into());
            }
            self.written += 1;
        }
        Ok(())
    }

    /// Commits what `rx` brings when the buffer is full or its oldest batch is due; when
    /// `rx` closes, commits the rest and removes the log.
    pub async fn run(mut self, mut rx: mpsc::Receiver<Pending>) {
        loop {
            let due = self.since.map(|t| t + self.options.flush_every);
            let sleep = tokio::time::sleep_until(due.unwrap_or_else(Instant::now).into());
            tokio::select! {
                pending = rx.recv() => match pending {
                    Some(p) => {
                        self.push(p).await;
                        if self.rows >= self.options.flush_rows && !self.failed {
                            self.commit_or_retry().await;
                        }
                    }
                    None => break,
                },
                () = sleep, if due.is_some() => self.commit_or_retry().await,
            }
        }
        self.commit_or_retry().await;
        if self.buffer.is_empty() {
            self.remove_log(true);
        }
    }

    /// Commits, or on failure keeps the buffer to try again after the flush interval
    /// (the rows are safe in the write-ahead log meanwhile).
    async fn commit_or_retry(&mut self) {
        let result = self.commit().await;
        self.failed = result.is_err();
        if let Err(e) = result {
            tracing::error!(
                "ingestion into {}: commit failed, will retry: {e}",
                self.table
            );
            self.since = Some(Instant::now());
        }
    }

    /// Commits the buffer as one Delta commit that records the log position of its last
    /// batch; then makes the commit durable, logs it, and removes the log it covers.
    pub async fn commit(&mut self) -> Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        self.stream().await?;
        let Some(last) = self.buffer.last() else {
            return Ok(());
        };
        let (position, started) = (last.seq, Instant::now());
        let version = match self.write(position).await {
            Ok(v) => v,
            Err(e) => {
                // The commit may have landed anyway: reopen and check before retrying.
                self.delta = None;
                return Err(e);
            }
        };
        self.written = 0;
        let matches = self.matching.take(self.buffer.len());
        let matching_us = std::mem::take(&mut self.matching_time).as_micros() as u64;
        let (mut actors, mut batches) = (BTreeSet::new(), Vec::new());
        for p in self.buffer.drain(..) {
            actors.insert(p.actor);
            batches.push(p.batch);
        }
        let rows = std::mem::take(&mut self.rows) as u64;
        (self.committed, self.since) = (position, None);
        self.recent.push(self.table, version, batches, matches);
        self.counters.committed(self.table, rows);
        let record = ImportRecord {
            at: now_text(),
            table_name: self.table.name().into(),
            files: "ingestion API".into(),
            rows,
            rejected: 0,
            delta_version: Some(version as i64),
            seconds: started.elapsed().as_secs_f64(),
        };
        let actors = actors.into_iter().collect::<Vec<_>>().join(", ");
        self.unsynced.push(version);
        let versions = self.unsynced.clone();
        match settle(self.folder.clone(), self.table, versions, actors, record).await {
            Ok(()) => {
                self.unsynced.clear();
                self.durable = position;
                self.remove_log(false);
                let ms = started.elapsed().as_millis() as u64;
                tracing::info!(table = %self.table, rows, version, ms, matching_us, "ingested rows committed");
            }
            Err(e) => tracing::warn!(
                "ingestion into {}: version {version} committed, but not made durable yet: {e}",
                self.table
            ),
        }
        Ok(())
    }

    /// The last log position the table holds (opening it).
    pub async fn committed(&mut self) -> Result<u64> {
        self.open().await?;
        Ok(self.committed)
    }

    /// Takes the log through the position the table holds as durable, after syncing the
    /// commit that recorded it (a crash may have come between that commit and its sync).
    pub async fn adopt(&mut self) -> Result<()> {
        let position = self.committed().await?;
        let latest = self.delta.as_ref().and_then(|d| d.version()).unwrap_or(0);
        let app_id = position_app_id(&self.folder, self.table);
        let delta = self.delta.as_ref().expect("opened");
        if let Some(version) = sync::recording(delta, latest, &app_id, position).await {
            sync::commit(&self.folder, self.table, version)?;
        }
        self.durable = position;
        Ok(())
    }

    /// Opens the table if it is not open, dropping buffered batches it already holds.
    async fn open(&mut self) -> Result<()> {
        if self.delta.is_some() {
            return Ok(());
        }
        self.writer = None;
        let delta = tables::open(&self.folder, self.table, None).await?;
        let position = committed_position(&self.folder, &delta, self.table).await?;
        self.committed = position;
        let buffered = self.buffer.len();
        self.buffer.retain(|p| p.seq > position);
        if self.buffer.len() != buffered {
            self.matching.clear();
        }
        self.rows = self.buffer.iter().map(|p| p.batch.num_rows()).sum();
        self.delta = Some(delta);
        Ok(())
    }

    /// Commits the data files with the log position.
    async fn write(&mut self, position: u64) -> Result<u64> {
        let delta = self.delta.as_mut().expect("opened");
        let txn = Transaction::new(position_app_id(&self.folder, self.table), position as i64);
        let properties = CommitProperties::default()
            .with_application_transactions(vec![txn])
            .with_metadata([("cxray.operation".to_string(), serde_json::json!("ingest"))]);
        let writer = self.writer.take().expect("streamed");
        let mut writer = writer.with_commit_properties(properties);
        Ok(writer.flush_and_commit(delta).await?)
    }

    /// Removes the log segments the table durably holds (the newest too once nothing
    /// more comes).
    pub fn remove_log(&self, newest_too: bool) {
        let dir = self.folder.wal_dir().join(self.table.name());
        if let Err(e) = wal::remove_committed(&dir, self.durable, newest_too) {
            tracing::warn!("ingestion into {}: {e}", self.table);
        }
    }
}

/// Makes commits durable and logs the last, with a full sync of the operational database
/// that also makes the idempotency keys the appender wrote durable.
async fn settle(
    folder: DataFolder,
    table: Table,
    versions: Vec<u64>,
    actors: String,
    record: ImportRecord,
) -> Result<()> {
    tokio::task::spawn_blocking(move || {
        for version in versions {
            sync::commit(&folder, table, version)?;
        }
        folder.ops_db()?.record_import(&actors, &record)
    })
    .await
    .map_err(|e| StoreError::Input(format!("ingestion task: {e}")))?
}
