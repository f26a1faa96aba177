//! `cxray backup` and `cxray restore`: a consistent copy of a data folder, taken while
//! the server may be running, and bringing it back into a new folder.
//!
//! A backup is itself a data folder (plus `backup.json`, what it holds). It is taken in
//! the order that loses no acknowledged row: first the write-ahead log, then every table
//! at its latest version (the log up to that version, the files it references and the
//! removed files still present, for time travel), then the operational database (SQLite's
//! online `VACUUM INTO`). The committer removes a log segment only after the commit
//! covering it, so a batch acknowledged before the backup began is in the copied log or
//! in a table version no older than the one the log was copied with; the server started
//! on a restored folder commits the batches beyond each table's position, once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use futures::TryStreamExt;
use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};

use super::check::{Report, check};
use super::{empty_target, open_dir, table_dirs};
use crate::folder::DataFolder;
use crate::{Result, StoreError};

/// The file in a backup that says what it holds.
pub const MANIFEST: &str = "backup.json";

/// What a backup holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub taken_at: String,
    pub written_by: String,
    /// Every table's version in the backup.
    pub tables: BTreeMap<String, u64>,
    pub files: usize,
    pub bytes: u64,
}

/// Files copied so far.
#[derive(Default)]
struct Copier {
    files: usize,
    bytes: u64,
}

impl Copier {
    /// Copies `from` to `to` (creating folders, syncing the copy); false when `from` is
    /// not there.
    fn copy(&mut self, from: &Path, to: &Path) -> Result<bool> {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| StoreError::io(parent, e))?;
        }
        match std::fs::copy(from, to) {
            Ok(n) => {
                std::fs::File::open(to)
                    .and_then(|f| f.sync_all())
                    .map_err(|e| StoreError::io(to, e))?;
                (self.files, self.bytes) = (self.files + 1, self.bytes + n);
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(StoreError::io(from, e)),
        }
    }

    /// Copies a file that must be there.
    fn copy_required(&mut self, from: &Path, to: &Path) -> Result<()> {
        match self.copy(from, to)? {
            true => Ok(()),
            false => Err(StoreError::Folder(format!("{} is missing", from.display()))),
        }
    }

    /// Copies the files under `from` to `to`, leaving out the names `skip` lists.
    fn copy_tree(&mut self, from: &Path, to: &Path, skip: &[&str]) -> Result<()> {
        let Ok(entries) = std::fs::read_dir(from) else {
            return Ok(());
        };
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io(from, e))?;
            let name = entry.file_name();
            if skip.iter().any(|s| name == *s) {
                continue;
            }
            let (source, target) = (entry.path(), to.join(&name));
            match source.is_dir() {
                true => self.copy_tree(&source, &target, skip)?,
                false => {
                    self.copy(&source, &target)?;
                }
            }
        }
        Ok(())
    }
}

/// Takes a backup of `folder` into `target`, a new or empty folder.
pub async fn backup(folder: &DataFolder, target: &Path) -> Result<Manifest> {
    folder.local_only("cxray backup")?;
    folder.sqlite_only("cxray backup")?;
    let target = empty_target(target)?;
    let mut copier = Copier::default();
    let root = folder.root();
    copier.copy_required(&root.join("cxray.json"), &target.join("cxray.json"))?;
    copier.copy_tree(&folder.wal_dir(), &target.join("wal"), &["LOCK"])?;
    let mut tables = BTreeMap::new();
    for (name, dir) in table_dirs(folder) {
        let to = target.join("tables").join(&name);
        tables.insert(name, copy_table(&dir, &to, &mut copier).await?);
    }
    copy_ops_db(&folder.ops_db_path(), &target.join("cxray.db"))?;
    copier.copy_tree(&folder.rejects_dir(), &target.join("rejects"), &[])?;
    copier.copy(&folder.truth_path(), &target.join("truth.json"))?;
    let manifest = Manifest {
        taken_at: crate::ops::now_text(),
        written_by: env!("CARGO_PKG_VERSION").into(),
        tables,
        files: copier.files,
        bytes: copier.bytes,
    };
    let path = target.join(MANIFEST);
    std::fs::write(&path, serde_json::to_string_pretty(&manifest)?)
        .map_err(|e| StoreError::io(&path, e))?;
    Ok(manifest)
}

/// Copies the table in `dir` at its latest version to `to`; returns the version.
async fn copy_table(dir: &Path, to: &Path, copier: &mut Copier) -> Result<u64> {
    let t = open_dir(dir).await?;
    let version = t.version().unwrap_or(0);
    let snapshot = t.snapshot()?;
    for file in snapshot.log_data().iter() {
        let path = file.path();
        copier.copy_required(&dir.join(&*path), &to.join(&*path))?;
    }
    let removed: Vec<String> = snapshot
        .all_tombstones(t.log_store().as_ref())
        .map_ok(|r| r.path().into_owned())
        .try_collect()
        .await?;
    for path in removed {
        copier.copy(&dir.join(&path), &to.join(&path))?;
    }
    for (from, name) in log_entries(&dir.join("_delta_log"), version)? {
        copier.copy(&from, &to.join("_delta_log").join(name))?;
    }
    Ok(version)
}

/// The files of a Delta log that belong to versions up to `version`: commits,
/// checkpoints, checksums, and the last-checkpoint hint when it points no further.
fn log_entries(log: &Path, version: u64) -> Result<Vec<(PathBuf, String)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(log).map_err(|e| StoreError::io(log, e))? {
        let path = entry.map_err(|e| StoreError::io(log, e))?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let entry_version = match &*name {
            "_last_checkpoint" => last_checkpoint_version(&path),
            _ => name.get(..20).and_then(|v| v.parse::<u64>().ok()),
        };
        if path.is_file() && entry_version.is_some_and(|v| v <= version) {
            let name = name.into_owned();
            found.push((path, name));
        }
    }
    Ok(found)
}

fn last_checkpoint_version(path: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str::<serde_json::Value>(&text).ok()?["version"].as_u64()
}

/// A consistent copy of the operational database while others may write to it.
fn copy_ops_db(from: &Path, to: &Path) -> Result<()> {
    let conn = Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.execute("VACUUM INTO ?1", [to.to_string_lossy().into_owned()])?;
    Ok(())
}

/// Brings the backup in `backup` back into `target`, a new or empty folder, and checks
/// the result.
pub async fn restore(backup: &Path, target: &Path) -> Result<Report> {
    let source = DataFolder::open(backup)?;
    if !source.root().join(MANIFEST).is_file() {
        return Err(StoreError::Input(format!(
            "{} is not a cxray backup (no {MANIFEST}): make one with `cxray backup`",
            source.root().display()
        )));
    }
    let target = empty_target(target)?;
    Copier::default().copy_tree(source.root(), &target, &[MANIFEST])?;
    Ok(check(&DataFolder::open(&target)?).await)
}
