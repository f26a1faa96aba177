//! Trips and visits, the unit of the journey analyses, registered in the session as the
//! cached tables `visits` and `trips`.
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

use std::collections::BTreeMap;

use super::by_touchpoint;
use crate::Result;
use crate::ops::Sla;
use crate::sql::{Sql, day_sql};

/// Registers `visits` (customer_id, trip, touchpoint, failed, long_wait, bad) and `trips`
/// (customer_id, trip, end_day, observed, defected, later_spend, past_purchases,
/// tenure_days).
pub async fn register(sql: &Sql, window_days: u32, slas: &BTreeMap<String, Sla>) -> Result<()> {
    let limits = slas
        .iter()
        .filter_map(|(tp, s)| Some((tp, format!("{:?}", s.max_wait_seconds?))));
    let limit = by_touchpoint(limits).unwrap_or_else(|| "CAST(NULL AS DOUBLE)".into());
    let (order, orders, order_trip) = match by_order(sql).await? {
        true => (
            "order_id",
            format!(
                " LEFT JOIN (SELECT order_id, min({}) AS day FROM transactions GROUP BY order_id) o
                   ON o.order_id = ix.order_id",
                day_sql("at")
            ),
            "max(o.day)",
        ),
        false => ("CAST(NULL AS VARCHAR)", String::new(), "NULL"),
    };
    let visits = format!(
        "WITH days AS (SELECT DISTINCT customer_id, {day} AS day FROM transactions),
         ix AS (SELECT customer_id, touchpoint, {day} AS day,
                       CASE WHEN outcome = 'failed' THEN 1 ELSE 0 END AS failed,
                       CASE WHEN wait_seconds > {limit} THEN 1 ELSE 0 END AS long_wait,
                       {order} AS order_id, row_number() OVER () AS id
                FROM interactions),
         keyed AS (SELECT ix.id, max(ix.customer_id) AS customer_id, max(ix.touchpoint) AS touchpoint,
                          max(ix.day) AS day, max(ix.failed) AS failed, max(ix.long_wait) AS long_wait,
                          COALESCE({order_trip}, max(d.day)) AS trip
                   FROM ix JOIN days d ON d.customer_id = ix.customer_id AND d.day <= ix.day{orders}
                   GROUP BY ix.id)
         SELECT customer_id, trip, touchpoint, max(day) AS day, max(failed) AS failed,
                max(long_wait) AS long_wait, greatest(max(failed), max(long_wait)) AS bad
         FROM keyed GROUP BY customer_id, trip, touchpoint",
        day = day_sql("at"),
    );
    sql.cache_as("visits", &visits).await?;
    let trips = format!(
        "WITH days AS (SELECT customer_id, {day} AS day, CAST(sum(amount) AS DOUBLE) AS amount
                       FROM transactions GROUP BY 1, 2),
         data_end AS (SELECT max(day) AS day FROM days),
         ends AS (SELECT customer_id, trip, max(day) AS end_day FROM visits GROUP BY customer_id, trip)
         SELECT e.customer_id, e.trip, e.end_day,
                e.end_day + {window_days} <= max(data_end.day) AS observed,
                count(CASE WHEN d.day > e.end_day AND d.day <= e.end_day + {window_days} THEN 1 END) = 0 AS defected,
                COALESCE(sum(CASE WHEN d.day > e.end_day AND d.day <= e.end_day + {window_days} THEN d.amount END), 0.0) AS later_spend,
                count(CASE WHEN d.day < e.trip THEN 1 END) AS past_purchases,
                e.trip - min(d.day) AS tenure_days
         FROM ends e CROSS JOIN data_end JOIN days d ON d.customer_id = e.customer_id
         GROUP BY e.customer_id, e.trip, e.end_day",
        day = day_sql("at"),
    );
    sql.cache_as("trips", &trips).await
}

/// Whether interactions can be linked to their purchase by `order_id`.
async fn by_order(sql: &Sql) -> Result<bool> {
    let has = |columns: Vec<String>| columns.iter().any(|c| c == "order_id");
    Ok(has(sql.columns("transactions").await?) && has(sql.columns("interactions").await?))
}
