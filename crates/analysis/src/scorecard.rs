//! The executive scorecard: customer equity, retention, stated scores, the satisfied-
//! defector share, revenue at risk and the weakest areas, beside revenue and EBIT — each
//! figure with its interval and the n behind it.

use chrono::NaiveDate;
use cxray_core::stats::{self, Estimate, Instrument, Settings};
use cxray_core::targets::Period;
use serde::Serialize;

use crate::board::{self, Board, Cadence, Inputs};
use crate::journey::{Area, Journey, Total};
use crate::metrics::{self, LinkReport, MetricRow, Slice};
use cxray_store::Result;
use cxray_store::decode::Columns;
use cxray_store::sql::Sql;

/// Customer equity: the summed CLV of every valued customer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Equity {
    /// The interval reflects who is still a customer (each P(alive)), not the model
    /// parameters' uncertainty; n is the customers, flagged on n alone.
    #[serde(flatten)]
    pub money: Estimate,
    pub customers: u64,
    /// Customers expected to be still buying (sum of P(alive)).
    pub expected_alive: f64,
}

/// Twelve-month retention at the end of a quarter: of the customers who bought in the
/// twelve months before the last twelve, the share who bought again in the last twelve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Retention {
    /// The last day of the quarter.
    pub quarter_end: NaiveDate,
    pub retained: Estimate,
}

/// One month of the company's own figures (financials table).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Financial {
    /// The month's first day.
    pub month: NaiveDate,
    pub revenue: Option<f64>,
    pub ebit: Option<f64>,
    pub currency: Option<String>,
}

/// Everything on the scorecard; a part that cannot be computed is missing and `notes`
/// say why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scorecard {
    /// The last purchase day in the data.
    pub as_of: Option<NaiveDate>,
    /// The currency of every amount (`journey::currency`).
    pub currency: Option<String>,
    pub equity: Option<Equity>,
    /// By quarter, oldest first.
    pub retention: Vec<Retention>,
    /// NPS (−100…100) and grade point average (0…4) by quarter.
    pub nps: Vec<MetricRow>,
    pub grade: Vec<MetricRow>,
    pub satisfied_defector_share: Option<Estimate>,
    /// The measurable losses summed over touchpoints, a year.
    pub revenue_at_risk: Option<Total>,
    /// The three areas with the most measurable money at stake.
    pub weak_areas: Vec<Area>,
    pub financials: Vec<Financial>,
    /// The one-page view's figures by month, quarter and year.
    pub boards: Vec<Board>,
    pub notes: Vec<String>,
    /// What any period's board is made of (`board_for`), with the statistics settings.
    #[serde(skip)]
    pub board_inputs: (Inputs, Settings),
}

impl Scorecard {
    /// The board of a named period (month, quarter or year), as of its last day.
    pub fn board_for(&self, p: &Period) -> Board {
        let (cadence, start) = Cadence::of(p);
        let (inputs, settings) = &self.board_inputs;
        board::board(inputs, cadence, cadence.end(start), settings)
    }
}

/// The scorecard's own figures, read from the tables; they do not depend on the link
/// and journey analyses, so they can be computed beside them.
#[derive(Debug)]
pub struct Figures {
    as_of: Option<NaiveDate>,
    equity: Option<Equity>,
    retention: Vec<Retention>,
    nps: Vec<MetricRow>,
    grade: Vec<MetricRow>,
    financials: Vec<Financial>,
    currency: Option<String>,
    boards: Vec<Board>,
    board_inputs: (Inputs, Settings),
}

impl Figures {
    /// The latest quarter's NPS and grade point average and the latest retention.
    pub fn latest(&self) -> (Option<&MetricRow>, Option<&MetricRow>, Option<&Retention>) {
        (self.nps.last(), self.grade.last(), self.retention.last())
    }
}

/// Reads the scorecard's own figures.
pub async fn figures(sql: &Sql, settings: &Settings) -> Result<Figures> {
    let by_quarter = Slice {
        by: vec!["quarter".into()],
        ..Slice::default()
    };
    // Each reads its own tables: read side by side.
    let (as_of, equity, retention, nps, grade, financials, currency, months) = futures::join!(
        crate::loyalty::last_purchase_date(sql),
        equity(sql, settings),
        retention(sql, settings),
        metrics::metric(sql, Instrument::Nps, &by_quarter, settings),
        metrics::metric(sql, Instrument::Grade, &by_quarter, settings),
        financials(sql),
        crate::journey::currency(sql),
        futures::future::try_join(
            metrics::monthly_tallies(sql, Instrument::Nps),
            metrics::monthly_tallies(sql, Instrument::Grade),
        ),
    );
    let (as_of, retention, financials) = (as_of.ok(), retention?, financials?);
    let (nps_months, grade_months) = months?;
    let inputs = board_inputs(nps_months, grade_months, &retention, &financials);
    Ok(Figures {
        boards: board::boards(&inputs, as_of, settings),
        board_inputs: (inputs, *settings),
        as_of,
        equity: equity?,
        retention,
        nps: nps?,
        grade: grade?,
        financials,
        currency: currency?,
    })
}

