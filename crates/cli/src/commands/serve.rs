//! `cxray serve`: the web application.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use cxray_server::ServerOptions;
use cxray_server::snapshot::AnalysisSettings;
use cxray_store::DataFolder;
use cxray_store::schema::Limits;
use cxray_store::settings::ProductSettings;

use crate::args::{AnalysisArgs, ServeArgs};
use crate::config::Config;

/// Serves the configured data folder until Ctrl-C or SIGTERM.
pub async fn run(config: &Config, args: ServeArgs) -> anyhow::Result<()> {
    let folder = super::folder(config)?;
    let limits = Limits {
        attributes: args.max_attributes.unwrap_or(config.limits.attributes),
        keys_per_row: args.max_keys_per_row.unwrap_or(config.limits.keys_per_row),
    };
    let options = options(config, &args.analysis, limits);
    serve(folder, args.bind.unwrap_or(config.bind), options).await
}

/// The server's options from the config, the command line and what ingested rows may add.
pub fn options(config: &Config, args: &AnalysisArgs, limits: Limits) -> ServerOptions {
    let mut options = ServerOptions {
        analysis: AnalysisSettings {
            product: ProductSettings {
                resamples: args.resamples,
                ..ProductSettings::default()
            },
            ..AnalysisSettings::default()
        },
        refresh_every: Duration::from_secs(args.refresh_seconds.max(1)),
        trusted_proxies: config.trusted_proxies.clone(),
        ..ServerOptions::default()
    };
    options.ingest.limits = limits;
    options
}

/// Binds, prints the URL, and serves until Ctrl-C or SIGTERM.
pub async fn serve(
    folder: DataFolder,
    bind: SocketAddr,
    options: ServerOptions,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    let addr = listener.local_addr()?;
    println!(
        "serving {} at http://{addr}/ (Ctrl-C to stop)",
        folder.root().display()
    );
    cxray_server::serve(listener, folder, options, shutdown()).await?;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
