//! The object stores of a cluster's processes.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::common::{DataFusionError, Result};
use datafusion::execution::object_store::{DefaultObjectStoreRegistry, ObjectStoreRegistry};
use object_store::ObjectStore;
use url::Url;

use crate::storage;

/// The stores registered, and a store of object storage (`s3://`, `gs://`, `az://`) built
/// on first use from the environment's credentials and endpoint, as a data folder's
/// store is built: a scheduler and its executors read the buckets their environment
/// allows, with nothing registered by name.
#[derive(Debug, Default)]
pub(crate) struct Stores {
    known: DefaultObjectStoreRegistry,
}

impl Stores {
    /// Registers the store `build` makes for `url` unless one is registered already, so
    /// its clients (and their connections) are kept for the process's later sessions.
    pub(crate) fn register_new<E>(
        &self,
        url: &Url,
        build: impl FnOnce() -> std::result::Result<Arc<dyn ObjectStore>, E>,
    ) -> std::result::Result<(), E> {
        if self.known.get_store(url).is_err() {
            self.known.register_store(url, build()?);
        }
        Ok(())
    }
}

impl ObjectStoreRegistry for Stores {
    fn register_store(
        &self,
        url: &Url,
        store: Arc<dyn ObjectStore>,
    ) -> Option<Arc<dyn ObjectStore>> {
        self.known.register_store(url, store)
    }

    fn deregister_store(&self, url: &Url) -> Result<Arc<dyn ObjectStore>> {
        self.known.deregister_store(url)
    }

    fn get_store(&self, url: &Url) -> Result<Arc<dyn ObjectStore>> {
        if let Ok(store) = self.known.get_store(url) {
            return Ok(store);
        }
        if !storage::SCHEMES.contains(&url.scheme()) {
            return self.known.get_store(url);
        }
        let options = HashMap::new();
        let (store, _) = storage::build(url, &options, storage::retry(&options))
            .map_err(|e| DataFusionError::ObjectStore(Box::new(e)))?;
        self.known.register_store(url, store.clone());
        Ok(store)
    }
}
