//! Who answers: the invited units (trips) with what cxray knows of each — the customer's
//! segment, region and other attributes with few values, whether anything went wrong on
//! the trip, purchases before it, and P(alive) and CLV where the customers are valued —
//! responders against non-responders, and the NPS weighted to everyone invited
//! (`core::stats::weighting`).
//!
//! An NPS answer belongs to its customer's latest trip that had ended by the answer's day;
//! a trip with several answers counts its latest. One DataFusion plan counts the units per
//! cell of covariate values and answer (promoter, passive, detractor, none), with sums of
//! the numeric covariates; only those cells leave the engine.

use std::collections::BTreeMap;

use datafusion::arrow::array::RecordBatch;
use serde::Serialize;

use cxray_core::stats::weighting::{
    Cell, Covariate, LevelShares, Population, Propensity, Weighted, inverse_propensity,
    post_stratified, profile,
};
use cxray_core::stats::{self, Estimate, Instrument, NpsCounts, Scale, Settings, Summary};
use cxray_store::decode::Columns;
use cxray_store::sql::{Sql, day_sql};
use cxray_store::{Result, StoreError};

use super::population::{Invited, InvitedBy};
use crate::groups::layout::{self, Layout};
use crate::journey::{JourneyOptions, trip_data};
use crate::loyalty::CUSTOMER_VALUE;

/// Responders against non-responders, and the NPS as answered and weighted.
#[derive(Debug, Clone, Serialize)]
pub struct WhoAnswers {
    pub invited_by: InvitedBy,
    pub invited: u64,
    pub responded: u64,
    /// responded / invited (a fraction).
    pub response_rate: Option<Estimate>,
    /// NPS answers that follow no invited trip, left out.
    pub answers_not_linked: u64,
    /// The NPS of the answers (adjusted-Wald interval).
    pub answered: Estimate,
    /// The headline correction: inverse response-propensity weights.
    pub weighted: Weighted,
    /// The same population by post-stratification on every combination of the covariates.
    pub post_stratified: Weighted,
    pub propensity: Propensity,
    /// Each covariate level among responders and non-responders.
    pub levels: Vec<LevelShares>,
    /// Numeric covariates' means among responders and non-responders.
    pub means: Vec<Means>,
    /// What is not weighted on, and why.
    pub left_out: Vec<String>,
}

/// A numeric covariate's mean among responders and non-responders (t intervals).
#[derive(Debug, Clone, Serialize)]
pub struct Means {
    pub measure: String,
    pub responders: Option<Estimate>,
    pub non_responders: Option<Estimate>,
}

/// The trip's experience, purchases before it, P(alive) and CLV as covariates: name and
/// levels in the order of their level numbers.
const EXPERIENCE: (&str, &[&str]) = ("trip", &["went well", "a failure or long wait"]);
const PURCHASES: (&str, &[&str]) = ("purchases before", &["none", "1", "2–3", "4 or more"]);
const P_ALIVE: (&str, &[&str]) = (
    "P(alive)",
    &[
        "below 0.25",
        "0.25–0.5",
        "0.5–0.75",
        "0.75 or more",
        "not valued",
    ],
);
const CLV: (&str, &[&str]) = (
    "CLV",
    &[
        "lowest quarter",
        "second quarter",
        "third quarter",
        "highest quarter",
        "not valued",
    ],
);
/// The numeric covariates: the measure's name and its column in the units.
const NUMERIC: [(&str, &str); 3] = [
    ("purchases before", "purchases"),
    ("P(alive)", "p_alive"),
    ("CLV", "clv"),
];
/// Shown for a customer attribute without a value.
const NOT_GIVEN: &str = "not given";

