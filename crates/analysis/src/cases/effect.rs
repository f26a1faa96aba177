//! `cases effect`: the followed-up and held-out cases compared by intention to treat over
//! windows after their opening — overall, per rule, per owner and per outcome — from the
//! cases in the operational database and the customers' purchases around them
//! ([`windows`](super::windows)), by the core's statistics ([`cxray_core::cases::effect`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use cxray_core::cases::effect::{CaseWindow, Effect, EffectSettings, effect};
use cxray_core::cases::{Arm, OutcomeKind};
use cxray_core::stats::StatsError;
use cxray_store::cases::{Case, CaseFilter};
use cxray_store::datafusion::arrow::array::{RecordBatch, StringArray};
use cxray_store::datafusion::arrow::datatypes::{DataType, Field, Schema};
use cxray_store::datafusion::prelude::DataFrame;
use cxray_store::ops::OpsDb;
use cxray_store::sql::Sql;
use cxray_store::{Result, StoreError};
use serde::Serialize;

use super::valuations::{Valuations, per_customer};
use super::windows::{self, Opened, Sums};
use crate::journey::{currency, owner_info};
use crate::loyalty::{CUSTOMER_VALUE, epoch_date, epoch_day, last_purchase_date};

/// The longest window, in days.
pub const MAX_WINDOW_DAYS: u32 = 3650;

/// What to compare: one rule's cases or all, over which windows (days), how.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectQuery {
    pub rule: Option<i64>,
    pub windows: Vec<u32>,
    pub settings: EffectSettings,
}

/// The comparison over every window asked for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EffectReport {
    /// The day of the latest purchase: windows ending after it have not ended.
    pub as_of: Option<NaiveDate>,
    pub currency: Option<String>,
    /// Cases of the rules compared, both arms.
    pub cases: u64,
    pub windows: Vec<WindowEffect>,
}

/// The comparison over one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowEffect {
    pub days: u32,
    /// Cases left out because their window ends after [`EffectReport::as_of`].
    pub not_ended: u64,
    pub overall: Group,
    pub rules: Vec<Group>,
    pub owners: Vec<Group>,
    /// Followed-up cases by outcome, each against every held-out case: not randomised.
    pub outcomes: Vec<Group>,
}

/// The comparison within a group of cases.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// The rule's id, the owner's id, the outcome's name; empty for none.
    pub id: String,
    pub label: String,
    /// Whether the arms were drawn at random (not so for outcomes).
    pub randomised: bool,
    pub follow_up: u64,
    pub holdout: u64,
    /// None while an arm is empty.
    pub effect: Option<Effect>,
}

/// The windows given, checked: whole days from 1 to [`MAX_WINDOW_DAYS`], at least one,
/// none twice.
pub fn check_windows(windows: &[u32]) -> Result<()> {
    let bad = |m: String| Err(StoreError::invalid("window", m));
    if windows.is_empty() {
        return bad("give at least one window in days".into());
    }
    if let Some(w) = windows.iter().find(|w| !(1..=MAX_WINDOW_DAYS).contains(*w)) {
        return bad(format!("{w} days: a window is 1 to {MAX_WINDOW_DAYS} days"));
    }
    let mut sorted = windows.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    match sorted.len() == windows.len() {
        true => Ok(()),
        false => bad("a window is given twice".into()),
    }
}

/// Compares the arms of the cases `query` selects, per window.
pub async fn effect_report(sql: &Sql, ops: &OpsDb, query: &EffectQuery) -> Result<EffectReport> {
    check_windows(&query.windows)?;
    let filter = CaseFilter {
        rule: query.rule,
        ..CaseFilter::default()
    };
    let cases = ops.cases(&filter, Utc::now())?;
    let opened = cases.iter().map(opened).collect::<Result<Vec<_>>>()?;
    let as_of = match last_purchase_date(sql).await {
        Ok(day) => Some(day),
        Err(StoreError::NoData(_)) => None,
        Err(e) => return Err(e),
    };
    let sums = windows::sums(sql, &opened, &query.windows).await?;
    let ids = customer_ids(sql, &cases)?;
    let known = Known {
        clv: clv(sql, &ids).await?,
        valuations: Valuations::load(sql, &ids).await?,
    };
    let names = Names {
        owners: owner_info(sql)
            .await?
            .into_iter()
            .map(|(id, (name, _))| (id, name))
            .collect(),
    };
    let mut out = Vec::new();
    for (i, &days) in query.windows.iter().enumerate() {
        let ended = |o: &Opened| as_of.is_some_and(|d| o.day + i64::from(days) <= epoch_day(d));
        let rows: Vec<(&Case, CaseWindow)> = cases
            .iter()
            .zip(&opened)
            .filter(|(_, o)| ended(o))
            .map(|(c, o)| {
                let sums = sums.get(&o.id).map(|s| s[i]).unwrap_or_default();
                (c, window(c, o.day, days, sums, &known))
            })
            .collect();
        let not_ended = (cases.len() - rows.len()) as u64;
        out.push(groups((days, not_ended), &rows, &names, &query.settings)?);
    }
    Ok(EffectReport {
        as_of,
        currency: currency(sql).await?,
        cases: cases.len() as u64,
        windows: out,
    })
}

fn opened(c: &Case) -> Result<Opened> {
    let at = DateTime::parse_from_rfc3339(&c.opened_at)
        .map_err(|e| StoreError::Decode(format!("case {}: opened at: {e}", c.id)))?;
    Ok(Opened {
        id: c.id,
        customer: c.customer_id.clone(),
        day: epoch_day(at.with_timezone(&Utc).date_naive()),
    })
}

