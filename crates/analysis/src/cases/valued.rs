//! The rule conditions on customers' valuations (`customer_value`, a version per `loyalty
//! predict`): customers whose CLV at the latest valuation is above a percentile, and
//! customers whose P(alive) fell below a threshold between the valuation a rule read last
//! (its watermark) and the latest.

use chrono::{DateTime, NaiveDate, Utc};
use cxray_core::cases::event_key;
use cxray_core::domain::Table;
use cxray_store::Result;
use cxray_store::cases::{Candidate, Rule};
use cxray_store::datafusion::arrow::datatypes::DataType;
use cxray_store::datafusion::functions_aggregate::expr_fn::percentile_cont;
use cxray_store::datafusion::logical_expr::JoinType;
use cxray_store::datafusion::prelude::{DataFrame, Expr, cast, col, lit};
use cxray_store::decode::Columns;
use cxray_store::sql::Sql;

use super::matches::narrow;
use crate::loyalty::CUSTOMER_VALUE;

/// The customers (a frame of `customer_id`) whose CLV at the latest valuation is above
/// its `percentile`-th percentile (0–100); none when customers are not valued.
pub(super) async fn above_clv(sql: &Sql, percentile: f64) -> Result<Option<DataFrame>> {
    let Some((version, _)) = sql.derived_history(CUSTOMER_VALUE).await?.pop() else {
        return Ok(None);
    };
    let values = sql.derived_at(CUSTOMER_VALUE, version).await?;
    let at = percentile_cont(col("clv").sort(true, false), lit(percentile / 100.0));
    let threshold = values
        .clone()
        .aggregate(vec![], vec![at.alias("threshold")])?;
    let mut above: Option<f64> = None;
    for b in threshold.collect().await? {
        let c = Columns::new(&b);
        let t = c.float("threshold")?;
        above = above.or((0..c.rows()).find_map(|r| t.f64(r)));
    }
    let keep = above.map_or(lit(false), |t| col("clv").gt(lit(t)));
    Ok(Some(values.filter(keep)?.select(vec![id("customer_id")])?))
}

/// The customer id as text, named `name`.
fn id(name: &str) -> Expr {
    cast(col("customer_id"), DataType::Utf8).alias(name)
}

/// The customers whose P(alive) was at least `below` at the valuation the rule read last
/// and is below it at the latest, as candidates (narrowed by the rule's customer
/// conditions), with the latest valuation's version: the rule's new watermark.
/// A rule that has read no valuation yet takes the latest as its baseline; one whose
/// last valuation's files a vacuum removed does too (with a warning).
pub(super) async fn fell_below(
    sql: &Sql,
    rule: &Rule,
    below: f64,
) -> Result<(Vec<Candidate>, Option<u64>)> {
    let Some((latest, made_by)) = sql.derived_history(CUSTOMER_VALUE).await?.pop() else {
        return Ok((Vec::new(), None));
    };
    let Some(before) = rule.watermark.filter(|w| *w < latest) else {
        return Ok((Vec::new(), Some(latest)));
    };
    let then = match sql.derived_at(CUSTOMER_VALUE, before).await {
        Ok(then) => then,
        Err(e) => {
            tracing::warn!(
                rule = rule.id,
                before,
                "valuation not readable, a new baseline: {e}"
            );
            return Ok((Vec::new(), Some(latest)));
        }
    };
    let then = then
        .filter(col("p_alive").gt_eq(lit(below)))?
        .select(vec![id("then_id"), col("p_alive").alias("p_then")])?;
    let now = sql
        .derived_at(CUSTOMER_VALUE, latest)
        .await?
        .filter(col("p_alive").lt(lit(below)))?
        .select(vec![id("customer_id"), col("p_alive").alias("p_now")])?;
    let fell = now.join(then, JoinType::Inner, &["customer_id"], &["then_id"], None)?;
    let Some(fell) = narrow(sql, rule, fell).await? else {
        return Ok((Vec::new(), Some(latest)));
    };
    let day = made_by["window"]["calibration_end"]
        .as_str()
        .and_then(|d| d.parse::<NaiveDate>().ok());
    let at = day.map_or_else(Utc::now, |d| d.and_time(chrono::NaiveTime::MIN).and_utc());
    let mut out = Vec::new();
    for b in fell.collect().await? {
        decode(&Columns::new(&b), (latest, at), &mut out)?;
    }
    Ok((out, Some(latest)))
}

fn decode(
    c: &Columns,
    (version, at): (u64, DateTime<Utc>),
    out: &mut Vec<Candidate>,
) -> Result<()> {
    let (id, then, now) = (
        c.text("customer_id")?,
        c.float("p_then")?,
        c.float("p_now")?,
    );
    let version = version.to_string();
    for r in 0..c.rows() {
        let customer = id.str(r).unwrap_or_default().to_string();
        let detail = format!(
            "P(alive) fell from {:.2} to {:.2}",
            then.f64(r).unwrap_or_default(),
            now.f64(r).unwrap_or_default()
        );
        out.push(Candidate {
            key: event_key(Table::Customers, &["p_alive", &customer, &version]),
            customer_id: customer,
            at,
            touchpoint: None,
            detail,
            owner: None,
        });
    }
    Ok(())
}