/// Who answers among the `invited`, and the NPS weighted to them.
pub async fn who_answers(
    sql: &Sql,
    opts: &JourneyOptions,
    invited: &Invited,
) -> Result<WhoAnswers> {
    let answers = nps_answers(sql).await?;
    let trips = trip_data(sql, opts).await?.experiences()?;
    let session = sql.with_table("trips", trips.into_view()).await?;
    let (session, units) = invited.register(session).await?;
    let attributes = layout::columns(sql).await?;
    let valued = sql.made_by(CUSTOMER_VALUE).is_some();
    let layout = Layout::of(attributes.as_deref().unwrap_or_default());
    let (_, batches) = session.query(&cells_sql(&layout, valued, units)).await?;
    let mut rows = Rows::default();
    for b in &batches {
        rows.read(b, &layout)?;
    }
    let mut left_out = Vec::new();
    if attributes.is_none() {
        left_out.push(
            "customers' attributes: customers listed more than once, or segment and region \
             with too many values"
                .to_string(),
        );
    }
    if !valued {
        left_out.push(
            "P(alive) and CLV: the customers are not valued yet (cxray loyalty predict)"
                .to_string(),
        );
    }
    rows.analyse(
        attributes.unwrap_or_default(),
        valued,
        answers,
        invited.by(),
        left_out,
        &opts.settings,
    )
}

/// The units counted per cell and answer. `units` is the invited trips as a relation.
fn cells_sql(layout: &Layout, valued: bool, units: &str) -> String {
    let keys: String = layout.keys.iter().map(|k| format!("c.{k}, ")).collect();
    let customers = match layout.keys.is_empty() {
        true => String::new(),
        false => format!(
            " LEFT JOIN ({}) c ON CAST(c.cid AS VARCHAR) = t.customer_id",
            layout.customers
        ),
    };
    let (value_cols, value_join) = match valued {
        true => (
            "v.p_alive, v.clv, v.clv_quarter",
            " LEFT JOIN (SELECT CAST(customer_id AS VARCHAR) AS customer_id, p_alive, clv,
                        ntile(4) OVER (ORDER BY clv) AS clv_quarter FROM customer_value) v
              ON v.customer_id = t.customer_id",
        ),
        false => (
            "CAST(NULL AS DOUBLE) AS p_alive, CAST(NULL AS DOUBLE) AS clv,
             CAST(NULL AS BIGINT) AS clv_quarter",
            "",
        ),
    };
    format!(
        "WITH t AS (SELECT CAST(customer_id AS VARCHAR) AS customer_id, trip, end_day,
                           past_purchases, bad FROM {units}),
         a AS (SELECT CAST(customer_id AS VARCHAR) AS customer_id, at, {day} AS day,
                      CAST(score AS DOUBLE) AS score
               FROM responses WHERE instrument = '{nps}'),
         linked AS (SELECT a.customer_id, a.at, a.score, max(t.trip) AS trip
                    FROM a JOIN t ON t.customer_id = a.customer_id AND t.end_day <= a.day
                    GROUP BY a.customer_id, a.at, a.score),
         answered AS (SELECT customer_id, trip, last_value(score ORDER BY at) AS score
                      FROM linked GROUP BY customer_id, trip),
         u AS (SELECT {keys}CAST(t.past_purchases AS DOUBLE) AS purchases,
                      CAST(t.bad AS BIGINT) AS experience, s.score, {value_cols}
               FROM t LEFT JOIN answered s ON s.customer_id = t.customer_id AND s.trip = t.trip
               {customers}{value_join})
         SELECT {group_keys}experience,
                CASE WHEN purchases < 1 THEN 0 WHEN purchases < 2 THEN 1
                     WHEN purchases < 4 THEN 2 ELSE 3 END AS purchases_level,
                CASE WHEN p_alive IS NULL THEN 4 WHEN p_alive < 0.25 THEN 0
                     WHEN p_alive < 0.5 THEN 1 WHEN p_alive < 0.75 THEN 2 ELSE 3 END
                  AS p_alive_level,
                CAST(COALESCE(clv_quarter - 1, 4) AS BIGINT) AS clv_level,
                CASE WHEN score IS NULL THEN 0 WHEN score >= 9 THEN 1 WHEN score >= 7 THEN 2
                     ELSE 3 END AS answer,
                CAST(count(*) AS BIGINT) AS n,
                sum(purchases) AS purchases_sum, sum(purchases * purchases) AS purchases_squares,
                CAST(count(purchases) AS BIGINT) AS purchases_n,
                sum(p_alive) AS p_alive_sum, sum(p_alive * p_alive) AS p_alive_squares,
                CAST(count(p_alive) AS BIGINT) AS p_alive_n,
                sum(clv) AS clv_sum, sum(clv * clv) AS clv_squares,
                CAST(count(clv) AS BIGINT) AS clv_n
         FROM u
         GROUP BY {group_keys}experience, purchases_level, p_alive_level, clv_level, answer",
        day = day_sql("at"),
        nps = Instrument::Nps.name(),
        group_keys = layout
            .keys
            .iter()
            .map(|k| format!("{k}, "))
            .collect::<String>(),
    )
}

