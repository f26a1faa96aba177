//! Hand-offs: consecutive interactions of a customer, within two days of each other,
//! whose touchpoints have different owners.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use serde::Serialize;

use crate::Result;
use crate::sql::Sql;

/// One kind of hand-off and how often the receiving touchpoint then failed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Handoff {
    pub from_owner: String,
    pub from_touchpoint: String,
    pub to_owner: String,
    pub to_touchpoint: String,
    pub count: u64,
    pub failures_after: u64,
}

/// Every hand-off between owners, most frequent first.
pub(super) async fn handoffs(sql: &Sql) -> Result<Vec<Handoff>> {
    let query = "WITH s AS (
            SELECT owner, touchpoint, outcome, at,
                   lag(owner) OVER (PARTITION BY customer_id ORDER BY at) AS prev_owner,
                   lag(touchpoint) OVER (PARTITION BY customer_id ORDER BY at) AS prev_touchpoint,
                   lag(at) OVER (PARTITION BY customer_id ORDER BY at) AS prev_at
            FROM interactions)
         SELECT CAST(prev_owner AS VARCHAR) AS a, CAST(prev_touchpoint AS VARCHAR) AS b,
                CAST(owner AS VARCHAR) AS c, CAST(touchpoint AS VARCHAR) AS d,
                CAST(count(*) AS BIGINT) AS n,
                CAST(count(CASE WHEN outcome = 'failed' THEN 1 END) AS BIGINT) AS failed
         FROM s
         WHERE prev_owner IS NOT NULL AND owner IS NOT NULL AND prev_owner <> owner
           AND to_unixtime(at) - to_unixtime(prev_at) <= 2 * 86400
         GROUP BY a, b, c, d ORDER BY n DESC, a, b, c, d";
    let (_, batches) = sql.query(query).await?;
    let mut out = Vec::new();
    for b in &batches {
        let texts: Vec<_> = (0..4)
            .map(|i| cast(b.column(i), &DataType::Utf8))
            .collect::<std::result::Result<_, _>>()?;
        let text = |i: usize, r: usize| texts[i].as_string::<i32>().value(r).to_string();
        let int = |i: usize, r: usize| b.column(i).as_primitive::<Int64Type>().value(r) as u64;
        for r in 0..b.num_rows() {
            if texts.iter().any(|t| t.is_null(r)) {
                continue;
            }
            out.push(Handoff {
                from_owner: text(0, r),
                from_touchpoint: text(1, r),
                to_owner: text(2, r),
                to_touchpoint: text(3, r),
                count: int(4, r),
                failures_after: int(5, r),
            });
        }
    }
    Ok(out)
}
