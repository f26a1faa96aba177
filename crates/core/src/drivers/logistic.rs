//! Logistic regression with an intercept by Newton's method (IRLS) with step halving, on
//! standardised predictors, with frequency weights (bootstrap counts) and warm starts so
//! that every subset of the predictors can be fitted for dominance analysis.

use super::DriverError;
use super::crossprod::Sums;
use super::data::{Dataset, Moments, Rows};
use super::matrix::{Matrix, dot};
use super::regression::Coefficient;
use super::runs::{Place, Runs, run_cross, run_sum};
use crate::stats::Estimate;
use crate::stats::quantile::normal_quantile;
use serde::Serialize;

/// Newton iterations before giving up.
const MAX_ITER: usize = 100;
/// Converged when no standardised coefficient moves by more than this.
const STEP_TOL: f64 = 1e-9;
/// The log-likelihood counts as flat when it changes by less than this, relative.
const FLAT_TOL: f64 = 1e-11;
/// A step that lowers the log-likelihood by less than this, relative, is rounding noise.
const ROUNDING: f64 = 1e-13;
/// A standardised coefficient still moving this much while the likelihood is flat is
/// running off to infinity: separation.
const RUNAWAY: f64 = 1e-3;

/// A logistic fit: logit P(y = 1) = intercept + Σ slopeⱼ xⱼ.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Logistic {
    pub n: usize,
    pub intercept: Coefficient,
    /// One per predictor, in the data set's order.
    pub slopes: Vec<Coefficient>,
    /// exp(slope) with 95% Wald intervals (see [`odds_ratio`]), one per predictor.
    pub odds_ratios: Vec<Estimate>,
    pub log_likelihood: f64,
    /// The log-likelihood of the intercept-only model.
    pub null_log_likelihood: f64,
    /// McFadden's pseudo-R², 1 − log L / log L₀.
    pub pseudo_r2: f64,
    pub iterations: usize,
}

/// Fits `logit P(outcome = 1) ~ predictors` by maximum likelihood. Errors on too few rows,
/// an outcome that is not 0/1 or is constant, a constant or collinear predictor,
/// separation (naming the predictor whose coefficient runs off) or non-convergence.
pub fn logistic(data: &Dataset) -> Result<Logistic, DriverError> {
    let design = Design::new(data)?;
    let all: Vec<usize> = (0..design.names.len()).collect();
    let fit = design.fit(&all, None, None)?;
    let null = design.null_log_likelihood(None)?;
    let coefficients = design.coefficients(&fit);
    let z = normal_quantile(0.975);
    let n = data.total();
    Ok(Logistic {
        n: n as usize,
        intercept: coefficients[0],
        odds_ratios: coefficients[1..]
            .iter()
            .map(|c| odds_ratio(c, z, n))
            .collect(),
        slopes: coefficients[1..].to_vec(),
        log_likelihood: fit.log_likelihood,
        null_log_likelihood: null,
        pseudo_r2: 1.0 - fit.log_likelihood / null,
        iterations: fit.iterations,
    })
}

/// An odds ratio exp(b) with its Wald interval exp(b ± z·se), from a fit of `n`
/// observations.
pub(crate) fn odds_ratio(c: &Coefficient, z: f64, n: u64) -> Estimate {
    let (low, high) = (c.estimate - z * c.std_error, c.estimate + z * c.std_error);
    Estimate::unflagged(n, c.estimate.exp(), Some((low.exp(), high.exp())))
}

/// A checked data set ready for logistic fits: standardised predictors by row.
#[derive(Debug, Clone)]
pub(crate) struct Design<'a> {
    pub rows: Rows,
    pub y: &'a [f64],
    /// The data's frequency weights: what a fit uses when it is given no counts.
    weights: Option<&'a [u32]>,
    pub names: Vec<String>,
    /// Moments of the predictors over all rows.
    pub moments: Moments,
}

/// A maximum-likelihood fit on standardised predictors: intercept first.
#[derive(Debug, Clone)]
pub(crate) struct Irls {
    pub beta: Vec<f64>,
    pub log_likelihood: f64,
    /// The inverse of the observed information at `beta`, or at the point before when the
    /// last step was below the tolerance (as is `log_likelihood`).
    pub cov: Matrix,
    pub iterations: usize,
}

/// Log-likelihood, score and information at one point.
struct Eval {
    ll: f64,
    grad: Vec<f64>,
    info: Matrix,
}

impl Eval {
    /// The information from its upper triangle, stored by row.
    fn new(ll: f64, grad: Vec<f64>, upper: &[f64]) -> Self {
        let dim = grad.len();
        let info = Matrix::from_fn(dim, |a, b| upper[a.min(b) * dim + a.max(b)]);
        Eval { ll, grad, info }
    }
}

