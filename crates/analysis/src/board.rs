//! The one-page board view: headline figures per period (month, quarter or year), each
//! with its change against the previous period and the same period a year before —
//! called a change only when the difference's interval excludes zero — and its trend.

use std::collections::BTreeMap;

use chrono::{Datelike, Months, NaiveDate};
use cxray_core::stats::{self, Difference, Estimate, Proportion, Settings, Tally};
use cxray_core::targets::Period;
use serde::{Deserialize, Serialize};

/// How long a board's period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    Month,
    Quarter,
    Year,
}

impl Cadence {
    pub const ALL: [Cadence; 3] = [Cadence::Month, Cadence::Quarter, Cadence::Year];

    /// Months in a period.
    fn months(self) -> u32 {
        match self {
            Cadence::Month => 1,
            Cadence::Quarter => 3,
            Cadence::Year => 12,
        }
    }

    /// The first day of the period holding `day`.
    pub fn start(self, day: NaiveDate) -> NaiveDate {
        let month0 = (day.month0() / self.months()) * self.months();
        NaiveDate::from_ymd_opt(day.year(), month0 + 1, 1).expect("a month's first day")
    }

    /// A period named as targets name them: its cadence and first day.
    pub fn of(p: &Period) -> (Cadence, NaiveDate) {
        let text = p.as_str();
        let year = text[..4].parse().expect("a checked period's year");
        let rest = &text[4..];
        let (cadence, month) = match (rest.strip_prefix("-Q"), rest.strip_prefix('-')) {
            (Some(q), _) => (
                Cadence::Quarter,
                3 * q.parse::<u32>().expect("a quarter") - 2,
            ),
            (None, Some(m)) => (Cadence::Month, m.parse().expect("a month")),
            (None, None) => (Cadence::Year, 1),
        };
        let start = NaiveDate::from_ymd_opt(year, month, 1).expect("a month's first day");
        (cadence, start)
    }

    /// The last day of the period beginning `start`.
    pub fn end(self, start: NaiveDate) -> NaiveDate {
        let next = start + Months::new(self.months());
        next.pred_opt().expect("a day before")
    }

    /// The period beginning `start`, as targets name periods: 2025-06, 2025-Q2, 2025.
    pub fn name(self, start: NaiveDate) -> String {
        match self {
            Cadence::Month => start.format("%Y-%m").to_string(),
            Cadence::Quarter => format!("{}-Q{}", start.year(), start.month0() / 3 + 1),
            Cadence::Year => start.year().to_string(),
        }
    }
}

/// One period's figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodValue {
    pub period: String,
    pub value: Estimate,
}

/// A figure against an earlier period's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// The earlier period.
    pub against: String,
    /// This period's figure minus the earlier one's (percentage points for shares).
    pub difference: Difference,
    /// Whether it is a change: the interval lies on one side of zero (for figures without
    /// sampling error, revenue and EBIT, whether they differ).
    pub changed: bool,
}

/// One headline figure of a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tile {
    pub period: String,
    /// The period's first day (targets are looked up by it).
    pub start: NaiveDate,
    pub value: Estimate,
    pub previous: Option<Change>,
    pub year_ago: Option<Change>,
    /// Up to the last eight periods, oldest first, this one last.
    pub trend: Vec<PeriodValue>,
}

/// The figures that change by period, for one cadence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Board {
    pub cadence: Cadence,
    pub nps: Option<Tile>,
    pub grade: Option<Tile>,
    /// Twelve-month retention at the quarter ends (a month shows its quarter's).
    pub retention: Option<Tile>,
    pub revenue: Option<Tile>,
    pub ebit: Option<Tile>,
    /// Customer equity at the period's end (or the valuation date within it).
    pub equity: Option<Tile>,
    /// Of the defectors whose last answer fell in the period, the satisfied share.
    pub satisfied_defectors: Option<Tile>,
    /// The measurable losses a year, from the trips and interactions of the period.
    pub revenue_at_risk: Option<Tile>,
}

/// What a board is made of: monthly survey tallies, quarter-end retention (retained of
/// customers), monthly revenue and EBIT, equity by valuation date, satisfied defectors
/// (of defectors) by the month of their last answer, and revenue at risk by period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inputs {
    pub nps: BTreeMap<NaiveDate, Tally>,
    pub grade: BTreeMap<NaiveDate, Tally>,
    pub retention: BTreeMap<NaiveDate, Proportion>,
    pub revenue: BTreeMap<NaiveDate, f64>,
    pub ebit: BTreeMap<NaiveDate, f64>,
    pub equity: BTreeMap<NaiveDate, Estimate>,
    pub satisfied_defectors: BTreeMap<NaiveDate, Proportion>,
    /// Not additive over months: each cadence's periods, keyed by their first day.
    pub revenue_at_risk: BTreeMap<Cadence, BTreeMap<NaiveDate, Estimate>>,
}

