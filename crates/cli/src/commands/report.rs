//! `cxray report`: the board pack of one period — the page functions' HTML as one
//! document, printed to PDF by headless Chromium (or written as HTML).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use cxray_analysis::settings::ProductSettings;
use cxray_analysis::snapshot::{self, Part};
use cxray_server::pack::{self, PackError};

use crate::args::ReportArgs;
use crate::choices::PackFormat;
use crate::config::Config;

/// The binaries tried on PATH when none is named.
const CHROMIUM: [&str; 4] = [
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];

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
            let chromium = find_chromium(args.chromium.as_deref().or(config.chromium.as_deref()))?;
            print(&chromium, &html, &args.out)
        }
    }
}

/// The Chromium binary named, or the first of [`CHROMIUM`] on PATH.
fn find_chromium(named: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(path) = named {
        match path.is_file() {
            true => return Ok(path.to_path_buf()),
            false => bail!(
                "Chromium '{}' (--chromium or the config file's chromium) is not a file",
                path.display()
            ),
        }
    }
    let dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    CHROMIUM
        .iter()
        .flat_map(|name| dirs.iter().map(move |d| d.join(name)))
        .find(|p| p.is_file())
        .with_context(|| {
            format!(
                "the board pack needs Chromium to print a PDF, and none of {} is on PATH: \
                 install it (Debian: apt install chromium), name it with --chromium PATH or \
                 `chromium` in the config file, or write --format html",
                CHROMIUM.join(", ")
            )
        })
}

/// Prints `html` to the PDF `out` with headless Chromium, through a scratch folder (the
/// page, the browser profile and the PDF, copied to `out` only when printed whole).
fn print(chromium: &Path, html: &str, out: &Path) -> anyhow::Result<()> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!("cxray-report-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let printed = print_in(&dir, chromium, html, out);
    let _ = std::fs::remove_dir_all(&dir);
    printed
}

fn print_in(dir: &Path, chromium: &Path, html: &str, out: &Path) -> anyhow::Result<()> {
    let page = dir.join("pack.html");
    let pdf = dir.join("pack.pdf");
    std::fs::write(&page, html)?;
    // Our own page, without scripts or network: the sandbox (unavailable to root) adds
    // nothing here.
    let run = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .with_context(|| format!("running Chromium {}", chromium.display()))?;
    let printed = std::fs::read(&pdf).unwrap_or_default();
    if !run.status.success() || !printed.starts_with(b"%PDF") {
        bail!(
            "Chromium {} did not print the board pack ({}): {}",
            chromium.display(),
            run.status,
            String::from_utf8_lossy(&run.stderr).trim()
        );
    }
    std::fs::write(out, printed).with_context(|| format!("writing {}", out.display()))
}
