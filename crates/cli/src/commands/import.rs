//! `cxray import`: files into an event table.

use std::sync::Arc;

use cxray_analysis::journey;
use cxray_analysis::settings::ProductSettings;
use cxray_core::domain::Table;
use cxray_store::import::{self, ImportOptions, ImportSummary, plan};
use cxray_store::{DataFolder, tables};

use crate::args::ImportArgs;
use crate::config::Config;
use crate::output::count;
use crate::progress::Bar;

/// The flags of the import settings the store's messages name.
const FLAGS: &[(&str, &str)] = &[
    ("date format", "--date-format"),
    ("time zone", "--timezone"),
    ("mapping", "--map"),
];

/// Imports the files and prints the summary.
pub async fn run(config: &Config, args: ImportArgs, json: bool) -> anyhow::Result<()> {
    let folder = super::folder(config)?;
    let table = args.table;
    let options = options(&args, config)?;
    let bar = Arc::new(Bar::new(&format!("importing {table}")));
    let result = import::import(&folder, table, &args.files, &options, bar.clone()).await;
    bar.finish();
    let summary = result.map_err(|e| super::hint(e, FLAGS))?;
    let trips = prepare_trips(&folder, table, &summary).await?;
    let (opened, invited) = match summary.version {
        Some(_) => (
            super::cases::after_import(&folder, table).await?,
            super::survey::after_import(&folder, table).await?,
        ),
        None => (None, None),
    };
    if json {
        return crate::output::json(&summary);
    }
    print(&summary);
    if let Some(seconds) = trips {
        println!("  journey trips prepared in {seconds:.1} s");
    }
    if let Some(n) = opened {
        let cases = if n == 1 { "case" } else { "cases" };
        println!("  {n} follow-up {cases} opened");
    }
    if let Some(n) = invited {
        let invitations = if n == 1 { "invitation" } else { "invitations" };
        println!("  {n} survey {invitations} decided on");
    }
    Ok(())
}

/// After new transactions or interactions, when both tables hold rows: the journey's
/// trips, built now so that the first analysis finds them (the seconds it took).
async fn prepare_trips(
    folder: &DataFolder,
    table: Table,
    s: &ImportSummary,
) -> anyhow::Result<Option<f64>> {
    let journey_tables = [Table::Transactions, Table::Interactions];
    if s.version.is_none() || !journey_tables.contains(&table) {
        return Ok(None);
    }
    for table in journey_tables {
        if tables::info(folder, table).await?.rows == 0 {
            return Ok(None);
        }
    }
    Ok(Some(
        journey::prepare(folder, &ProductSettings::default()).await?,
    ))
}

fn options(args: &ImportArgs, config: &Config) -> anyhow::Result<ImportOptions> {
    Ok(ImportOptions {
        format: args.format.map(Into::into),
        header: if args.header {
            Some(true)
        } else if args.no_header {
            Some(false)
        } else {
            None
        },
        map: args
            .map
            .as_deref()
            .map(plan::parse_map)
            .transpose()
            .map_err(|e| super::usage(super::with_flags(e, FLAGS)))?
            .unwrap_or_default(),
        date_format: args.date_format.clone(),
        timezone: args.timezone.clone(),
        skip_bad_rows: args.skip_bad_rows,
        actor: super::actor(),
        limits: config.limits,
        erased_rows: args.erased_customers.unwrap_or(config.erased_rows),
    })
}

fn print(s: &ImportSummary) {
    for f in s.files.iter().filter(|f| f.duplicate) {
        println!(
            "skipped {}: the same content was already imported into {}",
            f.path, s.table
        );
    }
    let Some(version) = s.version else {
        println!("nothing imported into {}", s.table);
        return;
    };
    println!(
        "imported {} rows into {} (version {version}) in {:.2} s: {} customers",
        count(s.rows),
        s.table,
        s.seconds,
        count(s.customers)
    );
    if let (Some(first), Some(last)) = (&s.first, &s.last) {
        println!("  dates {first} … {last}");
    }
    if let Some(path) = &s.rejects_file {
        println!("  {} bad rows set aside in {path}", count(s.rejected));
    }
}
