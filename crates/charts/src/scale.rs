//! Linear scales and nice ticks (steps of 1, 2 or 5 × a power of ten).

/// Slack for floating-point error when snapping values to ticks.
const EPSILON: f64 = 1e-9;

/// A linear map from data values (the domain) to pixels (the range).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale {
    domain: (f64, f64),
    range: (f64, f64),
}

impl Scale {
    /// Maps `domain` onto `range`. A domain that is empty or not finite is widened so
    /// that every finite value maps to a finite pixel.
    pub fn linear(domain: (f64, f64), range: (f64, f64)) -> Scale {
        Scale {
            domain: widen(domain),
            range,
        }
    }

    /// The pixel for `value`.
    pub fn map(&self, value: f64) -> f64 {
        let ((d0, d1), (r0, r1)) = (self.domain, self.range);
        r0 + (value - d0) / (d1 - d0) * (r1 - r0)
    }

    /// The (ascending) domain.
    pub fn domain(&self) -> (f64, f64) {
        self.domain
    }

    /// This scale with its domain widened to whole ticks, about `count` steps in all,
    /// and those ticks.
    pub fn nice(&self, count: usize) -> (Scale, Ticks) {
        let (lo, hi) = self.domain;
        let step = Step::about(hi - lo, count);
        let ticks = Ticks {
            first: (lo / step.size() + EPSILON).floor() as i64,
            last: (hi / step.size() - EPSILON).ceil() as i64,
            step,
        };
        let domain = (step.multiple(ticks.first), step.multiple(ticks.last));
        (Scale::linear(domain, self.range), ticks)
    }

    /// Nice ticks inside the domain, about `count` steps across it.
    pub fn ticks(&self, count: usize) -> Ticks {
        let (lo, hi) = self.domain;
        let step = Step::about(hi - lo, count);
        Ticks {
            first: (lo / step.size() - EPSILON).ceil() as i64,
            last: (hi / step.size() + EPSILON).floor() as i64,
            step,
        }
    }
}

/// Evenly spaced round values: whole multiples of a step of 1, 2 or 5 × 10^exponent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticks {
    first: i64,
    last: i64,
    step: Step,
}

impl Ticks {
    /// The tick values, ascending; each is the double nearest its decimal value.
    pub fn values(&self) -> Vec<f64> {
        (self.first..=self.last)
            .map(|k| self.step.multiple(k))
            .collect()
    }

    /// The power of ten of the step, which sets how many decimals a label needs.
    pub fn exponent(&self) -> i32 {
        self.step.exponent
    }
}

/// A tick step: `mantissa` (1, 2 or 5) × 10^`exponent`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Step {
    mantissa: i64,
    exponent: i32,
}

impl Step {
    /// The nice step nearest, in ratio, to `span` cut into `count` pieces.
    fn about(span: f64, count: usize) -> Step {
        let raw = span / count.max(1) as f64;
        let exponent = raw.log10().floor() as i32;
        let fraction = raw / 10_f64.powi(exponent);
        let (mantissa, exponent) = if fraction >= 50_f64.sqrt() {
            (1, exponent + 1)
        } else if fraction >= 10_f64.sqrt() {
            (5, exponent)
        } else if fraction >= 2_f64.sqrt() {
            (2, exponent)
        } else {
            (1, exponent)
        };
        Step { mantissa, exponent }
    }

    fn size(&self) -> f64 {
        self.multiple(1)
    }

    /// `k` steps, computed as an integer times a power of ten so that 3 × 0.1 is 0.3.
    fn multiple(&self, k: i64) -> f64 {
        let whole = (k * self.mantissa) as f64;
        if self.exponent >= 0 {
            whole * 10_f64.powi(self.exponent)
        } else {
            whole / 10_f64.powi(-self.exponent)
        }
    }
}

/// An ascending, non-empty, finite domain.
fn widen((a, b): (f64, f64)) -> (f64, f64) {
    if !(a.is_finite() && b.is_finite()) {
        return (0.0, 1.0);
    }
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    if hi > lo {
        (lo, hi)
    } else if lo == 0.0 {
        (0.0, 1.0)
    } else {
        let pad = lo.abs() * 0.1;
        (lo - pad, hi + pad)
    }
}

#[cfg(test)]
mod tests {
    use super::Scale;

    fn nice(lo: f64, hi: f64, count: usize) -> (Vec<f64>, (f64, f64)) {
        let (scale, ticks) = Scale::linear((lo, hi), (0.0, 100.0)).nice(count);
        (ticks.values(), scale.domain())
    }

    #[test]
    fn nice_ticks_step_by_one_two_or_five() {
        assert_eq!(nice(0.0, 0.93, 5).0, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(nice(3.0, 97.0, 5).0, [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(
            nice(-12.0, 37.0, 5).0,
            [-20.0, -10.0, 0.0, 10.0, 20.0, 30.0, 40.0]
        );
        assert_eq!(nice(0.0, 0.3, 3).0, [0.0, 0.1, 0.2, 0.3]);
        assert_eq!(nice(1200.0, 48_000.0, 4).1, (0.0, 50_000.0));
        assert_eq!(nice(0.0, 1.0004, 5).0, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2]);
        assert_eq!(nice(1200.0, 48_000.0, 5).1, (0.0, 50_000.0));
    }

    #[test]
    fn ticks_stay_inside_an_exact_domain() {
        let ticks = Scale::linear((30.0, 360.0), (0.0, 1.0)).ticks(7);
        assert_eq!(
            ticks.values(),
            [50.0, 100.0, 150.0, 200.0, 250.0, 300.0, 350.0]
        );
        assert_eq!(ticks.exponent(), 1);
    }

    #[test]
    fn maps_domain_onto_range() {
        let y = Scale::linear((0.0, 50.0), (300.0, 20.0));
        assert_eq!(y.map(0.0), 300.0);
        assert_eq!(y.map(50.0), 20.0);
        assert_eq!(y.map(25.0), 160.0);
    }

    #[test]
    fn degenerate_domains_are_widened() {
        assert_eq!(Scale::linear((5.0, 5.0), (0.0, 1.0)).domain(), (4.5, 5.5));
        assert_eq!(Scale::linear((0.0, 0.0), (0.0, 1.0)).domain(), (0.0, 1.0));
        assert_eq!(
            Scale::linear((f64::NAN, 2.0), (0.0, 1.0)).domain(),
            (0.0, 1.0)
        );
        assert_eq!(Scale::linear((3.0, 1.0), (0.0, 1.0)).domain(), (1.0, 3.0));
    }
}
