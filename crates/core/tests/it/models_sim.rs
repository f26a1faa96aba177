//! Recovery of known parameters from 100,000 simulated customers per seed: estimates
//! should fall within two standard errors of the truth in about 95% of cases.

use cxray_core::models::*;
use cxray_core::rng::Rng;

const SEEDS: [u64; 4] = [1, 2, 3, 4];
/// Customers simulated per seed.
const CUSTOMERS: u64 = 100_000;

/// Counts |estimate − truth| < 2·SE over all seeds and parameters; asserts most are, and
/// that none is beyond 4·SE.
fn assert_recovered(name: &str, truth: &[f64], fits: &[Fit]) {
    let mut inside = 0;
    let mut total = 0;
    for fit in fits {
        assert!(
            fit.converged && fit.hessian_positive_definite,
            "{name}: {fit:?}"
        );
        for ((_, est), ((_, se), truth)) in
            fit.params.0.iter().zip(fit.std_errors.0.iter().zip(truth))
        {
            let z = (est - truth) / se;
            assert!(
                z.abs() < 4.0,
                "{name}: estimate {est} vs truth {truth}, se {se}"
            );
            inside += usize::from(z.abs() < 2.0);
            total += 1;
        }
    }
    assert!(
        inside as f64 >= 0.8 * total as f64,
        "{name}: only {inside} of {total} within 2 SE"
    );
}

/// A customer who joined on a whole day of a 12-week cohort and is observed to week 39.
fn observed_for(rng: &mut Rng) -> f64 {
    (273.0 - rng.below(84) as f64) / 7.0
}

/// BG (modified = false) or MBG (true) customers: purchases at rate λ, dropout with
/// probability p after each purchase (and, for MBG, at the start).
fn simulate_bg(seed: u64, n: u64, truth: &[f64], modified: bool) -> Vec<Rfm> {
    compress_rfm((0..n).map(|i| {
        let mut rng = Rng::stream(seed, i);
        let t = observed_for(&mut rng);
        let lambda = rng.gamma(truth[0], truth[1]);
        let p = rng.beta(truth[2], truth[3]);
        let (mut x, mut t_x, mut now) = (0.0, 0.0, 0.0);
        let mut alive = !(modified && rng.bernoulli(p));
        while alive {
            now += rng.exponential(lambda);
            if now > t {
                break;
            }
            x += 1.0;
            t_x = now;
            alive = !rng.bernoulli(p);
        }
        (x, t_x, t)
    }))
}

/// Pareto/NBD customers: purchases at rate λ until an exponential lifetime with rate μ.
fn simulate_pnbd(seed: u64, n: u64, truth: &[f64]) -> Vec<Rfm> {
    compress_rfm((0..n).map(|i| {
        let mut rng = Rng::stream(seed, i);
        let t = observed_for(&mut rng);
        let lambda = rng.gamma(truth[0], truth[1]);
        let mu = rng.gamma(truth[2], truth[3]);
        let end = rng.exponential(mu).min(t);
        let (mut x, mut t_x, mut now) = (0.0, 0.0, 0.0);
        loop {
            now += rng.exponential(lambda);
            if now > end {
                break (x, t_x, t);
            }
            x += 1.0;
            t_x = now;
        }
    }))
}

/// Gamma-Gamma spend of customers with 1 + Poisson(2) repeat purchases.
fn simulate_spend(seed: u64, n: u64, truth: &[f64]) -> Vec<SpendPattern> {
    compress_spend((0..n).map(|i| {
        let mut rng = Rng::stream(seed, i);
        let nu = rng.gamma(truth[1], truth[2]);
        let x = 1 + rng.poisson(2.0);
        let total: f64 = (0..x).map(|_| rng.gamma(truth[0], nu)).sum();
        (x as f64, total / x as f64)
    }))
}

#[test]
fn bgnbd_recovers_known_parameters() {
    let truth = [0.25, 4.0, 0.8, 2.5];
    let fits: Vec<Fit> = SEEDS
        .iter()
        .map(|s| {
            BgNbd::fit(
                &simulate_bg(*s, CUSTOMERS, &truth, false),
                &FitOptions::default(),
            )
            .unwrap()
            .1
        })
        .collect();
    assert_recovered("bgnbd", &truth, &fits);
}

