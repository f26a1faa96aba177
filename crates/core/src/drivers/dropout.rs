//! Effects on leaving, told apart from slow buying: a cure-model logistic regression of
//! per-trip defection outcomes.
//!
//! "No purchase in the window after a trip" happens when the customer left after the trip
//! (probability π) or stayed but bought nothing in the window (probability s, from the
//! customer-base model's posterior of their purchase rate):
//!
//!   P(no purchase) = π + (1 − π)·s.
//!
//! A customer who survived k earlier dropout chances has dropout probability p ~ Beta(a,
//! b + k) (the customer-base model's posterior, as in MBG/NBD), and the trip's events
//! shift its log-odds: π = E[logistic(logit p + c + x·β)], a fixed weighted sum over a
//! grid of logit p. exp(βⱼ) is then the odds ratio of leaving with event j against
//! without it for the same customer — the quantity a plain logistic regression of the
//! observed outcome dilutes towards 1. Estimated by maximum likelihood (analytic
//! gradient, BFGS), with bootstrap percentile intervals over resampled trips (Wald
//! intervals from the observed information without resamples).

use std::collections::HashMap;

use serde::Serialize;

use super::bootstrap::{Population, percentile_interval, resample};
use super::logistic::softplus;
use super::{Dataset, DriverError, Options};
use crate::models::optim::{bfgs, numerical_hessian, spd_inverse};
use crate::stats::Estimate;
use crate::stats::quantile::normal_quantile;

/// Grid of logit p: from −40 to 40 in steps of 0.25. Its sums reproduce Beta means to 1e−9
/// for a ≥ 0.5 and b ≥ 0.3 (3e−7 at a = 0.1, b = 0.2). The Beta mass beyond the
/// ends is added in closed form, as certain to stay (below) or to leave (above).
const GRID: (f64, f64, usize) = (-40.0, 0.25, 321);
/// Bounds of the coefficients (log-odds units).
const BOUNDS: (f64, f64) = (-30.0, 30.0);

/// The customer-base model's view of one trip.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TripContext {
    /// P(no purchase in the window | the customer stays), in [0, 1).
    pub silent: f64,
    /// Dropout chances the customer survived before this trip (earlier purchases).
    pub survived: u32,
}

/// The population's dropout probability per purchase: p ~ Beta(a, b).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DropoutPrior {
    pub a: f64,
    pub b: f64,
}

/// One predictor's effect on the odds of leaving.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DropoutEffect {
    pub name: String,
    /// exp(β) with its interval (bootstrap percentiles, or Wald without resamples), n the
    /// trips fitted.
    pub odds_ratio: Estimate,
}

/// A fitted dropout model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DropoutFit {
    pub n: u64,
    pub prior: DropoutPrior,
    /// The common shift c of the log-odds (0 when the prior alone fits the base rate).
    pub shift: f64,
    pub effects: Vec<DropoutEffect>,
    pub log_likelihood: f64,
    pub iterations: usize,
    pub converged: bool,
    /// Resamples that gave a fit, and those that did not (left out of the intervals).
    pub resamples: usize,
    pub failed_resamples: usize,
}

/// Trips with the same predictors and the same number of survived chances share π.
struct Group {
    x: Vec<f64>,
    weights: usize,
    /// Rows without a purchase in the window, and rows with one.
    silent: Vec<usize>,
    bought: Vec<usize>,
}

/// A group's rows as one (re)sample weights them.
struct Weighted {
    /// (s, count) of the rows without a purchase.
    silent: Vec<(f64, f64)>,
    /// Count of the rows with a purchase and Σ count·ln(1 − s) over them.
    bought: f64,
    bought_log: f64,
}

/// The trips, grouped, with the grid: everything a fit on any resample needs.
struct Trips<'a> {
    groups: Vec<Group>,
    /// The rows' frequency weights (each row once without).
    weights: Option<&'a [u32]>,
    grid: Grid,
    /// Each row's s, clamped below 1.
    silent: Vec<f64>,
    params: usize,
}

/// A maximum of the likelihood.
struct Fitted {
    theta: Vec<f64>,
    /// −LL / n at theta.
    value: f64,
    iterations: usize,
    converged: bool,
}

