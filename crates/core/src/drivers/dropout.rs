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

use super::bootstrap::{percentile_interval, resample_rows};
use super::logistic::softplus;
use super::{Dataset, DriverError, Options};
use crate::models::optim::{bfgs_from, numerical_hessian, spd_inverse};
use crate::stats::Estimate;
use crate::stats::quantile::normal_quantile;

/// Grid of logit p: from −40 to 40 in steps of 0.25. Its sums reproduce Beta means to 1e−9
/// for a ≥ 0.5 and b ≥ 0.3 (3e−7 at a = 0.1, b = 0.2). The Beta mass beyond the
/// ends is added in closed form, as certain to stay (below) or to leave (above).
const GRID: (f64, f64, usize) = (-40.0, 0.25, 321);
/// Bounds of the coefficients (log-odds units).
const BOUNDS: (f64, f64) = (-30.0, 30.0);
/// A fit stops when no gradient component of −LL / n exceeds this. Tight, because a rare
/// event's coefficient has little curvature: resample fits, which start from the full
/// fit's inverse Hessian, reach it in a few Newton-like steps.
const TOLERANCE: f64 = 1e-9;

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

/// Groups with the same predictors, hence the same shift e of the log-odds: their grid
/// terms logistic(u + e) are computed once, then summed under each group's weights.
struct Combo {
    x: Vec<f64>,
    /// The grid points any of its groups weights (`lo..hi`).
    lo: usize,
    hi: usize,
    lanes: Vec<Lanes>,
}

/// Up to [`LANES`] groups of a combo summed side by side (unused lanes repeat the first).
struct Lanes {
    groups: [usize; LANES],
    len: usize,
    /// Index of their weights in [`Grid::lanes`].
    weights: usize,
}

/// Groups whose grid sums run side by side: independent sums, so they overlap in the
/// processor, each still added up point by point in grid order.
const LANES: usize = 4;

/// The trips, grouped, with the grid: everything a fit on any resample needs.
struct Trips<'a> {
    groups: Vec<Group>,
    combos: Vec<Combo>,
    /// The rows' frequency weights (each row once without).
    weights: Option<&'a [u32]>,
    grid: Grid,
    /// Each row's s, clamped below 1, and ln(1 − s).
    silent: Vec<f64>,
    stay_log: Vec<f64>,
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
    let model = DropoutModel::new(data, trips, prior)?;
    let draws = resample_rows(data, options, 1, |counts| {
        counts.iter().map(|c| model.draw(c)).collect()
    });
    Ok(model.finish(draws, options))
}

/// The dropout model fitted to all rows, ready to be fitted to resamples.
pub(crate) struct DropoutModel<'a> {
    data: &'a Dataset<'a>,
    prior: DropoutPrior,
    trips: Trips<'a>,
    full: Fitted,
    /// The inverse Hessian of −LL / n at the full fit: resample fits start from it.
    cov: Vec<Vec<f64>>,
}

impl<'a> DropoutModel<'a> {
    pub(crate) fn new(
        data: &'a Dataset<'a>,
        trips: &[TripContext],
        prior: DropoutPrior,
    ) -> Result<Self, DriverError> {
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
        let cov = model.covariance(&full.theta, data.total() as usize)?;
        Ok(DropoutModel {
            data,
            prior,
            trips: model,
            full,
            cov,
        })
    }

    /// The coefficients fitted to the rows weighted by `counts`, `None` if the fit fails.
    pub(crate) fn draw(&self, counts: &[u32]) -> Option<Vec<f64>> {
        let start = (&self.full.theta[..], &self.cov[..]);
        self.trips
            .fit(Some(counts), Some(start))
            .ok()
            .map(|f| f.theta)
    }

    /// The fit with its intervals from the resamples' `draws` (Wald without).
    pub(crate) fn finish(self, draws: Vec<Option<Vec<f64>>>, options: &Options) -> DropoutFit {
        let (full, cov) = (&self.full, &self.cov);
        let n = self.data.total() as usize;
        let draws: Vec<Vec<f64>> = draws.into_iter().flatten().collect();
        let z = normal_quantile(0.5 + options.level / 2.0);
        let effects = self
            .data
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
                    odds_ratio: Estimate::unflagged(
                        n as u64,
                        b.exp(),
                        Some((low.exp(), high.exp())),
                    ),
                }
            })
            .collect();
        DropoutFit {
            n: n as u64,
            prior: self.prior,
            shift: full.theta[0],
            effects,
            log_likelihood: -full.value * n as f64,
            iterations: full.iterations,
            converged: full.converged,
            resamples: draws.len(),
            failed_resamples: options.resamples - draws.len(),
        }
    }
}

