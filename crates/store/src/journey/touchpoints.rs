//! Per-touchpoint figures: volume, failures, waits and service-level breaches from the
//! interactions; dropout after a bad experience against trips through the same
//! touchpoint without one.

use std::collections::BTreeMap;

use datafusion::functions_aggregate::expr_fn::{count, sum};
use datafusion::prelude::{Expr, col, lit, when};

use super::derived::TripData;
use crate::Result;
use crate::decode::Columns;
use crate::sql::Sql;

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
/// interactions, trips and their outcomes from the derived visits.
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
    let day = crate::sql::day_sql("at");
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
        let owned = |col: &crate::decode::Column, r| col.str(r).map(str::to_string);
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

/// Per touchpoint, from the visits: observed trips with and without a bad experience
/// there and how many of each defected, and visits with a long wait.
struct VisitCounts {
    trips: (u64, u64, u64, u64),
    long_waits: u64,
}

async fn visit_counts(data: &TripData) -> Result<BTreeMap<String, VisitCounts>> {
    let observed = col("observed");
    let bad = col("bad").eq(lit(1));
    let ok = col("bad").eq(lit(0));
    let defected = col("defected");
    let counted = |cond: Expr, name: &str| -> Result<Expr> {
        Ok(count(when(cond, lit(1)).end()?).alias(name))
    };
    let batches = data
        .visits
        .clone()
        .aggregate(
            vec![col("touchpoint")],
            vec![
                counted(observed.clone().and(bad.clone()), "bad_trips")?,
                counted(
                    observed.clone().and(bad).and(defected.clone()),
                    "bad_defected",
                )?,
                counted(observed.clone().and(ok.clone()), "ok_trips")?,
                counted(observed.and(ok).and(defected), "ok_defected")?,
                sum(col("long_wait")).alias("long_waits"),
            ],
        )?
        .collect()
        .await?;
    let mut out = BTreeMap::new();
    for b in &batches {
        let c = Columns::new(b);
        let tp = c.text("touchpoint")?;
        let names = [
            "bad_trips",
            "bad_defected",
            "ok_trips",
            "ok_defected",
            "long_waits",
        ];
        let cols: Vec<_> = names.iter().map(|n| c.int(n)).collect::<Result<_>>()?;
        for r in 0..c.rows() {
            let Some(name) = tp.str(r) else { continue };
            let n = |i: usize| cols[i].count(r);
            out.insert(
                name.to_string(),
                VisitCounts {
                    trips: (n(0), n(1), n(2), n(3)),
                    long_waits: n(4),
                },
            );
        }
    }
    Ok(out)
}
