//! How well a score separates events from non-events: the AUC (Mann–Whitney) with DeLong's
//! variance, and DeLong's test of two correlated AUCs on the same cases.

use super::quantile::normal_two_sided_p;
use super::{Difference, Estimate, Scale, Settings, StatsError, wald};

/// DeLong placement values (DeLong, DeLong & Clarke-Pearson 1988, Biometrics 44): for each
/// event, the share of non-events scored below it (ties count half); for each non-event,
/// the share of events scored above it. Both average to the AUC.
struct Placements {
    events: Vec<f64>,
    non_events: Vec<f64>,
}

/// Checks that scores and outcomes pair up, are finite and hold both classes; returns the
/// numbers of events and non-events.
pub(super) fn check_cases(scores: &[f64], events: &[bool]) -> Result<(u64, u64), StatsError> {
    if scores.len() != events.len() {
        return Err(StatsError::LengthMismatch {
            scores: scores.len(),
            outcomes: events.len(),
        });
    }
    if let Some(&bad) = scores.iter().find(|v| !v.is_finite()) {
        return Err(StatsError::NonFinite(bad));
    }
    let pos = events.iter().filter(|&&e| e).count() as u64;
    let neg = events.len() as u64 - pos;
    match (pos, neg) {
        (0, 0) => Err(StatsError::NoData),
        (0, _) | (_, 0) => Err(StatsError::OneClass {
            events: pos,
            non_events: neg,
        }),
        _ => Ok((pos, neg)),
    }
}

/// Indices of `scores` in ascending order (one O(n log n) sort of score–index pairs, which
/// keeps the comparisons in cache).
pub(super) fn ascending(scores: &[f64]) -> Vec<usize> {
    let mut pairs: Vec<(f64, usize)> = scores.iter().copied().zip(0..).collect();
    pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    pairs.into_iter().map(|(_, i)| i).collect()
}

impl Placements {
    /// One sort, then one pass over blocks of tied scores (Sun & Xu 2014's midrank idea).
    fn new(scores: &[f64], events: &[bool]) -> Result<Self, StatsError> {
        let (pos, neg) = check_cases(scores, events)?;
        let order = ascending(scores);
        let mut placement = vec![0.0; scores.len()];
        let (mut pos_below, mut neg_below) = (0, 0);
        for block in order.chunk_by(|&i, &j| scores[i] == scores[j]) {
            let pos_tied = block.iter().filter(|&&i| events[i]).count() as u64;
            let neg_tied = block.len() as u64 - pos_tied;
            let v10 = (neg_below as f64 + 0.5 * neg_tied as f64) / neg as f64;
            let pos_above = pos - pos_below - pos_tied;
            let v01 = (pos_above as f64 + 0.5 * pos_tied as f64) / pos as f64;
            for &i in block {
                placement[i] = if events[i] { v10 } else { v01 };
            }
            pos_below += pos_tied;
            neg_below += neg_tied;
        }
        let split = |want: bool| -> Vec<f64> {
            (0..scores.len())
                .filter(|&i| events[i] == want)
                .map(|i| placement[i])
                .collect()
        };
        Ok(Placements {
            events: split(true),
            non_events: split(false),
        })
    }

    fn auc(&self) -> f64 {
        self.events.iter().sum::<f64>() / self.events.len() as f64
    }

    /// DeLong's covariance of this AUC with another on the same cases:
    /// cov(V10a, V10b)/m + cov(V01a, V01b)/n (the variance when `other` is `self`).
    /// `None` when a class has a single case.
    fn covariance(&self, other: &Placements) -> Option<f64> {
        let part = |a: &[f64], b: &[f64]| sample_covariance(a, b).map(|c| c / a.len() as f64);
        Some(part(&self.events, &other.events)? + part(&self.non_events, &other.non_events)?)
    }
}

