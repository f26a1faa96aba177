//! Coverage of the nominal 95% intervals by simulation: for every metric and comparison,
//! over several configurations (small n, extreme proportions), 4,000 simulated samples with
//! a fixed seed; the intervals must cover the true value 93–97% of the time ([`NOMINAL`]),
//! or 92–97% ([`KNOWN_LOW`]) where the method is known to under-cover a little. Run with
//! `--nocapture` to see the rates.
//!
//! Binomial intervals have an exact coverage that oscillates with n and p (Brown, Cai &
//! DasGupta 2001): Wilson at n = 15 covers p = 0.3 91.5% and p = 0.2 98.2% of the time. The
//! binomial configurations here are ones whose exact coverage is within 93–97%; the mean
//! exact coverage over p is tested in `stats::proportion`.

use cxray_core::rng::Rng;
use cxray_core::stats::*;

const DRAWS: usize = 4000;
/// The coverage band for a 95% interval with 4,000 draws (±0.34 points of sampling error).
const NOMINAL: (f64, f64) = (0.93, 0.97);
/// The band for configurations where the method under-covers slightly: the t interval on
/// strongly skewed scores at n = 30, DeLong's Wald interval with 30 events at AUC 0.86.
const KNOWN_LOW: (f64, f64) = (0.92, 0.97);

/// Asserts that intervals drawn by `draw` cover `truth` in `band` of `DRAWS` samples.
fn assert_covers(
    name: &str,
    band: (f64, f64),
    seed: u64,
    truth: f64,
    mut draw: impl FnMut(&mut Rng) -> (f64, f64),
) {
    let mut rng = Rng::new(seed);
    let covered = (0..DRAWS)
        .filter(|_| {
            let (lo, hi) = draw(&mut rng);
            lo <= truth && truth <= hi
        })
        .count();
    let rate = covered as f64 / DRAWS as f64;
    eprintln!("coverage {name}: {:.2}%", 100.0 * rate);
    assert!((band.0..=band.1).contains(&rate), "{name}: coverage {rate}");
}

fn interval(e: Estimate) -> (f64, f64) {
    (e.low.unwrap(), e.high.unwrap())
}

fn diff_interval(d: Difference) -> (f64, f64) {
    (d.low.unwrap(), d.high.unwrap())
}

/// `n` responses to `instrument` with score `low + i` drawn with probability `probs[i]`.
fn sample_tally(rng: &mut Rng, instrument: Instrument, probs: &[f64], n: usize) -> Tally {
    let low = instrument.range().0 as f64;
    let mut tally = Tally::new(instrument);
    for _ in 0..n {
        tally.add(low + rng.weighted(probs) as f64, 1).unwrap();
    }
    tally
}

/// NPS counts of `n` responses that are promoters with probability `p`, detractors `d`.
fn sample_nps(rng: &mut Rng, p: f64, d: f64, n: usize) -> NpsCounts {
    let mut c = NpsCounts::default();
    for _ in 0..n {
        match rng.weighted(&[p, 1.0 - p - d, d]) {
            0 => c.promoters += 1,
            1 => c.passives += 1,
            _ => c.detractors += 1,
        }
    }
    c
}

fn sample_proportion(rng: &mut Rng, p: f64, n: u64) -> Proportion {
    let successes = (0..n).filter(|_| rng.bernoulli(p)).count() as u64;
    Proportion { successes, n }
}

/// The true mean of scores `low + i` with probabilities `probs[i]`.
fn true_mean(low: f64, probs: &[f64]) -> f64 {
    probs
        .iter()
        .enumerate()
        .map(|(i, p)| p * (low + i as f64))
        .sum()
}

const CES_SYMMETRIC: [f64; 7] = [0.05, 0.10, 0.15, 0.30, 0.20, 0.15, 0.05];
const CES_SKEWED: [f64; 7] = [0.50, 0.25, 0.10, 0.05, 0.05, 0.03, 0.02];
/// Grade probabilities for F, D, C, B, A (scores 0…4).
const GRADES: [f64; 5] = [0.10, 0.15, 0.40, 0.25, 0.10];