/// The boards of every cadence, each for the period holding `as_of` (or a figure's last
/// period before it).
pub fn boards(inputs: &Inputs, as_of: Option<NaiveDate>, s: &Settings) -> Vec<Board> {
    let Some(as_of) = as_of else {
        return Vec::new();
    };
    Cadence::ALL
        .into_iter()
        .map(|c| board(inputs, c, as_of, s))
        .collect()
}

/// The board of cadence `c` for the period holding `as_of` (or a figure's last period
/// before it).
pub fn board(inputs: &Inputs, c: Cadence, as_of: NaiveDate, s: &Settings) -> Board {
    let quarterly = c.max(Cadence::Quarter);
    Board {
        cadence: c,
        nps: tile(&by_period(&inputs.nps, c, merge), c, as_of, s),
        grade: tile(&by_period(&inputs.grade, c, merge), c, as_of, s),
        retention: tile(
            &latest_in(&inputs.retention, quarterly),
            quarterly,
            as_of,
            s,
        ),
        revenue: tile(&by_period(&inputs.revenue, c, plus), c, as_of, s),
        ebit: tile(&by_period(&inputs.ebit, c, plus), c, as_of, s),
        equity: tile(&latest_in(&inputs.equity, c), c, as_of, s),
        satisfied_defectors: tile(
            &by_period(&inputs.satisfied_defectors, c, counted),
            c,
            as_of,
            s,
        ),
        revenue_at_risk: inputs
            .revenue_at_risk
            .get(&c)
            .and_then(|series| tile(series, c, as_of, s)),
    }
}

/// A figure that can be estimated and compared between periods.
trait Measure: Clone {
    /// Figures without sampling error: any difference is a change.
    const EXACT: bool = false;
    fn estimate(&self, s: &Settings) -> Option<Estimate>;
    fn minus(&self, other: &Self, s: &Settings) -> Option<Difference>;
}

impl Measure for Tally {
    fn estimate(&self, s: &Settings) -> Option<Estimate> {
        Tally::estimate(self, s).ok()
    }
    fn minus(&self, other: &Self, s: &Settings) -> Option<Difference> {
        self.compare(other, s).ok()
    }
}

impl Measure for Proportion {
    fn estimate(&self, s: &Settings) -> Option<Estimate> {
        stats::share(self.successes, self.n, s)
    }
    fn minus(&self, other: &Self, s: &Settings) -> Option<Difference> {
        stats::proportion_difference(*self, *other, s).ok()
    }
}

impl Measure for f64 {
    const EXACT: bool = true;
    fn estimate(&self, _: &Settings) -> Option<Estimate> {
        Some(Estimate::point(*self))
    }
    fn minus(&self, other: &Self, _: &Settings) -> Option<Difference> {
        Some(Difference {
            n_a: 0,
            n_b: 0,
            value: self - other,
            low: None,
            high: None,
            p_value: None,
            small_sample: false,
        })
    }
}

/// A figure with its own interval: the difference's interval by the method of variance
/// estimates recovery (MOVER; Zou & Donner 2008), each side from the two estimates'
/// distances to their bounds, as for independent estimates — conservative for estimates
/// of overlapping customers, which are positively correlated.
impl Measure for Estimate {
    fn estimate(&self, _: &Settings) -> Option<Estimate> {
        Some(*self)
    }
    fn minus(&self, other: &Self, _: &Settings) -> Option<Difference> {
        let value = self.value - other.value;
        let bounds = self.low.zip(self.high).zip(other.low.zip(other.high));
        let (low, high) = bounds.map_or((None, None), |((l1, h1), (l2, h2))| {
            let (v1, v2) = (self.value, other.value);
            (
                Some(value - (v1 - l1).hypot(h2 - v2)),
                Some(value + (h1 - v1).hypot(v2 - l2)),
            )
        });
        Some(Difference {
            n_a: self.n,
            n_b: other.n,
            value,
            low,
            high,
            p_value: None,
            small_sample: self.small_sample || other.small_sample,
        })
    }
}

