//! What a proposed fix is worth before anyone pays for it: fewer bad experiences at a
//! touchpoint, priced by the dropout model's odds ratio of leaving after one, and the
//! candidate fixes ranked by money kept a year and by money kept per unit of cost — the
//! retention budget's shopping list.
//!
//! A customer without a bad experience leaves with the baseline probability p₀; after
//! one, with p₁ = OR·p₀ / (1 − p₀ + OR·p₀) (the odds times the odds ratio). Each bad
//! experience avoided keeps p₁ − p₀ customers in expectation, so a fix removing a share
//! s of B bad experiences a year keeps s·B·(p₁ − p₀) customers a year, worth their CLV.
//! p₁ − p₀ increases with the odds ratio, so its interval is the odds ratio's ends mapped
//! through it (exact, asymmetric as the odds ratio's); the CLV's interval joins by the
//! delta method ([`super::value`]). It assumes one bad experience per customer and year
//! (several to one customer count as several) and that the customers kept are worth the
//! mean CLV of those who have them.

use serde::Serialize;

use crate::stats::Estimate;

use super::InitiativeError;
use super::value::{check, count, estimate, product};

/// A proposed fix at a touchpoint: the dropout model's odds ratio of leaving after a bad
/// experience there (with its interval), the bad experiences there a year, the leaving
/// rate of customers without one (`baseline`, a probability), the mean CLV of the
/// customers who have them, the share of bad experiences the fix removes (0.3: 30%) and,
/// when known, what it costs (a year, to compare with the money kept a year).
#[derive(Debug, Clone, PartialEq)]
pub struct Fix {
    pub name: String,
    pub odds_ratio: Estimate,
    pub bad_experiences: f64,
    pub baseline: f64,
    pub clv: Estimate,
    pub reduction: f64,
    pub cost: Option<f64>,
}

/// What a fix keeps a year: bad experiences avoided, the excess dropout per bad
/// experience (p₁ − p₀), customers kept and their value with intervals, and with a cost
/// the value per unit of cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WhatIf {
    pub name: String,
    pub reduction: f64,
    pub avoided: f64,
    pub excess_dropout: Estimate,
    pub customers_kept: Estimate,
    pub value: Estimate,
    pub cost: Option<f64>,
    pub value_per_cost: Option<Estimate>,
}

/// Candidate fixes most valuable first: by money kept a year, and (those with a cost) by
/// money kept per unit of cost. Ties in name order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShoppingList {
    pub by_value: Vec<WhatIf>,
    pub by_value_per_cost: Vec<WhatIf>,
}

/// How much more likely a customer is to leave after a bad experience: p₁ − p₀ with
/// p₁ = OR·p₀ / (1 − p₀ + OR·p₀), the interval the odds ratio's ends mapped through it.
/// Refused when the odds ratio or an end of its interval is not positive, or the
/// baseline is not a probability.
pub fn excess_dropout(odds_ratio: Estimate, baseline: f64) -> Result<Estimate, InitiativeError> {
    let or = estimate("odds ratio", odds_ratio)?;
    for v in [Some(or.value), or.low].into_iter().flatten() {
        check("odds ratio", v, v > 0.0, "more than 0")?;
    }
    let p0 = check(
        "baseline",
        baseline,
        (0.0..=1.0).contains(&baseline),
        PROBABILITY,
    )?;
    let excess = |r: f64| r * p0 / (1.0 - p0 + r * p0) - p0;
    Ok(Estimate::unflagged(
        or.n,
        excess(or.value),
        or.interval().map(|(l, h)| (excess(l), excess(h))),
    ))
}

const PROBABILITY: &str = "a share from 0 to 1";

