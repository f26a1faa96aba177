//! The slice-able view of survey responses: each response with its customer's attributes
//! and its touchpoint's journey, stage, owner and channel, plus time buckets.

use std::collections::BTreeSet;

use cxray_core::stats::Instrument;

use super::Slice;
use cxray_store::sql::Sql;
use cxray_store::{Result, StoreError};

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
/// the columns `uses` mentions (a name, or a word of a SQL predicate), so a slice by
/// response columns alone reads only `responses` and each join aggregates only what is used.
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

/// The names and predicate a slice refers to.
fn uses(slice: &Slice) -> Vec<&str> {
    slice
        .by
        .iter()
        .map(String::as_str)
        .chain(slice.filter.as_deref())
        .collect()
}

/// A group key: a time bucket's first instant (times are UTC, so the bucket is taken on
/// the plain timestamp, which is much cheaper than through a time zone), or a column.
fn group_key(name: &str) -> String {
    if TIME_BUCKETS.contains(&name) {
        format!("date_trunc('{name}', arrow_cast(at, 'Timestamp(Microsecond, None)'))")
    } else {
        quote(name)
    }
}

/// A group key as text (a time bucket as its first day), applied after aggregating so
/// only one value per group is formatted.
fn group_label(name: &str, key: &str) -> String {
    if TIME_BUCKETS.contains(&name) {
        format!("CAST(CAST({key} AS DATE) AS VARCHAR)")
    } else {
        format!("CAST({key} AS VARCHAR)")
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
                "group by: unknown column '{name}' (columns: {}; time buckets: {})",
                known.join(", "),
                TIME_BUCKETS.join(", ")
            )));
        }
    }
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
    let keys: String = slice
        .by
        .iter()
        .enumerate()
        .map(|(i, b)| format!("{} AS g{i}, ", group_key(b)))
        .collect();
    let labels: String = slice
        .by
        .iter()
        .enumerate()
        .map(|(i, b)| format!("{} AS g{i}, ", group_label(b, &format!("g{i}"))))
        .collect();
    let group_by: String = (0..slice.by.len()).map(|i| format!("g{i}, ")).collect();
    Ok(format!(
        "WITH v AS ({view}),
         t AS (SELECT {keys}score, count(*) AS n FROM v
               WHERE {where_}
               GROUP BY {group_by}score)
         SELECT {labels}score, n FROM t",
        view = view_sql(sql, &uses(slice)).await?,
        where_ = conditions.join(" AND "),
    ))
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
