//! Pareto/NBD (Schmittlein, Morrison & Colombo 1987), likelihood as in Fader & Hardie
//! (2005), "A note on deriving the Pareto/NBD model and related expressions".
//!
//! While alive a customer buys at Poisson rate λ ~ Gamma(r, α) and dies at an exponential
//! time with rate μ ~ Gamma(s, β). The likelihood is
//! Γ(r+x) α^r β^s / Γ(r) · [ (α+T)^−(r+x) (β+T)^−s + s ∫_{t_x}^T (α+τ)^−(r+x) (β+τ)^−(s+1) dτ ],
//! where the integral is the note's ₂F₁ expression. We evaluate each tail integral
//! ∫_t^∞ in log space after an Euler transformation that turns the note's
//! ₂F₁(r+s+x, ·; r+s+x+1; z) into ₂F₁(·, 1; r+s+x+1; z), whose terms are all positive and
//! shrink fast when x is large: the likelihood stays finite and accurate for customers
//! with thousands of transactions, and the difference of the two tails is taken as
//! e^G₁ · (1 − e^(G₂−G₁)) without overflow.

use super::data::{group_by_x, rfm_order, scale_starts, validate_rfm};
use super::fit::{LogLik, Problem, estimate, warm_data};
use super::special::{
    digamma, expint_scaled, gauss_legendre, ln_gamma, ln_hyp2f1_grad, one_minus_exp_over,
};
use super::{Fit, FitOptions, ModelError, ModelKind, Rfm, TransactionModel};
use serde::{Deserialize, Serialize};

/// Pareto/NBD parameters (time unit of the data).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ParetoNbd {
    /// Shape of the Gamma distribution of purchase rates.
    pub r: f64,
    /// Rate of the Gamma distribution of purchase rates.
    pub alpha: f64,
    /// Shape of the Gamma distribution of death rates.
    pub s: f64,
    /// Rate of the Gamma distribution of death rates.
    pub beta: f64,
}

const NAMES: &[&str] = &["r", "alpha", "s", "beta"];

/// ln ∫_t^∞ (p+τ)^−A (q+τ)^−B dτ for `p ≥ q > 0`, `A + B > 1`, and its derivatives with
/// respect to (A, B, p, q).
///
/// With z = (p−q)/(p+t) the integral is (p+t)^(1−A−B) ₂F₁(B, A+B−1; A+B; z) / (A+B−1)
/// (Euler's integral), = (p+t)^−A (q+t)^(1−B) ₂F₁(A, 1; A+B; z) / (A+B−1).
pub(crate) fn ln_tail(big_a: f64, big_b: f64, p: f64, q: f64, t: f64) -> (f64, [f64; 4]) {
    let (pt, qt) = (p + t, q + t);
    let z = (p - q) / pt;
    let h = ln_hyp2f1_grad(big_a, 1.0, big_a + big_b, z);
    let m = big_a + big_b - 1.0;
    let value = -big_a * pt.ln() - (big_b - 1.0) * qt.ln() - m.ln() + h.value;
    let grad = [
        -pt.ln() - 1.0 / m + h.d_a + h.d_c,
        -qt.ln() - 1.0 / m + h.d_c,
        -big_a / pt + h.d_z * qt / (pt * pt),
        -(big_b - 1.0) / qt - h.d_z / pt,
    ];
    (value, grad)
}

/// Per-pattern pieces of the likelihood.
struct Terms {
    /// ln of the "alive at T" part of the bracket.
    ln_alive: f64,
    /// ln of the whole bracket.
    ln_bracket: f64,
    /// Gradient of `ln_bracket` in (r, α, s, β).
    grad: [f64; 4],
}

impl ParetoNbd {
    fn from_slice(p: &[f64]) -> Self {
        ParetoNbd {
            r: p[0],
            alpha: p[1],
            s: p[2],
            beta: p[3],
        }
    }

