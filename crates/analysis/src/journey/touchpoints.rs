//! Per-touchpoint figures: volume, failures, waits and service-level breaches from the
//! interactions; dropout after a bad experience against trips through the same
//! touchpoint without one.

use std::collections::BTreeMap;

use datafusion::functions_aggregate::expr_fn::count;
use datafusion::prelude::{col, lit};

use super::derived::TripData;
use super::masks::Mask;
use cxray_store::Result;
use cxray_store::decode::Columns;
use cxray_store::sql::Sql;

/// What the interactions say of one touchpoint.
#[derive(Debug, Clone, Default)]
pub(super) struct Counts {
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
    let day = cxray_store::sql::day_sql("at");
    let query = format!(
        "SELECT touchpoint, max(journey) AS journey, max(stage) AS stage, max(owner) AS owner,
                max(channel) AS channel, count(*) AS interactions,
                count(CASE WHEN outcome = 'failed' THEN 1 END) AS failures,
                approx_percentile_cont(wait_seconds, 0.5) AS p50,
                approx_percentile_cont(wait_seconds, 0.9) AS p90,
                min({day}) AS first_day, max({day}) AS last_day
         FROM interactions GROUP BY touchpoint ORDER BY touchpoint"
    );
    let (_, batches) = sql.query(&query).await?;
    let mut out = Vec::new();
    for b in &batches {
        let c = Columns::new(b);
        let (tp, journey, stage, owner, channel) = (
            c.text("touchpoint")?,
            c.text("journey")?,
            c.text("stage")?,
            c.text("owner")?,
            c.text("channel")?,
        );
        let (n, failures, p50, p90) = (
            c.int("interactions")?,
            c.int("failures")?,
            c.float("p50")?,
            c.float("p90")?,
        );
        let (first, last) = (c.int("first_day")?, c.int("last_day")?);
        let owned = |col: &cxray_store::decode::Column, r| col.str(r).map(str::to_string);
        for r in 0..c.rows() {
            out.push(Counts {
                touchpoint: owned(&tp, r).unwrap_or_default(),
                journey: owned(&journey, r),
                stage: owned(&stage, r),
                owner: owned(&owner, r),
                channel: owned(&channel, r),
                interactions: n.count(r),
                failures: failures.count(r),
                wait_p50: p50.f64(r),
                wait_p90: p90.f64(r),
                first_day: first.i64(r).unwrap_or(0),
                last_day: last.i64(r).unwrap_or(0),
                ..Counts::default()
            });
        }
    }
    Ok(out)
}

/// Per touchpoint, from the trips: observed trips through it with and without a bad
/// experience there and how many of each defected, and trips with a long wait there.
#[derive(Default)]
struct VisitCounts {
    trips: (u64, u64, u64, u64),
    long_waits: u64,
}

/// Counts the trips grouped by their masks and outcome, then each pattern's touchpoints.
async fn visit_counts(data: &TripData) -> Result<BTreeMap<String, VisitCounts>> {
    let tps = &data.touchpoints;
    let mut keys = tps.all_columns();
    keys.extend(["observed".to_string(), "defected".to_string()]);
    let batches = data
        .trips
        .clone()
        .aggregate(
            keys.iter().map(|k| col(k.as_str())).collect(),
            vec![count(lit(1)).alias("trips")],
        )?
        .collect()
        .await?;
    let mut out: BTreeMap<String, VisitCounts> = BTreeMap::new();
    for b in &batches {
        let c = Columns::new(b);
        let [visited, bad, slow] = Mask::ALL.map(|m| tps.read(&c, m));
        let (visited, bad, slow) = (visited?, bad?, slow?);
        let (observed, defected, n) = (c.int("observed")?, c.int("defected")?, c.int("trips")?);
        for r in 0..c.rows() {
            let (n, seen, lost) = (n.count(r), observed.count(r) > 0, defected.count(r) > 0);
            for k in visited.set(r, tps.names.len()) {
                let v = out.entry(tps.names[k].clone()).or_default();
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
