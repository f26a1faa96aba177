//! One measurement: the estimator chosen (or asked for) and why, a refusal or the effect
//! with its interval, p-value and minimum detectable effect, the diagnostics, the event
//! study, and the treated path beside its comparison for the charts.

use serde::Serialize;

use crate::stats::{Estimate, Power, Settings};

use super::InitiativeError;
use super::design::{Design, Estimator, Refusal, Rules};
use super::event::{Coefficient, DroppedTerm, event_study, static_effect};
use super::panel::Panel;
use super::pilot::pilot;
use super::regression::{Linear, Unfit};
use super::synthetic::{Placebo, Synthetic, Weight, paths, synthetic};

/// What to measure with: the estimator (chosen from the design when `None`), whether the
/// units were assigned at random, the design rules, the confidence level.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Request {
    pub estimator: Option<Estimator>,
    pub randomized: bool,
    pub rules: Rules,
    pub stats: Settings,
}

/// The effect per treated unit and period (in the outcome's units), relative to what the
/// treated units would have had without it (a fraction; none when that is 0), summed over
/// the treated units' periods from the start, with its p-value, standard error (none for a
/// synthetic control, whose interval comes from its placebos) and the smallest effect the
/// design detects with 80% power at the 5% level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Effect {
    pub absolute: Estimate,
    pub relative: Option<Estimate>,
    pub cumulative: Estimate,
    pub p_value: f64,
    pub se: Option<f64>,
    pub detectable: Option<f64>,
}

/// Checks of the design: the joint test of the event study's leads (no trend before the
/// start), the synthetic control's fit before the start, the post/pre RMSPE ratio and its
/// rank among the placebos', the pilot's variance reduction.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Diagnostics {
    pub pretrend_f: Option<f64>,
    pub pretrend_p: Option<f64>,
    pub pre_rmspe: Option<f64>,
    pub post_rmspe: Option<f64>,
    pub rmspe_ratio: Option<f64>,
    pub placebo_rank: Option<usize>,
    pub placebo_units: Option<usize>,
    pub variance_reduction: Option<f64>,
}

/// One period of the chart: the treated units' mean and the comparison's (untreated mean
/// or synthetic unit).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    pub period: i64,
    pub treated: Option<f64>,
    pub comparison: Option<f64>,
}

/// A measurement of a panel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measurement {
    pub estimator: Estimator,
    pub chosen_automatically: bool,
    pub reason: String,
    pub design: Design,
    /// The first treated period (the earliest of several).
    pub start: Option<i64>,
    pub refusal: Option<Refusal>,
    pub effect: Option<Effect>,
    pub diagnostics: Diagnostics,
    pub event_study: Vec<Coefficient>,
    /// Event-study terms left out as collinear with the unit and period effects (sparse
    /// panels); also said in `notes`.
    pub dropped: Vec<DroppedTerm>,
    pub series: Vec<Point>,
    pub weights: Vec<Weight>,
    pub placebos: Vec<Placebo>,
    pub notes: Vec<String>,
}

/// Measures the effect of the treatment on `panel`.
pub fn measure(panel: &Panel, request: &Request) -> Result<Measurement, InitiativeError> {
    let design = Design::of(panel);
    let rules = &request.rules;
    let (estimator, reason, auto) = match request.estimator {
        Some(e) => (e, "asked for".to_string(), false),
        None => {
            let (e, why) = design.choose(request.randomized, rules);
            (e, why, true)
        }
    };
    let start = panel.cohorts().first().copied();
    let mut m = Measurement {
        estimator,
        chosen_automatically: auto,
        reason,
        design,
        start: start.map(|g| panel.periods()[g]),
        refusal: design.refusal(estimator, rules),
        effect: None,
        diagnostics: Diagnostics::default(),
        event_study: Vec::new(),
        dropped: Vec::new(),
        series: mean_paths(panel),
        weights: Vec::new(),
        placebos: Vec::new(),
        notes: notes(panel),
    };
    let (Some(g), None) = (start, &m.refusal) else {
        return Ok(m);
    };
    match estimator {
        Estimator::DifferenceInDifferences | Estimator::Staggered => {
            regression(panel, &mut m, request)?
        }
        Estimator::SyntheticControl => synthetic_control(panel, g, &mut m, request),
        Estimator::RandomizedPilot => randomized(panel, g, &mut m, request)?,
    }
    Ok(m)
}

