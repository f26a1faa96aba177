//! Ingestion's counts since the server started, for `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

use cxray_core::domain::Table;
use tokio::sync::watch;

use super::index;

/// One table's ingestion counts.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TableStats {
    /// Rows acknowledged (re-sent batches not counted again).
    pub rows: u64,
    /// Invalid rows refused.
    pub rejected_rows: u64,
    /// Delta commits, and the rows they committed.
    pub commits: u64,
    pub committed_rows: u64,
}

/// Ingestion counts since the server started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    pub tables: Vec<(Table, TableStats)>,
    /// Syncs of the write-ahead log (one per table per group of requests).
    pub wal_syncs: u64,
}

/// The live counters behind [`Stats`], and the count of commits for those who wait for
/// them.
pub(crate) struct Counters {
    tables: [[AtomicU64; 4]; 6],
    wal_syncs: AtomicU64,
    commits: watch::Sender<u64>,
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            tables: Default::default(),
            wal_syncs: AtomicU64::default(),
            commits: watch::Sender::new(0),
        }
    }
}

impl Counters {
    fn add(&self, table: Table, which: usize, n: u64) {
        self.tables[index(table)][which].fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn accepted(&self, table: Table, rows: u64) {
        self.add(table, 0, rows);
    }

    pub(crate) fn rejected(&self, table: Table, rows: u64) {
        self.add(table, 1, rows);
    }

    pub(crate) fn committed(&self, table: Table, rows: u64) {
        self.add(table, 2, 1);
        self.add(table, 3, rows);
        self.commits.send_modify(|n| *n += 1);
    }

    /// The number of commits so far, changing with each.
    pub(crate) fn commits(&self) -> watch::Receiver<u64> {
        self.commits.subscribe()
    }

    pub(crate) fn synced(&self) {
        self.wal_syncs.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn stats(&self) -> Stats {
        let get = |t: Table, i: usize| self.tables[index(t)][i].load(Ordering::Relaxed);
        Stats {
            tables: Table::ALL
                .into_iter()
                .map(|t| {
                    let stats = TableStats {
                        rows: get(t, 0),
                        rejected_rows: get(t, 1),
                        commits: get(t, 2),
                        committed_rows: get(t, 3),
                    };
                    (t, stats)
                })
                .collect(),
            wal_syncs: self.wal_syncs.load(Ordering::Relaxed),
        }
    }
}
