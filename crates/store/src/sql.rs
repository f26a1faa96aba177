//! SQL over the event tables with Apache DataFusion.

use std::collections::BTreeMap;
use std::sync::Arc;

use cxray_core::domain::Table;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::TableProvider;
use datafusion::prelude::{SessionConfig, SessionContext};
use deltalake_core::DeltaTable;
use deltalake_core::delta_datafusion::{DeltaScanConfigBuilder, DeltaScanNext};

use crate::folder::DataFolder;
use crate::tables::DERIVED;
use crate::{Result, tables};

/// SQL for the UTC day (days since the Unix epoch, BIGINT) of a timestamp column.
pub(crate) fn day_sql(column: &str) -> String {
    format!("CAST(floor(to_unixtime({column}) / 86400.0) AS BIGINT)")
}

/// The table's scan at its loaded version. Its filters reach the Parquet decoder through
/// DataFusion's filter pushdown; the Delta scan only skips files with them, since pushing
/// them itself as well would evaluate every filter twice.
fn provider(delta: &DeltaTable) -> Result<Arc<dyn TableProvider>> {
    let snapshot = delta.snapshot()?.snapshot();
    let config = DeltaScanConfigBuilder::new()
        .with_parquet_pushdown(false)
        .build(snapshot)?;
    Ok(Arc::new(DeltaScanNext::new(snapshot.clone(), config)?))
}

/// A DataFusion session with every event table registered under its name. Files named
/// by path in a query (`SELECT * FROM 'export.csv'`) can be read as well.
pub struct Sql {
    ctx: SessionContext,
    versions: BTreeMap<Table, u64>,
    /// Per derived table present: how its latest version was made (`cxray.made_by`).
    made_by: BTreeMap<&'static str, serde_json::Value>,
}

impl Sql {
    /// A session over the latest version of every table, except those pinned in `versions`.
    pub async fn open(folder: &DataFolder, versions: &BTreeMap<Table, u64>) -> Result<Self> {
        // Filters are applied while Parquet is decoded, so columns of rows a filter drops
        // are not decoded at all (most analyses filter before they aggregate). The page
        // index is not read and filter columns are not cached for the output: both cost
        // more per scattered kept row than they save (NPS answers are every sixth row of
        // `responses`); a lookup of one customer still skips row groups by statistics.
        let config = SessionConfig::new()
            .with_information_schema(true)
            .set_bool("datafusion.execution.parquet.pushdown_filters", true)
            .set_bool("datafusion.execution.parquet.reorder_filters", true)
            .set_bool("datafusion.execution.parquet.enable_page_index", false)
            .set_u64("datafusion.execution.parquet.max_predicate_cache_size", 0);
        let ctx = SessionContext::new_with_config(config).enable_url_table();
        let (mut opened, mut made_by) = (BTreeMap::new(), BTreeMap::new());
        for table in Table::ALL {
            let delta = tables::open(folder, table, versions.get(&table).copied()).await?;
            delta.update_datafusion_session(&ctx.state())?;
            ctx.register_table(table.name(), provider(&delta)?)?;
            opened.insert(table, delta.version().unwrap_or(0));
        }
        for derived in DERIVED {
            if let Some(delta) = tables::open_derived(folder, derived).await? {
                delta.update_datafusion_session(&ctx.state())?;
                made_by.insert(*derived, tables::made_by(&delta).await?);
                ctx.register_table(*derived, provider(&delta)?)?;
            }
        }
        Ok(Sql {
            ctx,
            versions: opened,
            made_by,
        })
    }

    /// Runs a query and collects its result.
    pub async fn query(&self, sql: &str) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let df = self.ctx.sql(sql).await?;
        let schema = df.schema().inner().clone();
        Ok((schema, df.collect().await?))
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
            let text = cast(b.column(0), &DataType::Utf8)?;
            let text = text.as_string::<i32>();
            out.extend(
                (0..b.num_rows())
                    .filter(|&r| !text.is_null(r))
                    .map(|r| text.value(r).to_string()),
            );
        }
        Ok(out)
    }

    /// Runs `query`, keeps its result in memory and registers it as `name`, replacing an
    /// earlier one.
    pub async fn cache_as(&self, name: &str, query: &str) -> Result<()> {
        let cached = self.ctx.sql(query).await?.cache().await?;
        self.ctx.deregister_table(name)?;
        self.ctx.register_table(name, cached.into_view())?;
        Ok(())
    }

    /// Narrows the session to the customers matching `customers` (a SQL predicate over
    /// the customers table) and to events at or after `from` and before `to` (RFC 3339
    /// instants): every table with a `customer_id` is re-registered as a filtered view of
    /// itself, so every analysis that follows sees only that population and period.
    pub async fn restrict(
        &self,
        customers: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<()> {
        let mut names: Vec<&str> = Table::ALL
            .iter()
            .filter(|t| t.has_customer())
            .map(|t| t.name())
            .collect();
        names.extend(self.made_by.keys().copied());
        for name in &names {
            let base = self.ctx.table_provider(*name).await?;
            self.ctx.register_table(format!("base_{name}"), base)?;
        }
        for name in names {
            let mut conditions = Vec::new();
            if let Some(p) = customers {
                conditions.push(format!(
                    "customer_id IN (SELECT customer_id FROM base_customers WHERE {p})"
                ));
            }
            // Events only: a customer's first_seen says nothing about the period.
            let timed = Table::ALL
                .iter()
                .find(|t| t.name() == name && **t != Table::Customers)
                .and_then(|t| t.time_column());
            if let (Some(column), Some(from)) = (timed, from) {
                conditions.push(format!("{column} >= CAST('{from}' AS TIMESTAMP)"));
            }
            if let (Some(column), Some(to)) = (timed, to) {
                conditions.push(format!("{column} < CAST('{to}' AS TIMESTAMP)"));
            }
            if conditions.is_empty() {
                continue;
            }
            let query = format!(
                "SELECT * FROM base_{name} WHERE {}",
                conditions.join(" AND ")
            );
            let view = self.ctx.sql(&query).await?.into_view();
            self.ctx.deregister_table(name)?;
            self.ctx.register_table(name, view)?;
        }
        Ok(())
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
