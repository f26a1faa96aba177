//! The executive scorecard: customer equity, retention, stated scores, the satisfied-
//! defector share, revenue at risk and the weakest areas, beside revenue and EBIT — each
//! figure with its interval and the n behind it.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use cxray_core::stats::{self, Estimate, Instrument, Proportion, Settings};
use cxray_core::targets::Period;
use serde::{Deserialize, Serialize};

use crate::board::{self, Board, Cadence, Inputs};
use crate::journey::{Area, Journey, RiskByPeriod, Total};
use crate::loyalty::Valuation;
use crate::metrics::{self, LinkReport, MetricRow};
use cxray_store::decode::Columns;
use cxray_store::sql::Sql;
use cxray_store::{Result, StoreError};

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
    // Each reads its own tables: read side by side.
    let (as_of, equity, retention, financials, currency, months) = futures::join!(
        crate::loyalty::last_purchase_date(sql),
        equity(sql, settings),
        retention(sql),
        financials(sql),
        crate::journey::currency(sql),
        futures::future::try_join(
            metrics::monthly_tallies(sql, Instrument::Nps),
            metrics::monthly_tallies(sql, Instrument::Grade),
        ),
    );
    let (nps, grade) = months?;
    Figures::of(
        Parts {
            as_of: as_of.ok(),
            equity: equity?,
            equity_history: equity_history(sql, settings),
            retention: retention?,
            nps,
            grade,
            financials: financials?,
            currency: currency?,
        },
        settings,
    )
}

/// What the scorecard's own figures are made of: read from the tables, or assembled from
/// the partial aggregates of customer groups (`crate::groups`).
pub(crate) struct Parts {
    pub as_of: Option<NaiveDate>,
    pub equity: Option<Equity>,
    /// Equity at earlier month ends and on the valuation date (none for a group).
    pub equity_history: BTreeMap<NaiveDate, Estimate>,
    pub retention: Retention12,
    /// Tallies by month (the month's first day).
    pub nps: BTreeMap<NaiveDate, stats::Tally>,
    pub grade: BTreeMap<NaiveDate, stats::Tally>,
    pub financials: Vec<Financial>,
    pub currency: Option<String>,
}

impl Figures {
    /// The figures of their parts: NPS and grade by quarter from the monthly tallies.
    pub(crate) fn of(p: Parts, settings: &Settings) -> Result<Self> {
        let retention = p.retention.shares(settings);
        let (nps, grade) = (quarterly(&p.nps, settings)?, quarterly(&p.grade, settings)?);
        let inputs = Inputs {
            equity: p.equity_history,
            ..board_inputs(p.nps, p.grade, &retention, &p.financials)
        };
        Ok(Figures {
            board_inputs: (inputs, *settings),
            as_of: p.as_of,
            equity: p.equity,
            retention,
            nps,
            grade,
            financials: p.financials,
            currency: p.currency,
        })
    }
}

/// Monthly tallies summed by quarter, as the metric by quarter (labelled by the quarter's
/// first day).
fn quarterly(
    months: &BTreeMap<NaiveDate, stats::Tally>,
    settings: &Settings,
) -> Result<Vec<MetricRow>> {
    let mut quarters: BTreeMap<NaiveDate, stats::Tally> = BTreeMap::new();
    for (month, tally) in months {
        let first = NaiveDate::from_ymd_opt(month.year(), (month.month0() / 3) * 3 + 1, 1)
            .expect("a quarter's first day");
        quarters
            .entry(first)
            .or_insert_with(|| stats::Tally::new(tally.instrument()))
            .merge(tally)
            .map_err(StoreError::analysis)?;
    }
    quarters
        .into_iter()
        .map(|(first, tally)| {
            Ok(MetricRow {
                group: [("quarter".to_string(), Some(first.to_string()))].into(),
                estimate: tally.estimate(settings).map_err(StoreError::analysis)?,
            })
        })
        .collect()
}

/// The board's inputs: monthly tallies, retained customers at each quarter end (the
/// share times its n, the count it was computed from) and monthly revenue and EBIT.
fn board_inputs(
    nps: BTreeMap<NaiveDate, stats::Tally>,
    grade: BTreeMap<NaiveDate, stats::Tally>,
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
        ..Inputs::default()
    }
}

