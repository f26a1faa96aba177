//! The NPS of everyone invited to a survey, estimated from those who answered: who answers
//! against who does not, on what is known of both, and the answers re-weighted to the
//! invited population — by inverse response-propensity weights ([`propensity`]) or by
//! post-stratification ([`strata`]).
//!
//! The invited units come as [`Cell`]s: units with equal values of every categorical
//! covariate, with how many were invited and the NPS answers of those who responded. Cells
//! are what leaves a query engine, so the estimators cost one pass over the cells however
//! many units there are. Both estimators assume that answers are missing at random given
//! the covariates: within a cell, those who answer think like those who do not.

mod profile;
mod propensity;
mod strata;

pub use profile::{LevelShares, profile};
pub use propensity::{Propensity, Term, inverse_propensity};
pub use strata::post_stratified;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Estimate, NpsCounts, Scale, Settings, StatsError};
use crate::drivers::DriverError;

/// Why the NPS cannot be re-weighted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WeightingError {
    #[error("nobody was invited: there is no population to weight to")]
    NoInvited,
    #[error("nobody of the {invited} invited answered: there is nothing to weight")]
    NoResponders { invited: u64 },
    #[error(
        "everyone invited answered ({invited}): the answers are the population, nothing to \
         correct"
    )]
    EveryoneResponded { invited: u64 },
    #[error("cell {cell} has {answers} answers from {invited} invited: cannot be more")]
    MoreAnswersThanInvited {
        cell: usize,
        answers: u64,
        invited: u64,
    },
    #[error("cell {cell} has {got} covariate values for {expected} covariates")]
    CellShape {
        cell: usize,
        got: usize,
        expected: usize,
    },
    #[error("cell {cell} has level {level} of {covariate}, which has {levels} levels")]
    UnknownLevel {
        cell: usize,
        covariate: String,
        level: usize,
        levels: usize,
    },
    #[error(
        "no covariate takes two values among the invited ({constant}): nothing tells \
         responders from non-responders"
    )]
    NothingVaries { constant: String },
    #[error("cell {cell} has {invited} invited units, more than a fit can count")]
    CellTooLarge { cell: usize, invited: u64 },
    #[error("the response model cannot be fitted: {0}")]
    Model(#[from] DriverError),
    #[error(transparent)]
    Stats(#[from] StatsError),
}

/// A categorical covariate known of every invited unit, with its levels' names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Covariate {
    pub name: String,
    pub levels: Vec<String>,
}

/// Invited units with equal covariates: `levels[k]` indexes covariate k's levels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub levels: Vec<usize>,
    pub invited: u64,
    /// The NPS answers of the cell's responders (at most one per unit).
    pub answers: NpsCounts,
}

/// Everyone invited, as covariates and cells.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Population {
    pub covariates: Vec<Covariate>,
    pub cells: Vec<Cell>,
}

/// How the answers were weighted to the invited population.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Inverse response-propensity weights from a logistic model (Hájek).
    InversePropensity,
    /// Each cell's answers weighted to the cell's share of the invited.
    PostStratification,
}

impl Method {
    /// The method's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Method::InversePropensity => "inverse response-propensity weights",
            Method::PostStratification => "post-stratification",
        }
    }
}

/// The NPS weighted to the invited population.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Weighted {
    pub method: Method,
    /// On −100…100; n is the responders, the interval accounts for the weights.
    pub nps: Estimate,
    /// Kish's effective sample size, (Σw)² / Σw², over the responders.
    pub effective_n: f64,
    /// The largest weight over the mean weight of the responders.
    pub max_weight_ratio: f64,
    pub invited: u64,
    pub responded: u64,
    /// The covariates weighted on.
    pub covariates: Vec<String>,
    /// Covariates left out because every invited unit has the same value.
    pub constant: Vec<String>,
    /// Invited units in cells without a responder: post-stratification cannot represent
    /// them; propensity weights reach them through the model.
    pub unrepresented: u64,
}

