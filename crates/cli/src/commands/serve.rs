//! `cxray serve`: the web application.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use cxray_analysis::settings::ProductSettings;
use cxray_server::ServerOptions;
use cxray_server::outbox::OutboxOptions;
use cxray_server::snapshot::AnalysisSettings;
use cxray_store::DataFolder;
use cxray_store::schema::Limits;

use crate::args::{AnalysisArgs, ServeArgs};
use crate::config::{Config, public_url, seconds};

/// Serves the configured data folder until Ctrl-C or SIGTERM.
pub async fn run(config: &Config, args: ServeArgs) -> anyhow::Result<()> {
    let folder = super::folder(config)?;
    let limits = Limits {
        attributes: args.max_attributes.unwrap_or(config.limits.attributes),
        keys_per_row: args.max_keys_per_row.unwrap_or(config.limits.keys_per_row),
    };
    let mut options = options(config, &args.analysis, limits);
    if let Some(rule) = args.erased_customers {
        options.ingest.erased_rows = rule;
    }
    if let Some(n) = args.min_group_size {
        options.min_group_size = n;
    }
    if let Some(s) = args.survey_grace_seconds {
        options.surveys.grace = Duration::from_secs(s);
    }
    if let Some(url) = args.advertise {
        options.lease.advertise = Some(public_url(&url, "--advertise").map_err(super::usage)?);
    }
    if let Some(s) = args.lease_seconds {
        options.lease.every = seconds(s, "--lease-seconds").map_err(super::usage)?;
    }
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
        min_group_size: config.min_group_size,
        outbox: OutboxOptions {
            mail: config.mail.clone(),
            chromium: config.chromium.clone(),
            every: config.reports_every,
            invitations: config.invitations.clone(),
        },
        ..ServerOptions::default()
    };
    options.surveys.grace = config.survey_grace;
    options.lease = config.lease.clone();
    options.ingest.limits = limits;
    options.ingest.erased_rows = config.erased_rows;
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
    let stop = shutdown()?;
    println!(
        "serving {} at http://{addr}/ (Ctrl-C to stop)",
        folder.location()
    );
    cxray_server::serve(listener, folder, options, stop).await?;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM. The handlers are installed now, before the URL is
/// printed, so a signal sent as soon as the server is announced stops it gracefully.
fn shutdown() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let (mut interrupt, mut term) = (
        signal(SignalKind::interrupt())?,
        signal(SignalKind::terminate())?,
    );
    Ok(async move {
        tokio::select! { _ = interrupt.recv() => {}, _ = term.recv() => {} }
    })
}
