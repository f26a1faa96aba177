//! Working on cases: status, assignee, owner, root cause, outcome and notes, each change
//! in the case's history and the audit log; the root causes cases may name; erasure.

use crate::db::params;
use chrono::{DateTime, Utc};
use cxray_core::cases::{Arm, CaseEvent, CaseStatus, Outcome, RootCause};
use serde::Serialize;

use super::Case;
use super::notify::record;
use crate::ops::{OpsDb, audit, now_text, stored};
use crate::{Result, StoreError};

/// The longest note, in characters.
const MAX_NOTE_CHARS: usize = 4000;

/// A change to a case; fields left out stay as they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseUpdate {
    pub status: Option<CaseStatus>,
    pub assignee: Option<String>,
    /// Another owner (check it with [`super::check::owner`]).
    pub owner: Option<String>,
    pub root_cause: Option<RootCause>,
    pub outcome: Option<Outcome>,
    pub note: Option<String>,
}

/// One entry of a case's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    pub at: String,
    pub actor: String,
    pub change: String,
    pub note: Option<String>,
}

impl CaseUpdate {
    /// What the update changes in `case`, for the history and the audit log; refuses a
    /// transition the status does not allow, a root cause not in `causes`, an empty or
    /// long note.
    fn changes(&self, case: &Case, causes: &[RootCause]) -> Result<Vec<String>> {
        let mut out = Vec::new();
        if let Some(to) = self.status {
            case.status
                .to(to)
                .map_err(|e| StoreError::invalid("status", e.to_string()))?;
            out.push(format!("status {} → {to}", case.status));
        }
        if let Some(a) = &self.assignee {
            out.push(format!("assignee {a}"));
        }
        if let Some(o) = &self.owner {
            out.push(format!("owner {o}"));
        }
        if let Some(c) = &self.root_cause {
            if !causes.contains(c) {
                return Err(StoreError::invalid("root_cause", unknown_cause(c, causes)));
            }
            out.push(format!("root cause {c}"));
        }
        if let Some(o) = &self.outcome {
            out.push(format!("outcome {}", o.label()));
        }
        if let Some(n) = &self.note {
            if n.trim().is_empty() || n.chars().count() > MAX_NOTE_CHARS {
                let message = format!("a note has 1 to {MAX_NOTE_CHARS} characters");
                return Err(StoreError::invalid("note", message));
            }
            out.push("note".into());
        }
        Ok(out)
    }
}

fn unknown_cause(c: &RootCause, causes: &[RootCause]) -> String {
    let known: Vec<String> = causes.iter().map(ToString::to_string).collect();
    match known.is_empty() {
        true => format!("unknown root cause '{c}' (there are none yet: add them first)"),
        false => format!(
            "unknown root cause '{c}' (root causes: {})",
            known.join(", ")
        ),
    }
}

impl OpsDb {
    /// Changes a case, checked, in one transaction with its history entry and an audit
    /// entry (which names no customer); resolving or closing it is an event to notify.
    /// Cases held out are not worked.
    pub fn update_case(
        &self,
        actor: &str,
        id: i64,
        update: &CaseUpdate,
        now: DateTime<Utc>,
    ) -> Result<Case> {
        let case = self.case(id, now)?;
        if case.arm == Arm::Holdout {
            let message = format!(
                "case {id} is held out to measure what following up changes: it is not worked"
            );
            return Err(StoreError::invalid("case", message));
        }
        let changes = update.changes(&case, &self.root_causes()?)?;
        if changes.is_empty() {
            let message =
                "nothing to change: give a status, assignee, owner, root cause, outcome or note";
            return Err(StoreError::invalid("update", message));
        }
        let tx = self.conn().write()?;
        let at = stored(now);
        tx.execute(
            "UPDATE cases SET
                status = COALESCE(?2, status),
                assignee = COALESCE(?3, assignee),
                owner = COALESCE(?4, owner),
                root_cause = COALESCE(?5, root_cause),
                outcome = COALESCE(?6, outcome),
                outcome_amount = CASE WHEN CAST(?6 AS TEXT) IS NULL THEN outcome_amount ELSE ?7 END,
                contacted_at = CASE WHEN ?2 = 'contacted' THEN COALESCE(contacted_at, ?8)
                                    ELSE contacted_at END,
                done_at = CASE WHEN ?2 IN ('resolved', 'closed') THEN ?8
                               WHEN ?2 = 'open' THEN NULL ELSE done_at END,
                updated_at = ?8
             WHERE id = ?1",
            params![
                id,
                update.status.map(|s| s.name()),
                update.assignee,
                update.owner,
                update.root_cause.as_ref().map(ToString::to_string),
                update.outcome.map(|o| o.kind.name()),
                update.outcome.and_then(|o| o.amount),
                at
            ],
        )?;
        let change = changes.join("; ");
        tx.execute(
            "INSERT INTO case_history (case_id, at, actor, change, note) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, at, actor, change, update.note],
        )?;
        audit(&tx, actor, "update_case", &format!("case {id}: {change}"))?;
        if update.status.is_some_and(CaseStatus::is_done) {
            record(&tx, id, (CaseEvent::Closed, None), now)?;
        }
        tx.commit()?;
        self.case(id, now)
    }

