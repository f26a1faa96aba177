//! Drivers of behaviour: per observed trip, whether the customer defected (or what they
//! spent) in the window after it, explained by a bad experience at each touchpoint, with
//! the customer's past purchases and tenure as controls.
//!
//! For defection the touchpoints' effects also come from the dropout model
//! ([`fit_dropout`]): an MBG/NBD fitted to the transactions gives each trip the chance
//! that a customer who stays buys nothing in the window and the customer's posterior
//! dropout probability, so the odds ratios are those of leaving, not diluted by slow
//! buyers. The importance weights stay those of the observed outcome.

use std::collections::BTreeMap;

use cxray_core::drivers::{
    Analysis, Dataset, DropoutFit, DropoutPrior, Method, Model, Options, TripContext, analyse,
    analyse_with_dropout,
};
use cxray_core::models::{FitOptions, ModelKind};
use cxray_core::stats::Estimate;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::functions_aggregate::expr_fn::{count, max};
use datafusion::logical_expr::JoinType;
use datafusion::prelude::{DataFrame, cast, col, ident, lit};
use serde::Serialize;

use super::JourneyOptions;
use super::derived::TripData;
use super::masks::Mask;
use crate::loyalty::{self, TimeUnit, Window, last_purchase_date};
use cxray_store::decode;
use cxray_store::sql::Sql;
use cxray_store::{Result, StoreError};

/// What the drivers explain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverOutcome {
    /// No purchase in the window after the trip (logistic).
    Defection,
    /// Spend in the window after the trip (linear).
    Spend,
}

/// The trip-level data set as patterns: outcome, then predictors by name, each pattern's
/// group (the `by` column's value) and its number of trips.
#[derive(Default)]
struct Columns {
    outcome: Vec<f64>,
    predictors: BTreeMap<String, Vec<f64>>,
    groups: Vec<Option<String>>,
    weights: Vec<u32>,
}

/// Prefix of the control predictors' names.
const CONTROL: &str = "control: ";

/// The control predictors, which also give each trip's history to the dropout model.
const PAST: &str = "control: past purchases";
const TENURE: &str = "control: tenure (years)";

/// Prefix of the touchpoint predictors' names.
const TOUCHPOINT: &str = "bad: ";

/// The touchpoint a predictor stands for ("bad: baggage_reclaim" → "baggage_reclaim"),
/// or `None` for a control (past purchases, tenure).
pub fn touchpoint_of(predictor: &str) -> Option<&str> {
    predictor.strip_prefix(TOUCHPOINT)
}

/// The control a predictor stands for ("control: tenure (years)" → "tenure (years)"), or
/// `None` for a touchpoint.
pub fn control_of(predictor: &str) -> Option<&str> {
    predictor.strip_prefix(CONTROL)
}

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
    pub fn leaving(&self, name: &str) -> Option<&Estimate> {
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
    // The customer-base model needs no trips: it is fitted while they are read (or built).
    let cols = async {
        let data = super::derived::load(sql, journey).await?;
        trip_columns(sql, &data, outcome, by).await
    };
    let base = async {
        match outcome {
            DriverOutcome::Defection => Base::fit(sql, journey.window_days).await.map(Some),
            DriverOutcome::Spend => Ok(None),
        }
    };
    let (cols, base) = futures::join!(cols, base);
    let (cols, base) = (cols?, base?);
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
    let by = by.map(str::to_string);
    crate::cpu::run(move || analyse_groups(&cols, base.as_ref(), &options, by.as_deref())).await
}

/// The analysis (and dropout model) of each group's rows.
fn analyse_groups(
    cols: &Columns,
    base: Option<&Base>,
    options: &Options,
    by: Option<&str>,
) -> Result<Vec<DriverGroup>> {
    let mut rows: BTreeMap<Option<String>, Vec<usize>> = BTreeMap::new();
    for (row, group) in cols.groups.iter().enumerate() {
        rows.entry(group.clone()).or_default().push(row);
    }
    rows.into_iter()
        .map(|(group, rows)| {
            analyse_rows(cols, &rows, base, options)
                .map_err(|e| match &group {
                    Some(g) => e.within(format!("{}={g}", by.unwrap_or("group"))),
                    None => e,
                })
                .map(|(analysis, constant, dropout)| DriverGroup {
                    group,
                    constant,
                    analysis,
                    dropout,
                })
        })
        .collect()
}

