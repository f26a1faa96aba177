//! How well what respondents said, and what they had done, predict defection in the window
//! after the answer: AUCs with intervals, their differences and a lift table.

use cxray_core::drivers::{Dataset, logistic};
use cxray_core::stats::{Instrument, Settings, auc, auc_difference, lift_table};

use super::Prediction;
use super::analysis::Case;

/// The prediction figures over the cases whose window after the answer is observed.
pub(super) fn predict(instrument: Instrument, cases: &[Case<'_>], s: &Settings) -> Prediction {
    let observed: Vec<&Case> = cases
        .iter()
        .filter(|c| c.r.bought_in_window.is_some())
        .collect();
    let defected: Vec<bool> = observed
        .iter()
        .map(|c| c.r.bought_in_window == Some(false))
        .collect();
    // Higher means likelier to leave: a low score (a high CES), few expected purchases.
    let stated: Vec<f64> = observed
        .iter()
        .map(|c| match instrument {
            Instrument::Ces => c.r.score,
            _ => -c.r.score,
        })
        .collect();
    let behaviour: Option<Vec<f64>> = observed.iter().map(|c| c.expected.map(|e| -e)).collect();
    let both = behaviour
        .as_deref()
        .and_then(|b| combined(&stated, b, &defected));
    aucs(&stated, behaviour.as_deref(), both.as_deref(), &defected, s)
}

/// The linear predictor of a logistic regression of defection on the stated score and
/// the log of the expected purchases; none where it cannot be fitted.
fn combined(stated: &[f64], behaviour: &[f64], defected: &[bool]) -> Option<Vec<f64>> {
    let y: Vec<f64> = defected.iter().map(|&d| f64::from(u8::from(d))).collect();
    // behaviour is −E[purchases]; its log spreads the many small expectations.
    let log_expected: Vec<f64> = behaviour.iter().map(|b| (-b).max(1e-9).ln()).collect();
    let data = Dataset::new(&y)
        .predictor("stated", stated)
        .predictor("log_expected", &log_expected);
    let fit = logistic(&data).ok()?;
    let (b0, b) = (fit.intercept.estimate, &fit.slopes);
    Some(
        stated
            .iter()
            .zip(&log_expected)
            .map(|(s, e)| b0 + b[0].estimate * s + b[1].estimate * e)
            .collect(),
    )
}

/// AUC of each predictor of defection, their differences, and the lift table.
pub(super) fn aucs(
    stated: &[f64],
    behaviour: Option<&[f64]>,
    both: Option<&[f64]>,
    defected: &[bool],
    s: &Settings,
) -> Prediction {
    let lift_scores = both.or(behaviour).unwrap_or(stated);
    Prediction {
        n: defected.len() as u64,
        defectors: defected.iter().filter(|&&d| d).count() as u64,
        auc_stated: auc(stated, defected, s).ok(),
        auc_behaviour: behaviour.and_then(|b| auc(b, defected, s).ok()),
        auc_both: both.and_then(|b| auc(b, defected, s).ok()),
        auc_behaviour_minus_stated: behaviour
            .and_then(|b| auc_difference(b, stated, defected, s).ok()),
        auc_both_minus_behaviour: both
            .zip(behaviour)
            .and_then(|(a, b)| auc_difference(a, b, defected, s).ok()),
        lift: lift_table(lift_scores, defected, 10).unwrap_or_default(),
        lift_of: if both.is_some() {
            "both"
        } else if behaviour.is_some() {
            "behaviour"
        } else {
            "stated"
        },
    }
}
