//! The event tables as Delta Lake tables: creating them, opening them (optionally at an
//! earlier version), and describing them.

use cxray_core::domain::Table;
use datafusion::arrow::datatypes::Schema;
use datafusion::prelude::SessionContext;
use deltalake_core::DeltaTable;
use deltalake_core::kernel::engine::arrow_conversion::{TryIntoArrow, TryIntoKernel};
use deltalake_core::kernel::{Action, CommitInfo, StructType};
use deltalake_core::logstore::get_actions;
use futures::TryStreamExt;
use object_store::ObjectStoreExt;
use serde::Serialize;

use crate::decode::Columns;
use crate::folder::DataFolder;
use crate::schema::{Attributes, contract_schema};
use crate::{Result, StoreError};

/// Creates every contract table that does not exist yet, empty (version 0). Returns the
/// tables it created.
pub async fn create_all(folder: &DataFolder) -> Result<Vec<Table>> {
    let mut created = Vec::new();
    for table in Table::ALL {
        if folder.has_table(table.name()).await? {
            continue;
        }
        create(folder, table.name(), &contract_schema(table)).await?;
        created.push(table);
    }
    Ok(created)
}

/// The attribute columns `delta` (the Delta table of `table`) has, and its `limit`.
pub fn attributes(delta: &DeltaTable, table: Table, limit: usize) -> Result<Attributes> {
    let schema: Schema = delta.snapshot()?.schema().as_ref().try_into_arrow()?;
    Ok(Attributes::of(table, &schema, limit))
}

/// Creates an empty Delta table called `name` with `schema` in the folder.
pub async fn create(folder: &DataFolder, name: &str, schema: &Schema) -> Result<DeltaTable> {
    if folder.remote_url().is_none() {
        let dir = folder.named_table_dir(name);
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
    }
    create_table(folder.delta_at(folder.named_table_url(name))?, name, schema).await
}

/// Creates an empty Delta table with `schema` in the local folder `dir`.
pub async fn create_in(dir: &std::path::Path, name: &str, schema: &Schema) -> Result<DeltaTable> {
    std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
    let url = url::Url::from_directory_path(dir).expect("absolute path");
    create_table(DeltaTable::try_from_url(url).await?, name, schema).await
}

async fn create_table(t: DeltaTable, name: &str, schema: &Schema) -> Result<DeltaTable> {
    let schema: StructType = schema.try_into_kernel()?;
    Ok(t.create()
        .with_table_name(name)
        .with_columns(schema.fields().cloned())
        .await?)
}

/// Opens a table at its latest version, or at `version`.
pub async fn open(folder: &DataFolder, table: Table, version: Option<u64>) -> Result<DeltaTable> {
    if !folder.has_table(table.name()).await? {
        return Err(StoreError::Folder(format!(
            "table {table} is missing from {}: run `cxray init`",
            folder.location()
        )));
    }
    let mut t = folder.delta_at(folder.table_url(table))?;
    match version {
        None => t.load().await?,
        Some(v) => t
            .load_version(v)
            .await
            .map_err(|e| StoreError::Input(format!("table {table} has no version {v}: {e}")))?,
    }
    Ok(t)
}

/// Tables cxray derives from the event tables (registered in SQL when present).
pub const DERIVED: &[&str] = &[CUSTOMER_VALUE];
/// The derived table of customers' valuations (`loyalty predict`).
pub const CUSTOMER_VALUE: &str = "customer_value";

/// Opens a derived table (see [`DERIVED`]) at its latest version, if it exists yet.
pub async fn open_derived(folder: &DataFolder, name: &str) -> Result<Option<DeltaTable>> {
    open_derived_at(folder, name, None).await
}

/// Opens a derived table at `version` (the latest without one), if it exists yet.
pub async fn open_derived_at(
    folder: &DataFolder,
    name: &str,
    version: Option<u64>,
) -> Result<Option<DeltaTable>> {
    if !folder.has_table(name).await? {
        return Ok(None);
    }
    let mut t = folder.delta_at(folder.named_table_url(name))?;
    match version {
        None => t.load().await?,
        Some(v) => t.load_version(v).await?,
    }
    Ok(Some(t))
}

/// Every version of a table whose commit records a `cxray.made_by`, with it, oldest
/// first (a version whose log entry is gone is left out).
pub async fn made_by_history(t: &DeltaTable) -> Result<Vec<(u64, serde_json::Value)>> {
    let log = t.log_store();
    let mut out = Vec::new();
    for v in 0..=t.version().unwrap_or(0) {
        let Some(entry) = log.read_commit_entry(v).await? else {
            continue;
        };
        let made_by = get_actions(v, &entry)?.into_iter().find_map(|a| match a {
            Action::CommitInfo(c) => c.info.get("cxray.made_by").cloned(),
            _ => None,
        });
        out.extend(made_by.map(|m| (v, m)));
    }
    Ok(out)
}

