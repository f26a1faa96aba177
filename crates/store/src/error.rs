//! The store's error type and its kinds.

use std::path::Path;

use cxray_core::drivers::DriverError;
use cxray_core::initiatives::InitiativeError;
use cxray_core::models::ModelError;
use cxray_core::stats::StatsError;
use cxray_core::stats::weighting::WeightingError;
use serde::Serialize;

/// What kind of failure an error is: the CLI chooses its exit code and the server its
/// HTTP status by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The user's data or request is wrong.
    BadInput,
    /// Nothing to analyse for this selection.
    NoData,
    /// A model could not be fitted: no convergence, a singular matrix, a numeric failure.
    ModelFailed,
    /// I/O or an internal failure.
    Internal,
}

/// Everything that can go wrong in the store; [`StoreError::kind`] classifies it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Bad input: a file, a value, a setting. The message names where.
    #[error("{0}")]
    Input(String),
    /// Bad input in one field of a form or command (`field` is its stable id, e.g.
    /// `email`, `max_failure_rate`), so a form can show the message next to it.
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// Nothing to analyse for this selection (no customers, answers or trips).
    #[error("{0}")]
    NoData(String),
    /// A statistic or model of the core refused its data or failed. `context` is empty
    /// or ends in ": ".
    #[error("{context}{source}")]
    Analysis {
        context: String,
        #[source]
        source: CoreError,
    },
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
    /// The object store of a data folder on object storage: a bad location, a missing
    /// bucket, refused credentials, an unreachable endpoint.
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("delta table: {0}")]
    Delta(#[from] deltalake_core::DeltaTableError),
    #[error("query: {0}")]
    Query(#[from] datafusion::error::DataFusionError),
    #[error("arrow: {0}")]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
    #[error("operational database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("operational database: {0}")]
    Ops(#[from] crate::db::DbError),
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
    /// Another process changed what this was changing (a table's rewrite lost to a
    /// conflicting commit, or another rewrite holds the folder): nothing changed; run it
    /// again.
    #[error("{0}")]
    Busy(String),
    /// The Ballista cluster: its scheduler unreachable, or one of its processes failed.
    #[error("{0}")]
    Cluster(String),
    /// The system's random source or the password hash failed.
    #[error("{0}")]
    Crypto(String),
}

/// What went wrong with the object store of a data folder on object storage. Each
/// message names the data folder setting and its value.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Not a URL of object storage cxray can use.
    #[error("data folder {url}: {reason}")]
    BadUrl { url: String, reason: String },
    /// The bucket (or container) does not exist.
    #[error("data folder {url}: the bucket {bucket} does not exist: create it first")]
    NoBucket { url: String, bucket: String },
    /// The store refused the credentials.
    #[error(
        "data folder {url}: the object store refused the credentials (check \
         AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the config's [object_store]): {source}"
    )]
    Credentials {
        url: String,
        #[source]
        source: object_store::Error,
    },
    /// The endpoint did not answer.
    #[error("data folder {url}: cannot reach the object store: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: object_store::Error,
    },
    /// One of the others, with the command-line flags that set what it names.
    #[error("{source} ({flags})")]
    Hinted {
        flags: &'static str,
        source: Box<StorageError>,
    },
    /// What works on a local data folder only, so far.
    #[error("{what} works on a local data folder only, not yet on object storage ({url})")]
    Unsupported { what: &'static str, url: String },
}

impl StorageError {
    /// The error with the flags that set what it names (added once).
    pub fn with_hint(self, flags: &'static str) -> Self {
        match self {
            StorageError::Hinted { .. } => self,
            source => StorageError::Hinted {
                flags,
                source: Box::new(source),
            },
        }
    }

    /// Whether the object store could not be reached (rather than refusing the input).
    pub fn is_unreachable(&self) -> bool {
        match self {
            StorageError::Unreachable { .. } => true,
            StorageError::Hinted { source, .. } => source.is_unreachable(),
            _ => false,
        }
    }
}

