//! The satisfaction–loyalty link: what respondents said against what they then did.
//!
//! Two definitions of defection, the user picks:
//! - `window` (from the data): each customer's last answer at least `window_days` before
//!   the end of the data is their statement; they defected when they made no purchase in
//!   the `window_days` after it.
//! - `palive` (from the loyalty engine): the statement is the last answer up to the date
//!   `customer_value` was computed for; they defected when their P(alive) on that date is
//!   below a threshold. Needs `cxray loyalty predict` first.
//!
//! Satisfied means NPS ≥ 7, CSAT ≥ 4, CES ≤ 4 or grade ≥ C. Whatever the definition,
//! prediction is judged on defection in the window after the answer: the stated score
//! against the loyalty model's expected purchases in that window given the purchases up to
//! the answer (fitted on purchases up to the end of the data less the window).

mod analysis;
mod behaviour;
mod prediction;
mod respondents;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use cxray_core::models::ModelKind;
use cxray_core::stats::{Difference, Estimate, Instrument, LiftRow, Proportion, Settings};
use serde::{Deserialize, Serialize};

use crate::loyalty::{epoch_day, epoch_month, last_purchase_date};
use analysis::Case;
use cxray_store::sql::Sql;
use cxray_store::{Result, StoreError};
use respondents::{Query, Respondent};

pub use analysis::RETENTION_DAYS;
pub(crate) use analysis::satisfied;

/// How defection is decided.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Defection {
    /// No purchase within the window after the answer.
    Window,
    /// P(alive) below `threshold` in `customer_value`.
    Palive { threshold: f64 },
}

/// What to link and how.
#[derive(Debug, Clone)]
pub struct LinkOptions {
    pub instrument: Instrument,
    pub defection: Defection,
    pub window_days: u32,
    /// Group by this column of responses or customers.
    pub by: Option<String>,
    /// The loyalty model behind the behavioural prediction.
    pub model: ModelKind,
    pub settings: Settings,
}

/// The link overall, and per group with `by`.
#[derive(Debug, Clone, Serialize)]
pub struct LinkReport {
    pub instrument: &'static str,
    pub defection: Defection,
    pub window_days: u32,
    /// The last day an answer may fall on, and the last purchase day in the data.
    pub statements_until: NaiveDate,
    pub data_end: NaiveDate,
    pub model: ModelKind,
    /// What could not be computed, and why.
    pub notes: Vec<String>,
    #[serde(flatten)]
    pub overall: Link,
    /// Per value of the `by` column (empty without it).
    pub groups: Vec<Link>,
    /// Overall, by the month of the last answer (its first day): the defectors (n) and
    /// the satisfied among them (successes).
    pub defectors_by_month: BTreeMap<NaiveDate, Proportion>,
}

/// The link in one group of respondents.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    /// The group's value of the `by` column (none overall).
    pub group: Option<String>,
    pub respondents: u64,
    pub defectors: u64,
    /// Of the defectors, the share whose last answer was satisfied (a fraction, 0…1, with
    /// its Wilson interval: `stats::share`, as every share here).
    pub satisfied_defector_share: Option<Estimate>,
    /// Defection rate of the satisfied and of the dissatisfied.
    pub defection_if_satisfied: Option<Estimate>,
    pub defection_if_dissatisfied: Option<Estimate>,
    /// The report card: said satisfied or not × stayed or defected.
    pub quadrant: Vec<QuadrantCell>,
    /// Per NPS group, grade, or score.
    pub by_score: Vec<ScoreGroup>,
    pub prediction: Prediction,
}

/// One cell of the report-card quadrant.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QuadrantCell {
    pub satisfied: bool,
    pub defected: bool,
    pub customers: u64,
    /// What these customers have spent to date.
    pub revenue: f64,
    /// Their summed CLV from `customer_value` (none without it).
    pub clv: Option<f64>,
}

/// Respondents with one NPS group, grade or score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreGroup {
    pub group: String,
    pub respondents: u64,
    pub defection: Option<Estimate>,
    /// The share still buying at each point after the answer.
    pub retention: Vec<RetentionPoint>,
    /// The share (percent) expected still to be customers: mean P(alive) from
    /// `customer_value`, its interval from each member's P(alive) (Poisson-binomial).
    pub alive: Option<Estimate>,
    /// Mean CLV from `customer_value`, t interval.
    pub mean_clv: Option<Estimate>,
}

/// A point of a retention curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RetentionPoint {
    /// Days after the answer.
    pub days: i64,
    pub share: Estimate,
}

