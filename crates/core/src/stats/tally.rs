//! Survey responses tallied by score, validated against the instrument's range, and the
//! headline figure of each instrument: NPS, CSAT top-2-box, mean CES, grade point average.

use super::{
    Difference, Estimate, NpsCounts, Proportion, Scale, Settings, StatsError, Summary, compare,
    mean, nps, proportion,
};
use crate::domain::score_range;
use serde::{Deserialize, Serialize};

/// A survey instrument (the `instrument` column of responses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Instrument {
    Nps,
    Csat,
    Ces,
    Grade,
}

impl Instrument {
    /// Every instrument, in the contract's order.
    pub const ALL: [Instrument; 4] = [
        Instrument::Nps,
        Instrument::Csat,
        Instrument::Ces,
        Instrument::Grade,
    ];

    /// The instrument's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Instrument::Nps => "NPS",
            Instrument::Csat => "CSAT",
            Instrument::Ces => "Customer effort (CES)",
            Instrument::Grade => "Report-card grade",
        }
    }

    /// The name used in the data contract.
    pub fn name(self) -> &'static str {
        match self {
            Instrument::Nps => "nps",
            Instrument::Csat => "csat",
            Instrument::Ces => "ces",
            Instrument::Grade => "grade",
        }
    }

    /// The lowest and highest score, from [`crate::domain::score_range`].
    pub fn range(self) -> (u8, u8) {
        let (lo, hi) = score_range(self.name()).expect("every instrument has a range");
        (lo as u8, hi as u8)
    }
}

/// Responses to one instrument, counted by score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Counted")]
pub struct Tally {
    instrument: Instrument,
    /// `counts[i]` responses scored `low + i`.
    counts: Vec<u64>,
}

/// A tally as read back: its counts must cover the instrument's range.
#[derive(Deserialize)]
struct Counted {
    instrument: Instrument,
    counts: Vec<u64>,
}

impl TryFrom<Counted> for Tally {
    type Error = String;

    fn try_from(c: Counted) -> Result<Self, String> {
        let expected = Tally::new(c.instrument).counts.len();
        match c.counts.len() == expected {
            true => Ok(Tally {
                instrument: c.instrument,
                counts: c.counts,
            }),
            false => Err(format!(
                "a tally of {} needs {expected} counts, not {}",
                c.instrument.name(),
                c.counts.len()
            )),
        }
    }
}

/// The share of responses with one score (for grades, 4 = A … 0 = F), as a percentage.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ScoreShare {
    pub score: u8,
    #[serde(flatten)]
    pub estimate: Estimate,
}

/// The statistic behind an instrument's headline figure.
enum Metric {
    Nps(NpsCounts),
    TopTwoBox(Proportion),
    Mean(Summary, Scale),
}

impl Tally {
    /// An empty tally.
    pub fn new(instrument: Instrument) -> Self {
        let (lo, hi) = instrument.range();
        Tally {
            instrument,
            counts: vec![0; (hi - lo) as usize + 1],
        }
    }

    /// A tally of individual scores.
    pub fn from_scores(instrument: Instrument, scores: &[f64]) -> Result<Self, StatsError> {
        let mut tally = Tally::new(instrument);
        for &score in scores {
            tally.add(score, 1)?;
        }
        Ok(tally)
    }

    /// Adds `count` responses with `score`; `InvalidScore` (naming it) unless the score is a
    /// whole number in the instrument's range.
    pub fn add(&mut self, score: f64, count: u64) -> Result<(), StatsError> {
        let (lo, hi) = self.instrument.range();
        if score.fract() != 0.0 || !(lo as f64..=hi as f64).contains(&score) {
            return Err(StatsError::InvalidScore {
                instrument: self.instrument.name(),
                score,
                low: lo,
                high: hi,
            });
        }
        self.counts[(score - lo as f64) as usize] += count;
        Ok(())
    }

