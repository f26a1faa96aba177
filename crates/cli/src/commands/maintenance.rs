//! `cxray vacuum`, `optimize`, `check`, `backup`, `restore` and `forget`: housekeeping
//! of the data folder.

use std::num::NonZeroU64;
use std::time::Duration;

use cxray_core::domain::Table;
use cxray_store::folder::Location;
use cxray_store::maintenance::{backup, check, forget, optimize, vacuum};
use cxray_store::{StorageError, StoreError};

use crate::args::{BackupArgs, ForgetArgs, OptimizeArgs, VacuumArgs};
use crate::config::Config;
use crate::output::{self, bytes};

/// Removes the files no version within the retention needs.
pub async fn vacuum(config: &Config, args: VacuumArgs, json: bool) -> anyhow::Result<()> {
    let folder = super::folder(config)?;
    let retain = Duration::from_secs(args.retain_hours.saturating_mul(3600));
    let done = vacuum::vacuum(&folder, retain).await?;
    if json {
        return output::json(&done);
    }
    let mut t = output::Table::new(&["table", "files removed", "version"], &[false, true, true]);
    for v in done {
        t.rows.push(vec![
            v.table,
            v.files_deleted.to_string(),
            v.version.to_string(),
        ]);
    }
    t.print()
}

/// Rewrites tables into few large, clustered files and checkpoints them.
pub async fn optimize(config: &Config, args: OptimizeArgs, json: bool) -> anyhow::Result<()> {
    let folder = super::folder(config)?;
    // The rules first: they find new rows by the files appends added, which this rewrites.
    super::cases::scan(&folder, &folder.ops_db()?).await?;
    super::survey::after_import(&folder, Table::Interactions).await?;
    let target = args.target_size.and_then(|mib| NonZeroU64::new(mib << 20));
    let done = optimize::optimize(&folder, args.table, target, &super::actor()).await?;
    if json {
        return output::json(&done);
    }
    let mut t = output::Table::new(
        &[
            "table",
            "version",
            "files before",
            "files after",
            "size before",
            "size after",
            "clustered by",
            "checkpoint",
        ],
        &[false, false, true, true, true, true, false, true],
    );
    for o in done {
        t.rows.push(vec![
            o.table,
            format!("{} → {}", o.read_version, o.version),
            o.files_before.to_string(),
            o.files_after.to_string(),
            bytes(o.bytes_before),
            bytes(o.bytes_after),
            o.clustered_by.join(", "),
            o.checkpoint.map(|v| v.to_string()).unwrap_or_default(),
        ]);
    }
    t.print()
}

/// Checks the folder; fails (exit code 1) when anything is wrong.
pub async fn check(config: &Config, json: bool) -> anyhow::Result<()> {
    let folder = super::folder(config)?;
    folder.local_only("cxray check")?;
    let report = check::check(&folder).await;
    show(&report, json)?;
    verdict(&report, &folder.root().display().to_string())
}

/// Copies the folder into a new one, consistently, while the server may run.
pub async fn backup(config: &Config, args: BackupArgs, json: bool) -> anyhow::Result<()> {
    let folder = super::folder(config)?;
    let manifest = backup::backup(&folder, &args.dir).await?;
    if json {
        return output::json(&manifest);
    }
    let versions: Vec<String> = manifest
        .tables
        .iter()
        .map(|(t, v)| format!("{t} {v}"))
        .collect();
    println!(
        "backup of {} in {}: {} files, {}; table versions: {}",
        folder.root().display(),
        args.dir.display(),
        manifest.files,
        bytes(manifest.bytes),
        versions.join(", ")
    );
    Ok(())
}

/// Brings a backup back into the (new or empty) data folder and checks it.
pub async fn restore(config: &Config, args: BackupArgs, json: bool) -> anyhow::Result<()> {
    if let Location::Remote(url) = super::location(config)? {
        let what = "cxray restore";
        let url = url.to_string();
        return Err(StoreError::Storage(StorageError::Unsupported { what, url }).into());
    }
    let report = backup::restore(&args.dir, &config.data).await?;
    show(&report, json)?;
    let target = config.data.display().to_string();
    verdict(&report, &target)?;
    if !json {
        println!("restored {} into {target}", args.dir.display());
    }
    Ok(())
}

/// Erases customers from the folder.
pub async fn forget(config: &Config, args: ForgetArgs, json: bool) -> anyhow::Result<()> {
    let folder = super::folder(config)?;
    let actor = super::actor();
    // The rules first: the erasure removes the log entries of the commits before it.
    super::cases::scan(&folder, &folder.ops_db()?).await?;
    super::survey::after_import(&folder, cxray_core::domain::Table::Interactions).await?;
    let done = forget::forget(&folder, &args.customers, &actor, args.reason.as_deref()).await?;
    if json {
        return output::json(&done);
    }
    let rows: Vec<String> = done.rows.iter().map(|(t, n)| format!("{t} {n}")).collect();
    println!(
        "forgot {} customers: rows deleted {}; {} files removed, {} rejects files rewritten, \
         {} follow-up cases and {} survey records removed",
        done.customers,
        rows.join(", "),
        done.files_removed,
        done.rejects_rewritten,
        done.cases,
        done.survey_records
    );
    Ok(())
}

/// Prints a check's report.
fn show(report: &check::Report, json: bool) -> anyhow::Result<()> {
    if json {
        return output::json(report);
    }
    println!(
        "checked {} tables ({} data files), the operational database and {} write-ahead log batches",
        report.tables, report.files, report.log_batches
    );
    if report.problems.is_empty() {
        return Ok(());
    }
    let mut t = output::Table::new(&["where", "problem"], &[false, false]);
    for p in &report.problems {
        t.rows.push(vec![p.place.clone(), p.problem.clone()]);
    }
    t.print()
}

/// An error (exit code 1) naming the first problem when there are any.
fn verdict(report: &check::Report, folder: &str) -> anyhow::Result<()> {
    match report.problems.first() {
        None => Ok(()),
        Some(p) => anyhow::bail!(
            "{folder}: {} problems, the first: {}: {}",
            report.problems.len(),
            p.place,
            p.problem
        ),
    }
}
