//! Least squares with unit and period fixed effects and standard errors clustered by unit.
//!
//! The fixed effects are absorbed (Frisch–Waugh–Lovell): outcome and regressors are
//! demeaned by unit and by period in turn until nothing is left to remove (one round for
//! a balanced panel), and the demeaned outcome is regressed on the demeaned regressors.
//! The covariance is the cluster-robust sandwich with fixest's and pyfixest's default
//! small-sample factor (CR1): (n − 1)/(n − K) · G/(G − 1), G the units, K the regressors
//! plus the fixed effects not nested in the clusters (the unit effects are, so K = k + the
//! number of periods: pyfixest's `k_fixef = "nonnested"`); inference uses Student's t, and
//! Wald tests F, with G − 1 degrees of freedom.

use crate::drivers::matrix::{Matrix, dot};
use crate::models::special::beta_inc;
use crate::stats::quantile::{t_quantile, t_two_sided_p};

use super::panel::Panel;

/// Rounds of demeaning before giving up (an unbalanced panel converges geometrically).
const MAX_ROUNDS: usize = 10_000;
/// Means below this fraction of the data's scale count as zero.
const TOLERANCE: f64 = 1e-13;
/// A regressor keeping at most this share of its sum of squares after the fixed effects and
/// the regressors before it are removed is explained by them (fixest's `collin.tol`).
const EXPLAINED: f64 = 1e-10;

/// A fitted regression: coefficients, their clustered covariance, the clusters (units with
/// observations) and the regressors dropped as collinear (coefficient and variance 0).
#[derive(Debug, Clone)]
pub(crate) struct Fit {
    pub coef: Vec<f64>,
    pub vcov: Matrix,
    pub clusters: usize,
    pub dropped: Vec<usize>,
}

/// Why no regression can be fitted: fewer than two units (clusters) with observations, or
/// no more observations than coefficients and period effects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unfit {
    Units(usize),
    Observations {
        observations: usize,
        parameters: usize,
    },
}

/// A linear combination of coefficients with its standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Linear {
    pub value: f64,
    pub se: f64,
    /// Degrees of freedom of its t distribution.
    pub df: f64,
}

impl Linear {
    /// The two-sided interval at `level`.
    pub fn interval(&self, level: f64) -> (f64, f64) {
        let half = t_quantile(0.5 + 0.5 * level, self.df) * self.se;
        (self.value - half, self.value + half)
    }

    /// The two-sided p-value of value = 0 (1 when there is no variance and the value is 0).
    pub fn p_value(&self) -> f64 {
        if self.se > 0.0 {
            t_two_sided_p(self.value / self.se, self.df)
        } else if self.value == 0.0 {
            1.0
        } else {
            0.0
        }
    }
}

/// A joint test that some combinations are all zero: F = W/q with (q, G − 1) degrees of
/// freedom, W the Wald statistic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Wald {
    pub f: f64,
    pub p_value: f64,
}

impl Fit {
    /// Σ wᵢ βᵢ with its standard error √(wᵀ V w); none when it weighs a dropped regressor.
    pub fn combination(&self, w: &[f64]) -> Option<Linear> {
        if self.dropped.iter().any(|&j| w[j] != 0.0) {
            return None;
        }
        Some(Linear {
            value: dot(w, &self.coef),
            se: quadratic(&self.vcov, w, w).max(0.0).sqrt(),
            df: (self.clusters - 1) as f64,
        })
    }

    /// Whether regressor `j` was estimated (not dropped as collinear).
    pub fn kept(&self, j: usize) -> bool {
        !self.dropped.contains(&j)
    }

    /// The Wald F test that every row of `r` (weights on the coefficients) is zero; none
    /// without rows or when their covariance is singular.
    pub fn wald(&self, r: &[Vec<f64>]) -> Option<Wald> {
        let q = r.len();
        if q == 0 {
            return None;
        }
        let b: Vec<f64> = r.iter().map(|w| dot(w, &self.coef)).collect();
        let v = Matrix::from_fn(q, |i, j| quadratic(&self.vcov, &r[i], &r[j]));
        let w = dot(&b, &v.cholesky().ok()?.solve(&b));
        let f = w / q as f64;
        let (d1, d2) = (q as f64, (self.clusters - 1) as f64);
        let denominator = d2 + d1 * f;
        Some(Wald {
            f,
            p_value: beta_inc(0.5 * d2, 0.5 * d1, d2 / denominator, d1 * f / denominator),
        })
    }
}

/// uᵀ A v.
fn quadratic(a: &Matrix, u: &[f64], v: &[f64]) -> f64 {
    dot(u, &a.mul_vec(v))
}

