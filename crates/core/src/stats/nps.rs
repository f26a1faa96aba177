//! Net Promoter Score with the adjusted-Wald interval.

use super::{Estimate, Scale, Settings, StatsError};
use serde::{Deserialize, Serialize};

/// Responses to the likelihood-to-recommend question by group: promoters (9–10),
/// passives (7–8) and detractors (0–6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NpsCounts {
    pub promoters: u64,
    pub passives: u64,
    pub detractors: u64,
}

impl NpsCounts {
    /// Number of responses.
    pub fn n(&self) -> u64 {
        self.promoters + self.passives + self.detractors
    }

    /// Counts one answer scored 0–10; `InvalidScore` for any other score.
    pub fn add(&mut self, score: u8) -> Result<(), StatsError> {
        match score {
            0..=6 => self.detractors += 1,
            7..=8 => self.passives += 1,
            9..=10 => self.promoters += 1,
            _ => {
                return Err(StatsError::InvalidScore {
                    instrument: "nps",
                    score: score.into(),
                    low: 0,
                    high: 10,
                });
            }
        }
        Ok(())
    }

    /// Adds another's counts.
    pub fn merge(&mut self, other: &NpsCounts) {
        self.promoters += other.promoters;
        self.passives += other.passives;
        self.detractors += other.detractors;
    }

    /// The observed NPS as a proportion, (promoters − detractors)/n, in −1…1 (`n > 0`).
    pub(super) fn value(&self) -> f64 {
        (self.promoters as f64 - self.detractors as f64) / self.n() as f64
    }

    /// The adjusted-Wald centre and its variance, in −1…1 units (Rocks 2016; Lewis & Sauro
    /// 2021): n' = n + 3, p' = (promoters + ¾)/n', d' = (detractors + ¾)/n',
    /// centre p' − d', variance (p' + d' − (p' − d')²)/n'.
    pub(super) fn adjusted(&self) -> (f64, f64) {
        let n = self.n() as f64 + 3.0;
        let p = (self.promoters as f64 + 0.75) / n;
        let d = (self.detractors as f64 + 0.75) / n;
        (p - d, (p + d - (p - d).powi(2)) / n)
    }
}

/// The NPS on −100…100 with the adjusted-Wald interval (Rocks 2016, "Interval estimation
/// for the Net Promoter Score", The American Statistician 70(4); Lewis & Sauro 2021),
/// clamped to −100…100. The value is the observed NPS; the interval is centred on the
/// adjusted one. `NoData` when there are no responses.
pub fn nps(c: &NpsCounts, s: &Settings) -> Result<Estimate, StatsError> {
    if c.n() == 0 {
        return Err(StatsError::NoData);
    }
    let (centre, var) = c.adjusted();
    let half = s.z()? * var.sqrt();
    let interval = (centre - half, centre + half);
    Ok(Estimate::new(
        c.n(),
        c.value(),
        Some(interval),
        Scale::Nps,
        s,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(promoters: u64, passives: u64, detractors: u64) -> NpsCounts {
        NpsCounts {
            promoters,
            passives,
            detractors,
        }
    }

    #[test]
    fn adjusted_wald_hand_example() {
        // 6 promoters, 2 passives, 2 detractors: NPS 40. n' = 13, p' = 6.75/13 = 0.519231,
        // d' = 2.75/13 = 0.211538, centre 0.307692, var = (0.730769 − 0.094675)/13
        // = 0.0489304, se 0.221202; ± 1.959964·se = ± 0.433554 → −12.586 … 74.124.
        let e = nps(&counts(6, 2, 2), &Settings::default()).unwrap();
        assert_eq!(e.n, 10);
        assert!((e.value - 40.0).abs() < 1e-12);
        assert!((e.low.unwrap() + 12.5856).abs() < 1e-3, "{e:?}");
        assert!((e.high.unwrap() - 74.1240).abs() < 1e-3, "{e:?}");
        assert!(e.small_sample);
    }

    #[test]
    fn all_promoters_stay_in_bounds() {
        for n in [1, 5, 10, 40, 10_000] {
            let e = nps(&counts(n, 0, 0), &Settings::default()).unwrap();
            let (lo, hi) = (e.low.unwrap(), e.high.unwrap());
            assert!(
                e.value == 100.0 && -100.0 <= lo && lo < hi && hi <= 100.0,
                "{e:?}"
            );
        }
        let e = nps(&counts(0, 0, 40), &Settings::default()).unwrap();
        assert!(e.value == -100.0 && e.low == Some(-100.0));
    }

    #[test]
    fn a_higher_level_widens_and_no_responses_is_an_error() {
        let c = counts(300, 400, 300);
        let e95 = nps(&c, &Settings::default()).unwrap();
        let s99 = Settings {
            level: 0.99,
            ..Settings::default()
        };
        let e99 = nps(&c, &s99).unwrap();
        assert!(e99.low < e95.low && e99.high > e95.high && !e95.small_sample);
        assert_eq!(nps(&counts(0, 0, 0), &s99), Err(StatsError::NoData));
    }
}
