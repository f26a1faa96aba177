//! `cxray loyalty validate`: models fitted on the calibration period, judged on the
//! holdout period they did not see.

use cxray_core::models::{
    FitOptions, FrequencyRow, Holdout, ModelKind, by_frequency, cumulative_expected,
    transactions_from_fit,
};
use serde::Serialize;

use super::fit::{FitReport, fit_summaries, patterns, rows};
use super::summary::{Summaries, Window, epoch_day};
use cxray_store::sql::Sql;
use cxray_store::{Result, StoreError};

/// Calibration frequencies shown separately; the last row holds this many and more.
const FREQUENCY_CAP: u32 = 7;

/// Holdout performance of every model asked for.
#[derive(Debug, Clone, Serialize)]
pub struct Validation {
    pub window: Window,
    pub holdout_length: f64,
    pub models: Vec<ModelValidation>,
}

/// One model's fit and its holdout predictions against what happened.
#[derive(Debug, Clone, Serialize)]
pub struct ModelValidation {
    pub fit: FitReport,
    /// Total repeat transactions in the holdout, actual and predicted.
    pub holdout_actual: f64,
    pub holdout_predicted: f64,
    pub by_frequency: Vec<FrequencyRow>,
    /// Cumulative repeat transactions at the end of each time unit since the first
    /// customer's first purchase, actual and predicted.
    pub tracking: Vec<Tracking>,
}

/// Cumulative repeat transactions at the end of one period.
#[derive(Debug, Clone, Serialize)]
pub struct Tracking {
    pub period: u32,
    pub actual: f64,
    pub predicted: f64,
}

/// Fits each transaction model of `kinds` on the calibration period and compares its
/// predictions with the holdout period.
pub async fn validate(
    sql: &Sql,
    kinds: &[ModelKind],
    window: &Window,
    opts: &FitOptions,
) -> Result<Validation> {
    let holdout_end = window
        .holdout_end
        .ok_or_else(|| StoreError::Input("validation needs a holdout end".into()))?;
    window.validate()?;
    let summaries = window.summarise(sql).await?;
    let (patterns, actual) = patterns(&summaries).await?;
    let holdouts: Vec<Holdout> = patterns
        .iter()
        .zip(&actual)
        .map(|(rfm, a)| Holdout {
            rfm: *rfm,
            actual: *a,
        })
        .collect();
    let (births, actual_cumulative) = tracking_data(&summaries, epoch_day(holdout_end)).await?;
    let times: Vec<f64> = (1..=actual_cumulative.len()).map(|k| k as f64).collect();
    let mut models = Vec::new();
    for &kind in kinds {
        let report = fit_summaries(&summaries, kind, opts).await?;
        let model =
            transactions_from_fit(&report.fit).map_err(|e| StoreError::analysis(e).within(kind))?;
        let by_x = by_frequency(&*model, &holdouts, window.holdout_length(), FREQUENCY_CAP);
        let predicted_cumulative = cumulative_expected(&*model, &births, &times);
        models.push(ModelValidation {
            fit: report,
            holdout_actual: actual.iter().sum(),
            holdout_predicted: by_x.iter().map(|r| r.predicted * r.customers).sum(),
            by_frequency: by_x,
            tracking: (0..times.len())
                .map(|k| Tracking {
                    period: k as u32 + 1,
                    actual: actual_cumulative[k],
                    predicted: predicted_cumulative[k],
                })
                .collect(),
        });
    }
    Ok(Validation {
        window: *window,
        holdout_length: window.holdout_length(),
        models,
    })
}

/// Births (time of first purchase in units since the earliest, customers) and the actual
/// cumulative repeat transactions at the end of each unit up to the holdout end.
async fn tracking_data(
    summaries: &Summaries,
    last_day: i64,
) -> Result<(Vec<(f64, f64)>, Vec<f64>)> {
    let unit = summaries.window().unit.days();
    let births_query = "SELECT CAST(first_day AS DOUBLE) AS first_day,
                               CAST(count(*) AS DOUBLE) AS customers
                        FROM summary GROUP BY first_day";
    let raw = pairs(summaries, births_query, "first_day", "customers").await?;
    let origin = raw.iter().map(|r| r.0).fold(f64::INFINITY, f64::min);
    let births = raw.iter().map(|r| ((r.0 - origin) / unit, r.1)).collect();
    let repeats_query = format!(
        "SELECT CAST(floor(CAST(days.day - {origin} AS DOUBLE) / {unit}) AS DOUBLE) AS period,
                CAST(count(*) AS DOUBLE) AS purchases
            FROM days JOIN summary ON days.customer_id = summary.customer_id
            WHERE days.day > summary.first_day GROUP BY 1",
        origin = origin as i64
    );
    let periods = ((last_day as f64 - origin + 1.0) / unit).ceil().max(1.0) as usize;
    let mut per_period = vec![0.0; periods];
    for (period, purchases) in pairs(summaries, &repeats_query, "period", "purchases").await? {
        if let Some(slot) = per_period.get_mut(period as usize) {
            *slot += purchases;
        }
    }
    let cumulative = per_period
        .iter()
        .scan(0.0, |acc, n| {
            *acc += n;
            Some(*acc)
        })
        .collect();
    Ok((births, cumulative))
}

/// The float columns `a` and `b` of a query over the summaries, row by row.
async fn pairs(summaries: &Summaries, query: &str, a: &str, b: &str) -> Result<Vec<(f64, f64)>> {
    rows(summaries, query, |c| {
        let (a, b) = (c.float(a)?, c.float(b)?);
        (0..c.rows())
            .map(|r| Ok((a.float_at(r)?, b.float_at(r)?)))
            .collect()
    })
    .await
}
