//! The respondents of a link analysis: each customer's last answer before the cutoff, their
//! purchases before and after it, and their value where `customer_value` exists.

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};

use cxray_core::stats::Instrument;

use cxray_store::Result;
use cxray_store::sql::Sql;

/// One respondent. Days are days since the Unix epoch (UTC).
#[derive(Debug, Clone)]
pub(super) struct Respondent {
    /// The value of the `--by` column (none without `--by`).
    pub group: Option<String>,
    pub score: f64,
    pub day: i64,
    /// Whether they bought within the window after the answer; none when the window runs
    /// past the end of the data.
    pub bought_in_window: Option<bool>,
    /// Purchase days up to and including the answer day, the first and the latest of them.
    pub days_before: u64,
    pub first_day: Option<i64>,
    pub previous_day: Option<i64>,
    /// Their latest purchase day in the data.
    pub last_purchase: Option<i64>,
    /// What they have spent to date.
    pub revenue: f64,
    /// From `customer_value`, where it exists and covers them.
    pub p_alive: Option<f64>,
    pub clv: Option<f64>,
}

/// Which answers count and what the data looks like.
pub(super) struct Query<'a> {
    pub instrument: Instrument,
    pub window_days: u32,
    /// The last day an answer may fall on.
    pub cutoff_day: i64,
    pub data_end_day: i64,
    /// A SQL expression over the view `v` giving the group (text).
    pub group: &'a str,
    pub with_value: bool,
}

/// Reads every respondent's last answer up to the cutoff with their purchase history from
/// the `days` table registered by the loyalty summaries.
pub(super) async fn respondents(sql: &Sql, q: &Query<'_>) -> Result<Vec<Respondent>> {
    let (_, batches) = sql.query(&query_sql(sql, q).await?).await?;
    let mut out = Vec::new();
    for b in &batches {
        read_batch(b, q, &mut out)?;
    }
    Ok(out)
}

async fn query_sql(sql: &Sql, q: &Query<'_>) -> Result<String> {
    let r_day = cxray_store::sql::day_sql("v.at");
    let (value_cols, value_join) = if q.with_value {
        (
            "cv.p_alive, cv.clv",
            "LEFT JOIN customer_value cv ON cv.customer_id = CAST(last.customer_id AS VARCHAR)",
        )
    } else {
        (
            "CAST(NULL AS DOUBLE) AS p_alive, CAST(NULL AS DOUBLE) AS clv",
            "",
        )
    };
    Ok(format!(
        "WITH v AS ({view}),
         answers AS (
            SELECT {group} AS g, v.customer_id, v.score, {r_day} AS day,
                   row_number() OVER (PARTITION BY v.customer_id ORDER BY v.at DESC) AS k
            FROM v WHERE v.instrument = '{name}' AND {r_day} <= {cutoff}
         ),
         last AS (SELECT * FROM answers WHERE k = 1),
         history AS (
            SELECT last.customer_id,
                   count(CASE WHEN d.day <= last.day THEN 1 END) AS days_before,
                   min(CASE WHEN d.day <= last.day THEN d.day END) AS first_day,
                   max(CASE WHEN d.day <= last.day THEN d.day END) AS previous_day,
                   count(CASE WHEN d.day > last.day AND d.day <= last.day + {window} THEN 1 END) AS later,
                   max(d.day) AS last_purchase,
                   COALESCE(sum(d.amount), 0.0) AS revenue
            FROM last LEFT JOIN days d ON d.customer_id = last.customer_id
            GROUP BY last.customer_id
         )
         SELECT last.g, CAST(last.score AS DOUBLE) AS score, last.day,
                CAST(h.days_before AS BIGINT) AS days_before, h.first_day, h.previous_day,
                CAST(h.later AS BIGINT) AS later, h.last_purchase, h.revenue, {value_cols}
         FROM last JOIN history h ON h.customer_id = last.customer_id {value_join}",
        view = crate::metrics::view::view_sql(sql, &[q.group]).await?,
        group = q.group,
        name = q.instrument.name(),
        cutoff = q.cutoff_day,
        window = q.window_days,
    ))
}

fn read_batch(b: &RecordBatch, q: &Query<'_>, out: &mut Vec<Respondent>) -> Result<()> {
    let group = cast(b.column(0), &DataType::Utf8)?;
    let group = group.as_string::<i32>();
    let f = |i: usize| b.column(i).as_primitive::<Float64Type>();
    let n = |i: usize| b.column(i).as_primitive::<Int64Type>();
    let opt_i = |i: usize, r: usize| (!b.column(i).is_null(r)).then(|| n(i).value(r));
    let opt_f = |i: usize, r: usize| (!b.column(i).is_null(r)).then(|| f(i).value(r));
    for r in 0..b.num_rows() {
        let day = n(2).value(r);
        let observed = day + i64::from(q.window_days) <= q.data_end_day;
        out.push(Respondent {
            group: (!group.is_null(r)).then(|| group.value(r).to_string()),
            score: f(1).value(r),
            day,
            bought_in_window: observed.then(|| n(6).value(r) > 0),
            days_before: n(3).value(r) as u64,
            first_day: opt_i(4, r),
            previous_day: opt_i(5, r),
            last_purchase: opt_i(7, r),
            revenue: f(8).value(r),
            p_alive: opt_f(9, r),
            clv: opt_f(10, r),
        });
    }
    Ok(())
}