/// Monthly data added up by period.
fn by_period<M: Clone>(
    months: &BTreeMap<NaiveDate, M>,
    c: Cadence,
    add: impl Fn(&mut M, &M),
) -> BTreeMap<NaiveDate, M> {
    let mut out: BTreeMap<NaiveDate, M> = BTreeMap::new();
    for (month, m) in months {
        match out.get_mut(&c.start(*month)) {
            Some(sum) => add(sum, m),
            None => {
                out.insert(c.start(*month), m.clone());
            }
        }
    }
    out
}

/// Tallies of one instrument added up.
fn merge(sum: &mut Tally, more: &Tally) {
    sum.merge(more).expect("one instrument per series");
}

fn plus(sum: &mut f64, more: &f64) {
    *sum += more;
}

fn counted(sum: &mut Proportion, more: &Proportion) {
    sum.successes += more.successes;
    sum.n += more.n;
}

/// Point-in-time data (by day): the last of each period.
fn latest_in<M: Clone>(days: &BTreeMap<NaiveDate, M>, c: Cadence) -> BTreeMap<NaiveDate, M> {
    days.iter().map(|(d, m)| (c.start(*d), m.clone())).collect()
}

/// The tile of the last period at or before the one holding `as_of`.
fn tile<M: Measure>(
    series: &BTreeMap<NaiveDate, M>,
    c: Cadence,
    as_of: NaiveDate,
    s: &Settings,
) -> Option<Tile> {
    let (&start, this) = series.range(..=c.start(as_of)).next_back()?;
    let change = |back: u32| {
        let earlier = start.checked_sub_months(Months::new(back))?;
        let difference = this.minus(series.get(&earlier)?, s)?;
        let changed = match difference.low.zip(difference.high) {
            Some((low, high)) => low > 0.0 || high < 0.0,
            None => M::EXACT && difference.value != 0.0,
        };
        Some(Change {
            against: c.name(earlier),
            difference,
            changed,
        })
    };
    let trend = series.range(..=start).rev().take(8);
    let mut trend: Vec<PeriodValue> = trend
        .filter_map(|(d, m)| {
            let value = m.estimate(s)?;
            Some(PeriodValue {
                period: c.name(*d),
                value,
            })
        })
        .collect();
    trend.reverse();
    Some(Tile {
        period: c.name(start),
        start,
        value: this.estimate(s)?,
        previous: change(c.months()),
        year_ago: (c != Cadence::Year).then(|| change(12)).flatten(),
        trend,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cxray_core::stats::Instrument;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn periods_are_named_as_targets_name_them() {
        let d = day(2025, 5, 17);
        assert_eq!(Cadence::Month.name(Cadence::Month.start(d)), "2025-05");
        assert_eq!(Cadence::Quarter.start(d), day(2025, 4, 1));
        assert_eq!(Cadence::Quarter.name(day(2025, 4, 1)), "2025-Q2");
        assert_eq!(Cadence::Year.name(Cadence::Year.start(d)), "2025");
        for (text, cadence, start, end) in [
            ("2025-03", Cadence::Month, day(2025, 3, 1), day(2025, 3, 31)),
            (
                "2025-q2",
                Cadence::Quarter,
                day(2025, 4, 1),
                day(2025, 6, 30),
            ),
            ("2024", Cadence::Year, day(2024, 1, 1), day(2024, 12, 31)),
        ] {
            let (c, first) = Cadence::of(&text.parse().unwrap());
            assert_eq!((c, first, c.end(first)), (cadence, start, end), "{text}");
            assert_eq!(c.name(first), text.to_ascii_uppercase());
        }
    }

    fn nps(promoters: u64, detractors: u64) -> Tally {
        let mut t = Tally::new(Instrument::Nps);
        t.add(10.0, promoters).unwrap();
        t.add(0.0, detractors).unwrap();
        t
    }

    #[test]
    fn changes_are_called_only_beyond_their_interval() {
        let s = Settings::default();
        let mut inputs = Inputs::default();
        for month in 1..=12 {
            inputs.nps.insert(day(2024, month, 1), nps(50, 50));
            inputs.revenue.insert(day(2024, month, 1), 100.0);
        }
        for month in 1..=6 {
            // 2025-Q2 far better than 2025-Q1 and 2024-Q2; 2025-Q1 as 2024-Q4.
            let better = if month > 3 { nps(90, 10) } else { nps(50, 50) };
            inputs.nps.insert(day(2025, month, 1), better);
            inputs.revenue.insert(day(2025, month, 1), 100.0);
        }
        let boards = boards(&inputs, Some(day(2025, 6, 30)), &s);
        let quarter = boards
            .iter()
            .find(|b| b.cadence == Cadence::Quarter)
            .unwrap();
        let t = quarter.nps.as_ref().unwrap();
        assert_eq!(t.period, "2025-Q2");
        assert_eq!(t.value.n, 300);
        let previous = t.previous.as_ref().unwrap();
        assert_eq!(previous.against, "2025-Q1");
        assert!(previous.changed && (previous.difference.value - 80.0).abs() < 1e-9);
        assert_eq!(t.year_ago.as_ref().unwrap().against, "2024-Q2");
        assert_eq!(t.trend.len(), 6);
        let quarters = by_period(&inputs.nps, Cadence::Quarter, merge);
        let q1 = tile(&quarters, Cadence::Quarter, day(2025, 3, 1), &s);
        assert!(
            !q1.unwrap().previous.unwrap().changed,
            "equal scores are no change"
        );
        // Revenue adds up months; equal amounts are no change, without an interval.
        let revenue = quarter.revenue.as_ref().unwrap();
        assert_eq!(revenue.value.value, 300.0);
        assert!(!revenue.previous.as_ref().unwrap().changed);
        let year = boards.iter().find(|b| b.cadence == Cadence::Year).unwrap();
        let revenue = year.revenue.as_ref().unwrap();
        assert_eq!(
            (revenue.value.value, revenue.period.as_str()),
            (600.0, "2025")
        );
        assert!(revenue.previous.as_ref().unwrap().changed);
        assert!(
            revenue.year_ago.is_none(),
            "a year's previous period is a year ago"
        );
    }

    fn amount(value: f64, half: f64) -> Estimate {
        Estimate {
            n: 100,
            value,
            low: Some(value - half),
            high: Some(value + half),
            small_sample: false,
        }
    }

    #[test]
    fn equity_risk_and_satisfied_defectors_change_by_period() {
        let s = Settings::default();
        let mut inputs = Inputs::default();
        // Equity at month ends: a period shows its last valuation.
        for (month, value) in [(1, 100.0), (2, 110.0), (3, 120.0), (4, 125.0), (5, 200.0)] {
            let end = Cadence::Month.end(day(2025, month, 1));
            inputs.equity.insert(end, amount(value, 4.0));
        }
        inputs.equity.insert(day(2025, 6, 10), amount(199.0, 4.0));
        // Defectors by the month of their last answer add up by quarter.
        for month in 1..=6 {
            let satisfied = if month > 3 { 40 } else { 60 };
            let p = Proportion {
                successes: satisfied,
                n: 100,
            };
            inputs.satisfied_defectors.insert(day(2025, month, 1), p);
        }
        let risk = [
            (day(2025, 1, 1), amount(50.0, 30.0)),
            (day(2025, 4, 1), amount(60.0, 30.0)),
        ];
        inputs.revenue_at_risk.insert(Cadence::Quarter, risk.into());
        let q = board(&inputs, Cadence::Quarter, day(2025, 6, 10), &s);
        let equity = q.equity.unwrap();
        assert_eq!(
            (equity.period.as_str(), equity.value.value),
            ("2025-Q2", 199.0)
        );
        let previous = equity.previous.unwrap();
        // MOVER: 199 − 120 = 79, each side √(4² + 4²) away.
        let half = 32f64.sqrt();
        assert_eq!(previous.difference.value, 79.0);
        assert!((previous.difference.low.unwrap() - (79.0 - half)).abs() < 1e-12);
        assert!(previous.changed);
        let month = board(&inputs, Cadence::Month, day(2025, 6, 10), &s);
        let may = month.equity.unwrap().previous.unwrap();
        assert!(!may.changed, "199 against 200 is within the intervals");
        let defectors = q.satisfied_defectors.unwrap();
        assert_eq!((defectors.value.n, defectors.value.value), (300, 0.4));
        let fell = defectors.previous.unwrap();
        assert!(fell.changed && (fell.difference.value + 20.0).abs() < 1e-9);
        let risk = q.revenue_at_risk.unwrap();
        assert_eq!(risk.value.value, 60.0);
        assert!(!risk.previous.unwrap().changed, "10 more, ±42");
        assert!(month.revenue_at_risk.is_none(), "no monthly series given");
    }
}
