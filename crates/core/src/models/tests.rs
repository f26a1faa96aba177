//! Analytic gradients against central finite differences at random points.

use super::data::{group_by_x, rfm_order, tabulate};
use super::*;
use crate::rng::Rng;

/// Checks `ll_grad` against central differences at `params`.
fn check(name: &str, params: &[f64], ll_grad: impl Fn(&[f64], &mut [f64]) -> f64) {
    let n = params.len();
    let mut grad = vec![0.0; n];
    let value = ll_grad(params, &mut grad);
    assert!(value.is_finite(), "{name}: ll {value}");
    for i in 0..n {
        let h = 1e-6 * params[i];
        let (mut up, mut down) = (params.to_vec(), params.to_vec());
        up[i] += h;
        down[i] -= h;
        let scratch = &mut vec![0.0; n];
        let numeric = (ll_grad(&up, scratch) - ll_grad(&down, scratch)) / (2.0 * h);
        let tol = 1e-6 * (1.0 + numeric.abs()) + 1e-9 * value.abs() / params[i];
        assert!(
            (grad[i] - numeric).abs() < tol,
            "{name} ∂/∂θ{i} at {params:?}: {} vs {numeric}",
            grad[i]
        );
    }
}

fn random_rfm(rng: &mut Rng, count: usize) -> Vec<Rfm> {
    let mut out: Vec<Rfm> = (0..count)
        .map(|_| {
            let t = 1.0 + 50.0 * rng.uniform();
            let x = if rng.bernoulli(0.3) {
                0.0
            } else {
                (1 + rng.below(20)) as f64
            };
            let t_x = if x == 0.0 {
                0.0
            } else {
                t * rng.open_uniform()
            };
            Rfm {
                x,
                t_x,
                t,
                weight: 1.0 + rng.below(5) as f64,
            }
        })
        .collect();
    out.push(Rfm::new(1500.0, 30.0, 31.0));
    out.push(Rfm::new(4.0, 12.0, 12.0));
    out
}

fn random_point(rng: &mut Rng, n: usize) -> Vec<f64> {
    (0..n).map(|_| (rng.uniform() * 4.0 - 2.0).exp()).collect()
}

#[test]
fn transaction_model_gradients_match_differences() {
    let mut rng = Rng::new(11);
    let data = random_rfm(&mut rng, 60);
    let (sorted, groups) = group_by_x(&data, |r| r.x, rfm_order);
    let tabulated = tabulate(&data);
    for _ in 0..10 {
        let p = random_point(&mut rng, 4);
        check("bgnbd", &p, |v, g| {
            BgNbd {
                r: v[0],
                alpha: v[1],
                a: v[2],
                b: v[3],
            }
            .ll_grad(&tabulated, g)
        });
        check("mbgnbd", &p, |v, g| {
            MbgNbd {
                r: v[0],
                alpha: v[1],
                a: v[2],
                b: v[3],
            }
            .ll_grad(&tabulated, g)
        });
        check("pnbd", &p, |v, g| {
            ParetoNbd {
                r: v[0],
                alpha: v[1],
                s: v[2],
                beta: v[3],
            }
            .ll_grad(&sorted, &groups, g)
        });
    }
}

#[test]
fn spend_and_retention_gradients_match_differences() {
    let mut rng = Rng::new(12);
    let spend: Vec<SpendPattern> = (0..50)
        .map(|_| SpendPattern {
            x: (1 + rng.below(15)) as f64,
            mean_spend: 5.0 + 100.0 * rng.uniform(),
            weight: 1.0,
        })
        .collect();
    let spend_groups = super::gamma_gamma::spend_groups(&spend);
    let tenure: Vec<Tenure> = (0..30)
        .map(|_| Tenure {
            periods: 1 + rng.below(12) as u32,
            churned: rng.bernoulli(0.6),
            weight: 1.0 + rng.below(9) as f64,
        })
        .collect();
    for _ in 0..10 {
        let p = random_point(&mut rng, 3);
        check("gamma_gamma", &p, |v, g| {
            GammaGamma {
                p: v[0],
                q: v[1],
                gamma: v[2],
            }
            .ll_grad(&spend_groups, g)
        });
        check("sbg", &p[..2], |v, g| {
            Sbg {
                alpha: v[0],
                beta: v[1],
            }
            .ll_grad(&tenure, g)
        });
    }
}

/// One customer's BG/NBD (`shift` 0) or MBG/NBD (`shift` 1) log-likelihood and its
/// gradient in (r, α, a, b), straight from the paper's formula: the reference for the
/// tabulated likelihood.
fn bg_direct(p: &[f64], shift: f64, c: &Rfm) -> (f64, [f64; 4]) {
    use super::special::{digamma, ln_beta, ln_gamma};
    let (r, alpha, a, b) = (p[0], p[1], p[2], p[3]);
    let (k, bx) = (r + c.x, b + c.x + shift);
    let common = ln_gamma(k) - ln_gamma(r) + r * alpha.ln() + ln_beta(a, bx) - ln_beta(a, b);
    let d_common = [
        digamma(k) - digamma(r) + alpha.ln(),
        r / alpha,
        digamma(a + b) - digamma(a + bx),
        digamma(bx) - digamma(a + bx) - digamma(b) + digamma(a + b),
    ];
    let alive = -k * (alpha + c.t).ln();
    let d_alive = [-(alpha + c.t).ln(), -k / (alpha + c.t), 0.0, 0.0];
    if c.x == 0.0 && shift == 0.0 {
        return (
            common + alive,
            std::array::from_fn(|i| d_common[i] + d_alive[i]),
        );
    }
    let dead = ln_beta(a + 1.0, bx - 1.0) - ln_beta(a, bx) - k * (alpha + c.t_x).ln();
    let d_dead = [
        -(alpha + c.t_x).ln(),
        -k / (alpha + c.t_x),
        1.0 / a,
        -1.0 / (bx - 1.0),
    ];
    let m = alive.max(dead);
    let (ea, ed) = ((alive - m).exp(), (dead - m).exp());
    let value = common + m + (ea + ed).ln();
    let grad =
        std::array::from_fn(|i| d_common[i] + (ea * d_alive[i] + ed * d_dead[i]) / (ea + ed));
    (value, grad)
}

