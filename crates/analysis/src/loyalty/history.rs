//! Customer equity at earlier month ends, so the scorecard can compare equity between
//! periods: the models fitted for `customer_value` applied to each customer's purchases up
//! to each month end (customers who had not bought yet do not count). One pass over the
//! purchase days in customer order; each month end's customers are compressed into
//! (x, t_x, T) patterns carrying their summed expected spend, so the transaction model is
//! evaluated once per pattern, as for `customer_value`. Today's parameters value the past:
//! the changes show what the customers did, not how the model's estimates moved.

use std::collections::HashMap;

use chrono::{Datelike, Months, NaiveDate};
use cxray_core::models::{ClvSpec, GammaGamma, Rfm, TransactionModel, pattern_values};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use super::summary::{Summaries, epoch_day};
use crate::scorecard::EquitySums;
use cxray_store::Result;
use cxray_store::decode::Columns;

/// Month ends valued before the calibration end: two years and the month before them,
/// enough for a year-ago comparison of every period of the last year and eight quarters
/// of trend.
const MONTH_ENDS: u32 = 25;

/// Equity's sums on one day.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Valuation {
    pub day: NaiveDate,
    #[serde(flatten)]
    pub(crate) sums: EquitySums,
}

/// The fitted models and the value they put on a pattern.
pub(super) struct Valuer<'a> {
    pub model: &'a dyn TransactionModel,
    pub spend: &'a GammaGamma,
    pub horizon: f64,
    pub spec: ClvSpec,
}

/// A day's customers by (x, t_x, T): how many, and the sum and sum of squares of their
/// expected spend per purchase.
type Patterns = HashMap<(u64, u64, u64), (f64, f64, f64)>;

/// Equity at the month ends before the calibration end and at the calibration end itself
/// (which equals the sum over `customer_value`), oldest first.
pub(super) async fn valuations(summaries: &Summaries, v: &Valuer<'_>) -> Result<Vec<Valuation>> {
    let window = summaries.window();
    let days = valuation_days(window.calibration_end);
    let ends: Vec<i64> = days.iter().map(|d| epoch_day(*d)).collect();
    let unit = window.unit.days();
    let mut patterns: Vec<Patterns> = vec![Patterns::new(); ends.len()];
    let mut customer = Customer::default();
    let mut stream = summaries
        .sql()
        .context()
        .sql(
            "SELECT CAST(customer_id AS VARCHAR) AS cid, day, amount FROM days
             ORDER BY cid, day",
        )
        .await?
        .execute_stream()
        .await?;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let c = Columns::new(&batch);
        let (cid, day, amount) = (c.text("cid")?, c.int("day")?, c.float("amount")?);
        for r in 0..c.rows() {
            let id = cid.str(r).unwrap_or_default();
            if id != customer.id {
                customer.count(&ends, unit, v.spend, &mut patterns);
                customer = Customer {
                    id: id.to_string(),
                    ..Customer::default()
                };
            }
            customer.days.push((day.int_at(r)?, amount.float_at(r)?));
        }
    }
    customer.count(&ends, unit, v.spend, &mut patterns);
    Ok(days
        .into_iter()
        .zip(patterns)
        .map(|(day, p)| Valuation {
            day,
            sums: sums(&p, v),
        })
        .collect())
}

/// The last day of each of the [`MONTH_ENDS`] months before the one holding `end`, then
/// `end`.
fn valuation_days(end: NaiveDate) -> Vec<NaiveDate> {
    let first = end.with_day(1).expect("a month's first day");
    let mut days: Vec<NaiveDate> = (1..=MONTH_ENDS)
        .rev()
        .filter_map(|back| first.checked_sub_months(Months::new(back - 1))?.pred_opt())
        .collect();
    days.push(end);
    days
}

/// One customer's purchase days (ascending) with their amounts.
#[derive(Default)]
struct Customer {
    id: String,
    days: Vec<(i64, f64)>,
}

impl Customer {
    /// Adds the customer's pattern on each day they had bought by, as the calibration
    /// summary computes it for that day.
    fn count(&self, ends: &[i64], unit: f64, spend: &GammaGamma, out: &mut [Patterns]) {
        let Some(&(first, first_amount)) = self.days.first() else {
            return;
        };
        let (mut n, mut total) = (0, 0.0);
        for (end, patterns) in ends.iter().zip(out.iter_mut()) {
            while n < self.days.len() && self.days[n].0 <= *end {
                total += self.days[n].1;
                n += 1;
            }
            if n == 0 {
                continue;
            }
            let x = (n - 1) as f64;
            let t_x = (self.days[n - 1].0 - first) as f64 / unit;
            let t = (end - first) as f64 / unit;
            let expected = match x > 0.0 {
                true => spend.conditional_expected_spend(x, (total - first_amount) / x),
                false => spend.expected_spend(),
            };
            let p = patterns
                .entry((x.to_bits(), t_x.to_bits(), t.to_bits()))
                .or_default();
            (p.0, p.1, p.2) = (p.0 + 1.0, p.1 + expected, p.2 + expected * expected);
        }
    }
}

/// Equity's sums over one day's patterns: each customer's CLV is the pattern's value per
/// unit of spend times their expected spend (as in `customer_value`).
fn sums(patterns: &Patterns, v: &Valuer<'_>) -> EquitySums {
    let (keys, totals): (Vec<_>, Vec<_>) = patterns.iter().unzip();
    let rfm: Vec<Rfm> = keys
        .iter()
        .zip(&totals)
        .map(|((x, t_x, t), (weight, _, _))| Rfm {
            x: f64::from_bits(*x),
            t_x: f64::from_bits(*t_x),
            t: f64::from_bits(*t),
            weight: *weight,
        })
        .collect();
    let values = pattern_values(v.model, &rfm, v.horizon, &v.spec);
    let mut out = EquitySums::default();
    for (value, (weight, spend, spend2)) in values.iter().zip(totals) {
        let per = value.clv_per_spend;
        out.clv += per * spend;
        out.p_alive += value.p_alive * weight;
        if value.p_alive > 0.0 {
            out.variance += per * per * spend2 * (1.0 - value.p_alive) / value.p_alive;
        }
        out.customers += weight as u64;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_ends_lead_up_to_the_calibration_end() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let days = valuation_days(d(2025, 6, 17));
        assert_eq!(days.len(), MONTH_ENDS as usize + 1);
        assert_eq!(days[0], d(2023, 5, 31));
        assert_eq!(days[MONTH_ENDS as usize - 1], d(2025, 5, 31));
        assert_eq!(days[MONTH_ENDS as usize], d(2025, 6, 17));
        assert!(days.windows(2).all(|w| w[0] < w[1]));
        assert!(
            days[..MONTH_ENDS as usize]
                .iter()
                .all(|d| d.succ_opt().unwrap().day() == 1)
        );
    }
}
