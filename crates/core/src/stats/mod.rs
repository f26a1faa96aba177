//! Statistics for customer-experience figures: estimates with confidence intervals (NPS,
//! CSAT, CES, grade point average, proportions), two-sample comparisons, and how well a
//! score predicts an outcome (AUC, lift).
//!
//! Every figure carries its n, an interval at [`Settings::level`] and a small-sample flag.
//! NPS is reported on −100…100 and proportions as percentages; means on their own scale.
//! No data is an error ([`StatsError::NoData`]), never NaN; an interval that is undefined
//! (a mean of one response) is `None` and the figure is flagged as a small sample.

mod auc;
mod compare;
mod cuped;
mod lift;
mod mean;
mod nps;
mod power;
mod proportion;
pub mod quantile;
mod tally;
pub mod weighting;

pub use auc::{auc, auc_difference};
pub use compare::{
    mean_difference, nps_difference, proportion_difference, standardised_difference,
};
pub use cuped::{Cuped, Paired, cuped_difference};
pub use lift::{LiftRow, lift_table};
pub use mean::{Running, Summary, mean};
pub use nps::{NpsCounts, nps};
pub use power::Power;
pub use proportion::{Proportion, expected_share, odds_ratio, proportion, share};
pub use tally::{Instrument, ScoreShare, Tally};

use serde::{Deserialize, Serialize};

/// Bad input to a statistic.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    #[error("no data: an estimate needs at least one response")]
    NoData,
    #[error("invalid {instrument} score {score} (expected a whole number from {low} to {high})")]
    InvalidScore {
        instrument: &'static str,
        score: f64,
        low: u8,
        high: u8,
    },
    #[error("{successes} successes out of {n}: cannot be more than n")]
    InvalidCount { successes: u64, n: u64 },
    #[error("value {0} is not a finite number")]
    NonFinite(f64),
    #[error("confidence level {0} must be strictly between 0 and 1")]
    InvalidLevel(f64),
    #[error("cannot compare {0} with {1}")]
    InstrumentMismatch(&'static str, &'static str),
    #[error("{scores} scores but {outcomes} outcomes: they must pair up")]
    LengthMismatch { scores: usize, outcomes: usize },
    #[error("needs both events and non-events (got {events} events, {non_events} non-events)")]
    OneClass { events: u64, non_events: u64 },
    #[error("a lift table needs at least one group")]
    NoGroups,
}

/// One figure: its sample size, value, interval (`None` where undefined) and whether it
/// rests on too little data (n below [`Settings::min_n`] or the interval too wide).
///
/// The one type of a value with its interval across cxray: survey metrics, shares,
/// amounts of money, driver figures and odds ratios, in the analyses, the pages, the
/// charts and the JSON (keys `n`, `value`, `low`, `high`, `small_sample`). An `n` of 0
/// means the number of observations behind the figure is not known (no statistic here
/// gives an estimate of nothing: that is [`StatsError::NoData`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub n: u64,
    pub value: f64,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub small_sample: bool,
}

/// A difference between two groups, `a − b`, with its interval and two-sided p-value
/// (both `None` where undefined), in the units of the figures compared.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Difference {
    pub n_a: u64,
    pub n_b: u64,
    pub value: f64,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub p_value: Option<f64>,
    pub small_sample: bool,
}

/// The scale a figure is reported on, which sets its unit and its width limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    /// Net Promoter Score, −100…100.
    Nps,
    /// A proportion as a percentage, 0…100.
    Percent,
    /// Customer effort score, 1…7.
    Ces,
    /// Grade point average, F = 0 … A = 4.
    Gpa,
    /// Area under the ROC curve, 0…1.
    Auc,
    /// A sentiment score, −1…1.
    Sentiment,
    /// An amount of money (or any unbounded quantity), in its own units; flagged as a
    /// small sample on n alone.
    Amount,
}

impl Scale {
    /// Reported units per natural unit (a proportion of 1 is 100 percent).
    fn factor(self) -> f64 {
        match self {
            Scale::Nps | Scale::Percent => 100.0,
            Scale::Ces | Scale::Gpa | Scale::Auc | Scale::Sentiment | Scale::Amount => 1.0,
        }
    }

    /// The lowest and highest possible value, in natural units.
    fn bounds(self) -> (f64, f64) {
        match self {
            Scale::Nps | Scale::Sentiment => (-1.0, 1.0),
            Scale::Percent | Scale::Auc => (0.0, 1.0),
            Scale::Ces => (1.0, 7.0),
            Scale::Gpa => (0.0, 4.0),
            Scale::Amount => (f64::NEG_INFINITY, f64::INFINITY),
        }
    }

