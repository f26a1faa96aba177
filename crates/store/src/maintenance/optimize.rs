//! `cxray optimize`: the tables' layout for large data.
//!
//! Every commit adds at least one data file, and the ingestion API commits small batches
//! every few seconds, so a table read by many small files costs a request and a footer per
//! file. Optimize rewrites a table's files into few of about the target size: the event
//! tables sorted along a Z-order curve of the columns analyses filter on
//! ([`cluster_columns`]), so each file and row group spans a narrow range of them and
//! their statistics skip the rest; the other tables are compacted. Then it writes a Delta
//! checkpoint, so opening a table reads one Parquet file instead of every commit's entry.
//!
//! Optimize changes no row: its commit removes the old files and adds the new ones with
//! `dataChange = false`. The old files stay until `cxray vacuum` removes them after its
//! retention, so time travel to the versions before keeps working until then. It is safe
//! while the server ingests: appends committed meanwhile do not conflict (Delta commits
//! the rewrite after them, their files untouched); a commit that does (one that changed
//! the table's schema: ingestion adding an attribute column) makes it fail with nothing
//! changed ([`StoreError::Busy`]: run it again). Two rewrites of the same files are not a
//! conflict to delta-rs, so optimize and `forget` take the folder's rewrite lock, and
//! `customer_value`, which `loyalty predict` overwrites whole, is left alone. A table with
//! a rule that opens follow-up cases is optimized only as far as every enabled rule has
//! evaluated it (and the interactions as far as every survey invitation rule has), as
//! rules find new rows by the files appends added.

use std::num::NonZeroU64;
use std::path::Path;
use std::sync::Arc;

use cxray_core::domain::Table;
use datafusion::execution::SessionStateBuilder;
use deltalake_core::DeltaTable;
use deltalake_core::errors::DeltaTableError;
use deltalake_core::kernel::Action;
use deltalake_core::kernel::transaction::TransactionError;
use deltalake_core::logstore::get_actions;
use deltalake_core::operations::optimize::OptimizeType;
use deltalake_core::protocol::checkpoints::create_checkpoint;
use serde::Serialize;

use super::{open_dir, rewrite_lock};
use crate::folder::DataFolder;
use crate::ingest::sync;
use crate::ops::{OpsDb, audit};
use crate::sql::{runtime, session_config};
use crate::tables::{checkpoint, totals};
use crate::{Result, StoreError};

/// The Delta operation an optimize commit records.
const OPTIMIZE: &str = "OPTIMIZE";

/// The columns an event table is clustered by: the event time, and the touchpoint where
/// the table has one (what the analyses filter and group on). Other tables are compacted.
pub fn cluster_columns(table: Table) -> &'static [&'static str] {
    match table {
        Table::Transactions => &["at"],
        Table::Interactions | Table::Responses => &["at", "touchpoint"],
        Table::Customers | Table::Owners | Table::Financials => &[],
    }
}

/// What an optimize did to one table.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Optimized {
    pub table: String,
    /// The version rewritten: the latest, or the one every rule on the table evaluated.
    pub read_version: u64,
    /// The table's latest version afterwards.
    pub version: u64,
    /// Data files and their bytes at the version read…
    pub files_before: u64,
    pub bytes_before: u64,
    /// …and at the latest version afterwards (appends meanwhile included).
    pub files_after: u64,
    pub bytes_after: u64,
    /// Files the rewrite removed and added (none when there was nothing to do).
    pub files_removed: u64,
    pub files_added: u64,
    /// The Z-order columns (empty: compacted).
    pub clustered_by: Vec<String>,
    /// The version of the table's latest checkpoint afterwards.
    pub checkpoint: Option<u64>,
}

/// Optimizes `only` (every table without one) on behalf of `actor`, into files of about
/// `target_size` bytes (Delta's default, 100 MiB, without one).
pub async fn optimize(
    folder: &DataFolder,
    only: Option<Table>,
    target_size: Option<NonZeroU64>,
    actor: &str,
) -> Result<Vec<Optimized>> {
    folder.local_only("cxray optimize")?;
    let tables = only.map_or(Table::ALL.to_vec(), |t| vec![t]);
    let _rewriting = rewrite_lock(folder)?;
    let db = folder.ops_db()?;
    let mut done = Vec::new();
    for table in tables {
        let dir = folder.table_dir(table);
        let limit = evaluated_by_rules(&db, table)?;
        let columns = cluster_columns(table);
        let optimized = optimize_table(&dir, table.name(), limit, columns, target_size)
            .await
            .map_err(|e| conflict(e, table))?;
        done.push(optimized);
    }
    let rewritten: Vec<String> = done
        .iter()
        .filter(|o| o.files_removed > 0)
        .map(|o| {
            format!(
                "{} v{}: {} files rewritten into {}",
                o.table, o.read_version, o.files_removed, o.files_added
            )
        })
        .collect();
    let detail = match rewritten.is_empty() {
        true => "nothing to rewrite".to_string(),
        false => rewritten.join("; "),
    };
    audit(db.conn(), actor, "optimize", &detail)?;
    Ok(done)
}

