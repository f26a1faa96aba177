//! Driver analysis against published results (R's `attitude` data: `lm`, general
//! dominance), hand-checkable logistic fits, recovery of known models from simulated data,
//! bootstrap coverage, and the errors for bad input.

use cxray_core::drivers::*;
use cxray_core::rng::Rng;

/// Chatterjee & Price's supervisor survey, R's `datasets::attitude`: rating, complaints,
/// privileges, learning, raises, critical, advance.
const ATTITUDE: [[f64; 7]; 30] = [
    [43., 51., 30., 39., 61., 92., 45.],
    [63., 64., 51., 54., 63., 73., 47.],
    [71., 70., 68., 69., 76., 86., 48.],
    [61., 63., 45., 47., 54., 84., 35.],
    [81., 78., 56., 66., 71., 83., 47.],
    [43., 55., 49., 44., 54., 49., 34.],
    [58., 67., 42., 56., 66., 68., 35.],
    [71., 75., 50., 55., 70., 66., 41.],
    [72., 82., 72., 67., 71., 83., 31.],
    [67., 61., 45., 47., 62., 80., 41.],
    [64., 53., 53., 58., 58., 67., 34.],
    [67., 60., 47., 39., 59., 74., 41.],
    [69., 62., 57., 42., 55., 63., 25.],
    [68., 83., 83., 45., 59., 77., 35.],
    [77., 77., 54., 72., 79., 77., 46.],
    [81., 90., 50., 72., 60., 54., 36.],
    [74., 85., 64., 69., 79., 79., 63.],
    [65., 60., 65., 75., 55., 80., 60.],
    [65., 70., 46., 57., 75., 85., 46.],
    [50., 58., 68., 54., 64., 78., 52.],
    [50., 40., 33., 34., 43., 64., 33.],
    [64., 61., 52., 62., 66., 80., 41.],
    [53., 66., 52., 50., 63., 80., 37.],
    [40., 37., 42., 58., 50., 57., 49.],
    [63., 54., 42., 48., 66., 75., 33.],
    [66., 77., 66., 63., 88., 76., 72.],
    [78., 75., 58., 74., 80., 78., 49.],
    [48., 57., 44., 45., 51., 83., 38.],
    [85., 85., 71., 71., 77., 74., 55.],
    [82., 82., 39., 59., 64., 78., 39.],
];
const NAMES: [&str; 6] = [
    "complaints",
    "privileges",
    "learning",
    "raises",
    "critical",
    "advance",
];

/// Columns of a table given by row.
fn columns<const W: usize>(rows: &[[f64; W]]) -> Vec<Vec<f64>> {
    (0..W)
        .map(|j| rows.iter().map(|r| r[j]).collect())
        .collect()
}

/// A data set of the first column as outcome and the rest as predictors.
fn dataset<'a>(cols: &'a [Vec<f64>], names: &[&str]) -> Dataset<'a> {
    names
        .iter()
        .zip(&cols[1..])
        .fold(Dataset::new(&cols[0]), |d, (name, c)| d.predictor(*name, c))
}

fn no_bootstrap(method: Method, model: Model) -> Options {
    Options {
        method,
        model,
        resamples: 0,
        ..Options::default()
    }
}

