//! cxray's storage layer: the data folder, its Delta Lake event tables, the importers and
//! ingestion, a DataFusion session over the tables, housekeeping, and the embedded
//! operational database (SQLite) with accounts. The analyses are in `cxray-analysis`.

pub mod accounts;
pub mod cases;
#[cfg(feature = "cluster")]
pub mod cluster;
pub mod db;
pub mod decode;
pub mod edits;
pub mod engine;
pub mod erased;
mod error;
pub mod folder;
pub mod import;
pub mod ingest;
pub mod initiatives;
pub mod lease;
pub mod maintenance;
pub mod ops;
pub mod outbox;
pub mod reports;
pub mod schema;
pub mod sql;
pub mod storage;
pub mod surveys;
pub mod tables;
pub mod targets;
pub mod taxonomy;
pub mod webhooks;

pub use error::{CoreError, ErrorKind, Result, StorageError, StoreError};
pub use folder::DataFolder;

/// Re-exported so that callers use the same Arrow and DataFusion as the store.
pub use datafusion;
