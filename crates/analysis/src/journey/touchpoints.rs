//! Per-touchpoint figures: volume, failures, waits and service-level breaches from the
//! interactions; dropout after a bad experience against trips through the same
//! touchpoint without one.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use datafusion::arrow::datatypes::DataType;
use datafusion::functions::expr_fn::date_trunc;
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::logical_expr::{Expr, JoinType};
use datafusion::prelude::{DataFrame, cast, col, lit};
use serde::{Deserialize, Serialize};

use super::derived::TripData;
use super::masks::{Mask, Touchpoints};
use crate::loyalty::epoch_month;
use cxray_store::Result;
use cxray_store::decode::Columns;
use cxray_store::sql::Sql;

/// What the interactions say of one touchpoint.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Counts {
    pub touchpoint: String,
    pub journey: Option<String>,
    pub stage: Option<String>,
    pub owner: Option<String>,
    pub channel: Option<String>,
    pub interactions: u64,
    pub failures: u64,
    pub wait_p50: Option<f64>,
    pub wait_p90: Option<f64>,
    pub first_day: i64,
    pub last_day: i64,
    /// Observed trips through the touchpoint: with a bad experience there and how many of
    /// them defected; without one and how many defected.
    pub bad_trips: u64,
    pub bad_defected: u64,
    pub ok_trips: u64,
    pub ok_defected: u64,
    pub long_waits: u64,
}

/// Reads the counts of every touchpoint: volume, failures and waits from the
/// interactions, trips and their outcomes from the derived trips.
pub(super) async fn counts(sql: &Sql, data: &TripData) -> Result<Vec<Counts>> {
    let mut out = interaction_counts(sql).await?;
    let outcomes = visit_counts(data).await?;
    for c in &mut out {
        if let Some(v) = outcomes.get(&c.touchpoint) {
            (c.bad_trips, c.bad_defected, c.ok_trips, c.ok_defected) = v.trips;
            c.long_waits = v.long_waits;
        }
    }
    Ok(out)
}

async fn interaction_counts(sql: &Sql) -> Result<Vec<Counts>> {
    let query = format!(
        "SELECT touchpoint, {counts},
                approx_percentile_cont(wait_seconds, 0.5) AS p50,
                approx_percentile_cont(wait_seconds, 0.9) AS p90
         FROM interactions GROUP BY touchpoint ORDER BY touchpoint",
        counts = counts_sql()
    );
    let (_, batches) = sql.query(&query).await?;
    let mut out = Vec::new();
    for b in &batches {
        let c = Columns::new(b);
        let (p50, p90) = (c.float("p50")?, c.float("p90")?);
        for (r, counts) in read_counts(&c)?.into_iter().enumerate() {
            out.push(Counts {
                wait_p50: p50.f64(r),
                wait_p90: p90.f64(r),
                ..counts
            });
        }
    }
    Ok(out)
}

/// The additive counts of a touchpoint's interactions, as SQL select items (the first and
/// last day from the first and last instant: the day is monotonic in the instant).
fn counts_sql() -> String {
    let day = cxray_store::sql::day_sql;
    format!(
        "max(journey) AS journey, max(stage) AS stage, max(owner) AS owner,
         max(channel) AS channel, count(*) AS interactions,
         count(CASE WHEN outcome = 'failed' THEN 1 END) AS failures,
         {first} AS first_day, {last} AS last_day",
        first = day("min(at)"),
        last = day("max(at)"),
    )
}

/// The [`counts_sql`] of every row, with `touchpoint` (no waits, no trips).
fn read_counts(c: &Columns) -> Result<Vec<Counts>> {
    let (tp, journey, stage, owner, channel) = (
        c.text("touchpoint")?,
        c.text("journey")?,
        c.text("stage")?,
        c.text("owner")?,
        c.text("channel")?,
    );
    let (n, failures) = (c.int("interactions")?, c.int("failures")?);
    let (first, last) = (c.int("first_day")?, c.int("last_day")?);
    let owned = |col: &cxray_store::decode::Column, r| col.str(r).map(str::to_string);
    Ok((0..c.rows())
        .map(|r| Counts {
            touchpoint: owned(&tp, r).unwrap_or_default(),
            journey: owned(&journey, r),
            stage: owned(&stage, r),
            owner: owned(&owner, r),
            channel: owned(&channel, r),
            interactions: n.count(r),
            failures: failures.count(r),
            first_day: first.i64(r).unwrap_or(0),
            last_day: last.i64(r).unwrap_or(0),
            ..Counts::default()
        })
        .collect())
}