fn assert_all_close(got: impl Iterator<Item = f64>, expected: &[f64], tol: f64) {
    let got: Vec<f64> = got.collect();
    assert_eq!(got.len(), expected.len());
    for (g, e) in got.iter().zip(expected) {
        assert!((g - e).abs() < tol, "{got:?} vs {expected:?}");
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[test]
fn attitude_ols_matches_r_lm() {
    let cols = columns(&ATTITUDE);
    let fit = ols(&dataset(&cols, &NAMES)).unwrap();
    // R: coef(lm(rating ~ ., attitude)).
    let expected = [
        10.78708, 0.61319, -0.07305, 0.32033, 0.08173, 0.03838, -0.21706,
    ];
    let all: Vec<Coefficient> = std::iter::once(fit.intercept).chain(fit.slopes).collect();
    assert_all_close(all.iter().map(|c| c.estimate), &expected, 5e-6);
    // R: summary(lm(...)): standard errors, multiple R² 0.7326.
    let se = [
        11.58926, 0.16098, 0.13572, 0.16852, 0.22148, 0.14700, 0.17821,
    ];
    assert_all_close(all.iter().map(|c| c.std_error), &se, 5e-6);
    assert!((fit.r2 - 0.7326).abs() < 5e-5, "{}", fit.r2);
}

#[test]
fn attitude_general_dominance_matches_published() {
    let cols = columns(&ATTITUDE);
    let data = dataset(&cols, &NAMES);
    let a = analyse(&data, &no_bootstrap(Method::Shapley, Model::Linear)).unwrap();
    assert_eq!((a.n, a.method, a.resamples), (30, Method::Shapley, 0));
    assert_eq!(round3(a.r2.value), 0.733);
    let weights: Vec<f64> = a.drivers.iter().map(|d| round3(d.weight.value)).collect();
    assert_eq!(weights, [0.371, 0.051, 0.156, 0.120, 0.007, 0.028]);
    let ranks: Vec<usize> = a.drivers.iter().map(|d| d.rank).collect();
    assert_eq!(ranks, [1, 4, 2, 3, 6, 5]);
    let total: f64 = a.drivers.iter().map(|d| d.weight.value).sum();
    assert!((total - a.r2.value).abs() < 1e-12);
    let shares: f64 = a.drivers.iter().map(|d| d.share.value).sum();
    assert!((shares - 1.0).abs() < 1e-12);
    // The same weights through the generic closure, one subset at a time.
    let fit = ols(&data).unwrap();
    let generic = general_dominance(6, |mask| {
        let subset: Vec<usize> = (0..6).filter(|j| mask >> j & 1 == 1).collect();
        Ok(fit.subset_r2(&subset))
    })
    .unwrap();
    for (g, d) in generic.iter().zip(&a.drivers) {
        assert!((g - d.weight.value).abs() < 1e-12);
    }
    assert!((fit.subset_r2(&[0]) - 0.825_4_f64.powi(2)).abs() < 1e-4);
}

#[test]
fn attitude_relative_weights_sum_to_r2_and_track_dominance() {
    let cols = columns(&ATTITUDE);
    let data = dataset(&cols, &NAMES);
    let rw = analyse(&data, &no_bootstrap(Method::RelativeWeights, Model::Linear)).unwrap();
    let gd = analyse(&data, &no_bootstrap(Method::Shapley, Model::Linear)).unwrap();
    let total: f64 = rw.drivers.iter().map(|d| d.weight.value).sum();
    assert!((total - gd.r2.value).abs() < 1e-12, "{total}");
    for (r, g) in rw.drivers.iter().zip(&gd.drivers) {
        eprintln!(
            "{:>10}: relative weight {:.4}, dominance {:.4}",
            r.name, r.weight.value, g.weight.value
        );
        // Johnson (2000) found the two within about 0.01 of R²-units in his examples.
        assert!((r.weight.value - g.weight.value).abs() < 0.02, "{}", r.name);
    }
    assert_eq!(rw.drivers[0].rank, 1);
    assert_eq!(
        rw.drivers.iter().map(|d| d.rank).collect::<Vec<_>>()[..4],
        [1, 4, 2, 3]
    );
}

#[test]
fn attitude_bootstrap_is_deterministic_and_brackets_the_estimates() {
    let cols = columns(&ATTITUDE);
    let data = dataset(&cols, &NAMES);
    let options = |threads| Options {
        resamples: 100,
        seed: 7,
        threads,
        ..Options::default()
    };
    let one = analyse(&data, &options(1)).unwrap();
    let two = analyse(&data, &options(2)).unwrap();
    assert_eq!(one, two);
    assert_eq!(one.resamples + one.failed_resamples, 100);
    for d in &one.drivers {
        for f in [d.weight, d.share, d.coefficient] {
            let (lo, hi) = (f.low.unwrap(), f.high.unwrap());
            assert!(lo < hi, "{d:?}");
        }
        assert!(d.weight.low.unwrap() >= 0.0);
    }
    let r2 = one.r2;
    assert!(r2.low.unwrap() < r2.value && r2.value < r2.high.unwrap());
    let json = serde_json::to_value(&one).unwrap();
    assert_eq!(json["method"], "shapley");
    assert_eq!(json["drivers"][0]["name"], "complaints");
    assert!(json["drivers"][0]["odds_ratio"].is_null());
}

/// A 2 × 2 table as rows (y, x): `a` with y = 1, x = 1; `b` y = 0, x = 1; `c` y = 1,
/// x = 0; `d` y = 0, x = 0.
fn two_by_two(a: usize, b: usize, c: usize, d: usize) -> Vec<Vec<f64>> {
    let cells = [(a, 1.0, 1.0), (b, 0.0, 1.0), (c, 1.0, 0.0), (d, 0.0, 0.0)];
    let rows: Vec<[f64; 2]> = cells
        .iter()
        .flat_map(|&(k, y, x)| std::iter::repeat_n([y, x], k))
        .collect();
    columns(&rows)
}

#[test]
fn logistic_on_a_two_by_two_table_is_the_sample_odds_ratio() {
    let (a, b, c, d): (f64, f64, f64, f64) = (20.0, 10.0, 15.0, 30.0);
    let cols = two_by_two(20, 10, 15, 30);
    let fit = logistic(&dataset(&cols, &["exposed"])).unwrap();
    let log_or = (a * d / (b * c)).ln();
    let se = (1.0 / a + 1.0 / b + 1.0 / c + 1.0 / d).sqrt();
    assert!((fit.slopes[0].estimate - log_or).abs() < 1e-9, "{fit:?}");
    assert!((fit.slopes[0].std_error - se).abs() < 1e-9);
    assert!((fit.intercept.estimate - (c / d).ln()).abs() < 1e-9);
    assert!((fit.intercept.std_error - (1.0 / c + 1.0 / d).sqrt()).abs() < 1e-9);
    let or = fit.odds_ratios[0];
    assert!((or.value - 4.0).abs() < 1e-8);
    assert!((or.low.unwrap() - (log_or - 1.959964 * se).exp()).abs() < 1e-5);
    assert!((or.high.unwrap() - (log_or + 1.959964 * se).exp()).abs() < 1e-5);
    // log L = Σ cells · ln p̂ with p̂ = 2/3 (x = 1) and 1/3 (x = 0).
    let ll = a * (a / (a + b)).ln()
        + b * (b / (a + b)).ln()
        + c * (c / (c + d)).ln()
        + d * (d / (c + d)).ln();
    let n = a + b + c + d;
    let p0 = (a + c) / n;
    let ll0 = (a + c) * p0.ln() + (b + d) * (1.0 - p0).ln();
    assert!((fit.log_likelihood - ll).abs() < 1e-9);
    assert!((fit.null_log_likelihood - ll0).abs() < 1e-9);
    assert!((fit.pseudo_r2 - (1.0 - ll / ll0)).abs() < 1e-12);
    // With one predictor the whole pseudo-R² is its weight.
    let a = analyse(
        &dataset(&cols, &["exposed"]),
        &no_bootstrap(Method::Auto, Model::Logistic),
    )
    .unwrap();
    assert!((a.drivers[0].weight.value - fit.pseudo_r2).abs() < 1e-12);
    let or = a.drivers[0].odds_ratio.unwrap();
    assert!(
        (or.value - 4.0).abs() < 1e-8
            && (or.low.unwrap() - fit.odds_ratios[0].low.unwrap()).abs() < 1e-9
    );
}

#[test]
fn logistic_separation_is_an_error_naming_the_predictor() {
    // Complete: y = 1 exactly when x > 5.
    let x: Vec<f64> = (0..12).map(f64::from).collect();
    let y: Vec<f64> = x.iter().map(|&x| f64::from(x > 5.0)).collect();
    let z: Vec<f64> = (0..12).map(|i| f64::from(i % 3)).collect();
    let data = Dataset::new(&y)
        .predictor("noise", &z)
        .predictor("tenure", &x);
    let err = logistic(&data).unwrap_err();
    assert_eq!(err, DriverError::Separation("tenure".into()), "{err}");
    // Quasi-complete: no event among the exposed.
    let cols = two_by_two(0, 10, 15, 30);
    let err = logistic(&dataset(&cols, &["exposed"])).unwrap_err();
    assert_eq!(err, DriverError::Separation("exposed".into()));
    assert!(err.to_string().contains("exposed"));
}

/// n rows of three standard normal predictors (x₂ correlated 0.5 with x₁) and a 0/1
/// outcome with logit P = β₀ + Σ βⱼ xⱼ.
fn simulate_logistic(seed: u64, n: usize, beta: [f64; 4]) -> Vec<Vec<f64>> {
    let mut rng = Rng::new(seed);
    let rows: Vec<[f64; 4]> = (0..n)
        .map(|_| {
            let x1 = rng.normal();
            let x2 = 0.5 * x1 + 0.75f64.sqrt() * rng.normal();
            let x3 = rng.normal();
            let eta = beta[0] + beta[1] * x1 + beta[2] * x2 + beta[3] * x3;
            let y = f64::from(rng.bernoulli(1.0 / (1.0 + (-eta).exp())));
            [y, x1, x2, x3]
        })
        .collect();
    columns(&rows)
}

#[test]
fn logistic_recovers_known_odds_ratios() {
    let beta = [-0.5, 0.8, -0.4, 0.0];
    let mut inside = 0;
    for seed in 0..20 {
        let cols = simulate_logistic(seed, 2000, beta);
        let fit = logistic(&dataset(&cols, &["x1", "x2", "x3"])).unwrap();
        for (or, b) in fit.odds_ratios.iter().zip(&beta[1..]) {
            inside += usize::from(or.low.unwrap() <= b.exp() && b.exp() <= or.high.unwrap());
        }
        for (c, b) in std::iter::once(fit.intercept).chain(fit.slopes).zip(beta) {
            assert!((c.estimate - b).abs() < 4.0 * c.std_error, "seed {seed}");
        }
    }
    // 60 nominal 95% intervals: expect 57; fewer than 52 would be a 1-in-1000 event.
    assert!(
        inside >= 52,
        "{inside} of 60 odds-ratio intervals cover the truth"
    );
    // The analysis with bootstrap intervals: the truth inside each, x3's weight smallest.
    let cols = simulate_logistic(99, 2000, beta);
    let options = Options {
        model: Model::Logistic,
        resamples: 100,
        ..Options::default()
    };
    let a = analyse(&dataset(&cols, &["x1", "x2", "x3"]), &options).unwrap();
    assert_eq!((a.resamples, a.failed_resamples), (100, 0));
    for (d, b) in a.drivers.iter().zip(&beta[1..]) {
        let or = d.odds_ratio.unwrap();
        assert!(
            or.low.unwrap() <= b.exp() && b.exp() <= or.high.unwrap(),
            "{d:?}"
        );
    }
    assert_eq!(a.drivers[2].rank, 3);
    let total: f64 = a.drivers.iter().map(|d| d.weight.value).sum();
    assert!((total - a.r2.value).abs() < 1e-12);
    let rw = Options {
        method: Method::RelativeWeights,
        ..options
    };
    let b = analyse(&dataset(&cols, &["x1", "x2", "x3"]), &rw).unwrap();
    let total: f64 = b.drivers.iter().map(|d| d.weight.value).sum();
    assert!((total - b.r2.value).abs() < 1e-12);
    assert!((b.r2.value - a.r2.value).abs() < 1e-12);
    for (x, y) in a.drivers.iter().zip(&b.drivers) {
        assert!(
            (x.weight.value - y.weight.value).abs() < 0.01,
            "{x:?} {y:?}"
        );
    }
}

/// Coverage of the 95% percentile bootstrap interval of an OLS slope: 200 samples of
/// n = 60 from y = 1 + 0.5 x₁ + 0.3 x₂ + ε (normal, x₁ and x₂ correlated 0.4), 200
/// resamples each. The percentile interval under-covers a little at small n; with 200
/// samples the coverage estimate has a standard error of 1.5 points, so the band is
/// 90–98%.
#[test]
fn bootstrap_interval_of_a_slope_covers_the_truth() {
    let mut rng = Rng::new(2024);
    let mut covered = 0;
    let samples = 200;
    for _ in 0..samples {
        let rows: Vec<[f64; 3]> = (0..60)
            .map(|_| {
                let x1 = rng.normal();
                let x2 = 0.4 * x1 + 0.84f64.sqrt() * rng.normal();
                [1.0 + 0.5 * x1 + 0.3 * x2 + rng.normal(), x1, x2]
            })
            .collect();
        let cols = columns(&rows);
        let options = Options {
            seed: rng.next_u64(),
            threads: 1,
            ..Options::default()
        };
        let a = analyse(&dataset(&cols, &["x1", "x2"]), &options).unwrap();
        let c = a.drivers[0].coefficient;
        covered += usize::from(c.low.unwrap() <= 0.5 && 0.5 <= c.high.unwrap());
    }
    let rate = covered as f64 / samples as f64;
    eprintln!("bootstrap coverage of a slope: {:.1}%", 100.0 * rate);
    assert!((0.90..=0.98).contains(&rate), "coverage {rate}");
}

#[test]
fn one_predictor_gets_the_whole_r2() {
    let cols = columns(&ATTITUDE);
    let data = Dataset::new(&cols[0]).predictor("complaints", &cols[1]);
    let a = analyse(&data, &no_bootstrap(Method::Auto, Model::Linear)).unwrap();
    assert_eq!(a.drivers.len(), 1);
    assert!((a.drivers[0].weight.value - a.r2.value).abs() < 1e-15);
    assert_eq!(a.drivers[0].share.value, 1.0);
    // Without resamples, the coefficient has its t interval b ± t₀.₉₇₅,₂₈ · se, with
    // se = |b| √((1 − r²)/(r² (n − 2))) (R: lm(rating ~ complaints), b = 0.75461).
    let c = a.drivers[0].coefficient;
    assert!((c.value - 0.75461).abs() < 5e-6, "{c:?}");
    let r2 = a.r2.value;
    let se = c.value * ((1.0 - r2) / (r2 * 28.0)).sqrt();
    assert!((a.drivers[0].std_error - se).abs() < 1e-12);
    let t = 2.048_407_141_795;
    assert!((c.low.unwrap() - (c.value - t * se)).abs() < 1e-9, "{c:?}");
    assert!((c.high.unwrap() - (c.value + t * se)).abs() < 1e-9, "{c:?}");
    assert!(a.drivers[0].weight.low.is_none());
}

#[test]
fn bad_input_is_a_clear_error() {
    let cols = columns(&ATTITUDE);
    let linear = Options::default();
    let constant = vec![3.0; 30];
    let data = Dataset::new(&cols[0])
        .predictor("complaints", &cols[1])
        .predictor("flat", &constant);
    let err = analyse(&data, &linear).unwrap_err();
    assert_eq!(err, DriverError::ConstantPredictor("flat".into()));
    assert!(err.to_string().contains("flat"));

    let sum: Vec<f64> = cols[1].iter().zip(&cols[2]).map(|(a, b)| a + b).collect();
    let data = dataset(&cols[..3], &NAMES[..2]).predictor("both", &sum);
    assert_eq!(
        analyse(&data, &linear).unwrap_err(),
        DriverError::Collinear("both".into())
    );

    let few = columns(&ATTITUDE[..6]);
    assert_eq!(
        analyse(&dataset(&few, &NAMES), &linear).unwrap_err(),
        DriverError::TooFewRows {
            rows: 6,
            predictors: 6
        }
    );

    assert_eq!(
        analyse(&Dataset::new(&cols[0]), &linear).unwrap_err(),
        DriverError::NoPredictors
    );
    let data = Dataset::new(&cols[0]).predictor("short", &cols[1][..10]);
    assert!(matches!(
        analyse(&data, &linear),
        Err(DriverError::LengthMismatch { .. })
    ));
    let data = Dataset::new(&cols[0]).predictor("complaints", &cols[1]);
    let logistic = no_bootstrap(Method::Auto, Model::Logistic);
    assert_eq!(
        analyse(&data, &logistic).unwrap_err(),
        DriverError::NotBinary {
            row: 0,
            value: 43.0
        }
    );
    let bad_level = Options {
        level: 1.0,
        ..linear
    };
    assert_eq!(
        analyse(&data, &bad_level).unwrap_err(),
        DriverError::InvalidLevel(1.0)
    );
}

/// n rows of p independent standard normal predictors and y = Σ slope(j) xⱼ + ε.
fn simulate_linear(
    seed: u64,
    n: usize,
    p: usize,
    slope: impl Fn(usize) -> f64,
) -> (Vec<f64>, Vec<Vec<f64>>) {
    let mut rng = Rng::new(seed);
    let xs: Vec<Vec<f64>> = (0..p)
        .map(|_| (0..n).map(|_| rng.normal()).collect())
        .collect();
    let y = (0..n)
        .map(|i| (0..p).map(|j| xs[j][i] * slope(j)).sum::<f64>() + rng.normal())
        .collect();
    (y, xs)
}

/// A data set with predictors named x0, x1, ….
fn numbered<'a>(y: &'a [f64], xs: &'a [Vec<f64>]) -> Dataset<'a> {
    xs.iter()
        .enumerate()
        .fold(Dataset::new(y), |d, (j, x)| d.predictor(format!("x{j}"), x))
}

#[test]
fn more_than_fifteen_predictors_need_relative_weights() {
    let (y, xs) = simulate_linear(5, 200, 16, |j| j as f64 / 10.0);
    let data = numbered(&y, &xs);
    let shapley = no_bootstrap(Method::Shapley, Model::Linear);
    let err = analyse(&data, &shapley).unwrap_err();
    assert_eq!(err, DriverError::TooManyForShapley { predictors: 16 });
    assert!(err.to_string().contains("relative weights"), "{err}");
    let auto = Options {
        resamples: 20,
        ..Options::default()
    };
    let a = analyse(&data, &auto).unwrap();
    assert_eq!(a.method, Method::RelativeWeights);
    let total: f64 = a.drivers.iter().map(|d| d.weight.value).sum();
    assert!((total - a.r2.value).abs() < 1e-12);
    assert_eq!(a.drivers[15].rank, 1);
}

/// The design target: 1M rows × 15 predictors × 200 resamples. Run in release mode:
/// `cargo test -p cxray-core --release --test it drivers::bootstrap_speed -- --ignored
/// --nocapture`.
#[test]
#[ignore]
fn bootstrap_speed_one_million_rows() {
    let (y, xs) = simulate_linear(1, 1_000_000, 15, |j| (j % 4) as f64 * 0.2);
    let data = numbered(&y, &xs);
    let start = std::time::Instant::now();
    let a = analyse(&data, &Options::default()).unwrap();
    let elapsed = start.elapsed();
    eprintln!(
        "1M rows × 15 predictors × 200 resamples on 2 threads: {:.2} s (R² {:.4})",
        elapsed.as_secs_f64(),
        a.r2.value
    );
    assert_eq!(a.resamples, 200);
}

/// Trips simulated from the dropout model itself: p ~ Beta(a, b + k), leaving with odds
/// multiplied by e^β per event, and staying customers silent in the window with
/// probability s.
fn dropout_trips(seed: u64, n: usize, beta: &[f64]) -> (Vec<f64>, Vec<Vec<f64>>, Vec<TripContext>) {
    let mut rng = Rng::new(seed);
    let (mut y, mut x, mut trips) = (Vec::new(), vec![Vec::new(); beta.len()], Vec::new());
    for _ in 0..n {
        let survived = rng.below(6) as u32;
        let silent = 0.4 + 0.5 * rng.uniform();
        let p = rng.beta(0.7, 4.0 + f64::from(survived));
        let mut logit = (p / (1.0 - p)).ln();
        for (j, b) in beta.iter().enumerate() {
            let event = f64::from(u8::from(rng.bernoulli(0.1 + 0.05 * j as f64)));
            x[j].push(event);
            logit += b * event;
        }
        let leaves = rng.bernoulli(1.0 / (1.0 + (-logit).exp()));
        y.push(f64::from(u8::from(leaves || rng.bernoulli(silent))));
        trips.push(TripContext { silent, survived });
    }
    (y, x, trips)
}

const DROPOUT_BETA: [f64; 3] = [1.2, 0.6, 0.0];

/// Fits the dropout model to trips simulated with `seeds`; how many of the odds ratios'
/// intervals cover the planted ones, out of how many.
fn dropout_coverage(seeds: std::ops::Range<u64>, n: usize, options: &Options) -> (usize, usize) {
    let prior = DropoutPrior { a: 0.7, b: 4.0 };
    let (mut covered, mut total) = (0, 0);
    for seed in seeds {
        let (y, x, trips) = dropout_trips(seed, n, &DROPOUT_BETA);
        let data = Dataset::new(&y)
            .predictor("a", &x[0])
            .predictor("b", &x[1])
            .predictor("c", &x[2]);
        let fit = fit_dropout(&data, &trips, prior, options).unwrap();
        assert!(fit.converged, "{seed}: {fit:?}");
        assert!(fit.shift.abs() < 0.3, "{seed}: shift {}", fit.shift);
        assert_eq!(fit.resamples + fit.failed_resamples, options.resamples);
        for (e, b) in fit.effects.iter().zip(DROPOUT_BETA) {
            let truth = b.exp();
            covered += usize::from(
                e.odds_ratio.low.unwrap() <= truth && truth <= e.odds_ratio.high.unwrap(),
            );
            total += 1;
        }
    }
    (covered, total)
}

#[test]
fn dropout_model_recovers_planted_odds_ratios_where_plain_logistic_dilutes_them() {
    let wald = Options {
        resamples: 0,
        ..Options::default()
    };
    let (covered, total) = dropout_coverage(0..20, 20_000, &wald);
    // Nominal 95%: 60 intervals, expect 57; fewer than 52 would be a 0.3% event.
    assert!(
        covered >= 52,
        "{covered} of {total} intervals cover the truth"
    );
    // The plain logistic regression of the same outcome is far below the truth.
    let (y, x, _) = dropout_trips(0, 20_000, &DROPOUT_BETA);
    let plain = logistic(&Dataset::new(&y).predictor("a", &x[0])).unwrap();
    assert!(
        plain.odds_ratios[0].high.unwrap() < 0.6 * DROPOUT_BETA[0].exp(),
        "{plain:?}"
    );
}

#[test]
fn dropout_bootstrap_intervals_cover_the_planted_odds_ratios() {
    let options = Options {
        resamples: 100,
        ..Options::default()
    };
    let (covered, total) = dropout_coverage(100..110, 10_000, &options);
    // Nominal 95%: 30 intervals, expect 28.5; fewer than 25 would be a 0.3% event.
    assert!(
        covered >= 25,
        "{covered} of {total} intervals cover the truth"
    );
}

#[test]
fn dropout_model_rejects_mismatched_context() {
    let y = [1.0, 0.0, 1.0, 0.0];
    let x = [1.0, 0.0, 0.0, 1.0];
    let data = Dataset::new(&y).predictor("x", &x);
    let trips = [TripContext {
        silent: 0.5,
        survived: 0,
    }];
    let prior = DropoutPrior { a: 1.0, b: 2.0 };
    let err = fit_dropout(&data, &trips, prior, &Options::default()).unwrap_err();
    assert!(err.to_string().contains("trip context"), "{err}");
}

/// Rows with few distinct values, grouped into patterns with counts: the patterns (first
/// seen order) and their rows expanded back in pattern order.
struct Grouped {
    patterns: Vec<Vec<f64>>,
    weights: Vec<u32>,
    expanded: Vec<Vec<f64>>,
}

fn grouped(rows: Vec<Vec<f64>>) -> Grouped {
    let mut index: std::collections::HashMap<Vec<u64>, usize> = Default::default();
    let (mut patterns, mut weights) = (Vec::<Vec<f64>>::new(), Vec::new());
    for r in rows {
        let key = r.iter().map(|v| v.to_bits()).collect();
        let k = *index.entry(key).or_insert_with(|| {
            patterns.push(r.clone());
            weights.push(0);
            patterns.len() - 1
        });
        weights[k] += 1;
    }
    let expanded = patterns
        .iter()
        .zip(&weights)
        .flat_map(|(p, &w)| std::iter::repeat_n(p.clone(), w as usize))
        .collect();
    Grouped {
        patterns,
        weights,
        expanded,
    }
}

/// Columns of rows.
fn by_column(rows: &[Vec<f64>]) -> Vec<Vec<f64>> {
    (0..rows[0].len())
        .map(|j| rows.iter().map(|r| r[j]).collect())
        .collect()
}

fn build<'a>(y: &'a [f64], cols: &'a [(String, Vec<f64>)]) -> Dataset<'a> {
    cols.iter()
        .fold(Dataset::new(y), |d, (n, v)| d.predictor(n.as_str(), v))
}

fn assert_same(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-9 * (1.0 + a.abs()),
        "{what}: {a} vs {b}"
    );
}

#[test]
fn patterns_with_weights_give_the_analysis_of_their_rows() {
    let mut rng = Rng::new(17);
    let rows: Vec<Vec<f64>> = (0..3000)
        .map(|_| {
            let (a, b) = (
                f64::from(u8::from(rng.bernoulli(0.3))),
                f64::from(u8::from(rng.bernoulli(0.2))),
            );
            let past = rng.below(4) as f64;
            let eta = -0.5 + 0.8 * a + 0.4 * b - 0.3 * past;
            vec![
                f64::from(u8::from(rng.bernoulli(1.0 / (1.0 + (-eta).exp())))),
                a,
                b,
                past,
            ]
        })
        .collect();
    let g = grouped(rows);
    assert!(g.patterns.len() < 40, "{} patterns", g.patterns.len());
    let (pc, ec) = (by_column(&g.patterns), by_column(&g.expanded));
    let names = ["a", "b", "past"];
    let data = |c: &'_ [Vec<f64>]| -> Vec<(String, Vec<f64>)> {
        names
            .iter()
            .zip(&c[1..])
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect()
    };
    let (pcols, ecols) = (data(&pc), data(&ec));
    let weighted = build(&pc[0], &pcols).weighted(&g.weights);
    let expanded = build(&ec[0], &ecols);
    for (model, method) in [
        (Model::Logistic, Method::RelativeWeights),
        (Model::Logistic, Method::Shapley),
        (Model::Linear, Method::Shapley),
    ] {
        let options = Options {
            model,
            method,
            resamples: 12,
            ..Options::default()
        };
        let (w, e) = (
            analyse(&weighted, &options).unwrap(),
            analyse(&expanded, &options).unwrap(),
        );
        assert_eq!(w.n, e.n);
        assert_eq!(w.resamples, e.resamples);
        assert_same(w.r2.value, e.r2.value, "r2");
        for (dw, de) in w.drivers.iter().zip(&e.drivers) {
            for (x, y, what) in [
                (dw.weight.value, de.weight.value, "weight"),
                (dw.weight.low.unwrap(), de.weight.low.unwrap(), "weight low"),
                (dw.coefficient.value, de.coefficient.value, "coefficient"),
                (
                    dw.coefficient.high.unwrap(),
                    de.coefficient.high.unwrap(),
                    "coefficient high",
                ),
                (dw.std_error, de.std_error, "standard error"),
            ] {
                assert_same(x, y, &format!("{model:?} {method:?} {} {what}", dw.name));
            }
        }
    }
    let trips = |c: &[Vec<f64>]| -> Vec<TripContext> {
        c[3].iter()
            .map(|&past| TripContext {
                silent: 0.3 + 0.1 * past,
                survived: past as u32,
            })
            .collect()
    };
    let prior = DropoutPrior { a: 0.7, b: 4.0 };
    let options = Options {
        resamples: 8,
        ..Options::default()
    };
    let w = fit_dropout(&weighted, &trips(&pc), prior, &options).unwrap();
    let e = fit_dropout(&expanded, &trips(&ec), prior, &options).unwrap();
    assert_eq!(w.n, e.n);
    for (a, b) in w.effects.iter().zip(&e.effects) {
        assert_same(a.odds_ratio.value, b.odds_ratio.value, "odds ratio");
        assert_same(
            a.odds_ratio.low.unwrap(),
            b.odds_ratio.low.unwrap(),
            "odds ratio low",
        );
        assert_same(
            a.odds_ratio.high.unwrap(),
            b.odds_ratio.high.unwrap(),
            "odds ratio high",
        );
    }
}

