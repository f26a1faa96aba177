//! Trips, the unit of the journey analyses, as derived data: built once per state of the
//! data (the versions of `transactions` and `interactions`) and of the journey settings
//! (window, service levels), written as Parquet under `derived/journey/<key>/` in the
//! data folder, and read back by every analysis, every filtered view and every command
//! that needs them.
//!
//! A trip is a purchase and the interactions that follow it. When both transactions and
//! interactions carry `order_id`, an interaction belongs to the purchase day of its
//! customer's order with that id; otherwise (and for interactions without such an order)
//! to the customer's latest purchase day on or before it — which gives a trip's
//! interactions to the next one when the customer buys again before travelling. A trip
//! records the touchpoints it went through, where anything failed or a wait broke the
//! touchpoint's service level, and where a wait broke it, as bit masks ([`super::masks`]).
//! Its outcome is read after its last interaction: it is observed when `window_days`
//! after it lie within the data, and the customer defected when they bought nothing in
//! that window.
//!
//! Why persisted, and why masks: the build reads every interaction once, grouped by
//! order (a hash join on the small orders side and an aggregation into one row per
//! order); only interactions without an order need the running purchase day, and only
//! for their customers. Its result is one row per trip (2.4 million at 1M customers,
//! against 22 million interactions), so reading it back costs a small scan, a filtered
//! view is a filter over it instead of a rebuild, and per-touchpoint counts are a grouping
//! of trips by their masks. The build streams its output to files, and the key changes
//! with every input, so a stale build is never read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use cxray_core::domain::Table;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionContext, cast, col, lit};
use serde::Serialize;

use super::handoffs::{self, Pair};
use super::masks::{Mask, Touchpoints};
use super::{JourneyOptions, Params, by_touchpoint, timed};
use cxray_store::decode::Columns;
use cxray_store::sql::{Sql, day_sql, of_customers};
use cxray_store::{Result, StoreError};

/// Bumped when the build's columns or meaning change, so older builds are not read.
const FORMAT: u32 = 3;
/// The file whose presence marks a finished build.
const MADE_BY: &str = "made_by.json";
/// Finished builds kept besides the newest (older ones are removed after a build).
const KEPT: usize = 2;

/// The touchpoints of a build, beside its trips.
const TOUCHPOINTS: &str = "touchpoints.json";
/// The consecutive interactions of a build, counted ([`Pair`]).
const PAIRS: &str = "pairs.json";

/// The trips of one state of the data, narrowed to the session's restriction (its
/// customers, and trips that began in its period).
///
/// `trips`: customer_id, trip (the purchase day), end_day (its last interaction), the
/// mask words of `touchpoints`, observed, defected, later_spend, past_purchases,
/// tenure_days.
pub struct TripData {
    pub(super) trips: DataFrame,
    pub(super) touchpoints: Touchpoints,
    /// The build's pairs, for a session without a restriction.
    pairs: Option<Vec<Pair>>,
}

impl TripData {
    /// Each trip with what it went through: customer_id, trip, end_day, past_purchases and
    /// `bad`, whether anything failed or a wait broke its service level at any touchpoint.
    pub(crate) fn experiences(&self) -> Result<DataFrame> {
        let bad = (self.touchpoints.exprs(Mask::Bad).into_iter())
            .map(|word| word.not_eq(lit(0i64)))
            .reduce(|a, b| a.or(b))
            .unwrap_or(lit(false));
        let columns = ["customer_id", "trip", "end_day", "past_purchases"].map(col);
        Ok(self.trips.clone().select(
            columns
                .into_iter()
                .chain([bad.alias("bad")])
                .collect::<Vec<_>>(),
        )?)
    }

    /// The pairs of consecutive interactions of the session's customers: the build's, or
    /// counted now for a restricted session.
    pub(super) async fn pairs(&self, sql: &Sql) -> Result<Vec<Pair>> {
        match &self.pairs {
            Some(pairs) => Ok(pairs.clone()),
            None => handoffs::pairs(sql.context()).await,
        }
    }
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

/// The trips for the session's data and `opts`, built first if this state of
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
    let trips = sql
        .context()
        .read_parquet(dir_path(&dir.join("trips")), ParquetReadOptions::default())
        .await?;
    Ok(TripData {
        trips: scope(sql, trips).await?,
        touchpoints: read_json(&dir.join(TOUCHPOINTS))?,
        pairs: match sql.restriction() {
            None => Some(read_json(&dir.join(PAIRS))?),
            Some(_) => None,
        },
    })
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read(path).map_err(|e| StoreError::io(path, e))?;
    Ok(serde_json::from_slice(&text)?)
}

fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_vec_pretty(value)?;
    std::fs::write(path, text).map_err(|e| StoreError::io(path, e))
}

/// A directory as DataFusion takes it (a trailing slash).
fn dir_path(dir: &Path) -> String {
    format!("{}/", dir.display())
}

