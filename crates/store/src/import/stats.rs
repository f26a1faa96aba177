//! Running statistics of an import, for its summary.

use std::collections::HashSet;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

use cxray_core::domain::Table;
use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::compute::{max, min};
use datafusion::arrow::datatypes::{Date32Type, TimestampMicrosecondType};

/// Rows, distinct customers (by a 64-bit hash of the id) and the event time range.
#[derive(Debug, Default)]
pub struct Stats {
    pub rows: u64,
    pub customers: HashSet<u64>,
    /// Microseconds since the epoch.
    first: Option<i64>,
    last: Option<i64>,
}

impl Stats {
    /// Adds a batch of `table` to the statistics.
    pub fn observe(&mut self, table: Table, batch: &RecordBatch) {
        self.rows += batch.num_rows() as u64;
        if let Some(ids) = batch.column_by_name("customer_id") {
            let hasher = BuildHasherDefault::<DefaultHasher>::default();
            self.customers.extend(
                ids.as_string::<i32>()
                    .iter()
                    .flatten()
                    .map(|id| hasher.hash_one(id)),
            );
        }
        let Some(col) = table.time_column().and_then(|c| batch.column_by_name(c)) else {
            return;
        };
        let (lo, hi) = match col.as_primitive_opt::<TimestampMicrosecondType>() {
            Some(a) => (min(a), max(a)),
            None => {
                let a = col.as_primitive::<Date32Type>();
                (
                    min(a).map(|d| d as i64 * 86_400_000_000),
                    max(a).map(|d| d as i64 * 86_400_000_000),
                )
            }
        };
        self.first = self.first.into_iter().chain(lo).min();
        self.last = self.last.into_iter().chain(hi).max();
    }

    /// The earliest event time (RFC 3339).
    pub fn first(&self) -> Option<String> {
        self.first.and_then(rfc3339)
    }

    /// The latest event time (RFC 3339).
    pub fn last(&self) -> Option<String> {
        self.last.and_then(rfc3339)
    }
}

fn rfc3339(micros: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}
