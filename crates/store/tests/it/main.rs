//! Integration tests of the store against real files, real Delta tables and a real
//! SQLite database, in temporary folders.

mod demo;
mod folder;
mod import;
mod import_fuzz;
mod journey;
mod loyalty;
mod metrics;

use std::collections::BTreeMap;
use std::path::PathBuf;

use cxray_core::domain::Table;
use cxray_store::datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use cxray_store::sql::Sql;
use cxray_store::{DataFolder, tables};
use tempfile::TempDir;

/// A new, initialised data folder in a temporary directory.
pub async fn fresh() -> (TempDir, DataFolder) {
    let dir = tempfile::tempdir().unwrap();
    let (folder, created) = DataFolder::create(dir.path().join("data")).unwrap();
    assert!(created);
    tables::create_all(&folder).await.unwrap();
    (dir, folder)
}

/// The shared CDNOW files.
pub fn cdnow(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/cdnow")
        .join(name)
}

/// Every table's current version.
pub async fn versions(folder: &DataFolder) -> Vec<u64> {
    let mut v = Vec::new();
    for t in Table::ALL {
        v.push(
            tables::open(folder, t, None)
                .await
                .unwrap()
                .version()
                .unwrap(),
        );
    }
    v
}

/// A query's result as rows of text cells.
pub async fn query(folder: &DataFolder, sql: &str) -> Vec<Vec<String>> {
    query_as_of(folder, &BTreeMap::new(), sql).await
}

/// A query's result as rows of text cells, with some tables at earlier versions.
pub async fn query_as_of(
    folder: &DataFolder,
    versions: &BTreeMap<Table, u64>,
    sql: &str,
) -> Vec<Vec<String>> {
    let (_, batches) = Sql::open(folder, versions)
        .await
        .unwrap()
        .query(sql)
        .await
        .unwrap();
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for b in &batches {
        let f: Vec<_> = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap())
            .collect();
        for r in 0..b.num_rows() {
            rows.push(f.iter().map(|f| f.value(r).to_string()).collect());
        }
    }
    rows
}
