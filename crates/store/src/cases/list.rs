//! Cases listed by owner, status, deadline, rule and root cause.

use crate::db::Value;
use crate::db::{OptionalExtension, ToValue};
use chrono::{DateTime, Utc};
use cxray_core::cases::{Arm, CaseStatus, Outcome, OutcomeKind, RootCause};

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
    /// Only cases with a root cause.
    pub with_root_cause: bool,
    /// At most this many, newest first.
    pub limit: Option<usize>,
    /// Leave out this many of the newest first (a page further on).
    pub offset: usize,
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
            conditions.push(format!("c.rule_id = {}", param(Value::Int(r))));
        }
        if let Some(c) = &self.root_cause {
            let exact = param(Value::Text(c.to_string()));
            let below = param(Value::Text(format!("{c} > ")));
            conditions.push(format!(
                "(c.root_cause = {exact}
                 OR substr(c.root_cause, 1, length(CAST({below} AS TEXT))) = {below})"
            ));
        }
        if self.overdue {
            conditions.push(OVERDUE.into());
        }
        if self.with_root_cause {
            conditions.push("c.root_cause IS NOT NULL".into());
        }
        (conditions.join(" AND "), values)
    }
}

/// `now` as `?1`, then the filter's values.
fn with_now<'a>(now: &'a Value, values: &'a [Value]) -> Vec<&'a dyn ToValue> {
    let mut all: Vec<&dyn ToValue> = Vec::with_capacity(values.len() + 1);
    all.push(now);
    all.extend(values.iter().map(|v| v as &dyn ToValue));
    all
}

const SELECT: &str = "SELECT c.id, c.rule_id, r.name, c.customer_id, c.event_at, c.touchpoint,
        c.detail, c.owner, c.arm, c.status, c.assignee, c.root_cause, c.outcome,
        c.outcome_amount, c.opened_at, c.contact_by, c.resolve_by, c.contacted_at, c.done_at,
        CASE WHEN ";

fn case(r: &crate::db::Row) -> crate::db::DbResult<Case> {
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
        let limit = filter.limit.map_or(i64::MAX, |l| l as i64);
        let sql = format!(
            "{SELECT}{OVERDUE} THEN 1 ELSE 0 END
             FROM cases c JOIN case_rules r ON r.id = c.rule_id
             WHERE {condition} ORDER BY c.id DESC LIMIT {limit} OFFSET {}",
            filter.offset
        );
        let now = Value::Text(stored(now));
        let mut stmt = self.conn().prepare(&sql)?;
        let rows = stmt.query_map(with_now(&now, &values).as_slice(), case)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many cases the filter lets through (its limit and offset aside).
    pub fn count_cases(&self, filter: &CaseFilter, now: DateTime<Utc>) -> Result<usize> {
        let (condition, values) = filter.sql();
        let sql = format!(
            "SELECT count(*) FROM cases c WHERE CAST(?1 AS TEXT) IS NOT NULL AND {condition}"
        );
        let now = Value::Text(stored(now));
        let n: i64 = self
            .conn()
            .query_row(&sql, with_now(&now, &values).as_slice(), |r| r.get(0))?;
        Ok(n as usize)
    }

    /// The case a rule opened for the event `key`, if any (overdue as of `now`).
    pub fn case_of_event(&self, rule: i64, key: &str, now: DateTime<Utc>) -> Result<Option<Case>> {
        let id: Option<i64> = self
            .conn()
            .query_row(
                "SELECT id FROM cases WHERE rule_id = ?1 AND event_key = ?2",
                crate::db::params![rule, key],
                |r| r.get(0),
            )
            .optional()?;
        id.map(|id| self.case(id, now)).transpose()
    }

    /// The case `id`, overdue as of `now`.
    pub fn case(&self, id: i64, now: DateTime<Utc>) -> Result<Case> {
        let sql = format!(
            "{SELECT}{OVERDUE} THEN 1 ELSE 0 END
             FROM cases c JOIN case_rules r ON r.id = c.rule_id WHERE c.id = ?2"
        );
        let mut stmt = self.conn().prepare(&sql)?;
        let mut rows = stmt.query_map(crate::db::params![stored(now), id], case)?;
        match rows.next() {
            Some(c) => Ok(c?),
            None => Err(StoreError::invalid("case", format!("no case {id}"))),
        }
    }
}

/// An owner's follow-up cases not yet done, and how many of them are overdue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct OwnerCases {
    pub open: usize,
    pub overdue: usize,
}

impl OpsDb {
    /// The owner's followed-up cases still open or contacted, and those past a deadline
    /// at `now` (held-out cases are not worked, so not counted).
    pub fn owner_cases(&self, owner: &str, now: DateTime<Utc>) -> Result<OwnerCases> {
        let sql = format!(
            "SELECT count(*), COALESCE(sum(CASE WHEN {OVERDUE} THEN 1 ELSE 0 END), 0)
             FROM cases WHERE owner = ?2 AND arm = 'follow_up'
                AND status IN ('open', 'contacted')"
        );
        let (open, overdue): (i64, i64) =
            self.conn()
                .query_row(&sql, crate::db::params![stored(now), owner], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
        Ok(OwnerCases {
            open: open as usize,
            overdue: overdue as usize,
        })
    }
}
