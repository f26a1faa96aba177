//! Synthetic control (Abadie, Diamond & Hainmueller 2010) on the outcome alone: the
//! treated units' mean path is matched over the pre-period by a convex combination of
//! the untreated units (weights ≥ 0 summing to 1, least squares, no intercept: the "SC"
//! of Arkhangelsky et al. 2021). Inference is in space: each donor in turn is treated as
//! if it had been treated, and the treated path's post/pre RMSPE ratio is ranked among
//! theirs (the p-value is its rank over the number of units).
//!
//! The weights are the minimum-norm point of the convex hull of the donors' pre-period
//! gaps, by Wolfe's (1976) algorithm: exact (to rounding) and finite, also when there are
//! more donors than pre-periods and the weights are not unique.

use serde::Serialize;

use crate::drivers::matrix::{Matrix, dot, sum_sq};

use super::panel::Panel;

/// Weights below this are dropped from the corral (and reported as 0).
const TINY: f64 = 1e-12;
/// Relative tolerance of Wolfe's optimality test.
const OPTIMAL: f64 = 1e-12;

/// A donor's weight in the synthetic unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Weight {
    pub unit: String,
    pub weight: f64,
}

/// A donor analysed as if treated: its mean post-period gap and post/pre RMSPE ratio.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Placebo {
    pub unit: String,
    pub effect: f64,
    pub ratio: f64,
}

/// A synthetic-control fit with its placebos.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Synthetic {
    /// Donors with positive weight, largest first.
    pub weights: Vec<Weight>,
    /// The treated mean and the synthetic unit by period.
    pub treated: Vec<f64>,
    pub synthetic: Vec<f64>,
    /// Mean post-period gap (treated − synthetic).
    pub effect: f64,
    pub pre_rmspe: f64,
    pub post_rmspe: f64,
    pub placebos: Vec<Placebo>,
    /// 1 + the placebos whose ratio is at least the treated one's.
    pub rank: usize,
}

/// A path split at `start`: gaps' root mean squares before and after, and the mean after.
struct Gaps {
    pre: f64,
    post: f64,
    mean_post: f64,
}

impl Gaps {
    fn of(treated: &[f64], synthetic: &[f64], start: usize) -> Gaps {
        let gap: Vec<f64> = treated.iter().zip(synthetic).map(|(a, b)| a - b).collect();
        let rms = |g: &[f64]| (sum_sq(g) / g.len() as f64).sqrt();
        Gaps {
            pre: rms(&gap[..start]),
            post: rms(&gap[start..]),
            mean_post: gap[start..].iter().sum::<f64>() / (gap.len() - start) as f64,
        }
    }

    fn ratio(&self) -> f64 {
        if self.pre > 0.0 {
            self.post / self.pre
        } else {
            f64::INFINITY
        }
    }
}

/// Units with an outcome in every period: the treated ones' mean path, and each
/// untreated one's path with its name. Units missing a period are left out.
pub(crate) fn paths(panel: &Panel) -> (Vec<f64>, Vec<(usize, Vec<f64>)>) {
    let wide = panel.wide();
    let complete = |u: usize| wide[u].iter().copied().collect::<Option<Vec<f64>>>();
    let treated: Vec<Vec<f64>> = panel
        .treated_units()
        .into_iter()
        .filter_map(complete)
        .collect();
    let t = panel.periods().len();
    let mean = (0..t)
        .map(|p| treated.iter().map(|s| s[p]).sum::<f64>() / treated.len().max(1) as f64)
        .collect();
    let donors = panel
        .untreated_units()
        .into_iter()
        .filter_map(|u| Some((u, complete(u)?)))
        .collect();
    (mean, donors)
}

