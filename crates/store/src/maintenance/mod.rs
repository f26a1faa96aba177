//! Housekeeping of a data folder: `vacuum` (files no version within the retention
//! needs), `optimize` (few large, clustered files and a checkpoint), `check` (what is
//! wrong), `backup` and `restore` (a consistent copy, taken while the server may run).

pub mod backup;
pub mod check;
pub mod forget;
pub mod optimize;
pub mod vacuum;

use std::fs::File;
use std::path::{Path, PathBuf};

use cxray_core::domain::Table;
use deltalake_core::DeltaTable;
use deltalake_core::kernel::transaction::CommitProperties;

use crate::folder::DataFolder;
use crate::tables::{DERIVED, made_by};
use crate::{Result, StoreError};

/// Every Delta table in the folder by name: the event tables and the derived tables
/// present.
pub(crate) fn table_dirs(folder: &DataFolder) -> Vec<(String, PathBuf)> {
    Table::ALL
        .iter()
        .map(|t| t.name())
        .chain(DERIVED.iter().copied())
        .map(|name| (name.to_string(), folder.named_table_dir(name)))
        .filter(|(_, dir)| dir.join("_delta_log").is_dir())
        .collect()
}

/// Takes the folder's rewrite lock, held until the file is dropped: `optimize` and
/// `forget` rewrite table files, and Delta (as delta-rs checks commits) does not see two
/// rewrites of the same files as a conflict, so one at a time.
pub(crate) fn rewrite_lock(folder: &DataFolder) -> Result<File> {
    let path = folder.root().join("tables").join("REWRITE.lock");
    crate::folder::lock(&path, || {
        StoreError::Busy(format!(
            "another `cxray optimize` or `cxray forget` is rewriting the tables of {}: run \
             this again when it has finished",
            folder.root().display()
        ))
    })
}

/// The Delta table in `dir` at its latest version.
pub(crate) async fn open_dir(dir: &Path) -> Result<DeltaTable> {
    let url = url::Url::from_directory_path(dir).expect("absolute path");
    let mut table = DeltaTable::try_from_url(url).await?;
    table.load().await?;
    Ok(table)
}

/// Makes sure `dir` is a new or empty folder, creating it: backups and restores never
/// write over anything.
pub(crate) fn empty_target(dir: &Path) -> Result<PathBuf> {
    let dir = std::path::absolute(dir).map_err(|e| StoreError::io(dir, e))?;
    let non_empty = dir.exists()
        && std::fs::read_dir(&dir)
            .map_err(|e| StoreError::io(&dir, e))?
            .next()
            .is_some();
    if non_empty || dir.is_file() {
        return Err(StoreError::Input(format!(
            "{} exists and is not empty: choose a new folder",
            dir.display()
        )));
    }
    std::fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
    Ok(dir)
}

/// Commit properties that keep a table's `cxray.made_by` record on its latest commit,
/// where a derived table's provenance is read from.
pub(crate) async fn keeping_made_by(t: &DeltaTable) -> Result<CommitProperties> {
    let record = made_by(t).await?;
    let kept = (!record.is_null()).then(|| ("cxray.made_by".to_string(), record));
    Ok(CommitProperties::default().with_metadata(kept))
}
