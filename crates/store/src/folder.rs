//! The data folder: where a cxray installation keeps its tables and state.
//!
//! Layout: `cxray.json` (format marker), `tables/<name>/` (one Delta table per event
//! table), `cxray.db` (the operational SQLite database), `rejects/` (rows set aside by
//! `--skip-bad-rows`), `wal/` (the ingestion API's write-ahead log), and for a demo world
//! `truth.json`. Lock files keep one process at a time where that matters.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};

use cxray_core::domain::Table;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::{Result, StoreError};

/// The layout version this build writes and reads.
pub const FORMAT: u32 = 1;
const MARKER: &str = "cxray.json";

#[derive(Debug, Serialize, Deserialize)]
struct Marker {
    format: u32,
    written_by: String,
}

/// An opened, existing data folder of a format this build understands.
#[derive(Debug, Clone)]
pub struct DataFolder {
    root: PathBuf,
}

impl DataFolder {
    /// Opens an existing data folder, refusing a missing one or one written by a newer
    /// version of cxray.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root = absolute(root.into())?;
        let marker_path = root.join(MARKER);
        if !root.is_dir() {
            return Err(StoreError::Folder(format!(
                "data folder {} does not exist: create it with `cxray init` or `cxray demo`",
                root.display()
            )));
        }
        let text = std::fs::read_to_string(&marker_path).map_err(|_| {
            StoreError::Folder(format!(
                "{} is not a cxray data folder (no {MARKER}): create one with `cxray init`",
                root.display()
            ))
        })?;
        let marker: Marker = serde_json::from_str(&text)
            .map_err(|e| StoreError::Folder(format!("{}: {e}", marker_path.display())))?;
        if marker.format > FORMAT {
            return Err(StoreError::Folder(format!(
                "data folder {} was written by cxray {} (format {}); this cxray {} reads format {FORMAT}: upgrade cxray",
                root.display(),
                marker.written_by,
                marker.format,
                env!("CARGO_PKG_VERSION"),
            )));
        }
        Ok(DataFolder { root })
    }

    /// Creates the folder layout if it is not there yet (the tables and the operational
    /// database are created by [`crate::tables::create_all`] and [`crate::ops::OpsDb`]).
    /// Returns the folder and whether it was newly created.
    pub fn create(root: impl Into<PathBuf>) -> Result<(Self, bool)> {
        let root = absolute(root.into())?;
        if root.join(MARKER).exists() {
            return Ok((DataFolder::open(root)?, false));
        }
        if root.is_dir()
            && std::fs::read_dir(&root)
                .map_err(|e| StoreError::io(&root, e))?
                .next()
                .is_some()
        {
            return Err(StoreError::Folder(format!(
                "{} exists and is not empty, but is not a cxray data folder: choose another data folder",
                root.display()
            )));
        }
        std::fs::create_dir_all(root.join("tables")).map_err(|e| StoreError::io(&root, e))?;
        let marker = Marker {
            format: FORMAT,
            written_by: env!("CARGO_PKG_VERSION").into(),
        };
        let path = root.join(MARKER);
        std::fs::write(&path, serde_json::to_string_pretty(&marker)?)
            .map_err(|e| StoreError::io(&path, e))?;
        Ok((DataFolder { root }, true))
    }

    /// The folder's absolute path.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where a table's Delta files live.
    pub fn table_dir(&self, table: Table) -> PathBuf {
        self.named_table_dir(table.name())
    }

    /// The table's location as a URL, for Delta Lake.
    pub fn table_url(&self, table: Table) -> Url {
        Url::from_directory_path(self.table_dir(table)).expect("absolute path")
    }

    /// Where the Delta files of the table called `name` live (event tables and tables
    /// cxray derives from them, such as `customer_value`).
    pub fn named_table_dir(&self, name: &str) -> PathBuf {
        self.root.join("tables").join(name)
    }

    /// The operational database file.
    pub fn ops_db_path(&self) -> PathBuf {
        self.root.join("cxray.db")
    }

    /// Where rows set aside by `--skip-bad-rows` are written.
    pub fn rejects_dir(&self) -> PathBuf {
        self.root.join("rejects")
    }

    /// The ingestion API's write-ahead log: one folder of segments per table.
    pub fn wal_dir(&self) -> PathBuf {
        self.root.join("wal")
    }

    /// The demo world's truth file.
    pub fn truth_path(&self) -> PathBuf {
        self.root.join("truth.json")
    }
}

fn absolute(path: PathBuf) -> Result<PathBuf> {
    std::path::absolute(&path).map_err(|e| StoreError::io(&path, e))
}

/// Takes the exclusive lock of the file at `path` (created when missing), held until the
/// file is dropped; `held` is the error when another process holds it.
pub(crate) fn lock(path: &Path, held: impl FnOnce() -> StoreError) -> Result<File> {
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| StoreError::io(path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(held()),
        Err(TryLockError::Error(e)) => Err(StoreError::io(path, e)),
    }
}
