//! `cxray sql`: a query over the tables.

use std::collections::BTreeMap;

use cxray_core::domain::Table;
use cxray_store::datafusion::arrow::{csv, json};
use cxray_store::sql::Sql;

use crate::args::{AsOfArgs, SqlArgs};
use crate::config::Config;
use crate::output;

/// Runs the query and prints the result as a table, JSON (an array of row objects) or CSV.
pub async fn run(config: &Config, args: SqlArgs, as_json: bool) -> anyhow::Result<()> {
    let sql = open(config, &args.as_of).await?;
    let (schema, batches) = sql.query(&args.query).await?;
    let stdout = std::io::stdout().lock();
    if as_json {
        let mut writer = json::WriterBuilder::new()
            .with_explicit_nulls(true)
            .build::<_, json::writer::JsonArray>(stdout);
        writer.write_batches(&batches.iter().collect::<Vec<_>>())?;
        writer.finish()?;
        println!();
    } else if args.csv {
        let mut writer = csv::WriterBuilder::new().with_header(true).build(stdout);
        for b in &batches {
            writer.write(b)?;
        }
    } else {
        output::batches_table(&schema, &batches)?.print()?;
    }
    Ok(())
}

/// A SQL session over the data folder, with tables pinned by `--as-of`.
pub(super) async fn open(config: &Config, as_of: &AsOfArgs) -> anyhow::Result<Sql> {
    let folder = super::folder(config)?;
    Ok(Sql::open(&folder, &parse_as_of(&as_of.as_of)?).await?)
}

fn parse_as_of(items: &[String]) -> anyhow::Result<BTreeMap<Table, u64>> {
    items
        .iter()
        .map(|item| {
            let (t, v) = item
                .split_once('=')
                .ok_or_else(|| super::usage(format!("--as-of: '{item}' is not TABLE=VERSION")))?;
            let table: Table = t.parse().map_err(super::usage)?;
            let version = v
                .parse()
                .map_err(|_| super::usage(format!("--as-of: '{v}' is not a version number")))?;
            Ok((table, version))
        })
        .collect()
}
