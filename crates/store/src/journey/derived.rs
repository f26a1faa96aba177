//! Trips and visits, the unit of the journey analyses, as derived data: built once per
//! state of the data (the versions of `transactions` and `interactions`) and of the
//! journey settings (window, service levels), written as Parquet under
//! `derived/journey/<key>/` in the data folder, and read back by every analysis, every
//! filtered view and every command that needs them.
//!
//! A trip is a purchase and the interactions that follow it. When both transactions and
//! interactions carry `order_id`, an interaction belongs to its order's purchase day;
//! otherwise (and for interactions without a known order) to the customer's latest
//! purchase day on or before it — which gives a trip's interactions to the next one when
//! the customer buys again before travelling. A visit is a trip's stop at one
//! touchpoint: whether anything failed there and whether a wait broke the touchpoint's
//! service level. A trip's outcome is read after its last interaction: it is observed when
//! `window_days` after it lie within the data, and the customer defected when they bought
//! nothing in that window.
//!
//! Why persisted: the build is the expensive part (a sort of every interaction by
//! customer); its result is a few columns per visit, so reading it back costs a scan,
//! memory stays bounded by DataFusion's streaming operators, and a filtered view is a
//! filter over it instead of a rebuild. The build streams its output to files, and the
//! key changes with every input, so a stale build is never read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use cxray_core::domain::Table;
use datafusion::common::ScalarValue;
use datafusion::common::config::TableParquetOptions;
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::logical_expr::JoinType;
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionContext, col, lit};
use serde::Serialize;

use super::JourneyOptions;
use crate::sql::{Sql, day_sql};
use crate::{Result, StoreError};

/// Bumped when the build's columns or meaning change, so older builds are not read.
const FORMAT: u32 = 1;
/// The file whose presence marks a finished build.
const MADE_BY: &str = "made_by.json";
/// Finished builds kept besides the newest (older ones are removed after a build).
const KEPT: usize = 2;

/// Separates the touchpoints in a trip's `bad_touchpoints` (a control character, so no
/// touchpoint name can contain it by accident).
pub(super) const SEPARATOR: char = '\u{1f}';

/// The trips and visits of one state of the data, narrowed to the session's restriction
/// (its customers, and trips that began in its period).
///
/// `visits`: customer_id, trip (the purchase day), touchpoint, day (the last interaction
/// there), failed, long_wait, bad (0/1), observed, defected (the trip's outcome).
/// `trips`: customer_id, trip, end_day, bad_touchpoints (names joined by [`SEPARATOR`],
/// sorted), observed, defected, later_spend, past_purchases, tenure_days.
pub struct TripData {
    pub(super) visits: DataFrame,
    pub(super) trips: DataFrame,
}

/// What a build depends on: its key is a hash of this.
#[derive(Debug, Serialize)]
struct Inputs {
    format: u32,
    transactions: u64,
    interactions: u64,
    window_days: u32,
    /// Touchpoint → the longest acceptable wait (seconds).
    waits: BTreeMap<String, f64>,
}

impl Inputs {
    fn new(sql: &Sql, opts: &JourneyOptions) -> Self {
        let version = |t: Table| sql.versions().get(&t).copied().unwrap_or(0);
        Inputs {
            format: FORMAT,
            transactions: version(Table::Transactions),
            interactions: version(Table::Interactions),
            window_days: opts.window_days,
            waits: opts
                .slas
                .iter()
                .filter_map(|(tp, s)| Some((tp.clone(), s.max_wait_seconds?)))
                .collect(),
        }
    }

    fn key(&self) -> Result<String> {
        let json = serde_json::to_vec(self)?;
        Ok(blake3::hash(&json).to_hex()[..24].to_string())
    }
}

