//! Model inputs: compressed, weighted unique patterns, and their validation.

use super::ModelError;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::ops::Range;

/// A recency-frequency pattern shared by `weight` customers, in one time unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rfm {
    /// Repeat transactions in the calibration period (the first purchase is not counted).
    pub x: f64,
    /// Time of the last repeat transaction since the first purchase (0 when `x = 0`).
    pub t_x: f64,
    /// Time from the first purchase to the end of the calibration period.
    pub t: f64,
    /// Number of customers with this pattern.
    pub weight: f64,
}

impl Rfm {
    /// One customer's pattern (weight 1).
    pub fn new(x: f64, t_x: f64, t: f64) -> Self {
        Rfm {
            x,
            t_x,
            t,
            weight: 1.0,
        }
    }
}

/// Repeat-spend pattern for the Gamma-Gamma model, shared by `weight` customers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpendPattern {
    /// Repeat transactions (> 0).
    pub x: f64,
    /// Mean value of those transactions (> 0).
    pub mean_spend: f64,
    /// Number of customers with this pattern.
    pub weight: f64,
}

/// Contractual tenure for the shifted-beta-geometric model, shared by `weight` customers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tenure {
    /// Periods observed: the period of churn if `churned`, else periods survived so far.
    pub periods: u32,
    /// Whether the customer churned at the end of period `periods` (else still active).
    pub churned: bool,
    /// Number of customers with this pattern.
    pub weight: f64,
}

/// Sorts `items` by `key` and merges equal keys, summing the weights.
fn compress_by<T, K: PartialEq>(
    mut items: Vec<T>,
    key: impl Fn(&T) -> K,
    cmp: impl Fn(&T, &T) -> Ordering,
    weight: impl Fn(&mut T) -> &mut f64,
) -> Vec<T> {
    items.sort_by(&cmp);
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for mut item in items {
        match out.last_mut() {
            Some(last) if key(last) == key(&item) => *weight(last) += *weight(&mut item),
            _ => out.push(item),
        }
    }
    out
}

/// Sorted patterns thinned to about `keep`: each run of consecutive patterns is stood for
/// by its first, which takes the run's total weight. Neighbours in the sort order are
/// alike, so the likelihood of the result is near the full one (same total weight) at a
/// fraction of the cost: a warm start for fitting the full data.
pub(crate) fn thin<T: Copy>(
    sorted: &[T],
    keep: usize,
    weight: impl Fn(&mut T) -> &mut f64,
) -> Vec<T> {
    let run = sorted.len().div_ceil(keep.max(1));
    sorted
        .chunks(run)
        .map(|chunk| {
            let mut first = chunk[0];
            *weight(&mut first) = chunk.iter().copied().map(|mut c| *weight(&mut c)).sum();
            first
        })
        .collect()
}

/// Orders patterns by `(x, t_x, T)`.
pub(crate) fn rfm_order(a: &Rfm, b: &Rfm) -> Ordering {
    a.x.total_cmp(&b.x)
        .then(a.t_x.total_cmp(&b.t_x))
        .then(a.t.total_cmp(&b.t))
}

/// Orders spend patterns by `(x, mean_spend)`.
pub(crate) fn spend_order(a: &SpendPattern, b: &SpendPattern) -> Ordering {
    a.x.total_cmp(&b.x)
        .then(a.mean_spend.total_cmp(&b.mean_spend))
}

/// Compresses per-customer `(x, t_x, T)` rows into unique weighted patterns, sorted by
/// `(x, t_x, T)`.
pub fn compress_rfm(rows: impl IntoIterator<Item = (f64, f64, f64)>) -> Vec<Rfm> {
    let items = rows
        .into_iter()
        .map(|(x, t_x, t)| Rfm::new(x, t_x, t))
        .collect();
    compress_by(
        items,
        |r| (r.x.to_bits(), r.t_x.to_bits(), r.t.to_bits()),
        rfm_order,
        |r| &mut r.weight,
    )
}

/// Compresses per-customer `(x, mean_spend)` rows into unique weighted patterns.
pub fn compress_spend(rows: impl IntoIterator<Item = (f64, f64)>) -> Vec<SpendPattern> {
    let items = rows
        .into_iter()
        .map(|(x, mean_spend)| SpendPattern {
            x,
            mean_spend,
            weight: 1.0,
        })
        .collect();
    compress_by(
        items,
        |s| (s.x.to_bits(), s.mean_spend.to_bits()),
        spend_order,
        |s| &mut s.weight,
    )
}

/// Total weight, after checking every weight is finite and non-negative and the total is
/// positive.
pub(crate) fn total_weight(weights: impl Iterator<Item = f64>) -> Result<f64, ModelError> {
    let mut total = 0.0;
    for w in weights {
        if !(w.is_finite() && w >= 0.0) {
            return Err(ModelError::InvalidData(format!(
                "weight {w} is not a finite non-negative number"
            )));
        }
        total += w;
    }
    if total > 0.0 {
        Ok(total)
    } else {
        Err(ModelError::InvalidData(
            "no customers (total weight 0)".into(),
        ))
    }
}

