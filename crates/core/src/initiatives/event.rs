//! Difference-in-differences on a panel: the static two-way fixed-effects effect, and the
//! event study of Sun & Abraham (2021) — one coefficient per adoption cohort and period
//! relative to its start (−1, the period before, the reference), against the units
//! untreated throughout — aggregated by the treated observations of each cell. With one
//! cohort it is the usual event study with leads and lags.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::panel::Panel;
use super::regression::{Linear, Unfit, Wald, fit};

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

/// An event-study term left out because the unit and period effects and the terms before
/// it explain it (as fixest drops collinear variables): the cohort starting in period
/// `start`, at `relative` periods from its start. Typical of sparse panels, e.g. a period
/// in which only that cohort's units are observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DroppedTerm {
    pub start: i64,
    pub relative: i64,
}

/// The interacted event study: the coefficients by relative period (the cells'
/// coefficients weighted by their observations), the average effect on the treated (none
/// when every period from a start is dropped as collinear), the joint test of the leads
/// (relative periods −2 and before) and the terms dropped.
#[derive(Debug, Clone)]
pub(crate) struct EventStudy {
    pub coefficients: Vec<Coefficient>,
    pub att: Option<Linear>,
    pub pretrend: Option<Wald>,
    pub dropped: Vec<DroppedTerm>,
}

/// The static effect: the coefficient of "treated in this period"; none when the unit and
/// period effects explain it.
pub(crate) fn static_effect(panel: &Panel) -> Result<Option<Linear>, Unfit> {
    let treated = panel
        .cells()
        .iter()
        .map(|c| f64::from(u8::from(panel.treated(c))))
        .collect();
    Ok(fit(panel, &[treated])?.combination(&[1.0]))
}

/// The event study, intervals at `level`. The leads come first among the regressors and
/// the periods from the start after them, so a term that cannot be told apart from the
/// leads is dropped from the effect, never from the pre-trend test.
pub(crate) fn event_study(panel: &Panel, level: f64) -> Result<EventStudy, Unfit> {
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
    let mut terms: Vec<(usize, i64)> = counts.keys().copied().collect();
    terms.sort_by_key(|&(g, e)| (e >= 0, g, e));
    let index: BTreeMap<(usize, i64), usize> =
        terms.iter().enumerate().map(|(i, &k)| (k, i)).collect();
    let mut x = vec![vec![0.0; panel.cells().len()]; terms.len()];
    for (i, c) in panel.cells().iter().enumerate() {
        if let Some(k) = key(c) {
            x[index[&k]][i] = 1.0;
        }
    }
    let fit = fit(panel, &x)?;
    // The kept terms of the relative periods `keep` weighted by their observations.
    let weights = |keep: &dyn Fn(i64) -> bool| -> Option<Vec<f64>> {
        let n: Vec<f64> = terms
            .iter()
            .enumerate()
            .map(|(j, k)| {
                if keep(k.1) && fit.kept(j) {
                    counts[k] as f64
                } else {
                    0.0
                }
            })
            .collect();
        let total: f64 = n.iter().sum();
        (total > 0.0).then(|| n.iter().map(|v| v / total).collect())
    };
    let relative: BTreeSet<i64> = terms.iter().map(|&(_, e)| e).collect();
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
            .filter_map(|(r, w)| Some(coefficient(*r, fit.combination(w)?, level)))
            .collect(),
        att: weights(&|e| e >= 0).and_then(|w| fit.combination(&w)),
        pretrend: fit.wald(&leads),
        dropped: fit
            .dropped
            .iter()
            .map(|&j| DroppedTerm {
                start: panel.periods()[terms[j].0],
                relative: terms[j].1,
            })
            .collect(),
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
