//! Distinguishing terms on a small corpus counted by hand; the log-odds ratios and z-scores
//! from the paper's formulas (`terms/reference.py`, which documents the counts).

use cxray_core::comments::{Language, Side, TermCounts};

/// term as shown, count in A, count in B, log-odds ratio, z (from `terms/reference.py`).
const REFERENCE: [(&str, u64, u64, f64, f64); 5] = [
    ("staff", 1, 2, -0.396415272588, -0.590940997884),
    ("bags", 2, 0, 0.597837000756, 0.690322706636),
    ("delay", 2, 0, 0.597837000756, 0.690322706636),
    ("friendly", 0, 2, -0.884202417323, -1.020989007319),
    ("friendly staff", 0, 2, -0.884202417323, -1.020989007319),
];

fn corpus() -> TermCounts {
    let mut counts = TermCounts::default();
    for (side, text) in [
        (Side::A, "Bags lost. Lost bags again!"),
        (Side::A, "Delay, delay and rude staff"),
        (Side::B, "Friendly staff"),
        (Side::B, "Great crew, friendly staff"),
    ] {
        counts.add(side, text, Language::English);
    }
    counts
}

#[test]
fn log_odds_and_z_match_the_hand_computed_values() {
    let d = corpus().distinguishing(1.0, 1, 100).unwrap();
    assert_eq!(
        (d.comments_a, d.comments_b, d.terms_a, d.terms_b),
        (2, 2, 18, 12)
    );
    let all: Vec<_> = d.of_a.iter().chain(&d.of_b).collect();
    for (term, a, b, delta, z) in REFERENCE {
        let t = all
            .iter()
            .find(|t| t.term == term)
            .unwrap_or_else(|| panic!("{term} missing"));
        assert_eq!((t.count_a, t.count_b), (a, b), "{term}");
        assert!(
            (t.log_odds - delta).abs() < 1e-9 && (t.z - z).abs() < 1e-9,
            "{term}: {t:?}"
        );
    }
    assert!(d.of_a.windows(2).all(|w| w[0].z >= w[1].z));
    assert!(d.of_b.windows(2).all(|w| w[0].z <= w[1].z));
    assert_eq!(d.of_b[0].term, "friendly");
}

#[test]
fn counting_in_parts_gives_the_same_terms() {
    let mut parts = TermCounts::default();
    let mut b = TermCounts::default();
    parts.add(Side::A, "Bags lost. Lost bags again!", Language::English);
    parts.add(Side::A, "Delay, delay and rude staff", Language::English);
    b.add(Side::B, "Friendly staff", Language::English);
    b.add(Side::B, "Great crew, friendly staff", Language::English);
    parts.merge(b);
    assert_eq!(
        parts.distinguishing(1.0, 1, 100),
        corpus().distinguishing(1.0, 1, 100)
    );
}

#[test]
fn an_empty_group_is_refused() {
    let mut counts = TermCounts::default();
    counts.add(Side::A, "Friendly staff", Language::English);
    counts.add(Side::B, "", Language::English);
    assert!(counts.distinguishing(1.0, 1, 10).is_err());
}
