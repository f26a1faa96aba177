//! The regressions on sparse unit × period panels — units missing from random periods,
//! units and periods whose outcome is constant — against a dense least-squares reference:
//! terms explained by the unit and period effects are dropped as fixest drops them, and a
//! claim is refused only when the effect's own term cannot be estimated. Balanced panels
//! give the closed-form difference in differences and drop nothing.

use cxray_core::initiatives::{
    Design, Estimator, Measurement, Panel, Refusal, Request, Row, measure,
};
use cxray_core::rng::Rng;

/// Panels drawn per test.
const PANELS: u64 = 400;
/// A column is in a span when less than this share of its sum of squares lies outside.
const TOLERANCE: f64 = 1e-9;

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// An orthonormal basis grown column by column (Gram–Schmidt, twice for accuracy).
#[derive(Default, Clone)]
struct Basis(Vec<Vec<f64>>);

impl Basis {
    fn residual(&self, v: &[f64]) -> Vec<f64> {
        let mut r = v.to_vec();
        for _ in 0..2 {
            for q in &self.0 {
                let c = dot(q, &r);
                r.iter_mut().zip(q).for_each(|(x, y)| *x -= c * y);
            }
        }
        r
    }

    /// Whether `v` lies outside the span.
    fn outside(&self, v: &[f64]) -> bool {
        let r = self.residual(v);
        dot(&r, &r) > TOLERANCE * dot(v, v)
    }

    /// Adds `v`'s part outside the span; whether there was one.
    fn add(&mut self, v: &[f64]) -> bool {
        let r = self.residual(v);
        let ss = dot(&r, &r);
        let outside = ss > TOLERANCE * dot(v, v);
        if outside {
            self.0.push(r.iter().map(|x| x / ss.sqrt()).collect());
        }
        outside
    }
}

/// A panel's observations as the test sees them: unit and period indices, outcome, and
/// the unit's adoption (index of its first treated period).
struct Cells {
    units: Vec<usize>,
    periods: Vec<usize>,
    y: Vec<f64>,
    adoption: Vec<Option<usize>>,
    shape: (usize, usize),
}

impl Cells {
    fn of(panel: &Panel, rows: &[Row]) -> Cells {
        let periods = panel.periods();
        let start = |r: &Row| r.treated_from;
        let mut adoption = vec![None; panel.units().len()];
        let mut cells: Vec<(usize, usize, f64)> = Vec::new();
        for r in rows {
            let Ok(u) = panel.units().binary_search(&r.unit) else {
                continue; // treated from the first period on: left out
            };
            adoption[u] = start(r).and_then(|s| {
                let g = periods.partition_point(|&p| p < s);
                (g < periods.len()).then_some(g)
            });
            cells.push((u, periods.binary_search(&r.period).unwrap(), r.outcome));
        }
        Cells {
            units: cells.iter().map(|c| c.0).collect(),
            periods: cells.iter().map(|c| c.1).collect(),
            y: cells.iter().map(|c| c.2).collect(),
            adoption,
            shape: (panel.units().len(), periods.len()),
        }
    }

    /// The unit and period dummies.
    fn fixed_effects(&self) -> Basis {
        let mut basis = Basis::default();
        for u in 0..self.shape.0 {
            basis.add(&self.indicator(|i| self.units[i] == u));
        }
        for t in 0..self.shape.1 {
            basis.add(&self.indicator(|i| self.periods[i] == t));
        }
        basis
    }

    fn indicator(&self, on: impl Fn(usize) -> bool) -> Vec<f64> {
        (0..self.y.len())
            .map(|i| f64::from(u8::from(on(i))))
            .collect()
    }

    /// Observation i's period relative to its unit's start.
    fn relative(&self, i: usize) -> Option<i64> {
        self.adoption[self.units[i]].map(|g| self.periods[i] as i64 - g as i64)
    }

    /// The event study's terms (cohort, relative period; −1 left out), leads first.
    fn terms(&self) -> Vec<(usize, i64)> {
        let mut terms: Vec<(usize, i64)> = (0..self.y.len())
            .filter_map(|i| Some((self.adoption[self.units[i]]?, self.relative(i)?)))
            .filter(|&(_, e)| e != -1)
            .collect();
        terms.sort_by_key(|&(g, e)| (e >= 0, g, e));
        terms.dedup();
        terms
    }

