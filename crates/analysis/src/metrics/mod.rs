//! CX metrics with uncertainty: survey responses sliced by any attribute of the response,
//! the customer or the touchpoint, and any time bucket, aggregated by DataFusion into
//! score tallies, turned into estimates with intervals by `core::stats`.

mod link;
mod view;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use cxray_core::stats::{Difference, Estimate, Instrument, Settings, Tally};
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use serde::Serialize;

use cxray_store::sql::Sql;
use cxray_store::{Result, StoreError};

pub use link::{
    Defection, Link, LinkOptions, LinkReport, Prediction, QuadrantCell, RETENTION_DAYS,
    RetentionPoint, ScoreGroup, Share, link,
};
pub use view::{TIME_BUCKETS, slice_columns};

/// Which responses, grouped how.
#[derive(Debug, Clone, Default)]
pub struct Slice {
    /// Group by these columns (of responses, customers or touchpoints) or time buckets.
    pub by: Vec<String>,
    /// First and last day of responses (inclusive).
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// A SQL predicate over the same columns.
    pub filter: Option<String>,
}

/// One group's figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricRow {
    /// The group's values of the `by` columns (null where the attribute is missing).
    #[serde(flatten)]
    pub group: BTreeMap<String, Option<String>>,
    #[serde(flatten)]
    pub estimate: Estimate,
}

/// The instrument's figure for every group of the slice, groups in ascending order.
pub async fn metric(
    sql: &Sql,
    instrument: Instrument,
    slice: &Slice,
    settings: &Settings,
) -> Result<Vec<MetricRow>> {
    let tallies = tallies(sql, instrument, slice).await?;
    tallies
        .into_iter()
        .map(|(group, tally)| {
            let estimate = tally.estimate(settings).map_err(StoreError::analysis)?;
            Ok(MetricRow {
                group: slice.by.iter().cloned().zip(group).collect(),
                estimate,
            })
        })
        .collect()
}

/// Two groups compared: each one's figure and the difference (a − b) with its interval
/// and p-value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub a: Estimate,
    pub b: Estimate,
    pub difference: Difference,
}

/// Compares the responses matching predicate `a` with those matching `b`.
pub async fn compare(
    sql: &Sql,
    instrument: Instrument,
    a: &str,
    b: &str,
    base: &Slice,
    settings: &Settings,
) -> Result<Comparison> {
    let mut groups = Vec::new();
    for (label, predicate) in [("group a", a), ("group b", b)] {
        let filter = match &base.filter {
            Some(f) => format!("({f}) AND ({predicate})"),
            None => predicate.to_string(),
        };
        let slice = Slice {
            by: Vec::new(),
            filter: Some(filter),
            ..base.clone()
        };
        let tally = tallies(sql, instrument, &slice)
            .await?
            .into_values()
            .next()
            .ok_or_else(|| {
                StoreError::NoData(format!(
                    "{label}: no {} responses match '{predicate}'",
                    instrument.name()
                ))
            })?;
        groups.push(tally);
    }
    Ok(Comparison {
        a: groups[0].estimate(settings).map_err(StoreError::analysis)?,
        b: groups[1].estimate(settings).map_err(StoreError::analysis)?,
        difference: groups[0]
            .compare(&groups[1], settings)
            .map_err(StoreError::analysis)?,
    })
}

/// Score tallies per group.
async fn tallies(
    sql: &Sql,
    instrument: Instrument,
    slice: &Slice,
) -> Result<BTreeMap<Vec<Option<String>>, Tally>> {
    let query = view::tally_query(sql, instrument, slice).await?;
    let (_, batches) = sql.query(&query).await?;
    let mut out: BTreeMap<Vec<Option<String>>, Tally> = BTreeMap::new();
    let groups = slice.by.len();
    for batch in &batches {
        let texts: Vec<_> = (0..groups)
            .map(|i| cast(batch.column(i), &DataType::Utf8))
            .collect::<Result<_, _>>()?;
        let scores = batch.column(groups).as_primitive::<Float64Type>();
        let counts = batch.column(groups + 1).as_primitive::<Int64Type>();
        for r in 0..batch.num_rows() {
            let key = texts
                .iter()
                .map(|t| (!t.is_null(r)).then(|| t.as_string::<i32>().value(r).to_string()))
                .collect();
            out.entry(key)
                .or_insert_with(|| Tally::new(instrument))
                .add(scores.value(r), counts.value(r) as u64)
                .map_err(StoreError::analysis)?;
        }
    }
    Ok(out)
}
