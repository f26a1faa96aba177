//! One module per command.

pub mod demo;
pub mod import;
pub mod init;
pub mod loyalty;
pub mod serve;
pub mod sql;
pub mod tables;

use std::fmt;

use cxray_store::DataFolder;

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

/// Marks an error as bad usage.
pub fn usage(e: impl fmt::Display) -> anyhow::Error {
    UsageError(format!("{e:#}")).into()
}

/// Opens the configured data folder.
pub fn folder(config: &Config) -> anyhow::Result<DataFolder> {
    Ok(DataFolder::open(&config.data)?)
}
