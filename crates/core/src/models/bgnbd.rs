//! BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way") and, with
//! one extra dropout opportunity at time 0, MBG/NBD (Batislam, Denizel & Filiztekin 2007).
//!
//! Both share one implementation: while alive a customer buys at Poisson rate
//! λ ~ Gamma(r, α); after each repeat purchase (BG) or also right after the first purchase
//! (MBG) they drop out with probability p ~ Beta(a, b). MBG is BG with the dropout count
//! shifted by one (`b + x` becomes `b + x + 1`), so the formulas take that shift `s`.

use super::data::{group_by_x, scale_starts, validate_rfm};
use super::fit::{Problem, estimate};
use super::special::{digamma, hyp2f1, ln_beta, ln_gamma};
use super::{Fit, FitOptions, ModelError, ModelKind, Rfm, TransactionModel};
use serde::{Deserialize, Serialize};

/// The BG/NBD family; use the aliases [`BgNbd`] and [`super::MbgNbd`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BetaGeometricNbd<const MODIFIED: bool> {
    /// Shape of the Gamma distribution of purchase rates.
    pub r: f64,
    /// Rate (inverse scale) of the Gamma distribution of purchase rates, in time units.
    pub alpha: f64,
    /// First shape of the Beta distribution of dropout probabilities.
    pub a: f64,
    /// Second shape of the Beta distribution of dropout probabilities.
    pub b: f64,
}

/// BG/NBD: dropout only after repeat purchases.
pub type BgNbd = BetaGeometricNbd<false>;

const NAMES: &[&str] = &["r", "alpha", "a", "b"];

impl<const MODIFIED: bool> BetaGeometricNbd<MODIFIED> {
    /// Extra dropout opportunities before the first repeat purchase (0 for BG, 1 for MBG).
    const SHIFT: f64 = if MODIFIED { 1.0 } else { 0.0 };
    const KIND: ModelKind = if MODIFIED {
        ModelKind::MbgNbd
    } else {
        ModelKind::BgNbd
    };

    fn from_slice(p: &[f64]) -> Self {
        BetaGeometricNbd {
            r: p[0],
            alpha: p[1],
            a: p[2],
            b: p[3],
        }
    }

    /// Fits by maximum likelihood to weighted patterns.
    pub fn fit(data: &[Rfm], opts: &FitOptions) -> Result<(Self, Fit), ModelError> {
        let n = validate_rfm(data)?;
        let (sorted, groups) = group_by_x(data, |r| r.x);
        let ll = |p: &[f64], grad: &mut [f64]| Self::from_slice(p).ll_grad(&sorted, &groups, grad);
        let (alpha0, _) = scale_starts(data, n);
        let starts = vec![
            vec![1.0, alpha0, 0.5, 2.0],
            vec![0.3, 0.3 * alpha0, 1.5, 4.0],
            vec![3.0, 3.0 * alpha0, 0.2, 0.5],
        ];
        let problem = Problem {
            kind: Self::KIND,
            names: NAMES,
            n,
            n_patterns: data.len(),
            starts,
            ll: &ll,
        };
        let (p, fit) = estimate(&problem, opts)?;
        Ok((Self::from_slice(&p), fit))
    }

    /// The model of a stored fit.
    pub fn from_fit(fit: &Fit) -> Result<Self, ModelError> {
        Ok(Self::from_slice(&fit.values(Self::KIND, NAMES)?))
    }

    /// Total log-likelihood of x-sorted patterns and its gradient in (r, α, a, b).
    pub(super) fn ll_grad(
        &self,
        sorted: &[Rfm],
        groups: &[(f64, std::ops::Range<usize>)],
        grad: &mut [f64],
    ) -> f64 {
        let BetaGeometricNbd { r, alpha, a, b } = *self;
        let s = Self::SHIFT;
        let (ln_alpha, psi_r, psi_ab) = (alpha.ln(), digamma(r), digamma(a + b));
        let lb0 = ln_gamma(a + b) - ln_gamma(b) - ln_gamma(r) + r * ln_alpha;
        grad.fill(0.0);
        let mut total = 0.0;
        for (x, range) in groups {
            let x = *x;
            let bx = b + x + s;
            // Terms that depend only on x.
            let base = lb0 + ln_gamma(r + x) + ln_gamma(bx) - ln_gamma(a + bx);
            let psi_abx = digamma(a + bx);
            let d_base = [
                digamma(r + x) - psi_r + ln_alpha,
                0.0,
                psi_ab - psi_abx,
                psi_ab + digamma(bx) - digamma(b) - psi_abx,
            ];
            let dropout = x > 0.0 || MODIFIED;
            let ln_drop = if dropout {
                a.ln() - (bx - 1.0).ln()
            } else {
                f64::NEG_INFINITY
            };
            let mut acc = [0.0; 4];
            let mut w_sum = 0.0;
            for c in &sorted[range.clone()] {
                let (lt, ltx) = ((alpha + c.t).ln(), (alpha + c.t_x).ln());
                let alive = -(r + x) * lt;
                let dead = ln_drop - (r + x) * ltx;
                let m = alive.max(dead);
                let (ea, ed) = ((alive - m).exp(), (dead - m).exp());
                let sum = ea + ed;
                let (wa, wd) = (ea / sum, ed / sum);
                total += c.weight * (m + sum.ln());
                w_sum += c.weight;
                acc[0] -= c.weight * (wa * lt + wd * ltx);
                acc[1] -= c.weight * (r + x) * (wa / (alpha + c.t) + wd / (alpha + c.t_x));
                acc[2] += c.weight * wd;
            }
            total += w_sum * base;
            grad[0] += w_sum * d_base[0] + acc[0];
            grad[1] += w_sum * r / alpha + acc[1];
            grad[2] += w_sum * d_base[2] + acc[2] / a;
            grad[3] += w_sum * d_base[3] - if dropout { acc[2] / (bx - 1.0) } else { 0.0 };
        }
        total
    }