    /// A case's history, oldest first.
    pub fn case_history(&self, id: i64) -> Result<Vec<HistoryEntry>> {
        let mut stmt = self.conn().prepare(
            "SELECT at, actor, change, note FROM case_history WHERE case_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![id], |r| {
            Ok(HistoryEntry {
                at: r.get(0)?,
                actor: r.get(1)?,
                change: r.get(2)?,
                note: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Adds a root cause and the causes above it. Audited.
    pub fn add_root_cause(&self, actor: &str, cause: &RootCause) -> Result<()> {
        let tx = self.conn().write()?;
        let at = now_text();
        for c in cause.ancestors().iter().chain([cause]) {
            tx.execute(
                "INSERT INTO root_causes (path, added_by, added_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
                params![c.to_string(), actor, at],
            )?;
        }
        audit(&tx, actor, "add_root_cause", &cause.to_string())?;
        tx.commit()?;
        Ok(())
    }

    /// Removes a root cause and the causes below it; cases that name them keep the name.
    /// Audited.
    pub fn remove_root_cause(&self, actor: &str, cause: &RootCause) -> Result<()> {
        let causes = self.root_causes()?;
        if !causes.contains(cause) {
            return Err(StoreError::invalid(
                "root_cause",
                unknown_cause(cause, &causes),
            ));
        }
        let tx = self.conn().write()?;
        for c in causes.iter().filter(|c| c.is_within(cause)) {
            tx.execute(
                "DELETE FROM root_causes WHERE path = ?1",
                params![c.to_string()],
            )?;
        }
        audit(&tx, actor, "remove_root_cause", &cause.to_string())?;
        tx.commit()?;
        Ok(())
    }

    /// The root causes cases may name, in order (each below the one above it).
    pub fn root_causes(&self) -> Result<Vec<RootCause>> {
        let mut stmt = self.conn().prepare("SELECT path FROM root_causes")?;
        let rows = stmt.query_map([], |r| {
            crate::ops::parse_column(r, 0, str::parse::<RootCause>)
        })?;
        let mut causes: Vec<RootCause> = rows.collect::<Result<_, _>>()?;
        causes.sort();
        Ok(causes)
    }

    /// Erases the customers' cases, their histories, events and messages (for `cxray
    /// forget`), overwriting the freed pages and checkpointing the log, so no file keeps
    /// the ids; returns how many cases.
    pub fn forget_cases(&self, ids: &[String]) -> Result<usize> {
        if let Some(c) = self.conn().sqlite() {
            c.pragma_update(None, "secure_delete", "ON")?;
        }
        let tx = self.conn().write()?;
        let mut removed = 0;
        for id in ids {
            for table in ["case_history", "case_events", "outbox"] {
                tx.execute(
                    &format!(
                        "DELETE FROM {table} WHERE case_id IN
                            (SELECT id FROM cases WHERE customer_id = ?1)"
                    ),
                    params![id],
                )?;
            }
            removed += tx.execute("DELETE FROM cases WHERE customer_id = ?1", params![id])?;
        }
        tx.commit()?;
        self.rewrite_file()?;
        Ok(removed)
    }
}
