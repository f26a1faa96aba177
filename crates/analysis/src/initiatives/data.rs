//! A recorded initiative against the data: its scope checked, and its unit × week panel
//! built as a DataFusion plan.

use chrono::NaiveDate;
use cxray_core::initiatives::{Initiative, Panel, Row};
use datafusion::arrow::datatypes::DataType;
use datafusion::functions_aggregate::expr_fn::{max, min};
use datafusion::logical_expr::Expr;
use datafusion::prelude::{DataFrame, cast, col, lit};

use cxray_store::decode::Columns;
use cxray_store::sql::Sql;
use cxray_store::{Result, StoreError};

use super::Outcome;

/// Checks an initiative against the interactions: its scope column is one of theirs, its
/// values and touchpoints occur, and every start lies within their dates. The error names
/// the field and lists what the data has.
pub async fn check_scope(sql: &Sql, i: &Initiative) -> Result<()> {
    let columns = sql.columns("interactions").await?;
    let column = &i.scope.column;
    if !columns.contains(column) {
        let message = format!(
            "scope column '{column}' is not a column of the interactions (columns: {})",
            columns.join(", ")
        );
        return Err(StoreError::invalid("scope", message));
    }
    let values = sql.distinct("interactions", column).await?;
    missing(
        "scope",
        &i.scope.values,
        &values,
        &format!("{column} values"),
    )?;
    let touchpoints = sql.distinct("interactions", "touchpoint").await?;
    missing(
        "touchpoints",
        &i.scope.touchpoints,
        &touchpoints,
        "touchpoints",
    )?;
    let (first, last) = date_range(sql).await?;
    let starts =
        std::iter::once(("start", i.start)).chain(i.starts.values().map(|&d| ("starts", d)));
    for (field, start) in starts {
        if start <= first || start > last {
            let message = format!(
                "start {start}: outside the interactions (after {first}, up to {last}), so \
                 there is nothing to compare before or after it"
            );
            return Err(StoreError::invalid(field, message));
        }
    }
    Ok(())
}

fn missing(field: &'static str, asked: &[String], have: &[String], what: &str) -> Result<()> {
    match asked.iter().find(|a| !have.contains(a)) {
        Some(a) => Err(StoreError::invalid(
            field,
            format!("'{a}' is not in the data ({what}: {})", have.join(", ")),
        )),
        None => Ok(()),
    }
}

/// The first and last day with interactions.
async fn date_range(sql: &Sql) -> Result<(NaiveDate, NaiveDate)> {
    let day = |e: Expr| cast(e, DataType::Date32);
    let batches = sql
        .context()
        .table("interactions")
        .await?
        .aggregate(
            vec![],
            vec![
                day(min(col("at"))).alias("first"),
                day(max(col("at"))).alias("last"),
            ],
        )?
        .collect()
        .await?;
    let none = || StoreError::NoData("no interactions".into());
    let b = batches.first().ok_or_else(none)?;
    let c = Columns::new(b);
    let (first, last) = (c.date("first")?, c.date("last")?);
    Ok((
        first.date(0).ok_or_else(none)?,
        last.date(0).ok_or_else(none)?,
    ))
}

/// The interactions of `df` at the initiative's touchpoints (all when it names none).
pub(super) fn at_touchpoints(df: DataFrame, i: &Initiative) -> Result<DataFrame> {
    if i.scope.touchpoints.is_empty() {
        return Ok(df);
    }
    let list = i
        .scope
        .touchpoints
        .iter()
        .map(|t| lit(t.as_str()))
        .collect();
    Ok(df.filter(col("touchpoint").in_list(list, false))?)
}

/// The initiative's panel: every value of its scope column is a unit, weeks (from
/// Monday) are periods, the outcome is taken at the scoped touchpoints (see [`Outcome`]),
/// and the scope's values are treated from their starts; `window_days` is the defection
/// window.
pub async fn panel(sql: &Sql, i: &Initiative, outcome: Outcome, window_days: u32) -> Result<Panel> {
    let batches = outcome.weekly(sql, i, window_days).await?.collect().await?;
    let days = |d: NaiveDate| (d - NaiveDate::default()).num_days();
    let mut rows = Vec::new();
    for b in &batches {
        let c = Columns::new(b);
        let (unit, period, value) = (c.text("unit")?, c.date("period")?, c.float("outcome")?);
        for r in 0..c.rows() {
            let (Some(u), Some(p), Some(y)) = (unit.str(r), period.date(r), value.f64(r)) else {
                continue;
            };
            rows.push(Row {
                unit: u.to_string(),
                period: days(p),
                outcome: y,
                treated_from: i.start_of(u).map(days),
            });
        }
    }
    if rows.is_empty() {
        return Err(StoreError::NoData(format!(
            "no {} to measure: nothing at the initiative's touchpoints has a value of {}",
            outcome.label(),
            i.scope.column
        )));
    }
    rows.sort_by(|a, b| (&a.unit, a.period).cmp(&(&b.unit, b.period)));
    Panel::new(&rows).map_err(StoreError::analysis)
}
