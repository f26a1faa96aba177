//! `cxray loyalty fit`: a model fitted to the summaries of the calibration period.

use std::time::Instant;

use cxray_core::domain::Table;
use cxray_core::models::{
    Fit, FitOptions, GammaGamma, ModelKind, Rfm, Sbg, SpendPattern, Tenure, fit_transactions,
};
use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::Float64Type;
use serde::Serialize;

use super::summary::Window;
use cxray_store::sql::Sql;
use cxray_store::{Result, StoreError};

/// A fit with what it was fitted on.
#[derive(Debug, Clone, Serialize)]
pub struct FitReport {
    #[serde(flatten)]
    pub fit: Fit,
    pub window: Option<Window>,
    /// The `transactions` version the fit read (none for a fit from given survival counts).
    pub transactions_version: Option<u64>,
    /// Time spent summarising the transactions, and in all.
    pub summary_seconds: f64,
    pub seconds: f64,
}

/// Fits `kind` on the calibration summaries of `window`, or for sBG on `survival` counts
/// when given.
pub async fn fit(
    sql: &Sql,
    kind: ModelKind,
    window: &Window,
    survival: Option<&[f64]>,
    opts: &FitOptions,
) -> Result<FitReport> {
    let started = Instant::now();
    window.validate()?;
    if survival.is_none() || kind != ModelKind::Sbg {
        window.materialize(sql).await?;
    }
    let summary_seconds = started.elapsed().as_secs_f64();
    let mut report = fit_summarised(sql, kind, window, survival, opts).await?;
    report.summary_seconds = summary_seconds;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// [`fit`] on the summaries registered by [`Window::materialize`].
pub(super) async fn fit_summarised(
    sql: &Sql,
    kind: ModelKind,
    window: &Window,
    survival: Option<&[f64]>,
    opts: &FitOptions,
) -> Result<FitReport> {
    let started = Instant::now();
    let model = |e: cxray_core::models::ModelError| StoreError::analysis(e).within(kind);
    let fit = match (kind, survival) {
        (ModelKind::Sbg, Some(alive)) => Sbg::fit_survival(alive, opts).map(|(_, f)| f),
        (ModelKind::Sbg, None) => Sbg::fit_tenure(&tenures(sql).await?, opts).map(|(_, f)| f),
        (ModelKind::GammaGamma, _) => {
            GammaGamma::fit(&spend_patterns(sql).await?, opts).map(|(_, f)| f)
        }
        _ => fit_transactions(kind, &patterns(sql, window).await?.0, opts).map(|(_, f)| f),
    }
    .map_err(model)?;
    let from_data = survival.is_none() || kind != ModelKind::Sbg;
    Ok(report(sql, fit, from_data.then_some(window), started))
}

/// The report of `fit`, made on the summaries of `window` if given, started at `started`.
pub(super) fn report(sql: &Sql, fit: Fit, window: Option<&Window>, started: Instant) -> FitReport {
    FitReport {
        fit,
        window: window.copied(),
        transactions_version: window
            .and_then(|_| sql.versions().get(&Table::Transactions).copied()),
        summary_seconds: 0.0,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// The error for a window without customers.
pub(super) fn nothing_to_fit(window: &Window) -> StoreError {
    StoreError::NoData(format!(
        "no customers with a purchase on or before {}: nothing to fit",
        window.calibration_end
    ))
}

/// Runs a query whose columns are all DOUBLE and returns its rows.
pub(super) async fn doubles(sql: &Sql, query: &str) -> Result<Vec<Vec<f64>>> {
    let (_, batches) = sql.query(query).await?;
    Ok(batches.iter().flat_map(rows_of).collect())
}

fn rows_of(batch: &RecordBatch) -> Vec<Vec<f64>> {
    let cols: Vec<_> = batch
        .columns()
        .iter()
        .map(|c| c.as_primitive::<Float64Type>())
        .collect();
    (0..batch.num_rows())
        .map(|r| cols.iter().map(|c| c.value(r)).collect())
        .collect()
}

/// The unique (x, t_x, T) patterns of the calibration period, with their customer counts
/// and their holdout transactions. Customers first seen on the calibration end (T = 0)
/// are left out: nothing of them was observed, so they carry no information for a fit.
pub(super) async fn patterns(sql: &Sql, window: &Window) -> Result<(Vec<Rfm>, Vec<f64>)> {
    let query = "SELECT x, t_x, t, CAST(count(*) AS DOUBLE), sum(holdout_x) FROM summary
                 WHERE t > 0 GROUP BY x, t_x, t";
    let rows = doubles(sql, query).await?;
    if rows.is_empty() {
        return Err(nothing_to_fit(window));
    }
    Ok(rows
        .iter()
        .map(|r| {
            (
                Rfm {
                    x: r[0],
                    t_x: r[1],
                    t: r[2],
                    weight: r[3],
                },
                r[4],
            )
        })
        .unzip())
}

/// The unique (x, mean repeat spend) patterns of customers with repeat purchases.
async fn spend_patterns(sql: &Sql) -> Result<Vec<SpendPattern>> {
    let query = "SELECT x, mean_spend, CAST(count(*) AS DOUBLE) FROM summary WHERE x > 0 AND mean_spend > 0 GROUP BY x, mean_spend";
    Ok(doubles(sql, query)
        .await?
        .iter()
        .map(|r| SpendPattern {
            x: r[0],
            mean_spend: r[1],
            weight: r[2],
        })
        .collect())
}

/// Tenures for the shifted-beta-geometric model, reading each purchase as a renewal: a
/// customer whose last renewal is a whole period or more before the calibration end has
/// churned after `floor(t_x) + 1` periods; the others are active after `floor(T)`.
async fn tenures(sql: &Sql) -> Result<Vec<Tenure>> {
    let query = "SELECT CASE WHEN t - t_x >= 1 THEN floor(t_x) + 1 ELSE floor(t) END AS periods,
                   CASE WHEN t - t_x >= 1 THEN 1.0 ELSE 0.0 END AS churned,
                   CAST(count(*) AS DOUBLE)
            FROM summary GROUP BY 1, 2";
    Ok(doubles(sql, query)
        .await?
        .iter()
        .map(|r| Tenure {
            periods: r[0] as u32,
            churned: r[1] > 0.5,
            weight: r[2],
        })
        .collect())
}
