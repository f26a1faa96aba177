//! CX metrics with uncertainty: survey responses sliced by any attribute of the response,
//! the customer or the touchpoint, and any time bucket, aggregated by DataFusion into
//! score tallies, turned into estimates with intervals by `core::stats`.

mod link;
mod view;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use cxray_core::stats::{Difference, Estimate, Instrument, Settings, Tally};
use serde::Serialize;

use cxray_store::decode::Columns;
use cxray_store::sql::Sql;
use cxray_store::{Result, StoreError};

pub use link::{
    Defection, Link, LinkOptions, LinkReport, Prediction, QuadrantCell, RETENTION_DAYS,
    RetentionPoint, ScoreGroup, link,
};
pub(crate) use link::{DefectorCounts, defectors_by, satisfied};
use view::Condition;
pub use view::{TIME_BUCKETS, slice_columns};
pub(crate) use view::{TOUCHPOINT_COLUMNS, quote};
pub(crate) use view::{group_expr, view_frame};

/// Which responses, grouped how.
#[derive(Debug, Clone, Default)]
pub struct Slice {
    /// Group by these columns (of responses, customers or touchpoints) or time buckets.
    pub by: Vec<String>,
    /// First and last day of responses (inclusive).
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// A condition over the same columns (`--where`), as SQL expression text: parsed
    /// into an expression and applied as a filter, never spliced into a query.
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
    let tallies = tallies(sql, instrument, slice, &[]).await?;
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

/// The instrument's tallies by month (the month's first day), oldest first.
pub async fn monthly_tallies(
    sql: &Sql,
    instrument: Instrument,
) -> Result<BTreeMap<chrono::NaiveDate, Tally>> {
    let slice = Slice {
        by: vec!["month".into()],
        ..Slice::default()
    };
    let tallies = tallies(sql, instrument, &slice, &[]).await?;
    Ok(tallies
        .into_iter()
        .filter_map(|(group, tally)| {
            let month = group.first()?.as_deref()?.get(..10)?.parse().ok()?;
            Some((month, tally))
        })
        .collect())
}

/// The instrument's tallies by the slice's groups (`None` where a group's value is).
pub(crate) async fn grouped_tallies(
    sql: &Sql,
    instrument: Instrument,
    slice: &Slice,
) -> Result<BTreeMap<Vec<Option<String>>, Tally>> {
    tallies(sql, instrument, slice, &[]).await
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
    for (field, text) in [("group a", a), ("group b", b)] {
        let slice = Slice {
            by: Vec::new(),
            ..base.clone()
        };
        let tally = tallies(sql, instrument, &slice, &[Condition { field, text }])
            .await?
            .into_values()
            .next()
            .ok_or_else(|| {
                StoreError::NoData(format!(
                    "{field}: no {} responses match '{text}'",
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

/// Score tallies per group, of the responses matching the slice's condition (`--where`)
/// and `more`.
async fn tallies(
    sql: &Sql,
    instrument: Instrument,
    slice: &Slice,
    more: &[Condition<'_>],
) -> Result<BTreeMap<Vec<Option<String>>, Tally>> {
    let mut conditions: Vec<Condition> = slice
        .filter
        .as_deref()
        .map(|text| Condition {
            field: "condition",
            text,
        })
        .into_iter()
        .collect();
    conditions.extend_from_slice(more);
    let batches = view::tallies(sql, instrument, slice, &conditions)
        .await?
        .collect()
        .await?;
    let mut out: BTreeMap<Vec<Option<String>>, Tally> = BTreeMap::new();
    for batch in &batches {
        let c = Columns::new(batch);
        let groups = (0..slice.by.len())
            .map(|i| c.text(&format!("g{i}")))
            .collect::<Result<Vec<_>>>()?;
        let (scores, counts) = (c.float("score")?, c.int("n")?);
        for r in 0..c.rows() {
            let key = groups
                .iter()
                .map(|g| g.str(r).map(str::to_string))
                .collect();
            out.entry(key)
                .or_insert_with(|| Tally::new(instrument))
                .add(scores.float_at(r)?, counts.count(r))
                .map_err(StoreError::analysis)?;
        }
    }
    Ok(out)
}
