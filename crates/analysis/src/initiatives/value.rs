//! What a recorded initiative's measured effect is worth, against its recorded costs over
//! `years` (the core's [`business_case`]): on the failure rate, failures avoided a year
//! (the effect × the interactions a year at its touchpoints in its units) × the excess
//! dropout after a bad experience at those touchpoints (the journey's trips with one
//! against those without, pooled over the touchpoints) × the mean CLV; on leaving, the
//! effect × the customers at those touchpoints in its units in the data's last year × the
//! mean CLV; on the revenue per customer, the effect × the buying customers a year in its
//! units, counted per week.

use cxray_core::initiatives::{Benefit, BusinessCase, Costs, Effect, Initiative, business_case};
use cxray_core::stats::{Estimate, Proportion, proportion_difference};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::functions_aggregate::expr_fn::{count, count_distinct, max};
use datafusion::logical_expr::JoinType;
use datafusion::prelude::{DataFrame, cast, col, ident, lit};
use serde::Serialize;

use cxray_store::decode::Columns;
use cxray_store::sql::Sql;
use cxray_store::{Result, StoreError};

use super::Outcome;
use crate::journey::{self, JourneyOptions, Touchpoint, leavers};

/// The business case with the volumes it stands on.
#[derive(Debug, Clone, Serialize)]
pub struct Valued {
    #[serde(flatten)]
    pub basis: Basis,
    #[serde(flatten)]
    pub case: BusinessCase,
}

/// What the measured effect is multiplied by.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Basis {
    /// An effect on the failure rate.
    Failures {
        /// Interactions a year at the initiative's touchpoints in its units.
        interactions_per_year: f64,
        /// Leaving after a trip with a bad experience at those touchpoints minus without,
        /// a fraction.
        excess_dropout: Estimate,
        /// What a customer kept is worth.
        mean_clv: f64,
    },
    /// An effect on the share of customers leaving after a visit.
    Leaving {
        /// Customers at the initiative's touchpoints in its units in the data's last year.
        customers_per_year: f64,
        mean_clv: f64,
    },
    /// An effect on the revenue per buying customer and week.
    Revenue {
        /// Buying customers a year in the initiative's units, counted per week.
        buyer_weeks_per_year: f64,
    },
}

/// The business case of `effect` on `outcome` (the failure rate, leaving or the revenue
/// per customer) over `years`; none for other outcomes, when customers are not valued
/// (failures and leaving), or, on the failure rate, when the journey has no trips with and
/// without a bad experience there.
pub async fn value_of(
    sql: &Sql,
    opts: &JourneyOptions,
    i: &Initiative,
    (effect, outcome): (&Effect, Outcome),
    years: f64,
) -> Result<Option<Valued>> {
    let Some((basis, benefit)) = benefit(sql, opts, i, (effect, outcome)).await? else {
        return Ok(None);
    };
    let costs = Costs {
        one_off: i.one_off_cost,
        running: i.running_cost,
        years,
    };
    let case = business_case(&benefit, &costs).map_err(StoreError::analysis)?;
    Ok(Some(Valued { basis, case }))
}

/// What the effect is worth a year, and on what.
async fn benefit(
    sql: &Sql,
    opts: &JourneyOptions,
    i: &Initiative,
    (effect, outcome): (&Effect, Outcome),
) -> Result<Option<(Basis, Benefit)>> {
    if outcome == Outcome::RevenuePerCustomer {
        let per_year = super::outcome::buyer_weeks_per_year(sql, i).await?;
        let benefit = Benefit::Revenue {
            change: effect.absolute,
            per_year,
        };
        let basis = Basis::Revenue {
            buyer_weeks_per_year: per_year,
        };
        return Ok(Some((basis, benefit)));
    }
    if !matches!(outcome, Outcome::FailureRate | Outcome::Defection) {
        return Ok(None);
    }
    let map = journey::journey_without_handoffs(sql, opts).await?;
    let Some(clv) = map.mean_clv else {
        return Ok(None);
    };
    if outcome == Outcome::FailureRate {
        return failures(sql, i, &map.touchpoints, effect, clv).await;
    }
    let customers = last_year_customers(sql, i).await?;
    let benefit = Benefit::Defection {
        rate_change: effect.absolute,
        customers,
        clv: Estimate::point(clv),
    };
    let basis = Basis::Leaving {
        customers_per_year: customers,
        mean_clv: clv,
    };
    Ok(Some((basis, benefit)))
}