/// An error of the core's statistics, models or driver analysis.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error(transparent)]
    Stats(#[from] StatsError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Driver(#[from] DriverError),
    #[error(transparent)]
    Initiative(#[from] InitiativeError),
    #[error(transparent)]
    Weighting(#[from] WeightingError),
}

/// The store's result type.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            StoreError::Input(_)
            | StoreError::Invalid { .. }
            | StoreError::Folder(_)
            | StoreError::BadCredentials
            | StoreError::RateLimited { .. } => ErrorKind::BadInput,
            StoreError::Storage(e) if e.is_unreachable() => ErrorKind::Internal,
            StoreError::Storage(_) => ErrorKind::BadInput,
            StoreError::NoData(_) => ErrorKind::NoData,
            StoreError::Analysis { source, .. } => source.kind(),
            StoreError::Query(e) if is_bad_query(e) => ErrorKind::BadInput,
            _ => ErrorKind::Internal,
        }
    }

    /// Bad input in `field`.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        StoreError::Invalid {
            field,
            message: message.into(),
        }
    }

    /// A core error as a store error.
    pub fn analysis(source: impl Into<CoreError>) -> Self {
        StoreError::Analysis {
            context: String::new(),
            source: source.into(),
        }
    }

    /// The error with `context` before its message, of the same kind.
    pub fn within(self, context: impl std::fmt::Display) -> Self {
        match self {
            StoreError::Analysis { context: c, source } => StoreError::Analysis {
                context: format!("{context}: {c}"),
                source,
            },
            StoreError::NoData(m) => StoreError::NoData(format!("{context}: {m}")),
            StoreError::Input(m) => StoreError::Input(format!("{context}: {m}")),
            e => e,
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

impl CoreError {
    /// Bad data or settings, too little data, or a model that failed on good data.
    fn kind(&self) -> ErrorKind {
        use ErrorKind::*;
        match self {
            CoreError::Stats(
                StatsError::NoData | StatsError::NoGroups | StatsError::OneClass { .. },
            ) => NoData,
            CoreError::Stats(StatsError::InvalidScore { .. } | StatsError::InvalidLevel(_)) => {
                BadInput
            }
            CoreError::Model(ModelError::InvalidData(_)) => BadInput,
            CoreError::Driver(e) => driver_kind(e),
            CoreError::Initiative(e) => initiative_kind(e),
            CoreError::Weighting(e) => weighting_kind(e),
            CoreError::Stats(_) | CoreError::Model(_) => ModelFailed,
        }
    }
}

fn initiative_kind(e: &InitiativeError) -> ErrorKind {
    match e {
        InitiativeError::NoRows => ErrorKind::NoData,
        InitiativeError::Collinear => ErrorKind::ModelFailed,
        InitiativeError::Stats(s) => CoreError::Stats(s.clone()).kind(),
        _ => ErrorKind::BadInput,
    }
}

fn weighting_kind(e: &WeightingError) -> ErrorKind {
    match e {
        WeightingError::NoInvited
        | WeightingError::NoResponders { .. }
        | WeightingError::EveryoneResponded { .. }
        | WeightingError::NothingVaries { .. } => ErrorKind::NoData,
        WeightingError::Model(d) => driver_kind(d),
        WeightingError::Stats(s) => CoreError::Stats(s.clone()).kind(),
        _ => ErrorKind::Internal,
    }
}

fn driver_kind(e: &DriverError) -> ErrorKind {
    match e {
        DriverError::TooFewRows { .. } | DriverError::ConstantOutcome => ErrorKind::NoData,
        DriverError::Collinear(_)
        | DriverError::Separation(_)
        | DriverError::Dropout(_)
        | DriverError::NotConverged { .. } => ErrorKind::ModelFailed,
        _ => ErrorKind::BadInput,
    }
}

/// A query the user wrote wrong (as opposed to one that failed running).
fn is_bad_query(e: &datafusion::error::DataFusionError) -> bool {
    matches!(
        e.find_root(),
        datafusion::error::DataFusionError::Plan(_)
            | datafusion::error::DataFusionError::SQL(..)
            | datafusion::error::DataFusionError::SchemaError(..)
    )
}
