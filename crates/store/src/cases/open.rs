//! Opening cases from the source events a rule matched.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::db::{OptionalExtension, Tx, params};
use chrono::{DateTime, Duration, Utc};
use cxray_core::access::PseudonymKey;
use cxray_core::cases::hours::BusinessHours;
use cxray_core::cases::{Arm, CaseEvent, CaseStatus, Deadlines, Draw};
use serde::Serialize;

use super::Rule;
use super::notify::record;
use crate::Result;
use crate::ops::{OpsDb, audit, stored};

/// A source event a rule matched.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The event's key ([`cxray_core::cases::event_key`]).
    pub key: String,
    pub customer_id: String,
    pub at: DateTime<Utc>,
    pub touchpoint: Option<String>,
    /// What happened, for the case: the answer, the experience.
    pub detail: String,
    /// The touchpoint's owner, if it has one.
    pub owner: Option<String>,
}

/// Who opens cases when, with what the routing needs: the owners' `sla_hours` and the
/// holdout's key.
#[derive(Debug, Clone, Copy)]
pub struct Opening<'a> {
    pub actor: &'a str,
    pub sla_hours: &'a BTreeMap<String, f64>,
    pub key: &'a PseudonymKey,
    pub now: DateTime<Utc>,
}

/// What opening a rule's cases did with its events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Opened {
    /// Source events the rule matched.
    pub events: usize,
    /// Cases opened, those held out included.
    pub opened: usize,
    pub held_out: usize,
    /// Opened without an owner: the touchpoint has none and the rule no fallback.
    pub unrouted: usize,
    /// Events that had opened their case before (of customers not in the cooldown).
    pub known: usize,
    /// Events of customers with a case from the rule within its cooldown.
    pub cooling_down: usize,
}

/// What one rule's scan found: the events it matched, and the source table's version
/// they were read to (the rule's new watermark).
#[derive(Debug, Clone, Copy)]
pub struct RuleEvents<'a> {
    pub rule: &'a Rule,
    pub candidates: &'a [Candidate],
    pub watermark: Option<u64>,
}

impl OpsDb {
    /// Opens the rule's cases for the candidates and moves its watermark: [`Self::open_cases_of`]
    /// for one rule.
    pub fn open_cases(
        &self,
        at: &Opening,
        rule: &Rule,
        candidates: &[Candidate],
        watermark: Option<u64>,
    ) -> Result<Opened> {
        let found = RuleEvents {
            rule,
            candidates,
            watermark,
        };
        Ok(self.open_cases_of(at, &[found])?[0])
    }

    /// Opens each rule's cases for its candidates, earliest event first, and moves each
    /// rule's watermark, all in one transaction: an event that opened its case before
    /// (same rule and key) opens none, nor does one of a customer who got a case from the
    /// rule within its cooldown. A case goes to the touchpoint's owner, else the rule's
    /// fallback; its deadlines follow the owner's `sla_hours`; the keyed holdout draw
    /// decides its arm; a followed-up case's opening is an event to notify
    /// ([`super::notify`]). A rule disabled meanwhile opens nothing. Audited per rule
    /// that opened any. What each rule's events did, in the order given.
    pub fn open_cases_of(&self, at: &Opening, rules: &[RuleEvents]) -> Result<Vec<Opened>> {
        // Under the write lock from the start, so that of two scans at once the second
        // finds the first's cases instead of failing on a stale snapshot.
        let tx = self.conn().write()?;
        let business = super::hours::business_hours(&tx)?;
        let done = rules
            .iter()
            .map(|found| open_rule_cases(&tx, (at, business.as_ref()), found))
            .collect::<Result<_>>()?;
        tx.commit()?;
        Ok(done)
    }

    /// The customers who got a case from the rule within its cooldown before `now`: their
    /// events open none (read once per scan, so their events need not be looked at).
    pub fn cooling_customers(&self, rule: &Rule, now: DateTime<Utc>) -> Result<HashSet<String>> {
        let Some(since) = cooldown_start(rule, now) else {
            return Ok(HashSet::new());
        };
        let mut statement = self.conn().prepare_cached(
            "SELECT DISTINCT customer_id FROM cases WHERE rule_id = ?1 AND opened_at > ?2",
        )?;
        let rows = statement.query_map(params![rule.id, stored(since)], |r| r.get(0))?;
        Ok(rows.collect::<crate::db::DbResult<_>>()?)
    }
}