    fn term(&self, (g, e): (usize, i64)) -> Vec<f64> {
        self.indicator(|i| self.adoption[self.units[i]] == Some(g) && self.relative(i) == Some(e))
    }
}

/// How a panel is drawn: units, periods, each cell kept with `keep` (at least one per
/// unit), the starts (period index) of the treated units (the others never treated).
struct Draw {
    units: usize,
    periods: usize,
    keep: f64,
    starts: Vec<Option<i64>>,
}

impl Draw {
    fn random(rng: &mut Rng, staggered: bool) -> Draw {
        let units = 4 + rng.below(7) as usize;
        let periods = 4 + rng.below(7) as usize;
        let keep = if rng.bernoulli(0.2) {
            1.0
        } else {
            0.3 + 0.65 * rng.uniform()
        };
        let treated = 1 + rng.below(units as u64 - 1) as usize;
        let first = 1 + rng.below(periods as u64 - 1) as i64;
        let starts = (0..units)
            .map(|u| {
                (u < treated).then(|| {
                    if staggered {
                        1 + rng.below(periods as u64 - 1) as i64
                    } else {
                        first
                    }
                })
            })
            .collect();
        Draw {
            units,
            periods,
            keep,
            starts,
        }
    }

    /// Rows with unit and period effects, an effect of 1 when treated, noise; one unit's
    /// or one period's outcome now and then constant.
    fn rows(&self, rng: &mut Rng) -> Vec<Row> {
        let shocks: Vec<f64> = (0..self.periods).map(|_| rng.normal()).collect();
        let constant_unit = rng.bernoulli(0.3).then(|| rng.below(self.units as u64));
        let constant_period = rng.bernoulli(0.3).then(|| rng.below(self.periods as u64));
        let mut rows = Vec::new();
        for (u, &start) in self.starts.iter().enumerate() {
            let level = rng.normal();
            let must = rng.below(self.periods as u64) as usize;
            for (t, shock) in shocks.iter().enumerate() {
                if t != must && !rng.bernoulli(self.keep) {
                    continue;
                }
                let on = start.is_some_and(|s| t as i64 >= s);
                let mut outcome = level + shock + 0.5 * rng.normal() + f64::from(u8::from(on));
                if constant_unit == Some(u as u64) || constant_period == Some(t as u64) {
                    outcome = 2.0;
                }
                rows.push(Row {
                    unit: format!("u{u:02}"),
                    period: t as i64,
                    outcome,
                    treated_from: start,
                });
            }
        }
        rows
    }
}

/// A random panel measured with `estimator`: its draw, rows, panel and measurement, or
/// none when the design alone calls for a refusal (which the measurement then gives).
fn sparse(rng: &mut Rng, estimator: Estimator) -> Option<(Draw, Vec<Row>, Panel, Measurement)> {
    let draw = Draw::random(rng, estimator == Estimator::Staggered);
    let rows = draw.rows(rng);
    let panel = Panel::new(&rows).unwrap();
    let request = Request {
        estimator: Some(estimator),
        ..Request::default()
    };
    let m = measure(&panel, &request).unwrap_or_else(|e| panic!("{estimator:?}: {e}"));
    if let Some(r) = Design::of(&panel).refusal(estimator, &request.rules) {
        assert_eq!(m.refusal, Some(r));
        return None;
    }
    Some((draw, rows, panel, m))
}

/// Mean outcome of the cells where `on` holds.
fn mean(c: &Cells, on: impl Fn(usize) -> bool) -> f64 {
    let v: Vec<f64> = (0..c.y.len()).filter(|&i| on(i)).map(|i| c.y[i]).collect();
    v.iter().sum::<f64>() / v.len() as f64
}

fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-8 * want.abs().max(1.0),
        "{what}: {got} against {want}"
    );
}

