//! Per-touchpoint figures: volume, failures, waits and service-level breaches from the
//! interactions; dropout after a bad experience against trips through the same
//! touchpoint without one.

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};

use crate::Result;
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

/// Reads the counts of every touchpoint (needs the `visits` and `trips` tables).
pub(super) async fn counts(sql: &Sql) -> Result<Vec<Counts>> {
    let day = crate::sql::day_sql("at");
    let query = format!(
        "WITH i AS (
            SELECT touchpoint, max(journey) AS journey, max(stage) AS stage, max(owner) AS owner,
                   max(channel) AS channel, count(*) AS interactions,
                   count(CASE WHEN outcome = 'failed' THEN 1 END) AS failures,
                   approx_percentile_cont(wait_seconds, 0.5) AS p50,
                   approx_percentile_cont(wait_seconds, 0.9) AS p90,
                   min({day}) AS first_day, max({day}) AS last_day
            FROM interactions GROUP BY touchpoint),
         b AS (
            SELECT v.touchpoint,
                   count(CASE WHEN v.bad = 1 THEN 1 END) AS bad_trips,
                   count(CASE WHEN v.bad = 1 AND t.defected THEN 1 END) AS bad_defected,
                   count(CASE WHEN v.bad = 0 THEN 1 END) AS ok_trips,
                   count(CASE WHEN v.bad = 0 AND t.defected THEN 1 END) AS ok_defected
            FROM visits v JOIN trips t ON t.customer_id = v.customer_id AND t.trip = v.trip
            WHERE t.observed GROUP BY v.touchpoint),
         w AS (SELECT touchpoint, sum(long_wait) AS long_waits FROM visits GROUP BY touchpoint)
         SELECT i.touchpoint, i.journey, i.stage, i.owner, i.channel,
                CAST(i.interactions AS BIGINT), CAST(i.failures AS BIGINT),
                CAST(i.p50 AS DOUBLE), CAST(i.p90 AS DOUBLE), i.first_day, i.last_day,
                CAST(COALESCE(b.bad_trips, 0) AS BIGINT), CAST(COALESCE(b.bad_defected, 0) AS BIGINT),
                CAST(COALESCE(b.ok_trips, 0) AS BIGINT), CAST(COALESCE(b.ok_defected, 0) AS BIGINT),
                CAST(COALESCE(w.long_waits, 0) AS BIGINT)
         FROM i LEFT JOIN b ON b.touchpoint = i.touchpoint LEFT JOIN w ON w.touchpoint = i.touchpoint
         ORDER BY i.touchpoint"
    );
    let (_, batches) = sql.query(&query).await?;
    let mut out = Vec::new();
    for b in &batches {
        read(b, &mut out)?;
    }
    Ok(out)
}

fn read(b: &RecordBatch, out: &mut Vec<Counts>) -> Result<()> {
    let texts: Vec<_> = (0..5)
        .map(|i| cast(b.column(i), &DataType::Utf8))
        .collect::<std::result::Result<_, _>>()?;
    let text = |i: usize, r: usize| {
        let a = texts[i].as_string::<i32>();
        (!a.is_null(r)).then(|| a.value(r).to_string())
    };
    let int = |i: usize, r: usize| b.column(i).as_primitive::<Int64Type>().value(r);
    let float = |i: usize, r: usize| {
        let a = b.column(i).as_primitive::<Float64Type>();
        (!a.is_null(r)).then(|| a.value(r))
    };
    for r in 0..b.num_rows() {
        out.push(Counts {
            touchpoint: text(0, r).unwrap_or_default(),
            journey: text(1, r),
            stage: text(2, r),
            owner: text(3, r),
            channel: text(4, r),
            interactions: int(5, r) as u64,
            failures: int(6, r) as u64,
            wait_p50: float(7, r),
            wait_p90: float(8, r),
            first_day: int(9, r),
            last_day: int(10, r),
            bad_trips: int(11, r) as u64,
            bad_defected: int(12, r) as u64,
            ok_trips: int(13, r) as u64,
            ok_defected: int(14, r) as u64,
            long_waits: int(15, r) as u64,
        });
    }
    Ok(())
}
