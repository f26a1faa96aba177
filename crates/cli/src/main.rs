//! `cxray`: the command-line front end. It parses arguments, loads the config, calls the
//! store and the server, and prints results. Exit codes: 0 success, 1 failure at run
//! time, 2 bad usage or bad input, 3 no data to analyse, 4 a model that failed.

mod args;
mod choices;
mod commands;
mod config;
mod output;
mod progress;

use clap::Parser;
use cxray_analysis::snapshot::PartError;
use cxray_store::{ErrorKind, StoreError};

use crate::args::{Cli, Command};
use crate::config::Config;

fn main() {
    let cli = Cli::parse();
    let code = match run(cli) {
        Ok(()) => 0,
        // Output piped into a reader that stopped (`| head`): not a failure.
        Err(e) if is_broken_pipe(&e) => 0,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            exit_code(&e)
        }
    };
    std::process::exit(code);
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(
        cli.config.as_deref(),
        cli.data.clone(),
        cli.state.clone(),
        cli.ops.clone(),
        cli.engine.clone(),
    )
    .map_err(commands::usage)?;
    init_logging(&config.log);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Init => commands::init::run(&config, cli.json).await,
            Command::Import(args) => commands::import::run(&config, args, cli.json).await,
            Command::Sql(args) => commands::sql::run(&config, args, cli.json).await,
            Command::Tables => commands::tables::run(&config, cli.json).await,
            Command::Serve(args) => commands::serve::run(&config, args).await,
            Command::Cluster(command) => commands::cluster::run(command).await,
            Command::Demo(args) => commands::demo::run(&config, args, cli.json).await,
            Command::Loyalty(command) => commands::loyalty::run(&config, command, cli.json).await,
            Command::Metrics(args) => commands::metrics::run(&config, args, cli.json).await,
            Command::Compare(args) => commands::metrics::compare(&config, args, cli.json).await,
            Command::Link(args) => commands::metrics::link(&config, args, cli.json).await,
            Command::Drivers(args) => commands::drivers::run(&config, args, cli.json).await,
            Command::Initiative(command) => {
                commands::initiative::run(&config, command, cli.json).await
            }
            Command::Whatif(args) => commands::whatif::run(&config, args, cli.json).await,
            Command::Text(command) => commands::text::run(&config, command, cli.json).await,
            Command::Scorecard => commands::scorecard::run(&config, cli.json).await,
            Command::Report(args) => commands::report::run(&config, args, cli.json).await,
            Command::Journey(args) => commands::journey::journey(&config, args, cli.json).await,
            Command::Areas(args) => commands::journey::areas(&config, args, cli.json).await,
            Command::Owner(args) => commands::journey::owner(&config, args, cli.json).await,
            Command::Sla(args) => commands::journey::sla(&config, args, cli.json).await,
            Command::Touchpoint(args) => {
                commands::journey::placement(&config, args, cli.json).await
            }
            Command::User(command) => commands::users::user(&config, command, cli.json),
            Command::Token(command) => commands::users::token(&config, command, cli.json),
            Command::Target(command) => commands::targets::run(&config, command, cli.json),
            Command::Trigger(command) => commands::cases::trigger(&config, command, cli.json).await,
            Command::Cases(command) => commands::cases::cases(&config, command, cli.json).await,
            Command::Webhook(command) => commands::webhook::run(&config, command, cli.json),
            Command::Survey(command) => commands::survey::run(&config, command, cli.json).await,
            Command::Vacuum(args) => commands::maintenance::vacuum(&config, args, cli.json).await,
            Command::Optimize(args) => {
                commands::maintenance::optimize(&config, args, cli.json).await
            }
            Command::Check => commands::maintenance::check(&config, cli.json).await,
            Command::Backup(args) => commands::maintenance::backup(&config, args, cli.json).await,
            Command::Restore(args) => commands::maintenance::restore(&config, args, cli.json).await,
            Command::Forget(args) => commands::maintenance::forget(&config, args, cli.json).await,
        }
    })
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| "warn".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The error and its causes on one line, whatever the libraries' messages look like; a
/// cause its error's message already includes is not repeated.
fn one_line(e: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in e.chain().map(ToString::to_string) {
        if message.is_empty() {
            message = cause;
        } else if !message.contains(&cause) {
            message = format!("{message}: {cause}");
        }
    }
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// 2 for bad usage or input, 3 for no data to analyse, 4 for a model that failed, 1
/// otherwise.
fn exit_code(e: &anyhow::Error) -> i32 {
    let kind = e.chain().find_map(|c| {
        if c.is::<commands::UsageError>() {
            return Some(ErrorKind::BadInput);
        }
        c.downcast_ref::<StoreError>()
            .map(StoreError::kind)
            .or_else(|| c.downcast_ref::<PartError>().map(|p| p.kind))
    });
    match kind {
        Some(ErrorKind::BadInput) => 2,
        Some(ErrorKind::NoData) => 3,
        Some(ErrorKind::ModelFailed) => 4,
        Some(ErrorKind::Internal) | None => 1,
    }
}
