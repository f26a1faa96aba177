//! The cluster's scheduler and executor, embedded: `cxray cluster scheduler` and
//! `cxray cluster executor`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use ballista_core::config::TaskSchedulingPolicy;
use ballista_core::extension::SessionConfigExt;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::SessionConfig;

use super::session::runtime;
use crate::sql::{self, session_config};
use crate::{Result, StoreError};

/// Tasks are pulled by the executors: no address of theirs needs to be reachable from
/// the scheduler but their data port.
const POLICY: TaskSchedulingPolicy = TaskSchedulingPolicy::PullStaged;

/// The settings of every cluster session: cxray's, with Ballista's.
fn config() -> SessionConfig {
    session_config().upgrade_for_ballista()
}

/// Runs a scheduler on `bind` until it fails; `external_host` is the name executors
/// and clients reach it by.
pub async fn scheduler(bind: SocketAddr, external_host: String) -> Result<()> {
    let (runtime, _) = runtime(sql::runtime()?.as_ref())?;
    let mut settings = SchedulerConfig {
        bind_host: bind.ip().to_string(),
        bind_port: bind.port(),
        external_host,
        scheduling_policy: POLICY,
        ..SchedulerConfig::default()
    };
    settings = settings
        .with_override_config_producer(Arc::new(config))
        .with_override_session_builder(Arc::new(move |config: SessionConfig| {
            Ok(SessionStateBuilder::new()
                .with_default_features()
                .with_config(config)
                .with_runtime_env(runtime.clone())
                .build())
        }));
    let cluster = BallistaCluster::new_from_config(&settings)
        .await
        .map_err(failed("the scheduler"))?;
    start_server(cluster, bind, Arc::new(settings))
        .await
        .map_err(failed("the scheduler"))
}

/// Where an executor listens and which scheduler it works for.
#[derive(Debug, Clone)]
pub struct Executor {
    /// The scheduler's host and port.
    pub scheduler: (String, u16),
    /// The address it binds, its data (Arrow Flight) port and its gRPC port.
    pub bind_host: String,
    pub port: u16,
    pub grpc_port: u16,
    /// The name the scheduler and other executors reach it by (its bind address if none).
    pub external_host: Option<String>,
    /// The tasks it runs at once.
    pub cores: usize,
    /// Where it keeps the shuffle files of running jobs.
    pub work_dir: PathBuf,
}

/// Runs an executor until it fails.
pub async fn executor(e: Executor) -> Result<()> {
    let (base, _) = runtime(sql::runtime()?.as_ref())?;
    let settings = ExecutorProcessConfig {
        scheduler_host: e.scheduler.0,
        scheduler_port: e.scheduler.1,
        bind_host: e.bind_host,
        port: e.port,
        grpc_port: e.grpc_port,
        external_host: e.external_host,
        vcores: e.cores,
        work_dir: Some(e.work_dir.display().to_string()),
        task_scheduling_policy: POLICY,
        override_config_producer: Some(Arc::new(config)),
        override_runtime_producer: Some(Arc::new(move |_: &SessionConfig| Ok(base.clone()))),
        ..ExecutorProcessConfig::default()
    };
    start_executor_process(Arc::new(settings))
        .await
        .map_err(failed("the executor"))
}

fn failed(what: &'static str) -> impl Fn(ballista_core::error::BallistaError) -> StoreError {
    move |e| StoreError::Cluster(format!("{what}: {e}"))
}