/// Fits the dropout model to `data` (outcome 1 = no purchase in the window) with each
/// row's context from the customer-base model, and bootstraps it as `options` say
/// (resamples, seed, level, threads).
pub fn fit_dropout(
    data: &Dataset,
    trips: &[TripContext],
    prior: DropoutPrior,
    options: &Options,
) -> Result<DropoutFit, DriverError> {
    data.check(true)?;
    if trips.len() != data.outcome.len() {
        return Err(DriverError::LengthMismatch {
            column: "trip context".into(),
            len: trips.len(),
            expected: data.outcome.len(),
        });
    }
    let model = Trips::new(data, trips, prior);
    let full = model.fit(None, None)?;
    let n = data.total() as usize;
    let cov = model.covariance(&full.theta, n)?;
    let population = Population::new(data.outcome.len(), data.weights);
    let draws: Vec<Option<Vec<f64>>> = resample(
        &population,
        options.resamples,
        options.seed,
        options.threads,
        |counts| {
            model
                .fit(Some(counts), Some(&full.theta))
                .ok()
                .map(|f| f.theta)
        },
    );
    let draws: Vec<Vec<f64>> = draws.into_iter().flatten().collect();
    let z = normal_quantile(0.5 + options.level / 2.0);
    let effects = data
        .predictors
        .iter()
        .enumerate()
        .map(|(j, c)| {
            let b = full.theta[j + 1];
            let wald = (cov[j + 1][j + 1] / n as f64).sqrt() * z;
            let slopes: Vec<f64> = draws.iter().map(|d| d[j + 1]).collect();
            let (low, high) =
                percentile_interval(&slopes, options.level).unwrap_or((b - wald, b + wald));
            DropoutEffect {
                name: c.name.clone(),
                odds_ratio: Estimate::unflagged(n as u64, b.exp(), Some((low.exp(), high.exp()))),
            }
        })
        .collect();
    Ok(DropoutFit {
        n: n as u64,
        prior,
        shift: full.theta[0],
        effects,
        log_likelihood: -full.value * n as f64,
        iterations: full.iterations,
        converged: full.converged,
        resamples: draws.len(),
        failed_resamples: options.resamples - draws.len(),
    })
}

impl<'a> Trips<'a> {
    /// Rows grouped by (predictors, survived), with one weight vector per survived count.
    fn new(data: &Dataset<'a>, trips: &[TripContext], prior: DropoutPrior) -> Self {
        let logit: Vec<f64> = (0..GRID.2).map(|j| GRID.0 + GRID.1 * j as f64).collect();
        let mut grid = Grid {
            exp_neg: logit.iter().map(|u| (-u).exp()).collect(),
            weights: Vec::new(),
        };
        let mut by_k: HashMap<u32, usize> = HashMap::new();
        let mut index: HashMap<(Vec<u64>, u32), usize> = HashMap::new();
        let mut groups: Vec<Group> = Vec::new();
        for (row, trip) in trips.iter().enumerate() {
            let x: Vec<f64> = data.predictors.iter().map(|c| c.values[row]).collect();
            let key = (x.iter().map(|v| v.to_bits()).collect(), trip.survived);
            let g = *index.entry(key).or_insert_with(|| {
                let weights = *by_k.entry(trip.survived).or_insert_with(|| {
                    grid.weights
                        .push(beta_weights(&logit, prior, trip.survived));
                    grid.weights.len() - 1
                });
                groups.push(Group {
                    x,
                    weights,
                    silent: Vec::new(),
                    bought: Vec::new(),
                });
                groups.len() - 1
            });
            match data.outcome[row] == 1.0 {
                true => groups[g].silent.push(row),
                false => groups[g].bought.push(row),
            }
        }
        Trips {
            groups,
            weights: data.weights,
            grid,
            silent: trips
                .iter()
                .map(|t| t.silent.clamp(0.0, 1.0 - 1e-12))
                .collect(),
            params: data.predictors.len() + 1,
        }
    }

