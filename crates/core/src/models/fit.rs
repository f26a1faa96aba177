//! Maximum-likelihood estimation shared by all models: log-parameterised BFGS with
//! restarts, standard errors from the Hessian, and the serialisable [`Fit`] record.

use super::data::thin;
use super::optim::{Minimum, Objective, bfgs, bfgs_from, numerical_hessian, spd_inverse};
use super::{ModelError, ModelKind};
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Box bounds on the log parameters (e^±18 ≈ 6.6e7).
const LOG_BOUNDS: (f64, f64) = (-18.0, 18.0);

/// Named values in a fixed order (serialised as a JSON object in that order; NaN as null).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParamMap(pub Vec<(String, f64)>);

impl ParamMap {
    fn new(names: &[&str], values: &[f64]) -> Self {
        ParamMap(
            names
                .iter()
                .zip(values)
                .map(|(n, v)| (n.to_string(), *v))
                .collect(),
        )
    }

    /// The value named `name`.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }
}

impl Serialize for ParamMap {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, &value.is_finite().then_some(*value))?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for ParamMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ParamVisitor;
        impl<'de> Visitor<'de> for ParamVisitor {
            type Value = ParamMap;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of parameter names to numbers or null")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<ParamMap, A::Error> {
                let mut out = Vec::new();
                while let Some((name, value)) = access.next_entry::<String, Option<f64>>()? {
                    out.push((name, value.unwrap_or(f64::NAN)));
                }
                Ok(ParamMap(out))
            }
        }
        deserializer.deserialize_map(ParamVisitor)
    }
}

/// Estimation settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitOptions {
    /// L2 penalty λ: the optimiser minimises −LL/n + λ·Σθ² over the natural parameters θ
    /// (as in Python `lifetimes`). 0 gives plain maximum likelihood.
    pub penalty: f64,
    /// Converged when the largest gradient component of −LL/n with respect to the log
    /// parameters is at most this.
    pub grad_tol: f64,
    /// Iteration cap per optimiser run.
    pub max_iter: usize,
    /// With many patterns, fit thinned data first and the full data from its optimum
    /// (same estimates, a fraction of the full-data evaluations).
    #[serde(default = "yes")]
    pub warm_start: bool,
}

fn yes() -> bool {
    true
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            penalty: 0.0,
            grad_tol: 1e-6,
            max_iter: 1000,
            warm_start: true,
        }
    }
}

/// A fitted model: estimates, uncertainty and diagnostics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    /// Which model.
    pub model: ModelKind,
    /// Estimates under the papers' names.
    pub params: ParamMap,
    /// Standard errors on the natural scale (delta method from the log-scale Hessian);
    /// null when the Hessian is not positive definite.
    pub std_errors: ParamMap,
    /// Log-likelihood at the estimates (without the penalty).
    pub log_likelihood: f64,
    /// Number of customers (sum of weights).
    pub n_customers: f64,
    /// Number of unique patterns fitted.
    pub n_patterns: usize,
    /// Akaike information criterion, 2k − 2 LL.
    pub aic: f64,
    /// Bayesian information criterion, k ln n − 2 LL.
    pub bic: f64,
    /// Optimiser iterations over all runs.
    pub iterations: usize,
    /// Whether `gradient_norm ≤ grad_tol`.
    pub converged: bool,
    /// Largest gradient component of the objective (−LL/n + penalty) in log parameters,
    /// ignoring components that push against a bound.
    pub gradient_norm: f64,
    /// Whether the Hessian was positive definite (a proper local maximum).
    pub hessian_positive_definite: bool,
    /// The L2 penalty used.
    pub penalty: f64,
}

impl Fit {
    /// The estimates named `names`, after checking the fit is of model `kind`.
    pub fn values(&self, kind: ModelKind, names: &[&str]) -> Result<Vec<f64>, ModelError> {
        if self.model != kind {
            return Err(ModelError::WrongModel {
                expected: kind,
                found: self.model,
            });
        }
        names
            .iter()
            .map(|n| {
                self.params
                    .get(n)
                    .ok_or_else(|| ModelError::MissingParam(n.to_string()))
            })
            .collect()
    }
}

/// A log-likelihood: total weighted LL at natural parameters, gradient written into the
/// second argument.
pub(crate) type LogLik<'a> = dyn Fn(&[f64], &mut [f64]) -> f64 + 'a;

/// What the estimator needs to know about one model and its data.
pub(crate) struct Problem<'a> {
    pub kind: ModelKind,
    pub names: &'static [&'static str],
    /// Total weight.
    pub n: f64,
    pub n_patterns: usize,
    /// Starting values on the natural scale, most plausible first.
    pub starts: Vec<Vec<f64>>,
    pub ll: &'a LogLik<'a>,
    /// The likelihood of a small data set near the full one with the same total weight
    /// (see [`super::data::thin`]), fitted first so that the full data is fitted from near
    /// its optimum; none for small data.
    pub warm: Option<&'a LogLik<'a>>,
}

/// Patterns from which a fit is warm-started on thinned data.
const WARM_FROM: usize = 20_000;
/// Patterns the thinned data keeps.
const WARM_PATTERNS: usize = 4_000;