/// The board's inputs: monthly tallies, retained customers at each quarter end (the
/// share times its n, the count it was computed from) and monthly revenue and EBIT.
fn board_inputs(
    nps: std::collections::BTreeMap<NaiveDate, stats::Tally>,
    grade: std::collections::BTreeMap<NaiveDate, stats::Tally>,
    retention: &[Retention],
    financials: &[Financial],
) -> Inputs {
    let money = |pick: fn(&Financial) -> Option<f64>| {
        financials
            .iter()
            .filter_map(|f| Some((f.month, pick(f)?)))
            .collect()
    };
    Inputs {
        nps,
        grade,
        retention: retention
            .iter()
            .map(|r| {
                let n = r.retained.n;
                let successes = (r.retained.value * n as f64).round() as u64;
                (r.quarter_end, stats::Proportion { successes, n })
            })
            .collect(),
        revenue: money(|f| f.revenue),
        ebit: money(|f| f.ebit),
    }
}

/// Builds the scorecard from its figures and the link and journey analyses (or the
/// reason they could not be computed).
pub fn scorecard(
    figures: Figures,
    link: std::result::Result<&LinkReport, &str>,
    journey: std::result::Result<&Journey, &str>,
) -> Scorecard {
    let mut notes = Vec::new();
    if figures.equity.is_none() {
        notes.push("customer equity: no customer_value table (run cxray loyalty predict)".into());
    }
    let (satisfied_defector_share, link_note) = match link {
        Ok(l) => (l.overall.satisfied_defector_share, None),
        Err(e) => (None, Some(format!("satisfaction–loyalty link: {e}"))),
    };
    let (revenue_at_risk, weak_areas) = match journey {
        Ok(j) => (
            crate::journey::total_revenue_at_risk(j),
            crate::journey::areas(j)
                .into_iter()
                .filter(|a| a.rank.is_some())
                .take(3)
                .collect(),
        ),
        Err(e) => {
            notes.push(format!("journey: {e}"));
            (None, Vec::new())
        }
    };
    notes.extend(link_note);
    Scorecard {
        as_of: figures.as_of,
        currency: figures.currency,
        equity: figures.equity,
        retention: figures.retention,
        nps: figures.nps,
        grade: figures.grade,
        satisfied_defector_share,
        revenue_at_risk,
        weak_areas,
        financials: figures.financials,
        boards: figures.boards,
        board_inputs: figures.board_inputs,
        notes,
    }
}

/// The summed CLV, with an interval from the spread of who is still alive: a customer's
/// value given alive is clv / P(alive), realised with probability P(alive).
async fn equity(sql: &Sql, settings: &Settings) -> Result<Option<Equity>> {
    if sql.made_by(crate::loyalty::CUSTOMER_VALUE).is_none() {
        return Ok(None);
    }
    let (_, batches) = sql
        .query(
            "SELECT sum(clv) AS clv, sum(p_alive) AS p_alive,
                    sum(CASE WHEN p_alive > 0 THEN clv * clv * (1 - p_alive) / p_alive ELSE 0 END)
                      AS variance,
                    CAST(count(*) AS BIGINT) AS customers
             FROM customer_value",
        )
        .await?;
    let Some(b) = batches.first().filter(|b| b.num_rows() > 0) else {
        return Ok(None);
    };
    let c = Columns::new(b);
    let customers = c.int("customers")?.count(0);
    if customers == 0 {
        return Ok(None);
    }
    let (value, alive) = (
        c.float("clv")?.float_at(0)?,
        c.float("p_alive")?.float_at(0)?,
    );
    let variance = c.float("variance")?.float_at(0)?;
    let half = 1.959_963_984_540_054 * variance.max(0.0).sqrt();
    Ok(Some(Equity {
        money: Estimate::amount(customers, value, (value - half, value + half), settings),
        customers,
        expected_alive: alive,
    }))
}

