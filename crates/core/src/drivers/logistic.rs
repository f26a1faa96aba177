//! Logistic regression with an intercept by Newton's method (IRLS) with step halving, on
//! standardised predictors, with frequency weights (bootstrap counts) and warm starts so
//! that every subset of the predictors can be fitted for dominance analysis.

use super::DriverError;
use super::data::{Dataset, Moments, Rows};
use super::matrix::{Matrix, dot};
use super::regression::Coefficient;
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

/// An odds ratio exp(b) with its Wald interval exp(b ± z·se).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OddsRatio {
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// A logistic fit: logit P(y = 1) = intercept + Σ slopeⱼ xⱼ.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Logistic {
    pub n: usize,
    pub intercept: Coefficient,
    /// One per predictor, in the data set's order.
    pub slopes: Vec<Coefficient>,
    /// exp(slope) with 95% Wald intervals, one per predictor.
    pub odds_ratios: Vec<OddsRatio>,
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
    Ok(Logistic {
        n: data.total() as usize,
        intercept: coefficients[0],
        odds_ratios: coefficients[1..].iter().map(|c| odds_ratio(c, z)).collect(),
        slopes: coefficients[1..].to_vec(),
        log_likelihood: fit.log_likelihood,
        null_log_likelihood: null,
        pseudo_r2: 1.0 - fit.log_likelihood / null,
        iterations: fit.iterations,
    })
}

/// exp(b) with exp(b ± z·se).
pub(crate) fn odds_ratio(c: &Coefficient, z: f64) -> OddsRatio {
    OddsRatio {
        value: c.estimate.exp(),
        low: (c.estimate - z * c.std_error).exp(),
        high: (c.estimate + z * c.std_error).exp(),
    }
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
    /// The inverse of the observed information at `beta`.
    pub cov: Matrix,
    pub iterations: usize,
}

/// Log-likelihood, score and information at one point.
struct Eval {
    ll: f64,
    grad: Vec<f64>,
    info: Matrix,
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
            let c = c as f64;
            let row = self.rows.row(i);
            for (xt, &j) in x[1..].iter_mut().zip(subset) {
                *xt = row[j];
            }
            let eta = dot(beta, &x);
            let mu = sigmoid(eta);
            ll += c * (y * eta - softplus(eta));
            let (r, w) = (c * (y - mu), c * mu * (1.0 - mu));
            for (t, xt) in x.iter().enumerate() {
                grad[t] += r * xt;
                let wx = w * xt;
                for (o, xs) in info[t * dim + t..(t + 1) * dim].iter_mut().zip(&x[t..]) {
                    *o += wx * xs;
                }
            }
        }
        let info = Matrix::from_fn(dim, |a, b| info[a.min(b) * dim + a.max(b)]);
        Eval { ll, grad, info }
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

/// 1 / (1 + e^−η), without overflow.
pub(crate) fn sigmoid(eta: f64) -> f64 {
    if eta >= 0.0 {
        1.0 / (1.0 + (-eta).exp())
    } else {
        let e = eta.exp();
        e / (1.0 + e)
    }
}

/// ln(1 + e^η), without overflow.
pub(crate) fn softplus(eta: f64) -> f64 {
    eta.max(0.0) + (-eta.abs()).exp().ln_1p()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_link_functions() {
        assert_eq!(sigmoid(0.0), 0.5);
        assert!((sigmoid(-800.0)).abs() < 1e-300 && sigmoid(800.0) == 1.0);
        assert!((softplus(800.0) - 800.0).abs() < 1e-12);
        assert!((softplus(0.0) - 2f64.ln()).abs() < 1e-15);
    }
}