/// The sample covariance (divisor n − 1) of paired values; `None` for fewer than two.
fn sample_covariance(a: &[f64], b: &[f64]) -> Option<f64> {
    let n = a.len();
    if n < 2 {
        return None;
    }
    let (ma, mb) = (mean(a), mean(b));
    let sum: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    Some(sum / (n - 1) as f64)
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// The AUC of `scores` for `events` (higher scores should mean events): the Mann–Whitney
/// probability that an event outscores a non-event, ties counted half, with DeLong's
/// variance and a Wald interval clamped to 0…1. n is the number of cases; the figure is a
/// small sample when either class has fewer than `min_n` cases; with a single case in a
/// class the interval is `None`. O(n log n).
pub fn auc(scores: &[f64], events: &[bool], s: &Settings) -> Result<Estimate, StatsError> {
    let p = Placements::new(scores, events)?;
    let z = s.z()?;
    let value = p.auc();
    let interval = p
        .covariance(&p)
        .map(|var| wald(value, var.sqrt(), z, normal_two_sided_p).0);
    let mut e = Estimate::new(scores.len() as u64, value, interval, Scale::Auc, s);
    e.small_sample |= p.events.len().min(p.non_events.len()) < s.min_n as usize;
    Ok(e)
}

/// AUC(a) − AUC(b) for two scores of the same cases, with DeLong's test (DeLong et al.
/// 1988): var = var(a) + var(b) − 2 cov(a, b) from the placement values. `n_a` and `n_b`
/// are both the number of cases.
pub fn auc_difference(
    a: &[f64],
    b: &[f64],
    events: &[bool],
    s: &Settings,
) -> Result<Difference, StatsError> {
    let (pa, pb) = (Placements::new(a, events)?, Placements::new(b, events)?);
    let z = s.z()?;
    let d = pa.auc() - pb.auc();
    let test = (|| {
        let var = pa.covariance(&pa)? + pb.covariance(&pb)? - 2.0 * pa.covariance(&pb)?;
        Some(wald(d, var.max(0.0).sqrt(), z, normal_two_sided_p))
    })();
    let n = a.len() as u64;
    let mut diff = Difference::new((n, n), d, test, Scale::Auc, s);
    diff.small_sample |= pa.events.len().min(pa.non_events.len()) < s.min_n as usize;
    Ok(diff)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// The O(m·n) definition: Σ over event/non-event pairs of 1 (event higher), ½ (tie).
    fn brute_force(scores: &[f64], events: &[bool]) -> f64 {
        let (mut sum, mut pairs) = (0.0, 0.0);
        for (x, _) in scores.iter().zip(events).filter(|(_, e)| **e) {
            for (y, _) in scores.iter().zip(events).filter(|(_, e)| !**e) {
                sum += if x > y {
                    1.0
                } else if x == y {
                    0.5
                } else {
                    0.0
                };
                pairs += 1.0;
            }
        }
        sum / pairs
    }

    #[test]
    fn matches_brute_force_with_ties() {
        let mut rng = Rng::new(11);
        for n in [2, 7, 50, 400] {
            let scores: Vec<f64> = (0..n).map(|_| rng.below(6) as f64).collect();
            let mut events: Vec<bool> = scores
                .iter()
                .map(|s| rng.bernoulli(0.1 + s / 8.0))
                .collect();
            events[0] = true;
            events[1] = false;
            let got = auc(&scores, &events, &Settings::default()).unwrap().value;
            assert!((got - brute_force(&scores, &events)).abs() < 1e-12, "n {n}");
        }
    }

    #[test]
    fn delong_hand_example() {
        // Events 0.9, 0.8, 0.4; non-events 0.7, 0.4, 0.2. V10 = 1, 1, ½ (0.4 ties 0.4);
        // V01 = ⅔, ⅚, 1. AUC = 2.5/3 = 0.833333. S10 = (1/36 + 1/36 + 4/36)/2 = 1/12,
        // S01 = (1/36 + 0 + 1/36)/2 = 1/36; var = (1/12 + 1/36)/3 = 1/27, se = 0.192450;
        // ± 0.377195 → 0.456138 … 1.210529, clamped to 1.
        let scores = [0.9, 0.8, 0.4, 0.7, 0.4, 0.2];
        let events = [true, true, true, false, false, false];
        let p = Placements::new(&scores, &events).unwrap();
        assert!((p.covariance(&p).unwrap() - 1.0 / 27.0).abs() < 1e-15);
        let e = auc(&scores, &events, &Settings::default()).unwrap();
        assert!((e.value - 2.5 / 3.0).abs() < 1e-15);
        assert!(
            (e.low.unwrap() - 0.456_138).abs() < 1e-6 && e.high == Some(1.0),
            "{e:?}"
        );
        assert!(e.small_sample);
    }

    #[test]
    fn correlated_auc_difference() {
        let events = [true, true, true, false, false, false];
        let a = [0.9, 0.8, 0.4, 0.7, 0.4, 0.2];
        // The same score against itself: no difference, p = 1.
        let same = auc_difference(&a, &a, &events, &Settings::default()).unwrap();
        assert_eq!((same.value, same.p_value), (0.0, Some(1.0)));
        // Reversed ranking: AUC 1/6 against 5/6; variances equal, cov = −var, so the
        // variance of the difference is 4/27 and se = 0.384900; z = −(2/3)/0.3849 = −1.732051.
        let b: Vec<f64> = a.iter().map(|x| -x).collect();
        let d = auc_difference(&b, &a, &events, &Settings::default()).unwrap();
        assert!((d.value + 2.0 / 3.0).abs() < 1e-12);
        let p = normal_two_sided_p(1.732_051);
        assert!((d.p_value.unwrap() - p).abs() < 1e-6, "{d:?}");
    }

    #[test]
    fn many_cases_recover_the_binormal_auc() {
        let mut rng = Rng::new(5);
        let events: Vec<bool> = (0..200_000).map(|_| rng.bernoulli(0.2)).collect();
        let shift = |e: bool| if e { 1.0 } else { 0.0 };
        let scores: Vec<f64> = events.iter().map(|&e| rng.normal() + shift(e)).collect();
        let e = auc(&scores, &events, &Settings::default()).unwrap();
        // Binormal with δ = 1: AUC = Φ(1/√2) = 0.760250.
        assert!((e.value - 0.760_250).abs() < 0.006, "{e:?}");
        assert!(e.high.unwrap() - e.low.unwrap() < 0.01);
    }

    #[test]
    fn bad_cases() {
        let s = Settings::default();
        assert_eq!(auc(&[], &[], &s), Err(StatsError::NoData));
        assert_eq!(
            auc(&[1.0, 2.0], &[true, true], &s),
            Err(StatsError::OneClass {
                events: 2,
                non_events: 0
            })
        );
        assert!(matches!(
            auc(&[1.0], &[true, false], &s),
            Err(StatsError::LengthMismatch { .. })
        ));
        // One event: AUC defined, interval not.
        let one = auc(&[3.0, 1.0, 2.0], &[true, false, false], &s).unwrap();
        assert_eq!((one.value, one.low), (1.0, None));
    }
}
