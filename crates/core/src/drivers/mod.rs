//! Driver analysis: how much each predictor (satisfaction with a touchpoint, an attribute)
//! contributes to explaining an outcome (overall satisfaction, recommendation, churn),
//! with bootstrap intervals.
//!
//! The importance of a predictor is its share of the model's R² (linear model) or
//! McFadden pseudo-R² (logistic model), split either exactly by general dominance — the
//! Shapley value of R² over all 2^p subsets, up to [`MAX_SHAPLEY_PREDICTORS`] — or by
//! Johnson's relative weights, which approximate it for any number of predictors.
//! [`analyse`] runs the whole analysis; the pieces ([`ols`], [`logistic`],
//! [`general_dominance`], [`relative_weights`], [`bootstrap`]) are usable alone.
//!
//! Cost. A linear analysis reads the data once per [`bootstrap`] batch of four resamples
//! (their weighted cross-products together); everything else works on the (p + 1)²
//! correlation matrix. 1M rows × 15 predictors × 200 resamples take about 11 CPU-seconds
//! (release build; resamples run in parallel, so about half that on two free cores) and
//! n × (p + 1) × 8 bytes for a copy of the data. A logistic analysis fits by Newton's
//! method, several passes over the data per fit, and Shapley needs all 2^p − 1 subset fits
//! per resample: roughly n × 2^p × p² × 6 operations each, so for large n × 2^p prefer
//! relative weights (one fit per resample) or fewer resamples. Where consecutive rows agree
//! on some columns (0/1 predictors of data sorted by them), passes go by runs of such rows
//! and cost per row only the other columns' products: 194,000 weighted rows sorted by 13 of
//! 15 predictors, a logistic fit with relative weights and 200 resamples, take about 10
//! CPU-seconds. Resamples that cannot be fitted (separation, a predictor constant in the
//! resample) are left out and counted.

mod analysis;
pub mod bootstrap;
mod crossprod;
mod data;
mod dominance;
mod dropout;
mod joint;
mod logistic;
pub mod matrix;
mod regression;
mod relative_weights;
mod runs;

pub use analysis::{Analysis, Driver, analyse};
pub use data::{Column, Dataset};
pub use dominance::{MAX_SHAPLEY_PREDICTORS, general_dominance, weights_from_table};
pub use dropout::{DropoutEffect, DropoutFit, DropoutPrior, TripContext, fit_dropout};
pub use joint::analyse_with_dropout;
pub use logistic::{Logistic, logistic};
pub use regression::{Coefficient, Ols, ols};
pub use relative_weights::{logistic_relative_weights, relative_weights};

use serde::{Deserialize, Serialize};

/// Bad input to a driver analysis, or a model that cannot be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DriverError {
    #[error("no predictors: a driver analysis needs at least one")]
    NoPredictors,
    #[error("{rows} rows for {predictors} predictors: needs at least predictors + 2 rows")]
    TooFewRows { rows: usize, predictors: usize },
    #[error("column {column} has {len} values but the outcome has {expected}")]
    LengthMismatch {
        column: String,
        len: usize,
        expected: usize,
    },
    #[error("column {column} has a value that is not a finite number at index {row}")]
    NonFinite { column: String, row: usize },
    #[error("a logistic outcome must be 0 or 1, found {value} at index {row}")]
    NotBinary { row: usize, value: f64 },
    #[error("the outcome is constant: there is nothing to explain")]
    ConstantOutcome,
    #[error("predictor {0} is constant: it cannot explain anything; remove it")]
    ConstantPredictor(String),
    #[error("predictor {0} is a linear combination of the predictors before it; remove one")]
    Collinear(String),
    #[error(
        "perfect separation: {0} (alone or with others) predicts the outcome perfectly, so \
         its odds ratio is infinite; remove it or merge its categories"
    )]
    Separation(String),
    #[error("the dropout model cannot be fitted: {0}")]
    Dropout(&'static str),
    #[error("the logistic fit did not converge in {iterations} iterations")]
    NotConverged { iterations: usize },
    #[error(
        "{predictors} predictors are too many for an exact Shapley decomposition (at most \
         15, 2^15 subsets); use relative weights"
    )]
    TooManyForShapley { predictors: usize },
    #[error("confidence level {0} must be strictly between 0 and 1")]
    InvalidLevel(f64),
}

/// How importance is split between predictors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Shapley up to [`MAX_SHAPLEY_PREDICTORS`] predictors, relative weights beyond.
    Auto,
    /// Exact general dominance (Shapley value) of the fit statistic.
    Shapley,
    /// Johnson's relative weights.
    RelativeWeights,
}

impl Method {
    /// The method's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Method::Auto => "chosen by the number of predictors",
            Method::Shapley => "Shapley values (general dominance)",
            Method::RelativeWeights => "relative weights (Johnson)",
        }
    }

    /// The method used for `p` predictors: `Auto` resolved; Shapley beyond the limit is an
    /// error.
    pub fn resolve(self, p: usize) -> Result<Method, DriverError> {
        match self {
            Method::Auto if p <= MAX_SHAPLEY_PREDICTORS => Ok(Method::Shapley),
            Method::Auto => Ok(Method::RelativeWeights),
            Method::Shapley if p > MAX_SHAPLEY_PREDICTORS => {
                Err(DriverError::TooManyForShapley { predictors: p })
            }
            m => Ok(m),
        }
    }
}

/// The regression model of the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// Least squares; importance splits R².
    Linear,
    /// Logistic regression of a 0/1 outcome; importance splits McFadden's pseudo-R².
    Logistic,
}

impl Model {
    /// The model's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Model::Linear => "linear regression",
            Model::Logistic => "logistic regression",
        }
    }
}

/// Choices of a driver analysis (defaults: auto method, linear model, 200 resamples,
/// seed 1, 95% intervals, 2 threads).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    pub method: Method,
    pub model: Model,
    /// Bootstrap resamples; 0 for none (Wald intervals for coefficients only).
    pub resamples: usize,
    pub seed: u64,
    /// Confidence level of the intervals.
    pub level: f64,
    /// Threads for the bootstrap; results do not depend on it.
    pub threads: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            method: Method::Auto,
            model: Model::Linear,
            resamples: 200,
            seed: 1,
            level: 0.95,
            threads: 2,
        }
    }
}
