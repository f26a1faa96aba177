//! Fits on the CDNOW sample against published estimates.

use crate::cdnow;
use cxray_core::models::*;

fn patterns() -> Vec<Rfm> {
    compress_rfm(cdnow::sample().iter().map(|c| (c.x, c.t_x, c.t)))
}

#[test]
fn summary_matches_the_published_customer_one() {
    let customers = cdnow::sample();
    assert_eq!(customers.len(), 2357);
    let c = &customers[0];
    assert_eq!(c.x, 2.0);
    assert!(
        (c.t_x - 30.43).abs() < 0.005 && (c.t - 38.86).abs() < 0.005,
        "{c:?}"
    );
    assert_eq!(customers.iter().filter(|c| c.x > 0.0).count(), 946);
}

#[test]
fn bgnbd_matches_fader_hardie_lee_2005() {
    let (m, fit) = BgNbd::fit(&patterns(), &FitOptions::default()).unwrap();
    assert!(fit.converged && fit.hessian_positive_definite && fit.gradient_norm < 1e-6);
    assert_eq!((fit.n_customers, fit.model), (2357.0, ModelKind::BgNbd));
    assert!((fit.aic - (8.0 - 2.0 * fit.log_likelihood)).abs() < 1e-9);
    assert!(
        (m.r - 0.243).abs() < 5e-4 && (m.alpha - 4.414).abs() < 5e-4,
        "{m:?}"
    );
    assert!(
        (m.a - 0.793).abs() < 5e-4 && (m.b - 2.426).abs() < 5e-4,
        "{m:?}"
    );
    assert!(
        (fit.log_likelihood + 9582.4).abs() < 0.05,
        "{}",
        fit.log_likelihood
    );
}

#[test]
fn grouped_likelihoods_equal_the_sum_over_customers() {
    // The fits tabulate patterns by x, T and t_x; one customer at a time there is
    // nothing to share, so the sum over customers is the direct likelihood.
    let customers: Vec<Rfm> = cdnow::sample()
        .iter()
        .map(|c| Rfm::new(c.x, c.t_x, c.t))
        .collect();
    let models: [Box<dyn TransactionModel>; 3] = [
        Box::new(BgNbd {
            r: 0.243,
            alpha: 4.414,
            a: 0.793,
            b: 2.426,
        }),
        Box::new(MbgNbd {
            r: 0.525,
            alpha: 6.183,
            a: 0.891,
            b: 1.614,
        }),
        Box::new(ParetoNbd {
            r: 0.553,
            alpha: 10.578,
            s: 0.606,
            beta: 11.669,
        }),
    ];
    for m in &models {
        let grouped = m.log_likelihood(&patterns());
        let direct: f64 = customers.iter().map(|c| m.log_likelihood(&[*c])).sum();
        assert!(
            (grouped - direct).abs() < 1e-10 * direct.abs(),
            "{grouped} vs {direct}"
        );
    }
}