/// Narrows the data to the session's customers and to trips that began in its period.
async fn scope(sql: &Sql, mut trips: DataFrame) -> Result<DataFrame> {
    let Some(r) = sql.restriction() else {
        return Ok(trips);
    };
    if !r.customers.is_empty() {
        let ids = sql
            .context()
            .table("customers")
            .await?
            .select_columns(&["customer_id"])?
            .distinct()?;
        trips = of_customers(trips, ids)?;
    }
    let day = |d: NaiveDate| crate::loyalty::epoch_day(d);
    let bounds = [(r.from.map(day), true), (r.to.map(|d| day(d) + 1), false)];
    for (day, from) in bounds {
        let Some(day) = day else { continue };
        trips = match from {
            true => trips.filter(col("trip").gt_eq(lit(day)))?,
            false => trips.filter(col("trip").lt(lit(day)))?,
        };
    }
    Ok(trips)
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
    let finished = built.and_then(|()| write_json(&tmp.join(MADE_BY), inputs));
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

/// Writes the trips into `out`, reading the session's tables unrestricted: first the
/// interactions grouped into legs (by order where linked, by day where not), then the trips
/// with their outcomes.
async fn build_into(sql: &Sql, opts: &JourneyOptions, out: &Path) -> Result<()> {
    let started = std::time::Instant::now();
    // The source tables as the session reads them (at its versions), without any restriction.
    let reopened = match sql.restriction() {
        None => None,
        Some(_) => Some(Sql::open(sql.folder(), sql.versions()).await?),
    };
    let source = reopened.as_ref().unwrap_or(sql);
    let ctx = build_context(source).await?;
    let tps = timed("touchpoints", touchpoint_names(&ctx)).await?;
    let (legs_sql, params) = legs_sql(opts, &tps, by_order(&ctx).await?);
    let legs = out.join("legs");
    let query = ctx.sql(&legs_sql).await?.with_param_values(params)?;
    timed("legs", source.write_parquet(query, &legs)).await?;
    ctx.register_parquet("legs", dir_path(&legs), ParquetReadOptions::default())
        .await?;
    let trips = ctx.sql(&trips_sql(&tps, opts.window_days)).await?;
    timed("trips", source.write_parquet(trips, &out.join("trips"))).await?;
    ctx.deregister_table("legs")?;
    std::fs::remove_dir_all(&legs).map_err(|e| StoreError::io(&legs, e))?;
    write_json(&out.join(TOUCHPOINTS), &tps)?;
    let pairs = timed("pairs", handoffs::pairs(&ctx)).await?;
    write_json(&out.join(PAIRS), &pairs)?;
    let seconds = started.elapsed().as_secs_f64();
    tracing::info!(seconds, "journey data built");
    Ok(())
}

/// A private session for the build over the source tables of `source`, whose queries run
/// where its do: names registered there are the build's own.
async fn build_context(source: &Sql) -> Result<SessionContext> {
    let ctx = source.blank()?;
    for table in [Table::Transactions, Table::Interactions] {
        let provider = source.context().table_provider(table.name()).await?;
        ctx.register_table(table.name(), provider)?;
    }
    Ok(ctx)
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

/// The touchpoints of the interactions, sorted: the bit order of the masks.
async fn touchpoint_names(ctx: &SessionContext) -> Result<Touchpoints> {
    let batches = ctx
        .table(Table::Interactions.name())
        .await?
        .select(vec![
            cast(col("touchpoint"), DataType::Utf8).alias("touchpoint"),
        ])?
        .distinct()?
        .sort(vec![col("touchpoint").sort(true, true)])?
        .collect()
        .await?;
    let mut names = Vec::new();
    for b in &batches {
        let c = Columns::new(b);
        let tp = c.text("touchpoint")?;
        names.extend((0..c.rows()).filter_map(|r| tp.str(r).map(str::to_string)));
    }
    Ok(Touchpoints { names })
}

/// The legs query and its parameters. A leg is a customer's interactions of one order
/// (`linked`, `key_day` the order's purchase day) or, for interactions not linked to an
/// order of theirs, of one day (`key_day` that day): its last day and its touchpoint masks.
/// Linked interactions before the customer's first purchase are left out.
fn legs_sql(
    opts: &JourneyOptions,
    tps: &Touchpoints,
    by_order: bool,
) -> (String, Vec<ScalarValue>) {
    let mut params = Params::default();
    let waits = opts
        .slas
        .iter()
        .filter_map(|(tp, s)| Some((tp.as_str(), ScalarValue::Float64(Some(s.max_wait_seconds?)))));
    let limit = by_touchpoint(&mut params, "i.touchpoint", waits, "CAST(NULL AS DOUBLE)");
    let zero = "CAST(0 AS BIGINT)";
    let mut bits = Vec::new();
    for w in 0..tps.words() {
        let of_word = tps.names.iter().enumerate().filter_map(|(k, tp)| {
            let (word, bit) = Touchpoints::bit(k);
            (word == w).then(|| (tp.as_str(), ScalarValue::Int64(Some(bit))))
        });
        bits.push(format!(
            "{} AS bit_{w}",
            by_touchpoint(&mut params, "i.touchpoint", of_word, zero)
        ));
    }
    let masks = (0..tps.words())
        .map(|w| {
            format!(
                "bit_or(bit_{w}) AS visited_{w},
                 bit_or(CASE WHEN is_failed + is_slow > 0 THEN bit_{w} ELSE {zero} END) AS bad_{w},
                 bit_or(CASE WHEN is_slow = 1 THEN bit_{w} ELSE {zero} END) AS slow_{w}"
            )
        })
        .collect::<Vec<_>>()
        .join(",\n");
    let (order_day, first_day, orders) = match by_order {
        true => (
            "o.day",
            "o.first_day",
            format!(
                " LEFT JOIN (
                SELECT o.customer_id, o.order_id, o.day, f.first_day
                FROM (SELECT customer_id, order_id, min({day}) AS day FROM transactions
                      WHERE order_id IS NOT NULL GROUP BY customer_id, order_id) o
                JOIN (SELECT customer_id, min({day}) AS first_day FROM transactions
                      GROUP BY customer_id) f ON f.customer_id = o.customer_id) o
              ON o.order_id = i.order_id AND o.customer_id = i.customer_id",
                day = day_sql("at")
            ),
        ),
        false => (
            "CAST(NULL AS BIGINT)",
            "CAST(NULL AS BIGINT)",
            String::new(),
        ),
    };
    let query = format!(
        "WITH ix AS (SELECT i.customer_id, {iday} AS day, {order_day} AS order_day,
                            {first_day} AS first_day,
                            CASE WHEN i.outcome = 'failed' THEN 1 ELSE 0 END AS is_failed,
                            CASE WHEN i.wait_seconds > {limit} THEN 1 ELSE 0 END AS is_slow,
                            {bits}
                     FROM interactions i{orders})
         SELECT customer_id, order_day IS NOT NULL AS linked,
                COALESCE(order_day, day) AS key_day, max(day) AS day,
                {masks}
         FROM ix WHERE order_day IS NULL OR day >= first_day
         GROUP BY customer_id, order_day IS NOT NULL, COALESCE(order_day, day)",
        iday = day_sql("i.at"),
        bits = bits.join(",\n"),
    );
    (query, params.0)
}