/// What the scorecard takes from the satisfaction–loyalty link: the satisfied-defector
/// share, and the defectors (n) and satisfied defectors among them (successes) by the
/// month of their last answer.
pub(crate) struct Defectors {
    pub share: Option<Estimate>,
    pub by_month: BTreeMap<NaiveDate, Proportion>,
}

/// Builds the scorecard from its figures, the link and journey analyses (or the reason
/// they could not be computed) and revenue at risk by period.
pub fn scorecard(
    figures: Figures,
    link: std::result::Result<&LinkReport, &str>,
    journey: std::result::Result<&Journey, &str>,
    risk: RiskByPeriod,
) -> Scorecard {
    let defectors = link.map(|l| Defectors {
        share: l.overall.satisfied_defector_share,
        by_month: l.defectors_by_month.clone(),
    });
    of_parts(figures, defectors, journey, risk)
}

/// [`scorecard`] with what it takes from the link alone.
pub(crate) fn of_parts(
    figures: Figures,
    defectors: std::result::Result<Defectors, &str>,
    journey: std::result::Result<&Journey, &str>,
    risk: RiskByPeriod,
) -> Scorecard {
    let mut notes = Vec::new();
    if figures.equity.is_none() {
        notes.push("customer equity: no customer_value table (run cxray loyalty predict)".into());
    }
    let (inputs, settings) = figures.board_inputs;
    let (satisfied_defector_share, by_month, link_note) = match defectors {
        Ok(d) => (d.share, d.by_month, None),
        Err(e) => (
            None,
            BTreeMap::new(),
            Some(format!("satisfaction–loyalty link: {e}")),
        ),
    };
    let inputs = Inputs {
        satisfied_defectors: by_month,
        revenue_at_risk: risk,
        ..inputs
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
        boards: board::boards(&inputs, figures.as_of, &settings),
        board_inputs: (inputs, settings),
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
        .query(&format!("SELECT {EQUITY_SUMS} FROM customer_value"))
        .await?;
    let Some(b) = batches.first().filter(|b| b.num_rows() > 0) else {
        return Ok(None);
    };
    Ok(EquitySums::read(&Columns::new(b), 0)?.equity(settings))
}

/// Equity at earlier month ends, as `loyalty predict` recorded it (none before it did,
/// and none for a restricted session: the valuations are of every customer).
fn equity_history(sql: &Sql, settings: &Settings) -> BTreeMap<NaiveDate, Estimate> {
    if sql.restriction().is_some() {
        return BTreeMap::new();
    }
    let recorded = sql
        .made_by(crate::loyalty::CUSTOMER_VALUE)
        .and_then(|m| m.get(crate::loyalty::EQUITY_AT))
        .cloned();
    let valuations: Vec<Valuation> = recorded
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    valuations
        .into_iter()
        .filter_map(|v| Some((v.day, v.sums.equity(settings)?.money)))
        .collect()
}

/// The sums equity is made of, as SQL select items over `customer_value`.
pub(crate) const EQUITY_SUMS: &str = "sum(clv) AS clv, sum(p_alive) AS p_alive,
    sum(CASE WHEN p_alive > 0 THEN clv * clv * (1 - p_alive) / p_alive ELSE 0 END) AS variance,
    CAST(count(*) AS BIGINT) AS customers";

/// The sums over valued customers that equity is made of ([`EQUITY_SUMS`]).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub(crate) struct EquitySums {
    pub clv: f64,
    pub p_alive: f64,
    pub variance: f64,
    pub customers: u64,
}

impl EquitySums {
    /// Reads row `r` of a result with the [`EQUITY_SUMS`] columns (no customers: zeros).
    pub fn read(c: &Columns, r: usize) -> Result<Self> {
        let customers = c.int("customers")?.count(r);
        if customers == 0 {
            return Ok(EquitySums::default());
        }
        Ok(EquitySums {
            clv: c.float("clv")?.float_at(r)?,
            p_alive: c.float("p_alive")?.float_at(r)?,
            variance: c.float("variance")?.float_at(r)?,
            customers,
        })
    }

    pub fn add(&mut self, other: &EquitySums) {
        self.clv += other.clv;
        self.p_alive += other.p_alive;
        self.variance += other.variance;
        self.customers += other.customers;
    }