/// How many NPS answers there are; no data without them or without interactions (no trips).
async fn nps_answers(sql: &Sql) -> Result<u64> {
    let query = format!(
        "SELECT (SELECT CAST(count(*) AS BIGINT) FROM responses WHERE instrument = '{}') AS n,
                (SELECT CAST(count(*) AS BIGINT) FROM interactions) AS interactions",
        Instrument::Nps.name()
    );
    let (_, batches) = sql.query(&query).await?;
    let (mut answers, mut interactions) = (0, 0);
    for b in &batches {
        let c = Columns::new(b);
        for r in 0..c.rows() {
            answers += c.int("n")?.count(r);
            interactions += c.int("interactions")?.count(r);
        }
    }
    match (answers, interactions) {
        (0, _) => Err(StoreError::NoData("no NPS answers".into())),
        (_, 0) => Err(StoreError::NoData(
            "no interactions, so no trips asked".into(),
        )),
        _ => Ok(answers),
    }
}

/// One result row: a cell's attribute values and level numbers, its answer group
/// (0 none, 1 promoter, 2 passive, 3 detractor), the count and the numeric sums.
struct Row {
    attributes: Vec<Option<String>>,
    levels: [usize; 4],
    answer: usize,
    n: u64,
    /// Per numeric covariate: (count, sum, sum of squares).
    sums: [(u64, f64, f64); 3],
}

#[derive(Default)]
struct Rows(Vec<Row>);

impl Rows {
    fn read(&mut self, b: &RecordBatch, layout: &Layout) -> Result<()> {
        let c = Columns::new(b);
        let attributes = (layout.keys.iter())
            .map(|k| c.text(k))
            .collect::<Result<Vec<_>>>()?;
        let levels = [
            "experience",
            "purchases_level",
            "p_alive_level",
            "clv_level",
        ]
        .iter()
        .map(|name| c.int(name))
        .collect::<Result<Vec<_>>>()?;
        let (answer, n) = (c.int("answer")?, c.int("n")?);
        let mut sums = Vec::new();
        for (_, column) in NUMERIC {
            sums.push((
                c.int(&format!("{column}_n"))?,
                c.float(&format!("{column}_sum"))?,
                c.float(&format!("{column}_squares"))?,
            ));
        }
        for r in 0..c.rows() {
            let mut level = [0; 4];
            for (into, column) in level.iter_mut().zip(&levels) {
                *into = usize::try_from(column.int_at(r)?).unwrap_or(0);
            }
            let sum = |k: usize| {
                let (n, s, q) = &sums[k];
                (n.count(r), s.f64(r).unwrap_or(0.0), q.f64(r).unwrap_or(0.0))
            };
            self.0.push(Row {
                attributes: attributes
                    .iter()
                    .map(|a| a.str(r).map(str::to_string))
                    .collect(),
                levels: level,
                answer: usize::try_from(answer.int_at(r)?).unwrap_or(0),
                n: n.count(r),
                sums: [sum(0), sum(1), sum(2)],
            });
        }
        Ok(())
    }