/// What is known of the cases' customers besides their purchases.
struct Known {
    clv: HashMap<String, f64>,
    valuations: Valuations,
}

/// The case over the window of `days` after its opening `day` (days since 1970).
fn window(c: &Case, day: i64, days: u32, s: Sums, known: &Known) -> CaseWindow {
    let (from, to) = (epoch_date(day), epoch_date(day + i64::from(days)));
    CaseWindow {
        arm: c.arm,
        pre_purchases: s.pre_purchases,
        pre_spend: s.pre_spend,
        purchases: s.purchases,
        spend: s.spend,
        p_alive_change: known.valuations.change(&c.customer_id, from, to),
        clv: known.clv.get(&c.customer_id).copied(),
        compensation: c.outcome.and_then(|o| o.amount).unwrap_or(0.0),
    }
}

/// The cases' customers, each once, as a frame with `customer_id`.
pub(super) fn customer_ids(sql: &Sql, cases: &[Case]) -> Result<DataFrame> {
    let mut ids: Vec<&str> = cases.iter().map(|c| c.customer_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let schema = Schema::new(vec![Field::new("customer_id", DataType::Utf8, false)]);
    let batch = RecordBatch::try_new(
        Arc::new(schema),
        vec![Arc::new(StringArray::from_iter_values(ids))],
    )?;
    Ok(sql.context().read_batch(batch)?)
}

/// The lifetime values of the customers in `ids`, where `customer_value` exists.
pub(super) async fn clv(sql: &Sql, ids: &DataFrame) -> Result<HashMap<String, f64>> {
    if sql.made_by(CUSTOMER_VALUE).is_none() {
        return Ok(HashMap::new());
    }
    let values = sql.context().table(CUSTOMER_VALUE).await?;
    per_customer(values, "clv", ids.clone()).await
}

/// Names for people.
struct Names {
    owners: BTreeMap<String, String>,
}

/// The groups of one window's cases (with the window's days and the cases left out).
fn groups(
    (days, not_ended): (u32, u64),
    rows: &[(&Case, CaseWindow)],
    names: &Names,
    s: &EffectSettings,
) -> Result<WindowEffect> {
    let all: Vec<CaseWindow> = rows.iter().map(|(_, w)| *w).collect();
    let by = |key: &dyn Fn(&Case) -> (String, String)| {
        let mut split: BTreeMap<(String, String), Vec<CaseWindow>> = BTreeMap::new();
        for (c, w) in rows {
            split.entry(key(c)).or_default().push(*w);
        }
        split
            .into_iter()
            .map(|((id, label), cases)| group(id, label, true, &cases, s))
            .collect::<Result<Vec<_>>>()
    };
    let rules = by(&|c| (c.rule_id.to_string(), c.rule.clone()))?;
    let owners = by(&|c| match &c.owner {
        Some(o) => (o.clone(), names.owners.get(o).unwrap_or(o).clone()),
        None => (String::new(), "No owner".into()),
    })?;
    Ok(WindowEffect {
        days,
        not_ended,
        overall: group(String::new(), "All cases".into(), true, &all, s)?,
        rules,
        owners,
        outcomes: outcomes(rows, s)?,
    })
}

/// Per outcome (and none recorded): its followed-up cases against every held-out case.
fn outcomes(rows: &[(&Case, CaseWindow)], s: &EffectSettings) -> Result<Vec<Group>> {
    let held: Vec<CaseWindow> = rows
        .iter()
        .filter(|(c, _)| c.arm == Arm::Holdout)
        .map(|(_, w)| *w)
        .collect();
    let kinds = OutcomeKind::ALL.iter().copied().map(Some).chain([None]);
    let mut out = Vec::new();
    for kind in kinds {
        let mut cases: Vec<CaseWindow> = rows
            .iter()
            .filter(|(c, _)| c.arm == Arm::FollowUp && c.outcome.map(|o| o.kind) == kind)
            .map(|(_, w)| *w)
            .collect();
        if cases.is_empty() {
            continue;
        }
        cases.extend_from_slice(&held);
        let (id, label) = match kind {
            Some(k) => (k.name().to_string(), k.label().to_string()),
            None => (String::new(), "No outcome recorded".into()),
        };
        out.push(group(id, label, false, &cases, s)?);
    }
    Ok(out)
}

fn group(
    id: String,
    label: String,
    randomised: bool,
    cases: &[CaseWindow],
    s: &EffectSettings,
) -> Result<Group> {
    let holdout = cases.iter().filter(|c| c.arm == Arm::Holdout).count() as u64;
    let effect = match effect(cases, s) {
        Ok(e) => Some(e),
        Err(StatsError::NoData) => None,
        Err(e) => return Err(StoreError::analysis(e)),
    };
    Ok(Group {
        id,
        label,
        randomised,
        follow_up: cases.len() as u64 - holdout,
        holdout,
        effect,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_whole_days_within_ten_years_each_once() {
        assert!(check_windows(&[90, 180]).is_ok());
        assert!(check_windows(&[1, MAX_WINDOW_DAYS]).is_ok());
        for bad in [&[][..], &[0], &[MAX_WINDOW_DAYS + 1], &[90, 30, 90]] {
            let e = check_windows(bad).unwrap_err();
            assert!(
                matches!(
                    e,
                    StoreError::Invalid {
                        field: "window",
                        ..
                    }
                ),
                "{e}"
            );
        }
    }
}