/// Checks RFM patterns: `x` a non-negative whole number, `0 ≤ t_x ≤ T`, `T > 0`,
/// `t_x > 0` when `x > 0`. Returns the total weight.
pub(crate) fn validate_rfm(data: &[Rfm]) -> Result<f64, ModelError> {
    for r in data {
        let ok = r.x >= 0.0
            && r.x.fract() == 0.0
            && r.t.is_finite()
            && r.t > 0.0
            && r.t_x >= 0.0
            && r.t_x <= r.t
            && (r.x == 0.0 || r.t_x > 0.0);
        if !ok {
            return Err(ModelError::InvalidData(format!(
                "invalid pattern x={}, t_x={}, T={}: need whole x ≥ 0, 0 ≤ t_x ≤ T, T > 0, t_x > 0 when x > 0",
                r.x, r.t_x, r.t
            )));
        }
    }
    total_weight(data.iter().map(|r| r.weight))
}

/// The patterns sorted by `order` (which must sort by `x` first), with the index range of
/// each distinct `x`, so that likelihoods evaluate special functions once per distinct
/// `x`. A total order makes sums, and so fits, independent of the input order.
pub(crate) fn group_by_x<T: Copy>(
    data: &[T],
    x: impl Fn(&T) -> f64,
    order: impl Fn(&T, &T) -> Ordering,
) -> (Vec<T>, Vec<(f64, Range<usize>)>) {
    let mut sorted = data.to_vec();
    sorted.sort_by(order);
    let mut groups: Vec<(f64, Range<usize>)> = Vec::new();
    for (i, item) in sorted.iter().enumerate() {
        match groups.last_mut() {
            Some((gx, range)) if *gx == x(item) => range.end = i + 1,
            _ => groups.push((x(item), i..i + 1)),
        }
    }
    (sorted, groups)
}

/// One pattern of an [`XGroup`]: indices into the group's tables of T and t_x, and weight.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PatternRef {
    pub t: u32,
    pub t_x: u32,
    pub weight: f64,
}

/// The patterns with one repeat count `x`, their T and t_x as indices into tables of the
/// group's distinct values.
#[derive(Debug, Clone)]
pub(crate) struct XGroup {
    pub x: f64,
    /// Total weight of the group.
    pub weight: f64,
    /// Distinct T values, ascending.
    pub t: Vec<f64>,
    /// Distinct t_x values, ascending.
    pub t_x: Vec<f64>,
    pub patterns: Vec<PatternRef>,
}

/// Weighted patterns grouped by `x` with tables of their distinct T and t_x, so that a
/// likelihood evaluates each function of (x, T) or (x, t_x) once per distinct pair and
/// is left with a log-sum-exp per pattern.
pub(crate) fn tabulate(data: &[Rfm]) -> Vec<XGroup> {
    let (sorted, groups) = group_by_x(data, |r| r.x, rfm_order);
    groups
        .into_iter()
        .map(|(x, range)| {
            let members = &sorted[range];
            let t = distinct(members.iter().map(|r| r.t));
            let t_x = distinct(members.iter().map(|r| r.t_x));
            let index =
                |values: &[f64], v: f64| values.partition_point(|u| u.total_cmp(&v).is_lt()) as u32;
            XGroup {
                x,
                weight: members.iter().map(|r| r.weight).sum(),
                patterns: members
                    .iter()
                    .map(|r| PatternRef {
                        t: index(&t, r.t),
                        t_x: index(&t_x, r.t_x),
                        weight: r.weight,
                    })
                    .collect(),
                t,
                t_x,
            }
        })
        .collect()
}

/// Patterns from which likelihood sums run on two threads.
const TWO_THREADS_FROM: usize = 50_000;

/// `sum(group, patterns)` for every group. With many patterns, the first and second half
/// of each group's patterns are summed on two threads and `add`ed, always split the same
/// way, so results depend on the data only, not on the machine.
pub(crate) fn sum_groups<G: Sync, P: Sync, R: Send>(
    groups: &[G],
    patterns: impl Fn(&G) -> &[P] + Sync,
    sum: impl Fn(&G, &[P]) -> R + Sync,
    add: impl Fn(R, R) -> R,
) -> Vec<R> {
    let count: usize = groups.iter().map(|g| patterns(g).len()).sum();
    if count < TWO_THREADS_FROM {
        return groups.iter().map(|g| sum(g, patterns(g))).collect();
    }
    let half = |second: bool| -> Vec<R> {
        groups
            .iter()
            .map(|g| {
                let (first, rest) = patterns(g).split_at(patterns(g).len() / 2);
                sum(g, if second { rest } else { first })
            })
            .collect()
    };
    let (first, second) = std::thread::scope(|scope| {
        let second = scope.spawn(|| half(true));
        (half(false), second.join().expect("likelihood thread"))
    });
    first
        .into_iter()
        .zip(second)
        .map(|(a, b)| add(a, b))
        .collect()
}

/// The distinct values, ascending.
fn distinct(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut out: Vec<f64> = values.collect();
    out.sort_by(f64::total_cmp);
    out.dedup_by(|a, b| a.to_bits() == b.to_bits());
    out
}

/// Starting values for the purchase-rate scale α and the mean age T of weighted
/// patterns: α starts at the mean age per repeat purchase (the mean age without any).
pub(super) fn scale_starts(data: &[Rfm], n: f64) -> (f64, f64) {
    let (x_sum, t_sum) = data.iter().fold((0.0, 0.0), |(x, t), r| {
        (x + r.weight * r.x, t + r.weight * r.t)
    });
    let alpha0 = if x_sum > 0.0 {
        t_sum / x_sum
    } else {
        t_sum / n
    };
    (alpha0, t_sum / n)
}