/// The failures' basis and benefit; none when the journey has no trips with and without a
/// bad experience at the initiative's touchpoints.
async fn failures(
    sql: &Sql,
    i: &Initiative,
    touchpoints: &[Touchpoint],
    effect: &Effect,
    clv: f64,
) -> Result<Option<(Basis, Benefit)>> {
    let scoped: Vec<&Touchpoint> = touchpoints
        .iter()
        .filter(|t| i.scope.touchpoints.is_empty() || i.scope.touchpoints.contains(&t.touchpoint))
        .collect();
    let Some(excess) = pooled_excess(&scoped) else {
        return Ok(None);
    };
    let interactions = yearly_interactions(sql, i).await?;
    let benefit = Benefit::Failures {
        rate_change: effect.absolute,
        interactions,
        excess_dropout: excess,
        clv: Estimate::point(clv),
    };
    let basis = Basis::Failures {
        interactions_per_year: interactions,
        excess_dropout: excess,
        mean_clv: clv,
    };
    Ok(Some((basis, benefit)))
}

/// The excess leaving after a bad experience at any of `touchpoints`: their trips with one
/// and without one pooled, Newcombe's interval, as a fraction.
fn pooled_excess(touchpoints: &[&Touchpoint]) -> Option<Estimate> {
    let leavers = |pick: fn(&Touchpoint) -> Option<&Estimate>| {
        touchpoints
            .iter()
            .filter_map(|t| pick(t))
            .map(leavers)
            .fold(Proportion::default(), |sum, p| Proportion {
                successes: sum.successes + p.successes,
                n: sum.n + p.n,
            })
    };
    let bad = leavers(|t| t.dropout_after_bad.as_ref());
    let ok = leavers(|t| t.dropout_after_ok.as_ref());
    let d = proportion_difference(bad, ok, &Default::default()).ok()?;
    let interval = d.low.zip(d.high).map(|(l, h)| (l / 100.0, h / 100.0));
    Some(Estimate::unflagged(
        d.n_a + d.n_b,
        d.value / 100.0,
        interval,
    ))
}

/// The interactions at the initiative's touchpoints in its units.
async fn in_scope(sql: &Sql, i: &Initiative) -> Result<DataFrame> {
    let units = i.scope.values.iter().map(|v| lit(v.as_str())).collect();
    let interactions = sql.context().table("interactions").await?;
    let in_units = cast(ident(&i.scope.column), DataType::Utf8).in_list(units, false);
    super::data::at_touchpoints(interactions.filter(in_units)?, i)
}

/// The interactions a year at the initiative's touchpoints in its units: their count over
/// the days from the first to the last of them, as the journey counts a year.
async fn yearly_interactions(sql: &Sql, i: &Initiative) -> Result<f64> {
    let day = cast(col("at"), DataType::Date32);
    super::outcome::per_year(in_scope(sql, i).await?, count(lit(1)), day, 1).await
}

/// The customers at the initiative's touchpoints in its units in the 365 days up to the
/// last of those interactions.
async fn last_year_customers(sql: &Sql, i: &Initiative) -> Result<f64> {
    let df = in_scope(sql, i).await?;
    let last = df
        .clone()
        .aggregate(vec![], vec![max(col("at")).alias("last")])?;
    let year = df
        .join_on(
            last,
            JoinType::Inner,
            [col("at").gt(col("last") - lit(ScalarValue::new_interval_dt(365, 0)))],
        )?
        .aggregate(vec![], vec![count_distinct(col("customer_id")).alias("n")])?;
    let batches = year.collect().await?;
    let n = match batches.first().filter(|b| b.num_rows() > 0) {
        Some(b) => Columns::new(b).int("n")?.i64(0).unwrap_or(0),
        None => 0,
    };
    Ok(n as f64)
}
