//! Customer-base models fitted by maximum likelihood: BG/NBD, MBG/NBD, Pareto/NBD
//! (non-contractual transactions), shifted-beta-geometric (contractual renewals) and
//! Gamma-Gamma (spend), with per-customer predictions and discounted CLV.
//!
//! Every model fits on compressed, weighted unique patterns ([`compress_rfm`],
//! [`compress_spend`]); times are in whatever unit the caller chose (CDNOW: weeks), and
//! the scale parameters (α, β, γ) are in that unit.

mod bgnbd;
mod clv;
mod data;
mod fit;
mod gamma_gamma;
mod mbgnbd;
pub(crate) mod optim;
mod pnbd;
mod sbg;
mod select;
pub mod special;
mod validation;

pub use bgnbd::BgNbd;
pub use clv::{
    ClvSpec, PatternValue, clv, customer_equity, dert_by_quadrature, discounted_if_alive,
    pattern_values,
};
pub use data::{Rfm, SpendPattern, Tenure, compress_rfm, compress_spend};
pub use fit::{Fit, FitOptions, ParamMap};
pub use gamma_gamma::GammaGamma;
pub use mbgnbd::MbgNbd;
pub use pnbd::ParetoNbd;
pub use sbg::Sbg;
pub use select::{AnyTransactionModel, fit_transactions, transactions_from_fit};
pub use validation::{FrequencyRow, Holdout, by_frequency, cumulative_expected};

use serde::{Deserialize, Serialize};

/// Which model a [`Fit`] belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ModelKind {
    /// BG/NBD, Fader, Hardie & Lee (2005).
    #[serde(rename = "bgnbd")]
    BgNbd,
    /// MBG/NBD, Batislam, Denizel & Filiztekin (2007).
    #[serde(rename = "mbgnbd")]
    MbgNbd,
    /// Pareto/NBD, Schmittlein, Morrison & Colombo (1987).
    #[serde(rename = "pnbd")]
    ParetoNbd,
    /// Shifted-beta-geometric, Fader & Hardie (2007).
    #[serde(rename = "sbg")]
    Sbg,
    /// Gamma-Gamma spend, Fader, Hardie & Lee (2005).
    #[serde(rename = "gamma_gamma")]
    GammaGamma,
}

impl ModelKind {
    /// The model's name for people, as published.
    pub fn label(self) -> &'static str {
        match self {
            ModelKind::BgNbd => "BG/NBD",
            ModelKind::MbgNbd => "MBG/NBD",
            ModelKind::ParetoNbd => "Pareto/NBD",
            ModelKind::Sbg => "shifted-beta-geometric",
            ModelKind::GammaGamma => "Gamma-Gamma",
        }
    }
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            ModelKind::BgNbd => "bgnbd",
            ModelKind::MbgNbd => "mbgnbd",
            ModelKind::ParetoNbd => "pnbd",
            ModelKind::Sbg => "sbg",
            ModelKind::GammaGamma => "gamma_gamma",
        };
        f.write_str(name)
    }
}

/// Why a model could not be fitted or loaded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// The input patterns break the model's data rules.
    #[error("invalid model input: {0}")]
    InvalidData(String),
    /// The likelihood was not finite at any starting value.
    #[error("the likelihood is not finite at any starting value")]
    NotFinite,
    /// A fit of another model was given.
    #[error("expected a {expected} fit, found {found}")]
    WrongModel {
        /// The model asked for.
        expected: ModelKind,
        /// The model of the fit given.
        found: ModelKind,
    },
    /// A parameter is missing from a fit.
    #[error("fit has no parameter {0}")]
    MissingParam(String),
}

/// Predictions shared by the non-contractual transaction models (BG/NBD, MBG/NBD,
/// Pareto/NBD). Times are in the model's time unit.
pub trait TransactionModel {
    /// P(alive at T | x, t_x, T).
    fn p_alive(&self, c: &Rfm) -> f64;
    /// E[Y(t) | alive at T]: expected transactions in (T, T + t] of a customer still alive
    /// at the end of calibration after `x` repeat purchases at age `age` (= T); t_x only
    /// matters through P(alive).
    fn expected_if_alive(&self, x: f64, age: f64, t: f64) -> f64;
    /// E[Y(t) | x, t_x, T] = P(alive) · E[Y(t) | alive at T]: expected transactions in
    /// (T, T + t].
    fn expected_conditional(&self, c: &Rfm, t: f64) -> f64 {
        self.p_alive(c) * self.expected_if_alive(c.x, c.t, t)
    }
    /// E[X(t)]: expected transactions of a new customer in (0, t].
    fn expected_unconditional(&self, t: f64) -> f64;
    /// P(X(t) = n): probability that a new customer makes `n` transactions in (0, t].
    fn prob_n(&self, n: u32, t: f64) -> f64;
    /// P(Y(t) = n | alive at T): probability of exactly `n` transactions in (T, T + t] of
    /// a customer still alive at the end of calibration after `x` repeat purchases at age
    /// `age`. Alive at T, the customer is a new one of the posterior population, so it is
    /// [`Self::prob_n`] at the posterior parameters.
    fn prob_n_if_alive(&self, n: u32, x: f64, age: f64, t: f64) -> f64;
    /// P(Y(t) = n | x, t_x, T) = P(alive) · P(Y(t) = n | alive) + (1 − P(alive)) · [n = 0].
    fn prob_n_conditional(&self, c: &Rfm, n: u32, t: f64) -> f64 {
        let alive = self.p_alive(c);
        let dead = if n == 0 { 1.0 - alive } else { 0.0 };
        alive * self.prob_n_if_alive(n, c.x, c.t, t) + dead
    }
    /// Discounted expected residual transactions (DERT) of a customer alive at T after `x`
    /// repeat purchases at age `age`: the purchases of the rest of their lifetime, each
    /// discounted continuously at rate `delta` (> 0) per time unit. By default
    /// [`dert_by_quadrature`]; models with a closed form override it.
    fn dert_if_alive(&self, x: f64, age: f64, delta: f64) -> f64 {
        dert_by_quadrature(self, x, age, delta)
    }
    /// DERT given the history: P(alive) · [`Self::dert_if_alive`]. Times the expected spend
    /// per transaction it is the customer's residual lifetime value.
    fn dert(&self, c: &Rfm, delta: f64) -> f64 {
        self.p_alive(c) * self.dert_if_alive(c.x, c.t, delta)
    }
    /// Total log-likelihood of the patterns at these parameters.
    fn log_likelihood(&self, data: &[Rfm]) -> f64;
}

#[cfg(test)]
mod tests;
