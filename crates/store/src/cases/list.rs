//! Cases listed by owner, status, deadline, rule and root cause.

use chrono::{DateTime, Utc};
use cxray_core::cases::{Arm, CaseStatus, Outcome, OutcomeKind, RootCause};
use rusqlite::ToSql;
use rusqlite::types::Value;

use super::Case;
use crate::ops::{OpsDb, parse_column, parse_optional, stored};
use crate::{Result, StoreError};

/// Which cases to list; every field given must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseFilter {
    pub owner: Option<String>,
    pub status: Option<CaseStatus>,
    /// Only cases past a deadline.
    pub overdue: bool,
    /// The rule's id.
    pub rule: Option<i64>,
    /// The root cause or one below it.
    pub root_cause: Option<RootCause>,
    /// At most this many, newest first.
    pub limit: Option<usize>,
}

/// Whether a case is overdue at `?1`, in SQL.
const OVERDUE: &str = "(arm = 'follow_up' AND ((status = 'open' AND contact_by < ?1)
    OR (status IN ('open', 'contacted') AND resolve_by < ?1)))";

impl CaseFilter {
    /// The SQL condition and its values, numbered from `?2` (`?1` is now).
    fn sql(&self) -> (String, Vec<Value>) {
        let mut conditions = vec!["1 = 1".to_string()];
        let mut values: Vec<Value> = Vec::new();
        let mut param = |v: Value| {
            values.push(v);
            format!("?{}", values.len() + 1)
        };
        if let Some(o) = &self.owner {
            conditions.push(format!("c.owner = {}", param(Value::Text(o.clone()))));
        }
        if let Some(s) = self.status {
            let p = param(Value::Text(s.name().into()));
            conditions.push(format!("c.status = {p}"));
        }
        if let Some(r) = self.rule {
            conditions.push(format!("c.rule_id = {}", param(Value::Integer(r))));
        }
        if let Some(c) = &self.root_cause {
            let exact = param(Value::Text(c.to_string()));
            let below = param(Value::Text(format!("{c} > ")));
            conditions.push(format!(
                "(c.root_cause = {exact} OR substr(c.root_cause, 1, length({below})) = {below})"
            ));
        }
        if self.overdue {
            conditions.push(OVERDUE.into());
        }
        (conditions.join(" AND "), values)
    }
}

const SELECT: &str = "SELECT c.id, c.rule_id, r.name, c.customer_id, c.event_at, c.touchpoint,
        c.detail, c.owner, c.arm, c.status, c.assignee, c.root_cause, c.outcome,
        c.outcome_amount, c.opened_at, c.contact_by, c.resolve_by, c.contacted_at, c.done_at,
        CASE WHEN ";

fn case(r: &rusqlite::Row) -> rusqlite::Result<Case> {
    let outcome = parse_optional(r, 12, str::parse::<OutcomeKind>)?;
    let amount = r.get(13)?;
    Ok(Case {
        id: r.get(0)?,
        rule_id: r.get(1)?,
        rule: r.get(2)?,
        customer_id: r.get(3)?,
        event_at: r.get(4)?,
        touchpoint: r.get(5)?,
        detail: r.get(6)?,
        owner: r.get(7)?,
        arm: parse_column(r, 8, str::parse::<Arm>)?,
        status: parse_column(r, 9, str::parse::<CaseStatus>)?,
        assignee: r.get(10)?,
        root_cause: parse_optional(r, 11, str::parse::<RootCause>)?,
        outcome: outcome.map(|kind| Outcome { kind, amount }),
        opened_at: r.get(14)?,
        contact_by: r.get(15)?,
        resolve_by: r.get(16)?,
        contacted_at: r.get(17)?,
        done_at: r.get(18)?,
        overdue: r.get(19)?,
    })
}

impl OpsDb {
    /// The cases the filter lets through, newest first, overdue as of `now`.
    pub fn cases(&self, filter: &CaseFilter, now: DateTime<Utc>) -> Result<Vec<Case>> {
        let (condition, values) = filter.sql();
        let limit = filter.limit.map_or(-1, |l| l as i64);
        let sql = format!(
            "{SELECT}{OVERDUE} THEN 1 ELSE 0 END
             FROM cases c JOIN case_rules r ON r.id = c.rule_id
             WHERE {condition} ORDER BY c.id DESC LIMIT {limit}"
        );
        let mut all: Vec<&dyn ToSql> = Vec::with_capacity(values.len() + 1);
        let now = Value::Text(stored(now));
        all.push(&now);
        all.extend(values.iter().map(|v| v as &dyn ToSql));
        let mut stmt = self.conn().prepare(&sql)?;
        let rows = stmt.query_map(all.as_slice(), case)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The case `id`, overdue as of `now`.
    pub fn case(&self, id: i64, now: DateTime<Utc>) -> Result<Case> {
        let sql = format!(
            "{SELECT}{OVERDUE} THEN 1 ELSE 0 END
             FROM cases c JOIN case_rules r ON r.id = c.rule_id WHERE c.id = ?2"
        );
        let mut stmt = self.conn().prepare(&sql)?;
        let mut rows = stmt.query_map(rusqlite::params![stored(now), id], case)?;
        match rows.next() {
            Some(c) => Ok(c?),
            None => Err(StoreError::invalid("case", format!("no case {id}"))),
        }
    }
}
