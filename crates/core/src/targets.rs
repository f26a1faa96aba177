//! Targets for the headline metrics: which metrics, which periods, which values.

use std::fmt;

use crate::names::named_enum;

named_enum! {
    /// A headline metric that can have a target.
    pub enum Headline("metric") {
        /// Net Promoter Score, −100…100.
        Nps = "nps",
        /// CSAT, the top-2-box share in percent, 0…100.
        Csat = "csat",
        /// Customer Effort Score, the mean on its 1…7 scale.
        Ces = "ces",
        /// The report-card grade point average, 0…4.
        Grade = "grade",
        /// The share of customers retained, a fraction 0…1.
        Retention = "retention",
        /// The share of defectors who had said they were satisfied, a fraction 0…1.
        SatisfiedDefectorShare = "satisfied_defector_share",
        /// The customers' total expected value (CLV), money ≥ 0.
        CustomerEquity = "customer_equity",
    }
}

impl Headline {
    /// The metric's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Headline::Nps => "NPS",
            Headline::Csat => "CSAT",
            Headline::Ces => "Customer effort (CES)",
            Headline::Grade => "Grade point average",
            Headline::Retention => "Retention",
            Headline::SatisfiedDefectorShare => "Satisfied defectors' share",
            Headline::CustomerEquity => "Customer equity",
        }
    }

    /// The unit a target is given in, for people.
    pub fn unit(self) -> &'static str {
        match self {
            Headline::Nps => "−100 to 100",
            Headline::Csat => "percent, 0 to 100",
            Headline::Ces => "1 to 7",
            Headline::Grade => "0 to 4",
            Headline::Retention | Headline::SatisfiedDefectorShare => {
                "a fraction, 0 to 1 (0.8 = 80%)"
            }
            Headline::CustomerEquity => "money, 0 or more",
        }
    }

    /// The values a target may take, inclusive, in the metric's own unit.
    pub fn range(self) -> (f64, f64) {
        match self {
            Headline::Nps => (-100.0, 100.0),
            Headline::Csat => (0.0, 100.0),
            Headline::Ces => (1.0, 7.0),
            Headline::Grade => (0.0, 4.0),
            Headline::Retention | Headline::SatisfiedDefectorShare => (0.0, 1.0),
            Headline::CustomerEquity => (0.0, f64::MAX),
        }
    }

    /// Checks that `value` is a possible target for the metric.
    pub fn check(self, value: f64) -> Result<f64, String> {
        let (lo, hi) = self.range();
        if value.is_finite() && (lo..=hi).contains(&value) {
            return Ok(value);
        }
        let range = match self {
            Headline::CustomerEquity => "a money amount ≥ 0".to_string(),
            _ => format!("between {lo} and {hi}"),
        };
        Err(format!("{} target {value}: {range}", self.label()))
    }
}

/// A target's period: a year (`2025`), a quarter (`2025-Q1`) or a month (`2025-03`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Period(String);

impl Period {
    /// The period as written: `2025`, `2025-Q1` or `2025-03`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Period {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim().to_ascii_uppercase();
        let (year, rest) = text.split_at_checked(4).unwrap_or((&text, ""));
        let within = |t: &str, len: usize, hi: u32| {
            t.len() == len
                && t.bytes().all(|b| b.is_ascii_digit())
                && t.parse::<u32>().is_ok_and(|n| (1..=hi).contains(&n))
        };
        let ok = within(year, 4, 9999)
            && match (rest.strip_prefix("-Q"), rest.strip_prefix('-')) {
                (Some(quarter), _) => within(quarter, 1, 4),
                (None, Some(month)) => within(month, 2, 12),
                (None, None) => rest.is_empty(),
            };
        if ok {
            Ok(Period(text))
        } else {
            Err(format!(
                "period '{}': a year (2025), a quarter (2025-Q1) or a month (2025-03)",
                s.trim()
            ))
        }
    }
}

impl Headline {
    /// Whether a higher value is better (effort and satisfied defectors: lower is better).
    pub fn higher_is_better(self) -> bool {
        !matches!(self, Headline::Ces | Headline::SatisfiedDefectorShare)
    }
}

