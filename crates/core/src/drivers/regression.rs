//! Ordinary least squares with an intercept, from the correlation matrix of the
//! predictors and the outcome: coefficients, standard errors, R², and the R² of any subset
//! of the predictors (r_Sy' R_SS⁻¹ r_Sy) from one Cholesky row per predictor added.

use super::DriverError;
use super::data::{Dataset, Moments, Rows};
use super::matrix::{Matrix, dot, sum_sq};
use serde::Serialize;

/// A pivot below this counts as zero when a predictor joins a subset: it adds nothing.
const SUBSET_PIVOT_TOL: f64 = 1e-10;

/// A regression coefficient and its standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Coefficient {
    pub estimate: f64,
    pub std_error: f64,
}

/// An OLS fit: y = intercept + Σ slopeⱼ xⱼ + ε.
#[derive(Debug, Clone)]
pub struct Ols {
    pub n: usize,
    pub intercept: Coefficient,
    /// One per predictor, in the data set's order.
    pub slopes: Vec<Coefficient>,
    pub r2: f64,
    /// Correlations of the predictors and, last, the outcome.
    corr: Matrix,
}

impl Ols {
    /// The R² of the regression on the predictors at `subset` (indices into the data
    /// set's predictors) alone; 0 for the empty subset.
    pub fn subset_r2(&self, subset: &[usize]) -> f64 {
        let mut search = SubsetSearch::new(&self.corr);
        subset
            .iter()
            .enumerate()
            .map(|(depth, &j)| search.push(depth, j))
            .sum::<f64>()
            .min(1.0)
    }

    /// The R² of every subset, indexed by bit mask (bit j set = predictor j in).
    pub fn all_subsets_r2(&self) -> Vec<f64> {
        all_subsets_r2(&self.corr)
    }
}

/// Fits `outcome ~ predictors` by least squares. Errors on too few rows, a constant
/// outcome or predictor, or collinear predictors (naming one).
pub fn ols(data: &Dataset) -> Result<Ols, DriverError> {
    let rows = linear_rows(data)?;
    let m = rows.moments(data.weights);
    let names = data.names();
    check_linear(&m, &names)?;
    fit(&m, &names)
}

/// The predictors and, last, the outcome, standardised by row; after [`Dataset::check`].
pub(crate) fn linear_rows(data: &Dataset) -> Result<Rows, DriverError> {
    data.check(false)?;
    let mut columns: Vec<&[f64]> = data.predictors.iter().map(|c| c.values).collect();
    columns.push(data.outcome);
    Ok(Rows::new(&columns, data.weights))
}

/// Fails on a constant outcome or a constant predictor.
pub(crate) fn check_linear(m: &Moments, names: &[String]) -> Result<(), DriverError> {
    if m.sd[names.len()] == 0.0 {
        return Err(DriverError::ConstantOutcome);
    }
    m.check_varies(names)
}

/// The OLS fit from moments of the predictors (`names`) and, last, the outcome (weight =
/// rows); fails on collinear predictors.
pub(crate) fn fit(m: &Moments, names: &[String]) -> Result<Ols, DriverError> {
    let p = m.corr.size() - 1;
    let r_xy: Vec<f64> = (0..p).map(|j| m.corr[(j, p)]).collect();
    let chol = m
        .corr
        .leading(p)
        .cholesky()
        .map_err(|j| collinear(names, j))?;
    let beta = chol.solve(&r_xy);
    let r2 = dot(&beta, &r_xy).clamp(0.0, 1.0);
    let inv = chol.inverse();
    let (w, sd_y) = (m.weight, m.sd[p]);
    // Residual variance σ² = SSE / (n − p − 1), SSE = (1 − R²)(n − 1) s_y².
    let sigma2 = (1.0 - r2) * (w - 1.0) * sd_y * sd_y / (w - p as f64 - 1.0);
    // Cov(bⱼ, bₖ) = σ² [R⁻¹]ⱼₖ / ((n − 1) sⱼ sₖ).
    let cov = |j: usize, k: usize| sigma2 * inv[(j, k)] / ((w - 1.0) * m.sd[j] * m.sd[k]);
    let slopes: Vec<Coefficient> = (0..p)
        .map(|j| Coefficient {
            estimate: beta[j] * sd_y / m.sd[j],
            std_error: cov(j, j).sqrt(),
        })
        .collect();
    let intercept = m.mean[p] - (0..p).map(|j| slopes[j].estimate * m.mean[j]).sum::<f64>();
    let mean_var: f64 = (0..p)
        .flat_map(|j| (0..p).map(move |k| (j, k)))
        .map(|(j, k)| m.mean[j] * m.mean[k] * cov(j, k))
        .sum();
    Ok(Ols {
        n: w as usize,
        intercept: Coefficient {
            estimate: intercept,
            std_error: (sigma2 / w + mean_var).sqrt(),
        },
        slopes,
        r2,
        corr: m.corr.clone(),
    })
}