/// The warm-start data of sorted patterns, prepared by `prepare` as the model's likelihood
/// wants it: their [`thin`]ned copy when there are enough patterns for it to pay.
pub(crate) fn warm_data<T: Copy, G>(
    sorted: &[T],
    weight: impl Fn(&mut T) -> &mut f64,
    prepare: impl FnOnce(&[T]) -> G,
) -> Option<G> {
    (sorted.len() >= WARM_FROM).then(|| prepare(&thin(sorted, WARM_PATTERNS, weight)))
}

/// −LL/n + λ·Σθ² over log parameters, its gradient written into the second argument.
fn normalised<'a>(
    ll: &'a LogLik<'a>,
    n: f64,
    penalty: f64,
) -> impl Fn(&[f64], &mut [f64]) -> f64 + 'a {
    move |log_p: &[f64], grad: &mut [f64]| {
        let p: Vec<f64> = log_p.iter().map(|v| v.exp()).collect();
        let ll = ll(&p, grad);
        let mut f = -ll / n;
        for (g, pi) in grad.iter_mut().zip(&p) {
            *g = -*g * pi / n + 2.0 * penalty * pi * pi;
            f += penalty * pi * pi;
        }
        f
    }
}

/// BFGS to `tol` from each start until one converges; the best minimum and the iterations
/// used.
fn from_starts(
    f: &Objective,
    starts: &[Vec<f64>],
    tol: f64,
    opts: &FitOptions,
) -> (Option<Minimum>, usize) {
    let mut best: Option<Minimum> = None;
    let mut iterations = 0;
    for start in starts {
        let x0: Vec<f64> = start.iter().map(|v| v.ln()).collect();
        let Some(m) = bfgs(f, &x0, LOG_BOUNDS, tol, opts.max_iter) else {
            continue;
        };
        iterations += m.iterations;
        let done = m.grad_norm(LOG_BOUNDS) <= opts.grad_tol;
        if best.as_ref().is_none_or(|b| m.f < b.f) {
            best = Some(m);
        }
        if done {
            break;
        }
    }
    (best, iterations)
}

/// Maximises the (penalised) likelihood over log parameters: BFGS from each start until
/// one converges — on the warm-start data first when there is some, then on the full data
/// from that optimum and its inverse Hessian, falling back to the starts if that fails —
/// then a polishing restart from the best point with a fresh Hessian.
/// Returns the estimates and the fit record.
pub(crate) fn estimate(
    problem: &Problem,
    opts: &FitOptions,
) -> Result<(Vec<f64>, Fit), ModelError> {
    let (n, penalty) = (problem.n, opts.penalty);
    let objective = normalised(problem.ll, n, penalty);
    let tol = opts.grad_tol * 1e-3;
    let warm = problem.warm.filter(|_| opts.warm_start).and_then(|warm| {
        let (near, iterations) =
            from_starts(&normalised(warm, n, penalty), &problem.starts, tol, opts);
        let near = near?;
        let m = bfgs_from(
            &objective,
            &near.x,
            Some(&near.inverse_hessian),
            LOG_BOUNDS,
            tol,
            opts.max_iter,
        )?;
        Some((m.iterations + iterations, m))
    });
    let (best, mut iterations) = match warm {
        Some((iterations, m)) if m.grad_norm(LOG_BOUNDS) <= opts.grad_tol => (Some(m), iterations),
        // Not converged from the warm start: also from the starts, keeping the better.
        other => {
            let (found, more) = from_starts(&objective, &problem.starts, tol, opts);
            let (warm, done) = other.map_or((None, 0), |(it, m)| (Some(m), it));
            let best = [found, warm]
                .into_iter()
                .flatten()
                .min_by(|a, b| a.f.total_cmp(&b.f));
            (best, more + done)
        }
    };
    let best = best.ok_or(ModelError::NotFinite)?;
    let polished =
        bfgs(&objective, &best.x, LOG_BOUNDS, tol, opts.max_iter).filter(|m| m.f <= best.f);
    let best = match polished {
        Some(m) => {
            iterations += m.iterations;
            m
        }
        None => best,
    };
    let p: Vec<f64> = best.x.iter().map(|v| v.exp()).collect();
    let log_likelihood = (problem.ll)(&p, &mut vec![0.0; p.len()]);
    let covariance =
        spd_inverse(&numerical_hessian(&objective, &best.x, Some(&best.grad))).map(|c| {
            (0..p.len())
                .map(|i| p[i] * (c[i][i] / n).sqrt())
                .collect::<Vec<f64>>()
        });
    let k = p.len() as f64;
    let gradient_norm = best.grad_norm(LOG_BOUNDS);
    let fit = Fit {
        model: problem.kind,
        params: ParamMap::new(problem.names, &p),
        std_errors: ParamMap::new(
            problem.names,
            covariance.as_deref().unwrap_or(&vec![f64::NAN; p.len()]),
        ),
        log_likelihood,
        n_customers: n,
        n_patterns: problem.n_patterns,
        aic: 2.0 * k - 2.0 * log_likelihood,
        bic: k * n.ln() - 2.0 * log_likelihood,
        iterations,
        converged: gradient_norm <= opts.grad_tol,
        gradient_norm,
        hessian_positive_definite: covariance.is_some(),
        penalty,
    };
    Ok((p, fit))
}