/// The synthetic control of the treated mean path from the donors, the treatment from
/// period index `start` (at least one period before and after, at least one donor).
pub(crate) fn synthetic(
    panel: &Panel,
    treated: &[f64],
    donors: &[(usize, Vec<f64>)],
    start: usize,
) -> Synthetic {
    let paths: Vec<&[f64]> = donors.iter().map(|(_, p)| p.as_slice()).collect();
    let (w, synthetic) = fit(treated, &paths, start);
    let gaps = Gaps::of(treated, &synthetic, start);
    let placebos: Vec<Placebo> = (0..donors.len())
        .filter(|_| donors.len() > 1)
        .map(|j| {
            let others: Vec<&[f64]> = (0..paths.len())
                .filter(|&i| i != j)
                .map(|i| paths[i])
                .collect();
            let (_, s) = fit(paths[j], &others, start);
            let g = Gaps::of(paths[j], &s, start);
            Placebo {
                unit: panel.units()[donors[j].0].clone(),
                effect: g.mean_post,
                ratio: g.ratio(),
            }
        })
        .collect();
    let ratio = gaps.ratio();
    let mut weights: Vec<Weight> = w
        .iter()
        .zip(donors)
        .filter(|(w, _)| **w > 0.0)
        .map(|(&weight, (u, _))| Weight {
            unit: panel.units()[*u].clone(),
            weight,
        })
        .collect();
    weights.sort_by(|a, b| b.weight.total_cmp(&a.weight));
    Synthetic {
        weights,
        treated: treated.to_vec(),
        synthetic,
        effect: gaps.mean_post,
        pre_rmspe: gaps.pre,
        post_rmspe: gaps.post,
        rank: 1 + placebos.iter().filter(|p| p.ratio >= ratio).count(),
        placebos,
    }
}

/// The weights fitting `target` before `start` from `donors`, and the synthetic path.
fn fit(target: &[f64], donors: &[&[f64]], start: usize) -> (Vec<f64>, Vec<f64>) {
    let gaps: Vec<Vec<f64>> = donors
        .iter()
        .map(|d| d[..start].iter().zip(target).map(|(a, b)| a - b).collect())
        .collect();
    let w = min_norm_weights(&gaps);
    let path = (0..target.len())
        .map(|t| donors.iter().zip(&w).map(|(d, w)| w * d[t]).sum())
        .collect();
    (w, path)
}

/// Weights w ≥ 0, Σw = 1, minimising |Σ wⱼ pⱼ|²: Wolfe's minimum-norm-point algorithm.
fn min_norm_weights(points: &[Vec<f64>]) -> Vec<f64> {
    let m = points.len();
    let norms: Vec<f64> = points.iter().map(|p| sum_sq(p)).collect();
    let scale = norms.iter().fold(f64::MIN_POSITIVE, |a, &b| a.max(b));
    let first = (0..m)
        .min_by(|&a, &b| norms[a].total_cmp(&norms[b]))
        .unwrap_or(0);
    let mut corral: Vec<(usize, f64)> = vec![(first, 1.0)];
    for _ in 0..(10 * m + 100) {
        let x = combine(points, &corral);
        let (j, xp) = (0..m)
            .map(|j| (j, dot(&x, &points[j])))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((first, 0.0));
        if sum_sq(&x) - xp <= OPTIMAL * scale || corral.iter().any(|&(i, _)| i == j) {
            break;
        }
        corral.push((j, 0.0));
        shrink(points, &mut corral);
    }
    let mut w = vec![0.0; m];
    corral.into_iter().for_each(|(i, v)| w[i] = v);
    w
}

/// Σ wᵢ pᵢ over the corral.
fn combine(points: &[Vec<f64>], corral: &[(usize, f64)]) -> Vec<f64> {
    let mut x = vec![0.0; points[0].len()];
    for &(i, w) in corral {
        x.iter_mut().zip(&points[i]).for_each(|(x, p)| *x += w * p);
    }
    x
}

