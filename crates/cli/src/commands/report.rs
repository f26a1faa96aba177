//! `cxray report`: the board pack of one period — the page functions' HTML as one
//! document, printed to PDF by headless Chromium (or written as HTML).

use std::collections::BTreeMap;

use anyhow::Context;
use cxray_analysis::settings::ProductSettings;
use cxray_analysis::snapshot::{self, Part};
use cxray_server::pack::{self, PackError};
use cxray_server::reports::print;

use crate::args::ReportArgs;
use crate::choices::PackFormat;
use crate::config::Config;

/// Writes the board pack of the period asked for.
pub async fn run(config: &Config, args: ReportArgs) -> anyhow::Result<()> {
    let folder = super::folder(config)?;
    let sql = cxray_store::sql::Sql::open(&folder, &BTreeMap::new()).await?;
    let state = snapshot::data_state(&sql, &folder)?;
    let settings = ProductSettings::default();
    let parts = [Part::Scorecard, Part::Journey];
    let snap = snapshot::compute(&sql, &folder, state, &settings, &parts).await?;
    if let Err(e) = &snap.scorecard {
        return Err(anyhow::Error::new(e.clone()));
    }
    let targets = super::users::open(config)?.targets()?;
    let html = pack::render(&snap, &targets, args.period.as_deref()).map_err(|e| match e {
        PackError::BadPeriod(_) | PackError::AfterData { .. } => {
            super::usage(format!("--period: {e}"))
        }
        PackError::NoScorecard(_) => e.into(),
    })?;
    match args.format {
        PackFormat::Html => std::fs::write(&args.out, html)
            .with_context(|| format!("writing {}", args.out.display())),
        PackFormat::Pdf => {
            let named = args.chromium.as_deref().or(config.chromium.as_deref());
            let chromium = print::find_chromium(named).map_err(|e| match e {
                print::PrintError::NoChromium => {
                    anyhow::anyhow!("{e}; or name it with --chromium PATH, or write --format html")
                }
                e => e.into(),
            })?;
            let pdf = print::pdf(&chromium, &html)?;
            std::fs::write(&args.out, pdf)
                .with_context(|| format!("writing {}", args.out.display()))
        }
    }
}
