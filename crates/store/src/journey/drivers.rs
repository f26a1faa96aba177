//! Drivers of behaviour: per observed trip, whether the customer defected (or what they
//! spent) in the window after it, explained by a bad experience at each touchpoint, with
//! the customer's past purchases and tenure as controls.

use std::collections::{BTreeMap, HashMap};

use cxray_core::drivers::{Analysis, Dataset, Method, Model, Options, analyse};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};

use super::{JourneyOptions, trips};
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

/// The columns of the trip-level data set: outcome, then predictors by name.
struct Columns {
    outcome: Vec<f64>,
    predictors: BTreeMap<String, Vec<f64>>,
}

/// Runs the driver analysis of `outcome` over the observed trips.
pub async fn drivers(
    sql: &Sql,
    outcome: DriverOutcome,
    journey: &JourneyOptions,
    options: &Options,
) -> Result<Analysis> {
    trips::register(sql, journey.window_days, &journey.slas).await?;
    let (mut cols, index) = trip_columns(sql, outcome).await?;
    bad_experiences(sql, &index, &mut cols).await?;
    let mut data = Dataset::new(&cols.outcome);
    for (name, values) in &cols.predictors {
        data = data.predictor(name.clone(), values);
    }
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
    analyse(&data, &options).map_err(|e| StoreError::Input(e.to_string()))
}

type TripIndex = HashMap<(String, i64), usize>;

async fn trip_columns(sql: &Sql, outcome: DriverOutcome) -> Result<(Columns, TripIndex)> {
    let y = match outcome {
        DriverOutcome::Defection => "CAST(CASE WHEN defected THEN 1 ELSE 0 END AS DOUBLE)",
        DriverOutcome::Spend => "later_spend",
    };
    let (_, batches) = sql
        .query(&format!(
            "SELECT CAST(customer_id AS VARCHAR), trip, {y}, CAST(past_purchases AS DOUBLE),
                    CAST(tenure_days AS DOUBLE) / 365.25
             FROM trips WHERE observed ORDER BY 1, 2"
        ))
        .await?;
    let mut index = HashMap::new();
    let mut cols = Columns {
        outcome: Vec::new(),
        predictors: BTreeMap::new(),
    };
    let (mut past, mut tenure) = (Vec::new(), Vec::new());
    for b in &batches {
        let (ids, trip) = keys(b)?;
        let f = |i: usize| b.column(i).as_primitive::<Float64Type>();
        for r in 0..b.num_rows() {
            index.insert(
                (ids.as_string::<i32>().value(r).to_string(), trip.value(r)),
                index.len(),
            );
            cols.outcome.push(f(2).value(r));
            past.push(f(3).value(r));
            tenure.push(f(4).value(r));
        }
    }
    if index.is_empty() {
        return Err(StoreError::Input(
            "no trips whose window after them lies within the data: nothing to explain".into(),
        ));
    }
    cols.predictors
        .insert("control: past purchases".into(), past);
    cols.predictors
        .insert("control: tenure (years)".into(), tenure);
    Ok((cols, index))
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
            let name = format!("bad: {}", tp.as_string::<i32>().value(r));
            cols.predictors.entry(name).or_insert_with(|| vec![0.0; n])[row] = 1.0;
        }
    }
    Ok(())
}