/// Wolfe's minor cycle: moves the corral's weights towards the affine minimiser of its
/// points, dropping points whose weight reaches zero, until the minimiser lies inside.
fn shrink(points: &[Vec<f64>], corral: &mut Vec<(usize, f64)>) {
    while let Some(alpha) = affine_minimiser(points, corral) {
        if alpha.iter().all(|&a| a > TINY) {
            corral.iter_mut().zip(alpha).for_each(|(c, a)| c.1 = a);
            return;
        }
        let theta = corral
            .iter()
            .zip(&alpha)
            .filter(|(_, a)| **a <= TINY)
            .map(|(&(_, w), &a)| w / (w - a))
            .fold(1.0f64, f64::min);
        corral
            .iter_mut()
            .zip(&alpha)
            .for_each(|(c, a)| c.1 = theta * a + (1.0 - theta) * c.1);
        let before = corral.len();
        corral.retain(|&(_, w)| w > TINY);
        if corral.len() == before {
            let smallest = (0..corral.len())
                .min_by(|&a, &b| corral[a].1.total_cmp(&corral[b].1))
                .unwrap_or(0);
            corral.remove(smallest);
        }
        let total: f64 = corral.iter().map(|c| c.1).sum();
        corral.iter_mut().for_each(|c| c.1 /= total);
    }
}

/// The weights (summing to 1) of the point of least norm in the affine hull of the
/// corral's points: p₀ + Σ βᵢ (pᵢ − p₀) by least squares. None if they are affinely
/// dependent (then the corral stays as it is).
fn affine_minimiser(points: &[Vec<f64>], corral: &[(usize, f64)]) -> Option<Vec<f64>> {
    let base = &points[corral[0].0];
    let d: Vec<Vec<f64>> = corral[1..]
        .iter()
        .map(|&(i, _)| points[i].iter().zip(base).map(|(a, b)| a - b).collect())
        .collect();
    if d.is_empty() {
        return Some(vec![1.0]);
    }
    let gram = Matrix::from_fn(d.len(), |i, j| dot(&d[i], &d[j]));
    let rhs: Vec<f64> = d.iter().map(|di| -dot(di, base)).collect();
    let beta = gram.cholesky().ok()?.solve(&rhs);
    let mut alpha = vec![1.0 - beta.iter().sum::<f64>()];
    alpha.extend(beta);
    Some(alpha)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_point_inside_the_hull_is_matched_exactly() {
        // The target is 0.25·a + 0.75·b: its gaps' minimum norm is 0.
        let a = [1.0, 4.0, 2.0];
        let b = [3.0, 0.0, 2.0];
        let c = [9.0, 9.0, 9.0];
        let target: Vec<f64> = (0..3).map(|i| 0.25 * a[i] + 0.75 * b[i]).collect();
        let (w, path) = fit(&target, &[&a, &b, &c], 3);
        assert!((w[0] - 0.25).abs() < 1e-12 && (w[1] - 0.75).abs() < 1e-12 && w[2] == 0.0);
        assert!(path.iter().zip(&target).all(|(p, t)| (p - t).abs() < 1e-12));
    }

    #[test]
    fn a_point_outside_is_projected_onto_the_nearest_face() {
        // Donors (0, 0) and (2, 0); target (1, 1): the nearest point is (1, 0).
        let (w, path) = fit(&[1.0, 1.0], &[&[0.0, 0.0], &[2.0, 0.0]], 2);
        assert!((w[0] - 0.5).abs() < 1e-12 && (w[1] - 0.5).abs() < 1e-12);
        assert!((path[0] - 1.0).abs() < 1e-12 && path[1].abs() < 1e-12);
    }

    proptest! {
        /// The weights lie on the simplex and no single donor, and no move towards one,
        /// fits better (Wolfe's optimality: x·pⱼ ≥ |x|² for every j).
        #[test]
        fn weights_are_optimal_on_the_simplex(
            points in prop::collection::vec(prop::collection::vec(-50.0..50.0f64, 4), 1..12),
        ) {
            let w = min_norm_weights(&points);
            prop_assert!(w.iter().all(|&v| v >= 0.0));
            prop_assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            let corral: Vec<(usize, f64)> = w.iter().copied().enumerate().collect();
            let x = combine(&points, &corral);
            let scale = points.iter().map(|p| sum_sq(p)).fold(1.0, f64::max);
            for p in &points {
                prop_assert!(dot(&x, p) >= sum_sq(&x) - 1e-9 * scale);
            }
        }
    }
}