/// Per touchpoint, from the trips: observed trips through it with and without a bad
/// experience there and how many of each defected, and trips with a long wait there.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub(crate) struct VisitCounts {
    trips: (u64, u64, u64, u64),
    long_waits: u64,
}

impl VisitCounts {
    fn add(&mut self, o: &VisitCounts) {
        let (a, b) = (&mut self.trips, o.trips);
        (a.0, a.1, a.2, a.3) = (a.0 + b.0, a.1 + b.1, a.2 + b.2, a.3 + b.3);
        self.long_waits += o.long_waits;
    }
}

/// Counts the trips grouped by their masks and outcome, then each pattern's touchpoints.
async fn visit_counts(data: &TripData) -> Result<BTreeMap<String, VisitCounts>> {
    let mut all = visits(data.trips.clone(), &data.touchpoints, &[]).await?;
    Ok(all.remove(&Vec::new()).unwrap_or_default())
}

/// [`visit_counts`] per value of the `by` columns (text) of `trips`.
async fn visits(
    trips: DataFrame,
    tps: &Touchpoints,
    by: &[&str],
) -> Result<BTreeMap<Vec<String>, BTreeMap<String, VisitCounts>>> {
    let mut keys = tps.all_columns();
    keys.extend(["observed".to_string(), "defected".to_string()]);
    keys.extend(by.iter().map(|b| b.to_string()));
    let batches = trips
        .aggregate(
            keys.iter().map(|k| col(k.as_str())).collect(),
            vec![count(lit(1)).alias("trips")],
        )?
        .collect()
        .await?;
    let mut out: BTreeMap<Vec<String>, BTreeMap<String, VisitCounts>> = BTreeMap::new();
    for b in &batches {
        let c = Columns::new(b);
        let [visited, bad, slow] = Mask::ALL.map(|m| tps.read(&c, m));
        let (visited, bad, slow) = (visited?, bad?, slow?);
        let (observed, defected, n) = (c.int("observed")?, c.int("defected")?, c.int("trips")?);
        let groups = by.iter().map(|g| c.text(g)).collect::<Result<Vec<_>>>()?;
        for r in 0..c.rows() {
            let group = groups
                .iter()
                .map(|g| g.str(r).unwrap_or_default().to_string());
            let of_group = out.entry(group.collect()).or_default();
            let (n, seen, lost) = (n.count(r), observed.count(r) > 0, defected.count(r) > 0);
            for k in visited.set(r, tps.names.len()) {
                let v = of_group.entry(tps.names[k].clone()).or_default();
                if slow.has(r, k) {
                    v.long_waits += n;
                }
                if !seen {
                    continue;
                }
                let (trips, lost_after) = match bad.has(r, k) {
                    true => (&mut v.trips.0, &mut v.trips.1),
                    false => (&mut v.trips.2, &mut v.trips.3),
                };
                *trips += n;
                *lost_after += if lost { n } else { 0 };
            }
        }
    }
    Ok(out)
}

/// A group of customers' touchpoint counts before the trips' outcomes are filled in:
/// additive over groups without shared customers (no wait percentiles).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Partial {
    interactions: BTreeMap<String, Counts>,
    visits: BTreeMap<String, VisitCounts>,
}

impl Partial {
    /// Adds another group's counts: sums, the first and last day, the largest names.
    pub fn add(&mut self, other: &Partial) {
        for o in other.interactions.values() {
            self.add_interactions(o);
        }
        for (tp, v) in &other.visits {
            self.visits.entry(tp.clone()).or_default().add(v);
        }
    }

