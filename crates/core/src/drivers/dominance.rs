//! General dominance (Budescu 1993; Azen & Budescu 2003), which is the Shapley value of
//! the fit statistic: each predictor's increments to the statistic, averaged within each
//! subset size and then over sizes. The weights sum to the statistic of the full model.

use super::DriverError;

/// The most predictors an exact decomposition takes (2^15 = 32,768 subsets).
pub const MAX_SHAPLEY_PREDICTORS: usize = 15;

/// General dominance weights of `p` predictors for the statistic `fit(mask)` of each
/// subset (bit j of `mask` set = predictor j in), which is called once per subset in
/// increasing mask order, starting with the non-empty ones (the empty subset scores 0), so
/// a subset's parent `mask` without its highest bit has always been fitted before it.
pub fn general_dominance(
    p: usize,
    mut fit: impl FnMut(u32) -> Result<f64, DriverError>,
) -> Result<Vec<f64>, DriverError> {
    if p > MAX_SHAPLEY_PREDICTORS {
        return Err(DriverError::TooManyForShapley { predictors: p });
    }
    let mut table = vec![0.0; 1 << p];
    for mask in 1..1u32 << p {
        table[mask as usize] = fit(mask)?;
    }
    Ok(weights_from_table(p, &table))
}

/// General dominance weights from the statistic of every subset, indexed by bit mask:
/// weight_j = Σ_{S ∌ j} |S|! (p − |S| − 1)! / p! · (f(S ∪ j) − f(S)).
pub fn weights_from_table(p: usize, table: &[f64]) -> Vec<f64> {
    assert_eq!(table.len(), 1 << p, "one statistic per subset");
    // 1 / (p · C(p − 1, k)) for each size k.
    let mut per_size = vec![0.0; p];
    let mut choose = 1.0;
    for (k, w) in per_size.iter_mut().enumerate() {
        *w = 1.0 / (p as f64 * choose);
        choose *= (p - 1 - k) as f64 / (k + 1) as f64;
    }
    let mut weights = vec![0.0; p];
    for (mask, f) in table.iter().enumerate() {
        let w = per_size
            .get(mask.count_ones() as usize)
            .copied()
            .unwrap_or(0.0);
        for (j, weight) in weights.iter_mut().enumerate() {
            if mask >> j & 1 == 0 {
                *weight += w * (table[mask | 1 << j] - f);
            }
        }
    }
    weights
}

/// The predictors (indices) in `mask`, increasing.
pub(crate) fn members(mask: u32) -> Vec<usize> {
    (0..32).filter(|j| mask >> j & 1 == 1).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn additive_statistic_splits_exactly() {
        // f(S) = Σ_{j∈S} c_j: each weight is c_j.
        let c = [0.1, 0.25, 0.05, 0.3];
        let w = general_dominance(4, |mask| Ok(members(mask).iter().map(|&j| c[j]).sum())).unwrap();
        for (a, b) in w.iter().zip(&c) {
            assert!((a - b).abs() < 1e-15);
        }
    }

    #[test]
    fn two_predictors_share_the_interaction_equally() {
        // f({0}) = 0.2, f({1}) = 0.1, f({0,1}) = 0.5: w0 = (0.2 + 0.4)/2, w1 = (0.1 + 0.3)/2.
        let w = weights_from_table(2, &[0.0, 0.2, 0.1, 0.5]);
        assert!((w[0] - 0.3).abs() < 1e-15 && (w[1] - 0.2).abs() < 1e-15);
        let err = general_dominance(16, |_| Ok(0.0)).unwrap_err();
        assert!(err.to_string().contains("relative weights"), "{err}");
    }
}