/// Trip patterns shaped like the journey's: rows sorted by 13 touchpoint flags (`combos`
/// distinct combinations, the first of about `scale` rows, fewer for later ones), then past
/// purchases and tenure, weighted by how many trips each stands for (about 10.5). At 999
/// combinations and scale 9,150, like 1M customers: about 194,000 rows and 2.04M trips.
fn trip_patterns(seed: u64, count: usize, scale: f64) -> (Vec<f64>, Vec<Vec<f64>>, Vec<u32>) {
    const FLAGS: usize = 13;
    let mut rng = Rng::new(seed);
    let mut combos: Vec<u16> = vec![0];
    while combos.len() < count {
        let c = (0..FLAGS).fold(0u16, |c, j| c | (u16::from(rng.bernoulli(0.15)) << j));
        if !combos.contains(&c) {
            combos.push(c);
        }
    }
    combos.sort_unstable();
    let (mut y, mut xs, mut weights) = (Vec::new(), vec![Vec::new(); FLAGS + 2], Vec::new());
    for (g, &combo) in combos.iter().enumerate() {
        let runs = (scale / (1.0 + g as f64).powf(0.75)) as usize + 20;
        let mut rows: Vec<(u64, u64, bool)> = (0..runs)
            .map(|_| {
                let (past, tenure) = (rng.below(40), rng.below(1000));
                let bad = f64::from(combo.count_ones());
                let eta = -2.0 + 0.35 * bad - 0.04 * past as f64 - 0.001 * tenure as f64;
                (past, tenure, rng.bernoulli(1.0 / (1.0 + (-eta).exp())))
            })
            .collect();
        rows.sort_unstable();
        for (past, tenure, event) in rows {
            for (j, x) in xs[..FLAGS].iter_mut().enumerate() {
                x.push(f64::from(combo >> j & 1));
            }
            xs[FLAGS].push(past as f64);
            xs[FLAGS + 1].push(tenure as f64 / 100.0);
            y.push(f64::from(u8::from(event)));
            weights.push(1 + rng.below(20) as u32);
        }
    }
    (y, xs, weights)
}

