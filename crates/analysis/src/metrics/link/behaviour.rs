//! The behavioural prediction at the time of each answer: the loyalty model's expected
//! purchases in the window after the answer, given the respondent's purchases up to it.

use cxray_core::models::{FitOptions, ModelKind, Rfm, transactions_from_fit};

use super::respondents::Respondent;
use crate::loyalty::{FitReport, Summaries, TimeUnit, Window};
use cxray_store::sql::Sql;
use cxray_store::{ErrorKind, Result};

/// The model's expected purchases in `window_days` after each respondent's answer, in
/// the order given, or why there are none.
pub(super) fn expected_after_answer(
    fit: &FitReport,
    respondents: &[Respondent],
    window_days: u32,
) -> std::result::Result<Vec<f64>, String> {
    let model = transactions_from_fit(&fit.fit).map_err(|e| e.to_string())?;
    let unit = TimeUnit::Week.days();
    let horizon = f64::from(window_days) / unit;
    Ok(respondents
        .iter()
        .map(|r| model.expected_conditional(&history(r, unit), horizon))
        .collect())
}

/// The respondent's (x, t_x, T) at the answer day, in units of `unit` days.
fn history(r: &Respondent, unit: f64) -> Rfm {
    match (r.first_day, r.previous_day) {
        (Some(first), Some(previous)) => Rfm::new(
            r.days_before.saturating_sub(1) as f64,
            (previous - first) as f64 / unit,
            (r.day - first) as f64 / unit,
        ),
        _ => Rfm::new(0.0, 0.0, 0.0),
    }
}

/// The summaries of every purchase up to `data_end`, calibrated to `calibration_end`, in
/// weeks: what the behavioural fit and the respondents' purchase histories read.
pub(super) async fn summaries(
    sql: &Sql,
    calibration_end: chrono::NaiveDate,
    data_end: chrono::NaiveDate,
) -> Result<Summaries> {
    let window = Window {
        unit: TimeUnit::Week,
        calibration_end,
        holdout_end: (data_end > calibration_end).then_some(data_end),
    };
    window.summarise(sql).await
}

/// Fits the transaction model on the calibration summaries; a fit that fails is a reason,
/// not an error.
pub(super) async fn fit(
    summaries: &Summaries,
    model: ModelKind,
) -> Result<std::result::Result<FitReport, String>> {
    match crate::loyalty::fit_summaries(summaries, model, &FitOptions::default()).await {
        Ok(report) => Ok(Ok(report)),
        Err(e) if e.kind() != ErrorKind::Internal => Ok(Err(e.to_string())),
        Err(e) => Err(e),
    }
}