    /// Fits by maximum likelihood to weighted patterns.
    pub fn fit(data: &[Rfm], opts: &FitOptions) -> Result<(Self, Fit), ModelError> {
        let n = validate_rfm(data)?;
        let (sorted, groups) = group_by_x(data, |r| r.x, rfm_order);
        let ll = |p: &[f64], grad: &mut [f64]| Self::from_slice(p).ll_grad(&sorted, &groups, grad);
        let thinned = warm_data(
            &sorted,
            |r| &mut r.weight,
            |few| group_by_x(few, |r| r.x, rfm_order),
        );
        let warm = thinned.as_ref().map(|(sorted, groups)| {
            move |p: &[f64], grad: &mut [f64]| Self::from_slice(p).ll_grad(sorted, groups, grad)
        });
        let (alpha0, t_mean) = scale_starts(&sorted, n);
        let starts = vec![
            vec![1.0, alpha0, 1.0, t_mean],
            vec![0.5, 0.5 * alpha0, 0.5, 0.5 * t_mean],
            vec![2.0, 2.0 * alpha0, 2.0, 4.0 * t_mean],
        ];
        let problem = Problem {
            kind: ModelKind::ParetoNbd,
            names: NAMES,
            n,
            n_patterns: data.len(),
            starts,
            ll: &ll,
            warm: warm.as_ref().map(|w| w as &LogLik),
        };
        let (p, fit) = estimate(&problem, opts)?;
        Ok((Self::from_slice(&p), fit))
    }

    /// The model of a stored fit.
    pub fn from_fit(fit: &Fit) -> Result<Self, ModelError> {
        Ok(Self::from_slice(&fit.values(ModelKind::ParetoNbd, NAMES)?))
    }

    /// The population a customer alive at age T after `x` repeat purchases belongs to:
    /// λ ~ Gamma(r + x, α + T) and μ ~ Gamma(s, β + T), so what they do next is what a new
    /// customer of it does.
    fn posterior(&self, x: f64, age: f64) -> Self {
        ParetoNbd {
            r: self.r + x,
            alpha: self.alpha + age,
            s: self.s,
            beta: self.beta + age,
        }
    }

    /// ln ∫_t^∞ (α+τ)^−(r+x) (β+τ)^−(s+1) dτ and its gradient in (r, α, s, β).
    fn ln_dropout_tail(&self, x: f64, t: f64) -> (f64, [f64; 4]) {
        let ParetoNbd { r, alpha, s, beta } = *self;
        if alpha >= beta {
            let (g, d) = ln_tail(r + x, s + 1.0, alpha, beta, t);
            (g, [d[0], d[2], d[1], d[3]])
        } else {
            let (g, d) = ln_tail(s + 1.0, r + x, beta, alpha, t);
            (g, [d[1], d[3], d[0], d[2]])
        }
    }

    /// ln[(α+T)^−(r+x)(β+T)^−s + s ∫_{t_x}^T …] and its gradient.
    fn terms(&self, c: &Rfm) -> Terms {
        let ParetoNbd { r, alpha, s, beta } = *self;
        let (at, bt) = (alpha + c.t, beta + c.t);
        let ln_alive = -(r + c.x) * at.ln() - s * bt.ln();
        let d_alive = [-at.ln(), -(r + c.x) / at, -bt.ln(), -s / bt];
        if c.t_x >= c.t {
            return Terms {
                ln_alive,
                ln_bracket: ln_alive,
                grad: d_alive,
            };
        }
        let (g1, d1) = self.ln_dropout_tail(c.x, c.t_x);
        let (g2, d2) = self.ln_dropout_tail(c.x, c.t);
        let ln_dead_hi = s.ln() + g1;
        let m = ln_alive.max(ln_dead_hi);
        let (e1, e2) = ((ln_alive - m).exp(), (ln_dead_hi - m).exp());
        let e3 = e2 * (g2 - g1).exp();
        let sum = e1 - e2 * (g2 - g1).exp_m1();
        let mut grad = [0.0; 4];
        for k in 0..4 {
            grad[k] = (e1 * d_alive[k] + e2 * d1[k] - e3 * d2[k]) / sum;
        }
        grad[2] += (e2 - e3) / (s * sum);
        Terms {
            ln_alive,
            ln_bracket: m + sum.ln(),
            grad,
        }
    }

