//! `cxray import`: files into an event table.

use std::sync::Arc;

use cxray_store::import::{self, ImportOptions, ImportSummary, plan};

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
    if json {
        return crate::output::json(&summary);
    }
    print(&summary);
    Ok(())
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
