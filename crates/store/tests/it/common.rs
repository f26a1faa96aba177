//! Helpers shared by the store's and the analysis layer's integration tests: fresh data
//! folders, the CDNOW files, query results as text.

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
