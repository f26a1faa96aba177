//! Per-customer predictions at published parameters, cross-checked against published
//! figures and against independent numerical integration of the model definitions.

use cxray_core::models::*;

/// Published BG/NBD estimates on CDNOW (Fader, Hardie & Lee 2005).
const BG: BgNbd = BgNbd {
    r: 0.243,
    alpha: 4.414,
    a: 0.793,
    b: 2.426,
};
/// Published MBG/NBD estimates on CDNOW (BTYDplus, see models_cdnow).
const MBG: MbgNbd = MbgNbd {
    r: 0.525,
    alpha: 6.183,
    a: 0.891,
    b: 1.614,
};
/// Published Pareto/NBD estimates on CDNOW (Fader, Hardie & Lee 2005).
const PNBD: ParetoNbd = ParetoNbd {
    r: 0.553,
    alpha: 10.578,
    s: 0.606,
    beta: 11.669,
};

/// ∫₀¹ p^(a−1) (1−p)^(b−1) g(p) dp by the midpoint rule after p = u^(1/a), which removes
/// the singularity at 0.
fn beta_integral(a: f64, b: f64, g: impl Fn(f64) -> f64) -> f64 {
    const N: usize = 200_000;
    let h = 1.0 / N as f64;
    (0..N)
        .map(|i| {
            let p = ((i as f64 + 0.5) * h).powf(1.0 / a);
            (1.0 - p).powf(b - 1.0) * g(p)
        })
        .sum::<f64>()
        * h
        / a
}

/// ∫_lo^hi f by the midpoint rule.
fn integral(lo: f64, hi: f64, f: impl Fn(f64) -> f64) -> f64 {
    const N: usize = 200_000;
    let h = (hi - lo) / N as f64;
    (0..N).map(|i| f(lo + (i as f64 + 0.5) * h)).sum::<f64>() * h
}

/// E[Y(t) | x, t_x, T] of the BG (shift 0) or MBG (shift 1) model by integrating the
/// Gamma mixture analytically and the Beta mixture numerically.
fn bg_conditional_numeric(r: f64, alpha: f64, a: f64, b: f64, shift: i32, c: &Rfm, t: f64) -> f64 {
    let k = r + c.x;
    let (at, atx) = ((alpha + c.t).powf(-k), (alpha + c.t_x).powf(-k));
    let stay = |p: f64| (1.0 - p).powf(c.x + shift as f64);
    let num = beta_integral(a, b, |p| {
        stay(p) / p * (at - (alpha + c.t + p * t).powf(-k))
    });
    let dead = |p: f64| {
        if c.x > 0.0 || shift == 1 {
            p * (1.0 - p).powf(c.x + shift as f64 - 1.0) * atx
        } else {
            0.0
        }
    };
    let den = beta_integral(a, b, |p| stay(p) * at + dead(p));
    num / den
}

#[test]
fn bgnbd_customer_one_matches_fader_hardie_lee() {
    let c = Rfm::new(2.0, 30.43, 38.86);
    // Published: E[Y(39) | x = 2, t_x = 30.43, T = 38.86] = 1.226.
    let e = BG.expected_conditional(&c, 39.0);
    assert!((e - 1.226).abs() < 5e-4, "{e}");
    // P(alive) closed form 1 / (1 + a/(b+x−1) ((α+T)/(α+t_x))^(r+x)).
    let odds = BG.a / (BG.b + 1.0) * ((BG.alpha + 38.86) / (BG.alpha + 30.43)).powf(BG.r + 2.0);
    assert!((BG.p_alive(&c) - 1.0 / (1.0 + odds)).abs() < 1e-12);
    let numeric = bg_conditional_numeric(BG.r, BG.alpha, BG.a, BG.b, 0, &c, 39.0);
    assert!((e - numeric).abs() < 1e-4, "{e} vs {numeric}");
    assert_eq!(BG.p_alive(&Rfm::new(0.0, 0.0, 30.0)), 1.0);
}

#[test]
fn bg_family_conditional_expectations_match_integration() {
    for c in [
        Rfm::new(0.0, 0.0, 38.86),
        Rfm::new(1.0, 2.0, 36.0),
        Rfm::new(7.0, 35.0, 38.0),
        Rfm::new(25.0, 37.0, 38.5),
    ] {
        for t in [5.0, 39.0, 104.0] {
            let (bg, mbg) = (
                BG.expected_conditional(&c, t),
                MBG.expected_conditional(&c, t),
            );
            let bg_num = bg_conditional_numeric(BG.r, BG.alpha, BG.a, BG.b, 0, &c, t);
            let mbg_num = bg_conditional_numeric(MBG.r, MBG.alpha, MBG.a, MBG.b, 1, &c, t);
            assert!(
                (bg - bg_num).abs() < 1e-4 * (1.0 + bg_num),
                "BG {c:?} t={t}: {bg} vs {bg_num}"
            );
            assert!(
                (mbg - mbg_num).abs() < 1e-4 * (1.0 + mbg_num),
                "MBG {c:?} t={t}: {mbg} vs {mbg_num}"
            );
        }
    }
    // MBG customers without repeats can be dead; BG ones cannot.
    let zero = Rfm::new(0.0, 0.0, 38.86);
    assert!(MBG.p_alive(&zero) < 1.0 && BG.p_alive(&zero) == 1.0);
}

