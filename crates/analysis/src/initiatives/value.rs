//! What a recorded initiative's measured effect on the failure rate is worth: failures
//! avoided a year (the effect × the interactions a year at its touchpoints in its units)
//! × the excess dropout after a bad experience at those
//! touchpoints (the journey's trips with one against those without, pooled over the
//! touchpoints) × the mean CLV, against its recorded costs over `years` — the core's
//! [`business_case`].

use cxray_core::initiatives::{Benefit, BusinessCase, Costs, Effect, Initiative, business_case};
use cxray_core::stats::{Estimate, Proportion, proportion_difference};
use datafusion::arrow::datatypes::DataType;
use datafusion::functions_aggregate::expr_fn::{count, max, min};
use datafusion::prelude::{cast, col, ident, lit};
use serde::Serialize;

use cxray_store::decode::Columns;
use cxray_store::sql::Sql;
use cxray_store::{Result, StoreError};

use crate::journey::{self, JourneyOptions, Touchpoint, leavers};

/// The business case with the volumes it stands on.
#[derive(Debug, Clone, Serialize)]
pub struct Valued {
    /// Interactions a year at the initiative's touchpoints in its units.
    pub interactions_per_year: f64,
    /// Leaving after a trip with a bad experience at those touchpoints minus without, a
    /// fraction.
    pub excess_dropout: Estimate,
    pub mean_clv: f64,
    #[serde(flatten)]
    pub case: BusinessCase,
}

/// The business case of `effect` (on the failure rate) over `years`; none when customers
/// are not valued or the journey has no trips with and without a bad experience there.
pub async fn value_of(
    sql: &Sql,
    opts: &JourneyOptions,
    i: &Initiative,
    effect: &Effect,
    years: f64,
) -> Result<Option<Valued>> {
    let map = journey::journey_without_handoffs(sql, opts).await?;
    let scoped: Vec<&Touchpoint> = map
        .touchpoints
        .iter()
        .filter(|t| i.scope.touchpoints.is_empty() || i.scope.touchpoints.contains(&t.touchpoint))
        .collect();
    let (Some(clv), Some(excess)) = (map.mean_clv, pooled_excess(&scoped)) else {
        return Ok(None);
    };
    let interactions = yearly_interactions(sql, i).await?;
    let benefit = Benefit::Failures {
        rate_change: effect.absolute,
        interactions,
        excess_dropout: excess,
        clv: Estimate::point(clv),
    };
    let costs = Costs {
        one_off: i.one_off_cost,
        running: i.running_cost,
        years,
    };
    let case = business_case(&benefit, &costs).map_err(StoreError::analysis)?;
    Ok(Some(Valued {
        interactions_per_year: interactions,
        excess_dropout: excess,
        mean_clv: clv,
        case,
    }))
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

/// The interactions a year at the initiative's touchpoints in its units: their count over
/// the days from the first to the last of them, as the journey counts a year.
async fn yearly_interactions(sql: &Sql, i: &Initiative) -> Result<f64> {
    let units = i.scope.values.iter().map(|v| lit(v.as_str())).collect();
    let interactions = sql.context().table("interactions").await?;
    let in_units = cast(ident(&i.scope.column), DataType::Utf8).in_list(units, false);
    let df = super::data::at_touchpoints(interactions.filter(in_units)?, i)?;
    let day = cast(col("at"), DataType::Date32);
    let aggregates = vec![
        count(lit(1)).alias("n"),
        min(day.clone()).alias("first"),
        max(day).alias("last"),
    ];
    let batches = df.aggregate(vec![], aggregates)?.collect().await?;
    let Some(b) = batches.first().filter(|b| b.num_rows() > 0) else {
        return Ok(0.0);
    };
    let c = Columns::new(b);
    let n = c.int("n")?.i64(0).unwrap_or(0) as f64;
    let (Some(first), Some(last)) = (c.date("first")?.date(0), c.date("last")?.date(0)) else {
        return Ok(0.0);
    };
    let years = ((last - first).num_days() + 1) as f64 / 365.25;
    Ok(n / years)
}