/// Prediction of no purchase in the window after the answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// Respondents whose window is observed, and how many of them did not buy.
    pub n: u64,
    pub defectors: u64,
    /// AUC (0.5 is chance) of the stated score, of the loyalty model's expected purchases,
    /// and of both in a logistic regression (in-sample).
    pub auc_stated: Option<Estimate>,
    pub auc_behaviour: Option<Estimate>,
    pub auc_both: Option<Estimate>,
    pub auc_behaviour_minus_stated: Option<Difference>,
    pub auc_both_minus_behaviour: Option<Difference>,
    /// Defection by decile of the best predictor available (`lift_of`).
    pub lift: Vec<LiftRow>,
    pub lift_of: &'static str,
}

/// Links what respondents said to what they did, overall and per group.
pub async fn link(sql: &Sql, opts: &LinkOptions) -> Result<LinkReport> {
    let data_end = last_purchase_date(sql).await?;
    let window = chrono::Days::new(u64::from(opts.window_days));
    let calibration_end = data_end.checked_sub_days(window).unwrap_or(data_end);
    let summaries = behaviour::summaries(sql, calibration_end, data_end).await?;
    let fit = behaviour::fit(&summaries, opts.model).await?;
    let statements_until = match opts.defection {
        Defection::Window => calibration_end,
        Defection::Palive { .. } => value_date(sql)?,
    };
    let query = Query {
        instrument: opts.instrument,
        window_days: opts.window_days,
        cutoff_day: epoch_day(statements_until),
        data_end_day: epoch_day(data_end),
        group: &group_expression(sql, opts.by.as_deref()).await?,
        with_value: sql.made_by(crate::loyalty::CUSTOMER_VALUE).is_some(),
    };
    let rs = respondents::respondents(&summaries, &query).await?;
    if rs.is_empty() {
        return Err(StoreError::NoData(format!(
            "no {} answers on or before {statements_until}: nothing to link",
            opts.instrument.name()
        )));
    }
    let mut notes = Vec::new();
    let expected = match &fit {
        Ok(f) => behaviour::expected_after_answer(f, &rs, opts.window_days),
        Err(e) => Err(e.clone()),
    }
    .map_err(|e| {
        notes.push(format!(
            "no behavioural prediction: the {} fit failed: {e}",
            opts.model
        ))
    })
    .ok();
    if !query.with_value {
        notes.push(
            "no customer_value table: P(alive) and CLV are empty (run cxray loyalty predict)"
                .into(),
        );
    }
    let cases = cases(&rs, opts, expected.as_deref());
    Ok(report(
        opts,
        &cases,
        statements_until,
        data_end,
        notes,
        query.data_end_day,
    ))
}

/// Decides satisfied and defected for every respondent with what defection needs.
fn cases<'a>(rs: &'a [Respondent], opts: &LinkOptions, expected: Option<&[f64]>) -> Vec<Case<'a>> {
    rs.iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let defected = match opts.defection {
                Defection::Window => r.bought_in_window == Some(false),
                Defection::Palive { threshold } => r.p_alive? < threshold,
            };
            Some(Case {
                r,
                satisfied: analysis::satisfied(opts.instrument, r.score),
                defected,
                expected: expected.map(|e| e[i]),
            })
        })
        .collect()
}

