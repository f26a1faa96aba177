//! Normal and Student-t distributions: CDFs, two-sided p-values and quantiles, accurate to
//! about 1e-14 relative (quantiles are refined against the CDFs, not approximated).

use crate::models::special::{beta_inc, ln_beta};
use std::f64::consts::{FRAC_2_SQRT_PI, PI, SQRT_2};

/// Below this, erfc is 1 − erf from the series (erfc ≥ 0.157, so the subtraction loses
/// little); above, its continued fraction (under 200 terms).
const ERFC_SPLIT: f64 = 1.0;
/// Relative accuracy at which series and fractions stop.
const EPS: f64 = f64::EPSILON;
/// Iteration cap for the quantile refinements (reached only if they fail to converge).
const MAX_ITER: usize = 200;

/// erfc(x) = 1 − erf(x): for |x| < 1 the series erf x = (2/√π) e^(−x²) Σ 2ⁿ x^(2n+1) / (1·3⋯(2n+1))
/// (Abramowitz & Stegun 7.1.6), beyond it the continued fraction 7.1.14, by modified Lentz.
fn erfc(x: f64) -> f64 {
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    let scale = 0.5 * FRAC_2_SQRT_PI * (-x * x).exp();
    if x < ERFC_SPLIT {
        let (mut term, mut sum, mut k) = (x, x, 0.0);
        while term > EPS * sum {
            k += 1.0;
            term *= 2.0 * x * x / (2.0 * k + 1.0);
            sum += term;
        }
        return 1.0 - 2.0 * scale * sum;
    }
    // x + (1/2)/(x + 1/(x + (3/2)/(x + …))): partial numerators k/2, denominators x.
    let (mut f, mut c, mut d, mut k) = (x, x, 0.0, 0.0);
    loop {
        k += 1.0;
        d = 1.0 / (x + 0.5 * k * d);
        c = x + 0.5 * k / c;
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < EPS {
            return scale / f;
        }
    }
}

/// Φ(x), the standard normal CDF, as ½ erfc(−x/√2) (relative accuracy in both tails).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / SQRT_2)
}

/// The standard normal density φ(x).
fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * PI).sqrt()
}

/// Two-sided p-value of a standard normal statistic: P(|Z| ≥ |z|) = erfc(|z|/√2).
pub fn normal_two_sided_p(z: f64) -> f64 {
    erfc(z.abs() / SQRT_2)
}

