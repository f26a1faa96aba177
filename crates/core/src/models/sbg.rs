//! Shifted-beta-geometric model of contract renewals (Fader & Hardie 2007, "How to
//! project customer retention"; discounted residual lifetime from Fader & Hardie 2010,
//! "Customer-base valuation in a contractual setting").
//!
//! At the end of each period a customer churns with probability θ ~ Beta(α, β), so
//! P(T = t) = B(α+1, β+t−1)/B(α, β) and S(t) = B(α, β+t)/B(α, β).

use super::data::{Tenure, total_weight};
use super::fit::{Problem, estimate};
use super::special::{digamma, hyp2f1, ln_beta};
use super::{Fit, FitOptions, ModelError, ModelKind};
use serde::{Deserialize, Serialize};

/// sBG parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sbg {
    /// First shape of the Beta distribution of churn probabilities.
    pub alpha: f64,
    /// Second shape of the Beta distribution of churn probabilities.
    pub beta: f64,
}

const NAMES: &[&str] = &["alpha", "beta"];

impl Sbg {
    fn from_slice(v: &[f64]) -> Self {
        Sbg {
            alpha: v[0],
            beta: v[1],
        }
    }

    /// Fits to a cohort's survival counts: `alive[t]` customers active at the start of
    /// period t + 1 (`alive[0]` is the cohort size; counts must not increase).
    pub fn fit_survival(alive: &[f64], opts: &FitOptions) -> Result<(Self, Fit), ModelError> {
        Self::fit_tenure(&survival_to_tenure(alive)?, opts)
    }

    /// Fits to per-customer (or compressed) tenures.
    pub fn fit_tenure(data: &[Tenure], opts: &FitOptions) -> Result<(Self, Fit), ModelError> {
        if data.iter().any(|d| d.periods == 0 && d.churned) {
            return Err(ModelError::InvalidData(
                "a churned customer must have periods ≥ 1".into(),
            ));
        }
        let n = total_weight(data.iter().map(|d| d.weight))?;
        let ll = |v: &[f64], grad: &mut [f64]| Self::from_slice(v).ll_grad(data, grad);
        let starts = vec![vec![1.0, 1.0], vec![0.5, 3.0], vec![3.0, 0.5]];
        let problem = Problem {
            kind: ModelKind::Sbg,
            names: NAMES,
            n,
            n_patterns: data.len(),
            starts,
            ll: &ll,
            warm: None,
        };
        let (v, fit) = estimate(&problem, opts)?;
        Ok((Self::from_slice(&v), fit))
    }

    /// The model of a stored fit.
    pub fn from_fit(fit: &Fit) -> Result<Self, ModelError> {
        Ok(Self::from_slice(&fit.values(ModelKind::Sbg, NAMES)?))
    }

    /// Total log-likelihood of the tenures.
    pub fn log_likelihood(&self, data: &[Tenure]) -> f64 {
        self.ll_grad(data, &mut [0.0; 2])
    }

    pub(super) fn ll_grad(&self, data: &[Tenure], grad: &mut [f64]) -> f64 {
        let Sbg { alpha, beta } = *self;
        let lb = ln_beta(alpha, beta);
        let (psi_a, psi_b, psi_ab) = (digamma(alpha), digamma(beta), digamma(alpha + beta));
        grad.fill(0.0);
        let mut total = 0.0;
        for d in data {
            let t = d.periods as f64;
            // ln B(α+u, β+v) − ln B(α, β) with (u, v) = (1, t−1) if churned, (0, t) if not.
            let (u, v) = if d.churned { (1.0, t - 1.0) } else { (0.0, t) };
            let psi_all = digamma(alpha + beta + t);
            total += d.weight * (ln_beta(alpha + u, beta + v) - lb);
            grad[0] += d.weight * (digamma(alpha + u) - psi_all - psi_a + psi_ab);
            grad[1] += d.weight * (digamma(beta + v) - psi_all - psi_b + psi_ab);
        }
        total
    }

    /// P(T = t): churn at the end of period t (t ≥ 1).
    pub fn churn_probability(&self, t: u32) -> f64 {
        let t = t as f64;
        (ln_beta(self.alpha + 1.0, self.beta + t - 1.0) - ln_beta(self.alpha, self.beta)).exp()
    }

    /// S(t) = P(T > t): still a customer after t periods.
    pub fn survival(&self, t: u32) -> f64 {
        (ln_beta(self.alpha, self.beta + t as f64) - ln_beta(self.alpha, self.beta)).exp()
    }

    /// Retention rate S(t)/S(t−1) = (β + t − 1)/(α + β + t − 1) for t ≥ 1.
    pub fn retention_rate(&self, t: u32) -> f64 {
        let t = t as f64;
        (self.beta + t - 1.0) / (self.alpha + self.beta + t - 1.0)
    }

    /// Discounted expected residual lifetime (Fader & Hardie 2010) of a customer who has
    /// made `renewals` renewals (so is in period n = renewals + 1), just before the next
    /// renewal decision: Σ_{k≥0} S(n+k)/S(n−1) / (1+d)^k
    /// = (β+n−1)/(α+β+n−1) · ₂F₁(1, β+n; α+β+n; 1/(1+d)), in payments per period, the next
    /// payment undiscounted. `discount_rate` d > 0 is per period.
    pub fn derl(&self, discount_rate: f64, renewals: u32) -> f64 {
        let n = renewals as f64 + 1.0;
        let Sbg { alpha, beta } = *self;
        (beta + n - 1.0) / (alpha + beta + n - 1.0)
            * hyp2f1(1.0, beta + n, alpha + beta + n, 1.0 / (1.0 + discount_rate))
    }
}

/// Converts survival counts into tenure patterns: churned in period t with weight
/// `alive[t−1] − alive[t]`, and still active after the last period.
fn survival_to_tenure(alive: &[f64]) -> Result<Vec<Tenure>, ModelError> {
    if alive.len() < 2 || alive.iter().any(|a| !(a.is_finite() && *a >= 0.0)) {
        return Err(ModelError::InvalidData(
            "need at least two finite, non-negative survival counts".into(),
        ));
    }
    if alive.windows(2).any(|w| w[1] > w[0]) {
        return Err(ModelError::InvalidData(
            "survival counts must not increase".into(),
        ));
    }
    let mut out: Vec<Tenure> = (1..alive.len())
        .map(|t| Tenure {
            periods: t as u32,
            churned: true,
            weight: alive[t - 1] - alive[t],
        })
        .collect();
    out.push(Tenure {
        periods: (alive.len() - 1) as u32,
        churned: false,
        weight: alive[alive.len() - 1],
    });
    Ok(out)
}
