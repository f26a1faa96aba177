//! The store's error type.

use std::path::Path;

/// Everything that can go wrong in the store. [`StoreError::is_user_error`] separates
/// bad input or usage (exit code 2) from failures at run time (exit code 1).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Bad input: a file, a value, an option. The message names where.
    #[error("{0}")]
    Input(String),
    /// The data folder is missing, not a cxray folder, or from a newer version.
    #[error("{0}")]
    Folder(String),
    /// A file could not be read or written.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("delta table: {0}")]
    Delta(#[from] deltalake_core::DeltaTableError),
    #[error("query: {0}")]
    Query(#[from] datafusion::error::DataFusionError),
    #[error("arrow: {0}")]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
    #[error("operational database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A query's result could not be read as expected (a missing column, a type that
    /// cannot be cast): a defect, not bad input.
    #[error("reading a query result: {0}")]
    Decode(String),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// Sign-in refused: wrong email or password, or a disabled user.
    #[error("wrong email or password")]
    BadCredentials,
    /// Too many failed sign-ins for an email or from an address.
    #[error("too many failed sign-ins: try again in {minutes} minutes")]
    RateLimited { minutes: u64 },
    /// The system's random source or the password hash failed.
    #[error("{0}")]
    Crypto(String),
}

/// The store's result type.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    /// Whether the error is the user's input or usage (as opposed to a run-time failure).
    pub fn is_user_error(&self) -> bool {
        match self {
            StoreError::Input(_)
            | StoreError::Folder(_)
            | StoreError::BadCredentials
            | StoreError::RateLimited { .. } => true,
            StoreError::Query(e) => matches!(
                e.find_root(),
                datafusion::error::DataFusionError::Plan(_)
                    | datafusion::error::DataFusionError::SQL(..)
                    | datafusion::error::DataFusionError::SchemaError(..)
            ),
            _ => false,
        }
    }

    /// An I/O error with the path it concerns.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        StoreError::Io {
            context: path.display().to_string(),
            source,
        }
    }
}