/// The version of `table` every enabled rule that watches it — follow-up rules, and on
/// the interactions survey invitation rules — has evaluated, if some rule has not
/// evaluated its latest one: its files added since are left for the rules.
fn evaluated_by_rules(db: &OpsDb, table: Table) -> Result<Option<u64>> {
    let cases = db
        .rules()?
        .into_iter()
        .filter(|r| r.enabled && r.trigger.table() == Some(table))
        .map(|r| r.watermark);
    let invitations = match table {
        Table::Interactions => db.survey_rules()?,
        _ => Vec::new(),
    };
    let invitations = invitations
        .into_iter()
        .filter(|r| r.enabled)
        .map(|r| r.watermark);
    Ok(cases.chain(invitations).flatten().min())
}

/// A rewrite that lost to a conflicting commit: nothing changed, and running it again
/// starts from the new version.
fn conflict(e: StoreError, table: Table) -> StoreError {
    match e {
        StoreError::Delta(DeltaTableError::Transaction {
            source: TransactionError::CommitConflict(c),
        }) => StoreError::Busy(format!(
            "optimize {table}: a commit made meanwhile conflicts with the rewrite ({c}); \
             nothing changed: run `cxray optimize {table}` again"
        )),
        e => e,
    }
}

/// Optimizes the table in `dir` as at version `at` (the latest without one, or when
/// later): Z-ordered by `columns`, compacted without any, its commit made durable; then
/// checkpoints its latest version. A table of one file, or with nothing new since its last
/// optimize, is not rewritten: a Z-order rewrites the whole table.
async fn optimize_table(
    dir: &Path,
    name: &str,
    at: Option<u64>,
    columns: &[&str],
    target_size: Option<NonZeroU64>,
) -> Result<Optimized> {
    let mut table = open_dir(dir).await?;
    if let Some(v) = at.filter(|v| Some(*v) < table.version()) {
        table.load_version(v).await?;
    }
    let read_version = table.version().unwrap_or(0);
    let before = totals(&table)?;
    let mut files_removed = 0;
    let mut files_added = 0;
    if before.files > 1 && !optimized_last(&table, read_version).await? {
        let kind = match columns {
            [] => OptimizeType::Compact,
            c => OptimizeType::ZOrder(c.iter().map(|c| c.to_string()).collect()),
        };
        let session = SessionStateBuilder::new()
            .with_config(session_config())
            .with_runtime_env(runtime()?)
            .with_default_features()
            .build();
        let mut builder = table
            .optimize()
            .with_type(kind)
            .with_session_state(Arc::new(session));
        if let Some(size) = target_size {
            builder = builder.with_target_size(size);
        }
        let (optimized, metrics) = builder.await?;
        if metrics.num_files_added + metrics.num_files_removed > 0 {
            sync::commit_in(dir, optimized.version().unwrap_or(0))?;
        }
        (files_removed, files_added) = (metrics.num_files_removed, metrics.num_files_added);
    }
    let latest = open_dir(dir).await?;
    if checkpoint(&latest).await? < latest.version() {
        create_checkpoint(&latest, None).await?;
    }
    let after = totals(&latest)?;
    Ok(Optimized {
        table: name.to_string(),
        read_version,
        version: latest.version().unwrap_or(0),
        files_before: before.files,
        bytes_before: before.bytes,
        files_after: after.files,
        bytes_after: after.bytes,
        files_removed,
        files_added,
        clustered_by: columns.iter().map(|c| c.to_string()).collect(),
        checkpoint: checkpoint(&latest).await?,
    })
}

