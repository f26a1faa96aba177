//! Making Delta commits durable: the local file system's object store writes files
//! without syncing them, so before the write-ahead log a commit covers is removed, the
//! commit's data files, its log entry and their folders are synced. On object storage a
//! written object is durable once the store has answered, so there is nothing to sync.

use std::path::Path;

use cxray_core::domain::Table;
use deltalake_core::DeltaTable;

use crate::folder::DataFolder;
use crate::{Result, StoreError};

/// Syncs the files of the table's commit `version`.
pub(crate) fn commit(folder: &DataFolder, table: Table, version: u64) -> Result<()> {
    if folder.remote_url().is_some() {
        return Ok(());
    }
    commit_in(&folder.table_dir(table), version)
}

/// Syncs the files of commit `version` of the Delta table in `dir`.
pub(crate) fn commit_in(dir: &Path, version: u64) -> Result<()> {
    let log = log_entry(dir, version);
    let text = std::fs::read_to_string(&log).map_err(|e| StoreError::io(&log, e))?;
    let base = url::Url::from_directory_path(dir).expect("absolute path");
    for line in text.lines() {
        let action: serde_json::Value = serde_json::from_str(line)?;
        let Some(path) = action["add"]["path"].as_str() else {
            continue;
        };
        let file = base
            .join(path)
            .ok()
            .and_then(|u| u.to_file_path().ok())
            .ok_or_else(|| StoreError::Input(format!("{}: bad path {path}", log.display())))?;
        file_data(&file)?;
    }
    file_data(&log)?;
    super::wal::sync_dir(dir)?;
    super::wal::sync_dir(&dir.join("_delta_log"))
}

/// The newest commit, from `latest` back while log entries remain, whose application
/// transaction `app_id` has version `position`.
pub(crate) async fn recording(
    delta: &DeltaTable,
    latest: u64,
    app_id: &str,
    position: u64,
) -> Option<u64> {
    let log = delta.log_store();
    for v in (0..=latest).rev() {
        let entry = log.read_commit_entry(v).await.ok()??;
        let text = String::from_utf8_lossy(&entry);
        let found = text.lines().any(|line| {
            let action: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
            action["txn"]["appId"] == app_id && action["txn"]["version"] == position
        });
        if found {
            return Some(v);
        }
    }
    None
}

fn log_entry(dir: &Path, version: u64) -> std::path::PathBuf {
    dir.join("_delta_log").join(format!("{version:020}.json"))
}

fn file_data(path: &Path) -> Result<()> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| StoreError::io(path, e))
}
