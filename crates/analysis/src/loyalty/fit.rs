//! `cxray loyalty fit`: a model fitted to the summaries of the calibration period.

use std::time::Instant;

use cxray_core::domain::Table;
use cxray_core::models::{
    Fit, FitOptions, GammaGamma, ModelKind, Rfm, Sbg, SpendPattern, Tenure, fit_transactions,
};
use serde::Serialize;

use super::summary::{Summaries, Window};
use cxray_store::decode::Columns;
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
    if let (ModelKind::Sbg, Some(alive)) = (kind, survival) {
        let fit = Sbg::fit_survival(alive, opts)
            .map(|(_, f)| f)
            .map_err(model_error(kind))?;
        return Ok(report(sql, fit, None, started));
    }
    let summaries = window.summarise(sql).await?;
    let summary_seconds = started.elapsed().as_secs_f64();
    let mut report = fit_summaries(&summaries, kind, opts).await?;
    report.summary_seconds = summary_seconds;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Fits `kind` on the calibration summaries.
pub async fn fit_summaries(
    summaries: &Summaries,
    kind: ModelKind,
    opts: &FitOptions,
) -> Result<FitReport> {
    let started = Instant::now();
    let fit = match kind {
        ModelKind::Sbg => Sbg::fit_tenure(&tenures(summaries).await?, opts).map(|(_, f)| f),
        ModelKind::GammaGamma => {
            GammaGamma::fit(&spend_patterns(summaries).await?, opts).map(|(_, f)| f)
        }
        _ => fit_transactions(kind, &patterns(summaries).await?.0, opts).map(|(_, f)| f),
    }
    .map_err(model_error(kind))?;
    Ok(report(
        summaries.sql(),
        fit,
        Some(summaries.window()),
        started,
    ))
}

/// A model's error, with its kind (bad input, no data or a failed fit), naming the model.
fn model_error(kind: ModelKind) -> impl Fn(cxray_core::models::ModelError) -> StoreError {
    move |e| StoreError::analysis(e).within(kind)
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

/// Runs a query over the summaries and reads each row with `read`, given the batch's
/// columns by name.
pub(super) async fn rows<T>(
    summaries: &Summaries,
    query: &str,
    read: impl Fn(&Columns) -> Result<Vec<T>>,
) -> Result<Vec<T>> {
    let (_, batches) = summaries.sql().query(query).await?;
    let mut out = Vec::new();
    for b in &batches {
        out.extend(read(&Columns::new(b))?);
    }
    Ok(out)
}

/// The unique (x, t_x, T) patterns of the calibration period, with their customer counts
/// and their holdout transactions. Customers first seen on the calibration end (T = 0)
/// are left out: nothing of them was observed, so they carry no information for a fit.
pub(super) async fn patterns(summaries: &Summaries) -> Result<(Vec<Rfm>, Vec<f64>)> {
    let query = "SELECT x, t_x, t, CAST(count(*) AS DOUBLE) AS customers,
                        sum(holdout_x) AS holdout_x
                 FROM summary WHERE t > 0 GROUP BY x, t_x, t";
    let rows = rows(summaries, query, |c| {
        let (x, t_x, t) = (c.float("x")?, c.float("t_x")?, c.float("t")?);
        let (customers, holdout) = (c.float("customers")?, c.float("holdout_x")?);
        (0..c.rows())
            .map(|r| {
                let rfm = Rfm {
                    x: x.float_at(r)?,
                    t_x: t_x.float_at(r)?,
                    t: t.float_at(r)?,
                    weight: customers.float_at(r)?,
                };
                Ok((rfm, holdout.float_at(r)?))
            })
            .collect()
    })
    .await?;
    if rows.is_empty() {
        return Err(nothing_to_fit(summaries.window()));
    }
    Ok(rows.into_iter().unzip())
}

/// The unique (x, mean repeat spend) patterns of customers with repeat purchases.
async fn spend_patterns(summaries: &Summaries) -> Result<Vec<SpendPattern>> {
    let query = "SELECT x, mean_spend, CAST(count(*) AS DOUBLE) AS customers FROM summary
                 WHERE x > 0 AND mean_spend > 0 GROUP BY x, mean_spend";
    rows(summaries, query, |c| {
        let (x, mean, customers) = (c.float("x")?, c.float("mean_spend")?, c.float("customers")?);
        (0..c.rows())
            .map(|r| {
                Ok(SpendPattern {
                    x: x.float_at(r)?,
                    mean_spend: mean.float_at(r)?,
                    weight: customers.float_at(r)?,
                })
            })
            .collect()
    })
    .await
}

/// Tenures for the shifted-beta-geometric model, reading each purchase as a renewal: a
/// customer whose last renewal is a whole period or more before the calibration end has
/// churned after `floor(t_x) + 1` periods; the others are active after `floor(T)`.
async fn tenures(summaries: &Summaries) -> Result<Vec<Tenure>> {
    let query = "SELECT CASE WHEN t - t_x >= 1 THEN floor(t_x) + 1 ELSE floor(t) END AS periods,
                   CASE WHEN t - t_x >= 1 THEN 1.0 ELSE 0.0 END AS churned,
                   CAST(count(*) AS DOUBLE) AS customers
            FROM summary GROUP BY 1, 2";
    rows(summaries, query, |c| {
        let (periods, churned) = (c.float("periods")?, c.float("churned")?);
        let customers = c.float("customers")?;
        (0..c.rows())
            .map(|r| {
                Ok(Tenure {
                    periods: periods.float_at(r)? as u32,
                    churned: churned.float_at(r)? > 0.5,
                    weight: customers.float_at(r)?,
                })
            })
            .collect()
    })
    .await
}