#[test]
fn nps_adjusted_wald_covers() {
    let s = Settings::default();
    for (i, (p, d, n)) in [
        (0.5, 0.2, 20),
        (0.3, 0.3, 100),
        (0.8, 0.05, 30),
        (0.1, 0.7, 50),
        (0.95, 0.01, 200),
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("NPS p={p} d={d} n={n}");
        assert_covers(&name, NOMINAL, 100 + i as u64, 100.0 * (p - d), |rng| {
            interval(nps(&sample_nps(rng, p, d, n), &s).unwrap())
        });
    }
}

#[test]
fn wilson_proportion_and_csat_cover() {
    let s = Settings::default();
    for (i, (p, n)) in [(0.8, 10), (0.5, 30), (0.95, 50), (0.05, 100), (0.2, 20)]
        .into_iter()
        .enumerate()
    {
        let name = format!("proportion p={p} n={n}");
        assert_covers(&name, NOMINAL, 200 + i as u64, 100.0 * p, |rng| {
            interval(proportion(sample_proportion(rng, p, n), &s).unwrap())
        });
    }
    // CSAT top-2-box through the tally: P(4 or 5) = 0.35 + 0.45 = 0.8.
    let csat = [0.05, 0.05, 0.10, 0.35, 0.45];
    assert_covers("CSAT top-2-box n=50", NOMINAL, 210, 80.0, |rng| {
        interval(
            sample_tally(rng, Instrument::Csat, &csat, 50)
                .estimate(&s)
                .unwrap(),
        )
    });
}

#[test]
fn t_intervals_for_ces_and_gpa_cover() {
    let s = Settings::default();
    let configs = [
        (
            "CES symmetric n=10",
            Instrument::Ces,
            &CES_SYMMETRIC[..],
            10,
        ),
        (
            "CES symmetric n=30",
            Instrument::Ces,
            &CES_SYMMETRIC[..],
            30,
        ),
        ("CES skewed n=30", Instrument::Ces, &CES_SKEWED[..], 30),
        ("CES skewed n=100", Instrument::Ces, &CES_SKEWED[..], 100),
        ("GPA n=15", Instrument::Grade, &GRADES[..], 15),
        ("GPA n=60", Instrument::Grade, &GRADES[..], 60),
    ];
    for (i, (name, instrument, probs, n)) in configs.into_iter().enumerate() {
        let truth = true_mean(instrument.range().0 as f64, probs);
        let band = if name == "CES skewed n=30" {
            KNOWN_LOW
        } else {
            NOMINAL
        };
        assert_covers(name, band, 300 + i as u64, truth, |rng| {
            interval(
                sample_tally(rng, instrument, probs, n)
                    .estimate(&s)
                    .unwrap(),
            )
        });
    }
}

#[test]
fn grade_shares_cover() {
    let s = Settings::default();
    for (score, &p) in GRADES.iter().enumerate() {
        let name = format!("grade share {score} (p={p}) n=60");
        assert_covers(&name, NOMINAL, 400 + score as u64, 100.0 * p, |rng| {
            let shares = sample_tally(rng, Instrument::Grade, &GRADES, 60)
                .shares(&s)
                .unwrap();
            let share = shares.iter().find(|x| x.score as usize == score).unwrap();
            interval(share.estimate)
        });
    }
}

#[test]
fn differences_cover() {
    let s = Settings::default();
    for (i, ((pa, da, na), (pb, db, nb))) in [
        ((0.5, 0.2, 40), (0.4, 0.3, 60)),
        ((0.6, 0.1, 30), (0.6, 0.1, 30)),
        ((0.9, 0.02, 100), (0.7, 0.1, 150)),
    ]
    .into_iter()
    .enumerate()
    {
        let truth = 100.0 * ((pa - da) - (pb - db));
        let name = format!("NPS difference ({pa},{da},{na}) − ({pb},{db},{nb})");
        assert_covers(&name, NOMINAL, 500 + i as u64, truth, |rng| {
            let (a, b) = (sample_nps(rng, pa, da, na), sample_nps(rng, pb, db, nb));
            diff_interval(nps_difference(&a, &b, &s).unwrap())
        });
    }
    for (i, ((pa, na), (pb, nb))) in [
        ((0.8, 30), (0.6, 40)),
        ((0.95, 100), (0.9, 150)),
        ((0.5, 15), (0.3, 20)),
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("proportion difference {pa}/{na} − {pb}/{nb}");
        assert_covers(&name, NOMINAL, 510 + i as u64, 100.0 * (pa - pb), |rng| {
            let (a, b) = (
                sample_proportion(rng, pa, na),
                sample_proportion(rng, pb, nb),
            );
            diff_interval(proportion_difference(a, b, &s).unwrap())
        });
    }
    let truth = true_mean(1.0, &CES_SYMMETRIC) - true_mean(1.0, &CES_SKEWED);
    for (i, (na, nb)) in [(10, 25), (40, 40)].into_iter().enumerate() {
        let name = format!("Welch CES symmetric n={na} − skewed n={nb}");
        assert_covers(&name, NOMINAL, 520 + i as u64, truth, |rng| {
            let a = sample_tally(rng, Instrument::Ces, &CES_SYMMETRIC, na);
            let b = sample_tally(rng, Instrument::Ces, &CES_SKEWED, nb);
            diff_interval(a.compare(&b, &s).unwrap())
        });
    }
}