    /// The population, the comparison and the estimates.
    fn analyse(
        self,
        attributes: Vec<String>,
        valued: bool,
        answers: u64,
        invited_by: InvitedBy,
        left_out: Vec<String>,
        s: &Settings,
    ) -> Result<WhoAnswers> {
        let population = self.population(attributes, valued);
        let mut all = NpsCounts::default();
        population.cells.iter().for_each(|c| all.merge(&c.answers));
        let invited: u64 = population.cells.iter().map(|c| c.invited).sum();
        let answered = stats::nps(&all, s).map_err(StoreError::analysis)?;
        let (weighted, propensity) =
            inverse_propensity(&population, s).map_err(StoreError::analysis)?;
        Ok(WhoAnswers {
            invited_by,
            invited,
            responded: all.n(),
            response_rate: stats::share(all.n(), invited, s),
            answers_not_linked: answers.saturating_sub(all.n()),
            answered,
            post_stratified: post_stratified(&population, s).map_err(StoreError::analysis)?,
            weighted,
            propensity,
            levels: profile(&population, s).map_err(StoreError::analysis)?,
            means: self.means(valued, s),
            left_out,
        })
    }

    /// The covariates (customer attributes first, their values sorted) and the cells.
    fn population(&self, attributes: Vec<String>, valued: bool) -> Population {
        let mut values: Vec<BTreeMap<String, usize>> = vec![BTreeMap::new(); attributes.len()];
        for row in &self.0 {
            for (seen, value) in values.iter_mut().zip(&row.attributes) {
                seen.insert(value.clone().unwrap_or_else(|| NOT_GIVEN.to_string()), 0);
            }
        }
        for seen in &mut values {
            seen.values_mut().enumerate().for_each(|(i, v)| *v = i);
        }
        let fixed = match valued {
            true => vec![EXPERIENCE, PURCHASES, P_ALIVE, CLV],
            false => vec![EXPERIENCE, PURCHASES],
        };
        let covariates = (attributes.iter().zip(&values))
            .map(|(name, seen)| Covariate {
                name: name.clone(),
                levels: seen.keys().cloned().collect(),
            })
            .chain(fixed.iter().map(|(name, levels)| Covariate {
                name: name.to_string(),
                levels: levels.iter().map(|l| l.to_string()).collect(),
            }))
            .collect();
        let mut cells: BTreeMap<Vec<usize>, Cell> = BTreeMap::new();
        for row in &self.0 {
            let key: Vec<usize> = (row.attributes.iter().zip(&values))
                .map(|(v, seen)| seen[v.as_deref().unwrap_or(NOT_GIVEN)])
                .chain(row.levels[..fixed.len()].iter().copied())
                .collect();
            let cell = cells.entry(key.clone()).or_insert_with(|| Cell {
                levels: key,
                invited: 0,
                answers: NpsCounts::default(),
            });
            cell.invited += row.n;
            let a = &mut cell.answers;
            match row.answer {
                1 => a.promoters += row.n,
                2 => a.passives += row.n,
                3 => a.detractors += row.n,
                _ => {}
            }
        }
        Population {
            covariates,
            cells: cells.into_values().collect(),
        }
    }

    /// The numeric covariates' means among responders and non-responders.
    fn means(&self, valued: bool, s: &Settings) -> Vec<Means> {
        let measures = if valued { 3 } else { 1 };
        (0..measures)
            .map(|k| {
                let mean = |responded: bool| {
                    let (n, sum, squares) = (self.0.iter())
                        .filter(|r| (r.answer > 0) == responded)
                        .fold((0, 0.0, 0.0), |(n, s, q), r| {
                            (n + r.sums[k].0, s + r.sums[k].1, q + r.sums[k].2)
                        });
                    let mean = sum / n.max(1) as f64;
                    let variance = match n {
                        0 | 1 => 0.0,
                        n => ((squares - n as f64 * mean * mean) / (n - 1) as f64).max(0.0),
                    };
                    stats::mean(&Summary { n, mean, variance }, Scale::Amount, s).ok()
                };
                Means {
                    measure: NUMERIC[k].0.to_string(),
                    responders: mean(true),
                    non_responders: mean(false),
                }
            })
            .collect()
    }
}