/// One build at a time in this process; a second caller waits and then finds it done.
static BUILDING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The trips and visits for the session's data and `opts`, built first if this state of
/// the data has not been built yet.
pub async fn load(sql: &Sql, opts: &JourneyOptions) -> Result<TripData> {
    let inputs = Inputs::new(sql, opts);
    let root = sql.folder().root().join("derived").join("journey");
    let dir = root.join(inputs.key()?);
    if !dir.join(MADE_BY).is_file() {
        let _one = BUILDING.lock().await;
        if !dir.join(MADE_BY).is_file() {
            build(sql, opts, &inputs, &dir).await?;
            prune(&root, &dir);
        }
    }
    let ctx = sql.context();
    let visits = read(ctx, &dir.join("visits")).await?;
    let trips = read(ctx, &dir.join("trips")).await?;
    scope(sql, visits, trips).await
}

async fn read(ctx: &SessionContext, dir: &Path) -> Result<DataFrame> {
    Ok(ctx
        .read_parquet(dir_path(dir), ParquetReadOptions::default())
        .await?)
}

/// A directory as DataFusion takes it (a trailing slash).
fn dir_path(dir: &Path) -> String {
    format!("{}/", dir.display())
}

/// Narrows the data to the session's customers and to trips that began in its period.
async fn scope(sql: &Sql, visits: DataFrame, trips: DataFrame) -> Result<TripData> {
    let Some(r) = sql.restriction() else {
        return Ok(TripData { visits, trips });
    };
    let (mut visits, mut trips) = (visits, trips);
    if !r.customers.is_empty() {
        let ids = sql
            .context()
            .table("customers")
            .await?
            .select_columns(&["customer_id"])?
            .distinct()?;
        let semi = |df: DataFrame| {
            df.join(
                ids.clone(),
                JoinType::LeftSemi,
                &["customer_id"],
                &["customer_id"],
                None,
            )
        };
        visits = semi(visits)?;
        trips = semi(trips)?;
    }
    let day = |d: NaiveDate| crate::loyalty::epoch_day(d);
    let bounds = [(r.from.map(day), true), (r.to.map(|d| day(d) + 1), false)];
    for (day, from) in bounds {
        let Some(day) = day else { continue };
        let keep = |df: DataFrame| match from {
            true => df.filter(col("trip").gt_eq(lit(day))),
            false => df.filter(col("trip").lt(lit(day))),
        };
        visits = keep(visits)?;
        trips = keep(trips)?;
    }
    Ok(TripData { visits, trips })
}

