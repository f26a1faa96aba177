//! One module per command.

pub mod cases;
pub mod cluster;
pub mod demo;
pub mod drivers;
pub mod effect;
pub mod import;
pub mod init;
pub mod initiative;
pub mod journey;
mod link_text;
pub mod loyalty;
pub mod maintenance;
pub mod metrics;
pub mod report;
pub mod respondents;
pub mod scorecard;
pub mod serve;
pub mod sql;
pub mod survey;
pub mod tables;
pub mod targets;
pub mod text;
pub mod users;
pub mod webhook;
pub mod whatif;

use std::fmt;

use cxray_store::folder::Location;
use cxray_store::{DataFolder, StoreError};

use crate::config::Config;

/// Bad usage or input found by the command line itself (exit code 2).
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Who is acting, for the audit log: the operating-system user at the command line.
pub fn actor() -> String {
    std::env::var("USER")
        .map(|u| format!("cli:{u}"))
        .unwrap_or_else(|_| "cli".into())
}

/// Marks an error as bad usage.
pub fn usage(e: impl fmt::Display) -> anyhow::Error {
    UsageError(format!("{e:#}")).into()
}

/// The flag of the group-by setting.
pub const BY: &[(&str, &str)] = &[("group by", "--by")];

/// The settings of a slice of responses and their flags.
pub const SLICE: &[(&str, &str)] = &[("group by", "--by"), ("condition", "--where")];

/// The error with the flags (`(setting, flag)`) of the settings its message names, e.g.
/// "… date format … (--date-format)": the store names settings, not flags.
pub fn hint(e: StoreError, flags: &[(&str, &str)]) -> StoreError {
    match e {
        StoreError::Input(m) => StoreError::Input(with_flags(m, flags)),
        StoreError::NoData(m) => StoreError::NoData(with_flags(m, flags)),
        StoreError::Invalid { field, message } => {
            // The flag of the field refused, else those of the settings the message names.
            let message = match flags.iter().find(|(setting, _)| *setting == field) {
                Some((_, flag)) => format!("{message} ({flag})"),
                None => with_flags(message, flags),
            };
            StoreError::Invalid { field, message }
        }
        e => e,
    }
}

/// `message` with the flags of the settings it names appended.
pub fn with_flags(message: String, flags: &[(&str, &str)]) -> String {
    let named: Vec<&str> = flags
        .iter()
        .filter(|(setting, _)| message.contains(setting))
        .map(|&(_, flag)| flag)
        .collect();
    match named.is_empty() {
        true => message,
        false => format!("{message} ({})", named.join(", ")),
    }
}

/// Parses a `YYYY-MM-DD` date given to `flag`.
pub fn date(flag: &str, text: &str) -> anyhow::Result<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| usage(format!("{flag}: '{text}' is not a date YYYY-MM-DD")))
}

/// Opens the configured data folder, refusing an engine that cannot be used.
pub fn folder(config: &Config) -> anyhow::Result<DataFolder> {
    let location = location(config)?;
    let folder = DataFolder::open_at(&location, config.state.as_deref(), &config.object_store)
        .map_err(data_flag)?;
    config.engine.check()?;
    Ok(with_ops(folder, config))
}

/// The folder with the configured operational database and engine.
fn with_ops(folder: DataFolder, config: &Config) -> DataFolder {
    let folder = folder.with_engine(config.engine.clone());
    match &config.ops {
        Some(url) => folder.with_postgres(url),
        None => folder,
    }
}

/// Creates the configured data folder if it is not there yet.
pub fn create_folder(config: &Config) -> anyhow::Result<(DataFolder, bool)> {
    let location = location(config)?;
    if let Some(url) = &config.ops {
        // Reached (and migrated) first, so an unreachable database creates nothing.
        cxray_store::ops::OpsDb::at(&cxray_store::db::OpsLocation::Postgres(url.clone()))?;
    }
    let (folder, created) =
        DataFolder::create_at(&location, config.state.as_deref(), &config.object_store)
            .map_err(data_flag)?;
    Ok((with_ops(folder, config), created))
}

/// The configured data folder's location.
pub fn location(config: &Config) -> anyhow::Result<Location> {
    let text = config.data.to_string_lossy();
    Ok(Location::parse(&text).map_err(data_flag)?)
}

/// A data folder error with the flags that set it.
fn data_flag(e: StoreError) -> StoreError {
    match e {
        StoreError::Storage(e) => StoreError::Storage(e.with_hint("--data, --state")),
        StoreError::Folder(m) if m.starts_with("state folder") => {
            StoreError::Folder(format!("{m} (--state)"))
        }
        e => e,
    }
}