    /// Total log-likelihood of x-sorted patterns and its gradient in (r, α, s, β).
    pub(super) fn ll_grad(
        &self,
        sorted: &[Rfm],
        groups: &[(f64, std::ops::Range<usize>)],
        grad: &mut [f64],
    ) -> f64 {
        let ParetoNbd { r, alpha, s, beta } = *self;
        let (ln_alpha, ln_beta, psi_r) = (alpha.ln(), beta.ln(), digamma(r));
        let base = r * ln_alpha + s * ln_beta - ln_gamma(r);
        grad.fill(0.0);
        let mut total = 0.0;
        for (x, range) in groups {
            let mut w_sum = 0.0;
            for c in &sorted[range.clone()] {
                let terms = self.terms(c);
                total += c.weight * terms.ln_bracket;
                w_sum += c.weight;
                grad.iter_mut()
                    .zip(terms.grad)
                    .for_each(|(g, d)| *g += c.weight * d);
            }
            total += w_sum * (base + ln_gamma(r + x));
            grad[0] += w_sum * (digamma(r + x) - psi_r + ln_alpha);
            grad[1] += w_sum * r / alpha;
            grad[2] += w_sum * ln_beta;
            grad[3] += w_sum * s / beta;
        }
        total
    }
}

impl TransactionModel for ParetoNbd {
    fn p_alive(&self, c: &Rfm) -> f64 {
        let terms = self.terms(c);
        (terms.ln_alive - terms.ln_bracket).exp()
    }

    fn expected_if_alive(&self, x: f64, age: f64, t: f64) -> f64 {
        self.posterior(x, age).expected_unconditional(t)
    }

    fn expected_unconditional(&self, t: f64) -> f64 {
        let ParetoNbd { r, alpha, s, beta } = *self;
        r / alpha * beta * one_minus_exp_over(s - 1.0, (t / beta).ln_1p())
    }

    /// The closed form of Fader, Hardie & Lee (2005, "RFM and CLV: using iso-value
    /// curves", eq. 2): with the posteriors λ ~ Gamma(r+x, α+T) and μ ~ Gamma(s, β+T),
    /// independent, DERT = E[λ/(μ+δ)] = (r+x)/(α+T) · (β+T) e^z E_s(z) with z = δ(β+T) —
    /// the paper's δ^(s−1) (β+T)^s Ψ(s, s; z) written through the scaled exponential
    /// integral, which is finite at s = 1.
    fn dert_if_alive(&self, x: f64, age: f64, delta: f64) -> f64 {
        let ParetoNbd { r, alpha, s, beta } = self.posterior(x, age);
        r / alpha * beta * expint_scaled(s, delta * beta)
    }

    fn prob_n_if_alive(&self, n: u32, x: f64, age: f64, t: f64) -> f64 {
        self.posterior(x, age).prob_n(n, t)
    }

    /// P(X(t) = n) = NB(n; t)·(β/(β+t))^s + ∫₀ᵗ NB(n; τ) · s β^s (β+τ)^−(s+1) dτ, where
    /// NB(n; τ) is the Gamma-Poisson probability of n purchases by τ: the customer is alive
    /// at t, or died at τ < t. The integral (the note's closed form is a finite sum of ₂F₁
    /// terms) is computed by Gauss–Legendre quadrature on geometrically shrinking panels
    /// towards τ = 0, accurate to about 1e-10.
    fn prob_n(&self, n: u32, t: f64) -> f64 {
        const PANELS: i32 = 12;
        let ParetoNbd { r, alpha, s, beta } = *self;
        let nf = n as f64;
        let ln_c = ln_gamma(r + nf) - ln_gamma(r) - ln_gamma(nf + 1.0);
        let nb = |tau: f64| {
            let tail = if n > 0 {
                nf * (tau / (alpha + tau)).ln()
            } else {
                0.0
            };
            (ln_c + r * (alpha / (alpha + tau)).ln() + tail).exp()
        };
        let death = |tau: f64| s / beta * (-(s + 1.0) * (tau / beta).ln_1p()).exp();
        let alive = nb(t) * (-s * (t / beta).ln_1p()).exp();
        let mut integral = 0.0;
        let mut hi = t;
        for k in 0..=PANELS {
            let lo = if k == PANELS { 0.0 } else { hi * 0.5 };
            let (mid, half) = (0.5 * (hi + lo), 0.5 * (hi - lo));
            for &(u, w) in gauss_legendre() {
                let tau = mid + half * u;
                integral += w * half * nb(tau) * death(tau);
            }
            hi = lo;
        }
        alive + integral
    }

    fn log_likelihood(&self, data: &[Rfm]) -> f64 {
        let (sorted, groups) = group_by_x(data, |r| r.x, rfm_order);
        self.ll_grad(&sorted, &groups, &mut [0.0; 4])
    }
}