/// The predictors of [`trip_patterns`].
fn trip_names() -> Vec<String> {
    (0..15)
        .map(|j| match j {
            13 => "past purchases".to_string(),
            14 => "tenure".to_string(),
            _ => format!("touchpoint: {j}"),
        })
        .collect()
}

fn trips_dataset<'a>(y: &'a [f64], xs: &'a [Vec<f64>], names: &'a [String]) -> Dataset<'a> {
    names
        .iter()
        .zip(xs)
        .fold(Dataset::new(y), |d, (n, x)| d.predictor(n.as_str(), x))
}

#[test]
fn sorted_and_shuffled_rows_give_the_same_estimates() {
    // Sorted, passes over the rows go by runs of equal flags; shuffled, row by row.
    let (y, xs, weights) = trip_patterns(3, 40, 150.0);
    let mut order: Vec<usize> = (0..y.len()).collect();
    let mut rng = Rng::new(5);
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let shuffle = |v: &[f64]| order.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    let (ys, xss) = (
        shuffle(&y),
        xs.iter().map(|x| shuffle(x)).collect::<Vec<_>>(),
    );
    let ws: Vec<u32> = order.iter().map(|&i| weights[i]).collect();
    let names = trip_names();
    let sorted = trips_dataset(&y, &xs, &names).weighted(&weights);
    let shuffled = trips_dataset(&ys, &xss, &names).weighted(&ws);
    for (model, method) in [
        (Model::Logistic, Method::RelativeWeights),
        (Model::Linear, Method::Shapley),
    ] {
        let options = no_bootstrap(method, model);
        let (a, b) = (
            analyse(&sorted, &options).unwrap(),
            analyse(&shuffled, &options).unwrap(),
        );
        assert_same(a.r2.value, b.r2.value, "r2");
        assert_same(a.intercept.value, b.intercept.value, "intercept");
        let ll = |a: &Analysis| a.log_likelihood.unwrap_or(0.0);
        assert_same(ll(&a), ll(&b), "log-likelihood");
        for (da, db) in a.drivers.iter().zip(&b.drivers) {
            assert_same(da.weight.value, db.weight.value, "weight");
            assert_same(da.coefficient.value, db.coefficient.value, "coefficient");
            assert_same(da.std_error, db.std_error, "standard error");
        }
    }
}

