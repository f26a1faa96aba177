//! Sessions whose queries over the tables run on a cluster.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use ballista_core::extension::SessionConfigExt;
use ballista_core::optimizer::with_ballista_optimizer_rules;
use ballista_core::planner::BallistaQueryPlanner;
use datafusion::catalog::TableProvider;
use datafusion::config::TableParquetOptions;
use datafusion::datasource::empty::EmptyTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::physical_planner::DefaultPhysicalPlanner;
use datafusion::prelude::{SessionConfig, SessionContext};
use deltalake_core::DeltaTable;
use url::Url;

use super::planner::Planner;
use super::stores::Stores;
use crate::folder::DataFolder;
use crate::{Result, StoreError, storage};

/// The runtime of this process's cluster sessions and cluster processes, and its object
/// stores: the memory pool of `base` (so queries run here share one limit with the
/// embedded sessions'), and [`Stores`], which finds the object store of any file a plan
/// names.
pub(crate) fn runtime(base: &RuntimeEnv) -> Result<(Arc<RuntimeEnv>, Arc<Stores>)> {
    static RUNTIME: OnceLock<(Arc<RuntimeEnv>, Arc<Stores>)> = OnceLock::new();
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime.clone());
    }
    let stores = Arc::new(Stores::default());
    let runtime = RuntimeEnvBuilder::from_runtime_env(base)
        .with_object_store_registry(stores.clone())
        .build_arc()?;
    Ok(RUNTIME.get_or_init(|| (runtime, stores)).clone())
}

/// A session over `folder` whose queries that read the tables' files only run on the
/// cluster whose scheduler is at `scheduler` (`http://host:port`); the others run here.
pub(crate) fn context(
    folder: &DataFolder,
    scheduler: String,
    config: SessionConfig,
    base: &RuntimeEnv,
) -> Result<SessionContext> {
    let (runtime, stores) = runtime(base)?;
    register_folder_store(folder, &stores)?;
    let config = config.upgrade_for_ballista();
    let cluster = BallistaQueryPlanner::new(scheduler, config.ballista_config());
    let planner = Planner {
        cluster,
        here: DefaultPhysicalPlanner::default(),
        tables: folder.tables_url().to_string(),
    };
    let state = SessionStateBuilder::new()
        .with_default_features()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_query_planner(Arc::new(planner))
        .build();
    let rules = with_ballista_optimizer_rules(state.optimizers());
    let state = SessionStateBuilder::new_from_existing(state)
        .with_optimizer_rules(rules)
        .build();
    Ok(SessionContext::new_with_state(state).enable_url_table())
}

/// Registers the store of a data folder on object storage with its configured options
/// (once a process), for the queries that run here; the cluster's processes use their
/// environment's.
fn register_folder_store(folder: &DataFolder, stores: &Stores) -> Result<()> {
    let Some(url) = folder.remote_url() else {
        return Ok(());
    };
    let failed =
        |e: &dyn std::fmt::Display| StoreError::Cluster(format!("the object store of {url}: {e}"));
    let bucket = Url::parse(&format!(
        "{}://{}/",
        url.scheme(),
        url.host_str().unwrap_or("")
    ))
    .map_err(|e| failed(&e))?;
    stores.register_new(&bucket, || {
        let options: HashMap<String, String> = folder.store_options();
        storage::build(url, &options, storage::retry(&options))
            .map(|(store, _)| store)
            .map_err(|e| failed(&e))
    })
}

/// The table at its loaded version as the Parquet files it consists of, by URL, with the
/// Delta table's columns: a table the executors read without its log.
pub(crate) fn files(
    delta: &DeltaTable,
    schema: datafusion::arrow::datatypes::SchemaRef,
    config: &SessionConfig,
) -> Result<Arc<dyn TableProvider>> {
    let urls = delta
        .get_file_uris()?
        .map(|uri| ListingTableUrl::parse(&uri))
        .collect::<datafusion::common::Result<Vec<_>>>()?;
    if urls.is_empty() {
        return Ok(Arc::new(EmptyTable::new(schema)));
    }
    let parquet = TableParquetOptions {
        global: config.options().execution.parquet.clone(),
        ..Default::default()
    };
    let format = ParquetFormat::default().with_options(parquet);
    let options = ListingOptions::new(Arc::new(format)).with_file_extension(".parquet");
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(options)
        .with_schema(schema);
    Ok(Arc::new(ListingTable::try_new(config)?))
}
