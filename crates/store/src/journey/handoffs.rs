//! Hand-offs: consecutive interactions of a customer, within two days of each other,
//! whose touchpoints have different owners; whether the receiving touchpoint fails more
//! right after one, and the share of its revenue at risk that follows each hand-off.

use cxray_core::stats::{
    Difference, Estimate, Proportion, Settings, proportion, proportion_difference,
};
use datafusion::common::ScalarValue;
use serde::Serialize;

use super::{Money, Touchpoint};
use crate::Result;
use crate::decode::Columns;
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

/// Every hand-off between owners, most frequent first. `owner` is the SQL for an
/// interaction's owner (edits applied) with its parameters.
pub(super) async fn handoffs(
    sql: &Sql,
    (owner, params): (String, Vec<ScalarValue>),
) -> Result<Vec<Handoff>> {
    let query = format!(
        "WITH x AS (SELECT customer_id, touchpoint, outcome, at, {owner} AS owner FROM interactions),
         s AS (
            SELECT owner, touchpoint, outcome, at,
                   lag(owner) OVER (PARTITION BY customer_id ORDER BY at, touchpoint) AS prev_owner,
                   lag(touchpoint) OVER (PARTITION BY customer_id ORDER BY at, touchpoint) AS prev_touchpoint,
                   lag(at) OVER (PARTITION BY customer_id ORDER BY at, touchpoint) AS prev_at
            FROM x)
         SELECT CAST(prev_owner AS VARCHAR) AS from_owner, CAST(prev_touchpoint AS VARCHAR) AS from_touchpoint,
                CAST(owner AS VARCHAR) AS to_owner, CAST(touchpoint AS VARCHAR) AS to_touchpoint,
                count(*) AS n, count(CASE WHEN outcome = 'failed' THEN 1 END) AS failed
         FROM s
         WHERE prev_owner IS NOT NULL AND owner IS NOT NULL AND prev_owner <> owner
           AND to_unixtime(at) - to_unixtime(prev_at) <= 2 * 86400
         GROUP BY from_owner, from_touchpoint, to_owner, to_touchpoint
         ORDER BY n DESC, from_owner, from_touchpoint, to_owner, to_touchpoint"
    );
    let (_, batches) = sql.query_with(&query, params).await?;
    let mut out = Vec::new();
    for b in &batches {
        let c = Columns::new(b);
        let names = ["from_owner", "from_touchpoint", "to_owner", "to_touchpoint"];
        let texts: Vec<_> = names.iter().map(|n| c.text(n)).collect::<Result<_>>()?;
        let (n, failed) = (c.int("n")?, c.int("failed")?);
        for r in 0..c.rows() {
            let Some(t) = texts
                .iter()
                .map(|t| t.str(r))
                .collect::<Option<Vec<&str>>>()
            else {
                continue;
            };
            out.push(Handoff {
                from_owner: t[0].to_string(),
                from_touchpoint: t[1].to_string(),
                to_owner: t[2].to_string(),
                to_touchpoint: t[3].to_string(),
                count: n.count(r),
                failures_after: failed.count(r),
                failure_rate_after: None,
                failure_rate_otherwise: None,
                excess_failure: None,
                revenue_at_risk: None,
            });
        }
    }
    Ok(out)
}
