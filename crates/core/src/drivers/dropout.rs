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
//! gradient, BFGS), with Wald intervals from the observed information.

use std::collections::HashMap;

use serde::Serialize;

use super::{Dataset, DriverError, OddsRatio};
use crate::models::optim::{bfgs, numerical_hessian, spd_inverse};
use crate::stats::quantile::normal_quantile;

/// Grid of logit p: from −40 to 40 in steps of 0.25. The Beta mass beyond it is added in
/// closed form, as certain to stay (below) or to leave (above).
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
    /// exp(β) with its Wald interval.
    pub odds_ratio: OddsRatio,
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
}

/// Trips with the same predictors and the same number of survived chances share π.
struct Group {
    x: Vec<f64>,
    weights: usize,
    /// Rows that left no purchase: their s.
    silent: Vec<f64>,
    /// Rows with a purchase in the window: their count and Σ ln(1 − s).
    bought: f64,
    bought_log: f64,
}

/// Fits the dropout model to `data` (outcome 1 = no purchase in the window) with each
/// row's context from the customer-base model; `level` is the intervals' coverage.
pub fn fit_dropout(
    data: &Dataset,
    trips: &[TripContext],
    prior: DropoutPrior,
    level: f64,
) -> Result<DropoutFit, DriverError> {
    data.check(true)?;
    if trips.len() != data.outcome.len() {
        return Err(DriverError::LengthMismatch {
            column: "trip context".into(),
            len: trips.len(),
            expected: data.outcome.len(),
        });
    }
    let (groups, grid) = group(data, trips, prior);
    let n = data.outcome.len() as f64;
    let objective = |theta: &[f64], grad: &mut [f64]| -> f64 {
        let ll = log_likelihood(&groups, &grid, theta, grad);
        grad.iter_mut().for_each(|g| *g /= -n);
        -ll / n
    };
    let start = vec![0.0; data.predictors.len() + 1];
    let min = bfgs(&objective, &start, BOUNDS, 1e-7, 500).ok_or(DriverError::Dropout(
        "its likelihood is not finite at the start",
    ))?;
    let cov = spd_inverse(&numerical_hessian(&objective, &min.x)).ok_or(DriverError::Dropout(
        "its information matrix is singular (an event never or always seen with leaving?)",
    ))?;
    let z = normal_quantile(0.5 + level / 2.0);
    let effects = data
        .predictors
        .iter()
        .enumerate()
        .map(|(j, c)| {
            let (b, se) = (min.x[j + 1], (cov[j + 1][j + 1] / n).sqrt());
            DropoutEffect {
                name: c.name.clone(),
                odds_ratio: OddsRatio {
                    value: b.exp(),
                    low: (b - z * se).exp(),
                    high: (b + z * se).exp(),
                },
            }
        })
        .collect();
    Ok(DropoutFit {
        n: n as u64,
        prior,
        shift: min.x[0],
        effects,
        log_likelihood: -min.f * n,
        iterations: min.iterations,
        converged: min.grad_norm(BOUNDS) <= 1e-5,
    })
}

/// The grid of logit p and, per distinct survived count, its Beta weights.
struct Grid {
    logit: Vec<f64>,
    weights: Vec<Weights>,
}

/// Normalised Beta weights on the grid and the mass beyond its ends.
struct Weights {
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
    Weights {
        grid: grid.into_iter().map(|v| v / total).collect(),
        below: below / total,
        above: above / total,
    }
}

/// ln(1 + eᵘ) without overflow.
fn softplus(u: f64) -> f64 {
    u.max(0.0) + (-u.abs()).exp().ln_1p()
}

fn sigmoid(u: f64) -> f64 {
    1.0 / (1.0 + (-u).exp())
}

/// Rows grouped by (predictors, survived), and the grid with one weight vector per group.
fn group(data: &Dataset, trips: &[TripContext], prior: DropoutPrior) -> (Vec<Group>, Grid) {
    let logit: Vec<f64> = (0..GRID.2).map(|j| GRID.0 + GRID.1 * j as f64).collect();
    let mut by_k: HashMap<u32, usize> = HashMap::new();
    let mut weights = Vec::new();
    let mut index: HashMap<(Vec<u64>, u32), usize> = HashMap::new();
    let mut groups: Vec<Group> = Vec::new();
    for (row, trip) in trips.iter().enumerate() {
        let x: Vec<f64> = data.predictors.iter().map(|c| c.values[row]).collect();
        let key = (x.iter().map(|v| v.to_bits()).collect(), trip.survived);
        let g = *index.entry(key).or_insert_with(|| {
            let w = *by_k.entry(trip.survived).or_insert_with(|| {
                weights.push(beta_weights(&logit, prior, trip.survived));
                weights.len() - 1
            });
            groups.push(Group {
                x,
                weights: w,
                silent: Vec::new(),
                bought: 0.0,
                bought_log: 0.0,
            });
            groups.len() - 1
        });
        let s = trip.silent.clamp(0.0, 1.0 - 1e-12);
        match data.outcome[row] == 1.0 {
            true => groups[g].silent.push(s),
            false => {
                groups[g].bought += 1.0;
                groups[g].bought_log += (1.0 - s).ln();
            }
        }
    }
    (groups, Grid { logit, weights })
}

/// Log-likelihood at θ = (c, β); its gradient written into `grad`.
fn log_likelihood(groups: &[Group], grid: &Grid, theta: &[f64], grad: &mut [f64]) -> f64 {
    grad.iter_mut().for_each(|g| *g = 0.0);
    let mut ll = 0.0;
    for g in groups {
        let e = theta[0] + g.x.iter().zip(&theta[1..]).map(|(x, b)| x * b).sum::<f64>();
        let weights = &grid.weights[g.weights];
        let (mut pi, mut stay, mut slope) = (weights.above, weights.below, 0.0);
        for (w, u) in weights.grid.iter().zip(&grid.logit) {
            let leave = sigmoid(u + e);
            pi += w * leave;
            stay += w * sigmoid(-(u + e));
            slope += w * leave * (1.0 - leave);
        }
        // Rows that bought: ln(1 − π) + ln(1 − s); rows that did not: ln(π + (1 − π)s).
        ll += g.bought * stay.ln() + g.bought_log;
        let mut d_pi = -g.bought / stay;
        for &s in &g.silent {
            let p = pi + stay * s;
            ll += p.ln();
            d_pi += (1.0 - s) / p;
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

#[cfg(test)]
mod tests {
    use super::*;

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
                .zip(&logit)
                .map(|(w, u)| w * sigmoid(*u))
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
        let (groups, grid) = group(&data, &trips, DropoutPrior { a: 0.8, b: 3.0 });
        let theta = [0.3, -0.7];
        let mut grad = [0.0; 2];
        log_likelihood(&groups, &grid, &theta, &mut grad);
        for j in 0..2 {
            let (mut up, mut down) = (theta, theta);
            up[j] += 1e-6;
            down[j] -= 1e-6;
            let mut scratch = [0.0; 2];
            let numeric = (log_likelihood(&groups, &grid, &up, &mut scratch)
                - log_likelihood(&groups, &grid, &down, &mut scratch))
                / 2e-6;
            assert!(
                (numeric - grad[j]).abs() < 1e-6,
                "{j}: {numeric} {}",
                grad[j]
            );
        }
    }
}