    /// An interval in natural units, clamped to the possible values and in reported units.
    /// For a difference (`diff`) the possible values are ±(highest − lowest).
    fn report(self, (lo, hi): (f64, f64), diff: bool) -> (f64, f64) {
        let (min, max) = self.bounds();
        let (min, max) = if diff {
            (min - max, max - min)
        } else {
            (min, max)
        };
        let f = self.factor();
        (lo.clamp(min, max) * f, hi.clamp(min, max) * f)
    }
}

/// Widest acceptable interval on each scale, in reported units, before a figure is flagged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MaxWidths {
    pub nps: f64,
    pub percent: f64,
    pub ces: f64,
    pub gpa: f64,
    pub auc: f64,
    pub sentiment: f64,
}

impl Default for MaxWidths {
    fn default() -> Self {
        MaxWidths {
            nps: 30.0,
            percent: 20.0,
            ces: 1.0,
            gpa: 0.5,
            auc: 0.2,
            sentiment: 0.2,
        }
    }
}

impl MaxWidths {
    fn of(&self, scale: Scale) -> f64 {
        match scale {
            Scale::Nps => self.nps,
            Scale::Percent => self.percent,
            Scale::Ces => self.ces,
            Scale::Gpa => self.gpa,
            Scale::Auc => self.auc,
            Scale::Sentiment => self.sentiment,
            Scale::Amount => f64::INFINITY,
        }
    }
}

/// Confidence level and small-sample rules (defaults: 95%, n < 30, [`MaxWidths`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub level: f64,
    pub min_n: u64,
    pub max_width: MaxWidths,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            level: 0.95,
            min_n: 30,
            max_width: MaxWidths::default(),
        }
    }
}

impl Settings {
    /// The tail probability 1 − (1 − level)/2 of a two-sided interval.
    fn upper(&self) -> Result<f64, StatsError> {
        if self.level > 0.0 && self.level < 1.0 {
            Ok(0.5 + 0.5 * self.level)
        } else {
            Err(StatsError::InvalidLevel(self.level))
        }
    }

    /// The normal critical value z for a two-sided interval at `level`.
    fn z(&self) -> Result<f64, StatsError> {
        Ok(quantile::normal_quantile(self.upper()?))
    }

    /// The Student-t critical value with `df` degrees of freedom.
    fn t(&self, df: f64) -> Result<f64, StatsError> {
        Ok(quantile::t_quantile(self.upper()?, df))
    }

    /// Whether a figure from `n` cases with this interval (reported units) is a small sample.
    fn small(&self, n: u64, interval: Option<(f64, f64)>, scale: Scale) -> bool {
        n < self.min_n || interval.is_none_or(|(lo, hi)| hi - lo > self.max_width.of(scale))
    }
}

impl Estimate {
    /// A bare value: no interval, n not known, not flagged.
    pub fn point(value: f64) -> Self {
        Estimate::unflagged(0, value, None)
    }

    /// A figure from a fit or a bootstrap (driver figures, odds ratios) of `n`
    /// observations, its interval as given. Not flagged: those analyses refuse data too
    /// small to fit instead of judging the figures.
    pub fn unflagged(n: u64, value: f64, interval: Option<(f64, f64)>) -> Self {
        Estimate {
            n,
            value,
            low: interval.map(|i| i.0),
            high: interval.map(|i| i.1),
            small_sample: false,
        }
    }

    /// An amount of money (or any unbounded quantity) from `n` cases with its interval,
    /// flagged as a small sample on n alone ([`Scale::Amount`]).
    pub fn amount(n: u64, value: f64, interval: (f64, f64), s: &Settings) -> Self {
        Estimate::new(n, value, Some(interval), Scale::Amount, s)
    }

    /// This estimate with value and interval multiplied by `factor` (n and flag kept).
    pub fn scaled(self, factor: f64) -> Self {
        Estimate {
            value: self.value * factor,
            low: self.low.map(|v| v * factor),
            high: self.high.map(|v| v * factor),
            ..self
        }
    }

    /// The interval, where both ends are known.
    pub fn interval(&self) -> Option<(f64, f64)> {
        self.low.zip(self.high)
    }

