//! SQL over the event tables with Apache DataFusion.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::NaiveDate;
use cxray_core::cases::CustomerCondition;
use cxray_core::domain::Table;
use datafusion::arrow::array::{RecordBatch, new_null_array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::{MemTable, TableProvider};
use datafusion::common::config::TableParquetOptions;
use datafusion::common::{DataFusionError, ScalarValue};
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::logical_expr::JoinType;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::prelude::{DataFrame, Expr, SessionConfig, SessionContext, ident, lit};
use deltalake_core::DeltaTable;
use deltalake_core::delta_datafusion::{
    DeltaScanConfigBuilder, DeltaScanNext, FileSelection, MissingSelectedFilePolicy,
};
use deltalake_core::kernel::Action;
use deltalake_core::logstore::get_actions;
use futures::StreamExt;

use crate::decode::Columns;
use crate::engine::Engine;
use crate::folder::DataFolder;
use crate::ingest::{Matched, RecentCommits};
use crate::tables::DERIVED;
use crate::{Result, StoreError, tables};

/// SQL for the UTC day (days since the Unix epoch, BIGINT) of a timestamp column.
pub fn day_sql(column: &str) -> String {
    format!("CAST(floor(to_unixtime({column}) / 86400.0) AS BIGINT)")
}

/// The table at its loaded version, as the session's engine reads it: embedded, its Delta
/// scan, whose filters reach the Parquet decoder through DataFusion's filter pushdown
/// (the Delta scan only skips files with them, since pushing them itself as well would
/// evaluate every filter twice); on a cluster, the list of its files.
fn provider(engine: &Engine, delta: &DeltaTable) -> Result<Arc<dyn TableProvider>> {
    let scan = scan(delta)?;
    match engine {
        Engine::Embedded => Ok(Arc::new(scan)),
        #[cfg(feature = "cluster")]
        Engine::Cluster { .. } => {
            crate::cluster::session::files(delta, scan.schema(), &session_config())
        }
        #[cfg(not(feature = "cluster"))]
        Engine::Cluster { .. } => Err(engine.unavailable()),
    }
}

/// A session with no table, whose queries run where the folder's engine says.
fn context(folder: &DataFolder) -> Result<SessionContext> {
    match folder.engine() {
        Engine::Embedded => {
            Ok(SessionContext::new_with_config_rt(session_config(), runtime()?).enable_url_table())
        }
        #[cfg(feature = "cluster")]
        engine @ Engine::Cluster { .. } => {
            use crate::cluster::session;
            let scheduler = engine.scheduler_url().expect("a cluster's scheduler");
            session::context(folder, scheduler, session_config(), runtime()?.as_ref())
        }
        #[cfg(not(feature = "cluster"))]
        engine @ Engine::Cluster { .. } => Err(engine.unavailable()),
    }
}

fn scan(delta: &DeltaTable) -> Result<DeltaScanNext> {
    let snapshot = delta.snapshot()?.snapshot();
    let config = DeltaScanConfigBuilder::new()
        .with_parquet_pushdown(false)
        .build(snapshot)?;
    Ok(DeltaScanNext::new(snapshot.clone(), config)?)
}

/// `batch` with the columns of `schema`, in its order and types (nulls where it has no
/// such column); none when a column cannot be cast.
fn align(batch: &RecordBatch, schema: &SchemaRef) -> Option<RecordBatch> {
    let rows = batch.num_rows();
    let columns = schema
        .fields()
        .iter()
        .map(|f| match batch.column_by_name(f.name()) {
            Some(c) if c.data_type() == f.data_type() => Some(c.clone()),
            Some(c) => cast(c, f.data_type()).ok(),
            None => Some(new_null_array(f.data_type(), rows)),
        })
        .collect::<Option<Vec<_>>>()?;
    RecordBatch::try_new(schema.clone(), columns).ok()
}

/// How a session is narrowed: to the customers whose columns equal the values, and to
/// events on the days from `from` to `to` (inclusive, UTC).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restriction {
    pub customers: Vec<(String, String)>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// A text value as the type of `column` in `schema`: bad input naming the column when
/// there is no such column or the value does not fit its type.
pub fn typed(schema: &Schema, column: &str, value: &str) -> Result<ScalarValue> {
    let field = schema
        .field_with_name(column)
        .map_err(|_| StoreError::Input(format!("there is no column '{column}'")))?;
    ScalarValue::Utf8(Some(value.to_string()))
        .cast_to(field.data_type())
        .map_err(|_| {
            StoreError::Input(format!(
                "{column}: '{value}' is not a value of its type ({})",
                field.data_type()
            ))
        })
}

/// `df` (with `customer_id`) narrowed to the customers meeting every condition on their
/// columns (all customers when there is none).
pub async fn of_customers_meeting<'a>(
    sql: &Sql,
    df: DataFrame,
    conditions: impl IntoIterator<Item = &'a CustomerCondition>,
) -> Result<DataFrame> {
    let equal: Vec<(String, String)> = conditions
        .into_iter()
        .map(|c| (c.column.clone(), c.value.clone()))
        .collect();
    match sql.customer_ids(&equal).await? {
        Some(ids) => of_customers(df, ids),
        None => Ok(df),
    }
}