    /// Adds the interaction counts of one touchpoint (no trips).
    fn add_interactions(&mut self, o: &Counts) {
        let Some(c) = self.interactions.get_mut(&o.touchpoint) else {
            self.interactions.insert(o.touchpoint.clone(), o.clone());
            return;
        };
        c.interactions += o.interactions;
        c.failures += o.failures;
        c.first_day = c.first_day.min(o.first_day);
        c.last_day = c.last_day.max(o.last_day);
        for (mine, theirs) in [
            (&mut c.journey, &o.journey),
            (&mut c.stage, &o.stage),
            (&mut c.owner, &o.owner),
            (&mut c.channel, &o.channel),
        ] {
            *mine = mine.take().max(theirs.clone());
        }
    }

    /// The counts of every touchpoint with interactions, in touchpoint order, as
    /// [`counts`] gives them (without wait percentiles).
    pub fn counts(&self) -> Vec<Counts> {
        let mut out: Vec<Counts> = self.interactions.values().cloned().collect();
        for c in &mut out {
            if let Some(v) = self.visits.get(&c.touchpoint) {
                (c.bad_trips, c.bad_defected, c.ok_trips, c.ok_defected) = v.trips;
                c.long_waits = v.long_waits;
            }
        }
        out
    }
}

/// The first day of the month holding an epoch day, as an epoch day.
fn month_start(day: Expr) -> Expr {
    let date = cast(cast(day, DataType::Int32), DataType::Date32);
    let month = cast(date_trunc(lit("month"), date), DataType::Date32);
    cast(cast(month, DataType::Int32), DataType::Int64)
}

/// Per group of customers by their `by` columns (text; without groups, one group of
/// everyone, keyed by no values), the [`Partial`] of every month (keyed by its first day):
/// interactions by the day they happened, trips by the month of their purchase. `groups`
/// gives the customers (`cid` and the `by` columns, one row per customer) and `by`.
/// Grouping by day and adding the days up here costs a third of grouping by a month
/// computed in the query.
pub(crate) async fn monthly_partials(
    sql: &Sql,
    data: &TripData,
    groups: Option<(&str, &[&str])>,
) -> Result<BTreeMap<Vec<String>, BTreeMap<NaiveDate, Partial>>> {
    let by = groups.map_or(&[][..], |g| g.1);
    let keys: String = by.iter().map(|b| format!("{b}, ")).collect();
    let day = cxray_store::sql::day_sql("at");
    let source = match groups {
        Some((customers, _)) => format!(
            "SELECT interactions.*, {keys}{day} AS day
             FROM interactions JOIN ({customers}) c ON c.cid = interactions.customer_id"
        ),
        None => format!("SELECT *, {day} AS day FROM interactions"),
    };
    let query = format!(
        "SELECT {keys}touchpoint, day, {counts} FROM ({source}) GROUP BY {keys}touchpoint, day",
        counts = counts_sql()
    );
    let (_, batches) = sql.query(&query).await?;
    let mut out: BTreeMap<Vec<String>, BTreeMap<NaiveDate, Partial>> = BTreeMap::new();
    for b in &batches {
        let c = Columns::new(b);
        let groups = by.iter().map(|g| c.text(g)).collect::<Result<Vec<_>>>()?;
        let day = c.int("day")?;
        for (r, counts) in read_counts(&c)?.into_iter().enumerate() {
            let group = groups
                .iter()
                .map(|g| g.str(r).unwrap_or_default().to_string());
            let months = out.entry(group.collect()).or_default();
            let month = months.entry(epoch_month(day.int_at(r)?)).or_default();
            month.add_interactions(&counts);
        }
    }
    let mut trips = data.trips.clone();
    if let Some((customers, _)) = groups {
        let who = sql.context().sql(customers).await?;
        trips = trips.join(who, JoinType::Inner, &["customer_id"], &["cid"], None)?;
    }
    // Trips are few beside interactions, but each of their groups is spread over the
    // touchpoints here: grouped by month, not day.
    let trips = trips.with_column("day", month_start(col("trip")))?;
    let by_day: Vec<&str> = by.iter().copied().chain(["day"]).collect();
    for (mut group, visits) in visits(trips, &data.touchpoints, &by_day).await? {
        let Some(day) = group.pop().and_then(|d| d.parse().ok()) else {
            continue;
        };
        let months = out.entry(group).or_default();
        let partial = months.entry(epoch_month(day)).or_default();
        for (tp, v) in &visits {
            partial.visits.entry(tp.clone()).or_default().add(v);
        }
    }
    Ok(out)
}