impl<'a> Design<'a> {
    /// Checks the data (see [`logistic`]) and standardises the predictors.
    pub fn new(data: &Dataset<'a>) -> Result<Self, DriverError> {
        data.check(true)?;
        let columns: Vec<&[f64]> = data.predictors.iter().map(|c| c.values).collect();
        let rows = Rows::new(&columns, data.weights);
        let moments = rows.moments(data.weights);
        let names = data.names();
        let weight = |i: usize| data.weights.map_or(1, |w| u64::from(w[i]));
        let events: u64 = (0..data.outcome.len())
            .filter(|&i| data.outcome[i] == 1.0)
            .map(weight)
            .sum();
        if events == 0 || events == data.total() {
            return Err(DriverError::ConstantOutcome);
        }
        moments.check_varies(&names)?;
        moments.check_independent(&names)?;
        Ok(Design {
            rows,
            y: data.outcome,
            weights: data.weights,
            names,
            moments,
        })
    }

    /// The intercept-only log-likelihood, S ln(S/W) + (W − S) ln(1 − S/W), rows weighted
    /// by `counts` (by the data's weights without).
    pub fn null_log_likelihood(&self, counts: Option<&[u32]>) -> Result<f64, DriverError> {
        let (s, w) = self.events(counts.or(self.weights));
        if s == 0.0 || s == w {
            return Err(DriverError::ConstantOutcome);
        }
        let p = s / w;
        Ok(s * p.ln() + (w - s) * (1.0 - p).ln())
    }

    /// Events and total weight.
    fn events(&self, counts: Option<&[u32]>) -> (f64, f64) {
        let weight = |i: usize| counts.map_or(1.0, |c| c[i] as f64);
        self.y
            .iter()
            .enumerate()
            .fold((0.0, 0.0), |(s, w), (i, y)| {
                (s + weight(i) * y, w + weight(i))
            })
    }

    /// The log odds of the outcome: the intercept of the null model.
    pub fn null_intercept(&self, counts: Option<&[u32]>) -> f64 {
        let (s, w) = self.events(counts.or(self.weights));
        (s / (w - s)).ln()
    }

    /// Fits the predictors at `subset` (increasing indices), rows weighted by `counts`,
    /// from `start` (intercept first; the null model's intercept and zeros without).
    pub fn fit(
        &self,
        subset: &[usize],
        counts: Option<&[u32]>,
        start: Option<&[f64]>,
    ) -> Result<Irls, DriverError> {
        let counts = counts.or(self.weights);
        let mut beta = match start {
            Some(s) => s.to_vec(),
            None => {
                let mut b = vec![0.0; subset.len() + 1];
                b[0] = self.null_intercept(counts);
                b
            }
        };
        let mut at = self.eval(subset, counts, &beta);
        for iteration in 1..=MAX_ITER {
            let chol = at
                .info
                .cholesky()
                .map_err(|_| self.separation(subset, &beta))?;
            let delta = chol.solve(&at.grad);
            if delta.iter().all(|d| d.abs() < STEP_TOL) {
                // Converged: the full step, without another pass for the likelihood there
                // (it changes by about grad·delta / 2, far below rounding).
                let next = beta.iter().zip(&delta).map(|(b, d)| b + d).collect();
                return Ok(self.finish(next, at, iteration));
            }
            let mut step = 1.0;
            let (next, next_at) = loop {
                let next: Vec<f64> = beta.iter().zip(&delta).map(|(b, d)| b + step * d).collect();
                let next_at = self.eval(subset, counts, &next);
                if next_at.ll >= at.ll - ROUNDING * (at.ll.abs() + 1.0) || step < 1e-6 {
                    break (next, next_at);
                }
                step *= 0.5;
            };
            if next_at.ll < at.ll - ROUNDING * (at.ll.abs() + 1.0) {
                // No step along Newton's direction improves: at the maximum to rounding.
                return Ok(self.finish(beta, at, iteration));
            }
            let moved = delta.iter().fold(0.0, |m: f64, d| m.max((step * d).abs()));
            let change = next_at.ll - at.ll;
            let runaway = moved > RUNAWAY && change <= FLAT_TOL * (at.ll.abs() + 1.0);
            (beta, at) = (next, next_at);
            if moved < STEP_TOL {
                return Ok(self.finish(beta, at, iteration));
            }
            if runaway {
                return Err(self.separation(subset, &delta));
            }
        }
        Err(DriverError::NotConverged {
            iterations: MAX_ITER,
        })
    }

