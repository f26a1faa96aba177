//! Two independent groups compared: NPS, proportion and mean differences (a − b) with
//! intervals and two-sided p-values.

use super::quantile::{normal_two_sided_p, t_two_sided_p};
use super::{Difference, NpsCounts, Proportion, Scale, Settings, StatsError, Summary, wald};

/// The NPS difference on −200…200 points: the adjusted-Wald estimates of both groups
/// (see [`super::nps`]), variance the sum of theirs, and a z-test on the adjusted
/// difference (Lewis & Sauro 2021, "How to statistically compare two Net Promoter Scores").
pub fn nps_difference(
    a: &NpsCounts,
    b: &NpsCounts,
    s: &Settings,
) -> Result<Difference, StatsError> {
    if a.n() == 0 || b.n() == 0 {
        return Err(StatsError::NoData);
    }
    let ((ca, va), (cb, vb)) = (a.adjusted(), b.adjusted());
    let test = wald(ca - cb, (va + vb).sqrt(), s.z()?, normal_two_sided_p);
    let value = a.value() - b.value();
    Ok(Difference::new(
        (a.n(), b.n()),
        value,
        Some(test),
        Scale::Nps,
        s,
    ))
}

/// The difference of two proportions in percentage points: Newcombe's hybrid score interval
/// from the two Wilson intervals (Newcombe 1998, Statistics in Medicine 17, method 10),
/// d − √((p̂a − la)² + (ub − p̂b)²) … d + √((ua − p̂a)² + (p̂b − lb)²), and the pooled
/// two-proportion z-test.
pub fn proportion_difference(
    a: Proportion,
    b: Proportion,
    s: &Settings,
) -> Result<Difference, StatsError> {
    let (a, b) = (a.checked()?, b.checked()?);
    let z = s.z()?;
    let (pa, pb) = (a.rate(), b.rate());
    let ((la, ua), (lb, ub)) = (a.wilson(z), b.wilson(z));
    let d = pa - pb;
    let low = d - ((pa - la).powi(2) + (ub - pb).powi(2)).sqrt();
    let high = d + ((ua - pa).powi(2) + (pb - lb).powi(2)).sqrt();
    let pooled = Proportion {
        successes: a.successes + b.successes,
        n: a.n + b.n,
    }
    .rate();
    let se = (pooled * (1.0 - pooled) * (1.0 / a.n as f64 + 1.0 / b.n as f64)).sqrt();
    let p = wald(d, se, z, normal_two_sided_p).1;
    Ok(Difference::new(
        (a.n, b.n),
        d,
        Some(((low, high), p)),
        Scale::Percent,
        s,
    ))
}

/// The difference of two means by Welch's t (Welch 1947): se² = s²a/na + s²b/nb with the
/// Welch–Satterthwaite df = se⁴ / ((s²a/na)²/(na − 1) + (s²b/nb)²/(nb − 1)). `NoData` if a
/// group is empty; with one value in a group the interval and p-value are `None`.
pub fn mean_difference(
    a: &Summary,
    b: &Summary,
    scale: Scale,
    s: &Settings,
) -> Result<Difference, StatsError> {
    if a.n == 0 || b.n == 0 {
        return Err(StatsError::NoData);
    }
    let d = a.mean - b.mean;
    let test = if a.n < 2 || b.n < 2 {
        None
    } else {
        let (va, vb) = (a.se2(), b.se2());
        let df = (va + vb).powi(2) / (va * va / (a.n - 1) as f64 + vb * vb / (b.n - 1) as f64);
        // With no variance at all df is 0/0, but `wald` then returns the point without it.
        Some(wald(d, (va + vb).sqrt(), s.t(df)?, |t| {
            t_two_sided_p(t, df)
        }))
    };
    Ok(Difference::new((a.n, b.n), d, test, scale, s))
}