/// Φ⁻¹(p) for `0 < p < 1` (±∞ at 0 and 1, NaN outside): the rational start of Abramowitz &
/// Stegun 26.2.23 (error < 4.5e-4), then Halley steps on the lower tail to full precision.
pub fn normal_quantile(p: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    let q = p.min(1.0 - p);
    if q == 0.0 {
        return if p == 0.0 {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    }
    let t = (-2.0 * q.ln()).sqrt();
    let mut x = -(t
        - (2.515_517 + t * (0.802_853 + t * 0.010_328))
            / (1.0 + t * (1.432_788 + t * (0.189_269 + t * 0.001_308))));
    let mut previous = f64::INFINITY;
    for _ in 0..MAX_ITER {
        let density = normal_pdf(x);
        if density == 0.0 {
            break;
        }
        let u = (normal_cdf(x) - q) / density;
        let step = u / (1.0 + 0.5 * x * u);
        x -= step;
        if settled(step, previous, x) {
            break;
        }
        previous = step;
    }
    if p < 0.5 { x } else { -x }
}

/// Whether an iteration at `x` has converged: its step is negligible, or it has stopped
/// shrinking at the size of rounding noise (the target is only known to about 1e-15).
fn settled(step: f64, previous: f64, x: f64) -> bool {
    let scale = x.abs().max(1.0);
    step.abs() <= 1e-15 * scale || (step.abs() >= previous.abs() && step.abs() < 1e-9 * scale)
}

/// P(T > t) for t ≥ 0 with `df` degrees of freedom: ½ I_x(df/2, ½), x = df/(df + t²)
/// (A&S 26.7.1), with 1 − x = t²/(df + t²) computed directly.
fn t_upper_tail(t: f64, df: f64) -> f64 {
    let t2 = t * t;
    0.5 * beta_inc(0.5 * df, 0.5, df / (df + t2), t2 / (df + t2))
}

/// The Student-t density with `df` degrees of freedom.
fn t_pdf(t: f64, df: f64) -> f64 {
    (-0.5 * (df + 1.0) * (t * t / df).ln_1p() - 0.5 * df.ln() - ln_beta(0.5 * df, 0.5)).exp()
}

/// The Student-t CDF with `df > 0` degrees of freedom (not necessarily whole).
pub fn t_cdf(t: f64, df: f64) -> f64 {
    let tail = t_upper_tail(t.abs(), df);
    if t > 0.0 { 1.0 - tail } else { tail }
}

/// Two-sided p-value of a Student-t statistic: P(|T| ≥ |t|).
pub fn t_two_sided_p(t: f64, df: f64) -> f64 {
    2.0 * t_upper_tail(t.abs(), df)
}

/// The Student-t quantile for `0 < p < 1` and `df > 0` (NaN outside). Newton's method on
/// g(u) = ln P(T > eᵘ) − ln q in u = ln t, from the Cornish–Fisher start z + (z³ + z)/(4 df)
/// (A&S 26.7.5); g is concave, so the iterates converge monotonically after one step.
/// Upward steps are capped at a factor e so heavy tails (df ≈ 1) are approached safely.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    if !(p > 0.0 && p < 1.0 && df > 0.0) {
        return f64::NAN;
    }
    if p == 0.5 {
        return 0.0;
    }
    let q = p.min(1.0 - p);
    let z = -normal_quantile(q);
    let mut u = (z + (z * z * z + z) / (4.0 * df)).ln();
    let mut previous = f64::INFINITY;
    for _ in 0..MAX_ITER {
        let t = u.exp();
        let tail = t_upper_tail(t, df);
        let slope = -t * t_pdf(t, df) / tail;
        let step = ((tail.ln() - q.ln()) / slope).min(1.0);
        if !step.is_finite() {
            break;
        }
        u -= step;
        if settled(step, previous, u) {
            break;
        }
        previous = step;
    }
    let t = u.exp();
    if p < 0.5 { -t } else { t }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs().max(f64::MIN_POSITIVE)
    }

    #[test]
    fn erfc_known_values() {
        // Reference values of erfc at 0.5, 1, 2, 3, 5 and 10.
        for (x, want) in [
            (0.5, 0.479_500_122_186_953_5),
            (1.0, 0.157_299_207_050_285_1),
            (2.0, 0.004_677_734_981_047_266),
            (3.0, 2.209_049_699_858_544e-5),
            (5.0, 1.537_459_794_428_035e-12),
            (10.0, 2.088_487_583_762_545e-45),
        ] {
            assert!(rel(erfc(x), want) < 1e-13, "erfc({x}) = {}", erfc(x));
            assert!(rel(erfc(-x), 2.0 - want) < 1e-15);
        }
    }

    #[test]
    fn normal_quantiles_match_tables() {
        assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-14);
        assert!((normal_quantile(0.95) - 1.644_853_626_951_472_2).abs() < 1e-14);
        assert!((normal_quantile(0.995) - 2.575_829_303_548_900_4).abs() < 1e-14);
        assert!(normal_quantile(0.5).abs() < 1e-16);
        assert!(normal_quantile(1.0) == f64::INFINITY && normal_quantile(1.5).is_nan());
        // Round trips in both tails, down to 1e-300.
        for p in [
            1e-300,
            1e-20,
            1e-9,
            0.001,
            0.2,
            0.5,
            0.7,
            0.999_9,
            1.0 - 1e-12,
        ] {
            let x = normal_quantile(p);
            let back = if p < 0.5 {
                normal_cdf(x)
            } else {
                1.0 - normal_cdf(x)
            };
            let want = if p < 0.5 { p } else { 1.0 - p };
            assert!(rel(back, want) < 1e-12, "p {p}: x {x}, back {back}");
        }
    }

    #[test]
    fn t_quantiles_match_tables_and_closed_forms() {
        assert!((t_quantile(0.975, 1.0) - 12.706_204_736_174_7).abs() < 1e-8);
        assert!((t_quantile(0.975, 4.0) - 2.776_445_105_197_8).abs() < 1e-9);
        assert!((t_quantile(0.975, 30.0) - 2.042_272_456_301_2).abs() < 1e-9);
        assert!((t_quantile(0.025, 10.0) + 2.228_138_851_986_3).abs() < 1e-9);
        assert!(t_quantile(0.5, 3.0) == 0.0 && t_quantile(0.0, 3.0).is_nan());
        for p in [
            1e-10f64,
            1e-4,
            0.01,
            0.3,
            0.499,
            0.51,
            0.9,
            0.999,
            1.0 - 1e-9,
        ] {
            // df = 1 (Cauchy): tan(π(p − ½)) = ±1/tan(πq), q = min(p, 1 − p) (the form
            // without cancellation); df = 2: (2p − 1)/√(2p(1 − p)).
            let cauchy = (p - 0.5).signum() / (PI * p.min(1.0 - p)).tan();
            assert!(rel(t_quantile(p, 1.0), cauchy) < 1e-9, "df 1, p {p}");
            let two = (2.0 * p - 1.0) / (2.0 * p * (1.0 - p)).sqrt();
            assert!(rel(t_quantile(p, 2.0), two) < 1e-9, "df 2, p {p}");
            // Large df: the Cornish–Fisher expansion z + (z³ + z)/(4 df) + O(df⁻²);
            // fractional df round-trips through the CDF.
            let z = normal_quantile(p);
            let cornish_fisher = z + (z.powi(3) + z) / 4e7;
            assert!(
                rel(t_quantile(p, 1e7), cornish_fisher) < 1e-10,
                "df 1e7, p {p}"
            );
            for df in [1.3, 7.5, 250.0] {
                let back = t_cdf(t_quantile(p, df), df);
                assert!(rel(back, p) < 1e-9, "df {df}, p {p}: {back}");
            }
        }
    }

    #[test]
    fn two_sided_p_values() {
        assert!((normal_two_sided_p(-1.959_963_984_540_054) - 0.05).abs() < 1e-15);
        assert!((t_two_sided_p(2.776_445_105_197_8, 4.0) - 0.05).abs() < 1e-12);
        assert_eq!(t_two_sided_p(0.0, 5.0), 1.0);
        // df = 1: P(|T| ≥ 1) = ½.
        assert!((t_two_sided_p(1.0, 1.0) - 0.5).abs() < 1e-14);
    }
}
