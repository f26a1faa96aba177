//! Object storage for the Delta tables: `s3://`, `gs://` and `az://` locations, through
//! the object stores the `object_store` crate already builds for DataFusion and Delta
//! Lake (no cloud SDK).
//!
//! Credentials, endpoint and region come from the usual environment variables
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`,
//! `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`; `GOOGLE_*`; `AZURE_*`), from the instance's or
//! container's role, and from the config file's `[object_store]` options, which win.
//! Two options are cxray's own: `retry_timeout_seconds` and `max_retries` (how long a
//! request to an unavailable store is retried before it fails).
//!
//! **Concurrent commits.** A Delta commit is the creation of `_delta_log/<version>.json`,
//! which must fail when another writer created it first. Delta Lake's default log store
//! writes the entry under a temporary name and then copies it into place "if not
//! exists": on S3 a multipart copy completed with `If-None-Match: *` (conditional write;
//! AWS S3 since 2024, MinIO, SeaweedFS 4, Cloudflare R2), on Google Cloud Storage and
//! Azure the stores' own preconditions. A store without conditional writes needs either
//! a store-specific header (`aws_copy_if_not_exists = "header:<name>:<value>"`) or a
//! single writer per table — the one server that ingests, and no import at the same
//! time — because two writers could both create the same version.

use std::collections::HashMap;
use std::sync::{Arc, Once};
use std::time::Duration;

use deltalake_core::logstore::{
    LogStore, LogStoreFactory, ObjectStoreFactory, ObjectStoreRef, StorageConfig, default_logstore,
    logstore_factories, object_store_factories,
};
use deltalake_core::{DeltaResult, DeltaTableError};
use object_store::aws::{AmazonS3Builder, S3CopyIfNotExists};
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::path::Path;
use object_store::{BackoffConfig, ObjectStoreScheme, RetryConfig};
use url::Url;

/// The URL schemes of object storage a data folder may be on.
pub const SCHEMES: &[&str] = &["s3", "s3a", "gs", "az", "abfs", "abfss"];

/// cxray's own options (the rest are the object stores' configuration keys).
const RETRY_TIMEOUT: &str = "retry_timeout_seconds";
const MAX_RETRIES: &str = "max_retries";

/// Registers the object stores of [`SCHEMES`] with Delta Lake (once per process).
pub fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let factory = Arc::new(Factory);
        for scheme in SCHEMES {
            let url = Url::parse(&format!("{scheme}://")).expect("a scheme");
            object_store_factories().insert(url.clone(), factory.clone());
            logstore_factories().insert(url, factory.clone());
        }
    });
}

struct Factory;

impl ObjectStoreFactory for Factory {
    fn parse_url_opts(
        &self,
        url: &Url,
        config: &StorageConfig,
    ) -> DeltaResult<(ObjectStoreRef, Path)> {
        let retry = retry(&config.raw);
        build(url, &config.raw, retry).map_err(|e| DeltaTableError::GenericError {
            source: Box::new(e),
        })
    }
}

/// Delta Lake's default log store: commits by copy-if-not-exists (see the module's docs).
impl LogStoreFactory for Factory {
    fn with_options(
        &self,
        prefixed_store: ObjectStoreRef,
        root_store: ObjectStoreRef,
        location: &Url,
        options: &StorageConfig,
    ) -> DeltaResult<Arc<dyn LogStore>> {
        Ok(default_logstore(
            prefixed_store,
            root_store,
            location,
            options,
        ))
    }
}

/// How requests are retried: object_store's default (10 retries within 3 minutes) unless
/// the options say otherwise.
pub(crate) fn retry(options: &HashMap<String, String>) -> RetryConfig {
    let mut retry = RetryConfig::default();
    if let Some(s) = options
        .get(RETRY_TIMEOUT)
        .and_then(|v| v.parse::<f64>().ok())
    {
        retry.retry_timeout = Duration::from_secs_f64(s.max(0.0));
    }
    if let Some(n) = options.get(MAX_RETRIES).and_then(|v| v.parse().ok()) {
        retry.max_retries = n;
    }
    retry
}

/// A quick retry for checks at start: an unreachable store is reported in seconds.
pub(crate) fn probe_retry() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig::default(),
        max_retries: 2,
        retry_timeout: Duration::from_secs(5),
    }
}

/// The object store at the root of `url`'s bucket or container, and the path in it.
pub(crate) fn build(
    url: &Url,
    options: &HashMap<String, String>,
    retry: RetryConfig,
) -> object_store::Result<(ObjectStoreRef, Path)> {
    let (scheme, path) = ObjectStoreScheme::parse(url)?;
    // Options that are a store's configuration keys; cxray's own and the rest ignored.
    fn keys<K: std::str::FromStr>(
        options: &HashMap<String, String>,
    ) -> impl Iterator<Item = (K, &String)> {
        options
            .iter()
            .filter_map(|(k, v)| Some((k.to_ascii_lowercase().parse::<K>().ok()?, v)))
    }
    let store: ObjectStoreRef = match scheme {
        ObjectStoreScheme::AmazonS3 => {
            let mut b = AmazonS3Builder::from_env()
                .with_url(url.as_str())
                // The multipart copy completed with If-None-Match (see the module's docs);
                // an option `aws_copy_if_not_exists` replaces it.
                .with_copy_if_not_exists(S3CopyIfNotExists::Multipart);
            for (k, v) in keys(options) {
                b = b.with_config(k, v);
            }
            Arc::new(b.with_retry(retry).build()?)
        }
        ObjectStoreScheme::GoogleCloudStorage => {
            let mut b = GoogleCloudStorageBuilder::from_env().with_url(url.as_str());
            for (k, v) in keys(options) {
                b = b.with_config(k, v);
            }
            Arc::new(b.with_retry(retry).build()?)
        }
        ObjectStoreScheme::MicrosoftAzure => {
            let mut b = MicrosoftAzureBuilder::from_env().with_url(url.as_str());
            for (k, v) in keys(options) {
                b = b.with_config(k, v);
            }
            Arc::new(b.with_retry(retry).build()?)
        }
        _ => {
            return Err(object_store::Error::NotSupported {
                source: format!("{url}: not an object store URL").into(),
            });
        }
    };
    Ok((store, path))
}