#[test]
fn two_way_fixed_effects_on_sparse_panels_refuse_only_an_unidentified_effect() {
    let mut rng = Rng::new(1601);
    let (mut refused, mut estimated, mut dropped, mut balanced) = (0, 0, 0, 0);
    for _ in 0..PANELS {
        let Some((draw, rows, panel, m)) = sparse(&mut rng, Estimator::DifferenceInDifferences)
        else {
            continue;
        };
        let c = Cells::of(&panel, &rows);
        let treated = c.indicator(|i| c.relative(i).is_some_and(|e| e >= 0));
        let fe = c.fixed_effects();
        if !fe.outside(&treated) {
            assert_eq!(m.refusal, Some(Refusal::Unidentified), "{:?}", m.notes);
            assert!(m.effect.is_none());
            refused += 1;
            continue;
        }
        // Frisch–Waugh–Lovell: the treated dummy's part outside the fixed effects.
        let r = fe.residual(&treated);
        let want = dot(&r, &c.y) / dot(&r, &r);
        assert_eq!(m.refusal, None);
        close(m.effect.unwrap().absolute.value, want, "effect");
        estimated += 1;
        dropped += usize::from(!m.dropped.is_empty());
        if draw.keep == 1.0 {
            assert!(m.dropped.is_empty());
            balanced += 1;
            // The balanced panel's difference of the treated and untreated changes.
            let g = c.adoption.iter().flatten().next().copied().unwrap();
            let (t, post) = (
                |i: usize| c.adoption[c.units[i]].is_some(),
                |i| c.periods[i] >= g,
            );
            let did = mean(&c, |i| t(i) && post(i))
                - mean(&c, |i| t(i) && !post(i))
                - mean(&c, |i| !t(i) && post(i))
                + mean(&c, |i| !t(i) && !post(i));
            close(want, did, "closed-form difference in differences");
            for k in &m.event_study {
                let at = |e: i64| (g as i64 + e) as usize;
                let gap = |e: i64| {
                    mean(&c, |i| t(i) && c.periods[i] == at(e))
                        - mean(&c, |i| !t(i) && c.periods[i] == at(e))
                };
                close(
                    k.estimate,
                    gap(k.relative) - gap(-1),
                    "event-study coefficient",
                );
            }
        }
    }
    eprintln!(
        "{estimated} estimated ({dropped} with terms dropped, {balanced} balanced), {refused} refused"
    );
    assert!(refused >= 5 && dropped >= 5 && balanced >= 20 && estimated >= 200);
}

#[test]
fn staggered_event_studies_on_sparse_panels_drop_collinear_terms_and_refuse_only_without_an_effect_term()
 {
    let mut rng = Rng::new(1602);
    let (mut refused, mut estimated, mut dropped) = (0, 0, 0);
    for _ in 0..PANELS {
        let Some((draw, rows, panel, m)) = sparse(&mut rng, Estimator::Staggered) else {
            continue;
        };
        if Design::of(&panel).untreated_units == 0 {
            continue; // the last-treated units as the control: another sample
        }
        let c = Cells::of(&panel, &rows);
        let terms = c.terms();
        let fe = c.fixed_effects();
        let mut with_leads = fe.clone();
        for &t in terms.iter().filter(|t| t.1 < -1) {
            with_leads.add(&c.term(t));
        }
        let identified = terms
            .iter()
            .filter(|t| t.1 >= 0)
            .any(|&t| with_leads.outside(&c.term(t)));
        // Terms beyond what the fixed effects and the other terms explain are dropped.
        let mut all = fe.clone();
        let rank = terms.iter().filter(|&&t| all.add(&c.term(t))).count();
        if !identified {
            assert_eq!(m.refusal, Some(Refusal::Unidentified), "{:?}", m.notes);
            refused += 1;
            continue;
        }
        assert_eq!(m.refusal, None, "{:?}", m.notes);
        assert_eq!(m.dropped.len(), terms.len() - rank, "{:?}", m.dropped);
        assert!(m.effect.unwrap().absolute.value.is_finite());
        estimated += 1;
        if !m.dropped.is_empty() {
            dropped += 1;
            assert!(m.notes.iter().any(|n| n.contains("left out")));
        }
        if draw.keep == 1.0 {
            assert!(m.dropped.is_empty());
        }
    }
    eprintln!("{estimated} estimated ({dropped} with terms dropped), {refused} refused");
    assert!(refused >= 5 && dropped >= 20 && estimated >= 200);
}