    /// Adds the responses of `other`, a tally of the same instrument (`InstrumentMismatch`
    /// otherwise): e.g. months into their quarter.
    pub fn merge(&mut self, other: &Tally) -> Result<(), StatsError> {
        if self.instrument != other.instrument {
            return Err(StatsError::InstrumentMismatch(
                self.instrument.name(),
                other.instrument.name(),
            ));
        }
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        Ok(())
    }

    /// The instrument tallied.
    pub fn instrument(&self) -> Instrument {
        self.instrument
    }

    /// Number of responses.
    pub fn n(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// `(score, count)` for every score in range.
    fn scores(&self) -> impl Iterator<Item = (u8, u64)> + Clone + '_ {
        let lo = self.instrument.range().0;
        (lo..).zip(self.counts.iter().copied())
    }

    /// Responses with a score in `range`.
    fn count_in(&self, range: std::ops::RangeInclusive<u8>) -> u64 {
        self.scores()
            .filter(|(score, _)| range.contains(score))
            .map(|(_, c)| c)
            .sum()
    }

    fn metric(&self) -> Metric {
        let n = self.n();
        match self.instrument {
            Instrument::Nps => Metric::Nps(NpsCounts {
                promoters: self.count_in(9..=10),
                passives: self.count_in(7..=8),
                detractors: self.count_in(0..=6),
            }),
            Instrument::Csat => Metric::TopTwoBox(Proportion {
                successes: self.count_in(4..=5),
                n,
            }),
            Instrument::Ces => Metric::Mean(self.summary(), Scale::Ces),
            Instrument::Grade => Metric::Mean(self.summary(), Scale::Gpa),
        }
    }

    fn summary(&self) -> Summary {
        Summary::from_counts(self.scores().map(|(score, c)| (score as f64, c)))
    }

    /// The instrument's headline figure: NPS (adjusted Wald), CSAT top-2-box percentage
    /// (Wilson), mean CES or grade point average (t). `NoData` when the tally is empty.
    pub fn estimate(&self, s: &Settings) -> Result<Estimate, StatsError> {
        match self.metric() {
            Metric::Nps(c) => nps(&c, s),
            Metric::TopTwoBox(p) => proportion(p, s),
            Metric::Mean(m, scale) => mean(&m, scale, s),
        }
    }

    /// The headline figure of `self` minus that of `other` (same instrument).
    pub fn compare(&self, other: &Tally, s: &Settings) -> Result<Difference, StatsError> {
        match (self.metric(), other.metric()) {
            _ if self.instrument != other.instrument => Err(StatsError::InstrumentMismatch(
                self.instrument.name(),
                other.instrument.name(),
            )),
            (Metric::Nps(a), Metric::Nps(b)) => compare::nps_difference(&a, &b, s),
            (Metric::TopTwoBox(a), Metric::TopTwoBox(b)) => compare::proportion_difference(a, b, s),
            (Metric::Mean(a, scale), Metric::Mean(b, _)) => {
                compare::mean_difference(&a, &b, scale, s)
            }
            _ => unreachable!("one instrument, one metric"),
        }
    }