/// The journey's defection drivers at 1M customers: a logistic model of about 194,500
/// weighted trip patterns with relative weights and 200 resamples on 2 threads. Run in
/// release mode: `cargo test -p cxray-core --release --locked -- --ignored --nocapture
/// drivers_at_scale`.
#[test]
#[ignore]
fn drivers_at_scale() {
    let (y, xs, weights) = trip_patterns(7, 999, 9_150.0);
    let names = trip_names();
    let data = trips_dataset(&y, &xs, &names).weighted(&weights);
    let options = Options {
        model: Model::Logistic,
        method: Method::RelativeWeights,
        ..Options::default()
    };
    let start = std::time::Instant::now();
    let a = analyse(&data, &options).unwrap();
    eprintln!(
        "{} rows, {} trips, 200 resamples on 2 threads: {:.2} s (pseudo-R² {:.5} [{:.5}, {:.5}])",
        y.len(),
        data.total(),
        start.elapsed().as_secs_f64(),
        a.r2.value,
        a.r2.low.unwrap(),
        a.r2.high.unwrap(),
    );
    assert_eq!(a.resamples, 200);
}

/// Trips for the dropout model: [`trip_patterns`]' 13 touchpoint flags, past purchases
/// and tenure, with each trip's context as the store gives it from an MBG/NBD (silent =
/// (α' / (α' + w))^(r + past), α' = α + tenure in weeks, window 180 days) and outcomes
/// drawn from the model itself, every event × e^0.3.
struct DropoutTrips {
    y: Vec<f64>,
    xs: Vec<Vec<f64>>,
    weights: Vec<u32>,
    trips: Vec<TripContext>,
    prior: DropoutPrior,
}