/// The rows of `df` whose `customer_id` is one of `ids`' (a frame with that column).
pub fn of_customers(df: DataFrame, ids: DataFrame) -> Result<DataFrame> {
    let on = ["customer_id"];
    Ok(df.join(ids, JoinType::LeftSemi, &on, &on, None)?)
}

/// The settings of every session over the tables. Filters are applied while Parquet is
/// decoded, so columns of rows a filter drops are not decoded at all (most analyses filter
/// before they aggregate). The page index is not read and filter columns are not cached
/// for the output: both cost more per scattered kept row than they save (NPS answers are
/// every sixth row of `responses`); a lookup of one customer still skips row groups by
/// statistics.
pub fn session_config() -> SessionConfig {
    SessionConfig::new()
        .with_information_schema(true)
        .set_bool("datafusion.execution.parquet.pushdown_filters", true)
        .set_bool("datafusion.execution.parquet.reorder_filters", true)
        .set_bool("datafusion.execution.parquet.enable_page_index", false)
        .set_u64("datafusion.execution.parquet.max_predicate_cache_size", 0)
}

/// A DataFusion session with every event table registered under its name. Files named
/// by path in a query (`SELECT * FROM 'export.csv'`) can be read as well.
pub struct Sql {
    ctx: SessionContext,
    folder: DataFolder,
    versions: BTreeMap<Table, u64>,
    /// How [`Sql::restrict`] narrowed the session, if it did.
    restriction: Option<Restriction>,
    /// Per derived table present: how its latest version was made (`cxray.made_by`).
    made_by: BTreeMap<&'static str, serde_json::Value>,
    /// The rows of the latest ingestion commits, read instead of their files, and those
    /// read so far by table and versions (rules read the same).
    recent: Option<Arc<RecentCommits>>,
    recently_read: Arc<Mutex<RecentlyRead>>,
    /// The tables as opened, by name, for [`Sql::update`].
    deltas: BTreeMap<&'static str, DeltaTable>,
}

/// The rows a session read from memory, by table and the versions after and through.
type RecentlyRead = BTreeMap<(Table, u64, u64), Arc<MemTable>>;

/// The memory (MiB) the queries of this process may hold at once, unless
/// `CXRAY_MEMORY_MB` says otherwise.
const MEMORY_MB: usize = 4096;

/// The runtime every session of this process shares: one memory pool, so concurrent
/// analyses share one limit. Beyond it sorts and aggregations spill to the system's
/// temporary directory; what cannot spill (a join's build side) fails with a clear error.
pub(crate) fn runtime() -> Result<Arc<RuntimeEnv>> {
    static RUNTIME: OnceLock<Arc<RuntimeEnv>> = OnceLock::new();
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime.clone());
    }
    let mb = match std::env::var("CXRAY_MEMORY_MB") {
        Ok(v) => v.trim().parse::<usize>().map_err(|_| {
            StoreError::Input(format!(
                "CXRAY_MEMORY_MB: '{v}' is not a whole number of MiB"
            ))
        })?,
        Err(_) => MEMORY_MB,
    };
    let pool = FairSpillPool::new(mb.saturating_mul(1 << 20));
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(pool))
        .build_arc()?;
    Ok(RUNTIME.get_or_init(|| runtime).clone())
}

