//! What proposed fixes are worth before anyone pays for them: a share fewer bad
//! experiences (failures, waits over the service level) at touchpoints, priced from the
//! journey map — the odds of leaving after a trip with a bad experience there against a
//! trip through it without one, the bad experiences a year, the mean CLV — by the core's
//! [`what_if`], and ranked into the retention budget's shopping list.

use std::collections::{BTreeMap, BTreeSet};

use cxray_core::initiatives::{Fix, ShoppingList, shopping_list, what_if};
use cxray_core::stats::{Estimate, odds_ratio};
use cxray_store::sql::Sql;
use cxray_store::{Result, StoreError};
use serde::Serialize;

use crate::journey::{self, JourneyOptions, Touchpoint, leavers};

/// The fixes asked about: the share of bad experiences each removes, at which touchpoints
/// (every touchpoint when none), and what a fix costs a year at a touchpoint, if known.
#[derive(Debug, Clone, Default)]
pub struct Proposal {
    pub reduction: f64,
    pub touchpoints: Vec<String>,
    pub costs: BTreeMap<String, f64>,
}

/// A share of bad experiences removed, given as a percentage ("30%" or "30"), more than 0
/// and at most 100; refused naming `reduce_failures`.
pub fn reduction(text: &str) -> Result<f64> {
    let number = text.trim().trim_end_matches('%').trim();
    match number.parse::<f64>() {
        Ok(p) if p > 0.0 && p <= 100.0 => Ok(p / 100.0),
        _ => Err(StoreError::invalid(
            "reduce_failures",
            format!("'{text}': a percentage more than 0 and at most 100, e.g. 30%"),
        )),
    }
}

/// `TOUCHPOINT=AMOUNT` costs a year, each amount more than 0; refused naming `cost`.
pub fn costs<'a>(given: impl IntoIterator<Item = &'a str>) -> Result<BTreeMap<String, f64>> {
    given
        .into_iter()
        .map(|c| {
            let bad = || {
                let message = format!("'{c}': TOUCHPOINT=AMOUNT, an amount more than 0");
                StoreError::invalid("cost", message)
            };
            let (tp, amount) = c.split_once('=').ok_or_else(bad)?;
            match amount.trim().parse::<f64>() {
                Ok(a) if a > 0.0 && a.is_finite() => Ok((tp.trim().to_string(), a)),
                _ => Err(bad()),
            }
        })
        .collect()
}

/// The fixes priced and ranked, and the touchpoints that could not be priced with why.
#[derive(Debug, Clone, Serialize)]
pub struct WhatIfs {
    pub reduction: f64,
    pub window_days: u32,
    pub currency: Option<String>,
    #[serde(flatten)]
    pub list: ShoppingList,
    pub unpriced: Vec<Unpriced>,
}

/// A touchpoint left out of the list, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Unpriced {
    pub touchpoint: String,
    pub reason: String,
}

/// Prices `proposal` on the journey map over `sql`. Unknown touchpoints (asked for, or
/// given a cost) are refused with the known ones.
pub async fn what_ifs(sql: &Sql, opts: &JourneyOptions, proposal: &Proposal) -> Result<WhatIfs> {
    let map = journey::journey_without_handoffs(sql, opts).await?;
    let known: BTreeSet<&str> = map
        .touchpoints
        .iter()
        .map(|t| t.touchpoint.as_str())
        .collect();
    let named = proposal.touchpoints.iter().map(|t| ("touchpoint", t));
    for (field, tp) in named.chain(proposal.costs.keys().map(|t| ("cost", t))) {
        if !known.contains(tp.as_str()) {
            let list: Vec<&str> = known.iter().copied().collect();
            let message = format!("unknown touchpoint '{tp}': known are {}", list.join(", "));
            return Err(StoreError::invalid(field, message));
        }
    }
    let asked = |t: &&Touchpoint| {
        proposal.touchpoints.is_empty() || proposal.touchpoints.contains(&t.touchpoint)
    };
    let mut fixes = Vec::new();
    let mut unpriced = Vec::new();
    for t in map.touchpoints.iter().filter(asked) {
        let cost = proposal.costs.get(&t.touchpoint).copied();
        match fix(t, map.mean_clv, proposal.reduction, cost) {
            Ok(f) => fixes.push(what_if(&f).map_err(StoreError::analysis)?),
            Err(reason) => unpriced.push(Unpriced {
                touchpoint: t.touchpoint.clone(),
                reason,
            }),
        }
    }
    Ok(WhatIfs {
        reduction: proposal.reduction,
        window_days: map.window_days,
        currency: map.currency,
        list: shopping_list(&fixes),
        unpriced,
    })
}

/// The fix at `t`, or why it cannot be priced.
fn fix(
    t: &Touchpoint,
    mean_clv: Option<f64>,
    reduction: f64,
    cost: Option<f64>,
) -> std::result::Result<Fix, String> {
    let clv = mean_clv.ok_or("customers are not valued yet (loyalty predict)")?;
    let (Some(bad), Some(ok)) = (&t.dropout_after_bad, &t.dropout_after_ok) else {
        return Err("no trips with and without a bad experience to compare".into());
    };
    let ratio =
        odds_ratio(leavers(bad), leavers(ok), &Default::default()).map_err(|e| e.to_string())?;
    Ok(Fix {
        name: t.touchpoint.clone(),
        odds_ratio: ratio,
        bad_experiences: t.bad_per_year,
        baseline: ok.value / 100.0,
        clv: Estimate::point(clv),
        reduction,
        cost,
    })
}
