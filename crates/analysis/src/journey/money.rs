//! Money at risk that reads right: an amount is a loss only when its whole interval lies
//! above zero ("measurable"); totals add measurable losses only and say how many, and a
//! part of a total (the money after hand-offs) never exceeds it.

use cxray_core::stats::{Difference, Estimate};
use serde::Serialize;

/// Customer value at risk a year, and whether that loss is measurable.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AtRisk {
    #[serde(flatten)]
    pub estimate: Estimate,
    /// Whether the loss is distinguishable from zero (its interval lies above 0); when it
    /// is not, there is "no measurable loss": the amount is neither ranked nor summed.
    pub measurable: bool,
}

impl AtRisk {
    /// The amount, measurable when its interval's low end is above zero.
    pub fn new(estimate: Estimate) -> Self {
        AtRisk {
            measurable: estimate.low.is_some_and(|low| low > 0.0),
            estimate,
        }
    }

    /// An excess of leaving (percentage points, with its interval) priced at `per_point`
    /// (money a year per point): none without an interval.
    pub fn of_excess(d: &Difference, per_point: f64) -> Option<Self> {
        Some(AtRisk::new(Estimate {
            n: d.n_a + d.n_b,
            value: d.value * per_point,
            low: Some(d.low? * per_point),
            high: Some(d.high? * per_point),
            small_sample: d.small_sample,
        }))
    }

    /// The loss, where measurable.
    pub fn loss(self) -> Option<Estimate> {
        self.measurable.then_some(self.estimate)
    }

    /// A share (0…1) of this amount, measurable when this is and the share is positive.
    pub fn share(self, share: f64) -> Self {
        AtRisk {
            estimate: self.estimate.scaled(share),
            measurable: self.measurable && share > 0.0,
        }
    }
}

/// A sum of measurable losses, with how many amounts it adds of how many were priced.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Total {
    #[serde(flatten)]
    pub estimate: Estimate,
    /// The measurable losses summed.
    pub measurable: usize,
    /// The amounts priced (measurable or not).
    pub priced: usize,
}

/// The measurable losses among `items` summed (see [`sum`]); none when nothing is priced.
pub fn total(items: impl Iterator<Item = Option<AtRisk>>) -> Option<Total> {
    let priced: Vec<AtRisk> = items.flatten().collect();
    let losses: Vec<Estimate> = priced.iter().filter_map(|m| m.loss()).collect();
    (!priced.is_empty()).then(|| Total {
        estimate: sum(&losses),
        measurable: losses.len(),
        priced: priced.len(),
    })
}

/// The measurable losses among `items` summed as a part of `whole`: never above it.
pub fn part(whole: &Total, items: impl Iterator<Item = AtRisk>) -> Estimate {
    let losses: Vec<Estimate> = items.filter_map(AtRisk::loss).collect();
    let p = sum(&losses);
    let w = whole.estimate;
    let value = p.value.min(w.value);
    Estimate {
        value,
        low: p.low.zip(w.low).map(|(a, b)| a.min(b).min(value)),
        high: p.high.zip(w.high).map(|(a, b)| a.min(b).max(value)),
        ..p
    }
}

/// The sum of losses, interval half-widths combined as independent (root of the sum of
/// squares on each side), so a sum of positive lows stays above zero. Its n is 0 (not
/// known: a trip passes several touchpoints, so their trips do not add up); flagged as
/// a small sample when any part is. Zero, with a zero interval, for no losses.
fn sum(items: &[Estimate]) -> Estimate {
    let side = |pick: fn(&Estimate) -> Option<f64>| {
        items
            .iter()
            .map(|m| (m.value - pick(m).unwrap_or(m.value)).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    // + 0.0: an empty sum is −0.0, which would read "-0".
    let value = items.iter().map(|m| m.value).sum::<f64>() + 0.0;
    Estimate {
        n: 0,
        value,
        low: Some(value - side(|m| m.low)),
        high: Some(value + side(|m| m.high)),
        small_sample: items.iter().any(|m| m.small_sample),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn amount(value: f64, low: f64, high: f64) -> AtRisk {
        AtRisk::new(Estimate::unflagged(10, value, Some((low, high))))
    }

    #[test]
    fn only_losses_above_zero_are_measurable_and_summed() {
        let items = [
            Some(amount(100.0, 40.0, 160.0)),
            Some(amount(-50.0, -120.0, 20.0)),
            Some(amount(10.0, -5.0, 25.0)),
            None,
        ];
        let t = total(items.into_iter()).unwrap();
        assert_eq!((t.measurable, t.priced), (1, 3));
        assert_eq!(t.estimate.interval(), Some((40.0, 160.0)));
        assert!(total([None].into_iter()).is_none());
        assert!(!amount(5.0, 0.0, 10.0).measurable);
        assert!(!amount(5.0, 1.0, 10.0).share(0.0).measurable);
    }

    fn amounts() -> impl Strategy<Value = Vec<(f64, f64, f64, f64)>> {
        // (value, half-width below, half-width above, share of it after hand-offs)
        prop::collection::vec(
            (-1e6..1e6f64, 0.0..1e6f64, 0.0..1e6f64, 0.0..=1.0f64),
            0..12,
        )
    }

    proptest! {
        #[test]
        fn a_part_never_exceeds_its_whole_and_no_money_is_negative(items in amounts()) {
            let whole: Vec<AtRisk> =
                items.iter().map(|&(v, lo, hi, _)| amount(v, v - lo, v + hi)).collect();
            let Some(t) = total(whole.iter().copied().map(Some)) else {
                prop_assert!(items.is_empty());
                return Ok(());
            };
            let p = part(&t, whole.iter().zip(&items).map(|(m, i)| m.share(i.3)));
            for e in [t.estimate, p] {
                let bounds = [e.value, e.low.unwrap(), e.high.unwrap()];
                // Not even −0, which reads "-0".
                prop_assert!(bounds.iter().all(|b| b.is_sign_positive()), "{e:?}");
                prop_assert!(e.low.unwrap() <= e.value && e.value <= e.high.unwrap());
            }
            prop_assert!(p.value <= t.estimate.value);
            prop_assert!(p.high.unwrap() <= t.estimate.high.unwrap());
        }
    }
}
