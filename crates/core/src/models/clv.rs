//! Discounted customer lifetime value and customer equity.
//!
//! Method: the future is cut into `periods` periods of `period_length` model time units.
//! The expected transactions in period k are E[Y(k·u) | history] − E[Y((k−1)·u) | history]
//! (the model's conditional expectation, u = `period_length`); each is valued at the
//! customer's expected spend per transaction (e.g. the Gamma-Gamma conditional mean) and
//! discounted by (1 + d)^−k, i.e. cash arrives at the end of its period. Margins, if any,
//! belong in the spend. CLV here is residual value from the end of the calibration period.

use super::{Rfm, TransactionModel};
use serde::{Deserialize, Serialize};

/// Horizon, period length and discount rate for CLV.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClvSpec {
    /// Length of one discounting period in the model's time unit (e.g. 52/12 for months
    /// when the model is in weeks).
    pub period_length: f64,
    /// Number of future periods summed.
    pub periods: u32,
    /// Discount rate per period (e.g. 0.01 per month).
    pub discount_rate: f64,
}

/// Discounted expected value of `customer`'s future transactions, each worth `spend`.
pub fn clv<M: TransactionModel + ?Sized>(
    model: &M,
    customer: &Rfm,
    spend: f64,
    spec: &ClvSpec,
) -> f64 {
    let mut value = 0.0;
    let mut before = 0.0;
    let mut discount = 1.0;
    for k in 1..=spec.periods {
        let cumulative = model.expected_conditional(customer, k as f64 * spec.period_length);
        discount /= 1.0 + spec.discount_rate;
        value += (cumulative - before) * discount;
        before = cumulative;
    }
    value * spend
}

/// Customer equity: Σ weight · CLV over `(pattern, expected spend)` pairs.
pub fn customer_equity<M: TransactionModel + ?Sized>(
    model: &M,
    customers: &[(Rfm, f64)],
    spec: &ClvSpec,
) -> f64 {
    customers
        .iter()
        .map(|(c, spend)| c.weight * clv(model, c, *spend, spec))
        .sum()
}