impl DropoutTrips {
    fn new(combos: usize, scale: f64) -> Self {
        let (_, xs, weights) = trip_patterns(7, combos, scale);
        let (r, alpha, window) = (0.9, 12.0, 180.0 / 7.0);
        // Few customers buy often: past purchases mostly 0–3 (up to 19), tenure 0 at the first.
        let trips: Vec<TripContext> = xs[13]
            .iter()
            .zip(&xs[14])
            .map(|(&past, &tenure)| {
                let past = (20.0 * (past / 40.0).powi(3)).floor();
                let tenure = if past == 0.0 { 0.0 } else { tenure };
                let scale = alpha + tenure * 365.25 / 7.0;
                TripContext {
                    silent: (scale / (scale + window)).powf(r + past),
                    survived: past as u32,
                }
            })
            .collect();
        let prior = DropoutPrior { a: 0.8, b: 5.0 };
        let mut rng = Rng::new(11);
        let y: Vec<f64> = trips
            .iter()
            .enumerate()
            .map(|(row, t)| {
                let p = rng.beta(prior.a, prior.b + f64::from(t.survived));
                let events: f64 = xs[..13].iter().map(|x| x[row]).sum();
                let logit = (p / (1.0 - p)).ln() + 0.3 * events;
                let leaves = rng.bernoulli(1.0 / (1.0 + (-logit).exp()));
                f64::from(u8::from(leaves || rng.bernoulli(t.silent)))
            })
            .collect();
        DropoutTrips {
            y,
            xs,
            weights,
            trips,
            prior,
        }
    }

