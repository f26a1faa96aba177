//! The server-rendered pages: each module turns an analysis into HTML; the handlers in
//! `routes` decide who may see what.

pub mod customer;
pub mod data;
pub mod drivers;
pub mod journey;
pub mod link;
pub mod scorecard;

use cxray_charts::Estimate;

/// A chart estimate from a value, its interval where known and its n.
pub fn estimate(value: f64, low: Option<f64>, high: Option<f64>, n: Option<u64>) -> Estimate {
    let mut e = Estimate::new(value);
    if let (Some(l), Some(h)) = (low, high) {
        e = e.with_interval(l, h);
    }
    match n {
        Some(n) => e.with_n(n),
        None => e,
    }
}
