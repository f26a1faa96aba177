//! `cxray forget`: a customer's right to erasure.
//!
//! Under the ingestion lock (no server runs meanwhile) and the rewrite lock (no optimize
//! either), with the write-ahead log committed first as a starting server would (so its
//! rows are erased with the tables' and the log is removed), every table with a customer
//! column — `customer_value` included — deletes the customers' rows (a Delta delete
//! rewrites the files that held them), then vacuums every removed file at once and the
//! orphans older than [`ORPHAN_AGE`] (younger ones may belong to an import still running:
//! `cxray vacuum --retain-hours 0` when none runs), and checkpoints and drops the log
//! before it, whose file statistics and delete predicate name the ids. Time travel to
//! before the erasure ends for those tables. Rejected rows set aside in `rejects/` that
//! name the customers are dropped too, and so is everything derived from the tables under
//! `derived/` (the journey's trips name customers; it is built again from the erased
//! tables when next needed).
//!
//! The operational database keeps no customer data but follow-up cases, which are erased
//! with their histories (freed pages overwritten, its log checkpointed); it records the
//! erasure in the audit log and a suppression list, both by a keyed hash of the id (BLAKE3
//! keyed with the folder's pseudonym secret), never the id. Forgetting again is harmless. Imports and
//! ingestion refuse the listed customers' rows unless the rule says accept ([`crate::erased`]).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use cxray_core::domain::Table;
use datafusion::prelude::{col, lit};
use deltalake_core::protocol::checkpoints::{cleanup_expired_logs_for, create_checkpoint};
use serde::Serialize;

use super::vacuum::vacuum_table;
use super::{keeping_made_by, open_dir, rewrite_lock, table_dirs};
use crate::erased::{erasure_hash, suppress};
use crate::folder::DataFolder;
use crate::ingest::{Ingest, IngestOptions};
use crate::ops::audit;
use crate::{Result, StoreError};

/// Orphan files younger than this are left: an import may still be writing them.
pub const ORPHAN_AGE: Duration = Duration::from_secs(3600);

/// What an erasure did.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Forgotten {
    pub customers: usize,
    /// Rows deleted per table.
    pub rows: BTreeMap<String, u64>,
    pub files_removed: usize,
    /// Rejects files rewritten without the customers' rows.
    pub rejects_rewritten: usize,
    /// Follow-up cases removed with their histories.
    pub cases: usize,
    /// Survey records removed: invitations, contact decisions, answers, opt-outs.
    pub survey_records: usize,
}

/// Erases the customers `ids` from the folder, on behalf of `actor`.
pub async fn forget(
    folder: &DataFolder,
    ids: &[String],
    actor: &str,
    reason: Option<&str>,
) -> Result<Forgotten> {
    if ids.is_empty() || ids.iter().any(|id| id.trim().is_empty()) {
        return Err(StoreError::Input(
            "forget: name one or more customer ids".into(),
        ));
    }
    folder.local_only("cxray forget")?;
    let _rewriting = rewrite_lock(folder)?;
    let ingest = Ingest::open(folder, IngestOptions::default()).await?;
    let erased = erase(folder, ids, actor, reason).await;
    ingest.close().await;
    erased
}

async fn erase(
    folder: &DataFolder,
    ids: &[String],
    actor: &str,
    reason: Option<&str>,
) -> Result<Forgotten> {
    let db = folder.ops_db()?;
    let key = db.pseudonym_key()?;
    let hashes: Vec<String> = ids.iter().map(|id| erasure_hash(&key, id)).collect();
    suppress(&db, &hashes)?;
    let mut done = Forgotten {
        customers: ids.len(),
        ..Forgotten::default()
    };
    for (name, dir) in table_dirs(folder) {
        if name.parse::<Table>().is_ok_and(|t| !t.has_customer()) {
            continue;
        }
        let before = open_dir(&dir).await?.version();
        let rows = erase_table(&dir, ids, &mut done.files_removed).await?;
        if let (Ok(table), Some(from)) = (name.parse::<Table>(), before) {
            let to = open_dir(&dir).await?.version().unwrap_or(0);
            db.pass_rewrite(table, from, to)?;
        }
        done.rows.insert(name, rows);
    }
    done.rejects_rewritten = rejects(&folder.rejects_dir(), ids)?;
    done.files_removed += remove_derived(&folder.root().join("derived"))?;
    done.survey_records = db.forget_survey_records(ids)?;
    done.cases = db.forget_cases(ids)?;
    db.rewrite_file()?;
    let detail = format!(
        "{} customers erased ({}), {} rows{}",
        ids.len(),
        hashes.join(", "),
        done.rows.values().sum::<u64>(),
        reason.map(|r| format!("; reason: {r}")).unwrap_or_default()
    );
    audit(db.conn(), actor, "forget", &detail)?;
    Ok(done)
}

