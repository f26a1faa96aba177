//! The closed loop in the operational database: rules that open follow-up cases
//! ([`rules`]), cases opened from the source events the analysis layer finds — at most one
//! per rule and event, none for a customer in the rule's cooldown, routed to an owner with
//! deadlines, some held out ([`open`]) — and the work on them: status, assignee, notes,
//! root cause, outcome ([`work`]), cases worked in the past recorded at once (the demo's, [`past`]), listed by filters ([`list`]) and counted by month and owner ([`months`]); overdue cases noticed and
//! escalated ([`escalate`]); the events people are told about ([`notify`]). Rules and changes are
//! checked against the data first ([`check`]). Every change is audited, without customer
//! ids: the audit log outlives an erasure, cases do not ([`OpsDb::forget_cases`]).

pub mod check;
mod escalate;
mod hours;
mod list;
mod months;
mod notify;
mod open;
mod past;
mod rules;
mod work;

/// The tests, on each backend of the operational database.
#[cfg(test)]
mod tests {
    crate::on_each_backend!("cases/tests.rs");
}

use chrono::{DateTime, Utc};
use cxray_core::cases::{
    Arm, CaseStatus, CustomerCondition, HoldoutShare, Outcome, RootCause, Trigger,
};
use serde::Serialize;

pub use escalate::Escalated;
pub use list::{CaseFilter, OwnerCases};
pub use months::CaseMonth;
pub use notify::Waiting;
pub use open::{Candidate, Opened, Opening, RuleEvents};
pub use past::PastCase;
pub use work::{CaseUpdate, HistoryEntry};

/// A rule as it is added.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRule {
    pub name: String,
    pub trigger: Trigger,
    /// Only customers meeting every condition.
    pub customers: Vec<CustomerCondition>,
    /// Only customers whose CLV (latest valuation) is above this percentile (0–100).
    pub clv_percentile: Option<f64>,
    /// The owner of cases whose touchpoint has none.
    pub fallback_owner: Option<String>,
    /// No second case from the rule for a customer within this many days.
    pub cooldown_days: u32,
    pub holdout: HoldoutShare,
    /// Only events from this time on.
    pub since: Option<DateTime<Utc>>,
    /// The source table's version whose events the rule leaves alone (its events before
    /// the rule existed); none to evaluate every event (from `since`).
    pub watermark: Option<u64>,
}

impl NewRule {
    /// The watermark of a new rule on `trigger`: with `since`, none (the events already
    /// there from that day on are evaluated too); else the source table's version in
    /// `sql`, or for a rule on behaviour the latest valuation's (it watches what arrives
    /// from now on).
    pub async fn starting_watermark(
        sql: &crate::sql::Sql,
        trigger: &Trigger,
        since: Option<DateTime<Utc>>,
    ) -> crate::Result<Option<u64>> {
        if since.is_some() {
            return Ok(None);
        }
        Ok(match trigger.table() {
            Some(table) => sql.versions().get(&table).copied(),
            None => {
                let history = sql.derived_history(crate::tables::CUSTOMER_VALUE).await?;
                history.last().map(|(version, _)| *version)
            }
        })
    }
}

/// A rule as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    pub id: i64,
    pub name: String,
    pub trigger: Trigger,
    /// The trigger for people.
    pub label: String,
    pub customers: Vec<CustomerCondition>,
    pub clv_percentile: Option<f64>,
    pub fallback_owner: Option<String>,
    pub cooldown_days: u32,
    pub holdout: HoldoutShare,
    pub since: Option<DateTime<Utc>>,
    pub enabled: bool,
    /// The source table's version evaluated last (none: not yet).
    pub watermark: Option<u64>,
    pub created_by: String,
    pub created_at: String,
}

/// A case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Case {
    pub id: i64,
    pub rule_id: i64,
    pub rule: String,
    pub customer_id: String,
    /// When the source event happened.
    pub event_at: String,
    pub touchpoint: Option<String>,
    /// What happened: the answer, the experience.
    pub detail: String,
    pub owner: Option<String>,
    pub arm: Arm,
    pub status: CaseStatus,
    pub assignee: Option<String>,
    pub root_cause: Option<RootCause>,
    pub outcome: Option<Outcome>,
    pub opened_at: String,
    pub contact_by: String,
    pub resolve_by: String,
    pub contacted_at: Option<String>,
    /// When it was resolved or closed.
    pub done_at: Option<String>,
    /// Past a deadline: not contacted by `contact_by` or not done by `resolve_by`
    /// (cases followed up only).
    pub overdue: bool,
}