/// Regresses the panel's outcome on `x` (one column per regressor, one value per cell in
/// the panel's cell order) with unit and period fixed effects, clustered by unit.
///
/// A regressor that the fixed effects and the regressors before it explain is dropped, as
/// fixest and pyfixest drop collinear variables: its coefficient and variance are 0 and it
/// is listed in [`Fit::dropped`] (every regressor when the fixed effects explain them all).
/// Refused ([`Unfit`]) only when fewer than two units or no residual degrees of freedom
/// remain.
pub(crate) fn fit(panel: &Panel, x: &[Vec<f64>]) -> Result<Fit, Unfit> {
    let (n, k) = (panel.cells().len(), x.len());
    let clusters = present(panel.cells().iter().map(|c| c.unit), panel.units().len());
    let periods = present(
        panel.cells().iter().map(|c| c.period),
        panel.periods().len(),
    );
    if clusters < 2 {
        return Err(Unfit::Units(clusters));
    }
    let y = absorb(panel, panel.cells().iter().map(|c| c.y).collect());
    let original: Vec<f64> = x.iter().map(|col| dot(col, col)).collect();
    let x: Vec<Vec<f64>> = x.iter().map(|col| absorb(panel, col.clone())).collect();
    let kept = independent(&Matrix::from_fn(k, |i, j| dot(&x[i], &x[j])), &original);
    let dropped: Vec<usize> = (0..k).filter(|j| !kept.contains(j)).collect();
    let parameters = kept.len() + periods;
    if n <= parameters {
        return Err(Unfit::Observations {
            observations: n,
            parameters,
        });
    }
    let mut full = Fit {
        coef: vec![0.0; k],
        vcov: Matrix::zeros(k),
        clusters,
        dropped,
    };
    if kept.is_empty() {
        return Ok(full);
    }
    let x: Vec<&Vec<f64>> = kept.iter().map(|&j| &x[j]).collect();
    let m = kept.len();
    let bread = Matrix::from_fn(m, |i, j| dot(x[i], x[j]))
        .cholesky()
        .map_err(|_| Unfit::Observations {
            observations: n,
            parameters,
        })?
        .inverse();
    let xy: Vec<f64> = x.iter().map(|col| dot(col, &y)).collect();
    let coef = bread.mul_vec(&xy);
    let mut scores = vec![vec![0.0; m]; panel.units().len()];
    for (i, c) in panel.cells().iter().enumerate() {
        let e = y[i] - (0..m).map(|j| x[j][i] * coef[j]).sum::<f64>();
        for j in 0..m {
            scores[c.unit][j] += x[j][i] * e;
        }
    }
    let meat = Matrix::from_fn(m, |a, b| scores.iter().map(|s| s[a] * s[b]).sum());
    let (nf, kf, g) = (n as f64, parameters as f64, clusters as f64);
    let adjust = (nf - 1.0) / (nf - kf) * g / (g - 1.0);
    let sandwich = bread.mul(&meat).mul(&bread);
    for (a, &i) in kept.iter().enumerate() {
        full.coef[i] = coef[a];
        for (b, &j) in kept.iter().enumerate() {
            full.vcov[(i, j)] = adjust * 0.5 * (sandwich[(a, b)] + sandwich[(b, a)]);
        }
    }
    Ok(full)
}

/// How many of `count` groups occur in `of`.
fn present(of: impl Iterator<Item = usize>, count: usize) -> usize {
    let mut seen = vec![false; count];
    of.for_each(|g| seen[g] = true);
    seen.iter().filter(|&&s| s).count()
}

/// The regressors kept, in order, given the cross-products `gram` of the demeaned
/// regressors and each one's sum of squares before demeaning (`original`): a Cholesky
/// factorisation that passes over every column whose pivot — the sum of squares left
/// after the fixed effects and the columns kept before it — is at most [`EXPLAINED`] of
/// its original sum of squares (fixest's and pyfixest's collinearity check, on a scale
/// that does not depend on the regressor's units).
fn independent(gram: &Matrix, original: &[f64]) -> Vec<usize> {
    let k = gram.size();
    let mut r = vec![vec![0.0; k]; k];
    let mut kept: Vec<usize> = Vec::new();
    for j in 0..k {
        let pivot = gram[(j, j)] - kept.iter().map(|&l| r[l][j] * r[l][j]).sum::<f64>();
        if pivot <= EXPLAINED * original[j] {
            continue;
        }
        let root = pivot.sqrt();
        r[j][j] = root;
        for i in j + 1..k {
            let v = gram[(j, i)] - kept.iter().map(|&l| r[l][j] * r[l][i]).sum::<f64>();
            r[j][i] = v / root;
        }
        kept.push(j);
    }
    kept
}

/// `v` (one value per cell) less its unit and period means, alternately, until both are
/// zero to the tolerance.
fn absorb(panel: &Panel, mut v: Vec<f64>) -> Vec<f64> {
    let cells = panel.cells();
    let scale = v.iter().fold(1.0f64, |m, x| m.max(x.abs()));
    let units: Vec<usize> = cells.iter().map(|c| c.unit).collect();
    let periods: Vec<usize> = cells.iter().map(|c| c.period).collect();
    let groups = [
        (units, panel.units().len()),
        (periods, panel.periods().len()),
    ];
    for _ in 0..MAX_ROUNDS {
        let mut largest = 0.0f64;
        for (of, count) in &groups {
            let means = means(&v, of, *count);
            largest = largest.max(means.iter().fold(0.0, |m, x| m.max(x.abs())));
            v.iter_mut().zip(of).for_each(|(x, &g)| *x -= means[g]);
        }
        if largest <= TOLERANCE * scale {
            break;
        }
    }
    v
}

