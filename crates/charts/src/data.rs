//! The numbers charts draw, and the check that keeps undrawable ones out.

/// Largest magnitude drawn; beyond it (or not finite) a number is left out.
const LIMIT: f64 = 1e15;

/// A figure with its uncertainty: a value, an optional interval and a sample size.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// The value.
    pub value: f64,
    /// The interval around it, if known.
    pub interval: Option<Interval>,
    /// How many observations it rests on, if known.
    pub n: Option<u64>,
}

/// An interval's bounds, in either order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    /// One bound, normally the lower.
    pub low: f64,
    /// The other bound, normally the upper.
    pub high: f64,
}

impl Interval {
    /// The bounds, lower first.
    pub fn bounds(&self) -> (f64, f64) {
        if self.low <= self.high {
            (self.low, self.high)
        } else {
            (self.high, self.low)
        }
    }
}

impl Estimate {
    /// A bare value.
    pub fn new(value: f64) -> Estimate {
        Estimate {
            value,
            interval: None,
            n: None,
        }
    }

    /// This estimate with an interval from `low` to `high`.
    pub fn with_interval(self, low: f64, high: f64) -> Estimate {
        Estimate {
            interval: Some(Interval { low, high }),
            ..self
        }
    }

    /// This estimate with its sample size.
    pub fn with_n(self, n: u64) -> Estimate {
        Estimate { n: Some(n), ..self }
    }

    /// The value and interval bounds.
    pub(crate) fn numbers(&self) -> impl Iterator<Item = f64> {
        let bounds = self.interval.map(|i| i.bounds());
        std::iter::once(self.value).chain(bounds.into_iter().flat_map(|(lo, hi)| [lo, hi]))
    }

    /// Whether every number in it can be drawn.
    pub(crate) fn is_drawable(&self) -> bool {
        self.numbers().all(drawable)
    }
}

impl From<f64> for Estimate {
    fn from(value: f64) -> Estimate {
        Estimate::new(value)
    }
}

/// Whether a number can be drawn: finite and at most 10^15 in magnitude.
pub(crate) fn drawable(value: f64) -> bool {
    value.is_finite() && value.abs() <= LIMIT
}

/// The smallest and largest of `values`, if there are any.
pub(crate) fn extent(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values.into_iter().fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// Names of the items left out because a number in them could not be drawn.
#[derive(Debug, Default)]
pub(crate) struct LeftOut(Vec<String>);

impl LeftOut {
    /// The `items` that pass `ok`; the names of the others are recorded.
    pub(crate) fn keep<'a, T>(
        &mut self,
        items: &'a [T],
        ok: impl Fn(&T) -> bool,
        name: impl Fn(&T) -> String,
    ) -> Vec<&'a T> {
        let (kept, dropped): (Vec<&T>, Vec<&T>) = items.iter().partition(|item| ok(item));
        self.0.extend(dropped.into_iter().map(name));
        kept
    }

    /// Records one item left out.
    pub(crate) fn push(&mut self, name: String) {
        self.0.push(name);
    }

    /// A sentence naming what was left out (the first five), if anything was.
    pub(crate) fn note(&self) -> Option<String> {
        const SHOWN: usize = 5;
        let names = self
            .0
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ");
        let more = match self.0.len().saturating_sub(SHOWN) {
            0 => String::new(),
            more => format!(" and {more} more"),
        };
        (!self.0.is_empty()).then(|| format!("Left out, not a finite number: {names}{more}."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undrawable_numbers_are_caught() {
        assert!(Estimate::new(1.0).with_interval(0.0, 2.0).is_drawable());
        assert!(!Estimate::new(f64::NAN).is_drawable());
        assert!(
            !Estimate::new(1.0)
                .with_interval(0.0, f64::INFINITY)
                .is_drawable()
        );
        assert!(!Estimate::new(1e300).is_drawable());
    }

    #[test]
    fn left_out_items_are_named() {
        let mut left = LeftOut::default();
        assert_eq!(left.note(), None);
        let kept = left.keep(&[1.0, f64::NAN, 3.0], |v| drawable(*v), |v| format!("v{v}"));
        assert_eq!(kept, [&1.0, &3.0]);
        assert_eq!(left.note().unwrap(), "Left out, not a finite number: vNaN.");
        for i in 0..6 {
            left.push(i.to_string());
        }
        assert!(left.note().unwrap().ends_with("; 3 and 2 more."));
    }

    #[test]
    fn extent_spans_values() {
        assert_eq!(extent([3.0, -1.0, 2.0]), Some((-1.0, 3.0)));
        assert_eq!(extent(std::iter::empty()), None);
    }
}
