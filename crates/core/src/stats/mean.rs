//! Means with Student-t intervals: CES, grade point average.

use super::{Estimate, Scale, Settings, StatsError};
use serde::{Deserialize, Serialize};

/// Size, mean and sample variance (divisor n − 1) of a sample; mean and variance are 0
/// where undefined (n = 0, and the variance at n = 1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub n: u64,
    pub mean: f64,
    pub variance: f64,
}

impl Summary {
    /// The summary of individual values (`NonFinite` names the first NaN or infinity).
    pub fn from_values(values: &[f64]) -> Result<Self, StatsError> {
        match values.iter().find(|v| !v.is_finite()) {
            Some(&bad) => Err(StatsError::NonFinite(bad)),
            None => Ok(Summary::from_counts(values.iter().map(|&v| (v, 1)))),
        }
    }

    /// The summary of aggregated `(value, count)` pairs, by two passes (mean, then squared
    /// deviations) so that large offsets lose no precision.
    pub fn from_counts(pairs: impl Iterator<Item = (f64, u64)> + Clone) -> Self {
        let (n, sum) = pairs
            .clone()
            .fold((0, 0.0), |(n, s), (v, c)| (n + c, s + v * c as f64));
        if n == 0 {
            return Summary {
                n,
                mean: 0.0,
                variance: 0.0,
            };
        }
        let mean = sum / n as f64;
        let squares: f64 = pairs.map(|(v, c)| c as f64 * (v - mean).powi(2)).sum();
        let variance = if n > 1 { squares / (n - 1) as f64 } else { 0.0 };
        Summary { n, mean, variance }
    }

    /// The squared standard error of the mean, s²/n (`n > 0`).
    pub(super) fn se2(&self) -> f64 {
        self.variance / self.n as f64
    }
}

/// Size, mean and sum of squared deviations of a stream of values (Welford), mergeable
/// (Chan, Golub & LeVeque), so values can be summarised in parts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Running {
    n: u64,
    mean: f64,
    squares: f64,
}

impl Running {
    pub fn push(&mut self, value: f64) {
        self.n += 1;
        let d = value - self.mean;
        self.mean += d / self.n as f64;
        self.squares += d * (value - self.mean);
    }

    /// Adds the values another summarised.
    pub fn merge(&mut self, o: &Running) {
        let n = self.n + o.n;
        if o.n == 0 {
            return;
        }
        let d = o.mean - self.mean;
        self.mean += d * o.n as f64 / n as f64;
        self.squares += o.squares + d * d * self.n as f64 * o.n as f64 / n as f64;
        self.n = n;
    }

    pub fn summary(&self) -> Summary {
        let variance = if self.n > 1 {
            self.squares / (self.n - 1) as f64
        } else {
            0.0
        };
        Summary {
            n: self.n,
            mean: self.mean,
            variance,
        }
    }
}

/// The mean with the Student-t interval x̄ ± t_{n−1} s/√n (Student 1908), clamped to the
/// scale's range (CES 1…7, GPA 0…4). `NoData` when n = 0; with one value the interval is
/// undefined: `None`, flagged as a small sample.
pub fn mean(m: &Summary, scale: Scale, s: &Settings) -> Result<Estimate, StatsError> {
    let interval = match m.n {
        0 => return Err(StatsError::NoData),
        1 => None,
        n => {
            let half = s.t((n - 1) as f64)? * m.se2().sqrt();
            Some((m.mean - half, m.mean + half))
        }
    };
    Ok(Estimate::new(m.n, m.mean, interval, scale, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ces(values: &[f64]) -> Result<Estimate, StatsError> {
        mean(
            &Summary::from_values(values)?,
            Scale::Ces,
            &Settings::default(),
        )
    }

    #[test]
    fn running_in_parts_is_the_summary_of_all() {
        let values = [2.0, 4.0, 4.0, 5.0, 5.0, -1.5, 0.25];
        let (mut a, mut b, mut all) = (Running::default(), Running::default(), Running::default());
        values.iter().take(3).for_each(|&v| a.push(v));
        values.iter().skip(3).for_each(|&v| b.push(v));
        values.iter().for_each(|&v| all.push(v));
        a.merge(&b);
        let want = Summary::from_values(&values).unwrap();
        for got in [a.summary(), all.summary()] {
            assert_eq!(got.n, want.n);
            assert!(
                (got.mean - want.mean).abs() < 1e-12
                    && (got.variance - want.variance).abs() < 1e-12
            );
        }
    }

    #[test]
    fn t_interval_hand_examples() {
        // 2, 4, 4, 5, 5: mean 4, squared deviations 4 + 0 + 0 + 1 + 1 = 6, s² = 1.5,
        // se = √(1.5/5) = 0.547723; t(0.975, 4) = 2.776445 → ± 1.520722 → 2.479278 … 5.520722.
        let e = ces(&[2.0, 4.0, 4.0, 5.0, 5.0]).unwrap();
        assert_eq!((e.n, e.value), (5, 4.0));
        assert!((e.low.unwrap() - 2.479_278).abs() < 1e-6, "{e:?}");
        assert!((e.high.unwrap() - 5.520_722).abs() < 1e-6, "{e:?}");
        // 3.0 and 3.2 on the GPA scale: mean 3.1, s² = 0.02, se = 0.1; t(0.975, 1) = 12.706205
        // → 1.829380 … 4.370620, clamped to the top of the scale, 4.
        let m = Summary::from_values(&[3.0, 3.2]).unwrap();
        let e = mean(&m, Scale::Gpa, &Settings::default()).unwrap();
        assert!((e.low.unwrap() - 1.829_380).abs() < 1e-6 && e.high == Some(4.0));
    }

    #[test]
    fn counts_give_the_same_summary_as_values() {
        let by_counts = Summary::from_counts([(2.0, 1), (4.0, 2), (5.0, 2)].into_iter());
        let by_values = Summary::from_values(&[2.0, 4.0, 4.0, 5.0, 5.0]).unwrap();
        assert_eq!(by_counts.n, 5);
        assert!((by_counts.mean - by_values.mean).abs() < 1e-15);
        assert!((by_counts.variance - 1.5).abs() < 1e-15);
    }

    #[test]
    fn edge_cases() {
        assert_eq!(ces(&[]), Err(StatsError::NoData));
        let one = ces(&[6.0]).unwrap();
        assert_eq!((one.value, one.low, one.high), (6.0, None, None));
        assert!(one.small_sample);
        let constant = ces(&[7.0; 40]).unwrap();
        assert_eq!((constant.low, constant.high), (Some(7.0), Some(7.0)));
        assert!(!constant.small_sample);
        let nan = ces(&[1.0, f64::NAN]);
        assert!(
            matches!(nan, Err(StatsError::NonFinite(v)) if v.is_nan()),
            "{nan:?}"
        );
    }
}
