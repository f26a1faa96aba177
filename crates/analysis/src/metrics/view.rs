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
use cxray_store::sql::Sql;
use cxray_store::{Result, StoreError};

/// Time buckets that `--by` accepts, truncating the response time.
pub const TIME_BUCKETS: &[&str] = &["day", "week", "month", "quarter", "year"];

/// Columns of the touchpoints (from interactions) a response can be sliced by.
pub(crate) const TOUCHPOINT_COLUMNS: &[&str] = &["journey", "stage", "owner", "channel"];

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

/// A column name as a quoted SQL identifier.
pub(crate) fn quote(name: &str) -> String {
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

/// A condition the user gave (a condition on the responses, or one selecting a group to
/// compare): its text and the field it came from, which errors name.
#[derive(Debug, Clone, Copy)]
pub(super) struct Condition<'a> {
    pub field: &'a str,
    pub text: &'a str,
}

/// The condition parsed against the view's columns into an expression: one boolean
/// expression over the columns, or bad input naming the field. Only columns, values,
/// operators, CASE, casts and scalar functions are taken; subqueries, aggregates, window
/// functions, aliases, parameters and variables are refused. The text never becomes part
/// of a query's SQL.
pub(super) fn condition(view: &DataFrame, c: Condition<'_>) -> Result<Expr> {
    let bad = |why: String| {
        StoreError::Input(format!(
            "{}: '{}' is not a condition on the responses' columns: {why}",
            c.field, c.text
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

/// The view with what grouping by `by` needs, `by` checked to be a known column or time
/// bucket.
pub(crate) async fn view_frame(sql: &Sql, by: Option<&str>) -> Result<DataFrame> {
    let by: Vec<&str> = by.into_iter().collect();
    check_groups(sql, &by).await?;
    Ok(sql.context().sql(&view_sql(sql, &by).await?).await?)
}

/// A group of the view per row, as text (a time bucket as its first day).
pub(crate) fn group_expr(by: &str) -> Expr {
    group_label(by, group_key(by))
}

/// Refuses group names that are neither a column of the view nor a time bucket.
async fn check_groups(sql: &Sql, by: &[&str]) -> Result<()> {
    let known = slice_columns(sql).await?;
    for name in by {
        if !TIME_BUCKETS.contains(name) && !known.iter().any(|k| k == name) {
            return Err(StoreError::Input(format!(
                "group by: unknown column '{name}' (columns: {}; time buckets: {})",
                known.join(", "),
                TIME_BUCKETS.join(", ")
            )));
        }
    }
    Ok(())
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
    let by: Vec<&str> = slice.by.iter().map(String::as_str).collect();
    check_groups(sql, &by).await?;
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
    cxray_store::sql::typed(schema, "at", &format!("{day}T00:00:00Z"))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::RecordBatch;
    use datafusion::arrow::datatypes::Field;
    use datafusion::prelude::SessionContext;
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn mentions_whole_words_only() {
        assert!(mentions("segment", "segment"));
        assert!(mentions("\"Segment\" = 'business' AND x > 1", "segment"));
        assert!(!mentions("subsegment = 'a'", "segment"));
        assert!(!mentions("'owner'", "owners"));
    }

    /// An empty view with the columns of responses, a customer's and a touchpoint's.
    fn view() -> DataFrame {
        let utc = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let schema = Schema::new(vec![
            Field::new("customer_id", DataType::Utf8, false),
            Field::new("at", utc, false),
            Field::new("instrument", DataType::Utf8, false),
            Field::new("score", DataType::Float64, false),
            Field::new("touchpoint", DataType::Utf8, true),
            Field::new("segment", DataType::Utf8, true),
            Field::new("owner", DataType::Utf8, true),
        ]);
        let batch = RecordBatch::new_empty(Arc::new(schema));
        SessionContext::new().read_batch(batch).unwrap()
    }

    fn parse(text: &str) -> Result<Expr> {
        condition(
            &view(),
            Condition {
                field: "condition",
                text,
            },
        )
    }

    /// The condition is a filter of the view, or bad input naming the field.
    fn filter_or_refused(text: &str) -> std::result::Result<(), String> {
        match parse(text) {
            Ok(expr) => view().filter(expr).map(|_| ()).map_err(|e| e.to_string()),
            Err(StoreError::Input(m)) if m.starts_with("condition: ") => Ok(()),
            Err(e) => Err(format!("{text:?}: not bad input: {e}")),
        }
    }

    #[test]
    fn conditions_over_the_columns_are_expressions() {
        for text in [
            "segment = 'business'",
            "score >= 9 AND NOT (touchpoint IS NULL)",
            "touchpoint IN ('check_in', 'boarding') OR score BETWEEN 1 AND 3",
            "lower(segment) LIKE 'b%' AND owner <> 'x'",
            "at >= CAST('2024-01-01T00:00:00Z' AS TIMESTAMP)",
            "CASE WHEN score > 5 THEN true ELSE false END",
            "\"segment\" = 'it''s'",
            "true",
        ] {
            assert!(parse(text).is_ok(), "{text}: {:?}", parse(text).err());
        }
    }

    #[test]
    fn anything_else_is_refused_naming_the_field() {
        for (text, why) in [
            ("segment = 'x') OR (1=1", "end of expression"),
            ("segment = 'x'; DROP TABLE responses", "end of expression"),
            (
                "segment = 'x') OR 1=1; DROP TABLE responses; --",
                "end of expression",
            ),
            ("score > 1; SELECT * FROM customers", "end of expression"),
            ("score IN (SELECT score FROM responses)", ""),
            ("EXISTS (SELECT 1)", ""),
            ("(SELECT true)", ""),
            ("count(*) > 1", ""),
            ("row_number() OVER () > 1", ""),
            ("score > $1", ""),
            ("score > 1 AS big", ""),
            ("score", "not true or false"),
            ("segment", "not true or false"),
            ("NULL", "not true or false"),
            ("colour = 'red'", "colour"),
            ("", ""),
            ("COPY responses TO 'x.csv'", ""),
        ] {
            match parse(text) {
                Err(StoreError::Input(m)) => {
                    assert!(m.starts_with("condition: "), "{m}");
                    assert!(m.contains(why), "{text}: {m}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    /// Words and symbols SQL is made of, for conditions that are nearly valid.
    fn sqlish() -> impl Strategy<Value = String> {
        let token = prop::sample::select(vec![
            "segment",
            "score",
            "owner",
            "at",
            "colour",
            "=",
            "<>",
            ">=",
            "<",
            "'b'",
            "'x''y'",
            "9",
            "1.5",
            "(",
            ")",
            ",",
            "AND",
            "OR",
            "NOT",
            "IN",
            "IS",
            "NULL",
            "LIKE",
            ";",
            "SELECT",
            "FROM",
            "responses",
            "DROP",
            "TABLE",
            "--",
            "/*",
            "*/",
            "*",
            "CAST",
            "AS",
            "INT",
            "CASE",
            "WHEN",
            "THEN",
            "ELSE",
            "END",
            "EXISTS",
            "count",
            "$1",
            "true",
            "\"",
            "||",
            "BETWEEN",
        ]);
        prop::collection::vec(token, 0..14).prop_map(|t| t.join(" "))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_text_is_a_filter_or_bad_input(text in any::<String>()) {
            prop_assert_eq!(filter_or_refused(&text), Ok(()));
        }

        #[test]
        fn any_sqlish_text_is_a_filter_or_bad_input(text in sqlish()) {
            prop_assert_eq!(filter_or_refused(&text), Ok(()));
        }
    }
}
