//! `cxray report`: the board pack of one period — the page functions' HTML as one
//! document, printed to PDF by headless Chromium (or written as HTML) — and its
//! schedules, sent by e-mail.

mod schedules;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use cxray_analysis::settings::ProductSettings;
use cxray_analysis::snapshot::{self, Part, Snapshot};
use cxray_server::pack::{self, PackError};
use cxray_server::reports::print;

use crate::args::{ChromiumArg, ReportArgs};
use crate::choices::PackFormat;
use crate::config::Config;

/// Writes the board pack of the period asked for, or runs a schedules' command.
pub async fn run(config: &Config, args: ReportArgs, json: bool) -> anyhow::Result<()> {
    if let Some(command) = args.command {
        return schedules::run(config, command, json).await;
    }
    let out = args.out.expect("clap requires --out without a subcommand");
    let snap = board_snapshot(config).await?;
    let records = pack::Records::of(&super::users::open(config)?)?;
    let html = pack::render(&snap, &records, args.period.as_deref()).map_err(|e| match e {
        PackError::BadPeriod(_) | PackError::AfterData { .. } => {
            super::usage(format!("--period: {e}"))
        }
        PackError::NoScorecard(_) => e.into(),
    })?;
    let bytes = match args.format {
        PackFormat::Html => html.into_bytes(),
        PackFormat::Pdf => print::pdf(&chromium(config, &args.chromium)?, &html)?,
    };
    std::fs::write(&out, bytes).with_context(|| format!("writing {}", out.display()))
}

/// The analyses the board pack shows, of the folder's data as it is now.
async fn board_snapshot(config: &Config) -> anyhow::Result<Snapshot> {
    let folder = super::folder(config)?;
    let sql = cxray_store::sql::Sql::open(&folder, &BTreeMap::new()).await?;
    let state = snapshot::data_state(&sql, &folder)?;
    let settings = ProductSettings::default();
    let parts = [Part::Scorecard, Part::Journey];
    let snap = snapshot::compute(&sql, &folder, state, &settings, &parts).await?;
    if let Err(e) = &snap.scorecard {
        return Err(anyhow::Error::new(e.clone()));
    }
    Ok(snap)
}

/// The Chromium that prints: `--chromium`, the config's, or the first on PATH.
fn chromium(config: &Config, arg: &ChromiumArg) -> anyhow::Result<PathBuf> {
    let named: Option<&Path> = arg.chromium.as_deref().or(config.chromium.as_deref());
    print::find_chromium(named).map_err(|e| match e {
        print::PrintError::NoChromium => {
            anyhow::anyhow!("{e}; or name it with --chromium PATH, or write --format html")
        }
        e => e.into(),
    })
}
