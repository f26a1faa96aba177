//! The rows of each table's latest ingestion commits, kept in memory so that what reads
//! the rows a commit added (rule evaluation after each commit) need not read them back
//! from the data files — and, per condition watched on the table ([`super::watch`]), the
//! rows it matches by customer.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use cxray_core::domain::Table;
use datafusion::arrow::array::RecordBatch;
use datafusion::prelude::Expr;

use super::index;
use super::watch::ByCustomer;

/// One commit's rows.
struct Commit {
    version: u64,
    batches: Arc<[RecordBatch]>,
    rows: usize,
    /// Each condition evaluated on every batch, with its matches.
    matches: Vec<(Expr, Arc<ByCustomer>)>,
}

/// One commit's rows and the rows of them a condition matches.
pub struct Matched {
    pub batches: Arc<[RecordBatch]>,
    pub by_customer: Arc<ByCustomer>,
}

/// The latest commits of each table, newest last, as long as they hold at most
/// `max_rows` rows together (the newest is kept whatever its size).
pub struct RecentCommits {
    tables: Mutex<[VecDeque<Commit>; 6]>,
    max_rows: usize,
    /// The conditions evaluated on each table's batches as they are ingested.
    watched: Mutex<[Arc<[Expr]>; 6]>,
}

impl RecentCommits {
    pub(crate) fn new(max_rows: usize) -> Self {
        RecentCommits {
            tables: Mutex::default(),
            max_rows,
            watched: Mutex::new(std::array::from_fn(|_| Arc::from([]))),
        }
    }

    /// Evaluates `conditions` on the batches of `table` ingested from now on (replacing
    /// those watched before).
    pub fn watch(&self, table: Table, conditions: Vec<Expr>) {
        self.watched.lock().expect("watched lock")[index(table)] = conditions.into();
    }

    /// The conditions watched on `table`.
    pub(crate) fn watched(&self, table: Table) -> Arc<[Expr]> {
        self.watched.lock().expect("watched lock")[index(table)].clone()
    }

    /// Keeps the rows `version` of `table` committed, with the matches of the conditions
    /// evaluated on every batch, dropping the oldest beyond the bound.
    pub(crate) fn push(
        &self,
        table: Table,
        version: u64,
        batches: Vec<RecordBatch>,
        matches: Vec<(Expr, Arc<ByCustomer>)>,
    ) {
        let rows = batches.iter().map(RecordBatch::num_rows).sum();
        let mut tables = self.tables.lock().expect("recent commits lock");
        let kept = &mut tables[index(table)];
        kept.push_back(Commit {
            version,
            batches: batches.into(),
            rows,
            matches,
        });
        let mut total: usize = kept.iter().map(|c| c.rows).sum();
        while kept.len() > 1 && total > self.max_rows {
            total -= kept.pop_front().map_or(0, |c| c.rows);
        }
    }

    /// The rows the versions after `after` through `through` added, when every one of
    /// them is an ingestion commit still held; none otherwise.
    pub fn since(&self, table: Table, after: u64, through: u64) -> Option<Vec<RecordBatch>> {
        let tables = self.tables.lock().expect("recent commits lock");
        let kept = &tables[index(table)];
        let mut out = Vec::new();
        for version in after + 1..=through {
            let commit = kept.iter().find(|c| c.version == version)?;
            out.extend(commit.batches.iter().cloned());
        }
        Some(out)
    }

    /// Per version after `after` through `through`, its rows and those `condition`
    /// matches, when every one of them is an ingestion commit still held on whose every
    /// batch the condition was evaluated; none otherwise.
    pub fn matched(
        &self,
        table: Table,
        after: u64,
        through: u64,
        condition: &Expr,
    ) -> Option<Vec<Matched>> {
        let tables = self.tables.lock().expect("recent commits lock");
        let kept = &tables[index(table)];
        (after + 1..=through)
            .map(|version| {
                let commit = kept.iter().find(|c| c.version == version)?;
                let (_, by_customer) = commit.matches.iter().find(|(c, _)| c == condition)?;
                Some(Matched {
                    batches: commit.batches.clone(),
                    by_customer: by_customer.clone(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn rows(n: i64) -> Vec<RecordBatch> {
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
        let column = Arc::new(Int64Array::from_iter_values(0..n));
        vec![RecordBatch::try_new(schema, vec![column]).unwrap()]
    }

    fn count(batches: Option<Vec<RecordBatch>>) -> Option<usize> {
        batches.map(|b| b.iter().map(RecordBatch::num_rows).sum())
    }

    #[test]
    fn only_runs_of_held_versions_are_answered_and_the_oldest_go_first() {
        let recent = RecentCommits::new(10);
        recent.push(Table::Responses, 4, rows(3), vec![]);
        recent.push(Table::Responses, 5, rows(4), vec![]);
        assert_eq!(count(recent.since(Table::Responses, 3, 5)), Some(7));
        assert_eq!(count(recent.since(Table::Responses, 4, 5)), Some(4));
        assert_eq!(count(recent.since(Table::Responses, 5, 5)), Some(0));
        assert_eq!(
            count(recent.since(Table::Responses, 2, 5)),
            None,
            "3 not held"
        );
        assert_eq!(count(recent.since(Table::Interactions, 3, 4)), None);
        recent.push(Table::Responses, 7, rows(5), vec![]);
        assert_eq!(
            count(recent.since(Table::Responses, 5, 7)),
            None,
            "6 missing"
        );
        assert_eq!(
            count(recent.since(Table::Responses, 3, 5)),
            None,
            "4 dropped: over 10 rows"
        );
        assert_eq!(count(recent.since(Table::Responses, 6, 7)), Some(5));
        recent.push(Table::Responses, 8, rows(20), vec![]);
        assert_eq!(count(recent.since(Table::Responses, 7, 8)), Some(20));
        assert_eq!(count(recent.since(Table::Responses, 6, 8)), None);
    }
}