    /// The touchpoint flags alone (the dropout model's predictors), or with the controls.
    fn data<'a>(&'a self, names: &'a [String], controls: bool) -> Dataset<'a> {
        let take = if controls { 15 } else { 13 };
        trips_dataset(&self.y, &self.xs[..take], &names[..take]).weighted(&self.weights)
    }
}

#[test]
fn one_bootstrap_gives_both_analyses_as_separate_ones_do() {
    let t = DropoutTrips::new(30, 60.0);
    let names = trip_names();
    let (all, touchpoints) = (t.data(&names, true), t.data(&names, false));
    let options = Options {
        model: Model::Logistic,
        method: Method::RelativeWeights,
        resamples: 6,
        ..Options::default()
    };
    let (analysis, dropout) =
        analyse_with_dropout(&all, &touchpoints, &t.trips, t.prior, &options).unwrap();
    assert_eq!(analysis, analyse(&all, &options).unwrap());
    assert_eq!(
        dropout,
        fit_dropout(&touchpoints, &t.trips, t.prior, &options).unwrap()
    );
    assert_eq!((analysis.resamples, dropout.resamples), (6, 6));
    let fewer = trips_dataset(&t.y[1..], &[], &[]);
    assert!(matches!(
        analyse_with_dropout(&all, &fewer, &t.trips, t.prior, &options),
        Err(DriverError::Dropout(_))
    ));
}

