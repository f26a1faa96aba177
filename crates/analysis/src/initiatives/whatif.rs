//! What proposed fixes are worth before anyone pays for them: a share fewer bad
//! experiences (failures, waits over the service level) at touchpoints, priced by the
//! core's [`what_if`] — the dropout model's odds ratio of leaving after a bad experience
//! there (controlling for the customer's history and the trip's other bad experiences;
//! else the journey's trips with one against those without), the leaving rate after trips
//! without one, the bad experiences a year, the mean CLV — and ranked into the retention
//! budget's shopping list.

use std::collections::{BTreeMap, BTreeSet};

use cxray_core::initiatives::{Fix, ShoppingList, shopping_list, what_if};
use cxray_core::stats::{Estimate, odds_ratio};
use cxray_store::sql::Sql;
use cxray_store::{Result, StoreError};
use serde::Serialize;

use crate::journey::{self, DriverGroup, JourneyOptions, Touchpoint, leavers, touchpoint_of};

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
    /// The touchpoints priced with the journey's unadjusted odds ratio, the dropout model
    /// having none for them (all others: the model's).
    pub unadjusted: Vec<String>,
}

/// The dropout model's odds ratio of leaving after a bad experience at each touchpoint,
/// from the drivers of defection of everyone (`cxray drivers --outcome defection`).
pub fn dropout_odds(drivers: &[DriverGroup]) -> BTreeMap<String, Estimate> {
    let fit = drivers
        .iter()
        .find(|g| g.group.is_none())
        .and_then(|g| g.dropout.as_ref());
    fit.map(|f| {
        f.effects
            .iter()
            .filter_map(|e| Some((touchpoint_of(&e.name)?.to_string(), e.odds_ratio)))
            .collect()
    })
    .unwrap_or_default()
}

/// A touchpoint left out of the list, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Unpriced {
    pub touchpoint: String,
    pub reason: String,
}

/// Prices `proposal` on the journey map over `sql`, with the dropout model's odds ratios
/// (`odds`, by touchpoint; [`dropout_odds`]) where it has them. Unknown touchpoints (asked
/// for, or given a cost) are refused with the known ones.
pub async fn what_ifs(
    sql: &Sql,
    opts: &JourneyOptions,
    proposal: &Proposal,
    odds: &BTreeMap<String, Estimate>,
) -> Result<WhatIfs> {
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
    let mut unadjusted = Vec::new();
    for t in map.touchpoints.iter().filter(asked) {
        let cost = proposal.costs.get(&t.touchpoint).copied();
        let modelled = odds.get(&t.touchpoint).copied();
        match fix(t, (map.mean_clv, modelled), proposal.reduction, cost) {
            Ok(f) => {
                if modelled.is_none() {
                    unadjusted.push(t.touchpoint.clone());
                }
                fixes.push(what_if(&f).map_err(StoreError::analysis)?)
            }
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
        unadjusted,
    })
}

/// The fix at `t` with the model's odds ratio if there is one, or why it cannot be priced.
fn fix(
    t: &Touchpoint,
    (mean_clv, modelled): (Option<f64>, Option<Estimate>),
    reduction: f64,
    cost: Option<f64>,
) -> std::result::Result<Fix, String> {
    let clv = mean_clv.ok_or("customers are not valued yet (loyalty predict)")?;
    let (Some(bad), Some(ok)) = (&t.dropout_after_bad, &t.dropout_after_ok) else {
        return Err("no trips with and without a bad experience to compare".into());
    };
    let ratio = match modelled {
        Some(r) => r,
        None => {
            odds_ratio(leavers(bad), leavers(ok), &Default::default()).map_err(|e| e.to_string())?
        }
    };
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