#[test]
fn bg_family_unconditional_expectations_match_integration() {
    for t in [1.0, 39.0, 78.0, 520.0] {
        let norm = beta_integral(BG.a, BG.b, |_| 1.0);
        let bg_num = beta_integral(BG.a, BG.b, |p| {
            (1.0 - (BG.alpha / (BG.alpha + p * t)).powf(BG.r)) / p
        }) / norm;
        let bg = BG.expected_unconditional(t);
        assert!(
            (bg - bg_num).abs() < 1e-5 * (1.0 + bg),
            "t={t}: {bg} vs {bg_num}"
        );
        let norm = beta_integral(MBG.a, MBG.b, |_| 1.0);
        let mbg_num = beta_integral(MBG.a, MBG.b, |p| {
            (1.0 - p) * (1.0 - (MBG.alpha / (MBG.alpha + p * t)).powf(MBG.r)) / p
        }) / norm;
        let mbg = MBG.expected_unconditional(t);
        assert!(
            (mbg - mbg_num).abs() < 1e-5 * (1.0 + mbg),
            "t={t}: {mbg} vs {mbg_num}"
        );
    }
}

#[test]
fn count_distributions_sum_to_one_and_to_the_mean() {
    let models: [(&str, &dyn TransactionModel); 3] = [("bg", &BG), ("mbg", &MBG), ("pnbd", &PNBD)];
    for (name, m) in models {
        for t in [10.0, 39.0] {
            let probs: Vec<f64> = (0..400).map(|n| m.prob_n(n, t)).collect();
            assert!(probs.iter().all(|p| (0.0..=1.0).contains(p)), "{name}");
            let total: f64 = probs.iter().sum();
            let mean: f64 = probs.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
            assert!((total - 1.0).abs() < 1e-8, "{name} t={t}: Σ P = {total}");
            let expected = m.expected_unconditional(t);
            assert!(
                (mean - expected).abs() < 1e-6,
                "{name} t={t}: Σ nP = {mean} vs E[X] = {expected}"
            );
        }
    }
}

#[test]
fn conditional_count_distributions_sum_to_one_to_the_mean_and_to_the_likelihood() {
    let models: [(&str, &dyn TransactionModel); 3] = [("bg", &BG), ("mbg", &MBG), ("pnbd", &PNBD)];
    for (name, m) in models {
        for c in [
            Rfm::new(0.0, 0.0, 38.86),
            Rfm::new(2.0, 30.43, 38.86),
            Rfm::new(7.0, 10.0, 39.0),
            Rfm::new(25.0, 38.0, 39.0),
        ] {
            let t = 39.0;
            let probs: Vec<f64> = (0..600).map(|n| m.prob_n_conditional(&c, n, t)).collect();
            assert!(
                probs.iter().all(|p| (0.0..=1.0).contains(p)),
                "{name} {c:?}"
            );
            let total: f64 = probs.iter().sum();
            let mean: f64 = probs.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
            assert!((total - 1.0).abs() < 1e-8, "{name} {c:?}: Σ P = {total}");
            let expected = m.expected_conditional(&c, t);
            assert!(
                (mean - expected).abs() < 1e-6 * (1.0 + expected),
                "{name} {c:?}: Σ nP = {mean} vs E = {expected}"
            );
            // No purchase in (T, T+t] is the same history observed until T + t:
            // P(Y(t) = 0 | x, t_x, T) = L(x, t_x, T + t) / L(x, t_x, T).
            let longer = Rfm::new(c.x, c.t_x, c.t + t);
            let ratio = (m.log_likelihood(&[longer]) - m.log_likelihood(&[c])).exp();
            assert!(
                (probs[0] - ratio).abs() < 1e-9,
                "{name} {c:?}: P(0) = {} vs {ratio}",
                probs[0]
            );
        }
    }
    // A new BG/NBD or Pareto/NBD customer's conditional distribution is the unconditional.
    let new = Rfm::new(0.0, 0.0, 0.0);
    for n in 0..5 {
        assert!((BG.prob_n_conditional(&new, n, 20.0) - BG.prob_n(n, 20.0)).abs() < 1e-14);
        assert!((PNBD.prob_n_conditional(&new, n, 20.0) - PNBD.prob_n(n, 20.0)).abs() < 1e-12);
    }
}