    fn finish(&self, beta: Vec<f64>, at: Eval, iterations: usize) -> Irls {
        let cov = match at.info.cholesky() {
            Ok(c) => c.inverse(),
            Err(_) => Matrix::from_fn(beta.len(), |_, _| f64::NAN),
        };
        Irls {
            beta,
            log_likelihood: at.ll,
            cov,
            iterations,
        }
    }

    /// A separation error naming the predictor with the largest entry of `direction`
    /// (intercept first) among `subset`.
    fn separation(&self, subset: &[usize], direction: &[f64]) -> DriverError {
        let worst = (0..subset.len())
            .max_by(|&a, &b| direction[a + 1].abs().total_cmp(&direction[b + 1].abs()));
        DriverError::Separation(worst.map_or_else(String::new, |t| self.names[subset[t]].clone()))
    }

    /// One pass over the rows: log-likelihood, score and information at `beta`.
    fn eval(&self, subset: &[usize], counts: Option<&[u32]>, beta: &[f64]) -> Eval {
        match &self.rows.runs {
            Some(runs) => self.eval_runs(runs, subset, counts, beta),
            None => self.eval_rows(subset, counts, beta),
        }
    }

    /// [`Design::eval`] row by row.
    fn eval_rows(&self, subset: &[usize], counts: Option<&[u32]>, beta: &[f64]) -> Eval {
        let dim = subset.len() + 1;
        let mut x = vec![1.0; dim];
        let mut grad = vec![0.0; dim];
        let mut info = vec![0.0; dim * dim];
        let mut ll = 0.0;
        for (i, &y) in self.y.iter().enumerate() {
            let c = counts.map_or(1, |c| c[i]);
            if c == 0 {
                continue;
            }
            let row = self.rows.row(i);
            for (xt, &j) in x[1..].iter_mut().zip(subset) {
                *xt = row[j];
            }
            let (l, r, w) = terms(dot(beta, &x), y, f64::from(c));
            ll += l;
            for (t, xt) in x.iter().enumerate() {
                grad[t] += r * xt;
                let wx = w * xt;
                for (o, xs) in info[t * dim + t..(t + 1) * dim].iter_mut().zip(&x[t..]) {
                    *o += wx * xs;
                }
            }
        }
        Eval::new(ll, grad, &info)
    }

    /// [`Design::eval`] by runs: row by row only the terms of the predictors varying within
    /// runs, then each run's sums spread over the score and information at once.
    fn eval_runs(
        &self,
        runs: &Runs,
        subset: &[usize],
        counts: Option<&[u32]>,
        beta: &[f64],
    ) -> Eval {
        let dim = subset.len() + 1;
        let (places, from) = subset_places(runs, subset);
        let varying = |t: &usize| places[*t] != Place::Fixed;
        let beta_varying: Vec<f64> = (0..dim).filter(varying).map(|t| beta[t]).collect();
        let (mut grad, mut info, mut ll) = (vec![0.0; dim], vec![0.0; dim * dim], 0.0);
        let (mut b, mut v) = (vec![1.0; dim], vec![0.0; from.len()]);
        let (mut rs, mut ws) = (Sums::zeros(from.len()), Sums::zeros(from.len()));
        for span in runs.spans() {
            let first = self.rows.row(span.start);
            for (bt, &j) in b[1..].iter_mut().zip(subset) {
                *bt = first[j];
            }
            let fixed: f64 = (0..dim)
                .filter(|t| !varying(t))
                .map(|t| beta[t] * b[t])
                .sum();
            let values = runs.values(span.clone()).chunks_exact(runs.varying());
            rs.clear();
            ws.clear();
            for (i, row) in span.zip(values) {
                let c = counts.map_or(1, |c| c[i]);
                if c == 0 {
                    continue;
                }
                for (x, &column) in v.iter_mut().zip(&from) {
                    *x = row[column];
                }
                let (l, r, w) = terms(fixed + dot(&beta_varying, &v), self.y[i], f64::from(c));
                ll += l;
                rs.add_values(r, &v);
                ws.add_row(w, &v);
            }
            for t in 0..dim {
                grad[t] += run_sum(&places, &b, &rs, t);
                for s in t..dim {
                    info[t * dim + s] += run_cross(&places, &b, &ws, t, s);
                }
            }
        }
        Eval::new(ll, grad, &info)
    }