#[test]
fn tabulated_bg_likelihoods_equal_the_direct_formula() {
    let mut rng = Rng::new(13);
    let mut data = random_rfm(&mut rng, 300);
    // Repeated T and t_x values, as whole days give.
    data.extend((0..200).map(|i| {
        let t = (20 + i % 7) as f64 / 7.0 * 10.0;
        Rfm::new(
            (i % 4) as f64,
            if i % 4 == 0 {
                0.0
            } else {
                t * (i % 5) as f64 / 5.0 + 0.5
            },
            t,
        )
    }));
    let tabulated = tabulate(&data);
    for _ in 0..10 {
        let p = random_point(&mut rng, 4);
        for shift in [0.0, 1.0] {
            let mut grad = [0.0; 4];
            let value = if shift == 0.0 {
                BgNbd {
                    r: p[0],
                    alpha: p[1],
                    a: p[2],
                    b: p[3],
                }
                .ll_grad(&tabulated, &mut grad)
            } else {
                MbgNbd {
                    r: p[0],
                    alpha: p[1],
                    a: p[2],
                    b: p[3],
                }
                .ll_grad(&tabulated, &mut grad)
            };
            let (mut direct, mut d_direct) = (0.0, [0.0; 4]);
            for c in &data {
                let (v, d) = bg_direct(&p, shift, c);
                direct += c.weight * v;
                d_direct
                    .iter_mut()
                    .zip(d)
                    .for_each(|(s, di)| *s += c.weight * di);
            }
            assert!(
                (value - direct).abs() <= 1e-10 * direct.abs(),
                "{p:?} {shift}: {value} vs {direct}"
            );
            let scale = d_direct.iter().fold(0.0f64, |m, d| m.max(d.abs()));
            for i in 0..4 {
                assert!(
                    (grad[i] - d_direct[i]).abs() <= 1e-10 * scale.max(direct.abs() / p[i]),
                    "{p:?} {shift} ∂{i}: {} vs {}",
                    grad[i],
                    d_direct[i]
                );
            }
        }
    }
}

#[test]
fn grouped_spend_likelihood_equals_the_sum_over_patterns() {
    let mut rng = Rng::new(14);
    let spend: Vec<SpendPattern> = (0..400)
        .map(|_| SpendPattern {
            x: (1 + rng.below(6)) as f64,
            mean_spend: 1.0 + 200.0 * rng.uniform(),
            weight: 1.0 + rng.below(4) as f64,
        })
        .collect();
    assert_grouped_gamma_gamma(&spend);
}

#[test]
fn likelihoods_summed_on_two_threads_equal_the_direct_sums() {
    // Enough patterns for the two-thread path of `sum_groups`.
    let mut rng = Rng::new(15);
    let data = random_rfm(&mut rng, 60_000);
    let p = [0.25, 4.7, 0.78, 2.4];
    let mut grad = [0.0; 4];
    let value = BgNbd {
        r: p[0],
        alpha: p[1],
        a: p[2],
        b: p[3],
    }
    .ll_grad(&tabulate(&data), &mut grad);
    let (mut direct, mut d_direct) = (0.0, [0.0; 4]);
    for c in &data {
        let (v, d) = bg_direct(&p, 0.0, c);
        direct += c.weight * v;
        d_direct
            .iter_mut()
            .zip(d)
            .for_each(|(s, di)| *s += c.weight * di);
    }
    assert!(
        (value - direct).abs() <= 1e-10 * direct.abs(),
        "{value} vs {direct}"
    );
    for i in 0..4 {
        assert!(
            (grad[i] - d_direct[i]).abs() <= 1e-10 * direct.abs() / p[i],
            "∂{i}"
        );
    }
    let spend: Vec<SpendPattern> = (0..60_000)
        .map(|_| SpendPattern {
            x: (1 + rng.below(6)) as f64,
            mean_spend: 1.0 + 200.0 * rng.uniform(),
            weight: 1.0,
        })
        .collect();
    assert_grouped_gamma_gamma(&spend);
}

/// The grouped Gamma-Gamma likelihood equals the sum pattern by pattern.
fn assert_grouped_gamma_gamma(spend: &[SpendPattern]) {
    let m = GammaGamma {
        p: 6.25,
        q: 3.74,
        gamma: 15.44,
    };
    let grouped = m.log_likelihood(spend);
    let direct: f64 = spend.iter().map(|d| m.log_likelihood(&[*d])).sum();
    assert!(
        (grouped - direct).abs() < 1e-10 * direct.abs(),
        "{grouped} vs {direct}"
    );
}