    /// Equity with its interval (none without valued customers).
    pub fn equity(&self, settings: &Settings) -> Option<Equity> {
        if self.customers == 0 {
            return None;
        }
        let (value, half) = (
            self.clv,
            1.959_963_984_540_054 * self.variance.max(0.0).sqrt(),
        );
        Some(Equity {
            money: Estimate::amount(
                self.customers,
                value,
                (value - half, value + half),
                settings,
            ),
            customers: self.customers,
            expected_alive: self.p_alive,
        })
    }
}

/// Customers counted by their active quarters, the bits of one integer relative to the
/// first kept quarter, with the first and last quarter index (none without purchases):
/// what twelve-month retention is computed from.
#[derive(Debug, Clone, Default)]
pub(crate) struct Retention12 {
    pub by_bits: Vec<(u64, u64)>,
    pub span: Option<(i64, i64)>,
}

impl Retention12 {
    /// Twelve-month retention at each complete quarter end with two years of data before it.
    pub fn shares(&self, settings: &Settings) -> Vec<Retention> {
        let Some((first_q, last_q)) = self.span else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for e in first_q + 7..last_q {
            let Some(quarter_end) = quarter_end(e) else {
                continue;
            };
            let at = (e - first_q) as u32;
            let (before, after) = (quarters(at - 7, at - 4), quarters(at - 3, at));
            let (mut n, mut retained) = (0, 0);
            for &(bits, customers) in self.by_bits.iter().filter(|(bits, _)| bits & before != 0) {
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
        out
    }
}

/// The quarter index (year * 4 + quarter, 0-based) of `transactions.at`, as SQL.
pub(crate) const QUARTER_SQL: &str = "CAST(date_part('year', at) AS BIGINT) * 4
                           + CAST(date_part('quarter', at) AS BIGINT) - 1";

/// Customers counted by their active quarters (see [`Retention12`]).
async fn retention(sql: &Sql) -> Result<Retention12> {
    // Quarter index q = year * 4 + quarter (0-based). Each customer's active quarters of
    // the last QUARTERS as bits of one integer; customers counted by their bits. An end
    // quarter e needs the eight quarters e−7..=e, so the kept quarters give every end from
    // the first kept quarter + 7 exactly as all the data would.
    let mut out = Retention12::default();
    let Some((first_q, last_q)) = quarter_span(sql).await? else {
        return Ok(out);
    };
    let query = format!(
        "SELECT active, CAST(count(*) AS BIGINT) AS customers FROM (
            SELECT bit_or(CAST(1 AS BIGINT) << (q - {first_q})) AS active
            FROM (SELECT DISTINCT customer_id, {QUARTER_SQL} AS q FROM transactions)
            WHERE q >= {first_q} GROUP BY customer_id)
         GROUP BY active"
    );
    let (_, batches) = sql.query(&query).await?;
    for b in &batches {
        let c = Columns::new(b);
        let (active, customers) = (c.int("active")?, c.int("customers")?);
        for r in 0..c.rows() {
            out.by_bits
                .push((active.int_at(r)? as u64, customers.count(r)));
            out.span = Some((first_q, last_q));
        }
    }
    Ok(out)
}

/// The first kept quarter (at most [`QUARTERS`] before the last) and the last quarter of
/// the purchases, none without purchases. Read apart from the customers' quarters, whose
/// query then takes them as numbers: a join with them buffered every purchase.
pub(crate) async fn quarter_span(sql: &Sql) -> Result<Option<(i64, i64)>> {
    let span = format!(
        "SELECT min(q) AS first_q, max(q) AS last_q FROM (SELECT {QUARTER_SQL} AS q FROM transactions)"
    );
    let mut bounds = None;
    for b in &sql.query(&span).await?.1 {
        let c = Columns::new(b);
        let (first_q, last_q) = (c.int("first_q")?, c.int("last_q")?);
        bounds = bounds.or((0..c.rows()).find_map(|r| first_q.i64(r).zip(last_q.i64(r))));
    }
    Ok(bounds.map(|(min_q, max_q)| (min_q.max(max_q - (QUARTERS - 1)), max_q)))
}

/// Quarters of activity one integer holds (almost 16 years); older quarters are left out,
/// which changes no end from the eighth kept quarter on.
pub(crate) const QUARTERS: i64 = 63;

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
pub(crate) async fn financials(sql: &Sql) -> Result<Vec<Financial>> {
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