/// P(alive) of the Pareto/NBD from the likelihood's integral form, integrated numerically
/// on the log scale (stable for large x).
fn pnbd_p_alive_numeric(m: &ParetoNbd, c: &Rfm) -> f64 {
    let ln_f = |tau: f64| -(m.r + c.x) * (m.alpha + tau).ln() - (m.s + 1.0) * (m.beta + tau).ln();
    let scale = ln_f(c.t_x);
    let tail = integral(c.t_x, c.t, |tau| (ln_f(tau) - scale).exp());
    let alive = (-(m.r + c.x) * (m.alpha + c.t).ln() - m.s * (m.beta + c.t).ln() - scale).exp();
    alive / (alive + m.s * tail)
}

#[test]
fn pareto_nbd_p_alive_matches_integration_including_heavy_buyers() {
    let flipped = ParetoNbd { beta: 3.0, ..PNBD }; // α > β: the other branch of the ₂F₁
    for m in [PNBD, flipped] {
        for c in [
            Rfm::new(0.0, 0.0, 38.86),
            Rfm::new(2.0, 30.43, 38.86),
            Rfm::new(10.0, 20.0, 39.0),
            Rfm::new(1000.0, 38.0, 39.0),
            Rfm::new(3000.0, 38.9, 39.0),
            Rfm::new(5000.0, 36.0, 39.0),
        ] {
            let (p, numeric) = (m.p_alive(&c), pnbd_p_alive_numeric(&m, &c));
            assert!(
                p.is_finite() && (p - numeric).abs() < 1e-6,
                "{m:?} {c:?}: {p} vs {numeric}"
            );
            let ll = m.log_likelihood(&[c]);
            assert!(ll.is_finite(), "{c:?}: {ll}");
        }
    }
    // Pareto/NBD conditional expectation: P(alive) · (r+x)(β+T)/((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^(s−1)].
    let c = Rfm::new(2.0, 30.43, 38.86);
    let m = PNBD;
    let per_alive = (m.r + 2.0) * (m.beta + 38.86) / ((m.alpha + 38.86) * (m.s - 1.0))
        * (1.0 - ((m.beta + 38.86) / (m.beta + 38.86 + 39.0)).powf(m.s - 1.0));
    assert!((m.expected_conditional(&c, 39.0) - m.p_alive(&c) * per_alive).abs() < 1e-12);
}

#[test]
fn pareto_nbd_dert_is_the_discounted_integral_of_expected_purchases() {
    // 15% a year compounded annually is ln(1.15)/52 per week compounded continuously.
    let delta = 1.15f64.ln() / 52.0;
    // s = 1: Γ(1−s) z^(s−1) in the paper's expansion of Ψ has a (removable) pole here.
    let flipped = ParetoNbd { s: 1.0, ..PNBD };
    for m in [PNBD, flipped, ParetoNbd { s: 2.5, ..PNBD }] {
        for c in [
            Rfm::new(0.0, 0.0, 38.86),
            Rfm::new(2.0, 30.43, 38.86),
            Rfm::new(7.0, 35.0, 77.86),
            Rfm::new(1000.0, 38.0, 39.0),
        ] {
            // While alive, purchases arrive at rate E[λ] = (r+x)/(α+T) times the chance
            // ((β+T)/(β+T+t))^s of still being alive t later.
            let (rate, bt) = ((m.r + c.x) / (m.alpha + c.t), m.beta + c.t);
            let numeric = integral(0.0, 30.0 / delta, |t| {
                rate * (-delta * t).exp() * (bt / (bt + t)).powf(m.s)
            });
            let dert = m.dert_if_alive(c.x, c.t, delta);
            assert!(
                (dert - numeric).abs() < 1e-6 * numeric,
                "{m:?} {c:?}: {dert} vs {numeric}"
            );
            assert!((m.dert(&c, delta) - m.p_alive(&c) * dert).abs() < 1e-12 * dert);
            // The quadrature every other model uses agrees with the closed form.
            let quadrature = dert_by_quadrature(&m, c.x, c.t, delta);
            assert!(
                (quadrature - dert).abs() < 1e-9 * dert,
                "{quadrature} vs {dert}"
            );
        }
    }
    // BG and MBG by quadrature against weekly periods summed for 200 years, each discounted
    // from its middle (error O((δ·week)²)).
    let weekly = ClvSpec {
        period_length: 1.0,
        periods: 52 * 200,
        discount_rate: delta.exp_m1(),
    };
    let models: [(&str, &dyn TransactionModel); 2] = [("bg", &BG), ("mbg", &MBG)];
    for (name, m) in models {
        for (x, age) in [(0.0, 38.86), (2.0, 38.86), (25.0, 39.0)] {
            let periods = discounted_if_alive(m, x, age, &weekly) * (0.5 * delta).exp();
            let dert = m.dert_if_alive(x, age, delta);
            assert!(
                (dert - periods).abs() < 1e-5 * periods,
                "{name} x {x}: {dert} vs {periods}"
            );
        }
    }
    // Without discounting it tends to E[λ] · E[lifetime] = (r+x)/(α+T) · (β+T)/(s−1).
    let m = ParetoNbd { s: 2.5, ..PNBD };
    let undiscounted = (m.r + 2.0) / (m.alpha + 38.86) * (m.beta + 38.86) / (m.s - 1.0);
    let dert = m.dert_if_alive(2.0, 38.86, 1e-9);
    assert!((dert - undiscounted).abs() < 1e-6 * undiscounted, "{dert}");
}

