//! The business case of a change: a measured effect with its interval turned into money a
//! year, set against the change's costs — net value, return on investment and payback,
//! each with an interval.
//!
//! **Intervals.** Money a year is a product of factors, each a figure with an interval at
//! the same level (the measured effect, the excess dropout, the CLV) or an exact number
//! (volumes, counts of customers). The interval is carried through by the delta method
//! (first order): with V = Π fᵢ and gᵢ = ∂V/∂fᵢ = Π_{j≠i} fⱼ,
//!
//! ```text
//! V − low  = √Σ (gᵢ · dᵢ⁻)²      high − V = √Σ (gᵢ · dᵢ⁺)²
//! ```
//!
//! dᵢ⁻ and dᵢ⁺ the distances from fᵢ to the ends of its interval that move V down and up
//! (which end is which follows the sign of gᵢ). For symmetric intervals fᵢ ± z·SEᵢ this is
//! V ± z·√Σ (gᵢ·SEᵢ)², the delta method; taking each side apart (Zou & Donner's MOVER)
//! keeps an asymmetric input's shape, such as an excess dropout from an odds ratio.
//! Intervals from a t distribution are used as they are (slightly wide against z).
//!
//! Net value, return on investment and payback are monotone in the value a year, the costs
//! being exact: their intervals are the value's interval mapped through them.

use serde::{Serialize, Serializer};

use crate::stats::Estimate;

use super::InitiativeError;

/// What an effect is worth, by one of three routes. Rate changes are the measured effect
/// as it is (`Effect::absolute`; negative: fewer failures, fewer defections); volumes are
/// counts a year.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Benefit {
    /// Failures avoided (−`rate_change` × `interactions` a year) × the excess dropout per
    /// failure (how much more likely a customer who has one is to leave) × the CLV of the
    /// customers who have them.
    Failures {
        rate_change: Estimate,
        interactions: f64,
        excess_dropout: Estimate,
        clv: Estimate,
    },
    /// Customers kept (−`rate_change` in the yearly defection rate × `customers`) × their
    /// CLV.
    Defection {
        rate_change: Estimate,
        customers: f64,
        clv: Estimate,
    },
    /// Revenue: `change` (per customer and period, say) × `per_year` (customers × periods a
    /// year).
    Revenue { change: Estimate, per_year: f64 },
}

/// A change's costs: `one_off` once, `running` a year, over a horizon of `years`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Costs {
    pub one_off: f64,
    pub running: f64,
    pub years: f64,
}

/// Months until a one-off cost is earned back, or never (the value a year does not exceed
/// the running cost). Serialised as the number of months or `"never"`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Months {
    After(f64),
    Never,
}

impl Serialize for Months {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Months::After(m) => s.serialize_f64(*m),
            Months::Never => s.serialize_str("never"),
        }
    }
}

/// The payback period at the central value a year, and at the interval's ends: soonest
/// (the value's upper end) and latest (its lower end, `Never` when it does not cover the
/// running cost).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Payback {
    pub months: Months,
    pub soonest: Months,
    pub latest: Months,
}

/// A business case. `customers_kept` (a year; the failure and defection routes) and
/// `value` (money a year) carry the effect's interval; `net_value` is the value less the
/// running costs over `costs.years` less the one-off cost; `roi` the net value over those
/// costs (none when there are none).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BusinessCase {
    pub customers_kept: Option<Estimate>,
    pub value: Estimate,
    pub costs: Costs,
    pub net_value: Estimate,
    pub roi: Option<Estimate>,
    pub payback: Payback,
}