/// The `cxray.made_by` record of a table's latest commit (`Null` when absent).
pub async fn made_by(t: &DeltaTable) -> Result<serde_json::Value> {
    let latest: Option<CommitInfo> = t.history(Some(1)).try_next().await?;
    Ok(latest
        .and_then(|c| c.info.get("cxray.made_by").cloned())
        .unwrap_or(serde_json::Value::Null))
}

/// What `cxray tables` shows for one table.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TableInfo {
    pub table: String,
    pub rows: u64,
    pub version: u64,
    pub files: u64,
    pub size_bytes: u64,
    /// The version of the latest Delta checkpoint (none: the log is read commit by
    /// commit); `cxray optimize` writes one.
    pub checkpoint: Option<u64>,
    /// When the latest version was committed (RFC 3339, UTC).
    pub last_change: Option<String>,
    /// What the latest commit did (`CREATE TABLE`, `WRITE`, …).
    pub last_operation: Option<String>,
    pub columns: Vec<String>,
    /// Earliest and latest event time (RFC 3339), for tables that have one.
    pub first: Option<String>,
    pub last: Option<String>,
}

/// Describes a table at its latest version.
pub async fn info(folder: &DataFolder, table: Table) -> Result<TableInfo> {
    let t = open(folder, table, None).await?;
    describe(&t, table.name(), table.time_column()).await
}

/// Describes the derived tables present (see [`DERIVED`]) at their latest versions.
pub async fn derived_info(folder: &DataFolder) -> Result<Vec<TableInfo>> {
    let mut infos = Vec::new();
    for name in DERIVED {
        if let Some(t) = open_derived(folder, name).await? {
            infos.push(describe(&t, name, None).await?);
        }
    }
    Ok(infos)
}

/// Describes the loaded table `t` called `name`, with the range of its `time` column.
async fn describe(t: &DeltaTable, name: &str, time: Option<&str>) -> Result<TableInfo> {
    let snapshot = t.snapshot()?;
    let Totals { rows, files, bytes } = totals(t)?;
    let latest: Option<CommitInfo> = t.history(Some(1)).try_next().await?;
    let schema: Schema = snapshot.schema().as_ref().try_into_arrow()?;
    let (first, last) = match time {
        Some(col) if rows > 0 => time_range(t, col).await?,
        _ => (None, None),
    };
    Ok(TableInfo {
        table: name.into(),
        rows,
        version: t.version().unwrap_or(0),
        files,
        size_bytes: bytes,
        checkpoint: checkpoint(t).await?,
        last_change: latest
            .as_ref()
            .and_then(|c| c.timestamp)
            .and_then(format_millis),
        last_operation: latest.and_then(|c| c.operation),
        columns: schema.fields().iter().map(|f| f.name().clone()).collect(),
        first,
        last,
    })
}

/// What the data files of a table's loaded version hold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Totals {
    pub rows: u64,
    pub files: u64,
    pub bytes: u64,
}

/// The rows, data files and bytes of the table's loaded version, from its log.
pub fn totals(t: &DeltaTable) -> Result<Totals> {
    let mut totals = Totals {
        rows: 0,
        files: 0,
        bytes: 0,
    };
    for file in t.snapshot()?.log_data().iter() {
        totals.rows += file.num_records().unwrap_or(0) as u64;
        totals.files += 1;
        totals.bytes += file.size().max(0) as u64;
    }
    Ok(totals)
}

/// The version of the table's latest checkpoint (`_delta_log/_last_checkpoint`), if it
/// has one.
pub async fn checkpoint(t: &DeltaTable) -> Result<Option<u64>> {
    let store = t.log_store().object_store(None);
    let path = object_store::path::Path::from("_delta_log/_last_checkpoint");
    let bytes = match store.get(&path).await {
        Ok(found) => found
            .bytes()
            .await
            .map_err(deltalake_core::DeltaTableError::from)?,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(deltalake_core::DeltaTableError::from(e).into()),
    };
    let last: serde_json::Value = serde_json::from_slice(&bytes)?;
    Ok(last["version"].as_u64())
}

/// The minimum and maximum of a time column, formatted as RFC 3339 (dates as dates).
async fn time_range(t: &DeltaTable, column: &str) -> Result<(Option<String>, Option<String>)> {
    let ctx = SessionContext::new();
    t.update_datafusion_session(&ctx.state())?;
    ctx.register_table("t", t.table_provider().await?)?;
    let sql = format!(
        "SELECT CAST(min({column}) AS VARCHAR) AS first, CAST(max({column}) AS VARCHAR) AS last FROM t"
    );
    let batches = ctx.sql(&sql).await?.collect().await?;
    let cell = |name: &str| -> Option<String> {
        let c = Columns::new(batches.first()?);
        Some(c.text(name).ok()?.str(0)?.to_string())
    };
    Ok((cell("first"), cell("last")))
}

fn format_millis(ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}