/// The trips query over the legs: unlinked legs go to the customer's latest purchase day
/// on or before them (a running `max` over the purchase days of customers who have such
/// legs); then per trip its end, masks and outcome, its customer's history.
fn trips_sql(tps: &Touchpoints, window_days: u32) -> String {
    let masks = tps.all_columns();
    let list =
        |f: &dyn Fn(&str) -> String| masks.iter().map(|m| f(m)).collect::<Vec<_>>().join(", ");
    format!(
        "WITH pd AS (SELECT DISTINCT customer_id, {day} AS day FROM transactions),
         u AS (SELECT customer_id, day, 0 AS kind, {zeros} FROM pd
               WHERE customer_id IN (SELECT customer_id FROM legs WHERE NOT linked)
               UNION ALL
               SELECT customer_id, day, 1 AS kind, {plain} FROM legs WHERE NOT linked),
         latest AS (SELECT customer_id, kind, day, {plain},
                           max(CASE WHEN kind = 0 THEN day END) OVER (
                               PARTITION BY customer_id ORDER BY day, kind
                               ROWS UNBOUNDED PRECEDING) AS trip
                    FROM u),
         together AS (SELECT customer_id, key_day AS trip, day, {plain} FROM legs WHERE linked
                      UNION ALL
                      SELECT customer_id, trip, day, {plain} FROM latest
                      WHERE kind = 1 AND trip IS NOT NULL),
         ends AS (SELECT customer_id, trip, max(day) AS end_day, {or}
                  FROM together GROUP BY customer_id, trip),
         days AS (SELECT customer_id, {day} AS day, CAST(sum(amount) AS DOUBLE) AS amount
                  FROM transactions GROUP BY 1, 2),
         data_end AS (SELECT max(day) AS day FROM days)
         SELECT e.customer_id, e.trip, max(e.end_day) AS end_day, {kept},
                max(e.end_day) + {w} <= max(data_end.day) AS observed,
                count(CASE WHEN d.day > e.end_day AND d.day <= e.end_day + {w} THEN 1 END) = 0 AS defected,
                COALESCE(sum(CASE WHEN d.day > e.end_day AND d.day <= e.end_day + {w} THEN d.amount END), 0.0) AS later_spend,
                count(CASE WHEN d.day < e.trip THEN 1 END) AS past_purchases,
                e.trip - min(d.day) AS tenure_days
         FROM ends e CROSS JOIN data_end JOIN days d ON d.customer_id = e.customer_id
         GROUP BY e.customer_id, e.trip",
        day = day_sql("at"),
        w = window_days,
        zeros = list(&|m| format!("CAST(0 AS BIGINT) AS {m}")),
        plain = list(&|m| m.to_string()),
        or = list(&|m| format!("bit_or({m}) AS {m}")),
        kept = list(&|m| format!("max(e.{m}) AS {m}")),
    )
}
