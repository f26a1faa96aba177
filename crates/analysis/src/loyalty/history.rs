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

/// How far back month ends are valued: two years, for a year-ago comparison of every
/// period of the last year and eight quarters of trend.
const MONTHS_BACK: u32 = 24;
/// Of those, every one of the most recent months is valued (the monthly trend), then the
/// month a year back and the quarter ends.
const RECENT_MONTHS: u32 = 8;

/// Equity's sums on one day.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Valuation {
    pub day: NaiveDate,
    #[serde(flatten)]
    pub(crate) sums: EquitySums,
}

/// The fitted models and the value they put on a pattern.
pub(super) struct Valuer<'a> {
    pub model: &'a (dyn TransactionModel + Sync),
    pub spend: &'a GammaGamma,
    pub horizon: f64,
    pub spec: ClvSpec,
}

/// A day's customers by (x, t_x, T): how many, and the sum and sum of squares of their
/// expected spend per purchase.
type Patterns = HashMap<(u64, u64, u64), (f64, f64, f64)>;

/// Equity on the days [`valuation_days`] gives before the calibration end and on the
/// calibration end itself (which equals the sum over `customer_value`), oldest first.
/// The two cores value alternate days.
pub(super) async fn valuations(summaries: &Summaries, v: &Valuer<'_>) -> Result<Vec<Valuation>> {
    let window = summaries.window();
    let days = valuation_days(window.calibration_end);
    let ends: Vec<i64> = days.iter().map(|d| epoch_day(*d)).collect();
    let unit = window.unit.days();
    let rows = purchase_days(summaries).await?;
    let half = |odd: usize| -> Vec<(usize, EquitySums)> {
        let mine: Vec<usize> = (odd..ends.len()).step_by(2).collect();
        let on: Vec<i64> = mine.iter().map(|&i| ends[i]).collect();
        let patterns = count(&rows, &on, unit, v.spend);
        mine.into_iter()
            .zip(patterns)
            .map(|(i, p)| (i, sums(&p, v)))
            .collect()
    };
    let (mut valued, odd) = std::thread::scope(|scope| {
        let odd = scope.spawn(|| half(1));
        (half(0), odd.join().expect("valuation thread"))
    });
    valued.extend(odd);
    valued.sort_by_key(|(i, _)| *i);
    Ok(valued
        .into_iter()
        .map(|(i, sums)| Valuation { day: days[i], sums })
        .collect())
}

/// Every purchase day with its amount, by customer (an index in order of appearance) and
/// day: sorted here, which needs no memory pool and no spilling.
async fn purchase_days(summaries: &Summaries) -> Result<Vec<(u32, i64, f64)>> {
    let query = "SELECT CAST(customer_id AS VARCHAR) AS cid, day, amount FROM days";
    let mut stream = summaries
        .sql()
        .context()
        .sql(query)
        .await?
        .execute_stream()
        .await?;
    let mut index: HashMap<String, u32> = HashMap::new();
    let mut rows = Vec::new();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let c = Columns::new(&batch);
        let (cid, day, amount) = (c.text("cid")?, c.int("day")?, c.float("amount")?);
        for r in 0..c.rows() {
            let id = cid.str(r).unwrap_or_default();
            let next = index.len() as u32;
            let k = match index.get(id) {
                Some(k) => *k,
                None => *index.entry(id.to_string()).or_insert(next),
            };
            rows.push((k, day.int_at(r)?, amount.float_at(r)?));
        }
    }
    rows.sort_unstable_by_key(|&(k, day, _)| (k, day));
    Ok(rows)
}

/// The patterns of every customer on each of `ends`.
fn count(rows: &[(u32, i64, f64)], ends: &[i64], unit: f64, spend: &GammaGamma) -> Vec<Patterns> {
    let mut patterns: Vec<Patterns> = vec![Patterns::new(); ends.len()];
    for customer in rows.chunk_by(|a, b| a.0 == b.0) {
        add_customer(customer, ends, unit, spend, &mut patterns);
    }
    patterns
}

/// The last day of every month [`MONTHS_BACK`] before the one holding `end` that the
/// board compares or trends with — the [`RECENT_MONTHS`] latest, the one a year back and
/// the quarter ends — then `end`.
fn valuation_days(end: NaiveDate) -> Vec<NaiveDate> {
    let first = end.with_day(1).expect("a month's first day");
    let wanted = |back: u32, day: NaiveDate| {
        back <= RECENT_MONTHS || back == 12 || day.month().is_multiple_of(3)
    };
    let mut days: Vec<NaiveDate> = (1..=MONTHS_BACK)
        .rev()
        .filter_map(|back| {
            let day = first
                .checked_sub_months(Months::new(back - 1))?
                .pred_opt()?;
            wanted(back, day).then_some(day)
        })
        .collect();
    days.push(end);
    days
}

/// Adds one customer's pattern (their purchase days, ascending, with amounts) on each day
/// they had bought by, as the calibration summary computes it for that day.
fn add_customer(
    days: &[(u32, i64, f64)],
    ends: &[i64],
    unit: f64,
    spend: &GammaGamma,
    out: &mut [Patterns],
) {
    let Some(&(_, first, first_amount)) = days.first() else {
        return;
    };
    let (mut n, mut total) = (0, 0.0);
    for (end, patterns) in ends.iter().zip(out.iter_mut()) {
        while n < days.len() && days[n].1 <= *end {
            total += days[n].2;
            n += 1;
        }
        if n == 0 {
            continue;
        }
        let x = (n - 1) as f64;
        let t_x = (days[n - 1].1 - first) as f64 / unit;
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
        // 2023-06 … 2024-09: quarter ends and the month a year back; then every month.
        let expected = [
            d(2023, 6, 30),
            d(2023, 9, 30),
            d(2023, 12, 31),
            d(2024, 3, 31),
            d(2024, 6, 30),
            d(2024, 9, 30),
            d(2024, 10, 31),
            d(2024, 11, 30),
            d(2024, 12, 31),
            d(2025, 1, 31),
            d(2025, 2, 28),
            d(2025, 3, 31),
            d(2025, 4, 30),
            d(2025, 5, 31),
            d(2025, 6, 17),
        ];
        assert_eq!(days, expected);
    }
}