/// What `fix` keeps a year (see the module's documentation). Refused, naming the figure,
/// when one is out of range; a cost, when given, must be more than 0.
pub fn what_if(fix: &Fix) -> Result<WhatIf, InitiativeError> {
    let excess = excess_dropout(fix.odds_ratio, fix.baseline)?;
    let share = fix.reduction;
    check(
        "reduction",
        share,
        (0.0..=1.0).contains(&share),
        PROBABILITY,
    )?;
    let avoided = share * count("bad experiences", fix.bad_experiences)?;
    let kept = product(&[excess, Estimate::point(avoided)]);
    let value = product(&[kept, estimate("CLV", fix.clv)?]);
    let cost = fix
        .cost
        .map(|c| check("cost", c, c > 0.0, "more than 0"))
        .transpose()?;
    Ok(WhatIf {
        name: fix.name.clone(),
        reduction: share,
        avoided,
        excess_dropout: excess,
        customers_kept: kept,
        value,
        cost,
        value_per_cost: cost.map(|c| value.scaled(1.0 / c)),
    })
}

/// The shopping list of `fixes`: by value a year, and by value per unit of cost (central
/// values).
pub fn shopping_list(fixes: &[WhatIf]) -> ShoppingList {
    let ranked = |key: &dyn Fn(&WhatIf) -> Option<f64>| {
        let mut list: Vec<(f64, &WhatIf)> =
            fixes.iter().filter_map(|f| Some((key(f)?, f))).collect();
        list.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));
        list.into_iter().map(|(_, f)| f.clone()).collect()
    };
    ShoppingList {
        by_value: ranked(&|f| Some(f.value.value)),
        by_value_per_cost: ranked(&|f| Some(f.value_per_cost?.value)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::value::tests::close;
    use super::*;

    fn fix(name: &str, or: (f64, f64, f64), bad: f64, clv: f64, cost: Option<f64>) -> Fix {
        Fix {
            name: name.into(),
            odds_ratio: Estimate::unflagged(5_000, or.0, Some((or.1, or.2))),
            bad_experiences: bad,
            baseline: 0.1,
            clv: Estimate::point(clv),
            reduction: 0.3,
            cost,
        }
    }

    /// Odds ratio 2 (1.5–3) at a baseline of 10%: p₁ = 0.2/1.1 = 2/11, excess 9/110;
    /// at 1.5, 0.15/1.05 = 1/7, excess 3/70; at 3, 0.3/1.2 = 0.25, excess 0.15. 30% of
    /// 10,000 bad experiences: 3,000 avoided, 245.45 (128.57–450) customers kept, at 500
    /// each 122,727 (64,286–225,000); per 50,000 of cost 2.4545 (1.2857–4.5).
    #[test]
    fn a_fix_keeps_the_excess_dropout_of_the_bad_experiences_it_removes() {
        let w = what_if(&fix(
            "baggage",
            (2.0, 1.5, 3.0),
            10_000.0,
            500.0,
            Some(50_000.0),
        ))
        .unwrap();
        close(w.avoided, 3_000.0);
        close(w.excess_dropout.value, 9.0 / 110.0);
        close(w.excess_dropout.low.unwrap(), 3.0 / 70.0);
        close(w.excess_dropout.high.unwrap(), 0.15);
        let kept = w.customers_kept;
        close(kept.value, 3_000.0 * 9.0 / 110.0);
        close(kept.low.unwrap(), 3_000.0 * 3.0 / 70.0);
        close(kept.high.unwrap(), 450.0);
        assert_eq!(kept.n, 5_000);
        close(w.value.value, 1_500_000.0 * 9.0 / 110.0);
        close(w.value.low.unwrap(), 1_500_000.0 * 3.0 / 70.0);
        close(w.value.high.unwrap(), 225_000.0);
        let per = w.value_per_cost.unwrap();
        close(per.value, 30.0 * 9.0 / 110.0);
        close(per.high.unwrap(), 4.5);
    }

    /// A CLV of 500 (400–600) joins by the delta method: kept 245.45 (down 116.88, up
    /// 204.55); value down √((500·116.88)² + (245.45·100)²).
    #[test]
    fn an_uncertain_clv_widens_the_value_by_the_delta_method() {
        let mut f = fix("baggage", (2.0, 1.5, 3.0), 10_000.0, 500.0, None);
        f.clv = Estimate::unflagged(0, 500.0, Some((400.0, 600.0)));
        let w = what_if(&f).unwrap();
        let kept = 3_000.0 * 9.0 / 110.0;
        let (down, up) = (kept - 3_000.0 * 3.0 / 70.0, 450.0 - kept);
        let hyp = |a: f64, b: f64| (a * a + b * b).sqrt();
        close(
            w.value.low.unwrap(),
            500.0 * kept - hyp(500.0 * down, 100.0 * kept),
        );
        close(
            w.value.high.unwrap(),
            500.0 * kept + hyp(500.0 * up, 100.0 * kept),
        );
        assert!(w.value_per_cost.is_none());
    }

    /// Lounge: odds ratio 1.2 (0.9–1.6) on 100,000 bad experiences, CLV 400, cost 10,000:
    /// excess 0.018/1.02, kept 529.41, value 211,765, 21.18 per unit of cost; its interval
    /// reaches below 0 (the odds ratio's does below 1).
    #[test]
    fn candidate_fixes_are_ranked_by_value_and_by_value_per_cost() {
        let fixes: Vec<WhatIf> = [
            fix("baggage", (2.0, 1.5, 3.0), 10_000.0, 500.0, Some(50_000.0)),
            fix("lounge", (1.2, 0.9, 1.6), 100_000.0, 400.0, Some(10_000.0)),
            fix("check-in", (1.5, 1.2, 1.9), 40_000.0, 450.0, None),
            fix(
                "boarding",
                (1.2, 0.9, 1.6),
                100_000.0,
                400.0,
                Some(80_000.0),
            ),
        ]
        .iter()
        .map(|f| what_if(f).unwrap())
        .collect();
        let lounge = &fixes[1];
        close(lounge.value.value, 30_000.0 * 0.018 / 1.02 * 400.0);
        close(
            lounge.value_per_cost.unwrap().value,
            3.0 * 0.018 / 1.02 * 400.0,
        );
        assert!(lounge.value.low.unwrap() < 0.0);
        // check-in: p₁ = 0.15/1.05 = 1/7, excess 3/70; 12,000 avoided · 3/70 · 450.
        close(fixes[2].value.value, 12_000.0 * 3.0 / 70.0 * 450.0);
        let list = shopping_list(&fixes);
        let names = |l: &[WhatIf]| l.iter().map(|f| f.name.clone()).collect::<Vec<_>>();
        // 231,429 (check-in), 211,765 (boarding, lounge: a tie in name order), 122,727.
        assert_eq!(
            names(&list.by_value),
            ["check-in", "boarding", "lounge", "baggage"]
        );
        // 21.18 (lounge), 2.65 (boarding), 2.45 (baggage); check-in has no cost.
        assert_eq!(
            names(&list.by_value_per_cost),
            ["lounge", "boarding", "baggage"]
        );
    }

    #[test]
    fn figures_out_of_range_are_refused_naming_them() {
        let ok = fix("x", (2.0, 1.5, 3.0), 100.0, 10.0, None);
        let err = |f: Fix| what_if(&f).unwrap_err().to_string();
        assert_eq!(
            err(Fix {
                reduction: 1.5,
                ..ok.clone()
            }),
            "reduction is 1.5: a share from 0 to 1"
        );
        assert_eq!(
            err(Fix {
                baseline: -0.1,
                ..ok.clone()
            }),
            "baseline is -0.1: a share from 0 to 1"
        );
        assert_eq!(
            err(Fix {
                odds_ratio: Estimate::unflagged(0, 2.0, Some((0.0, 3.0))),
                ..ok.clone()
            }),
            "odds ratio is 0: more than 0"
        );
        assert_eq!(
            err(Fix {
                cost: Some(0.0),
                ..ok.clone()
            }),
            "cost is 0: more than 0"
        );
        assert_eq!(
            err(Fix {
                bad_experiences: -5.0,
                ..ok
            }),
            "bad experiences is -5: 0 or more"
        );
    }
}
