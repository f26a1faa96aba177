//! What a request asks of initiatives, as the API's JSON or a page's form sends it, each
//! value checked into the library's types; a refusal names its field.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use cxray_analysis::initiatives::{Outcome, Proposal, costs, reduction};
use cxray_core::initiatives::{Estimator, Initiative, Scope, Status};
use cxray_store::{Result, StoreError};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::cases::Amount;

/// The business case's horizon when the request does not say, in years.
pub const YEARS: f64 = 3.0;

/// Estimator names the API takes.
const ESTIMATORS: &str =
    "auto, difference_in_differences, staggered, synthetic_control, randomized_pilot";

/// Names as a JSON list or a comma-separated text (a form's).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Names {
    List(Vec<String>),
    Text(String),
}

impl Names {
    fn names(&self) -> Vec<String> {
        let list = match self {
            Names::List(l) => l.clone(),
            Names::Text(t) => t.split(',').map(str::to_string).collect(),
        };
        list.into_iter()
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .collect()
    }
}

/// A new initiative: `scope` as `column=value,value`, dates as YYYY-MM-DD, `starts` the
/// units whose start differs (a staggered roll-out), costs in the data's currency.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewInitiative {
    pub name: String,
    pub owner: Option<String>,
    pub scope: String,
    pub touchpoints: Option<Names>,
    pub start: String,
    pub starts: BTreeMap<String, String>,
    pub end: Option<String>,
    pub one_off_cost: Option<Amount>,
    pub running_cost: Option<Amount>,
    pub expected_effect: Option<Amount>,
    pub status: Option<String>,
    pub notes: Option<String>,
}

/// A change of an initiative: any of its status, end, notes and costs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Change {
    pub status: Option<String>,
    pub end: Option<String>,
    pub notes: Option<String>,
    pub one_off_cost: Option<Amount>,
    pub running_cost: Option<Amount>,
}

/// `?outcome=…&estimator=…&years=…` of an effect.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EffectAsked {
    pub outcome: Option<String>,
    pub estimator: Option<String>,
    pub years: Option<String>,
}

/// `?touchpoint=…&reduce_failures=…&cost=…` of a what-if: touchpoints comma-separated
/// (every touchpoint when none), the share of bad experiences removed as a percentage,
/// what a fix costs a year at touchpoints (`bag_drop=5000,security=2000`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct WhatIfAsked {
    pub touchpoint: Option<String>,
    pub reduce_failures: Option<String>,
    pub cost: Option<String>,
}

/// A text value that is empty counts as not given.
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn date(field: &'static str, text: &str) -> Result<NaiveDate> {
    text.trim()
        .parse()
        .map_err(|_| StoreError::invalid(field, format!("{field} '{text}': a date as YYYY-MM-DD")))
}

/// An amount given as a number or a text, if given.
fn amount(field: &'static str, a: &Option<Amount>) -> Result<Option<f64>> {
    match a {
        Some(Amount::Number(n)) => Ok(Some(*n)),
        Some(Amount::Text(t)) if !t.trim().is_empty() => {
            let n = t.trim().parse::<f64>();
            let bad = |_| StoreError::invalid(field, format!("{field} '{t}': not a number"));
            n.map(Some).map_err(bad)
        }
        _ => Ok(None),
    }
}

fn status(v: &Option<String>) -> Result<Option<Status>> {
    given(v)
        .map(str::parse::<Status>)
        .transpose()
        .map_err(|e| StoreError::invalid("status", e.to_string()))
}

/// One of the snake_case names of `T`, refused listing `expected`.
fn named<T: DeserializeOwned>(field: &'static str, text: &str, expected: &str) -> Result<T> {
    let value = serde_json::Value::String(text.trim().to_ascii_lowercase());
    serde_json::from_value(value)
        .map_err(|_| StoreError::invalid(field, format!("{field} '{text}': one of {expected}")))
}

/// The outcome named `text`, refused listing the names.
fn outcome(text: &str) -> Result<Outcome> {
    let all = Outcome::ALL.iter();
    all.clone()
        .find(|o| o.name().eq_ignore_ascii_case(text))
        .copied()
        .ok_or_else(|| {
            let names: Vec<&str> = all.map(|o| o.name()).collect();
            let message = format!("outcome '{text}': one of {}", names.join(", "));
            StoreError::invalid("outcome", message)
        })
}

