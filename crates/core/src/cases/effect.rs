//! What following up changed: the followed-up and held-out cases of a group compared by
//! intention to treat (every case in the arm its draw gave it, worked or not) over a window
//! after the case — bought again, revenue adjusted for the spend before (CUPED), the change
//! in P(alive) — with the arms' balance before, the power of the comparison and the
//! programme's value in money.

use serde::Serialize;

use crate::names::named_enum;
use crate::stats::{
    Cuped, Difference, Estimate, Paired, Power, Proportion, Scale, Settings, StatsError, Summary,
    cuped_difference, mean_difference, proportion_difference, standardised_difference,
};

use super::Arm;

/// A standardised difference before the case beyond this flags the arms as unbalanced.
pub const BALANCE_LIMIT: f64 = 0.1;

/// One case's customer over the window after the case and as long a period before it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CaseWindow {
    pub arm: Arm,
    pub pre_purchases: u64,
    pub pre_spend: f64,
    pub purchases: u64,
    pub spend: f64,
    /// P(alive) at the latest valuation less at the last one before the case, where both
    /// exist.
    pub p_alive_change: Option<f64>,
    /// The customer's lifetime value, where valued.
    pub clv: Option<f64>,
    /// The compensation recorded for the case (0 without one).
    pub compensation: f64,
}

/// How the arms are compared: the statistics' settings, the test the power is judged for,
/// and the effect on buying again (percentage points) whose sample size is asked for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EffectSettings {
    pub stats: Settings,
    pub power: Power,
    pub detect_points: f64,
}

impl Default for EffectSettings {
    fn default() -> Self {
        EffectSettings {
            stats: Settings::default(),
            power: Power::default(),
            detect_points: 5.0,
        }
    }
}

named_enum! {
    /// A measure of the customers before the case, checked for balance.
    pub enum Before("measure") {
        Purchases = "pre_purchases",
        Spend = "pre_spend",
    }
}

impl Before {
    /// The measure's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Before::Purchases => "Purchases before",
            Before::Spend => "Spend before",
        }
    }
}

named_enum! {
    /// A figure the effect analysis could not give, for want of data.
    pub enum Absent("absent figure") {
        /// Fewer than two valuations of the customers around the cases.
        PAlive = "p_alive",
        /// No customer lifetime values.
        CustomerValue = "customer_value",
        /// The cost of a contact (staff time) is not recorded, only compensations.
        ContactCost = "contact_cost",
    }
}

impl Absent {
    /// What is missing, for people.
    pub fn label(self) -> &'static str {
        match self {
            Absent::PAlive => "Change in P(alive): needs valuations before and after the cases",
            Absent::CustomerValue => "Value in money: no customer lifetime values",
            Absent::ContactCost => "Cost of a contact's staff time: not recorded",
        }
    }
}

/// The arms' standardised difference on a measure before the case.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Balance {
    pub measure: Before,
    /// None when neither arm varies and they differ.
    pub smd: Option<f64>,
    /// Beyond [`BALANCE_LIMIT`] (or undefined).
    pub flagged: bool,
}

/// The smallest effects the arms can detect.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Detectable {
    /// On buying again, in percentage points.
    pub repurchase_points: Option<f64>,
    /// On revenue per case (adjusted), in money.
    pub revenue: Option<f64>,
}

/// The cases needed to detect an effect on buying again at the current holdout share.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Needed {
    pub effect_points: f64,
    /// Cases in both arms together.
    pub total: u64,
    /// Beyond those there are.
    pub further: u64,
}

/// The programme in money: the extra customers who bought again, valued at the mean CLV
/// of the followed-up customers, against the compensations paid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Value {
    /// Followed-up customers who bought again beyond the holdout's rate.
    pub extra_customers: Estimate,
    pub mean_clv: Option<f64>,
    pub value: Option<Estimate>,
    pub compensation: f64,
    /// Compensation per followed-up case.
    pub compensation_per_case: f64,
    /// The value less the compensation.
    pub net: Option<Estimate>,
}

