//! `cxray vacuum`: removing the data files no table version within the retention needs.
//!
//! deltalake's vacuum in full mode removes both kinds: files that a commit removed
//! (tombstones) more than the retention ago, and files no commit ever added (the orphans of
//! an import or an ingestion commit that failed or was killed) last modified more than the
//! retention ago. The age guard on orphans is what keeps the files of an import still
//! running: with a retention shorter than the longest import, vacuum while none runs.

use std::path::Path;
use std::time::Duration;

use deltalake_core::operations::vacuum::VacuumMode;
use serde::Serialize;

use super::{keeping_made_by, open_dir, table_dirs};
use crate::folder::DataFolder;
use crate::{Result, StoreError};

/// What a vacuum did to one table.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Vacuumed {
    pub table: String,
    /// The table's version after the vacuum (a vacuum that removes files commits twice).
    pub version: u64,
    pub files_deleted: usize,
}

/// Vacuums every table in the folder, keeping what versions younger than `retain` need.
pub async fn vacuum(folder: &DataFolder, retain: Duration) -> Result<Vec<Vacuumed>> {
    folder.local_only("cxray vacuum")?;
    let mut done = Vec::new();
    for (name, dir) in table_dirs(folder) {
        let files_deleted = vacuum_table(&dir, retain, retain).await?;
        let version = open_dir(&dir).await?.version().unwrap_or(0);
        done.push(Vacuumed {
            table: name,
            version,
            files_deleted,
        });
    }
    Ok(done)
}

/// Vacuums the table in `dir`: files removed from it more than `removed` ago, and files
/// it never added last modified more than `orphans` ago. Returns how many it deleted.
pub(crate) async fn vacuum_table(
    dir: &Path,
    removed: Duration,
    orphans: Duration,
) -> Result<usize> {
    let mut deleted = 0;
    if removed < orphans {
        deleted += pass(dir, removed, VacuumMode::Lite).await?;
    }
    Ok(deleted + pass(dir, orphans.max(removed), VacuumMode::Full).await?)
}

/// One deltalake vacuum, keeping the table's provenance record on its latest commit.
async fn pass(dir: &Path, retain: Duration, mode: VacuumMode) -> Result<usize> {
    let retention = chrono::Duration::from_std(retain)
        .map_err(|_| StoreError::Input(format!("retention {retain:?} is too long")))?;
    let table = open_dir(dir).await?;
    let properties = keeping_made_by(&table).await?;
    let (_, metrics) = table
        .vacuum()
        .with_mode(mode)
        .with_retention_period(retention)
        .with_enforce_retention_duration(false)
        .with_commit_properties(properties)
        .await?;
    Ok(metrics.files_deleted.len())
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;
    use std::time::SystemTime;

    use datafusion::arrow::array::{Int64Array, RecordBatch};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::prelude::SessionContext;
    use deltalake_core::DeltaTable;
    use deltalake_core::protocol::SaveMode;

    use super::*;

    fn schema() -> Arc<Schema> {
        Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]))
    }

    /// A table in `dir` written twice: version 1 holds 1, 2, 3; version 2 replaces them
    /// with 4, 5 (the files of version 1 become tombstones).
    pub(crate) async fn two_versions(dir: &Path) {
        crate::tables::create_in(dir, "t", &schema()).await.unwrap();
        for (values, mode) in [
            (vec![1, 2, 3], SaveMode::Append),
            (vec![4, 5], SaveMode::Overwrite),
        ] {
            let batch = RecordBatch::try_new(schema(), vec![Arc::new(Int64Array::from(values))]);
            open_dir(dir)
                .await
                .unwrap()
                .write([batch.unwrap()])
                .with_save_mode(mode)
                .await
                .unwrap();
        }
    }

    /// The Parquet files in `dir`.
    pub(crate) fn data_files(dir: &Path) -> BTreeSet<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".parquet"))
            .collect()
    }

    /// The sum of `n` read from the data files at `version` (latest when `None`).
    pub(crate) async fn sum(dir: &Path, version: Option<u64>) -> Result<i64> {
        let url = url::Url::from_directory_path(dir).unwrap();
        let mut t = DeltaTable::try_from_url(url).await?;
        match version {
            Some(v) => t.load_version(v).await?,
            None => t.load().await?,
        }
        let ctx = SessionContext::new();
        t.update_datafusion_session(&ctx.state())?;
        ctx.register_table("t", t.table_provider().await?)?;
        let batches = ctx
            .sql("SELECT sum(n) AS s FROM t")
            .await?
            .collect()
            .await?;
        let sum = crate::decode::Columns::new(&batches[0]).int("s")?.i64(0);
        Ok(sum.unwrap())
    }

    /// Copies a data file of the table to an orphan `name`, last modified `age` ago.
    fn orphan(dir: &Path, name: &str, age: Duration) {
        let source = data_files(dir).into_iter().next().unwrap();
        std::fs::copy(dir.join(source), dir.join(name)).unwrap();
        let file = std::fs::File::options()
            .write(true)
            .open(dir.join(name))
            .unwrap();
        file.set_modified(SystemTime::now() - age).unwrap();
    }

    #[tokio::test]
    async fn orphans_and_tombstones_go_after_the_retention_and_time_travel_within_it_stays() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("t");
        two_versions(&dir).await;
        let hour = Duration::from_secs(3600);
        orphan(&dir, "part-old-orphan.parquet", 48 * hour);
        orphan(&dir, "part-new-orphan.parquet", Duration::ZERO);
        let before = data_files(&dir);
        assert_eq!(before.len(), 4, "{before:?}");

        assert_eq!(vacuum_table(&dir, 24 * hour, 24 * hour).await.unwrap(), 1);
        let after = data_files(&dir);
        assert!(!after.contains("part-old-orphan.parquet"), "{after:?}");
        assert!(after.contains("part-new-orphan.parquet"), "{after:?}");
        assert_eq!(
            sum(&dir, Some(1)).await.unwrap(),
            6,
            "time travel within the retention"
        );
        assert_eq!(sum(&dir, None).await.unwrap(), 9);

        assert_eq!(
            vacuum_table(&dir, Duration::ZERO, Duration::ZERO)
                .await
                .unwrap(),
            2
        );
        assert_eq!(data_files(&dir).len(), 1);
        assert_eq!(sum(&dir, None).await.unwrap(), 9);
        assert!(
            sum(&dir, Some(1)).await.is_err(),
            "version 1's files are gone"
        );
    }
}
