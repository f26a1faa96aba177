//! What an initiative's effect is measured on, per unit and week: the failure rate and the
//! mean wait of the interactions at its touchpoints, the share of the customers there who
//! left afterwards, the CSAT, NPS and grade of the answers about them, and the revenue per
//! customer — each a DataFusion plan with the columns `unit`, `period` (the week's Monday)
//! and `outcome`.

use datafusion::arrow::datatypes::DataType;
use datafusion::functions::expr_fn::coalesce;
use datafusion::functions::expr_fn::date_trunc;
use datafusion::functions_aggregate::expr_fn::{avg, count, count_distinct, max, min, sum};
use datafusion::logical_expr::{Expr, JoinType, case, when};
use datafusion::prelude::{DataFrame, cast, col, ident, lit};
use serde::Serialize;

use cxray_core::initiatives::Initiative;
use cxray_store::decode::Columns;
use cxray_store::sql::Sql;
use cxray_store::{Result, StoreError};

use super::data::at_touchpoints;
use crate::loyalty::{epoch_day, last_purchase_date};

/// What an initiative's effect is measured on, per unit and week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The share of interactions at its touchpoints that failed.
    FailureRate,
    /// The mean wait in seconds there.
    Wait,
    /// The share of the customers there in a week who bought nothing in the window after
    /// their last visit that week (weeks whose window ends after the data, left out).
    Defection,
    /// The share of CSAT answers about its touchpoints that are satisfied (4 or 5).
    Csat,
    /// The NPS of the answers about its touchpoints (promoters less detractors, −100 to 100).
    Nps,
    /// The grade point average of the report-card answers about its touchpoints (F 0 … A 4).
    Grade,
    /// Revenue per buying customer in the unit's transactions.
    RevenuePerCustomer,
}

/// The unit of each row: the table's own scope column, else the interaction of the same
/// `order_id`.
const ORDER: &str = "order_id";

impl Outcome {
    /// Every outcome, in order.
    pub const ALL: [Outcome; 7] = [
        Outcome::FailureRate,
        Outcome::Wait,
        Outcome::Defection,
        Outcome::Csat,
        Outcome::Nps,
        Outcome::Grade,
        Outcome::RevenuePerCustomer,
    ];

    /// The outcome's name, as the JSON and the API write it.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::FailureRate => "failure_rate",
            Outcome::Wait => "wait",
            Outcome::Defection => "defection",
            Outcome::Csat => "csat",
            Outcome::Nps => "nps",
            Outcome::Grade => "grade",
            Outcome::RevenuePerCustomer => "revenue_per_customer",
        }
    }

    /// The outcome for people.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::FailureRate => "failure rate",
            Outcome::Wait => "wait (seconds)",
            Outcome::Defection => "share leaving after a visit",
            Outcome::Csat => "CSAT (share satisfied)",
            Outcome::Nps => "NPS",
            Outcome::Grade => "grade point average",
            Outcome::RevenuePerCustomer => "revenue per customer",
        }
    }

    /// The outcome per unit and week; `window_days` is the defection window.
    pub(super) async fn weekly(
        self,
        sql: &Sql,
        i: &Initiative,
        window_days: u32,
    ) -> Result<DataFrame> {
        let week = cast(date_trunc(lit("week"), col("at")), DataType::Date32).alias("period");
        let df = match self {
            Outcome::FailureRate | Outcome::Wait | Outcome::Defection => {
                let df = sql.context().table("interactions").await?;
                let unit = cast(ident(&i.scope.column), DataType::Utf8).alias("unit");
                let df = at_touchpoints(df.filter(ident(&i.scope.column).is_not_null())?, i)?;
                if self == Outcome::Defection {
                    let visits = df.select(vec![col("customer_id"), unit, week, day(col("at"))])?;
                    left_after(sql, visits, window_days).await?
                } else {
                    df.select(vec![unit, week, col("outcome"), col("wait_seconds")])?
                }
            }
            Outcome::Csat | Outcome::Nps | Outcome::Grade => {
                let df = sql.context().table("responses").await?;
                let df = df.filter(col("instrument").eq(lit(self.instrument())))?;
                with_unit(sql, "responses", at_touchpoints(df, i)?, i, week).await?
            }
            Outcome::RevenuePerCustomer => {
                let df = sql.context().table("transactions").await?;
                with_unit(sql, "transactions", df, i, week).await?
            }
        };
        let df = df.aggregate(vec![col("unit"), col("period")], vec![self.aggregate()])?;
        Ok(df.filter(col("outcome").is_not_null())?)
    }

    /// The outcome of a unit's week: the revenue over the customers who bought, else the
    /// mean of each row's outcome.
    fn aggregate(self) -> Expr {
        let row = match self {
            Outcome::FailureRate => case(col("outcome"))
                .when(lit("failed"), lit(1.0))
                .otherwise(lit(0.0)),
            Outcome::Wait => Ok(cast(col("wait_seconds"), DataType::Float64)),
            Outcome::Csat => when(col("score").gt_eq(lit(4.0)), lit(1.0)).otherwise(lit(0.0)),
            Outcome::Nps => when(col("score").gt_eq(lit(9.0)), lit(100.0))
                .when(col("score").lt_eq(lit(6.0)), lit(-100.0))
                .otherwise(lit(0.0)),
            Outcome::Grade => Ok(cast(col("score"), DataType::Float64)),
            Outcome::Defection => Ok(col("left")),
            Outcome::RevenuePerCustomer => {
                let customers = cast(count_distinct(col("customer_id")), DataType::Float64);
                return (sum(cast(col("amount"), DataType::Float64)) / customers).alias("outcome");
            }
        };
        avg(row.unwrap_or_else(|_| lit(0.0))).alias("outcome")
    }

    /// The survey instrument of an answer outcome.
    fn instrument(self) -> &'static str {
        match self {
            Outcome::Csat => "csat",
            Outcome::Nps => "nps",
            _ => "grade",
        }
    }
}