/// Whether commit `version` of the table is an optimize: nothing arrived since the last.
async fn optimized_last(t: &DeltaTable, version: u64) -> Result<bool> {
    let Some(entry) = t.log_store().read_commit_entry(version).await? else {
        return Ok(false);
    };
    Ok(get_actions(version, &entry)?
        .iter()
        .any(|a| matches!(a, Action::CommitInfo(c) if c.operation.as_deref() == Some(OPTIMIZE))))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use deltalake_core::operations::write::SchemaMode;

    use super::*;
    use crate::maintenance::vacuum::tests::sum;

    fn schema() -> Schema {
        Schema::new(vec![Field::new("n", DataType::Int64, false)])
    }

    /// Appends `n` as one commit to the table in `dir`.
    async fn append(dir: &Path, n: i64) {
        let batch = RecordBatch::try_new(
            Arc::new(schema()),
            vec![Arc::new(Int64Array::from(vec![n]))],
        );
        let table = open_dir(dir).await.unwrap();
        table.write([batch.unwrap()]).await.unwrap();
    }

    /// A table in `dir` of ten appends, 1 to 10 (version 10).
    async fn ten_appends(dir: &Path) {
        crate::tables::create_in(dir, "t", &schema()).await.unwrap();
        for n in 1..=10 {
            append(dir, n).await;
        }
    }

    #[tokio::test]
    async fn an_append_committed_during_the_rewrite_is_kept_beside_it() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("t");
        ten_appends(&dir).await;
        // The rewrite reads version 10; an append lands before it commits.
        append(&dir, 11).await;
        let done = optimize_table(&dir, "t", Some(10), &["n"], None)
            .await
            .unwrap();
        assert_eq!((done.read_version, done.version), (10, 12));
        assert_eq!((done.files_removed, done.files_added), (10, 1));
        assert_eq!((done.files_before, done.files_after), (10, 2));
        assert_eq!(done.checkpoint, Some(12));
        assert_eq!(sum(&dir, None).await.unwrap(), 66);
        assert_eq!(sum(&dir, Some(10)).await.unwrap(), 55, "time travel");
    }

    #[tokio::test]
    async fn a_schema_change_committed_during_the_rewrite_fails_it_with_nothing_changed() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("t");
        ten_appends(&dir).await;
        // As ingestion adding an attribute column: a commit that changes the schema.
        let wider = Schema::new(vec![
            Field::new("n", DataType::Int64, false),
            Field::new("extra", DataType::Utf8, true),
        ]);
        let columns: Vec<Arc<dyn datafusion::arrow::array::Array>> = vec![
            Arc::new(Int64Array::from(vec![11])),
            Arc::new(StringArray::from(vec!["x"])),
        ];
        let batch = RecordBatch::try_new(Arc::new(wider), columns).unwrap();
        let table = open_dir(&dir).await.unwrap();
        table
            .write([batch])
            .with_schema_mode(SchemaMode::Merge)
            .await
            .unwrap();

        let e = optimize_table(&dir, "t", Some(10), &[], None)
            .await
            .map_err(|e| conflict(e, Table::Responses))
            .unwrap_err();
        assert!(
            matches!(&e, StoreError::Busy(m) if m.contains("run `cxray optimize responses` again")),
            "{e}"
        );
        let table = open_dir(&dir).await.unwrap();
        assert_eq!(
            (table.version(), totals(&table).unwrap().files),
            (Some(11), 11)
        );
        assert_eq!(sum(&dir, None).await.unwrap(), 66);
    }

    #[test]
    fn the_survey_invitation_rules_bound_the_interactions_rewritten() {
        use crate::surveys::tests::{rule, survey};

        let (_dir, db) = crate::ops::temp_db();
        db.add_survey("t", &survey("After check-in")).unwrap();
        db.add_survey_rule("t", &rule("next day", "After check-in"), Some(5))
            .unwrap();
        db.add_survey_rule("t", &rule("from the start", "After check-in"), None)
            .unwrap();
        assert_eq!(
            evaluated_by_rules(&db, Table::Interactions).unwrap(),
            Some(5)
        );
        assert_eq!(evaluated_by_rules(&db, Table::Responses).unwrap(), None);
    }

    #[tokio::test]
    async fn one_rewrite_at_a_time() {
        let tmp = tempfile::tempdir().unwrap();
        let (folder, _) = DataFolder::create(tmp.path().join("data")).unwrap();
        crate::tables::create_all(&folder).await.unwrap();
        let held = rewrite_lock(&folder).unwrap();
        let e = optimize(&folder, None, None, "t").await.unwrap_err();
        assert!(
            matches!(&e, StoreError::Busy(m) if m.contains("rewriting")),
            "{e}"
        );
        drop(held);
        assert_eq!(optimize(&folder, None, None, "t").await.unwrap().len(), 6);
    }
}
