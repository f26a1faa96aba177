//! Test-only summariser of the CDNOW sample into the calibration/holdout patterns used
//! by Fader, Hardie & Lee (2005): weeks; calibration 1997-01-01..1997-09-30; holdout
//! 1997-10-01..1998-06-30; purchases on one day count once (amounts summed); the first
//! purchase is not a repeat. T runs from the first purchase to 1997-09-30, which gives
//! customer 0001 x = 2, t_x = 30.43, T = 38.86, as published.

use std::collections::BTreeMap;

/// One customer of the sample.
#[derive(Debug, Clone)]
pub struct Customer {
    pub x: f64,
    pub t_x: f64,
    pub t: f64,
    /// Repeat transactions in the 39-week holdout.
    pub holdout_x: f64,
    /// Mean value of the calibration repeat transactions (0 when x = 0).
    pub mean_repeat_spend: f64,
}

/// Days since 1997-01-01 of a yyyymmdd date in 1997 or 1998.
fn day_number(yyyymmdd: u32) -> u32 {
    const CUMULATIVE: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let (year, month, day) = (yyyymmdd / 10_000, yyyymmdd / 100 % 100, yyyymmdd % 100);
    assert!(
        year == 1997 || year == 1998,
        "date {yyyymmdd} outside the study"
    );
    (year - 1997) * 365 + CUMULATIVE[month as usize - 1] + day - 1
}

const CALIBRATION_END: u32 = 272; // 1997-09-30
const HOLDOUT_END: u32 = 365 + 180; // 1998-06-30

/// The 2,357 customers of `CDNOW_sample.txt`, in sample-id order.
pub fn sample() -> Vec<Customer> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/cdnow/CDNOW_sample.txt"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let mut days: BTreeMap<u32, BTreeMap<u32, f64>> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let id: u32 = cols[1].parse().unwrap();
        let day = day_number(cols[2].parse().unwrap());
        let amount: f64 = cols[4].parse().unwrap();
        *days.entry(id).or_default().entry(day).or_default() += amount;
    }
    days.values().map(summarise).collect()
}

fn summarise(days: &BTreeMap<u32, f64>) -> Customer {
    let first = *days.keys().next().unwrap();
    let repeats: Vec<(u32, f64)> = days
        .iter()
        .skip(1)
        .filter(|(d, _)| **d <= CALIBRATION_END)
        .map(|(d, a)| (*d, *a))
        .collect();
    let last = repeats.last().map_or(first, |(d, _)| *d);
    let x = repeats.len() as f64;
    Customer {
        x,
        t_x: (last - first) as f64 / 7.0,
        t: (CALIBRATION_END - first) as f64 / 7.0,
        holdout_x: days
            .keys()
            .filter(|d| **d > CALIBRATION_END && **d <= HOLDOUT_END)
            .count() as f64,
        mean_repeat_spend: if x > 0.0 {
            repeats.iter().map(|(_, a)| a).sum::<f64>() / x
        } else {
            0.0
        },
    }
}