impl Period {
    /// Whether the period covers the month `month` (1–12) of `year`.
    pub fn covers(&self, year: i32, month: u32) -> bool {
        let text = &self.0;
        let same_year = text.get(..4).and_then(|y| y.parse::<i32>().ok()) == Some(year);
        let rest = text.get(4..).unwrap_or("");
        same_year
            && match (rest.strip_prefix("-Q"), rest.strip_prefix('-')) {
                (Some(q), _) => q.parse::<u32>().is_ok_and(|q| (month - 1) / 3 + 1 == q),
                (None, Some(m)) => m.parse::<u32>() == Ok(month),
                (None, None) => true,
            }
    }
}

/// How a figure stands against its target, given its interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Progress {
    /// The whole interval is on the good side of the target.
    Met,
    /// The whole interval is on the bad side.
    NotMet,
    /// The interval straddles the target (or there is none): not yet distinguishable.
    Undecided,
}

/// Where a figure with interval `low`…`high` stands against `target`.
pub fn progress(metric: Headline, target: f64, low: Option<f64>, high: Option<f64>) -> Progress {
    let (Some(low), Some(high)) = (low, high) else {
        return Progress::Undecided;
    };
    let (good, bad) = if metric.higher_is_better() {
        (low >= target, high < target)
    } else {
        (high <= target, low > target)
    };
    match (good, bad) {
        (true, _) => Progress::Met,
        (_, true) => Progress::NotMet,
        _ => Progress::Undecided,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_check_their_range() {
        assert_eq!("NPS".parse::<Headline>(), Ok(Headline::Nps));
        assert_eq!(Headline::Nps.check(-20.0), Ok(-20.0));
        assert!(Headline::Nps.check(120.0).is_err());
        assert!(Headline::Retention.check(0.8).is_ok());
        assert!(Headline::Retention.check(80.0).is_err());
        assert!(Headline::CustomerEquity.check(f64::NAN).is_err());
        assert_eq!(
            Headline::Ces.check(0.5).unwrap_err(),
            "Customer effort (CES) target 0.5: between 1 and 7"
        );
        assert!("loyalty".parse::<Headline>().is_err());
    }

    #[test]
    fn periods_are_years_quarters_or_months() {
        for (text, period) in [
            ("2025", "2025"),
            ("2025-q1", "2025-Q1"),
            ("2025-03", "2025-03"),
        ] {
            assert_eq!(text.parse::<Period>().unwrap().as_str(), period);
        }
        for bad in [
            "25", "2025-Q5", "2025-Q0", "2025-13", "2025-3", "2025-00", "2025/03", "", "2025-",
        ] {
            assert!(bad.parse::<Period>().is_err(), "{bad}");
        }
    }

    #[test]
    fn periods_cover_their_months() {
        let p = |t: &str| t.parse::<Period>().unwrap();
        assert!(p("2025").covers(2025, 12));
        assert!(p("2025-Q2").covers(2025, 4) && p("2025-Q2").covers(2025, 6));
        assert!(!p("2025-Q2").covers(2025, 7) && !p("2025-Q2").covers(2024, 5));
        assert!(p("2025-03").covers(2025, 3) && !p("2025-03").covers(2025, 4));
    }

    #[test]
    fn progress_needs_the_whole_interval_on_one_side() {
        let nps = |l, h| progress(Headline::Nps, 30.0, Some(l), Some(h));
        assert_eq!(nps(31.0, 40.0), Progress::Met);
        assert_eq!(nps(20.0, 29.0), Progress::NotMet);
        assert_eq!(nps(25.0, 35.0), Progress::Undecided);
        assert_eq!(
            progress(Headline::Ces, 3.0, Some(2.0), Some(2.9)),
            Progress::Met
        );
        assert_eq!(
            progress(Headline::Ces, 3.0, Some(3.1), Some(3.5)),
            Progress::NotMet
        );
        assert_eq!(
            progress(Headline::Nps, 3.0, None, None),
            Progress::Undecided
        );
    }
}