/// Opens one rule's cases in the transaction ([`OpsDb::open_cases_of`]).
fn open_rule_cases(
    tx: &Tx,
    (at, business): (&Opening, Option<&BusinessHours>),
    found: &RuleEvents,
) -> Result<Opened> {
    let rule = found.rule;
    let enabled: bool = tx.query_row(
        "SELECT enabled FROM case_rules WHERE id = ?1",
        params![rule.id],
        |r| r.get(0),
    )?;
    let mut done = Opened::default();
    if !enabled {
        return Ok(done);
    }
    let mut sorted: Vec<&Candidate> = found.candidates.iter().collect();
    sorted.sort_by(|a, b| (a.at, &a.key).cmp(&(b.at, &b.key)));
    // Whether each customer seen is in the rule's cooldown: asked once per customer.
    let mut cooling: HashMap<&str, bool> = HashMap::new();
    for c in sorted {
        done.events += 1;
        if has_case(tx, rule.id, &c.key)? {
            done.known += 1;
            continue;
        }
        let customer = c.customer_id.as_str();
        let cools = match cooling.get(customer) {
            Some(known) => *known,
            None => cooling_down(tx, rule, customer, at.now)?,
        };
        // A case opened now starts the customer's cooldown.
        cooling.insert(customer, cools || rule.cooldown_days > 0);
        if cools {
            done.cooling_down += 1;
            continue;
        }
        let (_, arm) = insert(tx, (at, business), rule, c, true)?;
        done.opened += 1;
        done.held_out += usize::from(arm == Arm::Holdout);
        done.unrouted += usize::from(c.owner.is_none() && rule.fallback_owner.is_none());
    }
    if let Some(v) = found.watermark {
        tx.execute(
            "UPDATE case_rules SET watermark = ?2 WHERE id = ?1 AND COALESCE(watermark, -1) < ?2",
            params![rule.id, v as i64],
        )?;
    }
    if done.opened > 0 {
        let detail = format!(
            "rule {} '{}': {} cases opened ({} held out)",
            rule.id, rule.name, done.opened, done.held_out
        );
        audit(tx, at.actor, "open_cases", &detail)?;
    }
    Ok(done)
}

pub(super) fn has_case(tx: &Tx, rule: i64, key: &str) -> Result<bool> {
    let found = tx
        .prepare_cached("SELECT 1 FROM cases WHERE rule_id = ?1 AND event_key = ?2")?
        .query_row(params![rule, key], |_| Ok(()))
        .optional()?;
    Ok(found.is_some())
}

/// When the rule's cooldown before `now` began; none without a cooldown.
fn cooldown_start(rule: &Rule, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let days = i64::from(rule.cooldown_days);
    (days > 0).then(|| now - Duration::days(days))
}

/// Whether the customer got a case from the rule within its cooldown before `now`.
fn cooling_down(tx: &Tx, rule: &Rule, customer: &str, now: DateTime<Utc>) -> Result<bool> {
    let Some(since) = cooldown_start(rule, now) else {
        return Ok(false);
    };
    let found = tx
        .prepare_cached(
            "SELECT 1 FROM cases WHERE rule_id = ?1 AND customer_id = ?2 AND opened_at > ?3
             LIMIT 1",
        )?
        .query_row(params![rule.id, customer, stored(since)], |_| Ok(()))
        .optional()?;
    Ok(found.is_some())
}

/// Inserts the case with its first history entry, its deadlines in the business hours if
/// set, and (with `notify`) a followed-up case's opening as an event to notify; returns
/// its id and arm.
pub(super) fn insert(
    tx: &Tx,
    (at, business): (&Opening, Option<&BusinessHours>),
    rule: &Rule,
    c: &Candidate,
    notify: bool,
) -> Result<(i64, Arm)> {
    let owner = c.owner.as_ref().or(rule.fallback_owner.as_ref());
    let draw = Draw {
        rule: rule.id,
        owner: owner.map_or("", String::as_str),
        customer: &c.customer_id,
    };
    let arm = draw.arm(at.key, rule.holdout);
    let sla = owner.and_then(|o| at.sla_hours.get(o)).copied();
    let due = Deadlines::new(at.now, sla, business);
    let id = tx.insert(
        "INSERT INTO cases (rule_id, event_key, customer_id, event_at, touchpoint, detail, owner,
            arm, status, opened_at, contact_by, resolve_by, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?10)",
        params![
            rule.id,
            c.key,
            c.customer_id,
            stored(c.at),
            c.touchpoint,
            c.detail,
            owner,
            arm.name(),
            CaseStatus::Open.name(),
            stored(at.now),
            stored(due.contact_by),
            stored(due.resolve_by)
        ],
    )?;

    let change = format!("opened by rule '{}' ({})", rule.name, arm.label());
    tx.execute(
        "INSERT INTO case_history (case_id, at, actor, change) VALUES (?1, ?2, ?3, ?4)",
        params![id, stored(at.now), at.actor, change],
    )?;
    if notify && arm == Arm::FollowUp {
        record(tx, id, (CaseEvent::Opened, None), at.now)?;
    }
    Ok((id, arm))
}
