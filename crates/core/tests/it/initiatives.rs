//! The initiative estimators against published studies, with the reference figures of
//! `tests/data/initiatives/reference.py` (pyfixest for the regressions, scipy's NNLS for
//! the synthetic control), and the coverage of their intervals on simulated panels.

use cxray_core::initiatives::{Estimator, Panel, Refusal, Request, Row, measure};
use cxray_core::rng::Rng;
use serde_json::Value;

fn data(name: &str) -> String {
    let path = format!(
        "{}/tests/data/initiatives/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The rows of a reference panel (CSV: unit, period, outcome, treated_from).
fn rows(name: &str) -> Vec<Row> {
    data(name)
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            Row {
                unit: f[0].to_string(),
                period: f[1].parse().unwrap(),
                outcome: f[2].parse().unwrap(),
                treated_from: f[3].parse::<f64>().ok().map(|v| v as i64),
            }
        })
        .collect()
}

fn reference() -> Value {
    serde_json::from_str(&data("reference.json")).unwrap()
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

fn close(got: f64, want: f64, tolerance: f64, what: &str) {
    assert!(
        (got - want).abs() <= tolerance * want.abs().max(1e-3),
        "{what}: {got} against {want}"
    );
}

#[test]
fn organ_donations_difference_in_differences_matches_pyfixest() {
    let r = &reference()["organ_donations"];
    let panel = Panel::new(&rows("organ_donations.csv")).unwrap();
    let m = measure(&panel, &Request::default()).unwrap();
    // Three quarters before the start: too few for a synthetic control.
    assert_eq!(m.estimator, Estimator::DifferenceInDifferences);
    assert!(m.chosen_automatically && m.refusal.is_none());
    let e = m.effect.unwrap();
    let did = &r["did"];
    close(e.absolute.value, num(&did["estimate"]), 1e-9, "estimate");
    close(e.se.unwrap(), num(&did["se"]), 1e-6, "clustered se");
    close(e.p_value, num(&did["p_value"]), 1e-6, "p-value");
    close(e.absolute.low.unwrap(), num(&did["low"]), 1e-6, "low");
    close(e.absolute.high.unwrap(), num(&did["high"]), 1e-6, "high");
    // California's three treated quarters.
    assert_eq!(e.absolute.n, 3);
    close(
        e.cumulative.value,
        3.0 * e.absolute.value,
        1e-12,
        "cumulative",
    );
    let reference: Vec<&Value> = r["event_study"].as_array().unwrap().iter().collect();
    assert_eq!(m.event_study.len(), reference.len());
    for (c, want) in m.event_study.iter().zip(reference) {
        assert_eq!(c.relative, want["relative"].as_i64().unwrap());
        close(c.estimate, num(&want["estimate"]), 1e-6, "event estimate");
        close(c.se, num(&want["se"]), 1e-6, "event se");
    }
    close(
        m.diagnostics.pretrend_f.unwrap(),
        num(&r["pretrend"]["f"]),
        1e-6,
        "F",
    );
    close(
        m.diagnostics.pretrend_p.unwrap(),
        num(&r["pretrend"]["p_value"]),
        1e-6,
        "pre-trend p",
    );
}

#[test]
fn castle_doctrine_staggered_adoption_matches_sun_abraham_by_pyfixest() {
    let r = &reference()["castle"];
    let panel = Panel::new(&rows("castle.csv")).unwrap();
    let m = measure(&panel, &Request::default()).unwrap();
    assert_eq!(m.estimator, Estimator::Staggered);
    assert_eq!(m.design.starts, 5);
    let e = m.effect.unwrap();
    close(e.absolute.value, num(&r["att"]["estimate"]), 1e-6, "ATT");
    close(e.se.unwrap(), num(&r["att"]["se"]), 1e-6, "ATT se");
    let by_relative = r["by_relative"].as_array().unwrap();
    assert_eq!(m.event_study.len(), by_relative.len());
    for (c, want) in m.event_study.iter().zip(by_relative) {
        assert_eq!(c.relative, want["relative"].as_i64().unwrap());
        close(
            c.estimate,
            num(&want["estimate"]),
            1e-6,
            "relative estimate",
        );
        close(c.se, num(&want["se"]), 1e-6, "relative se");
    }
}

#[test]
fn proposition_99_synthetic_control_matches_the_reference_and_the_published_estimate() {
    let r = &reference()["prop99"];
    let panel = Panel::new(&rows("prop99.csv")).unwrap();
    let m = measure(&panel, &Request::default()).unwrap();
    assert_eq!(m.estimator, Estimator::SyntheticControl);
    let d = &m.diagnostics;
    // Our weights are optimal: never a worse pre-period fit than the reference's.
    let pre = num(&r["pre_rmspe"]);
    assert!(d.pre_rmspe.unwrap() <= pre * (1.0 + 1e-9));
    close(d.pre_rmspe.unwrap(), pre, 1e-7, "pre-period RMSPE");
    close(
        d.post_rmspe.unwrap(),
        num(&r["post_rmspe"]),
        1e-6,
        "post-period RMSPE",
    );
    for w in &m.weights {
        close(w.weight, num(&r["weights"][&w.unit]), 1e-5, &w.unit);
    }
    assert_eq!(m.weights.len(), r["weights"].as_object().unwrap().len());
    let e = m.effect.unwrap();
    close(e.absolute.value, num(&r["effect"]), 1e-6, "effect");
    // Arkhangelsky et al. (2021), Table 1: SC −19.6 packs per capita.
    assert!(
        (e.absolute.value + 19.6).abs() < 0.1,
        "{}",
        e.absolute.value
    );
    assert_eq!(d.placebo_rank, Some(r["rank"].as_u64().unwrap() as usize));
    assert_eq!(d.placebo_units, Some(39));
    for p in &m.placebos {
        close(
            p.ratio,
            num(&r["placebos"][&p.unit]["ratio"]),
            1e-4,
            &p.unit,
        );
    }
    close(e.p_value, 3.0 / 39.0, 1e-12, "rank p-value");
    let (low, high) = e.absolute.interval().unwrap();
    assert!(low < e.absolute.value && e.absolute.value < high);
}

#[test]
fn designs_that_cannot_support_a_claim_are_refused_with_the_reason() {
    let organ = Panel::new(&rows("organ_donations.csv")).unwrap();
    let asked = Request {
        estimator: Some(Estimator::SyntheticControl),
        ..Request::default()
    };
    let m = measure(&organ, &asked).unwrap();
    assert_eq!(
        m.refusal,
        Some(Refusal::ShortPrePeriod {
            periods: 3,
            needed: 5
        })
    );
    assert!(m.effect.is_none() && !m.chosen_automatically);
    // Every state treated at once: nothing to compare with.
    let all: Vec<Row> = rows("organ_donations.csv")
        .into_iter()
        .map(|r| Row {
            treated_from: Some(4),
            ..r
        })
        .collect();
    let m = measure(&Panel::new(&all).unwrap(), &Request::default()).unwrap();
    assert_eq!(m.refusal, Some(Refusal::NoControl));
    assert_eq!(
        m.refusal.unwrap().label(),
        "no comparable control: every unit is treated"
    );
    // California alone with three states: too few units for clustered errors.
    let few: Vec<Row> = rows("organ_donations.csv")
        .into_iter()
        .filter(|r| ["California", "Alaska", "Arizona"].contains(&r.unit.as_str()))
        .collect();
    let m = measure(&Panel::new(&few).unwrap(), &Request::default()).unwrap();
    assert_eq!(
        m.refusal,
        Some(Refusal::TooFewUnits {
            units: 3,
            needed: 4
        })
    );
    // California's smoking above every donor's: no convex combination matches it.
    let high: Vec<Row> = rows("prop99.csv")
        .into_iter()
        .map(|r| Row {
            outcome: if r.unit == "California" {
                r.outcome + 500.0
            } else {
                r.outcome
            },
            ..r
        })
        .collect();
    let m = measure(&Panel::new(&high).unwrap(), &Request::default()).unwrap();
    assert_eq!(
        m.refusal,
        Some(Refusal::NoComparableControl {
            outside: 19,
            pre_periods: 19
        })
    );
}

/// A panel of `units` units over `periods` periods, the first `treated` units treated
/// from period `start` with effect `effect`; unit and period effects, noise sd 1.
fn simulated(
    rng: &mut Rng,
    units: usize,
    periods: usize,
    treated: usize,
    start: i64,
    effect: f64,
) -> Panel {
    let shocks: Vec<f64> = (0..periods).map(|_| rng.normal()).collect();
    let mut rows = Vec::new();
    for u in 0..units {
        let level = 3.0 * rng.normal();
        let from = (u < treated).then_some(start);
        for (t, shock) in shocks.iter().enumerate() {
            let on = from.is_some_and(|s| t as i64 >= s);
            rows.push(Row {
                unit: format!("u{u:02}"),
                period: t as i64,
                outcome: level + shock + rng.normal() + if on { effect } else { 0.0 },
                treated_from: from,
            });
        }
    }
    Panel::new(&rows).unwrap()
}

#[test]
fn difference_in_differences_intervals_cover_the_effect_in_about_95_percent_of_panels() {
    let mut rng = Rng::new(16);
    let draws = 400;
    let covered = (0..draws)
        .filter(|_| {
            let panel = simulated(&mut rng, 30, 8, 10, 4, 0.5);
            let e = measure(&panel, &Request::default())
                .unwrap()
                .effect
                .unwrap();
            let (low, high) = e.absolute.interval().unwrap();
            low <= 0.5 && 0.5 <= high
        })
        .count();
    assert!((364..=396).contains(&covered), "{covered} of {draws}");
}
