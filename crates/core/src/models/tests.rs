//! Analytic gradients against central finite differences at random points.

use super::data::group_by_x;
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
    let (sorted, groups) = group_by_x(&data, |r| r.x);
    for _ in 0..10 {
        let p = random_point(&mut rng, 4);
        check("bgnbd", &p, |v, g| {
            BgNbd {
                r: v[0],
                alpha: v[1],
                a: v[2],
                b: v[3],
            }
            .ll_grad(&sorted, &groups, g)
        });
        check("mbgnbd", &p, |v, g| {
            MbgNbd {
                r: v[0],
                alpha: v[1],
                a: v[2],
                b: v[3],
            }
            .ll_grad(&sorted, &groups, g)
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
    let (sorted, groups) = group_by_x(&spend, |d| d.x);
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
            .ll_grad(&sorted, &groups, g)
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
