//! BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way") and, with
//! one extra dropout opportunity at time 0, MBG/NBD (Batislam, Denizel & Filiztekin 2007).
//!
//! Both share one implementation: while alive a customer buys at Poisson rate
//! λ ~ Gamma(r, α); after each repeat purchase (BG) or also right after the first purchase
//! (MBG) they drop out with probability p ~ Beta(a, b). MBG is BG with the dropout count
//! shifted by one (`b + x` becomes `b + x + 1`), so the formulas take that shift `s`.

use super::data::{
    PatternRef, XGroup, rfm_order, scale_starts, sum_groups, tabulate, validate_rfm,
};
use super::fit::{LogLik, Problem, estimate, warm_data};
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
        // Sorted, so that the fit does not depend on the order of the patterns.
        let mut sorted = data.to_vec();
        sorted.sort_by(rfm_order);
        let groups = tabulate(&sorted);
        let ll = |p: &[f64], grad: &mut [f64]| Self::from_slice(p).ll_grad(&groups, grad);
        let thinned = warm_data(&sorted, |r| &mut r.weight, tabulate);
        let warm = thinned.as_ref().map(|groups| {
            move |p: &[f64], grad: &mut [f64]| Self::from_slice(p).ll_grad(groups, grad)
        });
        let (alpha0, _) = scale_starts(&sorted, n);
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
            warm: warm.as_ref().map(|w| w as &LogLik),
        };
        let (p, fit) = estimate(&problem, opts)?;
        Ok((Self::from_slice(&p), fit))
    }

    /// The model of a stored fit.
    pub fn from_fit(fit: &Fit) -> Result<Self, ModelError> {
        Ok(Self::from_slice(&fit.values(Self::KIND, NAMES)?))
    }

    /// Total log-likelihood of tabulated patterns and its gradient in (r, α, a, b).
    ///
    /// Per customer L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / Γ(r) · [(α+T)^−(r+x) +
    /// δ a/(b+x−1) (α+t_x)^−(r+x)] (δ: a dropout was possible); everything but the
    /// bracket depends on x only, and the bracket's logs on (x, T) and (x, t_x).
    pub(super) fn ll_grad(&self, groups: &[XGroup], grad: &mut [f64]) -> f64 {
        let BetaGeometricNbd { r, alpha, a, b } = *self;
        let s = Self::SHIFT;
        let (ln_alpha, psi_r, psi_ab) = (alpha.ln(), digamma(r), digamma(a + b));
        let lb0 = ln_gamma(a + b) - ln_gamma(b) - ln_gamma(r) + r * ln_alpha;
        let ln_drop = |x: f64| {
            if x > 0.0 || MODIFIED {
                a.ln() - (b + x + s - 1.0).ln()
            } else {
                f64::NEG_INFINITY
            }
        };
        let brackets = sum_groups(
            groups,
            |g| &g.patterns,
            |g, patterns| {
                let (at, atx) = (ScaleLogs::new(alpha, &g.t), ScaleLogs::new(alpha, &g.t_x));
                bracket_sums(r + g.x, ln_drop(g.x), &at, &atx, patterns)
            },
            BracketSums::add,
        );
        grad.fill(0.0);
        let mut total = 0.0;
        for (g, bracket) in groups.iter().zip(brackets) {
            let (x, w) = (g.x, g.weight);
            let (rx, bx) = (r + x, b + x + s);
            let psi_abx = digamma(a + bx);
            total += w * (lb0 + ln_gamma(rx) + ln_gamma(bx) - ln_gamma(a + bx));
            grad[0] += w * (digamma(rx) - psi_r + ln_alpha);
            grad[1] += w * r / alpha;
            grad[2] += w * (psi_ab - psi_abx);
            grad[3] += w * (psi_ab + digamma(bx) - digamma(b) - psi_abx);
            total += bracket.value;
            grad[0] += bracket.d_rx;
            grad[1] += bracket.d_alpha;
            if x > 0.0 || MODIFIED {
                grad[2] += bracket.dead / a;
                grad[3] -= bracket.dead / (bx - 1.0);
            }
        }
        total
    }

    /// The population a customer alive at age T after `x` repeat purchases belongs to:
    /// λ ~ Gamma(r + x, α + T) and p ~ Beta(a, b + x + shift), with a dropout chance after
    /// each future purchase only — a new BG/NBD customer of it, for BG and MBG alike.
    fn posterior(&self, x: f64, age: f64) -> BgNbd {
        BgNbd {
            r: self.r + x,
            alpha: self.alpha + age,
            a: self.a,
            b: self.b + x + Self::SHIFT,
        }
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

/// ln(α + v) and 1/(α + v) for each value v of a table.
struct ScaleLogs {
    ln: Vec<f64>,
    inv: Vec<f64>,
}

impl ScaleLogs {
    fn new(alpha: f64, values: &[f64]) -> Self {
        ScaleLogs {
            ln: values.iter().map(|v| (alpha + v).ln()).collect(),
            inv: values.iter().map(|v| 1.0 / (alpha + v)).collect(),
        }
    }
}

/// Weighted sums over patterns of one group of ln[(α+T)^−k + e^ln_drop (α+t_x)^−k] and its derivatives.
struct BracketSums {
    value: f64,
    /// ∂/∂k.
    d_rx: f64,
    /// ∂/∂α.
    d_alpha: f64,
    /// Σ weight · share of the dropout term (its derivative in ln_drop).
    dead: f64,
}

impl BracketSums {
    fn add(self, other: Self) -> Self {
        BracketSums {
            value: self.value + other.value,
            d_rx: self.d_rx + other.d_rx,
            d_alpha: self.d_alpha + other.d_alpha,
            dead: self.dead + other.dead,
        }
    }
}

fn bracket_sums(
    k: f64,
    ln_drop: f64,
    at: &ScaleLogs,
    atx: &ScaleLogs,
    patterns: &[PatternRef],
) -> BracketSums {
    let mut out = BracketSums {
        value: 0.0,
        d_rx: 0.0,
        d_alpha: 0.0,
        dead: 0.0,
    };
    for c in patterns {
        let (i, j) = (c.t as usize, c.t_x as usize);
        let (lt, ltx) = (at.ln[i], atx.ln[j]);
        let alive = -k * lt;
        let dead = ln_drop - k * ltx;
        // ln(e^alive + e^dead) = max + ln(1 + e^−|alive − dead|).
        let (hi, lo) = if alive >= dead {
            (alive, dead)
        } else {
            (dead, alive)
        };
        let e = (lo - hi).exp();
        let small = e / (1.0 + e);
        let wd = if alive >= dead { small } else { 1.0 - small };
        let wa = 1.0 - wd;
        out.value += c.weight * (hi + e.ln_1p());
        out.d_rx -= c.weight * (wa * lt + wd * ltx);
        out.d_alpha -= c.weight * (wa * at.inv[i] + wd * atx.inv[j]);
        out.dead += c.weight * wd;
    }
    out.d_alpha *= k;
    out
}

/// Expected purchases in (0, t] of a customer alive at 0 whose dropout chance after each
/// purchase is Beta(a, b) and purchase rate Gamma(r, α):
/// (a+b−1)/(a−1) · [1 − (1−z)^r ₂F₁(r, b; a+b−1; z)] with z = t/(α+t). The series as it
/// stands is short when `a` is large (its terms shrink by about b/(a+b)); after Euler's
/// transformation, (1−z)^(a−1) ₂F₁(a+b−1−r, a−1; a+b−1; z), it is short when r and b are
/// large (customers with many purchases). The shorter one is summed.
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
    let (power, f) = match a - 1.0 > r {
        true => (r, hyp2f1(r, b, c, z)),
        false => (a - 1.0, hyp2f1(c - r, a - 1.0, c, z)),
    };
    let ln_one_minus_z = (alpha / (alpha + t)).ln();
    let bracket = if f > 0.0 {
        -(power * ln_one_minus_z + f.ln()).exp_m1()
    } else {
        1.0 - (power * ln_one_minus_z).exp() * f
    };
    c / (a - 1.0) * bracket
}