/// Two-way fixed effects or Sun & Abraham, with the event study and its pre-trend test;
/// with several starts and no unit untreated throughout, the last-treated units are the
/// control of the others before their start. Terms the fixed effects explain are dropped
/// (and noted); the effect is refused only when its own term cannot be estimated.
fn regression(
    panel: &Panel,
    m: &mut Measurement,
    request: &Request,
) -> Result<(), InitiativeError> {
    let level = request.stats.level;
    let cohorts = panel.cohorts();
    let sample = if m.design.untreated_units == 0 {
        let last = *cohorts.last().unwrap_or(&0);
        m.notes.push(format!(
            "no unit is untreated throughout: the units treated last are the control until {}",
            panel.periods()[last]
        ));
        panel.before(last)
    } else {
        panel.clone()
    };
    let study = event_study(&sample, level);
    let effect = match m.estimator {
        Estimator::Staggered => study.as_ref().map(|s| s.att).map_err(|u| *u),
        _ => static_effect(&sample),
    };
    let effect = match effect {
        Ok(effect) => effect,
        Err(unfit) => {
            m.refusal = Some(match unfit {
                Unfit::Units(units) => Refusal::TooFewUnits { units, needed: 2 },
                Unfit::Observations {
                    observations,
                    parameters,
                } => Refusal::TooFewObservations {
                    observations,
                    parameters,
                },
            });
            return Ok(());
        }
    };
    // The static effect stands without an event study where it has too few observations.
    if let Ok(study) = study {
        m.diagnostics.pretrend_f = study.pretrend.map(|w| w.f);
        m.diagnostics.pretrend_p = study.pretrend.map(|w| w.p_value);
        m.event_study = study.coefficients;
        if !study.dropped.is_empty() {
            m.notes.push(dropped_note(&study.dropped));
        }
        m.dropped = study.dropped;
    }
    match effect {
        Some(l) => m.effect = Some(from_linear(&sample, l, level)?),
        None => m.refusal = Some(Refusal::Unidentified),
    }
    Ok(())
}

/// The note naming the event-study terms dropped as collinear, by start.
fn dropped_note(dropped: &[DroppedTerm]) -> String {
    let mut by_start: Vec<(i64, Vec<String>)> = Vec::new();
    for d in dropped {
        let relative = d.relative.to_string();
        match by_start.iter_mut().find(|(s, _)| *s == d.start) {
            Some((_, r)) => r.push(relative),
            None => by_start.push((d.start, vec![relative])),
        }
    }
    let parts: Vec<String> = by_start
        .iter()
        .map(|(s, r)| format!("start {s}: {}", r.join(", ")))
        .collect();
    format!(
        "event-study terms left out, explained by the unit and period effects (periods \
         relative to the start; sparse data): {}",
        parts.join("; ")
    )
}

fn from_linear(panel: &Panel, l: Linear, level: f64) -> Result<Effect, InitiativeError> {
    let detectable = Power::default().detectable_with_se(l.se)?;
    Ok(effect(
        panel,
        l.value,
        Some(l.interval(level)),
        l.p_value(),
        Some(l.se),
        Some(detectable),
    ))
}