impl Sql {
    /// A session over the latest version of every table, except those pinned in `versions`.
    pub async fn open(folder: &DataFolder, versions: &BTreeMap<Table, u64>) -> Result<Self> {
        let ctx = context(folder)?;
        let (mut opened, mut made_by, mut deltas) =
            (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
        for table in Table::ALL {
            let delta = tables::open(folder, table, versions.get(&table).copied()).await?;
            delta.update_datafusion_session(&ctx.state())?;
            ctx.register_table(table.name(), provider(folder.engine(), &delta)?)?;
            opened.insert(table, delta.version().unwrap_or(0));
            deltas.insert(table.name(), delta);
        }
        for derived in DERIVED {
            if let Some(delta) = tables::open_derived(folder, derived).await? {
                delta.update_datafusion_session(&ctx.state())?;
                made_by.insert(*derived, tables::made_by(&delta).await?);
                ctx.register_table(*derived, provider(folder.engine(), &delta)?)?;
                deltas.insert(*derived, delta);
            }
        }
        Ok(Sql {
            ctx,
            folder: folder.clone(),
            versions: opened,
            restriction: None,
            made_by,
            recent: None,
            recently_read: Arc::default(),
            deltas,
        })
    }

    /// Brings a session over the latest versions (unrestricted, [`Sql::open`] without
    /// pinned versions) to the tables' new latest versions, reading only the log entries
    /// since: a session kept between evaluations of the rules.
    pub async fn update(&mut self) -> Result<()> {
        for derived in DERIVED {
            if !self.deltas.contains_key(derived)
                && let Some(delta) = tables::open_derived(&self.folder, derived).await?
            {
                delta.update_datafusion_session(&self.ctx.state())?;
                self.deltas.insert(*derived, delta);
                self.made_by.insert(*derived, serde_json::Value::Null);
            }
        }
        self.bring_up(|_| true).await
    }

    /// [`Sql::update`] of `tables` only, for a caller that knows which tables changed
    /// (the others, derived tables included, stay at the versions the session read).
    pub async fn update_tables(&mut self, tables: &[Table]) -> Result<()> {
        self.bring_up(|name| tables.iter().any(|t| t.name() == name))
            .await
    }

    /// Brings the tables `which` names to their latest versions.
    async fn bring_up(&mut self, which: impl Fn(&str) -> bool) -> Result<()> {
        for (name, delta) in self.deltas.iter_mut().filter(|(n, _)| which(n)) {
            let (before, started) = (delta.version(), std::time::Instant::now());
            delta.update_incremental(None).await?;
            let ms = started.elapsed().as_millis() as u64;
            tracing::debug!(table = name, ?before, after = ?delta.version(), ms, "table brought up to date");
            if delta.version() == before && self.ctx.table_exist(*name)? {
                continue;
            }
            self.ctx.deregister_table(*name)?;
            self.ctx
                .register_table(*name, provider(self.folder.engine(), delta)?)?;
            match Table::ALL.into_iter().find(|t| t.name() == *name) {
                Some(table) => {
                    self.versions.insert(table, delta.version().unwrap_or(0));
                }
                None => {
                    self.made_by.insert(*name, tables::made_by(delta).await?);
                }
            }
        }
        self.recently_read.lock().expect("lock").clear();
        Ok(())
    }

    /// The session, reading the rows the latest ingestion commits added from `recent`
    /// rather than from their files where it holds them ([`Sql::added_since`]).
    pub fn with_recent(self, recent: Arc<RecentCommits>) -> Self {
        Sql {
            recent: Some(recent),
            ..self
        }
    }

    /// Runs a query and collects its result.
    pub async fn query(&self, sql: &str) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let df = self.ctx.sql(sql).await?;
        let schema = df.schema().inner().clone();
        Ok((schema, df.collect().await?))
    }