/// The analysis of some rows, leaving out predictors that are constant in them (returned
/// by name), and with a customer-base model the dropout model of the touchpoints that vary.
fn analyse_rows(
    cols: &Columns,
    rows: &[usize],
    base: Option<&Base>,
    options: &Options,
) -> Result<(Analysis, Vec<String>, Option<DropoutFit>)> {
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
    let weights: Vec<u32> = rows.iter().map(|&r| cols.weights[r]).collect();
    let dataset = |keep: fn(&str) -> bool| {
        let data = Dataset::new(&outcome).weighted(&weights);
        varying
            .iter()
            .filter(|(name, _)| keep(name))
            .fold(data, |data, (name, values)| {
                data.predictor(name.clone(), values)
            })
    };
    let data = dataset(|_| true);
    let Some(base) = base else {
        let analysis = analyse(&data, options).map_err(StoreError::analysis)?;
        return Ok((analysis, constant, None));
    };
    let touchpoints = dataset(|name| name.starts_with(TOUCHPOINT));
    let trips: Vec<TripContext> = rows
        .iter()
        .map(|&r| base.context(cols.predictors[PAST][r], cols.predictors[TENURE][r]))
        .collect();
    let (analysis, dropout) =
        analyse_with_dropout(&data, &touchpoints, &trips, base.prior, options)
            .map_err(StoreError::analysis)?;
    Ok((analysis, constant, Some(dropout)))
}

const DAYS_PER_YEAR: f64 = 365.25;

/// The observed trips grouped into patterns (equal outcome, controls, bad experiences and
/// group) with their counts, as columns: the outcome, the controls, a 0/1 column per
/// touchpoint with a bad experience on some trip, each pattern's group and weight.
async fn trip_columns(
    sql: &Sql,
    data: &TripData,
    outcome: DriverOutcome,
    by: Option<&str>,
) -> Result<Columns> {
    let y = match outcome {
        DriverOutcome::Defection => cast(col("defected"), DataType::Float64),
        DriverOutcome::Spend => col("later_spend"),
    };
    let mut trips = data.trips.clone().filter(col("observed"))?;
    let group = match by {
        Some(column) => {
            trips = trips.join(
                customer_column(sql, column).await?,
                JoinType::Left,
                &["customer_id"],
                &["group_id"],
                None,
            )?;
            cast(col("group_value"), DataType::Utf8)
        }
        None => lit(ScalarValue::Utf8(None)),
    };
    let tps = &data.touchpoints;
    let bad_masks = tps.exprs(Mask::Bad);
    let mut keys = vec![group.alias("group")];
    keys.extend(bad_masks.iter().cloned());
    keys.extend([
        cast(col("past_purchases"), DataType::Float64).alias("past"),
        (cast(col("tenure_days"), DataType::Float64) / lit(DAYS_PER_YEAR)).alias("tenure"),
        y.alias("y"),
    ]);
    let mut order = vec![col("group")];
    order.extend(bad_masks);
    order.extend([col("past"), col("tenure"), col("y")]);
    let batches = trips
        .aggregate(keys, vec![count(lit(1)).alias("weight")])?
        .sort(order.into_iter().map(|k| k.sort(true, true)).collect())?
        .collect()
        .await?;
    let mut cols = Columns::default();
    let (mut past, mut tenure) = (Vec::new(), Vec::new());
    let mut bad: Vec<(usize, String)> = Vec::new();
    for b in &batches {
        let c = decode::Columns::new(b);
        let (y, p, t) = (c.float("y")?, c.float("past")?, c.float("tenure")?);
        let (bad_at, group) = (tps.read(&c, Mask::Bad)?, c.text("group")?);
        let weight = c.int("weight")?;
        for r in 0..c.rows() {
            let row = cols.outcome.len();
            cols.outcome.push(y.f64(r).unwrap_or(f64::NAN));
            past.push(p.f64(r).unwrap_or(f64::NAN));
            tenure.push(t.f64(r).unwrap_or(f64::NAN));
            cols.groups.push(group.str(r).map(str::to_string));
            cols.weights
                .push(u32::try_from(weight.count(r)).unwrap_or(u32::MAX));
            bad.extend(
                bad_at
                    .set(r, tps.names.len())
                    .map(|k| (row, tps.names[k].clone())),
            );
        }
    }
    if cols.outcome.is_empty() {
        return Err(StoreError::NoData(
            "no trips whose window after them lies within the data: nothing to explain".into(),
        ));
    }
    let n = cols.outcome.len();
    for (row, name) in bad {
        let name = format!("{TOUCHPOINT}{name}");
        cols.predictors.entry(name).or_insert_with(|| vec![0.0; n])[row] = 1.0;
    }
    cols.predictors.insert(PAST.into(), past);
    cols.predictors.insert(TENURE.into(), tenure);
    Ok(cols)
}

/// Each customer's value of `column` (`group_id`, `group_value`); a clear error when
/// customers have no such column.
async fn customer_column(sql: &Sql, column: &str) -> Result<DataFrame> {
    let names = sql.columns("customers").await?;
    if !names.iter().any(|n| n == column) {
        return Err(StoreError::Input(format!(
            "customers have no column '{column}' to group by (columns: {})",
            names.join(", ")
        )));
    }
    Ok(sql.context().table("customers").await?.aggregate(
        vec![col("customer_id").alias("group_id")],
        vec![max(ident(column)).alias("group_value")],
    )?)
}