/// The synthetic control and its placebos; refused when too few untreated units have
/// every period or the treated path lies outside them in most pre-periods.
fn synthetic_control(panel: &Panel, start: usize, m: &mut Measurement, request: &Request) {
    let (treated, donors) = paths(panel);
    let needed = request.rules.min_donors;
    if donors.len() < needed {
        m.refusal = Some(Refusal::TooFewDonors {
            donors: donors.len(),
            needed,
        });
        return;
    }
    let outside = (0..start)
        .filter(|&t| {
            let above = donors.iter().all(|(_, d)| treated[t] > d[t]);
            let below = donors.iter().all(|(_, d)| treated[t] < d[t]);
            above || below
        })
        .count();
    if 2 * outside > start {
        m.refusal = Some(Refusal::NoComparableControl {
            outside,
            pre_periods: start,
        });
        return;
    }
    let s = synthetic(panel, &treated, &donors, start);
    let (band, p) = placebo_band(&s, request.stats.level);
    m.effect = Some(effect(
        panel,
        s.effect,
        band.map(|b| (s.effect - b, s.effect + b)),
        p,
        None,
        band,
    ));
    m.diagnostics = Diagnostics {
        pre_rmspe: Some(s.pre_rmspe),
        post_rmspe: Some(s.post_rmspe),
        rmspe_ratio: Some(s.post_rmspe / s.pre_rmspe),
        placebo_rank: Some(s.rank),
        placebo_units: Some(s.placebos.len() + 1),
        ..Diagnostics::default()
    };
    m.series = panel
        .periods()
        .iter()
        .zip(s.treated.iter().zip(&s.synthetic))
        .map(|(&period, (&t, &c))| Point {
            period,
            treated: Some(t),
            comparison: Some(c),
        })
        .collect();
    m.weights = s.weights;
    m.placebos = s.placebos;
}

/// The half-width of the placebo band — the ⌈level·(J + 1)⌉-th smallest absolute placebo
/// effect of J placebos (none when there are too few for the level) — and the rank p-value.
fn placebo_band(s: &Synthetic, level: f64) -> (Option<f64>, f64) {
    let mut sizes: Vec<f64> = s.placebos.iter().map(|p| p.effect.abs()).collect();
    sizes.sort_by(f64::total_cmp);
    let units = sizes.len() + 1;
    let k = (level * units as f64).ceil() as usize;
    let band = (k >= 1 && k <= sizes.len()).then(|| sizes[k - 1]);
    (band, s.rank as f64 / units as f64)
}

/// The pilot's CUPED comparison.
fn randomized(
    panel: &Panel,
    start: usize,
    m: &mut Measurement,
    request: &Request,
) -> Result<(), InitiativeError> {
    let c = pilot(panel, start, &request.stats)?;
    let d = c.adjusted;
    let detectable = Power::default()
        .detectable(c.adjusted_sd, d.n_a, d.n_b)
        .ok()
        .flatten();
    m.diagnostics.variance_reduction = Some(c.variance_reduction);
    m.effect = Some(effect(
        panel,
        d.value,
        d.low.zip(d.high),
        d.p_value.unwrap_or(1.0),
        None,
        detectable,
    ));
    Ok(())
}

/// An effect per treated observation with its interval, relative to the treated
/// observations' mean less the effect, and summed over them.
fn effect(
    panel: &Panel,
    value: f64,
    interval: Option<(f64, f64)>,
    p_value: f64,
    se: Option<f64>,
    detectable: Option<f64>,
) -> Effect {
    let treated: Vec<f64> = panel
        .cells()
        .iter()
        .filter(|c| panel.treated(c))
        .map(|c| c.y)
        .collect();
    let n = treated.len();
    let baseline = treated.iter().sum::<f64>() / n.max(1) as f64 - value;
    let absolute = Estimate::unflagged(n as u64, value, interval);
    let relative = (baseline != 0.0).then(|| {
        let r = |v: f64| v / baseline;
        let bounds = interval.map(|(lo, hi)| (r(lo).min(r(hi)), r(lo).max(r(hi))));
        Estimate::unflagged(n as u64, r(value), bounds)
    });
    Effect {
        absolute,
        relative,
        cumulative: absolute.scaled(n as f64),
        p_value,
        se,
        detectable,
    }
}

/// The treated units' and the untreated units' mean outcome by period.
fn mean_paths(panel: &Panel) -> Vec<Point> {
    let wide = panel.wide();
    let mean = |units: Vec<usize>, t: usize| {
        let v: Vec<f64> = units.iter().filter_map(|&u| wide[u][t]).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    (0..panel.periods().len())
        .map(|t| Point {
            period: panel.periods()[t],
            treated: mean(panel.treated_units(), t),
            comparison: mean(panel.untreated_units(), t),
        })
        .collect()
}

fn notes(panel: &Panel) -> Vec<String> {
    let always = panel.always_treated();
    if always.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "left out, treated from the first period on (nothing to compare before): {}",
        always.join(", ")
    )]
}