    /// Runs a query whose `$1`, `$2`, … are the values of `params`, and collects its
    /// result: values enter the plan as literals, never as SQL text.
    pub async fn query_with(
        &self,
        sql: &str,
        params: Vec<ScalarValue>,
    ) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let df = self.ctx.sql(sql).await?.with_param_values(params)?;
        let schema = df.schema().inner().clone();
        Ok((schema, df.collect().await?))
    }

    /// The rows of an event table that appends after `version` added, read at the
    /// session's version: a scan of the data files the `WRITE` commits since then added
    /// and that are still there (the whole table without a version). Imports, ingestion
    /// and the demo append with such commits; the files a rewrite adds (an erasure's
    /// `DELETE`) hold rows that were there before, and are left out. A commit whose log
    /// entry is gone (removed by an erasure's log cleanup) is skipped with a warning.
    /// Not narrowed by [`Sql::restrict`]; none when nothing was appended.
    pub async fn added_since(
        &self,
        table: Table,
        version: Option<u64>,
    ) -> Result<Option<DataFrame>> {
        let Some(since) = version else {
            return Ok(Some(self.ctx.table(table.name()).await?));
        };
        let now = self.versions.get(&table).copied().unwrap_or(0);
        if let Some(df) = self.recently_added(table, since, now).await? {
            return Ok((now > since).then_some(df));
        }
        let current = tables::open(&self.folder, table, Some(now)).await?;
        let log = current.log_store();
        let mut added = Vec::new();
        for v in since + 1..=now {
            let Some(entry) = log.read_commit_entry(v).await? else {
                tracing::warn!(%table, version = v, "commit gone: its rows are not evaluated");
                continue;
            };
            let actions = get_actions(v, &entry)?;
            let appends = actions.iter().any(
                |a| matches!(a, Action::CommitInfo(c) if c.operation.as_deref() == Some("WRITE")),
            );
            added.extend(actions.into_iter().filter_map(|a| match a {
                Action::Add(add) if appends => Some(add),
                _ => None,
            }));
        }
        if added.is_empty() {
            return Ok(None);
        }
        let files = FileSelection::from_adds(added)
            .with_missing_file_policy(MissingSelectedFilePolicy::Ignore);
        let scan = scan(&current)?.with_file_selection(files);
        Ok(Some(self.ctx.read_table(Arc::new(scan))?))
    }

    /// The rows the versions after `since` through `now` added, from the ingestion
    /// commits held in memory, as the table's columns; none unless every one is held and
    /// fits them.
    async fn recently_added(
        &self,
        table: Table,
        since: u64,
        now: u64,
    ) -> Result<Option<DataFrame>> {
        let read = self
            .recently_read
            .lock()
            .expect("lock")
            .get(&(table, since, now))
            .cloned();
        if let Some(rows) = read {
            return Ok(Some(self.ctx.read_table(rows)?));
        }
        let Some(batches) = self
            .recent
            .as_ref()
            .and_then(|r| r.since(table, since, now))
        else {
            return Ok(None);
        };
        let Some(rows) = self.in_memory(table, &batches).await? else {
            return Ok(None);
        };
        let mut read = self.recently_read.lock().expect("lock");
        read.insert((table, since, now), rows.clone());
        Ok(Some(self.ctx.read_table(rows)?))
    }

    /// Ingested rows of `table` as a frame of the table's columns; none unless they fit.
    pub async fn ingested_rows(
        &self,
        table: Table,
        batches: &[RecordBatch],
    ) -> Result<Option<DataFrame>> {
        match self.in_memory(table, batches).await? {
            Some(rows) => Ok(Some(self.ctx.read_table(rows)?)),
            None => Ok(None),
        }
    }

    /// Ingested rows of `table` as a table of its columns; none unless they fit.
    async fn in_memory(
        &self,
        table: Table,
        batches: &[RecordBatch],
    ) -> Result<Option<Arc<MemTable>>> {
        let schema = Arc::new(
            self.ctx
                .table(table.name())
                .await?
                .schema()
                .as_arrow()
                .clone(),
        );
        let Some(aligned) = batches
            .iter()
            .map(|b| align(b, &schema))
            .collect::<Option<Vec<_>>>()
        else {
            tracing::debug!(%table, "ingested rows do not fit the table's columns: read from files");
            return Ok(None);
        };
        Ok(Some(Arc::new(MemTable::try_new(schema, vec![aligned])?)))
    }

    /// Per commit after `version` through the session's, the ingested rows and those
    /// `condition` matched as they were ingested, when the session reads recent commits
    /// and holds every one with the condition's matches ([`RecentCommits::matched`]).
    pub fn matched_since(
        &self,
        table: Table,
        version: Option<u64>,
        condition: &Expr,
    ) -> Option<Vec<Matched>> {
        let now = self.versions.get(&table).copied().unwrap_or(0);
        self.recent
            .as_ref()?
            .matched(table, version?, now, condition)
    }

    /// Has `conditions` evaluated on the rows ingested into each table from now on, when
    /// the session reads recent commits ([`RecentCommits::watch`]).
    pub fn watch(&self, conditions: BTreeMap<Table, Vec<Expr>>) {
        if let Some(recent) = &self.recent {
            for table in Table::ALL {
                let watched = conditions.get(&table).cloned().unwrap_or_default();
                recent.watch(table, watched);
            }
        }
    }

    /// Every version of a derived table whose commit records how it was made, with that
    /// record (`cxray.made_by`), oldest first; none when the table does not exist.
    pub async fn derived_history(&self, name: &str) -> Result<Vec<(u64, serde_json::Value)>> {
        match tables::open_derived(&self.folder, name).await? {
            Some(t) => tables::made_by_history(&t).await,
            None => Ok(Vec::new()),
        }
    }

    /// A derived table as at `version`, read as the session reads its tables, as a frame
    /// (registered nowhere).
    pub async fn derived_at(&self, name: &str, version: u64) -> Result<DataFrame> {
        let delta = tables::open_derived_at(&self.folder, name, Some(version))
            .await?
            .ok_or_else(|| StoreError::Input(format!("there is no table {name}")))?;
        delta.update_datafusion_session(&self.ctx.state())?;
        Ok(self
            .ctx
            .read_table(provider(self.folder.engine(), &delta)?)?)
    }

    /// The column names of a registered table.
    pub async fn columns(&self, table: &str) -> Result<Vec<String>> {
        let df = self.ctx.table(table).await?;
        Ok(df
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect())
    }

    /// The distinct values of a column, as text, in order (nulls left out).
    pub async fn distinct(&self, table: &str, column: &str) -> Result<Vec<String>> {
        let (_, batches) = self
            .query(&format!(
                "SELECT DISTINCT CAST(\"{column}\" AS VARCHAR) AS v FROM \"{table}\" ORDER BY v"
            ))
            .await?;
        let mut out = Vec::new();
        for b in &batches {
            let c = Columns::new(b);
            let v = c.text("v")?;
            out.extend((0..c.rows()).filter_map(|r| v.str(r)).map(str::to_string));
        }
        Ok(out)
    }

    /// Runs `query` and keeps its result in memory, as a table for [`Sql::with_table`].
    pub async fn materialise(&self, query: &str) -> Result<Arc<dyn TableProvider>> {
        Ok(self.ctx.sql(query).await?.cache().await?.into_view())
    }

    /// A session with no table whose queries run where this session's run.
    pub fn blank(&self) -> Result<SessionContext> {
        context(&self.folder)
    }

    /// Writes the frame's rows into the folder `dir` as Snappy-compressed Parquet: by
    /// DataFusion's writers (a file per partition) when the engine is embedded; from a
    /// cluster into one file as its result streams back, since its executors cannot write
    /// to this machine's disk.
    pub async fn write_parquet(&self, df: DataFrame, dir: &Path) -> Result<()> {
        if *self.folder.engine() == Engine::Embedded {
            let mut options = TableParquetOptions::default();
            options.global.compression = Some("snappy".into());
            let path = format!("{}/", dir.display());
            df.write_parquet(&path, DataFrameWriteOptions::new(), Some(options))
                .await?;
            return Ok(());
        }
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
        let path = dir.join("part-0.parquet");
        let file = std::fs::File::create(&path).map_err(|e| StoreError::io(&path, e))?;
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
        let mut stream = df.execute_stream().await?;
        let mut writer = ArrowWriter::try_new(file, stream.schema(), Some(properties))
            .map_err(DataFusionError::from)?;
        while let Some(batch) = stream.next().await {
            writer.write(&batch?).map_err(DataFusionError::from)?;
        }
        writer.close().map_err(DataFusionError::from)?;
        Ok(())
    }

    /// A private copy of the session with `table` registered as `name`: the copy reads the
    /// same tables (same versions, same restriction), but a name registered in it is its
    /// own, never seen by this session or by other copies, so an intermediate is a value
    /// handed to the analyses that use it. (A clone of the session's state would share its
    /// catalog, and a name registered there would be global.)
    pub async fn with_table(&self, name: &str, table: Arc<dyn TableProvider>) -> Result<Sql> {
        let ctx = context(&self.folder)?;
        let options = self.ctx.copied_config();
        let defaults = &options.options().catalog;
        let schema = self
            .ctx
            .catalog(&defaults.default_catalog)
            .and_then(|c| c.schema(&defaults.default_schema));
        for existing in schema.map(|s| s.table_names()).unwrap_or_default() {
            if existing != name {
                ctx.register_table(existing.as_str(), self.ctx.table_provider(&existing).await?)?;
            }
        }
        ctx.register_table(name, table)?;
        Ok(Sql {
            ctx,
            folder: self.folder.clone(),
            versions: self.versions.clone(),
            restriction: self.restriction.clone(),
            made_by: self.made_by.clone(),
            recent: self.recent.clone(),
            recently_read: self.recently_read.clone(),
            deltas: self.deltas.clone(),
        })
    }

    /// Narrows the session to the restriction's customers and to events in its period:
    /// every table with a `customer_id` is re-registered as a filtered view of itself, so
    /// every analysis that follows sees only that population and period. The values are
    /// typed as their columns (a value the column's type cannot hold is bad input) and
    /// enter the plan as literals, never as SQL text.
    pub async fn restrict(&mut self, restriction: Restriction) -> Result<()> {
        let ids = self.customer_ids(&restriction.customers).await?;
        let mut names: Vec<&str> = Table::ALL
            .iter()
            .filter(|t| t.has_customer())
            .map(|t| t.name())
            .collect();
        names.extend(self.made_by.keys().copied());
        let bounds = [
            (restriction.from, true),
            (restriction.to.and_then(|d| d.succ_opt()), false),
        ];
        for name in names {
            let mut df = self.ctx.table(name).await?;
            let mut narrowed = false;
            if let Some(ids) = &ids {
                df = of_customers(df, ids.clone())?;
                narrowed = true;
            }
            // Events only: a customer's first_seen says nothing about the period.
            let timed = Table::ALL
                .iter()
                .find(|t| t.name() == name && **t != Table::Customers)
                .and_then(|t| t.time_column());
            for (day, from) in bounds {
                let (Some(column), Some(day)) = (timed, day) else {
                    continue;
                };
                let instant = typed(df.schema().as_arrow(), column, &format!("{day}T00:00:00Z"))?;
                df = df.filter(match from {
                    true => ident(column).gt_eq(lit(instant)),
                    false => ident(column).lt(lit(instant)),
                })?;
                narrowed = true;
            }
            if narrowed {
                let view = df.into_view();
                self.ctx.deregister_table(name)?;
                self.ctx.register_table(name, view)?;
            }
        }
        self.restriction = Some(restriction);
        Ok(())
    }

    /// The ids of the customers whose columns equal the values (none without any), typed
    /// as their columns.
    pub async fn customer_ids(&self, equal: &[(String, String)]) -> Result<Option<DataFrame>> {
        if equal.is_empty() {
            return Ok(None);
        }
        let customers = self.ctx.table(Table::Customers.name()).await?;
        let mut predicate: Option<Expr> = None;
        for (column, value) in equal {
            let value = typed(customers.schema().as_arrow(), column, value)?;
            let equals = ident(column).eq(lit(value));
            predicate = Some(match predicate {
                Some(p) => p.and(equals),
                None => equals,
            });
        }
        let predicate = predicate.expect("at least one condition");
        Ok(Some(
            customers
                .filter(predicate)?
                .select_columns(&["customer_id"])?,
        ))
    }

    /// How the session was narrowed by [`Sql::restrict`], if it was.
    pub fn restriction(&self) -> Option<&Restriction> {
        self.restriction.as_ref()
    }

    /// The data folder the tables are read from.
    pub fn folder(&self) -> &DataFolder {
        &self.folder
    }

    /// The version each event table is read at.
    pub fn versions(&self) -> &BTreeMap<Table, u64> {
        &self.versions
    }

    /// How a derived table present in the session was made (`Null` when not recorded).
    pub fn made_by(&self, derived: &str) -> Option<&serde_json::Value> {
        self.made_by.get(derived)
    }

    /// The DataFusion session, for callers that build plans themselves.
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }
}
