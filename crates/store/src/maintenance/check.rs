//! `cxray check`: whether the folder is whole. Every table opens at its latest version and
//! every data file that version references exists with the size the log records and a
//! readable Parquet footer; the operational database passes SQLite's integrity check; the
//! write-ahead log reads and each batch in it still validates (the server replays them at
//! startup). A torn end of the newest log segment is normal after a crash and not reported.

use std::path::Path;

use cxray_core::domain::Table;
use datafusion::parquet::file::serialized_reader::SerializedFileReader;
use deltalake_core::DeltaTable;
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

use super::{open_dir, table_dirs};
use crate::db::OpsLocation;
use crate::folder::DataFolder;
use crate::import::source::KeyLimits;
use crate::ingest::{validate, wal};

/// One thing wrong: where, and what.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Problem {
    pub place: String,
    pub problem: String,
}

/// What was checked and what is wrong.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Report {
    pub tables: usize,
    pub files: usize,
    pub log_batches: usize,
    pub problems: Vec<Problem>,
}

impl Report {
    fn problem(&mut self, place: impl std::fmt::Display, problem: impl std::fmt::Display) {
        self.problems.push(Problem {
            place: place.to_string(),
            problem: problem.to_string(),
        });
    }
}

/// Checks the folder (read only: safe while the server runs).
pub async fn check(folder: &DataFolder) -> Report {
    let mut report = Report::default();
    for table in Table::ALL {
        if !folder.table_dir(table).join("_delta_log").is_dir() {
            report.problem(format!("table {table}"), "missing: run `cxray init`");
        }
    }
    for (name, dir) in table_dirs(folder) {
        match open_dir(&dir).await {
            Ok(t) => table_files(&name, &dir, &t, &mut report),
            Err(e) => report.problem(format!("table {name}"), format!("not readable: {e}")),
        }
    }
    match folder.ops_location() {
        OpsLocation::Sqlite(path) => ops_db(&path, &mut report),
        OpsLocation::Postgres(_) => ops_server(folder, &mut report),
    }
    write_ahead_log(folder, &mut report);
    report
}

/// Checks every data file the table's latest version references.
fn table_files(name: &str, dir: &Path, t: &DeltaTable, report: &mut Report) {
    report.tables += 1;
    let version = t.version().unwrap_or(0);
    let Ok(snapshot) = t.snapshot() else {
        return report.problem(format!("table {name}"), "no snapshot");
    };
    for file in snapshot.log_data().iter() {
        report.files += 1;
        let path = dir.join(&*file.path());
        let place = format!("table {name} version {version}: {}", path.display());
        match std::fs::File::open(&path) {
            Err(e) => report.problem(place, format!("missing ({e})")),
            Ok(f) => match f.metadata().map(|m| m.len()) {
                Ok(size) if size != file.size() as u64 => {
                    report.problem(place, format!("{size} bytes, the log says {}", file.size()))
                }
                _ => {
                    if let Err(e) = SerializedFileReader::new(f) {
                        report.problem(place, format!("not readable Parquet: {e}"));
                    }
                }
            },
        }
    }
}

/// The operational database on PostgreSQL: reachable, at a schema this build knows.
fn ops_server(folder: &DataFolder, report: &mut Report) {
    if let Err(e) = folder.ops_db() {
        report.problem(format!("operational database {}", folder.ops_location()), e);
    }
}

/// SQLite's integrity check of the operational database.
fn ops_db(path: &Path, report: &mut Report) {
    let place = format!("operational database {}", path.display());
    if !path.is_file() {
        return report.problem(place, "missing: run `cxray init`");
    }
    match integrity_check(path) {
        Ok(lines) if lines == ["ok"] => {}
        Ok(lines) => report.problem(place, format!("integrity check: {}", lines.join("; "))),
        Err(e) => report.problem(place, e),
    }
}

fn integrity_check(path: &Path) -> rusqlite::Result<Vec<String>> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let mut stmt = conn.prepare("PRAGMA integrity_check")?;
    let lines = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(lines)
}

/// Reads every table's write-ahead log and validates its batches.
fn write_ahead_log(folder: &DataFolder, report: &mut Report) {
    for table in Table::ALL {
        let dir = folder.wal_dir().join(table.name());
        let place = format!("write-ahead log {}", dir.display());
        let records = match wal::inspect(&dir) {
            Ok((records, _)) => records,
            Err(e) => {
                report.problem(place, e);
                continue;
            }
        };
        report.log_batches += records.len();
        for r in records {
            let erased = &Default::default();
            if let Err(e) = validate::validate(table, &r.body, KeyLimits::UNLIMITED, erased) {
                report.problem(&place, format!("batch {}: {e}", r.seq));
            }
        }
    }
}
