//! Calibration/holdout validation: what a model predicted for the holdout period against
//! what customers did, by calibration frequency, in total, and tracked period by period.

use serde::Serialize;

use super::{Rfm, TransactionModel};

/// A pattern of the calibration period with the holdout transactions its customers made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Holdout {
    /// The calibration pattern; `weight` customers share it.
    pub rfm: Rfm,
    /// Repeat transactions these customers made in the holdout period, summed.
    pub actual: f64,
}

/// Holdout transactions per customer for one calibration frequency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrequencyRow {
    /// Repeat transactions in calibration; the last row holds `x` and more.
    pub x: u32,
    pub customers: f64,
    /// Mean holdout transactions per customer, actual and predicted.
    pub actual: f64,
    pub predicted: f64,
}

/// Actual against conditional expected holdout transactions (over `horizon` time units),
/// grouped by calibration frequency 0, 1, …, `cap` and more.
pub fn by_frequency<M: TransactionModel + ?Sized>(
    model: &M,
    data: &[Holdout],
    horizon: f64,
    cap: u32,
) -> Vec<FrequencyRow> {
    let mut rows: Vec<FrequencyRow> = (0..=cap)
        .map(|x| FrequencyRow {
            x,
            customers: 0.0,
            actual: 0.0,
            predicted: 0.0,
        })
        .collect();
    for h in data {
        let row = &mut rows[(h.rfm.x as u32).min(cap) as usize];
        row.customers += h.rfm.weight;
        row.actual += h.actual;
        row.predicted += h.rfm.weight * model.expected_conditional(&h.rfm, horizon);
    }
    for row in &mut rows {
        if row.customers > 0.0 {
            row.actual /= row.customers;
            row.predicted /= row.customers;
        }
    }
    rows.retain(|r| r.customers > 0.0);
    rows
}

/// Expected cumulative repeat transactions of a cohort at each time in `times`, where
/// `births` are (time of first purchase, customers) on the same clock:
/// Σ customers · E[X(t − birth)] over births before t.
pub fn cumulative_expected<M: TransactionModel + ?Sized>(
    model: &M,
    births: &[(f64, f64)],
    times: &[f64],
) -> Vec<f64> {
    times
        .iter()
        .map(|&t| {
            births
                .iter()
                .filter(|(b, _)| *b < t)
                .map(|(b, n)| n * model.expected_unconditional(t - b))
                .sum()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::BgNbd;

    const CDNOW: BgNbd = BgNbd {
        r: 0.243,
        alpha: 4.414,
        a: 0.793,
        b: 2.426,
    };

    #[test]
    fn frequency_rows_average_per_customer_and_cap_the_tail() {
        let data = [
            Holdout {
                rfm: Rfm {
                    x: 0.0,
                    t_x: 0.0,
                    t: 30.0,
                    weight: 10.0,
                },
                actual: 2.0,
            },
            Holdout {
                rfm: Rfm {
                    x: 3.0,
                    t_x: 20.0,
                    t: 30.0,
                    weight: 2.0,
                },
                actual: 4.0,
            },
            Holdout {
                rfm: Rfm {
                    x: 9.0,
                    t_x: 29.0,
                    t: 30.0,
                    weight: 1.0,
                },
                actual: 5.0,
            },
        ];
        let rows = by_frequency(&CDNOW, &data, 39.0, 3);
        assert_eq!(
            rows.iter().map(|r| (r.x, r.customers)).collect::<Vec<_>>(),
            [(0, 10.0), (3, 3.0)]
        );
        assert!((rows[0].actual - 0.2).abs() < 1e-12);
        assert!((rows[1].actual - 3.0).abs() < 1e-12);
        let expected = CDNOW.expected_conditional(&data[0].rfm, 39.0);
        assert!((rows[0].predicted - expected).abs() < 1e-12);
    }

    #[test]
    fn cumulative_expectation_counts_only_customers_born_before() {
        let births = [(0.0, 100.0), (10.0, 50.0)];
        let got = cumulative_expected(&CDNOW, &births, &[5.0, 20.0]);
        assert!((got[0] - 100.0 * CDNOW.expected_unconditional(5.0)).abs() < 1e-9);
        let both =
            100.0 * CDNOW.expected_unconditional(20.0) + 50.0 * CDNOW.expected_unconditional(10.0);
        assert!((got[1] - both).abs() < 1e-9);
    }
}
