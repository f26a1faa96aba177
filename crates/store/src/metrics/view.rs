//! The slice-able view of survey responses: each response with its customer's attributes
//! and its touchpoint's journey, stage, owner and channel, plus time buckets.

use std::collections::BTreeSet;

use cxray_core::stats::Instrument;

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
        columns(sql, "responses").await?,
        columns(sql, "customers").await?,
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

async fn columns(sql: &Sql, table: &str) -> Result<Vec<String>> {
    let df = sql.context().table(table).await?;
    Ok(df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect())
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The view as SQL: responses joined to one row per customer and per touchpoint.
pub(super) async fn view_sql(sql: &Sql) -> Result<String> {
    let responses = columns(sql, "responses").await?;
    let customers: Vec<String> = columns(sql, "customers")
        .await?
        .into_iter()
        .filter(|c| !responses.contains(c))
        .collect();
    let touch: Vec<&str> = TOUCHPOINT_COLUMNS
        .iter()
        .copied()
        .filter(|c| !responses.iter().any(|r| r == c))
        .collect();
    let per_customer: String = customers
        .iter()
        .map(|c| format!(", max({q}) AS {q}", q = quote(c)))
        .collect();
    let per_touchpoint: String = touch
        .iter()
        .map(|c| format!(", max({q}) AS {q}", q = quote(c)))
        .collect();
    let select: String = customers
        .iter()
        .map(|c| format!(", c.{}", quote(c)))
        .chain(touch.iter().map(|c| format!(", tp.{}", quote(c))))
        .collect();
    Ok(format!(
        "SELECT r.*{select}
         FROM responses r
         LEFT JOIN (SELECT customer_id{per_customer} FROM customers GROUP BY customer_id) c
                ON r.customer_id = c.customer_id
         LEFT JOIN (SELECT touchpoint{per_touchpoint} FROM interactions GROUP BY touchpoint) tp
                ON r.touchpoint = tp.touchpoint"
    ))
}

/// A group expression: a time bucket's first day, or a column as text.
fn group_expr(name: &str) -> String {
    if TIME_BUCKETS.contains(&name) {
        format!("CAST(CAST(date_trunc('{name}', at) AS DATE) AS VARCHAR)")
    } else {
        format!("CAST({} AS VARCHAR)", quote(name))
    }
}

/// The query counting responses per group and score.
pub(super) async fn tally_query(
    sql: &Sql,
    instrument: Instrument,
    slice: &Slice,
) -> Result<String> {
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
    let groups: Vec<String> = slice.by.iter().map(|b| group_expr(b)).collect();
    let mut conditions = vec![format!("instrument = '{}'", instrument.name())];
    if let Some(from) = slice.from {
        conditions.push(format!("at >= CAST('{from}T00:00:00Z' AS TIMESTAMP)"));
    }
    if let Some(to) = slice.to {
        conditions.push(format!(
            "at < CAST('{}T00:00:00Z' AS TIMESTAMP)",
            to.succ_opt().unwrap_or(to)
        ));
    }
    if let Some(filter) = &slice.filter {
        conditions.push(format!("({filter})"));
    }
    let select_groups: String = groups
        .iter()
        .enumerate()
        .map(|(i, g)| format!("{g} AS g{i}, "))
        .collect();
    let group_by: String = (0..groups.len()).map(|i| format!("g{i}, ")).collect();
    Ok(format!(
        "WITH v AS ({view})
         SELECT {select_groups}score, count(*) AS n FROM v
         WHERE {where_}
         GROUP BY {group_by}score",
        view = view_sql(sql).await?,
        where_ = conditions.join(" AND "),
    ))
}