    /// Intercept and slopes in the predictors' own units, with standard errors, from a
    /// fit of all predictors: bⱼ = βⱼ/sⱼ, b₀ = β₀ − Σ βⱼ mⱼ/sⱼ.
    pub fn coefficients(&self, fit: &Irls) -> Vec<Coefficient> {
        let (mean, scale) = (&self.rows.mean, &self.rows.scale);
        let p = fit.beta.len() - 1;
        // b = A β with A's first row a = (1, −m₁/s₁, …) and diagonal 1/sⱼ below.
        let a: Vec<f64> = std::iter::once(1.0)
            .chain((0..p).map(|j| -mean[j] / scale[j]))
            .collect();
        let intercept_var = dot(&a, &fit.cov.mul_vec(&a));
        std::iter::once(Coefficient {
            estimate: dot(&a, &fit.beta),
            std_error: intercept_var.sqrt(),
        })
        .chain((0..p).map(|j| Coefficient {
            estimate: fit.beta[j + 1] / scale[j],
            std_error: fit.cov[(j + 1, j + 1)].sqrt() / scale[j],
        }))
        .collect()
    }
}

/// The places of the intercept (fixed) and of the predictors at `subset` within `runs`,
/// those varying numbered in order, with their columns among `runs`' varying values.
fn subset_places(runs: &Runs, subset: &[usize]) -> (Vec<Place>, Vec<usize>) {
    let mut from = Vec::new();
    let places = std::iter::once(Place::Fixed)
        .chain(subset.iter().map(|&j| match runs.places[j] {
            Place::Fixed => Place::Fixed,
            Place::Varying(column) => {
                from.push(column);
                Place::Varying(from.len() - 1)
            }
        }))
        .collect();
    (places, from)
}

/// A row's log-likelihood, residual c(y − μ) and IRLS weight cμ(1 − μ) at linear predictor
/// η, for outcome y counted c times.
fn terms(eta: f64, y: f64, c: f64) -> (f64, f64, f64) {
    let (mu, softplus) = link(eta);
    (c * (y * eta - softplus), c * (y - mu), c * mu * (1.0 - mu))
}

/// The logistic function 1 / (1 + e^−η) and softplus ln(1 + e^η), from one exponential
/// and without overflow.
pub(crate) fn link(eta: f64) -> (f64, f64) {
    let e = (-eta.abs()).exp();
    let mu = if eta >= 0.0 {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    };
    (mu, eta.max(0.0) + e.ln_1p())
}

/// ln(1 + e^η), without overflow.
pub(crate) fn softplus(eta: f64) -> f64 {
    link(eta).1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drivers::runs::tests::{close, samples};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn evaluation_by_run_equals_evaluation_by_row(
            s in samples(),
            outcome in prop::collection::vec(any::<bool>(), 150),
            beta in prop::collection::vec(-1.0f64..1.0, 6),
            mask in 1u32..32,
            weighted in any::<bool>(),
        ) {
            let n = s.weights.len();
            let columns: Vec<Vec<f64>> = (0..s.width)
                .map(|j| (0..n).map(|i| s.data[i * s.width + j]).collect())
                .collect();
            let refs: Vec<&[f64]> = columns.iter().map(Vec::as_slice).collect();
            let mut rows = Rows::new(&refs, None);
            let runs = Runs::split(&rows.data, s.width, &s.fixed);
            rows.runs = None;
            let y: Vec<f64> = (0..n).map(|i| f64::from(u8::from(outcome[i % 150]))).collect();
            let design = Design {
                moments: rows.moments(None),
                rows,
                y: &y,
                weights: None,
                names: vec![String::new(); s.width],
            };
            let subset: Vec<usize> = (0..s.width).filter(|j| mask >> j & 1 == 1).collect();
            let beta = &beta[..subset.len() + 1];
            let counts = weighted.then_some(&s.weights[..]);
            let direct = design.eval_rows(&subset, counts, beta);
            let by_run = design.eval_runs(&runs, &subset, counts, beta);
            prop_assert!(close(direct.ll, by_run.ll, 1e-12));
            for (a, b) in direct.grad.iter().zip(&by_run.grad) {
                prop_assert!(close(*a, *b, 1e-12), "{a} vs {b}");
            }
            for t in 0..beta.len() {
                for u in 0..beta.len() {
                    let (a, b) = (direct.info[(t, u)], by_run.info[(t, u)]);
                    prop_assert!(close(a, b, 1e-12), "{a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn stable_link_functions() {
        let sigmoid = |eta| link(eta).0;
        assert_eq!(sigmoid(0.0), 0.5);
        assert!((sigmoid(-800.0)).abs() < 1e-300 && sigmoid(800.0) == 1.0);
        assert!((softplus(800.0) - 800.0).abs() < 1e-12);
        assert!((softplus(0.0) - 2f64.ln()).abs() < 1e-15);
    }
}