/// The journey's defection drivers and dropout model at 1M customers, on one bootstrap:
/// [`DropoutTrips`] of about 194,000 weighted patterns (2.04M trips), 200 resamples on 2
/// threads. Run in release mode: `cargo test -p cxray-core --release --locked --
/// --ignored --nocapture dropout_at_scale`.
#[test]
#[ignore]
fn dropout_at_scale() {
    let t = DropoutTrips::new(999, 9_150.0);
    let names = trip_names();
    let (all, data) = (t.data(&names, true), t.data(&names, false));
    let (trips, prior, y) = (&t.trips, t.prior, &t.y);
    let options = Options {
        model: Model::Logistic,
        method: Method::RelativeWeights,
        ..Options::default()
    };
    let start = std::time::Instant::now();
    let (_, fit) = analyse_with_dropout(&all, &data, trips, prior, &options).unwrap();
    eprintln!(
        "{} rows, {} trips, 200 resamples on 2 threads: {:.2} s ({} iterations, {} failed)",
        y.len(),
        data.total(),
        start.elapsed().as_secs_f64(),
        fit.iterations,
        fit.failed_resamples,
    );
    println!("log-likelihood {:.17e}", fit.log_likelihood);
    println!("shift {:.17e}", fit.shift);
    for e in &fit.effects {
        let o = &e.odds_ratio;
        let (low, high) = o.interval().unwrap();
        println!("{} {:.17e} {:.17e} {:.17e}", e.name, o.value, low, high);
    }
    assert_eq!(fit.resamples, 200);
}