/// Twelve-month retention at each complete quarter end with two years of data before it.
async fn retention(sql: &Sql, settings: &Settings) -> Result<Vec<Retention>> {
    // Quarter index q = year * 4 + quarter (0-based). Each customer's active quarters of
    // the last QUARTERS as bits of one integer; customers counted by their bits. An end
    // quarter e needs the eight quarters e−7..=e, so the kept quarters give every end from
    // the first kept quarter + 7 exactly as all the data would.
    let query = format!(
        "WITH q AS (SELECT DISTINCT customer_id,
                           CAST(date_part('year', at) AS BIGINT) * 4
                             + CAST(date_part('quarter', at) AS BIGINT) - 1 AS q
                    FROM transactions),
         bounds AS (SELECT greatest(min(q), max(q) - {last}) AS first_q, max(q) AS last_q FROM q),
         bits AS (SELECT bit_or(CAST(1 AS BIGINT) << (q.q - b.first_q)) AS active
                  FROM q CROSS JOIN bounds b WHERE q.q >= b.first_q GROUP BY q.customer_id)
         SELECT active, CAST(count(*) AS BIGINT) AS customers,
                max(b.first_q) AS first_q, max(b.last_q) AS last_q
         FROM bits CROSS JOIN bounds b GROUP BY active",
        last = QUARTERS - 1
    );
    let (_, batches) = sql.query(&query).await?;
    let mut by_bits = Vec::new();
    let mut span = None;
    for b in &batches {
        let c = Columns::new(b);
        let (active, customers) = (c.int("active")?, c.int("customers")?);
        let (first, last) = (c.int("first_q")?, c.int("last_q")?);
        for r in 0..c.rows() {
            by_bits.push((active.int_at(r)? as u64, customers.count(r)));
            span = Some((first.int_at(r)?, last.int_at(r)?));
        }
    }
    let Some((first_q, last_q)) = span else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for e in first_q + 7..last_q {
        let Some(quarter_end) = quarter_end(e) else {
            continue;
        };
        let at = (e - first_q) as u32;
        let (before, after) = (quarters(at - 7, at - 4), quarters(at - 3, at));
        let (mut n, mut retained) = (0, 0);
        for &(bits, customers) in by_bits.iter().filter(|(bits, _)| bits & before != 0) {
            n += customers;
            retained += if bits & after != 0 { customers } else { 0 };
        }
        if let Some(retained) = stats::share(retained, n, settings) {
            out.push(Retention {
                quarter_end,
                retained,
            });
        }
    }
    Ok(out)
}

/// Quarters of activity one integer holds (almost 16 years); older quarters are left out,
/// which changes no end from the eighth kept quarter on.
const QUARTERS: i64 = 63;

/// The bits of quarters `from..=to` (relative to the first kept quarter).
fn quarters(from: u32, to: u32) -> u64 {
    (from..=to).fold(0, |bits, q| bits | 1 << q)
}

/// The last day of quarter index `q` (year * 4 + quarter − 1).
fn quarter_end(q: i64) -> Option<NaiveDate> {
    let next = q + 1;
    let first = NaiveDate::from_ymd_opt(
        next.div_euclid(4) as i32,
        next.rem_euclid(4) as u32 * 3 + 1,
        1,
    )?;
    first.pred_opt()
}

/// Monthly revenue and EBIT from the financials table.
async fn financials(sql: &Sql) -> Result<Vec<Financial>> {
    let (_, batches) = sql
        .query(
            "SELECT CAST(date_trunc('month', period) AS DATE) AS month,
                    sum(CASE WHEN lower(metric) = 'revenue' THEN value END) AS revenue,
                    sum(CASE WHEN lower(metric) = 'ebit' THEN value END) AS ebit,
                    max(CAST(currency AS VARCHAR)) AS currency
             FROM financials GROUP BY 1 ORDER BY 1",
        )
        .await?;
    let mut out = Vec::new();
    for b in &batches {
        let c = Columns::new(b);
        let (month, currency) = (c.date("month")?, c.text("currency")?);
        let (revenue, ebit) = (c.float("revenue")?, c.float("ebit")?);
        for r in 0..c.rows() {
            let Some(m) = month.date(r) else {
                continue;
            };
            out.push(Financial {
                month: m,
                revenue: revenue.f64(r),
                ebit: ebit.f64(r),
                currency: currency.str(r).map(str::to_string),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::quarter_end;

    #[test]
    fn quarter_ends() {
        let d = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d);
        assert_eq!(quarter_end(2024 * 4), d(2024, 3, 31));
        assert_eq!(quarter_end(2024 * 4 + 1), d(2024, 6, 30));
        assert_eq!(quarter_end(2024 * 4 + 3), d(2024, 12, 31));
    }
}
