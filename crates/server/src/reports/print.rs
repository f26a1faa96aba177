//! Printing the board pack's HTML to PDF with headless Chromium, through a scratch
//! folder (the page, the browser profile and the PDF).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The binaries tried on PATH when none is named.
const CHROMIUM: [&str; 4] = [
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];

/// Why the pack was not printed.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error(
        "the board pack needs Chromium to print a PDF, and none of {} is on PATH: install it \
         (Debian: apt install chromium) or name it in the configuration (`chromium`)",
        CHROMIUM.join(", ")
    )]
    NoChromium,
    #[error("Chromium '{0}' is not a file")]
    NotAFile(PathBuf),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("Chromium {chromium} did not print the board pack ({status}): {stderr}")]
    Failed {
        chromium: PathBuf,
        status: std::process::ExitStatus,
        stderr: String,
    },
}

/// The Chromium binary named, or the first of [`CHROMIUM`] on PATH.
pub fn find_chromium(named: Option<&Path>) -> Result<PathBuf, PrintError> {
    if let Some(path) = named {
        return match path.is_file() {
            true => Ok(path.to_path_buf()),
            false => Err(PrintError::NotAFile(path.to_path_buf())),
        };
    }
    let dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    CHROMIUM
        .iter()
        .flat_map(|name| dirs.iter().map(move |d| d.join(name)))
        .find(|p| p.is_file())
        .ok_or(PrintError::NoChromium)
}

/// The PDF of `html`, printed by `chromium`.
pub fn pdf(chromium: &Path, html: &str) -> Result<Vec<u8>, PrintError> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!("cxray-report-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|source| PrintError::Io {
        context: format!("creating {}", dir.display()),
        source,
    })?;
    let printed = pdf_in(&dir, chromium, html);
    let _ = std::fs::remove_dir_all(&dir);
    printed
}

fn pdf_in(dir: &Path, chromium: &Path, html: &str) -> Result<Vec<u8>, PrintError> {
    let page = dir.join("pack.html");
    let pdf = dir.join("pack.pdf");
    std::fs::write(&page, html).map_err(|source| PrintError::Io {
        context: format!("writing {}", page.display()),
        source,
    })?;
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
        .map_err(|source| PrintError::Io {
            context: format!("running Chromium {}", chromium.display()),
            source,
        })?;
    let printed = std::fs::read(&pdf).unwrap_or_default();
    if !run.status.success() || !printed.starts_with(b"%PDF") {
        return Err(PrintError::Failed {
            chromium: chromium.to_path_buf(),
            status: run.status,
            stderr: String::from_utf8_lossy(&run.stderr).trim().to_string(),
        });
    }
    Ok(printed)
}