#[test]
fn warm_started_fits_equal_fits_from_the_starts() {
    // Enough patterns for the warm start on thinned data: the same estimates as without, to
    // the optimiser's tolerance (a gradient of 1e-6 leaves a few parts in a million on a
    // weakly determined direction).
    let cold = FitOptions {
        warm_start: false,
        ..FitOptions::default()
    };
    let data = simulate_bg(9, CUSTOMERS, &[0.25, 4.0, 0.8, 2.5], false);
    let spend = simulate_spend(9, CUSTOMERS, &[6.0, 4.0, 15.0]);
    assert!(
        data.len().min(spend.len()) > 20_000,
        "{} patterns",
        data.len()
    );
    let (_, warm_bg) = BgNbd::fit(&data, &FitOptions::default()).unwrap();
    let (_, cold_bg) = BgNbd::fit(&data, &cold).unwrap();
    let (_, warm_gg) = GammaGamma::fit(&spend, &FitOptions::default()).unwrap();
    let (_, cold_gg) = GammaGamma::fit(&spend, &cold).unwrap();
    let modified = simulate_bg(9, CUSTOMERS, &[0.5, 6.0, 0.9, 1.6], true);
    let (_, warm_mbg) = MbgNbd::fit(&modified, &FitOptions::default()).unwrap();
    let (_, cold_mbg) = MbgNbd::fit(&modified, &cold).unwrap();
    let pareto = simulate_pnbd(9, CUSTOMERS, &[0.55, 10.5, 0.6, 12.0]);
    let (_, warm_pnbd) = ParetoNbd::fit(&pareto, &FitOptions::default()).unwrap();
    let (_, cold_pnbd) = ParetoNbd::fit(&pareto, &cold).unwrap();
    for (warm, cold) in [
        (warm_bg, cold_bg),
        (warm_gg, cold_gg),
        (warm_mbg, cold_mbg),
        (warm_pnbd, cold_pnbd),
    ] {
        assert!(warm.converged && cold.converged, "{warm:?}\n{cold:?}");
        for ((name, w), (_, c)) in warm.params.0.iter().zip(&cold.params.0) {
            assert!((w - c).abs() < 5e-6 * c.abs(), "{name}: {w} vs {c}");
        }
        for ((name, w), (_, c)) in warm.std_errors.0.iter().zip(&cold.std_errors.0) {
            assert!((w - c).abs() < 1e-4 * c.abs(), "se {name}: {w} vs {c}");
        }
        let ll = cold.log_likelihood;
        assert!((warm.log_likelihood - ll).abs() < 1e-10 * ll.abs());
    }
}

#[test]
fn mbgnbd_recovers_known_parameters() {
    let truth = [0.5, 6.0, 0.9, 1.6];
    let fits: Vec<Fit> = SEEDS
        .iter()
        .map(|s| {
            MbgNbd::fit(
                &simulate_bg(*s, CUSTOMERS, &truth, true),
                &FitOptions::default(),
            )
            .unwrap()
            .1
        })
        .collect();
    assert_recovered("mbgnbd", &truth, &fits);
}

#[test]
fn pareto_nbd_recovers_known_parameters() {
    let truth = [0.55, 10.5, 0.6, 12.0];
    let fits: Vec<Fit> = SEEDS
        .iter()
        .map(|s| {
            ParetoNbd::fit(
                &simulate_pnbd(*s, CUSTOMERS, &truth),
                &FitOptions::default(),
            )
            .unwrap()
            .1
        })
        .collect();
    assert_recovered("pnbd", &truth, &fits);
}

#[test]
fn gamma_gamma_recovers_known_parameters() {
    let truth = [6.0, 4.0, 15.0];
    let fits: Vec<Fit> = SEEDS
        .iter()
        .map(|seed| {
            GammaGamma::fit(
                &simulate_spend(*seed, CUSTOMERS, &truth),
                &FitOptions::default(),
            )
            .unwrap()
            .1
        })
        .collect();
    assert_recovered("gamma_gamma", &truth, &fits);
}

#[test]
fn sbg_recovers_known_parameters() {
    let truth = [0.7, 1.2];
    let fits: Vec<Fit> = SEEDS
        .iter()
        .map(|seed| {
            // Contracts observed for up to 8 periods; tenure compressed by counting.
            let mut counts = std::collections::BTreeMap::new();
            for i in 0..20_000 {
                let mut rng = Rng::stream(*seed, i);
                let theta = rng.beta(truth[0], truth[1]);
                let churn_at = (1..=8).find(|_| rng.bernoulli(theta));
                *counts
                    .entry(churn_at.map_or((8, false), |t| (t, true)))
                    .or_insert(0.0) += 1.0;
            }
            let data: Vec<Tenure> = counts
                .into_iter()
                .map(|((periods, churned), weight)| Tenure {
                    periods,
                    churned,
                    weight,
                })
                .collect();
            Sbg::fit_tenure(&data, &FitOptions::default()).unwrap().1
        })
        .collect();
    assert_recovered("sbg", &truth, &fits);
}

#[test]
fn pareto_nbd_fits_data_with_thousands_of_transactions() {
    let truth = [0.55, 10.5, 0.6, 12.0];
    let mut data = simulate_pnbd(9, 5_000, &truth);
    data.extend([
        Rfm::new(1200.0, 38.0, 39.0),
        Rfm::new(2500.0, 38.995, 39.0),
        Rfm::new(4000.0, 20.0, 39.0),
    ]);
    let (m, fit) = ParetoNbd::fit(&data, &FitOptions::default()).unwrap();
    assert!(fit.converged && fit.log_likelihood.is_finite(), "{fit:?}");
    assert!(m.p_alive(&Rfm::new(2500.0, 38.995, 39.0)) > 0.5);
    assert!(m.p_alive(&Rfm::new(4000.0, 20.0, 39.0)) < 1e-6);
    let e = m.expected_conditional(&Rfm::new(2500.0, 38.995, 39.0), 39.0);
    assert!(e.is_finite() && e > 100.0, "{e}");
    // BG/NBD predictions stay finite for the same heavy buyers.
    let (bg, _) = BgNbd::fit(&data, &FitOptions::default()).unwrap();
    let e = bg.expected_conditional(&Rfm::new(2500.0, 38.995, 39.0), 39.0);
    assert!(e.is_finite() && e > 100.0, "{e}");
}