/// The collinearity error naming predictor j.
pub(crate) fn collinear(names: &[String], j: usize) -> DriverError {
    DriverError::Collinear(names[j].clone())
}

/// The R² of every subset of the predictors, by bit mask, from the correlation matrix of
/// the predictors and, last, the outcome. A depth-first walk over subsets in increasing
/// index order extends the Cholesky factor of the parent subset by one row, so each
/// subset costs O(|S|²) and all 2^p about p² 2^p / 4.
pub(crate) fn all_subsets_r2(corr: &Matrix) -> Vec<f64> {
    let p = corr.size() - 1;
    let mut table = vec![0.0; 1 << p];
    let mut search = SubsetSearch::new(corr);
    search.walk(&mut table, 0, 0, 0, 0.0);
    table
}

/// The Cholesky factor of the correlation matrix of a growing subset, with the outcome's
/// row (`ly`) last: R²(S) = Σ ly².
struct SubsetSearch<'a> {
    corr: &'a Matrix,
    p: usize,
    /// Row d of the factor at `l[d * p..]`, for the predictor `chosen[d]`.
    l: Vec<f64>,
    ly: Vec<f64>,
    chosen: Vec<usize>,
}

impl<'a> SubsetSearch<'a> {
    fn new(corr: &'a Matrix) -> Self {
        let p = corr.size() - 1;
        SubsetSearch {
            corr,
            p,
            l: vec![0.0; p * p],
            ly: vec![0.0; p],
            chosen: vec![0; p],
        }
    }

    /// Adds predictor j as the subset's element `depth` (replacing any from there on);
    /// returns its gain in R² (0 if it is a combination of the others).
    fn push(&mut self, depth: usize, j: usize) -> f64 {
        let p = self.p;
        let (done, rest) = self.l.split_at_mut(depth * p);
        let row = &mut rest[..p];
        for m in 0..depth {
            let prev = &done[m * p..m * p + p];
            let v = self.corr[(j, self.chosen[m])] - dot(&row[..m], &prev[..m]);
            row[m] = if prev[m] > 0.0 { v / prev[m] } else { 0.0 };
        }
        let d2 = 1.0 - sum_sq(&row[..depth]);
        self.chosen[depth] = j;
        if d2 > SUBSET_PIVOT_TOL {
            let diag = d2.sqrt();
            row[depth] = diag;
            let v = (self.corr[(j, p)] - dot(&self.ly[..depth], &row[..depth])) / diag;
            self.ly[depth] = v;
            v * v
        } else {
            row[depth] = 0.0;
            self.ly[depth] = 0.0;
            0.0
        }
    }

    fn walk(&mut self, table: &mut [f64], depth: usize, start: usize, mask: usize, r2: f64) {
        for j in start..self.p {
            let next = (r2 + self.push(depth, j)).min(1.0);
            let mask = mask | 1 << j;
            table[mask] = next;
            self.walk(table, depth + 1, j + 1, mask, next);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subset_r2_matches_a_direct_solve() {
        let rows = [
            [1.0, 0.4, 0.2, 0.5],
            [0.4, 1.0, 0.3, 0.6],
            [0.2, 0.3, 1.0, 0.1],
            [0.5, 0.6, 0.1, 1.0],
        ];
        let corr = Matrix::from_fn(4, |i, j| rows[i][j]);
        let table = all_subsets_r2(&corr);
        for (mask, r2) in table.iter().enumerate().skip(1) {
            let s: Vec<usize> = (0..3).filter(|j| mask >> j & 1 == 1).collect();
            let r = Matrix::from_fn(s.len(), |a, b| rows[s[a]][s[b]]);
            let r_y: Vec<f64> = s.iter().map(|&j| rows[j][3]).collect();
            let direct = dot(&r.cholesky().unwrap().solve(&r_y), &r_y);
            assert!((r2 - direct).abs() < 1e-14, "{mask}");
        }
    }
}