    /// The distribution: the share of each score with its Wilson interval, highest first.
    pub fn shares(&self, s: &Settings) -> Result<Vec<ScoreShare>, StatsError> {
        let n = self.n();
        let mut shares = self
            .scores()
            .map(|(score, successes)| {
                let estimate = proportion(Proportion { successes, n }, s)?;
                Ok(ScoreShare { score, estimate })
            })
            .collect::<Result<Vec<_>, StatsError>>()?;
        shares.reverse();
        Ok(shares)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallies_read_back_as_written_and_only_with_their_range() {
        let tally = Tally::from_scores(Instrument::Grade, &[4.0, 0.0, 2.0, 2.0]).unwrap();
        let json = serde_json::to_string(&tally).unwrap();
        assert_eq!(serde_json::from_str::<Tally>(&json).unwrap(), tally);
        let short = r#"{"instrument":"nps","counts":[1,2,3]}"#;
        let e = serde_json::from_str::<Tally>(short)
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs 11 counts, not 3"), "{e}");
    }

    #[test]
    fn scores_are_validated_and_named() {
        let err = Tally::from_scores(Instrument::Nps, &[9.0, 11.0]).unwrap_err();
        assert_eq!(
            err,
            StatsError::InvalidScore {
                instrument: "nps",
                score: 11.0,
                low: 0,
                high: 10
            }
        );
        assert_eq!(
            err.to_string(),
            "invalid nps score 11 (expected a whole number from 0 to 10)"
        );
        assert!(Tally::from_scores(Instrument::Ces, &[3.5]).is_err());
        assert!(Tally::from_scores(Instrument::Csat, &[0.0]).is_err());
        assert!(Tally::from_scores(Instrument::Grade, &[f64::NAN]).is_err());
        assert!(Tally::from_scores(Instrument::Grade, &[0.0, 4.0]).is_ok());
    }

    #[test]
    fn headline_figures_per_instrument() {
        let s = Settings::default();
        // NPS: 9, 10 promoters; 7 passive; 0, 6 detractors → (2 − 2)/5 = 0.
        let nps = Tally::from_scores(Instrument::Nps, &[9.0, 10.0, 7.0, 0.0, 6.0]).unwrap();
        assert_eq!(nps.estimate(&s).unwrap().value, 0.0);
        // CSAT: 4 and 5 of 1…5 are satisfied: 3 of 4 = 75%.
        let csat = Tally::from_scores(Instrument::Csat, &[5.0, 4.0, 4.0, 2.0]).unwrap();
        assert_eq!(csat.estimate(&s).unwrap().value, 75.0);
        // GPA: A, B, B, F = (4 + 3 + 3 + 0)/4 = 2.5.
        let gpa = Tally::from_scores(Instrument::Grade, &[4.0, 3.0, 3.0, 0.0]).unwrap();
        assert_eq!(gpa.estimate(&s).unwrap().value, 2.5);
        assert_eq!(
            Tally::new(Instrument::Ces).estimate(&s),
            Err(StatsError::NoData)
        );
    }

    #[test]
    fn aggregated_counts_and_comparisons() {
        let s = Settings::default();
        let mut a = Tally::new(Instrument::Ces);
        a.add(2.0, 30).unwrap();
        a.add(5.0, 10).unwrap();
        let mut b = Tally::new(Instrument::Ces);
        b.add(2.0, 10).unwrap();
        b.add(5.0, 30).unwrap();
        // Means 2.75 and 4.25.
        let d = a.compare(&b, &s).unwrap();
        assert!(
            (d.value + 1.5).abs() < 1e-12 && d.p_value.unwrap() < 1e-5,
            "{d:?}"
        );
        let other = Tally::new(Instrument::Grade);
        assert_eq!(
            a.compare(&other, &s),
            Err(StatsError::InstrumentMismatch("ces", "grade"))
        );
        // Merged: 40 at 2 and 40 at 5, as if tallied together.
        let mut both = a.clone();
        both.merge(&b).unwrap();
        let mut together = Tally::new(Instrument::Ces);
        together.add(2.0, 40).unwrap();
        together.add(5.0, 40).unwrap();
        assert_eq!(both, together);
        assert!(both.merge(&other).is_err());
    }

    #[test]
    fn grade_distribution_shares() {
        let s = Settings::default();
        let mut t = Tally::new(Instrument::Grade);
        for (grade, count) in [(4.0, 10), (3.0, 20), (2.0, 50), (0.0, 20)] {
            t.add(grade, count).unwrap();
        }
        let shares = t.shares(&s).unwrap();
        let got: Vec<(u8, f64)> = shares.iter().map(|x| (x.score, x.estimate.value)).collect();
        assert_eq!(got, [(4, 10.0), (3, 20.0), (2, 50.0), (1, 0.0), (0, 20.0)]);
        // D: none of 100, Wilson upper bound z²/(n + z²) = 3.70%.
        assert!((shares[3].estimate.high.unwrap() - 3.6995).abs() < 1e-3);
        let json = serde_json::to_value(shares[0]).unwrap();
        assert_eq!(
            (json["score"].clone(), json["n"].clone()),
            (4.into(), 100.into())
        );
    }
}