/// The comparison of the arms of a group of cases.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Effect {
    pub follow_up: u64,
    pub holdout: u64,
    /// Share bought again within the window, followed up − held out (percentage points).
    pub repurchase: Difference,
    /// Revenue in the window per case.
    pub revenue: Cuped,
    /// Mean change in P(alive), followed up − held out (percentage points).
    pub p_alive: Option<Difference>,
    pub balance: Vec<Balance>,
    pub detectable: Detectable,
    pub needed: Option<Needed>,
    pub value: Value,
    pub absent: Vec<Absent>,
}

/// The arms' accumulated figures.
#[derive(Default)]
struct Arms {
    bought: [Proportion; 2],
    /// (spend in the window, spend before) per case.
    revenue: [Paired; 2],
    /// (purchases before, spend before) per case.
    before: [Paired; 2],
    p_alive: [Vec<f64>; 2],
    clv: (f64, u64),
    compensation: f64,
}

impl Arms {
    fn of(cases: &[CaseWindow]) -> Self {
        let mut a = Arms::default();
        for c in cases {
            let i = usize::from(c.arm == Arm::Holdout);
            a.bought[i].n += 1;
            a.bought[i].successes += u64::from(c.purchases > 0);
            a.revenue[i].push(c.spend, c.pre_spend);
            a.before[i].push(c.pre_purchases as f64, c.pre_spend);
            a.p_alive[i].extend(c.p_alive_change);
            if i == 0 {
                if let Some(v) = c.clv {
                    a.clv = (a.clv.0 + v, a.clv.1 + 1);
                }
                a.compensation += c.compensation;
            }
        }
        a
    }
}

/// Compares the arms of `cases`. `NoData` when an arm is empty.
pub fn effect(cases: &[CaseWindow], s: &EffectSettings) -> Result<Effect, StatsError> {
    let arms = Arms::of(cases);
    let [f, h] = arms.bought;
    if f.n == 0 || h.n == 0 {
        return Err(StatsError::NoData);
    }
    let repurchase = proportion_difference(f, h, &s.stats)?;
    let revenue = cuped_difference(&arms.revenue[0], &arms.revenue[1], &s.stats)?;
    let p_alive = p_alive(&arms.p_alive, &s.stats)?;
    let rate = (f.successes + h.successes) as f64 / (f.n + h.n) as f64;
    let sd = (rate * (1.0 - rate)).sqrt();
    let detectable = Detectable {
        repurchase_points: s.power.detectable(sd, f.n, h.n)?.map(|d| d * 100.0),
        revenue: s.power.detectable(revenue.adjusted_sd, f.n, h.n)?,
    };
    let share = h.n as f64 / (f.n + h.n) as f64;
    let needed = s
        .power
        .needed(sd, s.detect_points / 100.0, share)?
        .map(|total| Needed {
            effect_points: s.detect_points,
            total,
            further: total.saturating_sub(f.n + h.n),
        });
    let value = value(&arms, &repurchase);
    let mut absent = vec![Absent::ContactCost];
    absent.extend(p_alive.is_none().then_some(Absent::PAlive));
    absent.extend(value.mean_clv.is_none().then_some(Absent::CustomerValue));
    absent.sort();
    Ok(Effect {
        follow_up: f.n,
        holdout: h.n,
        balance: balance(&arms),
        repurchase,
        revenue,
        p_alive,
        detectable,
        needed,
        value,
        absent,
    })
}

/// The arms' difference in the mean change of P(alive) (percentage points, flagged as a
/// percentage is), where both have two or more.
fn p_alive(changes: &[Vec<f64>; 2], s: &Settings) -> Result<Option<Difference>, StatsError> {
    if changes.iter().any(|c| c.len() < 2) {
        return Ok(None);
    }
    let a = Summary::from_values(&changes[0])?;
    let b = Summary::from_values(&changes[1])?;
    Ok(Some(mean_difference(&a, &b, Scale::Percent, s)?))
}

fn balance(arms: &Arms) -> Vec<Balance> {
    let [a, b] = &arms.before;
    [
        (Before::Purchases, a.y(), b.y()),
        (Before::Spend, a.x(), b.x()),
    ]
    .into_iter()
    .map(|(measure, a, b)| {
        let smd = standardised_difference(&a, &b);
        Balance {
            measure,
            smd,
            flagged: smd.is_none_or(|d| d.abs() > BALANCE_LIMIT),
        }
    })
    .collect()
}