    /// ln of the odds "dropped out after the last purchase" : "alive", given the history.
    fn ln_dead_odds(&self, c: &Rfm) -> f64 {
        if c.x == 0.0 && !MODIFIED {
            return f64::NEG_INFINITY;
        }
        let bx = self.b + c.x + Self::SHIFT;
        self.a.ln() - (bx - 1.0).ln()
            + (self.r + c.x) * ((self.alpha + c.t).ln() - (self.alpha + c.t_x).ln())
    }
}

/// Expected purchases in (0, t] of a customer alive at 0 whose dropout chance after each
/// purchase is Beta(a, b) and purchase rate Gamma(r, α):
/// (a+b−1)/(a−1) · [1 − (α/(α+t))^r ₂F₁(r, b; a+b−1; t/(α+t))], evaluated after Euler's
/// transformation as (a+b−1)/(a−1) · [1 − (1−z)^(a−1) ₂F₁(a+b−1−r, a−1; a+b−1; z)], whose
/// series is short even when r and b are large (customers with many purchases).
fn bg_expected(r: f64, alpha: f64, a: f64, b: f64, t: f64) -> f64 {
    const NEAR_ONE: f64 = 1e-6;
    if (a - 1.0).abs() < NEAR_ONE {
        // Removable singularity at a = 1: average the two sides.
        return 0.5
            * (bg_expected(r, alpha, 1.0 - NEAR_ONE, b, t)
                + bg_expected(r, alpha, 1.0 + NEAR_ONE, b, t));
    }
    let z = t / (alpha + t);
    let c = a + b - 1.0;
    let f = hyp2f1(c - r, a - 1.0, c, z);
    let ln_one_minus_z = (alpha / (alpha + t)).ln();
    let bracket = if f > 0.0 {
        -((a - 1.0) * ln_one_minus_z + f.ln()).exp_m1()
    } else {
        1.0 - (a - 1.0) * ln_one_minus_z.exp() * f
    };
    c / (a - 1.0) * bracket
}

impl<const MODIFIED: bool> TransactionModel for BetaGeometricNbd<MODIFIED> {
    fn p_alive(&self, c: &Rfm) -> f64 {
        1.0 / (1.0 + self.ln_dead_odds(c).exp())
    }

    fn expected_conditional(&self, c: &Rfm, t: f64) -> f64 {
        let future = bg_expected(
            self.r + c.x,
            self.alpha + c.t,
            self.a,
            self.b + c.x + Self::SHIFT,
            t,
        );
        self.p_alive(c) * future
    }

    fn expected_unconditional(&self, t: f64) -> f64 {
        let BetaGeometricNbd { r, alpha, a, b } = *self;
        let survive_start = if MODIFIED { b / (a + b) } else { 1.0 };
        survive_start * bg_expected(r, alpha, a, b + Self::SHIFT, t)
    }

    /// Fader, Hardie & Lee (2005) eq. (8); Batislam et al. (2007) for MBG/NBD.
    fn prob_n(&self, n: u32, t: f64) -> f64 {
        let BetaGeometricNbd { r, alpha, a, b } = *self;
        let (s, nf) = (Self::SHIFT, n as f64);
        let (ln_q, ln_z) = ((alpha / (alpha + t)).ln(), (t / (alpha + t)).ln());
        let ln_nb = |j: f64| {
            let tail = if j > 0.0 { j * ln_z } else { 0.0 };
            ln_gamma(r + j) - ln_gamma(r) - ln_gamma(j + 1.0) + r * ln_q + tail
        };
        let lb = ln_beta(a, b);
        let stay = (ln_beta(a, b + nf + s) - lb + ln_nb(nf)).exp();
        if n == 0 && !MODIFIED {
            return stay;
        }
        // P(N(t) ≥ n) for the NBD count.
        let below: f64 = (0..n).map(|j| ln_nb(j as f64).exp()).sum();
        stay + (ln_beta(a + 1.0, b + nf + s - 1.0) - lb).exp() * (1.0 - below).max(0.0)
    }

    fn log_likelihood(&self, data: &[Rfm]) -> f64 {
        let (sorted, groups) = group_by_x(data, |r| r.x);
        self.ll_grad(&sorted, &groups, &mut [0.0; 4])
    }
}
