//! `cxray`: the command-line front end. It parses arguments, loads the config, calls the
//! store and the server, and prints results. Exit codes: 0 success, 1 failure at run
//! time, 2 bad usage or bad input.

mod args;
mod commands;
mod config;
mod output;
mod progress;

use clap::Parser;
use cxray_store::StoreError;

use crate::args::{Cli, Command};
use crate::config::Config;

fn main() {
    let cli = Cli::parse();
    let code = match run(cli) {
        Ok(()) => 0,
        // Output piped into a reader that stopped (`| head`): not a failure.
        Err(e) if is_broken_pipe(&e) => 0,
        Err(e) => {
            // One line, whatever the underlying library's message looks like.
            let message = format!("{e:#}")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            eprintln!("error: {message}");
            exit_code(&e)
        }
    };
    std::process::exit(code);
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref(), cli.data.clone()).map_err(commands::usage)?;
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
            Command::Demo(args) => commands::demo::run(&config, args, cli.json).await,
            Command::Loyalty(command) => commands::loyalty::run(&config, command, cli.json).await,
            Command::Metrics(args) => commands::metrics::run(&config, args, cli.json).await,
            Command::Compare(args) => commands::metrics::compare(&config, args, cli.json).await,
            Command::Link(args) => commands::metrics::link(&config, args, cli.json).await,
            Command::Drivers(args) => commands::drivers::run(&config, args, cli.json).await,
            Command::Scorecard => commands::scorecard::run(&config, cli.json).await,
            Command::Journey(args) => commands::journey::journey(&config, args, cli.json).await,
            Command::Areas(args) => commands::journey::areas(&config, args, cli.json).await,
            Command::Owner(args) => commands::journey::owner(&config, args, cli.json).await,
            Command::Sla(args) => commands::journey::sla(&config, args, cli.json),
            Command::Touchpoint(args) => {
                commands::journey::placement(&config, args, cli.json).await
            }
            Command::User(command) => commands::users::user(&config, command, cli.json),
            Command::Token(command) => commands::users::token(&config, command, cli.json),
            Command::Target(command) => commands::targets::run(&config, command, cli.json),
            Command::Vacuum(args) => commands::maintenance::vacuum(&config, args, cli.json).await,
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

/// 2 for bad usage or input, 1 otherwise.
fn exit_code(e: &anyhow::Error) -> i32 {
    let user = e.chain().any(|c| {
        c.downcast_ref::<commands::UsageError>().is_some()
            || c.downcast_ref::<StoreError>()
                .is_some_and(StoreError::is_user_error)
    });
    if user { 2 } else { 1 }
}
