//! The slice-able view of survey responses: each response with its customer's attributes
//! and its touchpoint's journey, stage, owner and channel, plus time buckets.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use cxray_core::stats::Instrument;
use datafusion::arrow::datatypes::{DataType, Schema, TimeUnit};
use datafusion::common::ScalarValue;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::functions::expr_fn::date_trunc;
use datafusion::functions_aggregate::count::count_all;
use datafusion::logical_expr::ExprSchemable;
use datafusion::prelude::{DataFrame, Expr, cast, ident, lit};

use super::Slice;
use crate::sql::Sql;
use crate::{Result, StoreError};

/// Time buckets that `--by` accepts, truncating the response time.
pub const TIME_BUCKETS: &[&str] = &["day", "week", "month", "quarter", "year"];

/// Columns of the touchpoints (from interactions) a response can be sliced by.
const TOUCHPOINT_COLUMNS: &[&str] = &["journey", "stage", "owner", "channel"];

/// Every column a slice may group or filter on, besides the time buckets.
pub async fn slice_columns(sql: &Sql) -> Result<Vec<String>> {
    let (responses, customers) = (
        sql.columns("responses").await?,
        sql.columns("customers").await?,
    );
    let mut all: BTreeSet<String> = responses.iter().cloned().collect();
    all.extend(customers.into_iter().filter(|c| !responses.contains(c)));
    all.extend(
        TOUCHPOINT_COLUMNS
            .iter()
            .map(|c| c.to_string())
            .filter(|c| !responses.contains(c)),
    );
    Ok(all.into_iter().collect())
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The view as SQL: responses joined to one row per customer and per touchpoint, with only
/// the columns `uses` mentions (a name, or a word of a condition), so a slice by response
/// columns alone reads only `responses` and each join aggregates only what is used. Only
/// column names, checked or quoted, enter the SQL.
pub(super) async fn view_sql(sql: &Sql, uses: &[&str]) -> Result<String> {
    let responses = sql.columns("responses").await?;
    let mentioned = |c: &str| uses.iter().any(|u| mentions(u, c));
    let customers: Vec<String> = sql
        .columns("customers")
        .await?
        .into_iter()
        .filter(|c| !responses.contains(c) && mentioned(c))
        .collect();
    let touch: Vec<&str> = TOUCHPOINT_COLUMNS
        .iter()
        .copied()
        .filter(|c| !responses.iter().any(|r| r == c) && mentioned(c))
        .collect();
    let mut view = String::from("SELECT r.*");
    let mut joins = String::new();
    if !customers.is_empty() {
        let per_customer: String = customers
            .iter()
            .map(|c| format!(", max({q}) AS {q}", q = quote(c)))
            .collect();
        customers
            .iter()
            .for_each(|c| view.push_str(&format!(", c.{}", quote(c))));
        joins.push_str(&format!(
            " LEFT JOIN (SELECT customer_id{per_customer} FROM customers GROUP BY customer_id) c
                ON r.customer_id = c.customer_id"
        ));
    }
    if !touch.is_empty() {
        let per_touchpoint: String = touch
            .iter()
            .map(|c| format!(", max({q}) AS {q}", q = quote(c)))
            .collect();
        touch
            .iter()
            .for_each(|c| view.push_str(&format!(", tp.{}", quote(c))));
        joins.push_str(&format!(
            " LEFT JOIN (SELECT touchpoint{per_touchpoint} FROM interactions GROUP BY touchpoint) tp
                ON r.touchpoint = tp.touchpoint"
        ));
    }
    Ok(format!("{view} FROM responses r{joins}"))
}

/// Whether `text` (a column name or a SQL predicate) mentions the column `name` as a
/// whole word, ignoring case; quoted names count too.
fn mentions(text: &str, name: &str) -> bool {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|word| word.eq_ignore_ascii_case(name))
}

/// A condition the user gave (`--where`, `--a`, `--b`): its text and the flag it came
/// from, which errors name.
#[derive(Debug, Clone, Copy)]
pub(super) struct Condition<'a> {
    pub flag: &'a str,
    pub text: &'a str,
}