impl<const MODIFIED: bool> TransactionModel for BetaGeometricNbd<MODIFIED> {
    fn p_alive(&self, c: &Rfm) -> f64 {
        1.0 / (1.0 + self.ln_dead_odds(c).exp())
    }

    fn expected_if_alive(&self, x: f64, age: f64, t: f64) -> f64 {
        self.posterior(x, age).expected_unconditional(t)
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

    fn prob_n_if_alive(&self, n: u32, x: f64, age: f64, t: f64) -> f64 {
        self.posterior(x, age).prob_n(n, t)
    }

    fn log_likelihood(&self, data: &[Rfm]) -> f64 {
        self.ll_grad(&tabulate(data), &mut [0.0; 4])
    }
}

#[cfg(test)]
mod tests {
    use super::bg_expected;

    /// The two forms of the series agree where both are short.
    #[test]
    fn both_series_give_the_same_expectation() {
        for (r, alpha, a, b, t) in [(0.5, 4.0, 3.0, 5.0, 20.0), (2.0, 10.0, 1.5, 2.5, 52.0f64)] {
            let c = a + b - 1.0;
            let z = t / (alpha + t);
            let ln_q = (alpha / (alpha + t)).ln();
            let stands = 1.0 - (r * ln_q).exp() * super::hyp2f1(r, b, c, z);
            let euler = 1.0 - ((a - 1.0) * ln_q).exp() * super::hyp2f1(c - r, a - 1.0, c, z);
            assert!((stands - euler).abs() < 1e-12, "{stands} vs {euler}");
            assert!((bg_expected(r, alpha, a, b, t) - c / (a - 1.0) * stands).abs() < 1e-12);
        }
    }

    /// A Beta of dropout so narrow it is a fixed chance p (a fit at an early calibration end
    /// gave a = 8.1e6, b = 6.6e7): the expectation is the fixed-p limit
    /// (1 − (α / (α + p·t))^r) / p, and its series stays short.
    #[test]
    fn a_near_fixed_dropout_chance_is_its_limit() {
        let (r, alpha, a, b) = (0.6419, 35.2684f64, 8_110_206.3, 65_659_969.1);
        let p = a / (a + b);
        for t in [1.0, 52.0, 520.0f64] {
            let limit = (1.0 - (alpha / (alpha + p * t)).powf(r)) / p;
            let got = bg_expected(r, alpha, a, b, t);
            assert!(
                (got - limit).abs() < 1e-5 * limit,
                "t {t}: {got} vs {limit}"
            );
        }
    }
}
