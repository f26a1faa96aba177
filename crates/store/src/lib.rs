//! cxray's storage layer: the data folder, its Delta Lake event tables, the importers,
//! SQL over the tables (DataFusion), and the embedded operational database (SQLite).

pub mod accounts;
pub mod customer;
mod decode;
pub mod drivers;
pub mod erased;
mod error;
pub mod folder;
pub mod import;
pub mod ingest;
pub mod journey;
pub mod loyalty;
pub mod maintenance;
pub mod metrics;
pub mod ops;
pub mod schema;
pub mod scorecard;
pub mod settings;
pub mod snapshot;
pub mod sql;
pub mod tables;
pub mod targets;
pub mod world;

pub use error::{Result, StoreError};
pub use folder::DataFolder;

/// Re-exported so that callers use the same Arrow and DataFusion as the store.
pub use datafusion;
