//! The respondents of a link analysis: each customer's last answer before the cutoff, their
//! purchases before and after it, and their value where `customer_value` exists.

use datafusion::arrow::array::RecordBatch;

use cxray_core::stats::Instrument;

use crate::loyalty::Summaries;
use cxray_store::Result;
use cxray_store::decode::Columns;
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
/// the purchase days of the loyalty summaries.
pub(super) async fn respondents(summaries: &Summaries, q: &Query<'_>) -> Result<Vec<Respondent>> {
    let sql = summaries.sql();
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
            "cv.p_alive AS p_alive, cv.clv AS clv",
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
         SELECT last.g AS grp, CAST(last.score AS DOUBLE) AS score, last.day AS day,
                CAST(h.days_before AS BIGINT) AS days_before, h.first_day AS first_day,
                h.previous_day AS previous_day, CAST(h.later AS BIGINT) AS later,
                h.last_purchase AS last_purchase, h.revenue AS revenue, {value_cols}
         FROM last JOIN history h ON h.customer_id = last.customer_id {value_join}",
        view = crate::metrics::view::view_sql(sql, &[q.group]).await?,
        group = q.group,
        name = q.instrument.name(),
        cutoff = q.cutoff_day,
        window = q.window_days,
    ))
}

fn read_batch(b: &RecordBatch, q: &Query<'_>, out: &mut Vec<Respondent>) -> Result<()> {
    let c = Columns::new(b);
    let (group, score, day) = (c.text("grp")?, c.float("score")?, c.int("day")?);
    let (days_before, later) = (c.int("days_before")?, c.int("later")?);
    let (first_day, previous_day) = (c.int("first_day")?, c.int("previous_day")?);
    let (last_purchase, revenue) = (c.int("last_purchase")?, c.float("revenue")?);
    let (p_alive, clv) = (c.float("p_alive")?, c.float("clv")?);
    for r in 0..c.rows() {
        let day = day.int_at(r)?;
        let observed = day + i64::from(q.window_days) <= q.data_end_day;
        out.push(Respondent {
            group: group.str(r).map(str::to_string),
            score: score.float_at(r)?,
            day,
            bought_in_window: observed.then(|| later.count(r) > 0),
            days_before: days_before.count(r),
            first_day: first_day.i64(r),
            previous_day: previous_day.i64(r),
            last_purchase: last_purchase.i64(r),
            revenue: revenue.float_at(r)?,
            p_alive: p_alive.f64(r),
            clv: clv.f64(r),
        });
    }
    Ok(())
}