/// The condition parsed against the view's columns into an expression: one boolean
/// expression over the columns, or bad input naming the flag. Only columns, values,
/// operators, CASE, casts and scalar functions are taken; subqueries, aggregates, window
/// functions, aliases, parameters and variables are refused. The text never becomes part
/// of a query's SQL.
pub(super) fn condition(view: &DataFrame, c: Condition<'_>) -> Result<Expr> {
    let bad = |why: String| {
        StoreError::Input(format!(
            "{}: '{}' is not a condition on the responses' columns: {why}",
            c.flag, c.text
        ))
    };
    let expr = view
        .parse_sql_expr(c.text)
        .map_err(|e| bad(e.strip_backtrace()))?;
    let mut refused = None;
    expr.apply(|e| {
        refused = match e {
            Expr::Column(_)
            | Expr::Literal(..)
            | Expr::BinaryExpr(_)
            | Expr::Like(_)
            | Expr::SimilarTo(_)
            | Expr::Not(_)
            | Expr::IsNotNull(_)
            | Expr::IsNull(_)
            | Expr::IsTrue(_)
            | Expr::IsFalse(_)
            | Expr::IsUnknown(_)
            | Expr::IsNotTrue(_)
            | Expr::IsNotFalse(_)
            | Expr::IsNotUnknown(_)
            | Expr::Negative(_)
            | Expr::Between(_)
            | Expr::Case(_)
            | Expr::Cast(_)
            | Expr::TryCast(_)
            | Expr::ScalarFunction(_)
            | Expr::InList(_) => None,
            Expr::Exists(_) | Expr::InSubquery(_) | Expr::ScalarSubquery(_) => {
                Some("subqueries are not allowed")
            }
            Expr::AggregateFunction(_) | Expr::WindowFunction(_) => {
                Some("aggregate and window functions are not allowed")
            }
            _ => Some("only columns, values, operators and functions are allowed"),
        };
        Ok(match refused {
            Some(_) => TreeNodeRecursion::Stop,
            None => TreeNodeRecursion::Continue,
        })
    })
    .map_err(|e| bad(e.strip_backtrace()))?;
    if let Some(why) = refused {
        return Err(bad(why.to_string()));
    }
    match expr.get_type(view.schema()) {
        Ok(DataType::Boolean) => Ok(expr),
        Ok(other) => Err(bad(format!("it is {other}, not true or false"))),
        Err(e) => Err(bad(e.strip_backtrace())),
    }
}

/// A group key: a time bucket's first instant (times are UTC, so the bucket is taken on
/// the plain timestamp, which is much cheaper than through a time zone), or a column.
fn group_key(name: &str) -> Expr {
    if TIME_BUCKETS.contains(&name) {
        let plain = DataType::Timestamp(TimeUnit::Microsecond, None);
        date_trunc(lit(name), cast(ident("at"), plain))
    } else {
        ident(name)
    }
}

/// A group key as text (a time bucket as its first day), applied after aggregating so
/// only one value per group is formatted.
fn group_label(name: &str, key: Expr) -> Expr {
    if TIME_BUCKETS.contains(&name) {
        cast(cast(key, DataType::Date32), DataType::Utf8)
    } else {
        cast(key, DataType::Utf8)
    }
}

/// The responses of the slice's instrument, period and conditions counted per group and
/// score: the columns `g0`, `g1`, … (the groups as text, one per `by`), `score` and `n`.
/// The conditions are parsed into expressions against the view and applied as filters.
pub(super) async fn tallies(
    sql: &Sql,
    instrument: Instrument,
    slice: &Slice,
    conditions: &[Condition<'_>],
) -> Result<DataFrame> {
    let known = slice_columns(sql).await?;
    for name in &slice.by {
        if !TIME_BUCKETS.contains(&name.as_str()) && !known.contains(name) {
            return Err(StoreError::Input(format!(
                "--by: unknown column '{name}' (columns: {}; time buckets: {})",
                known.join(", "),
                TIME_BUCKETS.join(", ")
            )));
        }
    }
    let uses: Vec<&str> = slice
        .by
        .iter()
        .map(String::as_str)
        .chain(conditions.iter().map(|c| c.text))
        .collect();
    let view = sql.context().sql(&view_sql(sql, &uses).await?).await?;
    let parsed = conditions
        .iter()
        .map(|c| condition(&view, *c))
        .collect::<Result<Vec<_>>>()?;
    let schema = view.schema().as_arrow().clone();
    let mut df = view.filter(ident("instrument").eq(lit(instrument.name())))?;
    if let Some(from) = slice.from {
        df = df.filter(ident("at").gt_eq(lit(day_start(&schema, from)?)))?;
    }
    if let Some(to) = slice.to {
        df = df.filter(ident("at").lt(lit(day_start(&schema, to.succ_opt().unwrap_or(to))?)))?;
    }
    for expr in parsed {
        df = df.filter(expr)?;
    }
    let group = |i: usize| format!("g{i}");
    let mut keys: Vec<Expr> = (slice.by.iter().enumerate())
        .map(|(i, b)| group_key(b).alias(group(i)))
        .collect();
    keys.push(ident("score"));
    let mut labels: Vec<Expr> = (slice.by.iter().enumerate())
        .map(|(i, b)| group_label(b, ident(group(i))).alias(group(i)))
        .collect();
    labels.extend([ident("score"), ident("n")]);
    Ok(df
        .aggregate(keys, vec![count_all().alias("n")])?
        .select(labels)?)
}

/// The first instant of `day` (UTC) as a value of the view's `at`.
fn day_start(schema: &Schema, day: NaiveDate) -> Result<ScalarValue> {
    crate::sql::typed(schema, "at", &format!("{day}T00:00:00Z"))
}

#[cfg(test)]
mod tests {
    use super::mentions;

    #[test]
    fn mentions_whole_words_only() {
        assert!(mentions("segment", "segment"));
        assert!(mentions("\"Segment\" = 'business' AND x > 1", "segment"));
        assert!(!mentions("subsegment = 'a'", "segment"));
        assert!(!mentions("'owner'", "owners"));
    }
}