/// The day (days since the Unix epoch) of a timestamp, as `day`.
fn day(at: Expr) -> Expr {
    cast(cast(at, DataType::Date32), DataType::Int64).alias("day")
}

/// Per unit and period, the share `left` of the customers' last visits there (`visits`:
/// `customer_id`, `unit`, `period`, `day`) that no purchase followed within `window_days`;
/// visits whose window ends after the last purchase in the data are left out.
async fn left_after(sql: &Sql, visits: DataFrame, window_days: u32) -> Result<DataFrame> {
    let end = epoch_day(last_purchase_date(sql).await?);
    let keys = vec![col("customer_id"), col("unit"), col("period")];
    let window = i64::from(window_days);
    let visits = visits
        .aggregate(keys, vec![max(col("day")).alias("day")])?
        .filter((col("day") + lit(window)).lt_eq(lit(end)))?;
    let bought = sql.context().table("transactions").await?.select(vec![
        col("customer_id").alias("buyer"),
        cast(cast(col("at"), DataType::Date32), DataType::Int64).alias("bought_on"),
    ])?;
    let within = vec![
        col("customer_id").eq(col("buyer")),
        col("bought_on").gt(col("day")),
        col("bought_on").lt_eq(col("day") + lit(window)),
    ];
    // Visits and those followed by a purchase counted per unit and period: one join.
    let per_period = |df: DataFrame, name: &str| -> Result<DataFrame> {
        let keys = vec![col("unit"), col("period")];
        Ok(df.aggregate(keys, vec![count(lit(1)).alias(name)])?)
    };
    let stayed = visits.clone().join_on(bought, JoinType::LeftSemi, within)?;
    let stayed = per_period(stayed, "stayed")?.select(vec![
        col("unit").alias("s_unit"),
        col("period").alias("s_period"),
        col("stayed"),
    ])?;
    let left = lit(1.0)
        - cast(coalesce(vec![col("stayed"), lit(0i64)]), DataType::Float64)
            / cast(col("visits"), DataType::Float64);
    Ok(per_period(visits, "visits")?
        .join(
            stayed,
            JoinType::Left,
            &["unit", "period"],
            &["s_unit", "s_period"],
            None,
        )?
        .select(vec![col("unit"), col("period"), left.alias("left")])?)
}

/// The buying customers a year in the initiative's units, counted per week: the revenue
/// outcome's denominators summed over its weeks, over the years those weeks span.
pub(super) async fn buyer_weeks_per_year(sql: &Sql, i: &Initiative) -> Result<f64> {
    let week = cast(date_trunc(lit("week"), col("at")), DataType::Date32).alias("period");
    let df = sql.context().table("transactions").await?;
    let units = i.scope.values.iter().map(|v| lit(v.as_str())).collect();
    let weekly = with_unit(sql, "transactions", df, i, week)
        .await?
        .filter(col("unit").in_list(units, false))?
        .aggregate(
            vec![col("unit"), col("period")],
            vec![count_distinct(col("customer_id")).alias("buyers")],
        )?;
    per_year(weekly, sum(col("buyers")), col("period"), 7).await
}

/// `n` (an aggregate) over the years from the first to the last `at` (a date) plus
/// `last_days` (the days the last `at` stands for); 0 when `df` is empty.
pub(super) async fn per_year(df: DataFrame, n: Expr, at: Expr, last_days: i64) -> Result<f64> {
    let aggregates = vec![
        n.alias("n"),
        min(at.clone()).alias("first"),
        max(at).alias("last"),
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
    Ok(n / (((last - first).num_days() + last_days) as f64 / 365.25))
}

/// The rows of `df` (of `table`) with their `unit` and `period`: the table's own value of
/// the scope column, else the scope column of the interactions of the same `order_id`;
/// refused naming the outcome when the table has neither.
async fn with_unit(
    sql: &Sql,
    table: &str,
    df: DataFrame,
    i: &Initiative,
    week: Expr,
) -> Result<DataFrame> {
    let column = &i.scope.column;
    let columns = sql.columns(table).await?;
    let mut kept: Vec<Expr> = df
        .schema()
        .columns()
        .into_iter()
        .map(Expr::Column)
        .collect();
    kept.push(week);
    if columns.contains(column) {
        kept.push(cast(ident(column), DataType::Utf8).alias("unit"));
        return Ok(df.select(kept)?.filter(col("unit").is_not_null())?);
    }
    let interactions = sql.columns("interactions").await?;
    if !(columns.iter().any(|c| c == ORDER) && interactions.iter().any(|c| c == ORDER)) {
        let message = format!(
            "the {table} have no column '{column}' and no {ORDER} to find it in the interactions"
        );
        return Err(StoreError::invalid("outcome", message));
    }
    let units = sql
        .context()
        .table("interactions")
        .await?
        .filter(ident(column).is_not_null())?
        .select(vec![
            col(ORDER).alias("unit_order"),
            cast(ident(column), DataType::Utf8).alias("unit"),
        ])?
        .distinct()?;
    kept.push(col("unit"));
    let joined = df.join(units, JoinType::Inner, &[ORDER], &["unit_order"], None)?;
    Ok(joined.select(kept)?)
}