    /// The groups' rows weighted by `counts` (by the data's weights without).
    fn weighted(&self, counts: Option<&[u32]>) -> Vec<Weighted> {
        let counts = counts.or(self.weights);
        let count = |row: usize| counts.map_or(1.0, |c| f64::from(c[row]));
        self.groups
            .iter()
            .map(|g| {
                let bought = g.bought.iter().map(|&r| (count(r), self.silent[r]));
                let (bought, bought_log) = bought
                    .filter(|(c, _)| *c > 0.0)
                    .fold((0.0, 0.0), |(n, l), (c, s)| (n + c, l + c * (1.0 - s).ln()));
                Weighted {
                    silent: g
                        .silent
                        .iter()
                        .map(|&r| (self.silent[r], count(r)))
                        .filter(|(_, c)| *c > 0.0)
                        .collect(),
                    bought,
                    bought_log,
                }
            })
            .collect()
    }

    /// −LL / n and its gradient for rows weighted as `weighted`.
    fn objective<'b>(
        &'b self,
        weighted: &'b [Weighted],
        n: f64,
    ) -> impl Fn(&[f64], &mut [f64]) -> f64 + 'b {
        move |theta: &[f64], grad: &mut [f64]| {
            let ll = self.log_likelihood(weighted, theta, grad);
            grad.iter_mut().for_each(|g| *g /= -n);
            -ll / n
        }
    }

    /// The maximum of the likelihood of the rows weighted by `counts`, from `start` (the
    /// prior alone without).
    fn fit(&self, counts: Option<&[u32]>, start: Option<&[f64]>) -> Result<Fitted, DriverError> {
        let weighted = self.weighted(counts);
        let n = counts
            .or(self.weights)
            .map_or(self.silent.len() as f64, |c| {
                c.iter().map(|&v| f64::from(v)).sum()
            });
        let objective = self.objective(&weighted, n);
        let zero = vec![0.0; self.params];
        let min = bfgs(&objective, start.unwrap_or(&zero), BOUNDS, 1e-7, 500).ok_or(
            DriverError::Dropout("its likelihood is not finite at the start"),
        )?;
        Ok(Fitted {
            converged: min.grad_norm(BOUNDS) <= 1e-5,
            theta: min.x,
            value: min.f,
            iterations: min.iterations,
        })
    }

    /// The inverse of the observed information per row at `theta`.
    fn covariance(&self, theta: &[f64], n: usize) -> Result<Vec<Vec<f64>>, DriverError> {
        let weighted = self.weighted(None);
        let objective = self.objective(&weighted, n as f64);
        spd_inverse(&numerical_hessian(&objective, theta, None)).ok_or(DriverError::Dropout(
            "its information matrix is singular (an event never or always seen with leaving?)",
        ))
    }

    /// Log-likelihood at θ = (c, β); its gradient written into `grad`.
    fn log_likelihood(&self, weighted: &[Weighted], theta: &[f64], grad: &mut [f64]) -> f64 {
        grad.iter_mut().for_each(|g| *g = 0.0);
        let mut ll = 0.0;
        for (g, w) in self.groups.iter().zip(weighted) {
            if w.silent.is_empty() && w.bought == 0.0 {
                continue;
            }
            let e = theta[0] + g.x.iter().zip(&theta[1..]).map(|(x, b)| x * b).sum::<f64>();
            let (pi, stay, slope) = self.grid.leave(g.weights, e);
            // Rows that bought: ln(1 − π) + ln(1 − s); rows that did not: ln(π + (1 − π)s).
            ll += w.bought * stay.ln() + w.bought_log;
            let mut d_pi = -w.bought / stay;
            for &(s, c) in &w.silent {
                let p = pi + stay * s;
                ll += c * p.ln();
                d_pi += c * (1.0 - s) / p;
            }
            let d_e = d_pi * slope;
            grad[0] += d_e;
            grad[1..]
                .iter_mut()
                .zip(&g.x)
                .for_each(|(d, x)| *d += d_e * x);
        }
        ll
    }
}

/// The grid of logit p (as e^−u) and, per distinct survived count, its Beta weights.
struct Grid {
    exp_neg: Vec<f64>,
    weights: Vec<Weights>,
}

impl Grid {
    /// π = E[logistic(u + e)], 1 − π, and dπ/de under weight vector `k`.
    fn leave(&self, k: usize, e: f64) -> (f64, f64, f64) {
        let w = &self.weights[k];
        let t = (-e).exp();
        let (mut pi, mut stay, mut slope) = (w.above, w.below, 0.0);
        for (weight, q) in w.grid.iter().zip(&self.exp_neg[w.first..]) {
            // logistic(u + e) = 1 / (1 + e^−u·e^−e).
            let odds_against = q * t;
            let leave = 1.0 / (1.0 + odds_against);
            let remain = odds_against * leave;
            pi += weight * leave;
            stay += weight * remain;
            slope += weight * leave * remain;
        }
        (pi, stay, slope)
    }
}

