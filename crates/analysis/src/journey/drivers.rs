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
    Analysis, Dataset, DropoutFit, DropoutPrior, Method, Model, Options, TripContext, analyse,
    analyse_with_dropout, fit_dropout,
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

/// Trips marked by up to 64 marks, by customer id; a trip without any mark is a trip of
/// the comparison.
pub type TripMarks = HashMap<String, Vec<MarkedTrip>>;

/// One trip's marks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkedTrip {
    /// The purchase day (days since the epoch).
    pub trip: i64,
    /// Bit k: mark k.
    pub marks: u64,
    /// A touchpoint the marks are about (a response's), besides those that went wrong.
    pub about: Option<String>,
}

/// The marked trips whose window after them lies within the data: how many left, where
/// they went wrong, and each mark's effect on leaving.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkedTrips {
    /// Observed trips among the marked ones, and those of them the customer left after.
    pub trips: u64,
    pub defected: u64,
    /// Per mark: its observed trips, and those the customer left after.
    pub with: Vec<u64>,
    pub with_defected: Vec<u64>,
    /// Per mark: the odds ratio of leaving after a trip with it against a trip of the rest
    /// without it, from the dropout model ([`fit_dropout`]: the customer-base model gives
    /// each trip the customer's past purchases and tenure); none when the mark does not
    /// vary among the trips or the model cannot be fitted.
    pub odds_ratios: Vec<Option<Estimate>>,
    /// Touchpoints (names), and per mark, then for all the trips (last), the trips with a
    /// bad experience at each or about it.
    pub touchpoints: Vec<String>,
    pub bad: Vec<Vec<u64>>,
}

/// How the trips in `marks` that are observed fared, with the odds ratio of leaving of each
/// of `count` marks (at most 64), bootstrapped as `options` say.
pub async fn leaving_after(
    sql: &Sql,
    journey: &JourneyOptions,
    marks: &TripMarks,
    count: usize,
    options: &Options,
) -> Result<MarkedTrips> {
    let count = count.min(64);
    let data = super::derived::load(sql, journey).await?;
    let names = data.touchpoints.names.clone();
    let mut columns = vec![
        col("customer_id"),
        col("trip"),
        cast(col("defected"), DataType::Int64).alias("y"),
        cast(col("past_purchases"), DataType::Int64).alias("past"),
        cast(col("tenure_days"), DataType::Int64).alias("tenure"),
    ];
    columns.extend(data.touchpoints.exprs(Mask::Bad));
    let trips = data
        .trips
        .clone()
        .filter(col("observed"))?
        .select(columns)?;
    let mut out = MarkedTrips {
        trips: 0,
        defected: 0,
        with: vec![0; count],
        with_defected: vec![0; count],
        odds_ratios: vec![None; count],
        bad: vec![vec![0; names.len()]; count + 1],
        touchpoints: names.clone(),
    };
    // (marks, past purchases, tenure days, left) → trips.
    let mut patterns: BTreeMap<(u64, i64, i64, bool), u32> = BTreeMap::new();
    let mut stream = trips.execute_stream().await?;
    while let Some(batch) = futures::StreamExt::next(&mut stream).await {
        let batch = batch?;
        let c = decode::Columns::new(&batch);
        let (customer, trip, y) = (c.text("customer_id")?, c.int("trip")?, c.int("y")?);
        let (past, tenure) = (c.int("past")?, c.int("tenure")?);
        let bad = data.touchpoints.read(&c, Mask::Bad)?;
        for r in 0..c.rows() {
            let (Some(id), Some(day)) = (customer.str(r), trip.i64(r)) else {
                continue;
            };
            let Some(marked) = marks.get(id).and_then(|t| t.iter().find(|t| t.trip == day)) else {
                continue;
            };
            let bits = marked.marks;
            let about = marked
                .about
                .as_ref()
                .and_then(|a| names.iter().position(|n| n == a));
            let left = y.i64(r) == Some(1);
            out.trips += 1;
            out.defected += u64::from(left);
            let marked: Vec<usize> = (0..count).filter(|k| bits >> k & 1 == 1).collect();
            for &k in &marked {
                out.with[k] += 1;
                out.with_defected[k] += u64::from(left);
            }
            let concerned = bad.set(r, names.len()).filter(|&tp| Some(tp) != about);
            for tp in concerned.chain(about) {
                out.bad[count][tp] += 1;
                marked.iter().for_each(|&k| out.bad[k][tp] += 1);
            }
            let key = (
                bits,
                past.i64(r).unwrap_or(0),
                tenure.i64(r).unwrap_or(0),
                left,
            );
            *patterns.entry(key).or_default() += 1;
        }
    }
    if out.trips == 0 || out.with.iter().all(|&w| w == 0) {
        return Ok(out);
    }
    let base = Base::fit(sql, journey.window_days).await?;
    let options = *options;
    crate::cpu::run(move || {
        let outcome: Vec<f64> = patterns.keys().map(|k| f64::from(u8::from(k.3))).collect();
        let weights: Vec<u32> = patterns.values().copied().collect();
        let trips: Vec<TripContext> = patterns
            .keys()
            .map(|&(_, past, tenure, _)| base.context(past as f64, tenure as f64 / DAYS_PER_YEAR))
            .collect();
        for k in 0..count {
            let mark: Vec<f64> = patterns.keys().map(|p| (p.0 >> k & 1) as f64).collect();
            if out.with[k] == 0 || out.with[k] == out.trips {
                continue;
            }
            let data = Dataset::new(&outcome)
                .weighted(&weights)
                .predictor("mark", &mark);
            out.odds_ratios[k] = fit_dropout(&data, &trips, base.prior, &options)
                .ok()
                .and_then(|fit| fit.effects.into_iter().next())
                .map(|e| e.odds_ratio);
        }
        Ok(out)
    })
    .await
}

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