/// The extra customers and their value: the difference in the share who bought again
/// (with its interval) times the followed-up cases, times their mean CLV.
fn value(arms: &Arms, repurchase: &Difference) -> Value {
    let cases = arms.bought[0].n as f64;
    let extra = Estimate {
        n: repurchase.n_a + repurchase.n_b,
        value: repurchase.value,
        low: repurchase.low,
        high: repurchase.high,
        small_sample: repurchase.small_sample,
    }
    .scaled(cases / 100.0);
    let (sum, n) = arms.clv;
    let mean_clv = (n > 0).then(|| sum / n as f64);
    let value = mean_clv.map(|m| extra.scaled(m));
    let net = value.map(|v| Estimate {
        value: v.value - arms.compensation,
        low: v.low.map(|l| l - arms.compensation),
        high: v.high.map(|h| h - arms.compensation),
        ..v
    });
    Value {
        extra_customers: extra,
        mean_clv,
        value,
        compensation: arms.compensation,
        compensation_per_case: arms.compensation / cases,
        net,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use proptest::prelude::*;

    fn case(arm: Arm, pre: (u64, f64), post: (u64, f64)) -> CaseWindow {
        CaseWindow {
            arm,
            pre_purchases: pre.0,
            pre_spend: pre.1,
            purchases: post.0,
            spend: post.1,
            p_alive_change: None,
            clv: None,
            compensation: 0.0,
        }
    }

    #[test]
    fn hand_example() {
        // Followed up: 3 of 4 bought again, spend 100, 200, 0, 300 (mean 150); held out:
        // 1 of 4, spend 0, 0, 0, 100 (mean 25). Before: equal in both arms.
        let mut cases = Vec::new();
        for (i, spend) in [100.0, 200.0, 0.0, 300.0].into_iter().enumerate() {
            let pre = (i as u64, 50.0 * i as f64);
            cases.push(CaseWindow {
                clv: Some(1000.0 + 100.0 * i as f64),
                compensation: 10.0,
                ..case(Arm::FollowUp, pre, (u64::from(spend > 0.0), spend))
            });
            let held = if i == 3 { 100.0 } else { 0.0 };
            cases.push(case(Arm::Holdout, pre, (u64::from(held > 0.0), held)));
        }
        let e = effect(&cases, &EffectSettings::default()).unwrap();
        assert_eq!((e.follow_up, e.holdout), (4, 4));
        assert_eq!(e.repurchase.value, 50.0);
        assert_eq!(e.revenue.unadjusted.value, 125.0);
        assert!(e.balance.iter().all(|b| b.smd == Some(0.0) && !b.flagged));
        // 0.5 × 4 extra customers at a mean CLV of 1,150, less 40 of compensation.
        assert_eq!(e.value.extra_customers.value, 2.0);
        assert_eq!(e.value.mean_clv, Some(1150.0));
        assert_eq!(e.value.net.unwrap().value, 2260.0);
        assert_eq!(e.value.compensation_per_case, 10.0);
        assert_eq!(e.absent, vec![Absent::PAlive, Absent::ContactCost]);
        assert!(e.p_alive.is_none());
        let needed = e.needed.unwrap();
        assert_eq!(needed.further, needed.total - 8);
        assert_eq!(
            effect(&cases[..1], &EffectSettings::default()),
            Err(StatsError::NoData)
        );
    }

    #[test]
    fn unbalanced_arms_are_flagged() {
        let mut cases = Vec::new();
        for i in 0..20u64 {
            cases.push(case(Arm::FollowUp, (i % 3, 100.0), (1, 10.0)));
            cases.push(case(Arm::Holdout, (i % 3 + 1, 100.0 + i as f64), (0, 0.0)));
        }
        let e = effect(&cases, &EffectSettings::default()).unwrap();
        assert!(e.balance.iter().all(|b| b.flagged), "{:?}", e.balance);
    }

    /// Simulated cases: a share `holdout` held out; the holdout buys again with
    /// probability 0.4 and the followed up with 0.4 + `lift`; revenue grows with spend
    /// before, `extra` more when followed up; P(alive) changes by `lift` more.
    fn simulate(seed: u64, n: usize, lift: f64, extra: f64) -> Vec<CaseWindow> {
        let mut rng = Rng::new(seed);
        (0..n)
            .map(|_| {
                let arm = if rng.bernoulli(0.3) {
                    Arm::Holdout
                } else {
                    Arm::FollowUp
                };
                let treated = arm == Arm::FollowUp;
                let pre_spend = rng.gamma(1.5, 0.005);
                let bought = rng.bernoulli(0.4 + if treated { lift } else { 0.0 });
                let spend =
                    0.8 * pre_spend + 80.0 * rng.normal() + if treated { extra } else { 0.0 };
                let change = 0.1 * rng.normal() + if treated { lift } else { 0.0 };
                CaseWindow {
                    arm,
                    pre_purchases: rng.poisson(2.0),
                    pre_spend,
                    purchases: u64::from(bought),
                    spend,
                    p_alive_change: Some(change),
                    clv: Some(500.0),
                    compensation: 0.0,
                }
            })
            .collect()
    }

    fn covers(d: &Difference, truth: f64) -> bool {
        d.low.unwrap() <= truth && truth <= d.high.unwrap()
    }

    /// Over 400 seeds, how often each figure's interval covers its true difference.
    fn coverage(lift: f64, extra: f64) -> [usize; 3] {
        let mut hits = [0; 3];
        for seed in 0..400 {
            let e = effect(
                &simulate(seed, 600, lift, extra),
                &EffectSettings::default(),
            )
            .unwrap();
            hits[0] += usize::from(covers(&e.repurchase, lift * 100.0));
            hits[1] += usize::from(covers(&e.revenue.adjusted, extra));
            hits[2] += usize::from(covers(&e.p_alive.unwrap(), lift * 100.0));
        }
        hits
    }

    #[test]
    fn without_an_effect_intervals_cover_zero_in_about_95_percent_of_seeds() {
        for (figure, hits) in coverage(0.0, 0.0).into_iter().enumerate() {
            assert!(
                (368..=392).contains(&hits),
                "figure {figure}: {hits} of 400"
            );
        }
    }

    #[test]
    fn a_planted_effect_is_recovered_within_its_interval() {
        for (figure, hits) in coverage(0.1, 40.0).into_iter().enumerate() {
            assert!(
                (368..=392).contains(&hits),
                "figure {figure}: {hits} of 400"
            );
        }
        let e = effect(&simulate(1, 20_000, 0.1, 40.0), &EffectSettings::default()).unwrap();
        assert!(
            (e.repurchase.value - 10.0).abs() < 2.0,
            "{:?}",
            e.repurchase
        );
        assert!(
            (e.revenue.adjusted.value - 40.0).abs() < 5.0,
            "{:?}",
            e.revenue
        );
        assert!(e.revenue.variance_reduction > 0.3, "{:?}", e.revenue);
        assert!(e.repurchase.p_value.unwrap() < 1e-6);
    }

    proptest! {
        /// Relabelling the arms negates every difference, and the counts stay whole.
        #[test]
        fn swapping_the_arms_negates_the_differences(seed in 0u64..1000, n in 10usize..200) {
            let cases = simulate(seed, n, 0.05, 10.0);
            prop_assume!(cases.iter().filter(|c| c.arm == Arm::Holdout).count() >= 2);
            prop_assume!(cases.iter().filter(|c| c.arm == Arm::FollowUp).count() >= 2);
            let swapped: Vec<CaseWindow> = cases
                .iter()
                .map(|c| CaseWindow {
                    arm: if c.arm == Arm::Holdout { Arm::FollowUp } else { Arm::Holdout },
                    ..*c
                })
                .collect();
            let s = EffectSettings::default();
            let (e, w) = (effect(&cases, &s).unwrap(), effect(&swapped, &s).unwrap());
            prop_assert_eq!(e.follow_up + e.holdout, n as u64);
            prop_assert!((e.repurchase.value + w.repurchase.value).abs() < 1e-9);
            prop_assert!((e.revenue.adjusted.value + w.revenue.adjusted.value).abs() < 1e-6);
            prop_assert_eq!(e.revenue.adjusted.p_value.map(|p| (p * 1e6).round()),
                w.revenue.adjusted.p_value.map(|p| (p * 1e6).round()));
        }
    }
}
