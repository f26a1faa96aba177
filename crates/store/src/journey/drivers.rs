//! Drivers of behaviour: per observed trip, whether the customer defected (or what they
//! spent) in the window after it, explained by a bad experience at each touchpoint, with
//! the customer's past purchases and tenure as controls.
//!
//! For defection the touchpoints' effects also come from the dropout model
//! ([`fit_dropout`]): an MBG/NBD fitted to the transactions gives each trip the chance
//! that a customer who stays buys nothing in the window and the customer's posterior
//! dropout probability, so the odds ratios are those of leaving, not diluted by slow
//! buyers. The importance weights stay those of the observed outcome.

use std::collections::{BTreeMap, HashMap};

use cxray_core::drivers::{
    Analysis, Dataset, DropoutFit, DropoutPrior, Method, Model, OddsRatio, Options, TripContext,
    analyse, fit_dropout,
};
use cxray_core::models::{FitOptions, ModelKind};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use serde::Serialize;

use super::{JourneyOptions, trips};
use crate::loyalty::{self, TimeUnit, Window, last_purchase_date};
use crate::sql::Sql;
use crate::{Result, StoreError};

/// What the drivers explain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverOutcome {
    /// No purchase in the window after the trip (logistic).
    Defection,
    /// Spend in the window after the trip (linear).
    Spend,
}

/// The columns of the trip-level data set: outcome, then predictors by name, and each
/// row's group (the `by` column's value).
struct Columns {
    outcome: Vec<f64>,
    predictors: BTreeMap<String, Vec<f64>>,
    groups: Vec<Option<String>>,
}

/// The control predictors, which also give each trip's history to the dropout model.
const PAST: &str = "control: past purchases";
const TENURE: &str = "control: tenure (years)";

/// Prefix of the touchpoint predictors' names.
const TOUCHPOINT: &str = "bad: ";

/// One group's analysis (the only one, with `group` null, without `by`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriverGroup {
    pub group: Option<String>,
    /// Predictors left out in this group because they do not vary in it.
    pub constant: Vec<String>,
    #[serde(flatten)]
    pub analysis: Analysis,
    /// For defection: the touchpoints' effects on the odds of leaving after a trip.
    pub dropout: Option<DropoutFit>,
}

impl DriverGroup {
    /// A predictor's odds ratio of leaving, from the dropout model, if it has one.
    pub fn leaving(&self, name: &str) -> Option<&OddsRatio> {
        let effects = &self.dropout.as_ref()?.effects;
        effects
            .iter()
            .find(|e| e.name == name)
            .map(|e| &e.odds_ratio)
    }
}

/// The customer-base model's view of the trips: MBG/NBD fitted to all transactions.
struct Base {
    r: f64,
    alpha: f64,
    prior: DropoutPrior,
    /// The window after a trip, in the model's time unit (weeks).
    window: f64,
}

impl Base {
    async fn fit(sql: &Sql, window_days: u32) -> Result<Self> {
        let window = Window {
            unit: TimeUnit::Week,
            calibration_end: last_purchase_date(sql).await?,
            holdout_end: None,
        };
        let report = loyalty::fit(
            sql,
            ModelKind::MbgNbd,
            &window,
            None,
            &FitOptions::default(),
        )
        .await?;
        let param = |name: &str| report.fit.params.get(name).unwrap_or(f64::NAN);
        Ok(Base {
            r: param("r"),
            alpha: param("alpha"),
            prior: DropoutPrior {
                a: param("a"),
                b: param("b"),
            },
            window: f64::from(window_days) / TimeUnit::Week.days(),
        })
    }

    /// A trip after `past` purchases, `tenure_years` after the first: P(no purchase in the
    /// window | staying) = E[e^(−λ·w)] with λ ~ Gamma(r + past, α + tenure).
    fn context(&self, past: f64, tenure_years: f64) -> TripContext {
        let scale = self.alpha + tenure_years * DAYS_PER_YEAR / TimeUnit::Week.days();
        TripContext {
            silent: (scale / (scale + self.window)).powf(self.r + past),
            survived: past as u32,
        }
    }
}

