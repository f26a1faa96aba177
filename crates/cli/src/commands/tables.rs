//! `cxray tables`: what is in the data folder.

use cxray_core::domain::Table;
use cxray_store::tables;

use crate::config::Config;
use crate::output::{self, bytes, count};

/// Lists every table, the derived ones too, with rows, version, files, size, checkpoint
/// and last change.
pub async fn run(config: &Config, json: bool) -> anyhow::Result<()> {
    let folder = super::folder(config)?;
    let mut infos = Vec::new();
    for table in Table::ALL {
        infos.push(tables::info(&folder, table).await?);
    }
    infos.extend(tables::derived_info(&folder).await?);
    if json {
        return output::json(&infos);
    }
    let mut t = output::Table::new(
        &[
            "table",
            "rows",
            "version",
            "files",
            "size",
            "checkpoint",
            "last change",
            "operation",
        ],
        &[false, true, true, true, true, true, false, false],
    );
    for i in infos {
        t.rows.push(vec![
            i.table,
            count(i.rows),
            i.version.to_string(),
            i.files.to_string(),
            bytes(i.size_bytes),
            i.checkpoint.map(|v| v.to_string()).unwrap_or_default(),
            i.last_change.unwrap_or_default(),
            i.last_operation.unwrap_or_default(),
        ]);
    }
    t.print()
}