#[test]
fn gamma_gamma_conditional_spend_is_the_posterior_mean() {
    let gg = GammaGamma {
        p: 6.25,
        q: 3.74,
        gamma: 15.44,
    };
    assert!((gg.conditional_expected_spend(0.0, 99.0) - gg.expected_spend()).abs() < 1e-12);
    for (x, m) in [(1.0, 20.0), (4.0, 35.5), (30.0, 10.0)] {
        // ν | data ~ Gamma(q + px, γ + x m); E[p/ν] by numerical integration over ν.
        let (shape, rate) = (gg.q + gg.p * x, gg.gamma + x * m);
        let mode = (shape - 1.0) / rate;
        let dens = |v: f64| ((shape - 1.0) * (v / mode).ln() - rate * (v - mode)).exp();
        let hi = 20.0 * shape / rate;
        let numeric = integral(0.0, hi, |v| gg.p / v * dens(v)) / integral(0.0, hi, dens);
        let e = gg.conditional_expected_spend(x, m);
        assert!((e - numeric).abs() < 1e-6 * e, "{e} vs {numeric}");
        assert!(e > m.min(gg.expected_spend()) && e < m.max(gg.expected_spend()));
    }
}

#[test]
fn clv_discounts_expected_transactions_per_period() {
    let c = Rfm::new(2.0, 30.43, 38.86);
    let monthly = ClvSpec {
        period_length: 52.0 / 12.0,
        periods: 24,
        discount_rate: 0.0,
    };
    // Undiscounted: spend · E[Y(24 months)].
    let plain = clv(&BG, &c, 40.0, &monthly);
    assert!(
        (plain - 40.0 * BG.expected_conditional(&c, 104.0)).abs() < 1e-9,
        "{plain}"
    );
    let spec = ClvSpec {
        discount_rate: 0.01,
        ..monthly
    };
    let manual: f64 = (1..=24)
        .map(|k| {
            let period = |k: f64| BG.expected_conditional(&c, k * 52.0 / 12.0);
            (period(k as f64) - period(k as f64 - 1.0)) * 40.0 / 1.01f64.powi(k)
        })
        .sum();
    let discounted = clv(&BG, &c, 40.0, &spec);
    assert!(
        (discounted - manual).abs() < 1e-9 && discounted < plain,
        "{discounted} vs {manual}"
    );
    let mut twice = c;
    twice.weight = 2.0;
    let equity = customer_equity(
        &PNBD,
        &[(twice, 40.0), (Rfm::new(0.0, 0.0, 30.0), 25.0)],
        &spec,
    );
    let expected =
        2.0 * clv(&PNBD, &c, 40.0, &spec) + clv(&PNBD, &Rfm::new(0.0, 0.0, 30.0), 25.0, &spec);
    assert!((equity - expected).abs() < 1e-9);
}

#[test]
fn pattern_values_equal_the_per_customer_predictions() {
    let patterns = compress_rfm(crate::cdnow::sample().iter().map(|c| (c.x, c.t_x, c.t)));
    let spec = ClvSpec {
        period_length: 1.0,
        periods: 52,
        discount_rate: 0.002,
    };
    let models: [&dyn TransactionModel; 3] = [&BG, &MBG, &PNBD];
    for m in models {
        let values = pattern_values(m, &patterns, 52.0, &spec);
        assert_eq!(values.len(), patterns.len());
        for (c, v) in patterns.iter().zip(&values) {
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1e-300);
            assert!(close(v.p_alive, m.p_alive(c)), "{c:?}");
            assert!(close(v.expected, m.expected_conditional(c, 52.0)), "{c:?}");
            assert!(close(v.clv_per_spend, clv(m, c, 1.0, &spec)), "{c:?}");
        }
    }
}