/// The business case of `benefit` against `costs`. Refused when a figure is not finite, an
/// interval does not hold its value, a volume or cost is negative or the horizon not
/// positive.
pub fn business_case(benefit: &Benefit, costs: &Costs) -> Result<BusinessCase, InitiativeError> {
    check(
        "one-off cost",
        costs.one_off,
        costs.one_off >= 0.0,
        AT_LEAST_0,
    )?;
    check(
        "running cost",
        costs.running,
        costs.running >= 0.0,
        AT_LEAST_0,
    )?;
    check("years", costs.years, costs.years > 0.0, "more than 0")?;
    let (customers_kept, value) = match *benefit {
        Benefit::Failures {
            rate_change,
            interactions,
            excess_dropout,
            clv,
        } => {
            let failures = per_year(rate_change, -count("interactions", interactions)?)?;
            let kept = product(&[failures, estimate("excess dropout", excess_dropout)?]);
            (Some(kept), product(&[kept, estimate("CLV", clv)?]))
        }
        Benefit::Defection {
            rate_change,
            customers,
            clv,
        } => {
            let kept = per_year(rate_change, -count("customers", customers)?)?;
            (Some(kept), product(&[kept, estimate("CLV", clv)?]))
        }
        Benefit::Revenue {
            change,
            per_year: n,
        } => (None, per_year(change, count("per year", n)?)?),
    };
    let cost = costs.one_off + costs.running * costs.years;
    let net = |v: f64| (v - costs.running) * costs.years - costs.one_off;
    let net_value = mapped(value, net);
    let payback = |v: f64| {
        if v <= costs.running {
            Months::Never
        } else {
            Months::After(12.0 * costs.one_off / (v - costs.running))
        }
    };
    Ok(BusinessCase {
        customers_kept,
        value,
        costs: *costs,
        net_value,
        roi: (cost > 0.0).then(|| net_value.scaled(1.0 / cost)),
        payback: Payback {
            months: payback(value.value),
            soonest: payback(value.high.unwrap_or(value.value)),
            latest: payback(value.low.unwrap_or(value.value)),
        },
    })
}

const AT_LEAST_0: &str = "0 or more";

/// `value` when finite and `ok`, else the refusal naming `what`.
pub(crate) fn check(
    what: &'static str,
    value: f64,
    ok: bool,
    rule: &'static str,
) -> Result<f64, InitiativeError> {
    if value.is_finite() && ok {
        Ok(value)
    } else {
        Err(InitiativeError::Invalid { what, value, rule })
    }
}

/// `e` when its value and interval are finite and the interval holds the value.
pub(crate) fn estimate(what: &'static str, e: Estimate) -> Result<Estimate, InitiativeError> {
    let rule = "a finite figure within its interval";
    check(what, e.value, true, rule)?;
    for end in [e.low, e.high].into_iter().flatten() {
        check(what, end, true, rule)?;
    }
    let inside = e.low.is_none_or(|l| l <= e.value) && e.high.is_none_or(|h| e.value <= h);
    check(what, e.value, inside, rule)?;
    Ok(e)
}

/// A count a year, named `what`, checked to be 0 or more.
pub(crate) fn count(what: &'static str, n: f64) -> Result<f64, InitiativeError> {
    check(what, n, n >= 0.0, AT_LEAST_0)
}

/// The measured effect `rate` times the exact `factor` (negative turns a change into what
/// is avoided).
fn per_year(rate: Estimate, factor: f64) -> Result<Estimate, InitiativeError> {
    Ok(product(&[
        estimate("effect", rate)?,
        Estimate::point(factor),
    ]))
}

/// The product of `factors` with the interval carried through by the delta method, each
/// side apart (see the module's documentation); n is the first factor's.
pub(crate) fn product(factors: &[Estimate]) -> Estimate {
    let value: f64 = factors.iter().map(|f| f.value).product();
    let (mut down, mut up) = (0.0, 0.0);
    for (i, f) in factors.iter().enumerate() {
        let g: f64 = factors
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .map(|(_, f)| f.value)
            .product();
        let below = f.value - f.low.unwrap_or(f.value);
        let above = f.high.unwrap_or(f.value) - f.value;
        let (d, u) = if g >= 0.0 {
            (g * below, g * above)
        } else {
            (-g * above, -g * below)
        };
        down += d * d;
        up += u * u;
    }
    let interval = factors
        .iter()
        .any(|f| f.interval().is_some())
        .then(|| (value - down.sqrt(), value + up.sqrt()));
    Estimate::unflagged(factors.first().map_or(0, |f| f.n), value, interval)
}