/// The mean of `v` in each of `count` groups (`of` each value's group).
fn means(v: &[f64], of: &[usize], count: usize) -> Vec<f64> {
    let mut sums = vec![(0.0, 0usize); count];
    for (x, &g) in v.iter().zip(of) {
        sums[g].0 += x;
        sums[g].1 += 1;
    }
    sums.iter()
        .map(|&(s, n)| if n > 0 { s / n as f64 } else { 0.0 })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::initiatives::Row;
    use crate::rng::Rng;

    /// A panel y = unit effect + period effect + 2·x + noise, with one unit's periods
    /// missing, so demeaning takes several rounds.
    fn unbalanced(seed: u64) -> (Panel, Vec<f64>) {
        let mut rng = Rng::new(seed);
        let mut rows = Vec::new();
        let mut xs = Vec::new();
        for u in 0..6 {
            for t in 0..8 {
                if u == 0 && t % 3 == 0 {
                    continue;
                }
                let x = rng.normal() + u as f64 * 0.3;
                xs.push((format!("u{u}"), t, x));
                rows.push(Row {
                    unit: format!("u{u}"),
                    period: t,
                    outcome: u as f64 + 0.5 * t as f64 + 2.0 * x + 0.1 * rng.normal(),
                    treated_from: None,
                });
            }
        }
        let panel = Panel::new(&rows).unwrap();
        xs.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        (panel, xs.into_iter().map(|r| r.2).collect())
    }

    #[test]
    fn demeaning_removes_both_effects_in_an_unbalanced_panel() {
        let (panel, x) = unbalanced(3);
        let v = absorb(&panel, x);
        let units: Vec<usize> = panel.cells().iter().map(|c| c.unit).collect();
        let periods: Vec<usize> = panel.cells().iter().map(|c| c.period).collect();
        for m in means(&v, &units, 6)
            .into_iter()
            .chain(means(&v, &periods, 8))
        {
            assert!(m.abs() < 1e-12, "{m}");
        }
        let fit = fit(&panel, &[absorb(&panel, v)]).unwrap();
        assert!((fit.coef[0] - 2.0).abs() < 0.1, "{:?}", fit.coef);
        assert_eq!(fit.clusters, 6);
    }

    #[test]
    fn regressors_explained_by_the_fixed_effects_and_the_others_are_dropped() {
        let (panel, x) = unbalanced(4);
        let by_period: Vec<f64> = panel.cells().iter().map(|c| c.period as f64).collect();
        let by_unit: Vec<f64> = panel.cells().iter().map(|c| c.unit as f64).collect();
        let combined: Vec<f64> = x.iter().zip(&by_unit).map(|(a, b)| 3.0 * a - b).collect();
        let with = fit(&panel, &[by_period.clone(), x.clone(), by_unit, combined]).unwrap();
        assert_eq!(with.dropped, [0, 2, 3]);
        let alone = fit(&panel, &[x]).unwrap();
        assert!((with.coef[1] - alone.coef[0]).abs() < 1e-10);
        assert!((with.vcov[(1, 1)] - alone.vcov[(0, 0)]).abs() < 1e-12);
        assert_eq!((with.coef[0], with.vcov[(0, 0)]), (0.0, 0.0));
        assert!(with.combination(&[0.0, 1.0, 0.0, 0.0]).is_some());
        assert!(with.combination(&[1.0, 1.0, 0.0, 0.0]).is_none());
        // The fixed effects alone explain it: dropped, nothing estimated.
        assert_eq!(fit(&panel, &[by_period]).unwrap().dropped, [0]);
    }

    #[test]
    fn one_unit_cannot_be_fitted() {
        let rows = |units: usize, periods: i64| -> Vec<Row> {
            (0..units)
                .flat_map(|u| {
                    (0..periods).map(move |t| Row {
                        unit: format!("u{u}"),
                        period: t,
                        outcome: (u as i64 * t) as f64,
                        treated_from: None,
                    })
                })
                .collect()
        };
        let x = |p: &Panel| {
            vec![
                p.cells()
                    .iter()
                    .map(|c| (c.unit * c.period) as f64)
                    .collect(),
            ]
        };
        let one = Panel::new(&rows(1, 5)).unwrap();
        assert_eq!(fit(&one, &x(&one)).unwrap_err(), Unfit::Units(1));
        // Two units, two periods: the 2 × 2 difference in differences, exactly.
        let two = Panel::new(&rows(2, 2)).unwrap();
        let f = fit(&two, &x(&two)).unwrap();
        assert!((f.coef[0] - 1.0).abs() < 1e-12 && f.dropped.is_empty());
    }
}
