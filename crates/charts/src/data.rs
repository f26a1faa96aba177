//! The numbers charts draw, and the check that keeps undrawable ones out.

/// Largest magnitude drawn; beyond it (or not finite) a number is left out.
const LIMIT: f64 = 1e15;

pub use cxray_core::stats::Estimate;

/// An estimate's interval bounds, lower first, where both are known (in either order).
pub(crate) fn bounds(estimate: &Estimate) -> Option<(f64, f64)> {
    let (low, high) = estimate.interval()?;
    Some(if low <= high {
        (low, high)
    } else {
        (high, low)
    })
}

/// An estimate's n, where known (an n of 0 means not known).
pub(crate) fn known_n(estimate: &Estimate) -> Option<u64> {
    (estimate.n > 0).then_some(estimate.n)
}

/// The value and interval bounds.
pub(crate) fn numbers(estimate: &Estimate) -> impl Iterator<Item = f64> {
    let bounds = bounds(estimate);
    std::iter::once(estimate.value).chain(bounds.into_iter().flat_map(|(lo, hi)| [lo, hi]))
}

/// Whether every number in an estimate can be drawn.
pub(crate) fn is_drawable(estimate: &Estimate) -> bool {
    numbers(estimate).all(drawable)
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
        let with = |low, high| Estimate::unflagged(0, 1.0, Some((low, high)));
        assert!(is_drawable(&with(0.0, 2.0)));
        assert!(!is_drawable(&Estimate::point(f64::NAN)));
        assert!(!is_drawable(&with(0.0, f64::INFINITY)));
        assert!(!is_drawable(&Estimate::point(1e300)));
    }

    #[test]
    fn bounds_in_either_order_and_unknown_n() {
        let e = Estimate::unflagged(0, 1.0, Some((2.0, 0.0)));
        assert_eq!(bounds(&e), Some((0.0, 2.0)));
        assert_eq!(known_n(&e), None);
        let half = Estimate {
            high: None,
            ..Estimate::unflagged(5, 1.0, Some((0.0, 2.0)))
        };
        assert_eq!((bounds(&half), known_n(&half)), (None, Some(5)));
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