/// Normalised Beta weights on the grid from index `first` (those before and after are
/// below 1e−17 and left out) and the mass beyond its ends.
struct Weights {
    first: usize,
    grid: Vec<f64>,
    below: f64,
    above: f64,
}

/// Beta(a, b + k) on the grid of logit p (density p^a (1 − p)^(b + k) in logit units).
/// Beyond the ends the density is e^(a·u) (below) and e^(−(b + k)·u) (above) to within
/// e^−40, so their masses are e^(a·lo)/a and e^(−(b + k)·hi)/(b + k).
fn beta_weights(logit: &[f64], prior: DropoutPrior, survived: u32) -> Weights {
    let (a, b) = (prior.a, prior.b + f64::from(survived));
    let log_density = |u: f64| a * u - (a + b) * softplus(u);
    let top = logit
        .iter()
        .map(|&u| log_density(u))
        .fold(f64::NEG_INFINITY, f64::max);
    let step = GRID.1;
    let grid: Vec<f64> = logit
        .iter()
        .map(|&u| (log_density(u) - top).exp() * step)
        .collect();
    let (lo, hi) = (logit[0] - step / 2.0, logit[logit.len() - 1] + step / 2.0);
    let below = (a * lo - top).exp() / a;
    let above = (-b * hi - top).exp() / b;
    let total = grid.iter().sum::<f64>() + below + above;
    let kept = |v: &&f64| **v / total >= 1e-17;
    let first = grid.iter().position(|v| kept(&v)).unwrap_or(0);
    let last = grid.iter().rposition(|v| kept(&v)).unwrap_or(0);
    Weights {
        first,
        grid: grid[first..=last].iter().map(|v| v / total).collect(),
        below: (below + grid[..first].iter().sum::<f64>()) / total,
        above: (above + grid[last + 1..].iter().sum::<f64>()) / total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drivers::logistic::link;

    #[test]
    fn grid_weights_give_the_beta_mean() {
        let logit: Vec<f64> = (0..GRID.2).map(|j| GRID.0 + GRID.1 * j as f64).collect();
        for (a, b, k) in [
            (0.7, 4.0, 0),
            (0.7, 4.0, 12),
            (2.0, 1.5, 3),
            (0.1, 0.2, 0),
            (5.0, 0.3, 0),
        ] {
            let w = beta_weights(&logit, DropoutPrior { a, b }, k);
            let grid: f64 = w
                .grid
                .iter()
                .zip(&logit[w.first..])
                .map(|(w, u)| w * link(*u).0)
                .sum();
            let mean = grid + w.above;
            let exact = a / (a + b + f64::from(k));
            assert!(
                (mean - exact).abs() < 1e-6 * exact,
                "{a} {b} {k}: {mean} {exact}"
            );
        }
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let y = [1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0];
        let x = [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0];
        let trips: Vec<TripContext> = (0..8)
            .map(|i| TripContext {
                silent: 0.1 * i as f64,
                survived: i % 3,
            })
            .collect();
        let data = Dataset::new(&y).predictor("x", &x);
        let model = Trips::new(&data, &trips, DropoutPrior { a: 0.8, b: 3.0 });
        let counts = [2, 0, 1, 1, 3, 1, 0, 1];
        let weighted = model.weighted(Some(&counts));
        let log_likelihood =
            |theta: &[f64], grad: &mut [f64]| model.log_likelihood(&weighted, theta, grad);
        let theta = [0.3, -0.7];
        let mut grad = [0.0; 2];
        log_likelihood(&theta, &mut grad);
        for j in 0..2 {
            let (mut up, mut down) = (theta, theta);
            up[j] += 1e-6;
            down[j] -= 1e-6;
            let mut scratch = [0.0; 2];
            let numeric =
                (log_likelihood(&up, &mut scratch) - log_likelihood(&down, &mut scratch)) / 2e-6;
            assert!(
                (numeric - grad[j]).abs() < 1e-6,
                "{j}: {numeric} {}",
                grad[j]
            );
        }
    }
}
