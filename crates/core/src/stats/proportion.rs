//! A proportion with the Wilson score interval: CSAT top-2-box, grade shares, the
//! satisfied-defector share, or any other count out of a total.

use super::{Estimate, Scale, Settings, StatsError};
use serde::{Deserialize, Serialize};

/// `successes` out of `n`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proportion {
    pub successes: u64,
    pub n: u64,
}

impl Proportion {
    /// Checks `0 < n` and `successes ≤ n`.
    pub(super) fn checked(self) -> Result<Self, StatsError> {
        match self {
            Proportion { n: 0, .. } => Err(StatsError::NoData),
            Proportion { successes, n } if successes > n => {
                Err(StatsError::InvalidCount { successes, n })
            }
            ok => Ok(ok),
        }
    }

    /// The observed proportion successes / n (`n > 0`).
    pub(super) fn rate(self) -> f64 {
        self.successes as f64 / self.n as f64
    }

    /// The Wilson (1927) score interval at critical value `z`:
    /// (p̂ + z²/2n ± z √(p̂(1 − p̂)/n + z²/4n²)) / (1 + z²/n) (`n > 0`).
    pub(super) fn wilson(self, z: f64) -> (f64, f64) {
        let (p, n) = (self.rate(), self.n as f64);
        let z2n = z * z / n;
        let centre = (p + 0.5 * z2n) / (1.0 + z2n);
        let half = z * (p * (1.0 - p) / n + 0.25 * z2n / n).sqrt() / (1.0 + z2n);
        // The interval holds p̂ exactly; clamped so rounding at 0 or 1 cannot cross it.
        ((centre - half).clamp(0.0, p), (centre + half).clamp(p, 1.0))
    }
}

/// A proportion as a percentage with its Wilson score interval (Wilson 1927; recommended by
/// Agresti & Coull 1998 and Brown, Cai & DasGupta 2001). `NoData` when `n = 0`.
pub fn proportion(p: Proportion, s: &Settings) -> Result<Estimate, StatsError> {
    let p = p.checked()?;
    let interval = p.wilson(s.z()?);
    Ok(Estimate::new(
        p.n,
        p.rate(),
        Some(interval),
        Scale::Percent,
        s,
    ))
}

/// `successes` of `n` as a fraction (0…1, not percent) with its Wilson interval, flagged as
/// [`proportion`] flags it; none when `n = 0` or `successes > n`.
pub fn share(successes: u64, n: u64, s: &Settings) -> Option<Estimate> {
    let e = proportion(Proportion { successes, n }, s).ok()?;
    Some(Estimate {
        value: e.value / 100.0,
        low: e.low.map(|v| v / 100.0),
        high: e.high.map(|v| v / 100.0),
        ..e
    })
}

/// The odds ratio of proportion `a` against `b` with the Woolf (1955) interval
/// exp(ln OR ± z·√(1/a + 1/b + 1/c + 1/d)) over the 2×2 table's cells; when a cell is
/// empty, one half is added to every cell (Haldane 1956). Flagged as a small sample when
/// either group has fewer than `min_n`. `NoData` when a group is empty.
pub fn odds_ratio(a: Proportion, b: Proportion, s: &Settings) -> Result<Estimate, StatsError> {
    let (a, b) = (a.checked()?, b.checked()?);
    let cells = [
        a.successes,
        a.n - a.successes,
        b.successes,
        b.n - b.successes,
    ];
    let half = if cells.contains(&0) { 0.5 } else { 0.0 };
    let [yes_a, no_a, yes_b, no_b] = cells.map(|c| c as f64 + half);
    let ln_or = (yes_a * no_b / (no_a * yes_b)).ln();
    let reach = s.z()? * (1.0 / yes_a + 1.0 / no_a + 1.0 / yes_b + 1.0 / no_b).sqrt();
    let interval = ((ln_or - reach).exp(), (ln_or + reach).exp());
    Ok(Estimate {
        small_sample: a.n.min(b.n) < s.min_n,
        ..Estimate::unflagged(a.n + b.n, ln_or.exp(), Some(interval))
    })
}

