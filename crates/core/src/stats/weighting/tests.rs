use proptest::prelude::*;

use super::*;
use crate::rng::Rng;
use crate::stats::Settings;

fn counts(promoters: u64, passives: u64, detractors: u64) -> NpsCounts {
    NpsCounts {
        promoters,
        passives,
        detractors,
    }
}

fn covariate(name: &str, levels: usize) -> Covariate {
    Covariate {
        name: name.into(),
        levels: (0..levels).map(|l| format!("{name}{l}")).collect(),
    }
}

/// Two cells of 100 invited: 20 answers (10 / 5 / 5, NPS +25) and 50 (10 / 10 / 30, −40).
fn two_cells() -> Population {
    Population {
        covariates: vec![covariate("a", 2)],
        cells: vec![
            Cell {
                levels: vec![0],
                invited: 100,
                answers: counts(10, 5, 5),
            },
            Cell {
                levels: vec![1],
                invited: 100,
                answers: counts(10, 10, 30),
            },
        ],
    }
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[test]
fn one_covariate_weights_each_cell_to_its_share_of_the_invited() {
    let s = Settings::default();
    let (ipw, model) = inverse_propensity(&two_cells(), &s).unwrap();
    let ps = post_stratified(&two_cells(), &s).unwrap();
    // By hand: the cells' NPS +25 and −40 weighted 100 : 100 (the answers' 20 : 50 give −21.4).
    for w in [&ipw, &ps] {
        assert!(close(w.nps.value, -7.5, 1e-6), "{w:?}");
        assert_eq!((w.invited, w.responded), (200, 70));
        // Weights 5 (20 answers) and 2 (50): (Σw)² / Σw² = 200² / 700; max 5 over mean 200/70.
        assert!(close(w.effective_n, 40_000.0 / 700.0, 1e-6), "{w:?}");
        assert!(close(w.max_weight_ratio, 1.75, 1e-9), "{w:?}");
    }
    // Post-stratified: ¼ · 13.75 / 20² + ¼ · 32 / 50² (squared deviations 15 − 20 · ¼², 40 − 50 · 0.4²).
    let within: f64 = 0.25 * 13.75 / 400.0 + 0.25 * 32.0 / 2500.0;
    let z = crate::stats::quantile::normal_quantile(0.975);
    let half = |w: &Weighted| (w.nps.high.unwrap() - w.nps.low.unwrap()) / 2.0;
    assert!(close(half(&ps), 100.0 * z * within.sqrt(), 1e-9), "{ps:?}");
    // The saturated model's weights are estimated: each unit adds its cell's deviation from
    // the whole, Σ N_c (ȳ_c − θ)² / N² = 2 · 100 · 0.325² / 200².
    let between = 2.0 * 100.0 * 0.325f64.powi(2) / 40_000.0;
    assert!(
        close(half(&ipw), 100.0 * z * (within + between).sqrt(), 1e-6),
        "{ipw:?}"
    );
    assert_eq!(model.terms.len(), 1);
    // Odds of answering 50:50 against 20:80 (levels tie on invited: the first is the reference).
    assert!(
        close(model.terms[0].odds_ratio.value, 4.0, 1e-6),
        "{model:?}"
    );
    assert_eq!(model.terms[0].reference, "a0");
}

#[test]
fn profile_compares_responders_with_non_responders() {
    let rows = profile(&two_cells(), &Settings::default()).unwrap();
    assert_eq!(rows.len(), 2);
    let first = &rows[0];
    assert_eq!((first.invited, first.responded), (100, 20));
    assert!(close(
        first.among_responders.unwrap().value,
        20.0 / 70.0,
        1e-12
    ));
    assert!(close(
        first.among_non_responders.unwrap().value,
        80.0 / 130.0,
        1e-12
    ));
    assert!(close(first.response_rate.unwrap().value, 0.2, 1e-12));
}

/// Units with covariates a (3 levels) and b (2 levels); responding and the answer both
/// depend on them, so the answers are biased but missing at random given a and b.
/// Returns the population's NPS (−100…100) and the cells.
fn biased_sample(seed: u64, units: u64) -> (f64, Population) {
    let mut rng = Rng::new(seed);
    let mut cells: Vec<Cell> = Vec::new();
    let mut net = 0i64;
    for _ in 0..units {
        let (a, b) = (rng.below(3) as usize, usize::from(rng.bernoulli(0.3)));
        let respond = 1.0 / (1.0 + (-(-1.8 + 0.6 * a as f64 + 0.9 * b as f64)).exp());
        let latent = 8.6 - 0.7 * a as f64 - 1.5 * b as f64 + 1.3 * rng.normal();
        let score = latent.round().clamp(0.0, 10.0) as u8;
        net += i64::from(score >= 9) - i64::from(score <= 6);
        let levels = vec![a, b];
        let at = match cells.iter().position(|c| c.levels == levels) {
            Some(i) => i,
            None => {
                cells.push(Cell {
                    levels,
                    invited: 0,
                    answers: NpsCounts::default(),
                });
                cells.len() - 1
            }
        };
        cells[at].invited += 1;
        if rng.bernoulli(respond) {
            cells[at].answers.add(score).unwrap();
        }
    }
    let covariates = vec![covariate("a", 3), covariate("b", 2)];
    (
        100.0 * net as f64 / units as f64,
        Population { covariates, cells },
    )
}

fn raw_nps(p: &Population) -> f64 {
    let mut all = NpsCounts::default();
    p.cells.iter().for_each(|c| all.merge(&c.answers));
    100.0 * net(&all) / all.n() as f64
}

#[test]
fn weights_recover_the_population_nps_of_a_biased_sample() {
    let s = Settings::default();
    let (truth, sample) = biased_sample(7, 40_000);
    let raw = raw_nps(&sample);
    for w in [
        inverse_propensity(&sample, &s).unwrap().0,
        post_stratified(&sample, &s).unwrap(),
    ] {
        let (low, high) = (w.nps.low.unwrap(), w.nps.high.unwrap());
        assert!(
            (w.nps.value - truth).abs() < (raw - truth).abs() / 3.0,
            "{} {w:?}: truth {truth}, raw {raw}",
            w.method.label()
        );
        assert!(low <= truth && truth <= high, "{w:?}: truth {truth}");
    }
}

#[test]
fn intervals_cover_the_population_nps_at_their_level() {
    let s = Settings::default();
    let replications = 200;
    let mut covered = [0, 0];
    for seed in 0..replications {
        let (truth, sample) = biased_sample(1000 + seed, 3_000);
        let ipw = inverse_propensity(&sample, &s).unwrap().0;
        let ps = post_stratified(&sample, &s).unwrap();
        for (k, w) in [ipw, ps].iter().enumerate() {
            covered[k] += usize::from(w.nps.low.unwrap() <= truth && truth <= w.nps.high.unwrap());
        }
    }
    // 95% intervals: 190 of 200 expected; below 180 is p < 0.01 for a true 95%.
    for c in covered {
        assert!(
            (180..=200).contains(&c),
            "covered {covered:?} of {replications}"
        );
    }
}

#[test]
fn a_constant_covariate_is_left_out_and_named() {
    let mut p = two_cells();
    p.covariates.push(covariate("z", 3));
    for c in &mut p.cells {
        c.levels.push(2);
    }
    let s = Settings::default();
    let (w, _) = inverse_propensity(&p, &s).unwrap();
    assert_eq!(w.covariates, ["a"]);
    assert_eq!(w.constant, ["z"]);
    assert!(close(w.nps.value, -7.5, 1e-6));
}

/// Cells of up to three covariates with a few levels each, some out of range and some with
/// more answers than invited: anything an engine might hand over.
fn any_population() -> impl Strategy<Value = Population> {
    (1usize..4).prop_flat_map(|k| {
        let cell = (
            prop::collection::vec(0usize..4, k..=k),
            0u64..60,
            (0u64..25, 0u64..25, 0u64..25),
        )
            .prop_map(|(levels, invited, (p, q, d))| Cell {
                levels,
                invited,
                answers: counts(p, q, d),
            });
        (
            prop::collection::vec(1usize..4, k..=k),
            prop::collection::vec(cell, 0..12),
        )
            .prop_map(|(sizes, cells)| Population {
                covariates: (sizes.iter().enumerate())
                    .map(|(i, &n)| covariate(&format!("c{i}"), n))
                    .collect(),
                cells,
            })
    })
}

/// `p` with every cell's answers cut to at most its invited and its levels into range.
fn valid(mut p: Population) -> Population {
    let sizes: Vec<usize> = p.covariates.iter().map(|c| c.levels.len()).collect();
    for c in &mut p.cells {
        for (l, n) in c.levels.iter_mut().zip(&sizes) {
            *l %= n;
        }
        c.answers.promoters = c.answers.promoters.min(c.invited);
        c.answers.passives = c.answers.passives.min(c.invited - c.answers.promoters);
        let left = c.invited - c.answers.promoters - c.answers.passives;
        c.answers.detractors = c.answers.detractors.min(left);
    }
    p
}

proptest! {
    #[test]
    fn any_cells_give_an_estimate_or_an_error_never_a_panic(p in any_population()) {
        let s = Settings::default();
        let estimates = [inverse_propensity(&p, &s).map(|r| r.0), post_stratified(&p, &s)];
        for w in estimates.into_iter().flatten() {
            prop_assert!(w.nps.value.is_finite() && (-100.0..=100.0).contains(&w.nps.value));
            prop_assert!(w.effective_n <= w.responded as f64 + 1e-9);
        }
        let _ = profile(&p, &s);
    }

    #[test]
    fn without_responders_every_method_says_so(p in any_population()) {
        let mut p = valid(p);
        p.cells.iter_mut().for_each(|c| c.answers = NpsCounts::default());
        let invited: u64 = p.cells.iter().map(|c| c.invited).sum();
        let s = Settings::default();
        let expected = match invited {
            0 => WeightingError::NoInvited,
            _ => WeightingError::NoResponders { invited },
        };
        prop_assert_eq!(inverse_propensity(&p, &s).unwrap_err(), expected.clone());
        prop_assert_eq!(post_stratified(&p, &s).unwrap_err(), expected.clone());
        prop_assert_eq!(profile(&p, &s).unwrap_err(), expected);
    }

    #[test]
    fn when_everyone_answered_there_is_nothing_to_correct(p in any_population()) {
        let mut p = valid(p);
        p.cells.iter_mut().for_each(|c| c.answers = counts(c.invited, 0, 0));
        let invited: u64 = p.cells.iter().map(|c| c.invited).sum();
        prop_assume!(invited > 0);
        let s = Settings::default();
        let expected = WeightingError::EveryoneResponded { invited };
        prop_assert_eq!(inverse_propensity(&p, &s).unwrap_err(), expected.clone());
        prop_assert_eq!(post_stratified(&p, &s).unwrap_err(), expected);
    }

    #[test]
    fn constant_covariates_alone_explain_nothing(p in any_population()) {
        let mut p = valid(p);
        p.cells.iter_mut().for_each(|c| c.levels.iter_mut().for_each(|l| *l = 0));
        let s = Settings::default();
        let (invited, responded) = totals(&p.cells);
        prop_assume!(responded > 0 && responded < invited);
        for err in [inverse_propensity(&p, &s).unwrap_err(), post_stratified(&p, &s).unwrap_err()] {
            prop_assert!(matches!(err, WeightingError::NothingVaries { .. }), "{err}");
        }
    }
}
