//! `cxray serve`: the web application.

use std::net::SocketAddr;

use anyhow::Context;
use cxray_store::DataFolder;

use crate::config::Config;

/// Serves the configured data folder until Ctrl-C or SIGTERM.
pub async fn run(config: &Config, bind: Option<SocketAddr>) -> anyhow::Result<()> {
    let folder = super::folder(config)?;
    serve(folder, bind.unwrap_or(config.bind)).await
}

/// Binds, prints the URL, and serves until Ctrl-C or SIGTERM.
pub async fn serve(folder: DataFolder, bind: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    let addr = listener.local_addr()?;
    println!(
        "serving {} at http://{addr}/ (Ctrl-C to stop)",
        folder.root().display()
    );
    cxray_server::serve(listener, folder, shutdown()).await?;
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
