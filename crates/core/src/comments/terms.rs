//! Terms that distinguish two groups of comments: the log-odds ratio with an informative
//! Dirichlet prior (Monroe, Colaresi & Quinn 2008, "Fightin' Words", eqs. 16 and 18).
//!
//! For a term w with counts y_a, y_b in the groups' n_a, n_b terms, and a prior α_w = α₀ ·
//! (y_a + y_b)/(n_a + n_b) from both groups together:
//!
//! δ = ln((y_a + α_w)/(n_a + α₀ − y_a − α_w)) − ln((y_b + α_w)/(n_b + α₀ − y_b − α_w)),
//! σ² ≈ 1/(y_a + α_w) + 1/(y_b + α_w), z = δ/σ.
//!
//! Terms are the n-grams (1–3 words) of stems; they are shown as each stem's most frequent
//! word.

use std::collections::HashMap;

use serde::Serialize;

use super::tokens::{Surfaces, ngrams, words};
use super::{Language, TextError};

/// The longest n-gram counted.
pub const LONGEST: usize = 3;

/// Which of the two groups compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    A,
    B,
}

/// Term counts of two groups of comments, and how often each stem was which word.
#[derive(Debug, Default)]
pub struct TermCounts {
    counts: HashMap<String, [u64; 2]>,
    totals: [u64; 2],
    comments: [u64; 2],
    surfaces: Surfaces,
}

/// A term with its counts, log-odds ratio (group A against B) and z-score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Term {
    pub term: String,
    pub count_a: u64,
    pub count_b: u64,
    pub log_odds: f64,
    pub z: f64,
}

/// The distinguishing terms of each group, most distinguishing first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Distinguishing {
    pub comments_a: u64,
    pub comments_b: u64,
    pub terms_a: u64,
    pub terms_b: u64,
    /// Terms more frequent in A (z > 0) and in B (z < 0).
    pub of_a: Vec<Term>,
    pub of_b: Vec<Term>,
}

impl TermCounts {
    /// Counts a (redacted) comment of a known language in one group.
    pub fn add(&mut self, side: Side, text: &str, language: Language) {
        let ws = words(text, language, &language.stemmer());
        let k = side as usize;
        self.comments[k] += 1;
        for gram in ngrams(&ws, LONGEST) {
            self.counts.entry(gram).or_default()[k] += 1;
            self.totals[k] += 1;
        }
        self.surfaces.add(&ws);
    }

    /// Adds another's counts (of other comments).
    pub fn merge(&mut self, other: TermCounts) {
        for (term, [a, b]) in other.counts {
            let c = self.counts.entry(term).or_default();
            c[0] += a;
            c[1] += b;
        }
        for k in 0..2 {
            self.totals[k] += other.totals[k];
            self.comments[k] += other.comments[k];
        }
        self.surfaces.merge(other.surfaces);
    }

    /// The `top` terms of each group by z, from terms counted at least `min_count` times,
    /// with the prior's total α₀ = `prior` × all terms counted.
    pub fn distinguishing(
        &self,
        prior: f64,
        min_count: u64,
        top: usize,
    ) -> Result<Distinguishing, TextError> {
        let [n_a, n_b] = self.totals;
        if n_a == 0 || n_b == 0 {
            return Err(TextError::EmptyGroup);
        }
        let alpha0 = prior * (n_a + n_b) as f64;
        let terms: Vec<Term> = self
            .counts
            .iter()
            .filter(|(_, [a, b])| a + b >= min_count)
            .map(|(gram, &[a, b])| {
                let alpha = alpha0 * (a + b) as f64 / (n_a + n_b) as f64;
                let (log_odds, z) = log_odds([a, b], [n_a, n_b], alpha, alpha0);
                Term {
                    term: self.surfaces.shown(gram),
                    count_a: a,
                    count_b: b,
                    log_odds,
                    z,
                }
            })
            .collect();
        let strongest = |sign: f64| {
            let mut side: Vec<Term> = terms.iter().filter(|t| t.z * sign > 0.0).cloned().collect();
            side.sort_by(|x, y| {
                (y.z * sign)
                    .total_cmp(&(x.z * sign))
                    .then_with(|| x.term.cmp(&y.term))
            });
            side.truncate(top);
            side
        };
        let (of_a, of_b) = (strongest(1.0), strongest(-1.0));
        Ok(Distinguishing {
            comments_a: self.comments[0],
            comments_b: self.comments[1],
            terms_a: n_a,
            terms_b: n_b,
            of_a,
            of_b,
        })
    }
}

/// The log-odds ratio δ of a term between two groups and its z-score, from its counts `y`,
/// the groups' totals `n`, its prior `alpha` and the prior's total `alpha0`.
pub fn log_odds(y: [u64; 2], n: [u64; 2], alpha: f64, alpha0: f64) -> (f64, f64) {
    let log_odds_in = |k: usize| {
        let (y, n) = (y[k] as f64, n[k] as f64);
        ((y + alpha) / (n + alpha0 - y - alpha)).ln()
    };
    let delta = log_odds_in(0) - log_odds_in(1);
    let variance = 1.0 / (y[0] as f64 + alpha) + 1.0 / (y[1] as f64 + alpha);
    (delta, delta / variance.sqrt())
}
