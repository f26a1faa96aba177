//! Post-stratification: each cell's answers stand for the cell's invited,
//!
//! θ̂ = Σ_c N_c ȳ_c / Σ_c N_c  over the cells with a responder,
//!
//! with the variance Σ_c (N_c / N)² Σ_{i∈c} (yᵢ − ȳ_c)² / r_c² (the cells' shares of the
//! invited are known, not estimated). Exact where every cell is well filled; the invited
//! of cells without a responder cannot be represented and are counted as such.

use super::{Method, Population, Weighted, WeightingError, kish, net};
use crate::stats::{Estimate, Scale, Settings};

/// The NPS of the invited population by post-stratification on every combination of the
/// covariates' levels. Errors as [`super::inverse_propensity`] for the data; no model.
pub fn post_stratified(p: &Population, s: &Settings) -> Result<Weighted, WeightingError> {
    let cells = p.checked()?;
    let (varying, constant) = p.varying(&cells);
    if varying.is_empty() {
        return Err(WeightingError::NothingVaries {
            constant: constant.join(", "),
        });
    }
    let (answered, silent): (Vec<_>, Vec<_>) = cells.iter().partition(|c| c.answers.n() > 0);
    let unrepresented: u64 = silent.iter().map(|c| c.invited).sum();
    let represented: f64 = answered.iter().map(|c| c.invited as f64).sum();
    let mut theta = 0.0;
    let mut variance = 0.0;
    for c in &answered {
        let (share, r) = (c.invited as f64 / represented, c.answers.n() as f64);
        let mean = net(&c.answers) / r;
        let squares = (c.answers.promoters + c.answers.detractors) as f64 - r * mean * mean;
        theta += share * mean;
        variance += share * share * squares.max(0.0) / (r * r);
    }
    let half = s.z()? * variance.sqrt();
    let responded = answered.iter().map(|c| c.answers.n()).sum();
    let (effective_n, max_weight_ratio) = kish(
        answered
            .iter()
            .map(|c| (c.invited as f64 / c.answers.n() as f64, c.answers.n())),
    );
    Ok(Weighted {
        method: Method::PostStratification,
        nps: Estimate::new(
            responded,
            theta,
            Some((theta - half, theta + half)),
            Scale::Nps,
            s,
        ),
        effective_n,
        max_weight_ratio,
        invited: represented as u64 + unrepresented,
        responded,
        covariates: varying
            .iter()
            .map(|&k| p.covariates[k].name.clone())
            .collect(),
        constant,
        unrepresented,
    })
}