    /// An estimate from a value and interval in natural units (proportions, not percent);
    /// the interval is clamped to the scale's possible values.
    fn new(n: u64, value: f64, interval: Option<(f64, f64)>, scale: Scale, s: &Settings) -> Self {
        let interval = interval.map(|i| scale.report(i, false));
        Estimate {
            n,
            value: value * scale.factor(),
            low: interval.map(|i| i.0),
            high: interval.map(|i| i.1),
            small_sample: s.small(n, interval, scale),
        }
    }
}

impl From<f64> for Estimate {
    /// A bare value ([`Estimate::point`]).
    fn from(value: f64) -> Estimate {
        Estimate::point(value)
    }
}

/// An interval and two-sided p-value in natural units, before scaling.
type Test = Option<((f64, f64), f64)>;

impl Difference {
    /// A difference from a value and test in natural units, clamped to the possible
    /// differences; flagged on the smaller group.
    fn new(n: (u64, u64), value: f64, test: Test, scale: Scale, s: &Settings) -> Self {
        let interval = test.map(|(i, _)| scale.report(i, true));
        Difference {
            n_a: n.0,
            n_b: n.1,
            value: value * scale.factor(),
            low: interval.map(|i| i.0),
            high: interval.map(|i| i.1),
            p_value: test.map(|t| t.1),
            small_sample: s.small(n.0.min(n.1), interval, scale),
        }
    }
}

/// A symmetric interval `centre ± crit · se` and the p-value of `centre / se` from
/// `two_sided_p`; with `se = 0` the interval is the point and p is 1 if it is 0, else 0.
fn wald(centre: f64, se: f64, crit: f64, two_sided_p: impl Fn(f64) -> f64) -> ((f64, f64), f64) {
    if se == 0.0 {
        let p = if centre == 0.0 { 1.0 } else { 0.0 };
        return ((centre, centre), p);
    }
    let half = crit * se;
    ((centre - half, centre + half), two_sided_p(centre / se))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_check_level_and_flag_small_samples() {
        let s = Settings::default();
        assert!((s.z().unwrap() - 1.959_963_985).abs() < 1e-9);
        let bad = Settings { level: 1.0, ..s };
        assert_eq!(bad.z(), Err(StatsError::InvalidLevel(1.0)));
        assert!(s.small(29, Some((0.0, 1.0)), Scale::Percent));
        assert!(!s.small(30, Some((0.0, 20.0)), Scale::Percent));
        assert!(s.small(30, Some((0.0, 20.5)), Scale::Percent));
        assert!(s.small(1000, None, Scale::Ces));
    }

    #[test]
    fn settings_read_from_toml_with_defaults() {
        let s: Settings = toml::from_str("level = 0.9\n[max_width]\nnps = 25.0").unwrap();
        assert_eq!(s.level, 0.9);
        assert_eq!(s.min_n, 30);
        assert_eq!(s.max_width.nps, 25.0);
        assert_eq!(s.max_width.ces, 1.0);
        assert!(toml::from_str::<Settings>("levle = 0.9").is_err());
    }

    #[test]
    fn estimates_serialize_with_stable_keys() {
        let e = Estimate::new(
            10,
            0.8,
            Some((0.49, 0.94)),
            Scale::Percent,
            &Settings::default(),
        );
        let json = serde_json::to_value(e).unwrap();
        assert_eq!(json["n"], 10);
        assert_eq!(json["value"], 80.0);
        assert_eq!(json["small_sample"], true);
        let none = Estimate::new(1, 3.0, None, Scale::Ces, &Settings::default());
        assert!(serde_json::to_value(none).unwrap()["low"].is_null());
    }

    #[test]
    fn estimates_of_money_fits_and_bare_values() {
        let s = Settings::default();
        let money = Estimate::amount(29, -5.0, (-90.0, 80.0), &s);
        assert_eq!(money.interval(), Some((-90.0, 80.0)));
        assert!(money.small_sample);
        assert!(!Estimate::amount(30, 1e9, (0.0, 2e9), &s).small_sample);
        let fit = Estimate::unflagged(500, 2.0, Some((1.5, 3.0)));
        assert_eq!((fit.n, fit.small_sample), (500, false));
        let half = fit.scaled(0.5);
        assert_eq!(
            (half.n, half.value, half.interval()),
            (500, 1.0, Some((0.75, 1.5)))
        );
        let bare = Estimate::from(4.0);
        assert_eq!(bare, Estimate::point(4.0));
        assert_eq!(
            (bare.n, bare.interval(), bare.small_sample),
            (0, None, false)
        );
    }
}
