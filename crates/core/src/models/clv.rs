//! Discounted customer lifetime value and customer equity.
//!
//! Method: the future is cut into `periods` periods of `period_length` model time units.
//! The expected transactions in period k are E[Y(k·u) | history] − E[Y((k−1)·u) | history]
//! (the model's conditional expectation, u = `period_length`); each is valued at the
//! customer's expected spend per transaction (e.g. the Gamma-Gamma conditional mean) and
//! discounted by (1 + d)^−k, i.e. cash arrives at the end of its period. Margins, if any,
//! belong in the spend. CLV here is residual value from the end of the calibration period.

use super::special::gauss_legendre;
use super::{Rfm, TransactionModel};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

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

/// Discounted expected value of `customer`'s future transactions, each worth `spend`:
/// P(alive) times the discounted transactions of a customer alive at T.
pub fn clv<M: TransactionModel + ?Sized>(
    model: &M,
    customer: &Rfm,
    spend: f64,
    spec: &ClvSpec,
) -> f64 {
    model.p_alive(customer) * discounted_if_alive(model, customer.x, customer.t, spec) * spend
}

/// Σ_k (1 + d)^−k · (expected transactions in period k) of a customer alive at the end of
/// calibration after `x` repeat purchases at age `age`.
pub fn discounted_if_alive<M: TransactionModel + ?Sized>(
    model: &M,
    x: f64,
    age: f64,
    spec: &ClvSpec,
) -> f64 {
    let mut value = 0.0;
    let mut before = 0.0;
    let mut discount = 1.0;
    for k in 1..=spec.periods {
        let cumulative = model.expected_if_alive(x, age, k as f64 * spec.period_length);
        discount /= 1.0 + spec.discount_rate;
        value += (cumulative - before) * discount;
        before = cumulative;
    }
    value
}

/// DERT of a customer alive at T from the model's expectations alone: integrating by
/// parts, ∫₀^∞ e^(−δt) dE[Y(t) | alive] = ∫₀^∞ e^(−u) E[Y(u/δ) | alive] du, by
/// Gauss–Legendre quadrature on panels of u doubling from [0, ½] to [16, 32] (the rest
/// weighs about e^(−32) ≈ 1e-14 relative). `delta` must be positive.
pub fn dert_by_quadrature<M: TransactionModel + ?Sized>(
    model: &M,
    x: f64,
    age: f64,
    delta: f64,
) -> f64 {
    let mut total = 0.0;
    let mut lo = 0.0;
    let mut hi = 0.5;
    while hi <= 32.0 {
        let (mid, half) = (0.5 * (lo + hi), 0.5 * (hi - lo));
        for &(node, weight) in gauss_legendre() {
            let u = mid + half * node;
            total += half * weight * (-u).exp() * model.expected_if_alive(x, age, u / delta);
        }
        (lo, hi) = (hi, 2.0 * hi);
    }
    total
}

/// One pattern's prediction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PatternValue {
    /// P(alive at T).
    pub p_alive: f64,
    /// Expected transactions over the horizon.
    pub expected: f64,
    /// CLV per unit of spend per transaction.
    pub clv_per_spend: f64,
}

/// [`PatternValue`]s of `patterns`, in order, over `horizon` and `spec`. What a customer
/// alive at T will do depends only on (x, T), so it is computed once per distinct pair and
/// scaled by each pattern's P(alive).
pub fn pattern_values<M: TransactionModel + ?Sized>(
    model: &M,
    patterns: &[Rfm],
    horizon: f64,
    spec: &ClvSpec,
) -> Vec<PatternValue> {
    let mut if_alive: HashMap<(u64, u64), (f64, f64)> = HashMap::new();
    patterns
        .iter()
        .map(|c| {
            let (expected, discounted) = *if_alive
                .entry((c.x.to_bits(), c.t.to_bits()))
                .or_insert_with(|| {
                    (
                        model.expected_if_alive(c.x, c.t, horizon),
                        discounted_if_alive(model, c.x, c.t, spec),
                    )
                });
            let p_alive = model.p_alive(c);
            PatternValue {
                p_alive,
                expected: p_alive * expected,
                clv_per_spend: p_alive * discounted,
            }
        })
        .collect()
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