/// Removes the derived data in `dir` (if any); returns the files it held.
fn remove_derived(dir: &Path) -> Result<usize> {
    fn files(dir: &Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |entries| {
            entries
                .flatten()
                .map(|e| match e.path().is_dir() {
                    true => files(&e.path()),
                    false => 1,
                })
                .sum()
        })
    }
    if !dir.exists() {
        return Ok(0);
    }
    let n = files(dir);
    std::fs::remove_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
    Ok(n)
}

/// Deletes the customers' rows from the table in `dir` and every file and log entry that
/// still holds them; returns the rows deleted.
async fn erase_table(dir: &Path, ids: &[String], files_removed: &mut usize) -> Result<u64> {
    let table = open_dir(dir).await?;
    let properties = keeping_made_by(&table).await?;
    let predicate =
        col("customer_id").in_list(ids.iter().map(|id| lit(id.as_str())).collect(), false);
    let (_, metrics) = table
        .delete()
        .with_predicate(predicate)
        .with_commit_properties(properties)
        .await?;
    *files_removed += vacuum_table(dir, Duration::ZERO, ORPHAN_AGE).await?;
    let table = open_dir(dir).await?;
    create_checkpoint(&table, None).await?;
    let version = table.version().unwrap_or(0);
    let now = chrono::Utc::now().timestamp_millis();
    cleanup_expired_logs_for(version, table.log_store().as_ref(), now, None).await?;
    Ok(metrics.num_deleted_rows.unwrap_or(0) as u64)
}

/// Rewrites the rejects files that name a customer without those lines; returns how
/// many. A line names a customer when the id stands in it as a whole word (a CSV field,
/// the raw row an import set aside, an NDJSON value).
fn rejects(dir: &Path, ids: &[String]) -> Result<usize> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(0);
    };
    let mut rewritten = 0;
    for entry in entries {
        let path = entry.map_err(|e| StoreError::io(dir, e))?.path();
        let text = std::fs::read(&path).map_err(|e| StoreError::io(&path, e))?;
        let lines: Vec<&[u8]> = text.split_inclusive(|b| *b == b'\n').collect();
        let names = |line: &[u8]| ids.iter().any(|id| names_word(line, id.as_bytes()));
        if !lines.iter().any(|l| names(l)) {
            continue;
        }
        let kept: Vec<u8> = lines
            .into_iter()
            .filter(|l| !names(l))
            .flatten()
            .copied()
            .collect();
        let temp = path.with_extension("tmp");
        std::fs::write(&temp, kept)
            .and_then(|()| std::fs::File::open(&temp)?.sync_all())
            .and_then(|()| std::fs::rename(&temp, &path))
            .map_err(|e| StoreError::io(&path, e))?;
        rewritten += 1;
    }
    Ok(rewritten)
}

/// Whether `word` occurs in `line` with no letter, digit, `_` or `-` right before or after.
fn names_word(line: &[u8], word: &[u8]) -> bool {
    let part_of_word =
        |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-');
    !word.is_empty()
        && line.windows(word.len()).enumerate().any(|(i, w)| {
            w == word
                && !part_of_word(i.checked_sub(1).and_then(|k| line.get(k)))
                && !part_of_word(line.get(i + word.len()))
        })
}
