//! Cases that were opened and worked in the past, recorded at once: the demo world's
//! follow-up programme, whose history the simulation wrote.

use crate::db::{Tx, params};
use chrono::{DateTime, Utc};
use cxray_core::cases::{Arm, CaseStatus, Outcome, OutcomeKind};

use super::Rule;
use super::open::{Candidate, Opened, Opening, has_case, insert};
use crate::ops::{OpsDb, audit, stored};
use crate::{Result, StoreError};

/// A case opened at its event's time, and worked as far as it got.
#[derive(Debug, Clone, PartialEq)]
pub struct PastCase {
    /// The source event; the case opens at its time.
    pub event: Candidate,
    /// The arm the case must get from the holdout draw.
    pub arm: Arm,
    pub contacted_at: Option<DateTime<Utc>>,
    /// When it was resolved, or closed (an outcome of no contact).
    pub done_at: Option<DateTime<Utc>>,
    /// Recorded when it was done.
    pub outcome: Option<Outcome>,
}

impl OpsDb {
    /// Records the rule's past cases in one transaction, each as [`OpsDb::open_cases`]
    /// would have opened it at its event's time (routing, deadlines from the owners'
    /// `sla_hours`, the keyed holdout draw) and then contacted, resolved or closed at the
    /// times given, each change in its history under `at.actor`; no one is notified (it
    /// happened before), and the rule's cooldown is the caller's. An event that has its
    /// case already opens none. A case whose draw is not the arm given is refused and
    /// nothing is recorded. The rule's watermark moves to `watermark`; audited once.
    pub fn record_past_cases(
        &self,
        at: &Opening,
        rule: &Rule,
        cases: &[PastCase],
        watermark: Option<u64>,
    ) -> Result<Opened> {
        let tx = self.conn().write()?;
        let business = super::hours::business_hours(&tx)?;
        let mut done = Opened::default();
        for case in cases {
            done.events += 1;
            let event = &case.event;
            if has_case(&tx, rule.id, &event.key)? {
                done.known += 1;
                continue;
            }
            let opening = Opening {
                now: event.at,
                ..*at
            };
            let (id, arm) = insert(&tx, (&opening, business.as_ref()), rule, event, false)?;
            if arm != case.arm {
                return Err(StoreError::Input(format!(
                    "rule {} '{}': the holdout draw put customer {}'s case in the {} arm, not {}",
                    rule.id,
                    rule.name,
                    event.customer_id,
                    arm.name(),
                    case.arm.name()
                )));
            }
            work(&tx, (id, at.actor), case)?;
            done.opened += 1;
            done.held_out += usize::from(arm == Arm::Holdout);
            done.unrouted += usize::from(event.owner.is_none() && rule.fallback_owner.is_none());
        }
        if let Some(v) = watermark {
            tx.execute(
                "UPDATE case_rules SET watermark = ?2 WHERE id = ?1 AND COALESCE(watermark, -1) < ?2",
                params![rule.id, v as i64],
            )?;
        }
        let detail = format!(
            "rule {} '{}': {} past cases recorded ({} held out)",
            rule.id, rule.name, done.opened, done.held_out
        );
        audit(&tx, at.actor, "record_past_cases", &detail)?;
        tx.commit()?;
        Ok(done)
    }

    /// Deletes the rule's cases with their histories, events and messages (a demo world
    /// rebuilt: its cases belong to the world replaced); returns how many.
    pub fn clear_rule_cases(&self, actor: &str, rule: &Rule) -> Result<usize> {
        let tx = self.conn().write()?;
        for table in ["case_history", "case_events", "outbox"] {
            tx.execute(
                &format!(
                    "DELETE FROM {table} WHERE case_id IN (SELECT id FROM cases WHERE rule_id = ?1)"
                ),
                params![rule.id],
            )?;
        }
        let removed = tx.execute("DELETE FROM cases WHERE rule_id = ?1", params![rule.id])?;
        let detail = format!("rule {} '{}': {removed} cases", rule.id, rule.name);
        audit(&tx, actor, "clear_rule_cases", &detail)?;
        tx.commit()?;
        Ok(removed)
    }
}

/// The case's contact and its end, with their history entries.
fn work(tx: &Tx, (id, actor): (i64, &str), case: &PastCase) -> Result<()> {
    let mut status = CaseStatus::Open;
    let history = |at: DateTime<Utc>, change: String| -> Result<()> {
        tx.prepare_cached(
            "INSERT INTO case_history (case_id, at, actor, change) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![id, stored(at), actor, change])?;
        Ok(())
    };
    if let Some(t) = case.contacted_at {
        history(t, format!("status {status} → {}", CaseStatus::Contacted))?;
        status = CaseStatus::Contacted;
    }
    if let Some(t) = case.done_at {
        let reached = case
            .outcome
            .is_some_and(|o| o.kind != OutcomeKind::NoContact);
        let to = match reached {
            true => CaseStatus::Resolved,
            false => CaseStatus::Closed,
        };
        let mut change = format!("status {status} → {to}");
        if let Some(o) = case.outcome {
            change.push_str(&format!("; outcome {}", o.label()));
        }
        history(t, change)?;
        status = to;
    }
    let last = case.done_at.or(case.contacted_at);
    if let Some(updated) = last {
        tx.prepare_cached(
            "UPDATE cases SET status = ?2, contacted_at = ?3, done_at = ?4, outcome = ?5,
                outcome_amount = ?6, updated_at = ?7
             WHERE id = ?1",
        )?
        .execute(params![
            id,
            status.name(),
            case.contacted_at.map(stored),
            case.done_at.map(stored),
            case.outcome.map(|o| o.kind.name()),
            case.outcome.and_then(|o| o.amount),
            stored(updated)
        ])?;
    }
    Ok(())
}
