//! Difference-in-differences on a panel: the static two-way fixed-effects effect, and the
//! event study of Sun & Abraham (2021) — one coefficient per adoption cohort and period
//! relative to its start (−1, the period before, the reference), against the units
//! untreated throughout — aggregated by the treated observations of each cell. With one
//! cohort it is the usual event study with leads and lags.

use std::collections::BTreeMap;

use serde::Serialize;

use super::InitiativeError;
use super::panel::Panel;
use super::regression::{Linear, Wald, fit};

/// One event-study coefficient: periods relative to the start (0 the first treated
/// period; −1 the reference, 0 by definition), estimate, standard error, interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Coefficient {
    pub relative: i64,
    pub estimate: f64,
    pub se: f64,
    pub low: f64,
    pub high: f64,
}

/// The interacted event study: the coefficients by relative period (the cells'
/// coefficients weighted by their observations), the average effect on the treated and the joint test
/// of the leads (relative periods −2 and before).
#[derive(Debug, Clone)]
pub(crate) struct EventStudy {
    pub coefficients: Vec<Coefficient>,
    pub att: Linear,
    pub pretrend: Option<Wald>,
}

/// The static effect: the coefficient of "treated in this period".
pub(crate) fn static_effect(panel: &Panel) -> Result<Linear, InitiativeError> {
    let treated = panel
        .cells()
        .iter()
        .map(|c| f64::from(u8::from(panel.treated(c))))
        .collect();
    Ok(fit(panel, &[treated])?.combination(&[1.0]))
}

/// The event study, intervals at `level`. `Collinear` when no unit is untreated
/// throughout or no treated period is observed.
pub(crate) fn event_study(panel: &Panel, level: f64) -> Result<EventStudy, InitiativeError> {
    // Each treated cell's (cohort, relative period), the reference left out.
    let key = |c: &super::panel::Cell| {
        let g = panel.adoption(c.unit)?;
        let e = c.period as i64 - g as i64;
        (e != -1).then_some((g, e))
    };
    let mut counts: BTreeMap<(usize, i64), usize> = BTreeMap::new();
    panel
        .cells()
        .iter()
        .filter_map(key)
        .for_each(|k| *counts.entry(k).or_default() += 1);
    let index: BTreeMap<(usize, i64), usize> =
        counts.keys().enumerate().map(|(i, &k)| (k, i)).collect();
    let mut x = vec![vec![0.0; panel.cells().len()]; index.len()];
    for (i, c) in panel.cells().iter().enumerate() {
        if let Some(k) = key(c) {
            x[index[&k]][i] = 1.0;
        }
    }
    let fit = fit(panel, &x)?;
    let weights = |keep: &dyn Fn(i64) -> bool| -> Option<Vec<f64>> {
        let total: usize = counts
            .iter()
            .filter(|((_, e), _)| keep(*e))
            .map(|(_, n)| n)
            .sum();
        (total > 0).then(|| {
            counts
                .iter()
                .map(|(&(_, e), &n)| {
                    if keep(e) {
                        n as f64 / total as f64
                    } else {
                        0.0
                    }
                })
                .collect()
        })
    };
    let att = weights(&|e| e >= 0).ok_or(InitiativeError::Collinear)?;
    let relative: Vec<i64> = {
        let mut r: Vec<i64> = counts.keys().map(|&(_, e)| e).collect();
        r.sort_unstable();
        r.dedup();
        r
    };
    let by_relative: Vec<(i64, Vec<f64>)> = relative
        .iter()
        .filter_map(|&r| Some((r, weights(&|e| e == r)?)))
        .collect();
    let leads: Vec<Vec<f64>> = by_relative
        .iter()
        .filter(|(r, _)| *r < -1)
        .map(|(_, w)| w.clone())
        .collect();
    Ok(EventStudy {
        coefficients: by_relative
            .iter()
            .map(|(r, w)| coefficient(*r, fit.combination(w), level))
            .collect(),
        att: fit.combination(&att),
        pretrend: fit.wald(&leads),
    })
}

fn coefficient(relative: i64, l: Linear, level: f64) -> Coefficient {
    let (low, high) = l.interval(level);
    Coefficient {
        relative,
        estimate: l.value,
        se: l.se,
        low,
        high,
    }
}
