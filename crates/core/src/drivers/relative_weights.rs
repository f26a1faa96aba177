//! Johnson's (2000) relative weights: the predictors' correlation matrix R = Λ², Λ = R^½
//! (symmetric root), the orthonormal variables Z = X Λ⁻¹ closest to the standardised
//! predictors; the outcome's regression on Z gives β, and predictor j's raw weight is
//! Σₖ Λⱼₖ² βₖ². Each column of Λ has unit sum of squares, so the weights sum to Σ βₖ² = R².
//! Cheap for any number of predictors: one p × p eigen-decomposition.

use super::matrix::{Matrix, scaled_outer};

/// Raw relative weights of the predictors with correlation matrix `corr` for a linear
/// model of an outcome with correlations `r_xy` with them; they sum to the model's R².
/// `corr` must be positive definite.
pub fn relative_weights(corr: &Matrix, r_xy: &[f64]) -> Vec<f64> {
    let (lambda, values, vectors) = corr.symmetric_sqrt();
    // β = Λ⁻¹ r_xy, Λ⁻¹ = V diag(λ^−½) Vᵀ.
    let inv_roots: Vec<f64> = values.iter().map(|l| 1.0 / l.max(1e-300).sqrt()).collect();
    let beta = scaled_outer(&vectors, &inv_roots).mul_vec(r_xy);
    weights(&lambda, &beta)
}

/// Relative weights for a logistic model (Tonidandel & LeBreton 2010): its slopes on the
/// standardised predictors `standardised` become slopes on Z as Λ·β; those are rescaled
/// so that their squares sum to the model's pseudo-R² `r2`, then weighted as for a linear
/// model. The weights sum to `r2`.
pub fn logistic_relative_weights(corr: &Matrix, standardised: &[f64], r2: f64) -> Vec<f64> {
    let (lambda, _, _) = corr.symmetric_sqrt();
    let on_z = lambda.mul_vec(standardised);
    let total: f64 = on_z.iter().map(|b| b * b).sum();
    let scale = if total > 0.0 {
        (r2 / total).sqrt()
    } else {
        0.0
    };
    let beta: Vec<f64> = on_z.iter().map(|b| b * scale).collect();
    weights(&lambda, &beta)
}

/// Σₖ Λⱼₖ² βₖ² for each j.
fn weights(lambda: &Matrix, beta: &[f64]) -> Vec<f64> {
    (0..lambda.size())
        .map(|j| {
            lambda
                .row(j)
                .iter()
                .zip(beta)
                .map(|(l, b)| l * l * b * b)
                .sum()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncorrelated_predictors_get_their_squared_correlations() {
        let w = relative_weights(&Matrix::identity(3), &[0.5, -0.3, 0.1]);
        for (a, b) in w.iter().zip([0.25, 0.09, 0.01]) {
            assert!((a - b).abs() < 1e-14);
        }
        let w = logistic_relative_weights(&Matrix::identity(2), &[2.0, 1.0], 0.5);
        assert!((w[0] - 0.4).abs() < 1e-14 && (w[1] - 0.1).abs() < 1e-14);
    }
}