impl<'a> Trips<'a> {
    /// Rows grouped by (predictors, survived), with one weight vector per survived count.
    fn new(data: &Dataset<'a>, trips: &[TripContext], prior: DropoutPrior) -> Self {
        let logit: Vec<f64> = (0..GRID.2).map(|j| GRID.0 + GRID.1 * j as f64).collect();
        let mut grid = Grid {
            exp_neg: logit.iter().map(|u| (-u).exp()).collect(),
            weights: Vec::new(),
            lanes: Vec::new(),
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
        let combos = grid.combos(&groups);
        if std::env::var_os("CXRAY_DROPOUT_DEBUG").is_some() {
            let lanes: usize = combos.iter().map(|c| c.lanes.len()).sum();
            let points: usize = combos
                .iter()
                .flat_map(|c| &c.lanes)
                .map(|l| grid.lanes[l.weights].grid.len())
                .sum();
            let silent: usize = groups.iter().map(|g| g.silent.len()).sum();
            eprintln!(
                "groups {} combos {} lanes {} lane points {} combo points {} silent rows {} ks {}",
                groups.len(),
                combos.len(),
                lanes,
                points,
                combos.iter().map(|c| c.hi - c.lo).sum::<usize>(),
                silent,
                grid.weights.len()
            );
        }
        let silent: Vec<f64> = trips
            .iter()
            .map(|t| t.silent.clamp(0.0, 1.0 - 1e-12))
            .collect();
        Trips {
            groups,
            combos,
            weights: data.weights,
            grid,
            stay_log: silent.iter().map(|s| (1.0 - s).ln()).collect(),
            silent,
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
                let bought = g.bought.iter().map(|&r| (count(r), self.stay_log[r]));
                let (bought, bought_log) = bought
                    .filter(|(c, _)| *c > 0.0)
                    .fold((0.0, 0.0), |(n, l), (c, log)| (n + c, l + c * log));
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

    /// The maximum of the likelihood of the rows weighted by `counts`, from `start` (θ and
    /// an inverse Hessian; the prior alone and the identity without).
    fn fit(
        &self,
        counts: Option<&[u32]>,
        start: Option<(&[f64], &[Vec<f64>])>,
    ) -> Result<Fitted, DriverError> {
        let weighted = self.weighted(counts);
        let n = counts
            .or(self.weights)
            .map_or(self.silent.len() as f64, |c| {
                c.iter().map(|&v| f64::from(v)).sum()
            });
        let objective = self.objective(&weighted, n);
        let zero = vec![0.0; self.params];
        let (x0, h0) = start.map_or((&zero[..], None), |(x, h)| (x, Some(h)));
        let min = bfgs_from(&objective, x0, h0, BOUNDS, TOLERANCE, 500).ok_or(
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
        let leave = self.leave(theta);
        grad.iter_mut().for_each(|g| *g = 0.0);
        let mut ll = 0.0;
        for ((g, w), &(pi, stay, slope)) in self.groups.iter().zip(weighted).zip(&leave) {
            if w.silent.is_empty() && w.bought == 0.0 {
                continue;
            }
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

    /// Each group's (π, 1 − π, dπ/de) at θ: per combo, the grid's terms once, then the
    /// weighted sums of its groups, [`LANES`] at a time, the low tail as series: within
    /// rounding of [`Grid::leave`] per group.
    fn leave(&self, theta: &[f64]) -> Vec<(f64, f64, f64)> {
        let mut out = vec![(0.0, 0.0, 0.0); self.groups.len()];
        let (mut leave, mut remain) = (vec![0.0; GRID.2], vec![0.0; GRID.2]);
        for c in &self.combos {
            let e = theta[0] + c.x.iter().zip(&theta[1..]).map(|(x, b)| x * b).sum::<f64>();
            let t = (-e).exp();
            // Points from `from` on are summed one by one, those before (logit p + e ≤
            // −CUT) as a series in e^(logit p + e).
            let from = ((-CUT - e - GRID.0) / GRID.1).floor() + 1.0;
            let from = if from.is_nan() {
                c.lo
            } else {
                (from.max(0.0) as usize).clamp(c.lo, c.hi)
            };
            if !(self.grid.exp_neg[from.min(c.hi - 1)] * t).is_finite() {
                // Odds beyond the floating-point range: a point a group leaves out may
                // not be finite, so each group sums only its own points.
                for l in &c.lanes {
                    for &g in &l.groups[..l.len] {
                        out[g] = self.grid.leave(self.groups[g].weights, e);
                    }
                }
                continue;
            }
            for ((q, leave), remain) in self.grid.exp_neg[from..c.hi]
                .iter()
                .zip(&mut leave[from..c.hi])
                .zip(&mut remain[from..c.hi])
            {
                let odds_against = q * t;
                *leave = 1.0 / (1.0 + odds_against);
                *remain = odds_against * *leave;
            }
            // Without points before `from` the moments are 0 and x may be infinite.
            let x = match from > c.lo {
                true => (GRID.0 + GRID.1 * from as f64 + e).exp(),
                false => 0.0,
            };
            let powers = Weights::powers(x);
            for l in &c.lanes {
                let lanes = &self.grid.lanes[l.weights];
                let moments = lanes.ks.map(|k| &self.grid.weights[k].tail[from]);
                let sums = lanes.sums(&leave, &remain, from, series(&powers, moments));
                for (&g, sum) in l.groups[..l.len].iter().zip(sums) {
                    out[g] = sum;
                }
            }
        }
        out
    }
}

/// The grid of logit p (as e^−u) and, per distinct survived count, its Beta weights.
struct Grid {
    exp_neg: Vec<f64>,
    weights: Vec<Weights>,
    /// Weights of groups summed side by side, by the weight vectors they combine.
    lanes: Vec<LaneWeights>,
}

/// The weights of [`LANES`] groups point by point (0 where a group has none), from
/// grid point `lo`, with the masses beyond the ends they start from.
struct LaneWeights {
    /// The lanes' weight vectors.
    ks: [usize; LANES],
    lo: usize,
    grid: Vec<[f64; LANES]>,
    below: [f64; LANES],
    above: [f64; LANES],
}

impl LaneWeights {
    /// (π, 1 − π, dπ/de) of each lane given the grid's logistic(u + e) and 1 − it.
    /// Adding a zero weight's product (+0) leaves a sum as it is, so each lane's sums are
    /// those of its own points.
    /// The sums start from `start` (the points before `from`) and take the points from
    /// `from` on.
    #[inline]
    fn sums(
        &self,
        leave: &[f64],
        remain: &[f64],
        from: usize,
        start: [(f64, f64, f64); LANES],
    ) -> [(f64, f64, f64); LANES] {
        let mut pi: [f64; LANES] = std::array::from_fn(|l| self.above[l] + start[l].0);
        let mut stay: [f64; LANES] = std::array::from_fn(|l| self.below[l] + start[l].1);
        let mut slope: [f64; LANES] = start.map(|s| s.2);
        let end = self.lo + self.grid.len();
        let from = from.clamp(self.lo, end);
        for ((w, l), r) in self.grid[from - self.lo..]
            .iter()
            .zip(&leave[from..end])
            .zip(&remain[from..end])
        {
            for lane in 0..LANES {
                let wl = w[lane] * l;
                pi[lane] += wl;
                stay[lane] += w[lane] * r;
                slope[lane] += wl * r;
            }
        }
        std::array::from_fn(|lane| (pi[lane], stay[lane], slope[lane]))
    }
}

impl Grid {
    /// The groups by their predictors, each combo's groups in lanes by survived count.
    fn combos(&mut self, groups: &[Group]) -> Vec<Combo> {
        let mut index: HashMap<Vec<u64>, usize> = HashMap::new();
        let mut members: Vec<(Vec<f64>, Vec<usize>)> = Vec::new();
        for (i, g) in groups.iter().enumerate() {
            let key = g.x.iter().map(|v| v.to_bits()).collect();
            let c = *index.entry(key).or_insert_with(|| {
                members.push((g.x.clone(), Vec::new()));
                members.len() - 1
            });
            members[c].1.push(i);
        }
        // Groups with similar ranges of weighted points side by side.
        let ranges: Vec<(usize, usize)> = groups
            .iter()
            .map(|g| {
                let w = &self.weights[g.weights];
                (w.first + w.grid.len(), w.first)
            })
            .collect();
        let mut interned: HashMap<[usize; LANES], usize> = HashMap::new();
        let mut combos = Vec::with_capacity(members.len());
        for (x, mut ids) in members {
            ids.sort_by_key(|&g| ranges[g]);
            let mut lanes = Vec::with_capacity(ids.len().div_ceil(LANES));
            for chunk in ids.chunks(LANES) {
                let members: [usize; LANES] =
                    std::array::from_fn(|l| chunk[l.min(chunk.len() - 1)]);
                let key = members.map(|g| groups[g].weights);
                let weights = *interned.entry(key).or_insert_with(|| {
                    self.lanes.push(self.lane_weights(key));
                    self.lanes.len() - 1
                });
                lanes.push(Lanes {
                    groups: members,
                    len: chunk.len(),
                    weights,
                });
            }
            let spans = lanes.iter().map(|l| {
                let w = &self.lanes[l.weights];
                (w.lo, w.lo + w.grid.len())
            });
            let (lo, hi) = spans.fold((GRID.2, 0), |(lo, hi), (a, b)| (lo.min(a), hi.max(b)));
            combos.push(Combo { x, lo, hi, lanes });
        }
        combos
    }

    /// The weights of the groups with weight vectors `ks`, side by side.
    fn lane_weights(&self, ks: [usize; LANES]) -> LaneWeights {
        let ws = ks.map(|k| &self.weights[k]);
        let lo = ws.iter().map(|w| w.first).min().unwrap_or(0);
        let hi = ws.iter().map(|w| w.first + w.grid.len()).max().unwrap_or(0);
        let at = |w: &Weights, j: usize| match j.checked_sub(w.first) {
            Some(i) => w.grid.get(i).copied().unwrap_or(0.0),
            None => 0.0,
        };
        LaneWeights {
            ks,
            lo,
            grid: (lo..hi)
                .map(|j| std::array::from_fn(|l| at(ws[l], j)))
                .collect(),
            below: ws.map(|w| w.below),
            above: ws.map(|w| w.above),
        }
    }

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
    /// Per grid point J, Σ_{j<J} w_j e^(m(u_j − u_J)) for m = 0..=TERMS: the moments of
    /// the points before J for [`series`].
    tail: Vec<[f64; TERMS + 1]>,
}

impl Weights {
    /// (−x)^m for m = 0..=TERMS.
    fn powers(x: f64) -> [f64; TERMS + 1] {
        let mut power = 1.0;
        std::array::from_fn(|m| {
            if m > 0 {
                power *= -x;
            }
            power
        })
    }
}

/// The sums of π, 1 − π and dπ/de of [`LANES`] groups over the points before a grid point
/// J, from their moments there (`Weights::tail[J]`) and the powers of x = e^(u_J + e)
/// (x ≤ e^−CUT before J): logistic = x/(1 + x) = Σ (−1)^(m+1) x^m and
/// logistic·(1 − logistic) = Σ (−1)^(m+1) m x^m, to TERMS terms (relative error below
/// e^(−CUT·TERMS)).
#[inline]
fn series(
    powers: &[f64; TERMS + 1],
    moments: [&[f64; TERMS + 1]; LANES],
) -> [(f64, f64, f64); LANES] {
    let (mut pi, mut slope) = ([0.0; LANES], [0.0; LANES]);
    for (m, power) in powers.iter().enumerate().skip(1) {
        for lane in 0..LANES {
            let term = -power * moments[lane][m];
            pi[lane] += term;
            slope[lane] += m as f64 * term;
        }
    }
    std::array::from_fn(|l| (pi[l], moments[l][0] - pi[l], slope[l]))
}

/// Below logit p + e = −CUT the grid's sums are series ([`series`]).
const CUT: f64 = 4.0;
/// Terms of those series: e^(−CUT·TERMS) = 4e−18.
const TERMS: usize = 10;

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
    let below = (below + grid[..first].iter().sum::<f64>()) / total;
    let above = (above + grid[last + 1..].iter().sum::<f64>()) / total;
    let grid: Vec<f64> = grid[first..=last].iter().map(|v| v / total).collect();
    // Moments before point J + 1 from those before J: (A_J + w_J)·e^(−m·step).
    let mut tail = vec![[0.0; TERMS + 1]; logit.len() + 1];
    let shrink: [f64; TERMS + 1] = std::array::from_fn(|m| (-(m as f64) * step).exp());
    for j in 0..logit.len() {
        let w = j.checked_sub(first).and_then(|i| grid.get(i)).copied();
        tail[j + 1] = std::array::from_fn(|m| (tail[j][m] + w.unwrap_or(0.0)) * shrink[m]);
    }
    Weights {
        first,
        grid,
        below,
        above,
        tail,
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

    /// The log-likelihood and its gradient computed row by row, straight from the model:
    /// π from the Beta weights and the logistic at each grid point.
    fn reference(
        data: &Dataset,
        trips: &[TripContext],
        prior: DropoutPrior,
        counts: &[u32],
        theta: &[f64],
    ) -> (f64, Vec<f64>) {
        let logit: Vec<f64> = (0..GRID.2).map(|j| GRID.0 + GRID.1 * j as f64).collect();
        let (mut ll, mut grad) = (0.0, vec![0.0; theta.len()]);
        for (row, trip) in trips.iter().enumerate() {
            let x: Vec<f64> = data.predictors.iter().map(|c| c.values[row]).collect();
            let e = theta[0] + x.iter().zip(&theta[1..]).map(|(x, b)| x * b).sum::<f64>();
            let w = beta_weights(&logit, prior, trip.survived);
            let (mut pi, mut stay, mut slope) = (w.above, w.below, 0.0);
            for (weight, u) in w.grid.iter().zip(&logit[w.first..]) {
                let leave = 1.0 / (1.0 + (-(u + e)).exp());
                let remain = 1.0 / (1.0 + (u + e).exp());
                pi += weight * leave;
                stay += weight * remain;
                slope += weight * leave * remain;
            }
            let s = trip.silent.clamp(0.0, 1.0 - 1e-12);
            // A resample's counts stand for the row's trips (its weight) drawn again.
            let c = f64::from(counts[row]);
            let d_pi = match data.outcome[row] == 1.0 {
                true => {
                    ll += c * (pi + stay * s).ln();
                    c * (1.0 - s) / (pi + stay * s)
                }
                false => {
                    ll += c * (stay * (1.0 - s)).ln();
                    -c / stay
                }
            };
            grad[0] += d_pi * slope;
            for (g, x) in grad[1..].iter_mut().zip(&x) {
                *g += d_pi * slope * x;
            }
        }
        (ll, grad)
    }

    #[test]
    fn grouped_sums_match_the_model_row_by_row() {
        let mut rng = crate::rng::Rng::new(23);
        let n = 400;
        let xs: Vec<Vec<f64>> = (0..3)
            .map(|j| {
                (0..n)
                    .map(|_| f64::from(u8::from(rng.bernoulli(0.2 + 0.15 * j as f64))))
                    .collect()
            })
            .collect();
        let y: Vec<f64> = (0..n)
            .map(|_| f64::from(u8::from(rng.bernoulli(0.6))))
            .collect();
        let trips: Vec<TripContext> = (0..n)
            .map(|_| TripContext {
                silent: rng.uniform(),
                survived: rng.below(11) as u32,
            })
            .collect();
        let weights: Vec<u32> = (0..n).map(|_| 1 + rng.below(5) as u32).collect();
        let counts: Vec<u32> = (0..n).map(|_| rng.below(3) as u32).collect();
        let data = Dataset::new(&y)
            .weighted(&weights)
            .predictor("a", &xs[0])
            .predictor("b", &xs[1])
            .predictor("c", &xs[2]);
        // A prior whose weights start at different grid points for different counts.
        for prior in [
            DropoutPrior { a: 0.8, b: 3.0 },
            DropoutPrior { a: 2.5, b: 0.7 },
        ] {
            let model = Trips::new(&data, &trips, prior);
            assert!(model.combos.iter().any(|c| c.lanes.len() > 2));
            let weighted = model.weighted(Some(&counts));
            for theta in [
                [0.0, 0.0, 0.0, 0.0],
                [0.4, -1.1, 0.7, 2.0],
                [-3.0, 5.0, -2.0, 0.1],
                // Far from the data: no tail to sum, and almost all of it.
                [30.0, 5.0, 5.0, 5.0],
                [-30.0, -30.0, 0.0, -30.0],
                // e^(u + e) beyond the floating-point range at the grid's start.
                [800.0, 0.0, 0.0, 0.0],
            ] {
                // The combos' sums (series below −CUT) are those of each group's grid.
                for (g, leave) in model.groups.iter().zip(model.leave(&theta)) {
                    let e = theta[0] + g.x.iter().zip(&theta[1..]).map(|(x, b)| x * b).sum::<f64>();
                    let (a, b) = (leave, model.grid.leave(g.weights, e));
                    for (x, y) in [(a.0, b.0), (a.1, b.1), (a.2, b.2)] {
                        assert!(x == y || (x - y).abs() <= 1e-14 * y.abs(), "{a:?} {b:?}");
                    }
                }
                if theta[0] > 100.0 {
                    continue;
                }
                let mut grad = [0.0; 4];
                let ll = model.log_likelihood(&weighted, &theta, &mut grad);
                let (ll_ref, grad_ref) = reference(&data, &trips, prior, &counts, &theta);
                assert!((ll - ll_ref).abs() <= 1e-10 * ll_ref.abs(), "{ll} {ll_ref}");
                let scale = grad_ref.iter().map(|g| g.abs()).fold(1.0, f64::max);
                for (a, b) in grad.iter().zip(&grad_ref) {
                    assert!((a - b).abs() <= 1e-10 * scale, "{grad:?} {grad_ref:?}");
                }
            }
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