/// The share of successes to expect among independent trials with known probabilities
/// (a Poisson-binomial count over n), as a percentage: Σp/n with the normal interval
/// ± z·√(Σp(1 − p))/n — e.g. the share of a group still alive given each member's P(alive).
/// `NoData` without trials; `NonFinite` or out-of-range probabilities are refused.
pub fn expected_share(probabilities: &[f64], s: &Settings) -> Result<Estimate, StatsError> {
    if probabilities.is_empty() {
        return Err(StatsError::NoData);
    }
    if let Some(&bad) = probabilities
        .iter()
        .find(|p| !p.is_finite() || !(0.0..=1.0).contains(*p))
    {
        return Err(StatsError::NonFinite(bad));
    }
    let n = probabilities.len() as f64;
    let mean = probabilities.iter().sum::<f64>() / n;
    let variance: f64 = probabilities.iter().map(|p| p * (1.0 - p)).sum();
    let half = s.z()? * variance.sqrt() / n;
    Ok(Estimate::new(
        probabilities.len() as u64,
        mean,
        Some((mean - half, mean + half)),
        Scale::Percent,
        s,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_share_of_known_probabilities() {
        // p = 0.5, 0.5, 0.9, 0.1: mean 0.5; Σp(1−p) = 0.25 + 0.25 + 0.09 + 0.09 = 0.68;
        // half width 1.959964 × √0.68 / 4 = 0.404058.
        let e = expected_share(&[0.5, 0.5, 0.9, 0.1], &Settings::default()).unwrap();
        assert_eq!((e.n, e.value), (4, 50.0));
        assert!((e.low.unwrap() - 9.5942).abs() < 1e-3, "{e:?}");
        assert!((e.high.unwrap() - 90.4058).abs() < 1e-3, "{e:?}");
        let certain = expected_share(&[1.0; 40], &Settings::default()).unwrap();
        assert_eq!(
            (certain.value, certain.low, certain.high),
            (100.0, Some(100.0), Some(100.0))
        );
        assert_eq!(
            expected_share(&[], &Settings::default()),
            Err(StatsError::NoData)
        );
        assert!(expected_share(&[1.5], &Settings::default()).is_err());
    }

    fn share(successes: u64, n: u64) -> Result<Estimate, StatsError> {
        proportion(Proportion { successes, n }, &Settings::default())
    }

    #[test]
    fn share_is_the_proportion_as_a_fraction() {
        let s = Settings::default();
        let (f, p) = (super::share(8, 10, &s).unwrap(), share(8, 10).unwrap());
        assert_eq!((f.n, f.value, f.small_sample), (10, 0.8, p.small_sample));
        assert!((f.low.unwrap() * 100.0 - p.low.unwrap()).abs() < 1e-12);
        assert!((f.high.unwrap() * 100.0 - p.high.unwrap()).abs() < 1e-12);
        assert_eq!(super::share(1, 0, &s), None);
        assert_eq!(super::share(3, 2, &s), None);
    }

    #[test]
    fn wilson_holds_the_rate_even_at_zero_and_one() {
        for n in [1, 7, 1039, 1075, 1_000_003] {
            for successes in [0, n] {
                let (low, high) = Proportion { successes, n }.wilson(1.959964);
                let p = successes as f64 / n as f64;
                assert!(
                    0.0 <= low && low <= p && p <= high && high <= 1.0,
                    "{successes}/{n}"
                );
            }
        }
    }

    #[test]
    fn wilson_hand_example_8_of_10() {
        // p̂ = 0.8, z = 1.959964, z²/n = 0.384146; centre = (0.8 + 0.192073)/1.384146
        // = 0.716740; half = 1.959964·√(0.016 + 0.0096037)/1.384146 = 0.226579;
        // interval 0.490161 … 0.943379.
        let e = share(8, 10).unwrap();
        assert_eq!((e.n, e.value), (10, 80.0));
        assert!((e.low.unwrap() - 49.0162).abs() < 1e-3, "{e:?}");
        assert!((e.high.unwrap() - 94.3318).abs() < 1e-3, "{e:?}");
        assert!(e.small_sample);
    }

    #[test]
    fn extremes_stay_in_bounds() {
        // 0 of 20: low 0, high z²/(n + z²) = 3.841459/23.841459 = 16.1125%.
        let none = share(0, 20).unwrap();
        assert_eq!((none.value, none.low), (0.0, Some(0.0)));
        assert!((none.high.unwrap() - 16.1125).abs() < 1e-3);
        let all = share(20, 20).unwrap();
        assert!((all.high.unwrap() - 100.0).abs() < 1e-12);
        assert!((all.low.unwrap() - 83.8875).abs() < 1e-3);
        let big = share(600, 1000).unwrap();
        assert!(!big.small_sample && big.high.unwrap() - big.low.unwrap() < 7.0);
    }

    /// Exact coverage of the Wilson interval for a true proportion `p` at size `n`: the
    /// binomial probability of the counts whose interval contains `p`.
    fn exact_coverage(p: f64, n: u64, z: f64) -> f64 {
        use crate::models::special::ln_gamma;
        let nf = n as f64;
        (0..=n)
            .filter(|&k| {
                let (lo, hi) = Proportion { successes: k, n }.wilson(z);
                lo <= p && p <= hi
            })
            .map(|k| {
                let kf = k as f64;
                let ln_choose = ln_gamma(nf + 1.0) - ln_gamma(kf + 1.0) - ln_gamma(nf - kf + 1.0);
                (ln_choose + kf * p.ln() + (nf - kf) * (-p).ln_1p()).exp()
            })
            .sum()
    }

    #[test]
    fn exact_coverage_is_nominal_on_average() {
        // Brown, Cai & DasGupta (2001): Wilson's coverage oscillates with p but averages close
        // to 95%. Over p = 0.01 … 0.99: mean 95.43% (n = 10), 95.27% (30), 95.11% (100);
        // lowest 84.2%, 89.9%, 92.1%, at the extremes of p.
        let z = Settings::default().z().unwrap();
        for (n, mean, lowest) in [
            (10, 0.9543, 0.842),
            (30, 0.9527, 0.899),
            (100, 0.9511, 0.921),
        ] {
            let cover: Vec<f64> = (10..=990)
                .map(|i| exact_coverage(i as f64 / 1000.0, n, z))
                .collect();
            let avg = cover.iter().sum::<f64>() / cover.len() as f64;
            let min = cover.iter().copied().fold(1.0, f64::min);
            assert!((avg - mean).abs() < 5e-4, "n {n}: mean {avg}");
            assert!((min - lowest).abs() < 1e-3, "n {n}: lowest {min}");
        }
        // The oscillation at n = 15: p = 0.3 is covered 91.47%, p = 0.2 98.19%.
        assert!((exact_coverage(0.3, 15, z) - 0.9147).abs() < 1e-4);
        assert!((exact_coverage(0.2, 15, z) - 0.9819).abs() < 1e-4);
    }

    #[test]
    fn bad_counts_are_errors() {
        assert_eq!(share(0, 0), Err(StatsError::NoData));
        assert_eq!(
            share(11, 10),
            Err(StatsError::InvalidCount {
                successes: 11,
                n: 10
            })
        );
    }

    #[test]
    fn odds_ratios_take_woolfs_interval_and_haldanes_half_for_an_empty_cell() {
        let s = Settings::default();
        let of = |successes, n| Proportion { successes, n };
        let or = odds_ratio(of(20, 100), of(10, 100), &s).unwrap();
        let (low, high) = or.interval().unwrap();
        assert!((or.value - 2.25).abs() < 1e-12);
        assert!((low - 0.994_294_892).abs() < 1e-8 && (high - 5.091_547_829).abs() < 1e-8);
        let empty = odds_ratio(of(0, 50), of(5, 50), &s).unwrap();
        let (low, high) = empty.interval().unwrap();
        assert!((empty.value - 0.081_908_191).abs() < 1e-8);
        assert!((low - 0.004_405_936).abs() < 1e-8 && (high - 1.522_707_385).abs() < 1e-8);
        assert!(!or.small_sample && odds_ratio(of(1, 10), of(2, 100), &s).unwrap().small_sample);
        assert!(odds_ratio(of(0, 0), of(1, 2), &s).is_err());
    }
}