/// Runs the driver analysis of `outcome` over the observed trips, separately for each
/// value of the customers' column `by` when given.
pub async fn drivers(
    sql: &Sql,
    outcome: DriverOutcome,
    journey: &JourneyOptions,
    options: &Options,
    by: Option<&str>,
) -> Result<Vec<DriverGroup>> {
    trips::register(sql, journey.window_days, &journey.slas).await?;
    let (mut cols, index) = trip_columns(sql, outcome, by).await?;
    bad_experiences(sql, &index, &mut cols).await?;
    let base = match outcome {
        DriverOutcome::Defection => Some(Base::fit(sql, journey.window_days).await?),
        DriverOutcome::Spend => None,
    };
    let model = match outcome {
        DriverOutcome::Defection => Model::Logistic,
        DriverOutcome::Spend => Model::Linear,
    };
    // Exact Shapley refits a logistic model for all 2^p subsets of every resample: too
    // slow over many trips, so `auto` means relative weights here.
    let method = match (options.method, model) {
        (Method::Auto, Model::Logistic) => Method::RelativeWeights,
        (m, _) => m,
    };
    let options = Options {
        model,
        method,
        ..*options
    };
    let mut rows: BTreeMap<Option<String>, Vec<usize>> = BTreeMap::new();
    for (row, group) in cols.groups.iter().enumerate() {
        rows.entry(group.clone()).or_default().push(row);
    }
    rows.into_iter()
        .map(|(group, rows)| {
            let name = |e: StoreError| match &group {
                Some(g) => StoreError::Input(format!("{}={g}: {e}", by.unwrap_or("group"))),
                None => e,
            };
            let (analysis, constant) = analyse_rows(&cols, &rows, &options).map_err(name)?;
            let dropout = base
                .as_ref()
                .map(|base| dropout_rows(&cols, &rows, &constant, base, &options))
                .transpose()
                .map_err(name)?;
            Ok(DriverGroup {
                group,
                constant,
                analysis,
                dropout,
            })
        })
        .collect()
}

/// The dropout model of some rows over the touchpoints that vary in them.
fn dropout_rows(
    cols: &Columns,
    rows: &[usize],
    constant: &[String],
    base: &Base,
    options: &Options,
) -> Result<DropoutFit> {
    let pick = |v: &[f64]| rows.iter().map(|&r| v[r]).collect::<Vec<f64>>();
    let outcome = pick(&cols.outcome);
    let touchpoints: Vec<(&String, Vec<f64>)> = cols
        .predictors
        .iter()
        .filter(|(name, _)| name.starts_with(TOUCHPOINT) && !constant.contains(name))
        .map(|(name, values)| (name, pick(values)))
        .collect();
    let mut data = Dataset::new(&outcome);
    for (name, values) in &touchpoints {
        data = data.predictor(name.as_str(), values);
    }
    let trips: Vec<TripContext> = rows
        .iter()
        .map(|&r| base.context(cols.predictors[PAST][r], cols.predictors[TENURE][r]))
        .collect();
    fit_dropout(&data, &trips, base.prior, options).map_err(|e| StoreError::Input(e.to_string()))
}

/// The analysis of some rows, leaving out predictors that are constant in them.
fn analyse_rows(
    cols: &Columns,
    rows: &[usize],
    options: &Options,
) -> Result<(Analysis, Vec<String>)> {
    let pick = |v: &[f64]| rows.iter().map(|&r| v[r]).collect::<Vec<f64>>();
    let outcome = pick(&cols.outcome);
    let (mut varying, mut constant) = (Vec::new(), Vec::new());
    for (name, values) in &cols.predictors {
        let values = pick(values);
        match values.iter().all(|v| *v == values[0]) {
            true => constant.push(name.clone()),
            false => varying.push((name.clone(), values)),
        }
    }
    let mut data = Dataset::new(&outcome);
    for (name, values) in &varying {
        data = data.predictor(name.clone(), values);
    }
    let analysis = analyse(&data, options).map_err(|e| StoreError::Input(e.to_string()))?;
    Ok((analysis, constant))
}

type TripIndex = HashMap<(String, i64), usize>;

const DAYS_PER_YEAR: f64 = 365.25;