impl Population {
    /// Checks the cells against the covariates and merges cells with equal levels.
    pub(super) fn checked(&self) -> Result<Vec<Cell>, WeightingError> {
        let mut merged: BTreeMap<&[usize], Cell> = BTreeMap::new();
        for (i, cell) in self.cells.iter().enumerate() {
            if cell.levels.len() != self.covariates.len() {
                return Err(WeightingError::CellShape {
                    cell: i,
                    got: cell.levels.len(),
                    expected: self.covariates.len(),
                });
            }
            for (c, &level) in self.covariates.iter().zip(&cell.levels) {
                if level >= c.levels.len() {
                    return Err(WeightingError::UnknownLevel {
                        cell: i,
                        covariate: c.name.clone(),
                        level,
                        levels: c.levels.len(),
                    });
                }
            }
            if cell.answers.n() > cell.invited {
                return Err(WeightingError::MoreAnswersThanInvited {
                    cell: i,
                    answers: cell.answers.n(),
                    invited: cell.invited,
                });
            }
            let into = merged.entry(&cell.levels).or_insert_with(|| Cell {
                levels: cell.levels.clone(),
                invited: 0,
                answers: NpsCounts::default(),
            });
            into.invited += cell.invited;
            into.answers.merge(&cell.answers);
        }
        let cells: Vec<Cell> = merged.into_values().filter(|c| c.invited > 0).collect();
        let (invited, responded) = totals(&cells);
        match (invited, responded) {
            (0, _) => Err(WeightingError::NoInvited),
            (_, 0) => Err(WeightingError::NoResponders { invited }),
            (i, r) if i == r => Err(WeightingError::EveryoneResponded { invited }),
            _ => Ok(cells),
        }
    }

    /// The checked cells and the covariates with at least two levels among the invited
    /// (`NothingVaries` without any).
    pub(super) fn prepared(&self) -> Result<Prepared, WeightingError> {
        let cells = self.checked()?;
        let (mut varying, mut constant) = (Vec::new(), Vec::new());
        for (k, c) in self.covariates.iter().enumerate() {
            let first = cells[0].levels[k];
            match cells.iter().any(|cell| cell.levels[k] != first) {
                true => varying.push(k),
                false => constant.push(c.name.clone()),
            }
        }
        if varying.is_empty() {
            return Err(WeightingError::NothingVaries {
                constant: constant.join(", "),
            });
        }
        Ok(Prepared {
            cells,
            varying,
            constant,
        })
    }
}

/// A population ready to weight: its cells, the covariates that vary and those that don't.
pub(super) struct Prepared {
    pub cells: Vec<Cell>,
    /// Indices of the covariates that vary.
    pub varying: Vec<usize>,
    /// Names of those that don't.
    pub constant: Vec<String>,
}

impl Prepared {
    /// The weighted NPS from θ̂ and its variance (−1…1 units) and each cell's weight per
    /// responder.
    pub fn weighted(
        self,
        p: &Population,
        method: Method,
        (theta, variance): (f64, f64),
        weights: &[f64],
        s: &Settings,
    ) -> Result<Weighted, WeightingError> {
        let half = s.z()? * variance.sqrt();
        let (invited, responded) = totals(&self.cells);
        let (effective_n, max_weight_ratio) = kish(
            weights
                .iter()
                .zip(&self.cells)
                .map(|(w, c)| (*w, c.answers.n())),
        );
        let interval = Some((theta - half, theta + half));
        Ok(Weighted {
            method,
            nps: Estimate::new(responded, theta, interval, Scale::Nps, s),
            effective_n,
            max_weight_ratio,
            invited,
            responded,
            covariates: (self.varying.iter())
                .map(|&k| p.covariates[k].name.clone())
                .collect(),
            constant: self.constant,
            unrepresented: (self.cells.iter())
                .filter(|c| c.answers.n() == 0)
                .map(|c| c.invited)
                .sum(),
        })
    }
}

/// Invited and responders over cells.
fn totals(cells: &[Cell]) -> (u64, u64) {
    cells
        .iter()
        .fold((0, 0), |(i, r), c| (i + c.invited, r + c.answers.n()))
}

/// Promoters − detractors of a cell's answers: its sum of answers on −1…1.
fn net(c: &NpsCounts) -> f64 {
    c.promoters as f64 - c.detractors as f64
}

/// Kish's effective size and the largest over the mean weight, from (weight, count) pairs.
fn kish(weights: impl Iterator<Item = (f64, u64)> + Clone) -> (f64, f64) {
    let used = weights.filter(|&(_, k)| k > 0);
    let (n, sum, squares, max) = used.fold((0.0, 0.0, 0.0, 0.0f64), |acc, (w, k)| {
        let k = k as f64;
        (acc.0 + k, acc.1 + k * w, acc.2 + k * w * w, acc.3.max(w))
    });
    (sum * sum / squares, max / (sum / n))
}

#[cfg(test)]
mod tests;
