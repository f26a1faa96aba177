//! Overdue cases noticed and escalated: a followed-up case past a deadline is marked
//! overdue once per deadline it missed, then escalated — to its owner's lead, then to
//! the administrators ([`Lateness::escalations`]) — each level once. Each step is in the
//! case's history and the audit log and is notified ([`super::notify`]).

use crate::db::{Tx, params};
use chrono::{DateTime, Utc};
use cxray_core::cases::{CaseEvent, CaseStatus, Escalation, Lateness};
use serde::Serialize;

use super::notify::record;
use crate::Result;
use crate::ops::{OpsDb, audit, parse_column, parse_optional, stored};

/// What an escalation round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Escalated {
    /// Cases newly overdue.
    pub overdue: usize,
    /// Escalation steps taken (a case may take two at once).
    pub escalated: usize,
}

/// A late case as stored: its deadlines and how far it was noticed.
struct Late {
    id: i64,
    lateness: Lateness,
    noticed: Option<String>,
    escalation: Option<Escalation>,
}

impl OpsDb {
    /// Notices the followed-up cases that are overdue at `now` and escalates those due,
    /// on behalf of `actor`, a batch of cases per transaction so that the write lock is
    /// never held long: each batch reads its cases' state in the transaction that changes
    /// it, so a case takes each step once however many servers run the round.
    pub fn escalate(&self, actor: &str, now: DateTime<Utc>) -> Result<Escalated> {
        let mut done = Escalated::default();
        let mut after = 0;
        loop {
            let tx = self.conn().write()?;
            let batch = late_cases(&tx, now, after)?;
            let Some(last) = batch.last().map(|l| l.id) else {
                return Ok(done);
            };
            for late in batch {
                escalate_case(&tx, actor, &late, now, &mut done)?;
            }
            tx.commit()?;
            after = last;
        }
    }
}

/// Marks one late case overdue and escalates it as far as is due at `now`.
fn escalate_case(
    tx: &Tx,
    actor: &str,
    late: &Late,
    now: DateTime<Utc>,
    done: &mut Escalated,
) -> Result<()> {
    let Some(since) = late.lateness.late_since(now) else {
        return Ok(());
    };
    if late.noticed.as_deref() != Some(stored(since).as_str()) {
        let missed = match since == late.lateness.contact_by {
            true => "not contacted",
            false => "not done",
        };
        let change = format!("overdue: {missed} by {}", stored(since));
        step(
            tx,
            (actor, late.id, &change),
            (CaseEvent::Overdue, None),
            now,
        )?;
        tx.execute(
            "UPDATE cases SET late_since = ?2 WHERE id = ?1",
            params![late.id, stored(since)],
        )?;
        done.overdue += 1;
    }
    for level in late.lateness.escalations(now) {
        if late.escalation.is_some_and(|e| e >= level) {
            continue;
        }
        let change = format!("escalated to {}", level.label());
        step(
            tx,
            (actor, late.id, &change),
            (CaseEvent::Escalated, Some(level)),
            now,
        )?;
        tx.execute(
            "UPDATE cases SET escalation = ?2 WHERE id = ?1",
            params![late.id, level.name()],
        )?;
        done.escalated += 1;
    }
    Ok(())
}

/// Cases an escalation transaction takes at most.
const BATCH: i64 = 200;

/// The next batch of followed-up cases not done with a deadline before `now`, by id
/// after `after`.
fn late_cases(tx: &Tx, now: DateTime<Utc>, after: i64) -> Result<Vec<Late>> {
    let mut stmt = tx.prepare(
        "SELECT id, status, opened_at, contact_by, resolve_by, late_since, escalation FROM cases
         WHERE arm = 'follow_up' AND status IN ('open', 'contacted')
           AND (contact_by < ?1 OR resolve_by < ?1) AND id > ?2
         ORDER BY id LIMIT ?3",
    )?;
    let time = |r: &crate::db::Row, i| parse_column(r, i, str::parse::<DateTime<Utc>>);
    let rows = stmt.query_map(params![stored(now), after, BATCH], |r| {
        Ok(Late {
            id: r.get(0)?,
            lateness: Lateness {
                status: parse_column(r, 1, str::parse::<CaseStatus>)?,
                opened: time(r, 2)?,
                contact_by: time(r, 3)?,
                resolve_by: time(r, 4)?,
            },
            noticed: r.get(5)?,
            escalation: parse_optional(r, 6, str::parse::<Escalation>)?,
        })
    })?;
    Ok(rows.collect::<crate::db::DbResult<_>>()?)
}

/// One step of a case: its history entry, the audit entry (naming no customer) and the
/// event to notify.
fn step(
    tx: &Tx,
    (actor, id, change): (&str, i64, &str),
    event: (CaseEvent, Option<Escalation>),
    now: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO case_history (case_id, at, actor, change) VALUES (?1, ?2, ?3, ?4)",
        params![id, stored(now), actor, change],
    )?;
    let action = match event.0 {
        CaseEvent::Overdue => "case_overdue",
        _ => "escalate_case",
    };
    audit(tx, actor, action, &format!("case {id}: {change}"))?;
    record(tx, id, event, now)
}
