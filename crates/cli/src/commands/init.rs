//! `cxray init`: create the data folder.

use cxray_store::tables;
use serde::Serialize;

use crate::config::Config;

#[derive(Serialize)]
struct Initialised {
    data: String,
    created: bool,
    tables_created: Vec<String>,
    ops_schema_version: u32,
}

/// Creates the folder, its tables and its operational database (each only if missing).
pub async fn run(config: &Config, json: bool) -> anyhow::Result<()> {
    let (folder, created) = super::create_folder(config)?;
    let made = tables::create_all(&folder).await?;
    let ops = folder.ops_db()?;
    let report = Initialised {
        data: folder.location(),
        created,
        tables_created: made.iter().map(|t| t.name().to_string()).collect(),
        ops_schema_version: ops.version()?,
    };
    if json {
        return crate::output::json(&report);
    }
    if created || !made.is_empty() {
        println!(
            "created data folder {} ({} tables)",
            report.data,
            made.len()
        );
    } else {
        println!("data folder {} is ready (nothing to create)", report.data);
    }
    Ok(())
}
