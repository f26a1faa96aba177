//! Inverse response-propensity weighting: P(respond | covariates) from a logistic model
//! with main effects (one indicator per level but the most common), each responder
//! weighted by 1 / P, and the Hájek (normalised) estimator
//!
//! θ̂ = Σ rᵢ yᵢ / π̂ᵢ  /  Σ rᵢ / π̂ᵢ,  yᵢ = +1 promoter, 0 passive, −1 detractor.
//!
//! The interval is the sandwich (linearisation) variance of θ̂ stacked with the logistic
//! score equations, so it accounts for the weights being estimated (Lunceford & Davidian
//! 2004): with the influence eᵢ = rᵢ (yᵢ − θ̂) / π̂ᵢ − (rᵢ − π̂ᵢ) xᵢ′h, where
//! h = [Σ π̂(1 − π̂) x x′]⁻¹ Σ rᵢ (1 − π̂ᵢ)(yᵢ − θ̂) xᵢ / π̂ᵢ, Var θ̂ = Σ eᵢ² / (Σ rᵢ / π̂ᵢ)².
//! Weights are not trimmed: main effects of categorical covariates keep every weight at
//! a level the data support, and the largest weight ratio and Kish's effective n are
//! reported beside the figure.

use serde::Serialize;

use super::{Cell, Method, Population, Weighted, WeightingError, net};
use crate::drivers::matrix::{Matrix, dot};
use crate::drivers::{Dataset, logistic};
use crate::stats::{Estimate, Settings};

/// The fitted response model: how a level changes the odds of answering against its
/// covariate's most common level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Propensity {
    pub terms: Vec<Term>,
    /// McFadden's pseudo-R² of the model.
    pub pseudo_r2: f64,
}

/// One level's odds ratio of answering against `reference`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Term {
    pub covariate: String,
    pub level: String,
    pub reference: String,
    pub odds_ratio: Estimate,
}

/// One indicator of the design: covariate `k` at `level`, against its `reference` level.
struct Indicator {
    k: usize,
    level: usize,
    reference: usize,
}

/// The NPS of the invited population by inverse response-propensity weights, and the
/// response model. Errors: no invited, no or only responders, cells that do not match the
/// covariates, no covariate that varies, or a model that cannot be fitted (separation: a
/// level where everyone or nobody answered).
pub fn inverse_propensity(
    p: &Population,
    s: &Settings,
) -> Result<(Weighted, Propensity), WeightingError> {
    let prepared = p.prepared()?;
    let cells = &prepared.cells;
    let indicators = design(p, cells, &prepared.varying);
    let x: Vec<Vec<f64>> = cells.iter().map(|c| row(&indicators, c)).collect();
    let (terms, pseudo_r2, beta) = fit(p, cells, &indicators, &x)?;
    let pi: Vec<f64> = x.iter().map(|xc| expit(dot(&beta, xc))).collect();
    let total: f64 = cells
        .iter()
        .zip(&pi)
        .map(|(c, p)| c.answers.n() as f64 / p)
        .sum();
    let net_total: f64 = cells
        .iter()
        .zip(&pi)
        .map(|(c, p)| net(&c.answers) / p)
        .sum();
    let theta = net_total / total;
    let variance = sandwich(cells, &x, &pi, theta) / (total * total);
    let weights: Vec<f64> = pi.iter().map(|p| 1.0 / p).collect();
    let weighted =
        prepared.weighted(p, Method::InversePropensity, (theta, variance), &weights, s)?;
    Ok((weighted, Propensity { terms, pseudo_r2 }))
}

/// An indicator for every level of a varying covariate that some invited unit has, but
/// the covariate's most common level (the reference).
fn design(p: &Population, cells: &[Cell], varying: &[usize]) -> Vec<Indicator> {
    let mut indicators = Vec::new();
    for &k in varying {
        let mut invited = vec![0u64; p.covariates[k].levels.len()];
        for c in cells {
            invited[c.levels[k]] += c.invited;
        }
        let reference = reference(&invited);
        indicators.extend(
            (0..invited.len())
                .filter(|&l| l != reference && invited[l] > 0)
                .map(|level| Indicator {
                    k,
                    level,
                    reference,
                }),
        );
    }
    indicators
}

/// The level with the most invited (the first of equals).
fn reference(invited: &[u64]) -> usize {
    (0..invited.len())
        .max_by_key(|&l| (invited[l], std::cmp::Reverse(l)))
        .unwrap_or(0)
}

