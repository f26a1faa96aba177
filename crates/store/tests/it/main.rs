//! Integration tests of the store against real files, real Delta tables and a real
//! SQLite database, in temporary folders.

mod common;
mod folder;
mod import;
mod import_fuzz;
mod optimize;
mod recent;

use cxray_core::domain::Table;
use cxray_store::{DataFolder, tables};

pub use common::{cdnow, fresh, query, query_as_of};

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