async fn trip_columns(
    sql: &Sql,
    outcome: DriverOutcome,
    by: Option<&str>,
) -> Result<(Columns, TripIndex)> {
    let y = match outcome {
        DriverOutcome::Defection => "CAST(CASE WHEN defected THEN 1 ELSE 0 END AS DOUBLE)",
        DriverOutcome::Spend => "later_spend",
    };
    let (group, join) = match by {
        Some(column) => (
            "CAST(g.value AS VARCHAR)".to_string(),
            customer_column(sql, column).await?,
        ),
        None => ("CAST(NULL AS VARCHAR)".to_string(), String::new()),
    };
    let (_, batches) = sql
        .query(&format!(
            "SELECT CAST(t.customer_id AS VARCHAR), t.trip, {y}, CAST(t.past_purchases AS DOUBLE),
                    CAST(t.tenure_days AS DOUBLE) / {DAYS_PER_YEAR:?}, {group}
             FROM trips t{join} WHERE t.observed ORDER BY 1, 2"
        ))
        .await?;
    let mut index = HashMap::new();
    let mut cols = Columns {
        outcome: Vec::new(),
        predictors: BTreeMap::new(),
        groups: Vec::new(),
    };
    let (mut past, mut tenure) = (Vec::new(), Vec::new());
    for b in &batches {
        let (ids, trip) = keys(b)?;
        let group = cast(b.column(5), &DataType::Utf8)?;
        let f = |i: usize| b.column(i).as_primitive::<Float64Type>();
        for r in 0..b.num_rows() {
            index.insert(
                (ids.as_string::<i32>().value(r).to_string(), trip.value(r)),
                index.len(),
            );
            cols.outcome.push(f(2).value(r));
            past.push(f(3).value(r));
            tenure.push(f(4).value(r));
            let group = group.as_string::<i32>();
            cols.groups
                .push((!group.is_null(r)).then(|| group.value(r).to_string()));
        }
    }
    if index.is_empty() {
        return Err(StoreError::Input(
            "no trips whose window after them lies within the data: nothing to explain".into(),
        ));
    }
    cols.predictors.insert(PAST.into(), past);
    cols.predictors.insert(TENURE.into(), tenure);
    Ok((cols, index))
}

/// A join giving each trip its customer's value of `column` (`g.value`); a clear error
/// when customers have no such column.
async fn customer_column(sql: &Sql, column: &str) -> Result<String> {
    let names = sql.columns("customers").await?;
    if !names.iter().any(|n| n == column) {
        return Err(StoreError::Input(format!(
            "--by: customers have no column '{column}' (columns: {})",
            names.join(", ")
        )));
    }
    Ok(format!(
        " LEFT JOIN (SELECT customer_id, max(\"{}\") AS value FROM customers GROUP BY customer_id) g
            ON g.customer_id = t.customer_id",
        column.replace('"', "\"\"")
    ))
}

fn keys(
    b: &RecordBatch,
) -> Result<(
    datafusion::arrow::array::ArrayRef,
    &datafusion::arrow::array::PrimitiveArray<Int64Type>,
)> {
    Ok((
        cast(b.column(0), &DataType::Utf8)?,
        b.column(1).as_primitive::<Int64Type>(),
    ))
}

/// A 0/1 column per touchpoint: a bad experience there on the trip.
async fn bad_experiences(sql: &Sql, index: &TripIndex, cols: &mut Columns) -> Result<()> {
    let (_, batches) = sql
        .query(
            "SELECT CAST(customer_id AS VARCHAR), trip, CAST(touchpoint AS VARCHAR)
             FROM visits WHERE bad = 1",
        )
        .await?;
    let n = cols.outcome.len();
    for b in &batches {
        let (ids, trip) = keys(b)?;
        let tp = cast(b.column(2), &DataType::Utf8)?;
        for r in 0..b.num_rows() {
            let key = (ids.as_string::<i32>().value(r).to_string(), trip.value(r));
            let (Some(&row), false) = (index.get(&key), tp.is_null(r)) else {
                continue;
            };
            let name = format!("{TOUCHPOINT}{}", tp.as_string::<i32>().value(r));
            cols.predictors.entry(name).or_insert_with(|| vec![0.0; n])[row] = 1.0;
        }
    }
    Ok(())
}