/// `e` mapped through the increasing function `f`, its interval's ends too.
fn mapped(e: Estimate, f: impl Fn(f64) -> f64) -> Estimate {
    Estimate::unflagged(e.n, f(e.value), e.interval().map(|(l, h)| (f(l), f(h))))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// `got` equals `want` to 1e-9, relative (absolute below 1).
    pub(crate) fn close(got: f64, want: f64) {
        assert!(
            (got - want).abs() <= 1e-9 * want.abs().max(1.0),
            "{got} against {want}"
        );
    }

    /// The case of `benefit` with these costs over `years`.
    fn case(benefit: Benefit, one_off: f64, running: f64, years: f64) -> BusinessCase {
        let costs = Costs {
            one_off,
            running,
            years,
        };
        business_case(&benefit, &costs).unwrap()
    }

    fn months(m: Months) -> f64 {
        match m {
            Months::After(m) => m,
            Months::Never => panic!("never"),
        }
    }

    /// Failure rate down 0.02 (0.01 to 0.03) on 100,000 interactions a year: 2,000 ± 1,000
    /// failures avoided; 5% (4–6%) of customers with a failure leave because of it; CLV
    /// 400 exactly. Kept 100 ± √((0.05·1000)² + (2000·0.01)²) = 100 ± √2900 = 100 ± 53.852;
    /// value 40,000 ± 21,540.66.
    #[test]
    fn failures_avoided_are_priced_with_the_interval_carried_through() {
        let benefit = Benefit::Failures {
            rate_change: Estimate::unflagged(300, -0.02, Some((-0.03, -0.01))),
            interactions: 100_000.0,
            excess_dropout: Estimate::unflagged(0, 0.05, Some((0.04, 0.06))),
            clv: Estimate::point(400.0),
        };
        let c = case(benefit, 20_000.0, 5_000.0, 3.0);
        let half = 2900f64.sqrt();
        let kept = c.customers_kept.unwrap();
        close(kept.value, 100.0);
        close(kept.low.unwrap(), 100.0 - half);
        close(kept.high.unwrap(), 100.0 + half);
        assert_eq!(kept.n, 300);
        let v = c.value;
        close(v.value, 40_000.0);
        close(v.low.unwrap(), 40_000.0 - 400.0 * half);
        close(v.high.unwrap(), 40_000.0 + 400.0 * half);
        // Net over 3 years: 3 · (40,000 − 5,000) − 20,000 = 85,000, ends likewise.
        let net = |v: f64| 3.0 * (v - 5_000.0) - 20_000.0;
        close(c.net_value.value, 85_000.0);
        close(c.net_value.low.unwrap(), net(v.low.unwrap()));
        close(c.net_value.high.unwrap(), net(v.high.unwrap()));
        // Costs 20,000 + 3 · 5,000 = 35,000.
        let roi = c.roi.unwrap();
        close(roi.value, 85_000.0 / 35_000.0);
        close(roi.low.unwrap(), net(v.low.unwrap()) / 35_000.0);
        // Payback 12 · 20,000 / 35,000 = 6.857 months; 4.245 to 17.83.
        close(months(c.payback.months), 12.0 * 20_000.0 / 35_000.0);
        close(
            months(c.payback.soonest),
            240_000.0 / (v.high.unwrap() - 5_000.0),
        );
        close(
            months(c.payback.latest),
            240_000.0 / (v.low.unwrap() - 5_000.0),
        );
        assert!((months(c.payback.latest) - 17.832).abs() < 1e-3);
    }

    /// Defection down 1 point (0.2 to 1.8) among 50,000 customers: 500 ± 400 kept; CLV 300
    /// (250–350): value 150,000, down √((300·400)² + (500·50)²) = 122,577, up the same.
    #[test]
    fn defection_falls_are_customers_kept_times_their_value() {
        let benefit = Benefit::Defection {
            rate_change: Estimate::unflagged(40, -0.01, Some((-0.018, -0.002))),
            customers: 50_000.0,
            clv: Estimate::unflagged(0, 300.0, Some((250.0, 350.0))),
        };
        let c = case(benefit, 0.0, 200_000.0, 1.0);
        let kept = c.customers_kept.unwrap();
        close(kept.value, 500.0);
        close(kept.low.unwrap(), 100.0);
        close(kept.high.unwrap(), 900.0);
        let half = (120_000f64.powi(2) + 25_000f64.powi(2)).sqrt();
        close(c.value.low.unwrap(), 150_000.0 - half);
        close(c.value.high.unwrap(), 150_000.0 + half);
        // Running costs above the value: the payback never comes, though it may at best.
        assert_eq!(c.payback.months, Months::Never);
        assert_eq!(c.payback.latest, Months::Never);
        assert_eq!(c.payback.soonest, Months::After(0.0));
        close(c.net_value.value, -50_000.0);
        close(c.roi.unwrap().value, -0.25);
        assert_eq!(
            serde_json::to_value(c.payback).unwrap(),
            serde_json::json!({"months": "never", "soonest": 0.0, "latest": "never"})
        );
    }

    /// Revenue per customer and week up 0.10 (−0.02 to 0.22) for 10,000 customers over 52
    /// weeks: 52,000 (−10,400 to 114,400) a year; no costs, no ROI.
    #[test]
    fn revenue_changes_are_scaled_to_a_year() {
        let benefit = Benefit::Revenue {
            change: Estimate::unflagged(12, 0.10, Some((-0.02, 0.22))),
            per_year: 520_000.0,
        };
        let c = case(benefit, 0.0, 0.0, 2.0);
        assert!(c.customers_kept.is_none() && c.roi.is_none());
        close(c.value.value, 52_000.0);
        close(c.value.low.unwrap(), -10_400.0);
        close(c.value.high.unwrap(), 114_400.0);
        close(c.net_value.value, 104_000.0);
        assert_eq!(c.payback.months, Months::After(0.0));
        assert_eq!(c.payback.latest, Months::Never);
    }

    #[test]
    fn a_factor_with_a_negative_partner_swaps_its_ends() {
        // (−2 ± 1) · (3, 2 to 5): g of the first is 3; of the second, −2 (its upper end
        // lowers the product).
        let p = product(&[
            Estimate::unflagged(0, -2.0, Some((-3.0, -1.0))),
            Estimate::unflagged(0, 3.0, Some((2.0, 5.0))),
        ]);
        close(p.value, -6.0);
        close(p.low.unwrap(), -6.0 - (9.0f64 + 16.0).sqrt());
        close(p.high.unwrap(), -6.0 + (9.0f64 + 4.0).sqrt());
        assert_eq!(
            product(&[Estimate::point(2.0), Estimate::point(3.0)]).low,
            None
        );
    }

    #[test]
    fn bad_figures_are_refused_naming_them() {
        let ok = Benefit::Revenue {
            change: Estimate::point(1.0),
            per_year: 10.0,
        };
        let costs = Costs {
            one_off: 0.0,
            running: 0.0,
            years: 1.0,
        };
        let err = |b: Benefit, c: Costs| business_case(&b, &c).unwrap_err().to_string();
        assert_eq!(
            err(
                ok,
                Costs {
                    running: -1.0,
                    ..costs
                }
            ),
            "running cost is -1: 0 or more"
        );
        assert_eq!(
            err(
                ok,
                Costs {
                    years: 0.0,
                    ..costs
                }
            ),
            "years is 0: more than 0"
        );
        let outside = Benefit::Revenue {
            change: Estimate::unflagged(0, 1.0, Some((2.0, 3.0))),
            per_year: 10.0,
        };
        assert_eq!(
            err(outside, costs),
            "effect is 1: a finite figure within its interval"
        );
        let nan = Benefit::Revenue {
            change: Estimate::point(1.0),
            per_year: f64::NAN,
        };
        assert_eq!(err(nan, costs), "per year is NaN: 0 or more");
    }
}