#[test]
fn p_values_hold_their_size_under_the_null() {
    // Same population in both groups: p < 0.05 about 5% of the time (3–7% allowed).
    let s = Settings::default();
    let mut rng = Rng::new(600);
    let (mut nps_rejects, mut prop_rejects) = (0, 0);
    for _ in 0..DRAWS {
        let (a, b) = (
            sample_nps(&mut rng, 0.4, 0.25, 60),
            sample_nps(&mut rng, 0.4, 0.25, 90),
        );
        nps_rejects += usize::from(nps_difference(&a, &b, &s).unwrap().p_value.unwrap() < 0.05);
        let (a, b) = (
            sample_proportion(&mut rng, 0.3, 50),
            sample_proportion(&mut rng, 0.3, 70),
        );
        prop_rejects +=
            usize::from(proportion_difference(a, b, &s).unwrap().p_value.unwrap() < 0.05);
    }
    for (name, rejects) in [("NPS", nps_rejects), ("proportion", prop_rejects)] {
        let rate = rejects as f64 / DRAWS as f64;
        eprintln!("type I error {name}: {:.2}%", 100.0 * rate);
        assert!((0.03..=0.07).contains(&rate), "{name}: {rate}");
    }
}

/// Binormal cases: `events` scored N(δ, 1) and `non_events` N(0, 1); AUC = Φ(δ/√2). A second
/// score `ρ·first + √(1 − ρ²)·noise` has AUC Φ(ρδ/√2).
fn binormal(
    rng: &mut Rng,
    delta: f64,
    rho: f64,
    events: usize,
    non_events: usize,
) -> (Vec<f64>, Vec<f64>, Vec<bool>) {
    let labels: Vec<bool> = (0..events + non_events).map(|i| i < events).collect();
    let first: Vec<f64> = labels
        .iter()
        .map(|&e| rng.normal() + if e { delta } else { 0.0 })
        .collect();
    let second = first
        .iter()
        .zip(&labels)
        .map(|(x, &e)| {
            let centred = x - if e { delta } else { 0.0 };
            let z = rho * centred + (1.0 - rho * rho).sqrt() * rng.normal();
            z + if e { rho * delta } else { 0.0 }
        })
        .collect();
    (first, second, labels)
}

#[test]
fn auc_delong_interval_covers() {
    let s = Settings::default();
    let phi = |x: f64| quantile::normal_cdf(x / std::f64::consts::SQRT_2);
    for (i, (delta, m, n)) in [(0.5, 40, 40), (1.0, 40, 120), (2.0, 60, 60), (1.5, 30, 120)]
        .into_iter()
        .enumerate()
    {
        let name = format!(
            "AUC δ={delta} ({:.3}) events={m} non-events={n}",
            phi(delta)
        );
        let band = if m == 30 { KNOWN_LOW } else { NOMINAL };
        assert_covers(&name, band, 700 + i as u64, phi(delta), |rng| {
            let (scores, _, events) = binormal(rng, delta, 0.0, m, n);
            interval(auc(&scores, &events, &s).unwrap())
        });
    }
    let (delta, rho) = (1.2, 0.6);
    let truth = phi(delta) - phi(rho * delta);
    assert_covers(
        "AUC difference (DeLong) 0.802 − 0.695, 60/90",
        NOMINAL,
        710,
        truth,
        |rng| {
            let (a, b, events) = binormal(rng, delta, rho, 60, 90);
            diff_interval(auc_difference(&a, &b, &events, &s).unwrap())
        },
    );
}