/// `i` when its fields are right, else a refusal naming the field.
fn checked(i: Initiative) -> Result<Initiative> {
    i.check()
        .map_err(|e| StoreError::invalid(e.field(), e.to_string()))?;
    Ok(i)
}

impl NewInitiative {
    /// The initiative, each field checked that needs no data.
    pub fn initiative(&self) -> Result<Initiative> {
        let touchpoints = self
            .touchpoints
            .as_ref()
            .map_or_else(Vec::new, Names::names);
        let scope = Scope::parse(&self.scope, touchpoints)
            .map_err(|e| StoreError::invalid("scope", e.to_string()))?;
        let mut starts = BTreeMap::new();
        for (unit, day) in &self.starts {
            starts.insert(unit.trim().to_string(), date("starts", day)?);
        }
        checked(Initiative {
            owner: given(&self.owner).map(str::to_string),
            starts,
            end: given(&self.end).map(|e| date("end", e)).transpose()?,
            one_off_cost: amount("one_off_cost", &self.one_off_cost)?.unwrap_or(0.0),
            running_cost: amount("running_cost", &self.running_cost)?.unwrap_or(0.0),
            expected_effect: amount("expected_effect", &self.expected_effect)?,
            status: status(&self.status)?.unwrap_or(Status::Running),
            notes: self.notes.clone().unwrap_or_default(),
            ..Initiative::new(self.name.trim(), scope, date("start", &self.start)?)
        })
    }
}

impl Change {
    /// `i` with the fields given changed (an empty end leaves it as it is).
    pub fn apply(&self, mut i: Initiative) -> Result<Initiative> {
        i.status = status(&self.status)?.unwrap_or(i.status);
        if let Some(end) = given(&self.end) {
            i.end = Some(date("end", end)?);
        }
        if let Some(notes) = &self.notes {
            i.notes = notes.clone();
        }
        i.one_off_cost = amount("one_off_cost", &self.one_off_cost)?.unwrap_or(i.one_off_cost);
        i.running_cost = amount("running_cost", &self.running_cost)?.unwrap_or(i.running_cost);
        checked(i)
    }
}

impl EffectAsked {
    /// The outcome (the failure rate when not given), the estimator (`None`: chosen from
    /// the design) and the horizon in years (more than 0, at most 50).
    pub fn checked(&self) -> Result<(Outcome, Option<Estimator>, f64)> {
        let outcome = given(&self.outcome).map(outcome).transpose()?;
        let estimator = match given(&self.estimator) {
            None => None,
            Some(e) if e.eq_ignore_ascii_case("auto") => None,
            Some(e) => Some(named("estimator", e, ESTIMATORS)?),
        };
        let years = match given(&self.years) {
            None => YEARS,
            Some(y) => match y.parse::<f64>() {
                Ok(y) if y > 0.0 && y <= 50.0 => y,
                _ => {
                    let message = format!("years '{y}': a number more than 0, at most 50");
                    return Err(StoreError::invalid("years", message));
                }
            },
        };
        Ok((outcome.unwrap_or(Outcome::FailureRate), estimator, years))
    }

    /// The outcome as asked, for forms.
    pub fn outcome_text(&self) -> &str {
        given(&self.outcome).unwrap_or("failure_rate")
    }
}

impl WhatIfAsked {
    /// The proposal: the reduction (30% when not given) at the touchpoints named, with
    /// the costs given.
    pub fn proposal(&self) -> Result<Proposal> {
        let touchpoints = self
            .touchpoint
            .as_ref()
            .map_or_else(Vec::new, |t| Names::Text(t.clone()).names());
        Ok(Proposal {
            reduction: reduction(given(&self.reduce_failures).unwrap_or("30%"))?,
            touchpoints,
            costs: costs(
                given(&self.cost)
                    .unwrap_or_default()
                    .split(',')
                    .filter(|c| !c.trim().is_empty()),
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_listed_is_taken() {
        for o in Outcome::ALL {
            assert_eq!(outcome(o.name()).unwrap(), o);
        }
        for e in ESTIMATORS.split(", ").skip(1) {
            assert!(
                named::<Estimator>("estimator", e, ESTIMATORS).is_ok(),
                "{e}"
            );
        }
        let bad = EffectAsked {
            estimator: Some("magic".into()),
            ..EffectAsked::default()
        };
        assert!(matches!(
            bad.checked(),
            Err(StoreError::Invalid {
                field: "estimator",
                ..
            })
        ));
    }
}