fn report(
    opts: &LinkOptions,
    cases: &[Case<'_>],
    statements_until: NaiveDate,
    data_end: NaiveDate,
    notes: Vec<String>,
    data_end_day: i64,
) -> LinkReport {
    let s = &opts.settings;
    let mut by_group: BTreeMap<Option<String>, Vec<&Case>> = BTreeMap::new();
    if opts.by.is_some() {
        for c in cases {
            by_group.entry(c.r.group.clone()).or_default().push(c);
        }
    }
    let groups = by_group
        .into_iter()
        .map(|(g, members)| {
            let owned: Vec<Case> = members.into_iter().copied().collect();
            analysis::summarise(g, opts.instrument, &owned, data_end_day, s)
        })
        .collect();
    LinkReport {
        instrument: opts.instrument.name(),
        defection: opts.defection,
        window_days: opts.window_days,
        statements_until,
        data_end,
        model: opts.model,
        notes,
        overall: analysis::summarise(None, opts.instrument, cases, data_end_day, s),
        groups,
        defectors_by_month: defectors_by_month(cases),
    }
}

/// The defectors and the satisfied among them by the month of their last answer.
fn defectors_by_month(cases: &[Case<'_>]) -> BTreeMap<NaiveDate, Proportion> {
    let mut counts: BTreeMap<NaiveDate, DefectorCounts> = BTreeMap::new();
    for c in cases.iter().filter(|c| c.defected) {
        let month = counts.entry(epoch_month(c.r.day)).or_default();
        month.defectors += 1;
        month.satisfied_defectors += u64::from(c.satisfied);
    }
    counts
        .into_iter()
        .map(|(m, c)| (m, c.satisfied()))
        .collect()
}

/// What the satisfied-defector share of a group of respondents is made of: additive over
/// groups without shared customers.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub(crate) struct DefectorCounts {
    pub respondents: u64,
    pub defectors: u64,
    pub satisfied_defectors: u64,
}

impl DefectorCounts {
    pub fn add(&mut self, o: &DefectorCounts) {
        self.respondents += o.respondents;
        self.defectors += o.defectors;
        self.satisfied_defectors += o.satisfied_defectors;
    }

    /// Of the defectors, the share whose last answer was satisfied (as the link's).
    pub fn share(&self, s: &Settings) -> Option<Estimate> {
        cxray_core::stats::share(self.satisfied_defectors, self.defectors, s)
    }

    /// The defectors (n) and the satisfied among them (successes).
    pub fn satisfied(&self) -> Proportion {
        Proportion {
            successes: self.satisfied_defectors,
            n: self.defectors,
        }
    }
}

/// Per group of customers (the `by` columns of `customers`: `cid` and those columns, one
/// row per customer) and month of the last answer (its first day): the link's respondents
/// and defectors, satisfied or not, under the P(alive) definition (none under the window
/// definition, whose statements and outcomes depend on each group's last purchase).
pub(crate) async fn defectors_by(
    sql: &Sql,
    opts: &LinkOptions,
    customers: &str,
    by: &[&str],
) -> Result<Option<BTreeMap<Vec<String>, BTreeMap<NaiveDate, DefectorCounts>>>> {
    let Defection::Palive { threshold } = opts.defection else {
        return Ok(None);
    };
    let keys = by.join(", ");
    let query = format!(
        "WITH answers AS (
            SELECT customer_id, score, {day} AS day,
                   row_number() OVER (PARTITION BY customer_id ORDER BY at DESC) AS k
            FROM responses WHERE instrument = '{name}' AND {day} <= {cutoff}
         )
         SELECT {keys}, CAST(a.score AS DOUBLE) AS score, a.day AS day,
                CAST(count(*) AS BIGINT) AS respondents,
                CAST(count(CASE WHEN cv.p_alive < $1 THEN 1 END) AS BIGINT) AS defectors
         FROM answers a JOIN ({customers}) c ON c.cid = a.customer_id
         LEFT JOIN customer_value cv ON cv.customer_id = CAST(a.customer_id AS VARCHAR)
         WHERE a.k = 1 GROUP BY {keys}, a.score, a.day",
        name = opts.instrument.name(),
        day = cxray_store::sql::day_sql("at"),
        cutoff = epoch_day(value_date(sql)?),
    );
    let params = vec![datafusion::common::ScalarValue::Float64(Some(threshold))];
    let (_, batches) = sql.query_with(&query, params).await?;
    let mut out: BTreeMap<Vec<String>, BTreeMap<NaiveDate, DefectorCounts>> = BTreeMap::new();
    for b in &batches {
        let c = cxray_store::decode::Columns::new(b);
        let groups = by.iter().map(|g| c.text(g)).collect::<Result<Vec<_>>>()?;
        let (score, day, respondents, defectors) = (
            c.float("score")?,
            c.int("day")?,
            c.int("respondents")?,
            c.int("defectors")?,
        );
        for r in 0..c.rows() {
            let group = groups
                .iter()
                .map(|g| g.str(r).unwrap_or_default().to_string());
            let months = out.entry(group.collect()).or_default();
            let counts = months.entry(epoch_month(day.int_at(r)?)).or_default();
            let defected = defectors.count(r);
            counts.respondents += respondents.count(r);
            counts.defectors += defected;
            if analysis::satisfied(opts.instrument, score.float_at(r)?) {
                counts.satisfied_defectors += defected;
            }
        }
    }
    Ok(Some(out))
}

/// The date `customer_value`'s P(alive) refers to: its fit's calibration end.
fn value_date(sql: &Sql) -> Result<NaiveDate> {
    let missing = || {
        StoreError::Input(
            "defection rule palive needs the customer_value table: run `cxray loyalty predict` first"
                .into(),
        )
    };
    let made_by = sql
        .made_by(crate::loyalty::CUSTOMER_VALUE)
        .ok_or_else(missing)?;
    made_by["window"]["calibration_end"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .ok_or_else(missing)
}

/// The SQL expression of the group column over the view `v`, checked to exist.
async fn group_expression(sql: &Sql, by: Option<&str>) -> Result<String> {
    let Some(col) = by else {
        return Ok("CAST(NULL AS VARCHAR)".into());
    };
    let known = super::slice_columns(sql).await?;
    if !known.iter().any(|k| k == col) {
        return Err(StoreError::Input(format!(
            "group by: unknown column '{col}' (columns: {})",
            known.join(", ")
        )));
    }
    Ok(format!("CAST(v.\"{col}\" AS VARCHAR)"))
}
