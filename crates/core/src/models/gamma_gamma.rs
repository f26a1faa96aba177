//! Gamma-Gamma model of monetary value (Fader, Hardie & Lee 2005, "RFM and CLV: using
//! iso-value curves"; Fader & Hardie, "The Gamma-Gamma model of monetary value").
//!
//! Each transaction's value is Gamma(p, ν) with ν ~ Gamma(q, γ) across customers, so the
//! mean m of x transactions has density
//! Γ(px+q) / (Γ(px) Γ(q)) · γ^q m^(px−1) x^(px) / (γ + m x)^(px+q).

use super::data::{SpendPattern, group_by_x, spend_order, sum_groups, total_weight};
use super::fit::{LogLik, Problem, estimate, warm_data};
use super::special::{digamma, ln_gamma};
use super::{Fit, FitOptions, ModelError, ModelKind};
use serde::{Deserialize, Serialize};

/// Gamma-Gamma parameters (γ in money units).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GammaGamma {
    /// Shape of each transaction's value.
    pub p: f64,
    /// Shape of the Gamma distribution of the value rate ν across customers.
    pub q: f64,
    /// Rate of the Gamma distribution of ν.
    pub gamma: f64,
}

const NAMES: &[&str] = &["p", "q", "gamma"];

impl GammaGamma {
    fn from_slice(v: &[f64]) -> Self {
        GammaGamma {
            p: v[0],
            q: v[1],
            gamma: v[2],
        }
    }

    /// Fits by maximum likelihood to customers with at least one repeat transaction.
    pub fn fit(data: &[SpendPattern], opts: &FitOptions) -> Result<(Self, Fit), ModelError> {
        if let Some(bad) = data
            .iter()
            .find(|d| !(d.x > 0.0 && d.mean_spend > 0.0 && d.mean_spend.is_finite()))
        {
            return Err(ModelError::InvalidData(format!(
                "spend pattern x={}, mean_spend={}: need x > 0 and a positive mean",
                bad.x, bad.mean_spend
            )));
        }
        let n = total_weight(data.iter().map(|d| d.weight))?;
        // Sorted, so that the fit does not depend on the order of the patterns.
        let mut sorted = data.to_vec();
        sorted.sort_by(spend_order);
        let groups = spend_groups(&sorted);
        let ll = |v: &[f64], grad: &mut [f64]| Self::from_slice(v).ll_grad(&groups, grad);
        let thinned = warm_data(&sorted, |d| &mut d.weight, spend_groups);
        let warm = thinned.as_ref().map(|groups| {
            move |v: &[f64], grad: &mut [f64]| Self::from_slice(v).ll_grad(groups, grad)
        });
        let mean = sorted.iter().map(|d| d.weight * d.mean_spend).sum::<f64>() / n;
        // E[value] = pγ/(q−1): starts with that mean.
        let starts = vec![
            vec![1.0, 2.0, mean],
            vec![5.0, 5.0, 0.8 * mean],
            vec![0.5, 3.0, 4.0 * mean],
        ];
        let problem = Problem {
            kind: ModelKind::GammaGamma,
            names: NAMES,
            n,
            n_patterns: data.len(),
            starts,
            ll: &ll,
            warm: warm.as_ref().map(|w| w as &LogLik),
        };
        let (v, fit) = estimate(&problem, opts)?;
        Ok((Self::from_slice(&v), fit))
    }

    /// The model of a stored fit.
    pub fn from_fit(fit: &Fit) -> Result<Self, ModelError> {
        Ok(Self::from_slice(&fit.values(ModelKind::GammaGamma, NAMES)?))
    }

    /// Total log-likelihood of the patterns.
    pub fn log_likelihood(&self, data: &[SpendPattern]) -> f64 {
        self.ll_grad(&spend_groups(data), &mut [0.0; 3])
    }

    /// Total log-likelihood of grouped patterns and its gradient in (p, q, γ).
    ///
    /// With s = x·m (the customer's total repeat spend) and u = ln(1 + γ/s), one customer's
    /// log density is ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln(γ/x) − (q+1) ln m − (px+q) u:
    /// per pattern only u and 1/(γ+s) are needed, and no large logs cancel.
    pub(super) fn ll_grad(&self, groups: &[SpendGroup], grad: &mut [f64]) -> f64 {
        let GammaGamma { p, q, gamma } = *self;
        let (ln_g, psi_q, lg_q) = (gamma.ln(), digamma(q), ln_gamma(q));
        let sums = sum_groups(
            groups,
            |g| &g.inv_totals,
            |_, totals| {
                totals
                    .iter()
                    .fold((0.0, 0.0), |(u, inv_den), &(inv_spend, weight)| {
                        (
                            u + weight * (gamma * inv_spend).ln_1p(),
                            inv_den + weight * inv_spend / (1.0 + gamma * inv_spend),
                        )
                    })
            },
            |a, b| (a.0 + b.0, a.1 + b.1),
        );
        grad.fill(0.0);
        let mut total = 0.0;
        for (g, (u, inv_den)) in groups.iter().zip(sums) {
            let (x, w) = (g.x, g.weight);
            let (px, ln_gx) = (p * x, ln_g - x.ln());
            let psi_pxq = digamma(px + q);
            let base = ln_gamma(px + q) - ln_gamma(px) - lg_q + q * ln_gx;
            total += w * base - (q + 1.0) * g.ln_mean - (px + q) * u;
            grad[0] += x * (w * (psi_pxq - digamma(px)) - u);
            grad[1] += w * (psi_pxq - psi_q + ln_gx) - g.ln_mean - u;
            grad[2] += w * q / gamma - (px + q) * inv_den;
        }
        total
    }

    /// E[transaction value] of a customer with `x` repeat transactions of mean `mean_spend`:
    /// p(γ + x·m) / (px + q − 1), a weighted average of the population mean and the
    /// customer's own mean. Needs `px + q > 1`.
    pub fn conditional_expected_spend(&self, x: f64, mean_spend: f64) -> f64 {
        self.p * (self.gamma + x * mean_spend) / (self.p * x + self.q - 1.0)
    }

    /// E[transaction value] in the population, pγ/(q − 1) (infinite if q ≤ 1).
    pub fn expected_spend(&self) -> f64 {
        if self.q > 1.0 {
            self.p * self.gamma / (self.q - 1.0)
        } else {
            f64::INFINITY
        }
    }
}

/// Spend patterns with one repeat count `x`: what the likelihood needs of them that does
/// not depend on the parameters.
#[derive(Debug, Clone)]
pub(super) struct SpendGroup {
    x: f64,
    /// Total weight.
    weight: f64,
    /// Σ weight · ln(mean spend).
    ln_mean: f64,
    /// (1 / (x · mean spend), weight) per pattern.
    inv_totals: Vec<(f64, f64)>,
}

/// The patterns grouped by `x`.
pub(super) fn spend_groups(data: &[SpendPattern]) -> Vec<SpendGroup> {
    let (sorted, groups) = group_by_x(data, |d| d.x, spend_order);
    groups
        .into_iter()
        .map(|(x, range)| {
            let members = &sorted[range];
            SpendGroup {
                x,
                weight: members.iter().map(|d| d.weight).sum(),
                ln_mean: members.iter().map(|d| d.weight * d.mean_spend.ln()).sum(),
                inv_totals: members
                    .iter()
                    .map(|d| (1.0 / (x * d.mean_spend), d.weight))
                    .collect(),
            }
        })
        .collect()
}
