//! The outer loop: the root causes of follow-up cases counted and priced, so a systemic
//! cause goes to an owner. A cause counts its own cases and those of the causes below it;
//! its price is the lifetime value (`customer_value`'s CLV) of the distinct customers
//! behind those cases: what the company keeps if it keeps them.

use std::collections::{BTreeMap, BTreeSet};

use cxray_core::cases::RootCause;
use cxray_store::Result;
use cxray_store::cases::Case;
use cxray_store::sql::Sql;
use serde::Serialize;

use super::effect::{clv, customer_ids};
use crate::journey::currency;

/// One root cause with its cases and what their customers are worth.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CauseCost {
    pub cause: RootCause,
    /// Cases naming it or a cause below it.
    pub cases: u64,
    /// Their customers, each once.
    pub customers: u64,
    /// Of them, those `customer_value` values.
    pub valued: u64,
    /// The valued customers' summed CLV; none when customers are not valued.
    pub clv: Option<f64>,
}

/// Every root cause named by a case (and the causes above it), the costliest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CauseCosts {
    pub currency: Option<String>,
    pub causes: Vec<CauseCost>,
}

/// The root causes of `cases` counted and priced.
pub async fn cause_costs(sql: &Sql, cases: &[Case]) -> Result<CauseCosts> {
    let named: Vec<&Case> = cases.iter().filter(|c| c.root_cause.is_some()).collect();
    let mut behind: BTreeMap<RootCause, (u64, BTreeSet<&str>)> = BTreeMap::new();
    for c in &named {
        let cause = c.root_cause.as_ref().expect("named");
        for level in cause.ancestors().into_iter().chain([cause.clone()]) {
            let entry = behind.entry(level).or_default();
            entry.0 += 1;
            entry.1.insert(c.customer_id.as_str());
        }
    }
    let owned: Vec<Case> = named.into_iter().cloned().collect();
    let values = match owned.is_empty() {
        true => Default::default(),
        false => clv(sql, &customer_ids(sql, &owned)?).await?,
    };
    let mut causes: Vec<CauseCost> = behind
        .into_iter()
        .map(|(cause, (cases, customers))| {
            let known: Vec<f64> = customers
                .iter()
                .filter_map(|c| values.get(*c).copied())
                .collect();
            CauseCost {
                cause,
                cases,
                customers: customers.len() as u64,
                valued: known.len() as u64,
                clv: (!values.is_empty()).then(|| known.iter().sum()),
            }
        })
        .collect();
    causes.sort_by(|a, b| {
        let money = |c: &CauseCost| c.clv.unwrap_or(0.0);
        money(b)
            .total_cmp(&money(a))
            .then(b.cases.cmp(&a.cases))
            .then(a.cause.cmp(&b.cause))
    });
    Ok(CauseCosts {
        currency: currency(sql).await?,
        causes,
    })
}