/// Builds into a temporary folder beside `dir`, then renames it into place.
async fn build(sql: &Sql, opts: &JourneyOptions, inputs: &Inputs, dir: &Path) -> Result<()> {
    let parent = dir.parent().expect("a key folder has a parent");
    std::fs::create_dir_all(parent).map_err(|e| StoreError::io(parent, e))?;
    let tmp = parent.join(format!(
        ".build-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    ));
    let built = build_into(sql, opts, &tmp).await;
    let made_by = serde_json::to_vec_pretty(inputs)?;
    let finished = built.and_then(|()| {
        let path = tmp.join(MADE_BY);
        std::fs::write(&path, made_by).map_err(|e| StoreError::io(&path, e))
    });
    if let Err(e) = finished {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if std::fs::rename(&tmp, dir).is_err() {
        // Another process finished the same build first: keep its result.
        let _ = std::fs::remove_dir_all(&tmp);
        if !dir.join(MADE_BY).is_file() {
            return Err(StoreError::Input(format!(
                "could not move the journey build into {}",
                dir.display()
            )));
        }
    }
    Ok(())
}

/// Removes finished builds other than `newest` and the [`KEPT`] most recent others.
fn prune(root: &Path, newest: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    let mut builds: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p != newest && p.join(MADE_BY).is_file())
        .filter_map(|p| Some((p.join(MADE_BY).metadata().ok()?.modified().ok()?, p)))
        .collect();
    builds.sort();
    let old = builds.len().saturating_sub(KEPT);
    for (_, path) in builds.into_iter().take(old) {
        let _ = std::fs::remove_dir_all(path);
    }
}

/// Writes `visits` and `trips` into `out`, reading the session's tables unrestricted.
async fn build_into(sql: &Sql, opts: &JourneyOptions, out: &Path) -> Result<()> {
    let started = std::time::Instant::now();
    let ctx = build_context(sql).await?;
    let by_order = by_order(&ctx).await?;
    let (visits_sql, params) = visits_sql(opts, by_order);
    let raw = out.join("visits_raw");
    let visits = ctx.sql(&visits_sql).await?.with_param_values(params)?;
    write(visits, &raw).await?;
    ctx.register_parquet("visits", dir_path(&raw), ParquetReadOptions::default())
        .await?;
    let trips = out.join("trips");
    write(ctx.sql(&trips_sql(opts.window_days)).await?, &trips).await?;
    ctx.register_parquet("trips", dir_path(&trips), ParquetReadOptions::default())
        .await?;
    write(ctx.sql(VISITS_WITH_OUTCOMES).await?, &out.join("visits")).await?;
    ctx.deregister_table("visits")?;
    std::fs::remove_dir_all(&raw).map_err(|e| StoreError::io(&raw, e))?;
    let seconds = started.elapsed().as_secs_f64();
    tracing::info!(seconds, "journey data built");
    Ok(())
}

/// A private session for the build over the source tables as the session reads them (at
/// its versions, without any restriction): names registered here are the build's own.
async fn build_context(sql: &Sql) -> Result<SessionContext> {
    let source = match sql.restriction() {
        None => None,
        Some(_) => Some(Sql::open(sql.folder(), sql.versions()).await?),
    };
    let source = source.as_ref().unwrap_or(sql).context();
    let ctx =
        SessionContext::new_with_config_rt(crate::sql::session_config(), source.runtime_env());
    for table in [Table::Transactions, Table::Interactions] {
        let provider = source.table_provider(table.name()).await?;
        ctx.register_table(table.name(), provider)?;
    }
    Ok(ctx)
}

async fn write(df: DataFrame, dir: &Path) -> Result<()> {
    let mut options = TableParquetOptions::default();
    options.global.compression = Some("snappy".into());
    df.write_parquet(&dir_path(dir), DataFrameWriteOptions::new(), Some(options))
        .await?;
    Ok(())
}

/// Whether interactions can be linked to their purchase by `order_id`.
async fn by_order(ctx: &SessionContext) -> Result<bool> {
    let mut has = true;
    for table in [Table::Transactions, Table::Interactions] {
        let df = ctx.table(table.name()).await?;
        has &= df.schema().fields().iter().any(|f| f.name() == "order_id");
    }
    Ok(has)
}

/// The visits query and its parameters: each touchpoint with a service level and its
/// longest acceptable wait.
fn visits_sql(opts: &JourneyOptions, by_order: bool) -> (String, Vec<ScalarValue>) {
    let mut params = Vec::new();
    let mut arms = String::new();
    for (tp, sla) in &opts.slas {
        let Some(max) = sla.max_wait_seconds else {
            continue;
        };
        arms.push_str(&format!(
            " WHEN touchpoint = ${} THEN ${}",
            params.len() + 1,
            params.len() + 2
        ));
        params.push(ScalarValue::Utf8(Some(tp.clone())));
        params.push(ScalarValue::Float64(Some(max)));
    }
    let limit = match arms.is_empty() {
        true => "CAST(NULL AS DOUBLE)".to_string(),
        false => format!("CASE{arms} END"),
    };
    let (order_day, orders) = match by_order {
        true => (
            "o.day",
            format!(
                " LEFT JOIN (SELECT order_id, min({}) AS day FROM transactions GROUP BY order_id) o
                   ON o.order_id = i.order_id",
                day_sql("at")
            ),
        ),
        false => ("CAST(NULL AS BIGINT)", String::new()),
    };
    let query = format!(
        "WITH pd AS (SELECT DISTINCT customer_id, {day} AS day FROM transactions),
         firsts AS (SELECT customer_id, min(day) AS first_day FROM pd GROUP BY customer_id),
         ix AS (SELECT i.customer_id, i.touchpoint, {iday} AS day,
                       CASE WHEN i.outcome = 'failed' THEN 1 ELSE 0 END AS failed,
                       CASE WHEN i.wait_seconds > {limit} THEN 1 ELSE 0 END AS long_wait,
                       {order_day} AS order_day
                FROM interactions i{orders}),
         linked AS (SELECT ix.customer_id, ix.order_day AS trip, ix.touchpoint, ix.day,
                           ix.failed, ix.long_wait
                    FROM ix JOIN firsts f ON f.customer_id = ix.customer_id
                    WHERE ix.order_day IS NOT NULL AND ix.day >= f.first_day),
         u AS (SELECT customer_id, day, 0 AS kind, CAST(NULL AS VARCHAR) AS touchpoint,
                      0 AS failed, 0 AS long_wait FROM pd
               UNION ALL
               SELECT customer_id, day, 1 AS kind, CAST(touchpoint AS VARCHAR), failed, long_wait
               FROM ix WHERE order_day IS NULL),
         latest AS (SELECT customer_id, kind, touchpoint, day, failed, long_wait,
                           max(CASE WHEN kind = 0 THEN day END) OVER (
                               PARTITION BY customer_id ORDER BY day, kind
                               ROWS UNBOUNDED PRECEDING) AS trip
                    FROM u),
         unlinked AS (SELECT customer_id, trip, touchpoint, day, failed, long_wait
                      FROM latest WHERE kind = 1 AND trip IS NOT NULL),
         together AS (SELECT customer_id, trip, CAST(touchpoint AS VARCHAR) AS touchpoint, day,
                             failed, long_wait FROM linked
                      UNION ALL SELECT * FROM unlinked)
         SELECT customer_id, trip, touchpoint, max(day) AS day, max(failed) AS failed,
                max(long_wait) AS long_wait, greatest(max(failed), max(long_wait)) AS bad
         FROM together GROUP BY customer_id, trip, touchpoint",
        day = day_sql("at"),
        iday = day_sql("i.at"),
    );
    (query, params)
}

/// The trips query over the built `visits`: end, bad touchpoints, outcome, history.
fn trips_sql(window_days: u32) -> String {
    format!(
        "WITH days AS (SELECT customer_id, {day} AS day, CAST(sum(amount) AS DOUBLE) AS amount
                       FROM transactions GROUP BY 1, 2),
         data_end AS (SELECT max(day) AS day FROM days),
         ends AS (SELECT customer_id, trip, max(day) AS end_day,
                         COALESCE(array_to_string(
                             array_agg(touchpoint ORDER BY touchpoint) FILTER (WHERE bad = 1),
                             chr(31)), '') AS bad_touchpoints
                  FROM visits GROUP BY customer_id, trip)
         SELECT e.customer_id, e.trip, e.end_day, e.bad_touchpoints,
                e.end_day + {w} <= max(data_end.day) AS observed,
                count(CASE WHEN d.day > e.end_day AND d.day <= e.end_day + {w} THEN 1 END) = 0 AS defected,
                COALESCE(sum(CASE WHEN d.day > e.end_day AND d.day <= e.end_day + {w} THEN d.amount END), 0.0) AS later_spend,
                count(CASE WHEN d.day < e.trip THEN 1 END) AS past_purchases,
                e.trip - min(d.day) AS tenure_days
         FROM ends e CROSS JOIN data_end JOIN days d ON d.customer_id = e.customer_id
         GROUP BY e.customer_id, e.trip, e.end_day, e.bad_touchpoints",
        day = day_sql("at"),
        w = window_days,
    )
}

/// Every visit with its trip's outcome.
const VISITS_WITH_OUTCOMES: &str =
    "SELECT v.customer_id, v.trip, v.touchpoint, v.day, v.failed, v.long_wait, v.bad,
            t.observed, t.defected
     FROM visits v JOIN trips t ON t.customer_id = v.customer_id AND t.trip = v.trip";
