//! Who answers: each covariate level's share among responders and among non-responders,
//! and its response rate, with Wilson intervals.

use serde::Serialize;

use super::{Population, WeightingError, totals};
use crate::stats::{Estimate, Settings, share};

/// One level of a covariate among the invited.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelShares {
    pub covariate: String,
    pub level: String,
    pub invited: u64,
    pub responded: u64,
    /// The level's share of the responders (a fraction).
    pub among_responders: Option<Estimate>,
    /// The level's share of the invited who did not respond (a fraction).
    pub among_non_responders: Option<Estimate>,
    /// responded / invited (a fraction).
    pub response_rate: Option<Estimate>,
}

/// Every covariate level that some invited unit has, covariate by covariate. Errors as
/// the estimators do for cells that do not match the covariates or without a responder.
pub fn profile(p: &Population, s: &Settings) -> Result<Vec<LevelShares>, WeightingError> {
    let cells = p.checked()?;
    let (invited, responded) = totals(&cells);
    let mut rows = Vec::new();
    for (k, c) in p.covariates.iter().enumerate() {
        let mut counts = vec![(0u64, 0u64); c.levels.len()];
        for cell in &cells {
            let entry = &mut counts[cell.levels[k]];
            entry.0 += cell.invited;
            entry.1 += cell.answers.n();
        }
        for (level, &(i, r)) in c.levels.iter().zip(&counts) {
            if i == 0 {
                continue;
            }
            rows.push(LevelShares {
                covariate: c.name.clone(),
                level: level.clone(),
                invited: i,
                responded: r,
                among_responders: share(r, responded, s),
                among_non_responders: share(i - r, invited - responded, s),
                response_rate: share(r, i, s),
            });
        }
    }
    Ok(rows)
}
