//! Which of the customers' columns make the cells of the groups' partials, and every
//! customer's cell as a query.

use datafusion::arrow::datatypes::DataType;

use super::{FIRST, MAX_CELLS};
use crate::metrics::{TOUCHPOINT_COLUMNS, quote};
use cxray_store::Result;
use cxray_store::decode::Columns;
use cxray_store::sql::Sql;

/// The cells' columns as a query: every customer once, as `cid` and the columns' values
/// as text under the keys `cell_0`, `cell_1`, … (names no table has, so joins with the
/// event tables are never ambiguous).
pub(crate) struct Layout {
    pub customers: String,
    pub keys: Vec<String>,
}

impl Layout {
    pub fn of(columns: &[String]) -> Layout {
        let keys: Vec<String> = (0..columns.len()).map(|i| format!("cell_{i}")).collect();
        let values: String = (columns.iter().zip(&keys))
            .map(|(c, k)| format!(", CAST({} AS VARCHAR) AS {k}", quote(c)))
            .collect();
        Layout {
            customers: format!("SELECT customer_id AS cid{values} FROM customers"),
            keys,
        }
    }

    pub fn key_refs(&self) -> Vec<&str> {
        self.keys.iter().map(String::as_str).collect()
    }
}

/// Segment and region, then each text attribute, fewest values first, that keeps the
/// cells at most [`MAX_CELLS`]; none where customers are listed twice or segment and
/// region alone make more cells.
pub(crate) async fn columns(sql: &Sql) -> Result<Option<Vec<String>>> {
    let candidates = candidates(sql).await?;
    let counts: String = (candidates.iter().enumerate())
        .map(|(i, c)| format!(", CAST(count(DISTINCT {}) AS BIGINT) AS v{i}", quote(c)))
        .collect();
    let query = format!(
        "SELECT CAST(count(*) AS BIGINT) AS n,
                CAST(count(DISTINCT customer_id) AS BIGINT) AS ids{counts}
         FROM customers"
    );
    let (_, batches) = sql.query(&query).await?;
    let Some(b) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Ok(None);
    };
    let c = Columns::new(b);
    let mut by_values = Vec::new();
    for (i, name) in candidates.into_iter().enumerate() {
        by_values.push((c.int(&format!("v{i}"))?.count(0), name));
    }
    let mut columns: Vec<String> = FIRST.map(String::from).to_vec();
    if c.int("n")?.count(0) != c.int("ids")?.count(0) || cells(sql, &columns).await? > MAX_CELLS {
        return Ok(None);
    }
    by_values.sort();
    for (values, name) in by_values {
        if values > MAX_CELLS {
            break;
        }
        columns.push(name);
        if cells(sql, &columns).await? > MAX_CELLS {
            columns.pop();
        }
    }
    Ok(Some(columns))
}

/// The customers' text attributes whose name no answer or touchpoint column shares (the
/// answers' view would give that column instead of the customer's).
async fn candidates(sql: &Sql) -> Result<Vec<String>> {
    let shadowing = sql.columns("responses").await?;
    let df = sql.context().table("customers").await?;
    Ok((df.schema().fields().iter())
        .filter(|f| is_text(f.data_type()))
        .map(|f| f.name().clone())
        .filter(|n| n != "customer_id" && !FIRST.contains(&n.as_str()))
        .filter(|n| !shadowing.contains(n) && !TOUCHPOINT_COLUMNS.contains(&n.as_str()))
        .collect())
}

fn is_text(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, values) => is_text(values),
        _ => false,
    }
}

/// How many distinct value combinations of `columns` the customers have.
async fn cells(sql: &Sql, columns: &[String]) -> Result<u64> {
    let list: Vec<String> = columns.iter().map(|c| quote(c)).collect();
    let query = format!(
        "SELECT CAST(count(*) AS BIGINT) AS n FROM (SELECT DISTINCT {} FROM customers)",
        list.join(", ")
    );
    let (_, batches) = sql.query(&query).await?;
    let Some(b) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Ok(0);
    };
    Columns::new(b).int("n").map(|n| n.count(0))
}