#[test]
fn fit_serialises_with_paper_names_in_order() {
    let (_, fit) = BgNbd::fit(&patterns(), &FitOptions::default()).unwrap();
    let json = serde_json::to_string(&fit).unwrap();
    assert!(
        json.starts_with(r#"{"model":"bgnbd","params":{"r":"#),
        "{json}"
    );
    let order: Vec<usize> = ["\"r\"", "\"alpha\"", "\"a\"", "\"b\""]
        .iter()
        .map(|k| json.find(k).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{json}");
    for key in [
        "std_errors",
        "log_likelihood",
        "n_customers",
        "converged",
        "gradient_norm",
        "aic",
        "iterations",
    ] {
        assert!(
            json.contains(&format!("\"{key}\"")),
            "{key} missing: {json}"
        );
    }
    let back: Fit = serde_json::from_str(&json).unwrap();
    let (a, b) = (
        BgNbd::from_fit(&back).unwrap(),
        BgNbd::from_fit(&fit).unwrap(),
    );
    assert!((a.r / b.r - 1.0).abs() < 1e-14 && (a.b / b.b - 1.0).abs() < 1e-14);
    assert_eq!(back.std_errors.0.len(), 4);
    assert!(ParetoNbd::from_fit(&fit).is_err());
}

#[test]
fn penalty_shrinks_the_estimates() {
    let opts = FitOptions {
        penalty: 0.1,
        ..FitOptions::default()
    };
    let (plain, _) = BgNbd::fit(&patterns(), &FitOptions::default()).unwrap();
    let (shrunk, fit) = BgNbd::fit(&patterns(), &opts).unwrap();
    assert!(fit.converged && fit.penalty == 0.1);
    assert!(
        shrunk.alpha < plain.alpha && shrunk.b < plain.b,
        "{shrunk:?} vs {plain:?}"
    );
    assert!(fit.log_likelihood < -9582.43);
}

#[test]
fn pareto_nbd_matches_fader_hardie_lee_2005() {
    // Fader, Hardie & Lee (2005), "A note on deriving the Pareto/NBD model and related
    // expressions" / "RFM and CLV": r = 0.553, α = 10.578, s = 0.606, β = 11.669,
    // LL = −9595.0.
    let (m, fit) = ParetoNbd::fit(&patterns(), &FitOptions::default()).unwrap();
    assert!(fit.converged && fit.hessian_positive_definite);
    assert!(
        (m.r - 0.553).abs() < 5e-4 && (m.alpha - 10.578).abs() < 5e-4,
        "{m:?}"
    );
    assert!(
        (m.s - 0.606).abs() < 5e-4 && (m.beta - 11.669).abs() < 5e-4,
        "{m:?}"
    );
    assert!(
        (fit.log_likelihood + 9595.0).abs() < 0.05,
        "{}",
        fit.log_likelihood
    );
}

#[test]
fn mbgnbd_matches_btydplus() {
    // No CDNOW estimate is published in Batislam et al. (2007) (they used grocery data).
    // The widely reproduced figures are BTYDplus's (Platzer), also asserted by Python
    // `lifetimes` (test_params_out_is_close_to_BTYDplus): r = 0.525, α = 6.183,
    // a = 0.891, b = 1.614. Recovery from simulated data is checked in models_sim.
    let (m, fit) = MbgNbd::fit(&patterns(), &FitOptions::default()).unwrap();
    assert!(fit.converged && fit.hessian_positive_definite);
    assert!(
        (m.r - 0.525).abs() < 5e-4 && (m.alpha - 6.183).abs() < 5e-4,
        "{m:?}"
    );
    assert!(
        (m.a - 0.891).abs() < 5e-4 && (m.b - 1.614).abs() < 5e-4,
        "{m:?}"
    );
    assert_eq!(fit.model, ModelKind::MbgNbd);
}

#[test]
fn gamma_gamma_matches_fader_hardie_lee_2005() {
    let spend = compress_spend(
        cdnow::sample()
            .iter()
            .filter(|c| c.x > 0.0)
            .map(|c| (c.x, c.mean_repeat_spend)),
    );
    // Fader, Hardie & Lee (2005), "RFM and CLV": p = 6.25, q = 3.74, γ = 15.44 on the 946
    // customers with repeat purchases, mean repeat-transaction value.
    let (m, fit) = GammaGamma::fit(&spend, &FitOptions::default()).unwrap();
    assert!(fit.converged && fit.hessian_positive_definite);
    assert_eq!(fit.n_customers, 946.0);
    assert!(
        (m.p - 6.25).abs() < 5e-3 && (m.q - 3.74).abs() < 5e-3 && (m.gamma - 15.44).abs() < 5e-3,
        "{m:?}"
    );
}

#[test]
fn holdout_transactions_are_predicted() {
    // Calibration/holdout validation: Σ E[Y(39) | history] against the repeat transactions
    // actually made in the 39-week holdout (1997-10-01..1998-06-30): 1,882 in the sample.
    // Both models underpredict CDNOW's holdout slightly (about 12%, as the published
    // tracking plots show); the check is that they are close and agree with each other.
    let customers = cdnow::sample();
    let actual: f64 = customers.iter().map(|c| c.holdout_x).sum();
    let (bg, _) = BgNbd::fit(&patterns(), &FitOptions::default()).unwrap();
    let (pnbd, _) = ParetoNbd::fit(&patterns(), &FitOptions::default()).unwrap();
    assert_eq!(actual, 1882.0);
    let predict = |m: &dyn TransactionModel| -> f64 {
        customers
            .iter()
            .map(|c| m.expected_conditional(&Rfm::new(c.x, c.t_x, c.t), 39.0))
            .sum()
    };
    let (p_bg, p_pnbd) = (predict(&bg), predict(&pnbd));
    assert!(
        (p_bg / actual - 1.0).abs() < 0.15 && (p_pnbd / p_bg - 1.0).abs() < 0.02,
        "{p_bg} {p_pnbd}"
    );
}

#[test]
fn fits_do_not_depend_on_the_order_of_the_patterns() {
    let opts = FitOptions::default();
    let forward = patterns();
    let backward: Vec<Rfm> = forward.iter().rev().copied().collect();
    for kind in [ModelKind::BgNbd, ModelKind::MbgNbd, ModelKind::ParetoNbd] {
        let (_, a) = fit_transactions(kind, &forward, &opts).unwrap();
        let (_, b) = fit_transactions(kind, &backward, &opts).unwrap();
        assert_eq!(a, b, "{kind}");
    }
    let spend = compress_spend(
        cdnow::sample()
            .iter()
            .filter(|c| c.x > 0.0)
            .map(|c| (c.x, c.mean_repeat_spend)),
    );
    let reversed: Vec<SpendPattern> = spend.iter().rev().copied().collect();
    assert_eq!(
        GammaGamma::fit(&spend, &opts).unwrap().1,
        GammaGamma::fit(&reversed, &opts).unwrap().1
    );
}
