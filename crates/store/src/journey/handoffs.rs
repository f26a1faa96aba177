//! Hand-offs: consecutive interactions of a customer, within two days of each other,
//! whose touchpoints have different owners; whether the receiving touchpoint fails more
//! right after one, and the share of its revenue at risk that follows each hand-off.

use cxray_core::stats::{
    Difference, Estimate, Proportion, Settings, proportion, proportion_difference,
};
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use serde::Serialize;

use super::{Money, Touchpoint};
use crate::Result;
use crate::sql::Sql;

/// One kind of hand-off and how often the receiving touchpoint then failed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Handoff {
    pub from_owner: String,
    pub from_touchpoint: String,
    pub to_owner: String,
    pub to_touchpoint: String,
    pub count: u64,
    pub failures_after: u64,
    /// The receiving touchpoint's failure rate (percent) right after this hand-off, at its
    /// other interactions, and the difference (percentage points, Newcombe interval).
    pub failure_rate_after: Option<Estimate>,
    pub failure_rate_otherwise: Option<Estimate>,
    pub excess_failure: Option<Difference>,
    /// The receiving touchpoint's revenue at risk in proportion to the share of its bad
    /// experiences (failures and long waits) that are failures right after this hand-off.
    pub revenue_at_risk: Option<Money>,
}

impl Handoff {
    /// Fills the comparison with the receiving touchpoint and its share of the money.
    pub(super) fn attribute(&mut self, to: &Touchpoint, s: &Settings) {
        let after = Proportion {
            successes: self.failures_after,
            n: self.count,
        };
        let otherwise = Proportion {
            successes: to.failures.saturating_sub(self.failures_after),
            n: to.interactions.saturating_sub(self.count),
        };
        self.failure_rate_after = proportion(after, s).ok();
        self.failure_rate_otherwise = proportion(otherwise, s).ok();
        self.excess_failure = proportion_difference(after, otherwise, s).ok();
        let bad = (to.failures + to.long_waits) as f64;
        let share = if bad > 0.0 {
            self.failures_after as f64 / bad
        } else {
            0.0
        };
        self.revenue_at_risk = to.revenue_at_risk.map(|m| Money {
            value: m.value * share,
            low: m.low * share,
            high: m.high * share,
        });
    }
}

/// Every hand-off between owners, most frequent first.
/// `owner` is the SQL for an interaction's owner (edits applied).
pub(super) async fn handoffs(sql: &Sql, owner: &str) -> Result<Vec<Handoff>> {
    let query = format!(
        "WITH x AS (SELECT customer_id, touchpoint, outcome, at, {owner} AS owner FROM interactions),
         s AS (
            SELECT owner, touchpoint, outcome, at,
                   lag(owner) OVER (PARTITION BY customer_id ORDER BY at) AS prev_owner,
                   lag(touchpoint) OVER (PARTITION BY customer_id ORDER BY at) AS prev_touchpoint,
                   lag(at) OVER (PARTITION BY customer_id ORDER BY at) AS prev_at
            FROM x)
         SELECT CAST(prev_owner AS VARCHAR) AS a, CAST(prev_touchpoint AS VARCHAR) AS b,
                CAST(owner AS VARCHAR) AS c, CAST(touchpoint AS VARCHAR) AS d,
                CAST(count(*) AS BIGINT) AS n,
                CAST(count(CASE WHEN outcome = 'failed' THEN 1 END) AS BIGINT) AS failed
         FROM s
         WHERE prev_owner IS NOT NULL AND owner IS NOT NULL AND prev_owner <> owner
           AND to_unixtime(at) - to_unixtime(prev_at) <= 2 * 86400
         GROUP BY a, b, c, d ORDER BY n DESC, a, b, c, d"
    );
    let (_, batches) = sql.query(&query).await?;
    let mut out = Vec::new();
    for b in &batches {
        let texts: Vec<_> = (0..4)
            .map(|i| cast(b.column(i), &DataType::Utf8))
            .collect::<std::result::Result<_, _>>()?;
        let text = |i: usize, r: usize| texts[i].as_string::<i32>().value(r).to_string();
        let int = |i: usize, r: usize| b.column(i).as_primitive::<Int64Type>().value(r) as u64;
        for r in 0..b.num_rows() {
            if texts.iter().any(|t| t.is_null(r)) {
                continue;
            }
            out.push(Handoff {
                from_owner: text(0, r),
                from_touchpoint: text(1, r),
                to_owner: text(2, r),
                to_touchpoint: text(3, r),
                count: int(4, r),
                failures_after: int(5, r),
                failure_rate_after: None,
                failure_rate_otherwise: None,
                excess_failure: None,
                revenue_at_risk: None,
            });
        }
    }
    Ok(out)
}
