//! Post-stratification: each cell's answers stand for the cell's invited,
//!
//! θ̂ = Σ_c N_c ȳ_c / Σ_c N_c  over the cells with a responder,
//!
//! with the variance Σ_c (N_c / N)² Σ_{i∈c} (yᵢ − ȳ_c)² / r_c² (the cells' shares of the
//! invited are known, not estimated). Exact where every cell is well filled; the invited
//! of cells without a responder cannot be represented and are counted as such.

use super::{Method, Population, Weighted, WeightingError, net};
use crate::stats::Settings;

/// The NPS of the invited population by post-stratification on every combination of the
/// covariates' levels. Errors as [`super::inverse_propensity`] for the data; no model.
pub fn post_stratified(p: &Population, s: &Settings) -> Result<Weighted, WeightingError> {
    let prepared = p.prepared()?;
    let cells = &prepared.cells;
    let represented: f64 = (cells.iter())
        .filter(|c| c.answers.n() > 0)
        .map(|c| c.invited as f64)
        .sum();
    let (mut theta, mut variance) = (0.0, 0.0);
    let mut weights = Vec::with_capacity(cells.len());
    for c in cells {
        let r = c.answers.n() as f64;
        weights.push(c.invited as f64 / r.max(1.0));
        if r == 0.0 {
            continue;
        }
        let share = c.invited as f64 / represented;
        let mean = net(&c.answers) / r;
        let squares = (c.answers.promoters + c.answers.detractors) as f64 - r * mean * mean;
        theta += share * mean;
        variance += share * share * squares.max(0.0) / (r * r);
    }
    prepared.weighted(
        p,
        Method::PostStratification,
        (theta, variance),
        &weights,
        s,
    )
}