/// The standardised mean difference (a − b) / √((s²a + s²b) / 2), the usual check of
/// balance between randomised groups (|d| above 0.1 is a warning sign; Austin 2009).
/// None when neither group varies and the means differ; 0 when they do not differ.
pub fn standardised_difference(a: &Summary, b: &Summary) -> Option<f64> {
    let d = a.mean - b.mean;
    let sd = ((a.variance + b.variance) / 2.0).sqrt();
    match (d, sd) {
        (0.0, _) => Some(0.0),
        (_, 0.0) => None,
        _ => Some(d / sd),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nps_difference_hand_example() {
        // a: 6/2/2 → centre 0.307692, var 0.0489304 (see nps.rs). b: 2/2/6 → the mirror,
        // centre −0.307692, same var. Difference of centres 0.615385, se = √0.0978607
        // = 0.312827; ± 0.613131 → 0.2255 … 122.8514 points; z = 1.967172, p = 0.049163.
        let (a, b) = (
            NpsCounts {
                promoters: 6,
                passives: 2,
                detractors: 2,
            },
            NpsCounts {
                promoters: 2,
                passives: 2,
                detractors: 6,
            },
        );
        let d = nps_difference(&a, &b, &Settings::default()).unwrap();
        assert!((d.value - 80.0).abs() < 1e-12);
        assert!((d.low.unwrap() - 0.2255).abs() < 1e-3, "{d:?}");
        assert!((d.high.unwrap() - 122.8514).abs() < 1e-3, "{d:?}");
        assert!((d.p_value.unwrap() - 0.049_163).abs() < 1e-5, "{d:?}");
    }

    #[test]
    fn newcombe_hand_example() {
        // 56/70 vs 48/80 (Newcombe 1998, table II example (a)): d = 0.2, interval
        // 0.0524 … 0.3339 as published; pooled p = 104/150, z = 2.6502, p = 0.0080.
        let d = proportion_difference(
            Proportion {
                successes: 56,
                n: 70,
            },
            Proportion {
                successes: 48,
                n: 80,
            },
            &Settings::default(),
        )
        .unwrap();
        assert!((d.value - 20.0).abs() < 1e-12);
        assert!((d.low.unwrap() - 5.24).abs() < 0.01, "{d:?}");
        assert!((d.high.unwrap() - 33.39).abs() < 0.01, "{d:?}");
        assert!((d.p_value.unwrap() - 0.0080).abs() < 1e-4, "{d:?}");
    }

    #[test]
    fn welch_hand_example() {
        // a: 2, 4, 4, 5, 5 (mean 4, s² 1.5); b: 1, 2, 3 (mean 2, s² 1). se²a = 0.3,
        // se²b = 0.333333, se² = 0.633333, df = 0.401111/(0.0225 + 0.0555556) = 5.138790;
        // t = 2/0.795822 = 2.513123.
        let a = Summary::from_values(&[2.0, 4.0, 4.0, 5.0, 5.0]).unwrap();
        let b = Summary::from_values(&[1.0, 2.0, 3.0]).unwrap();
        let d = mean_difference(&a, &b, Scale::Ces, &Settings::default()).unwrap();
        let df = 5.138_790;
        let half = super::super::quantile::t_quantile(0.975, df) * 0.795_822;
        assert!((d.low.unwrap() - (2.0 - half)).abs() < 1e-5, "{d:?}");
        let p = t_two_sided_p(2.513_123, df);
        assert!((d.p_value.unwrap() - p).abs() < 1e-6 && p > 0.04 && p < 0.06);
    }

    #[test]
    fn standardised_difference_hand_example() {
        // Means 4 and 2, variances 1.5 and 1: 2 / √1.25 = 1.788854.
        let a = Summary::from_values(&[2.0, 4.0, 4.0, 5.0, 5.0]).unwrap();
        let b = Summary::from_values(&[1.0, 2.0, 3.0]).unwrap();
        let d = standardised_difference(&a, &b).unwrap();
        assert!((d - 1.788_854).abs() < 1e-6, "{d}");
        assert_eq!(standardised_difference(&b, &a), Some(-d));
        let (ones, twos) = (
            Summary::from_values(&[1.0; 3]).unwrap(),
            Summary::from_values(&[2.0; 3]).unwrap(),
        );
        assert_eq!(standardised_difference(&ones, &twos), None);
        assert_eq!(standardised_difference(&ones, &ones), Some(0.0));
    }

    #[test]
    fn degenerate_groups() {
        let s = Settings::default();
        let one = Summary::from_values(&[3.0]).unwrap();
        let many = Summary::from_values(&[3.0, 4.0, 5.0]).unwrap();
        let d = mean_difference(&one, &many, Scale::Ces, &s).unwrap();
        assert_eq!((d.value, d.low, d.p_value), (-1.0, None, None));
        assert!(d.small_sample);
        let empty = Summary::from_values(&[]).unwrap();
        assert_eq!(
            mean_difference(&empty, &many, Scale::Ces, &s),
            Err(StatsError::NoData)
        );
        // No variance anywhere: the interval is the point, p is 0 or 1.
        let sevens = Summary::from_values(&[7.0; 5]).unwrap();
        let fives = Summary::from_values(&[5.0; 5]).unwrap();
        let d = mean_difference(&sevens, &fives, Scale::Ces, &s).unwrap();
        assert_eq!(
            (d.low, d.high, d.p_value),
            (Some(2.0), Some(2.0), Some(0.0))
        );
        let same = mean_difference(&sevens, &sevens, Scale::Ces, &s).unwrap();
        assert_eq!(same.p_value, Some(1.0));
        // All successes in both groups: a valid interval and p = 1.
        let all = Proportion { successes: 9, n: 9 };
        let d = proportion_difference(all, all, &s).unwrap();
        assert!(d.low.unwrap() < 0.0 && d.high.unwrap() > 0.0 && d.p_value == Some(1.0));
    }
}