/// A cell's design row: 1 for the intercept, then its indicators.
fn row(indicators: &[Indicator], c: &Cell) -> Vec<f64> {
    std::iter::once(1.0)
        .chain(
            indicators
                .iter()
                .map(|i| f64::from(c.levels[i.k] == i.level)),
        )
        .collect()
}

/// Fits the response model on the cells (a row of responders and one of non-responders
/// per cell, with their counts): the terms, pseudo-R² and the coefficients, intercept
/// first.
fn fit(
    p: &Population,
    cells: &[Cell],
    indicators: &[Indicator],
    x: &[Vec<f64>],
) -> Result<(Vec<Term>, f64, Vec<f64>), WeightingError> {
    let (mut outcome, mut counts, mut rows) = (Vec::new(), Vec::new(), Vec::new());
    for (i, c) in cells.iter().enumerate() {
        let too_large = || WeightingError::CellTooLarge {
            cell: i,
            invited: c.invited,
        };
        let responded = u32::try_from(c.answers.n()).map_err(|_| too_large())?;
        let silent = u32::try_from(c.invited - c.answers.n()).map_err(|_| too_large())?;
        for (y, count) in [(1.0, responded), (0.0, silent)] {
            if count > 0 {
                outcome.push(y);
                counts.push(count);
                rows.push(i);
            }
        }
    }
    let columns: Vec<Vec<f64>> = (0..indicators.len())
        .map(|j| rows.iter().map(|&i| x[i][j + 1]).collect())
        .collect();
    let names: Vec<String> = indicators
        .iter()
        .map(|i| {
            let c = &p.covariates[i.k];
            format!("{}: {}", c.name, c.levels[i.level])
        })
        .collect();
    let mut data = Dataset::new(&outcome).weighted(&counts);
    for (name, values) in names.iter().zip(&columns) {
        data = data.predictor(name.clone(), values);
    }
    let model = logistic(&data)?;
    let beta = std::iter::once(model.intercept.estimate)
        .chain(model.slopes.iter().map(|c| c.estimate))
        .collect();
    let terms = indicators
        .iter()
        .zip(&model.odds_ratios)
        .map(|(i, or)| {
            let c = &p.covariates[i.k];
            Term {
                covariate: c.name.clone(),
                level: c.levels[i.level].clone(),
                reference: c.levels[i.reference].clone(),
                odds_ratio: *or,
            }
        })
        .collect();
    Ok((terms, model.pseudo_r2, beta))
}

/// Σ eᵢ² of the influences (see the module's documentation), cell by cell: within a cell
/// x and π̂ are constant, so a cell's units differ only in whether and what they answered.
fn sandwich(cells: &[Cell], x: &[Vec<f64>], pi: &[f64], theta: f64) -> f64 {
    let dim = x.first().map_or(0, Vec::len);
    let mut a12 = vec![0.0; dim];
    let mut info = Matrix::zeros(dim);
    for ((c, xc), &p) in cells.iter().zip(x).zip(pi) {
        let residual = net(&c.answers) - c.answers.n() as f64 * theta;
        let w = c.invited as f64 * p * (1.0 - p);
        for a in 0..dim {
            a12[a] += xc[a] * (1.0 - p) / p * residual;
            for b in 0..dim {
                info[(a, b)] += w * xc[a] * xc[b];
            }
        }
    }
    let h = match info.cholesky() {
        Ok(chol) => chol.solve(&a12),
        // The fit succeeded, so the information is positive definite; should rounding say
        // otherwise, leave out the correction for estimated weights (a wider interval).
        Err(_) => vec![0.0; dim],
    };
    cells
        .iter()
        .zip(x)
        .zip(pi)
        .map(|((c, xc), &p)| {
            let ch = dot(&h, xc);
            let silent = (c.invited - c.answers.n()) as f64 * (p * ch).powi(2);
            let a = &c.answers;
            let answered: f64 = [(1.0, a.promoters), (0.0, a.passives), (-1.0, a.detractors)]
                .iter()
                .map(|&(y, k)| k as f64 * ((y - theta) / p - (1.0 - p) * ch).powi(2))
                .sum();
            silent + answered
        })
        .sum()
}

fn expit(eta: f64) -> f64 {
    1.0 / (1.0 + (-eta).exp())
}
