//! Case events and whom they are told to. An event (opened, overdue, escalated, closed)
//! is recorded in the transaction that made it happen — never for a held-out case — and
//! waits until it is written as messages: e-mails to its recipients and one signed
//! message per webhook endpoint that wants it, queued in the outbox in one transaction
//! with the event marked written. Recipients: the active users of the case's owner (for
//! opened, overdue, closed); for an escalation to the lead, the owner's lead (set per
//! owner), or the administrators where the owner has none; for one to the
//! administrators, every active administrator.

use crate::db::{Conn, params};
use chrono::{DateTime, Utc};
use cxray_core::access::is_email;
use cxray_core::cases::{CaseEvent, Escalation};
use cxray_core::schedule::Channel;
use serde::Serialize;

use super::Case;
use crate::ops::{OpsDb, audit, now_text, parse_column, parse_optional, stored};
use crate::outbox::{About, Mail, insert};
use crate::{Result, StoreError, webhooks};

/// A case event waiting to be written as messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub id: i64,
    pub case: Case,
    pub event: CaseEvent,
    pub escalation: Option<Escalation>,
    pub at: String,
    /// The addresses its e-mails go to.
    pub recipients: Vec<String>,
}

/// What a case event's webhook message tells.
#[derive(Serialize)]
struct Data<'a> {
    case: &'a Case,
    escalation: Option<Escalation>,
}

impl Waiting {
    /// The JSON body posted to webhook endpoints.
    pub fn payload(&self) -> Result<Vec<u8>> {
        let data = Data {
            case: &self.case,
            escalation: self.escalation,
        };
        webhooks::body(self.event.into(), &self.at, data)
    }
}

/// Records an event of case `id` (inside the caller's transaction).
pub(crate) fn record(
    conn: &Conn,
    id: i64,
    (event, escalation): (CaseEvent, Option<Escalation>),
    now: DateTime<Utc>,
) -> Result<()> {
    conn.execute(
        "INSERT INTO case_events (case_id, event, escalation, at) VALUES (?1, ?2, ?3, ?4)",
        params![id, event.name(), escalation.map(|e| e.name()), stored(now)],
    )?;
    Ok(())
}

impl OpsDb {
    /// The events waiting to be written as messages, oldest first (at most `limit`),
    /// with their cases as of `now` and their recipients.
    pub fn waiting_events(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Waiting>> {
        let mut stmt = self.conn().prepare(
            "SELECT id, case_id, event, escalation, at FROM case_events WHERE written = 0
             ORDER BY id LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                parse_column(r, 2, str::parse::<CaseEvent>)?,
                parse_optional(r, 3, str::parse::<Escalation>)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, case_id, event, escalation, at) = row?;
            let case = self.case(case_id, now)?;
            let recipients = self.recipients(&case, escalation)?;
            out.push(Waiting {
                id,
                case,
                event,
                escalation,
                at,
                recipients,
            });
        }
        Ok(out)
    }

    /// Whom a case's event is told to: the owner's users, or the escalation's targets.
    fn recipients(&self, case: &Case, escalation: Option<Escalation>) -> Result<Vec<String>> {
        let owner = case.owner.as_deref().unwrap_or_default();
        let lead = match escalation {
            Some(Escalation::Lead) => self.lead(owner)?,
            _ => None,
        };
        let (sql, value) = match (escalation, lead) {
            (Some(Escalation::Lead), Some(lead)) => return Ok(vec![lead]),
            (Some(_), _) => ("role = 'admin'", None),
            (None, _) => (
                "role IN ('owner', 'partner') AND owner_id = ?1",
                Some(owner),
            ),
        };
        let mut stmt = self.conn().prepare(&format!(
            "SELECT email FROM users WHERE disabled = 0 AND {sql} ORDER BY email"
        ))?;
        let values: Vec<&dyn crate::db::ToValue> = value.iter().map(|v| v as _).collect();
        let emails = stmt.query_map(values.as_slice(), |r| r.get(0))?;
        Ok(emails.collect::<crate::db::DbResult<Vec<String>>>()?)
    }

    /// Writes a waiting event's messages — the e-mails `mails` from `sender`, and one
    /// webhook message per enabled endpoint that wants the event — and marks it written,
    /// in one transaction. `false` when it was written already (nothing queued).
    pub fn write_event(
        &self,
        waiting: &Waiting,
        sender: &str,
        mails: &[Mail],
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let tx = self.conn().write()?;
        let marked = tx.execute(
            "UPDATE case_events SET written = 1 WHERE id = ?1 AND written = 0",
            params![waiting.id],
        )?;
        if marked == 0 {
            return Ok(false);
        }
        let about = About::Case {
            case: waiting.case.id,
            event: waiting.event,
        };
        for m in mails {
            let message = (sender, m.recipient.as_str(), m.message.as_slice());
            insert(&tx, (Channel::Mail, None), about, message, now)?;
        }
        let body = waiting.payload()?;
        for (id, url) in webhooks::subscribed(&tx, waiting.event.into())? {
            let message = ("", url.as_str(), body.as_slice());
            insert(&tx, (Channel::Webhook, Some(id)), about, message, now)?;
        }
        tx.commit()?;
        Ok(true)
    }

    /// Sets (or with no address removes) the lead of an owner: where its overdue cases
    /// escalate first. Check the owner against the data first. Audited.
    pub fn set_lead(&self, actor: &str, owner: &str, email: Option<&str>) -> Result<()> {
        let tx = self.conn().write()?;
        match email.map(str::trim) {
            Some(e) if !is_email(e) => {
                let message = format!("'{e}' is not an e-mail address (name@example.com)");
                return Err(StoreError::invalid("email", message));
            }
            Some(e) => _ = tx.execute(
                "INSERT INTO owner_leads (owner_id, email, set_by, set_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (owner_id) DO UPDATE SET email = ?2, set_by = ?3, set_at = ?4",
                params![owner, e, actor, now_text()],
            )?,
            None => {
                _ = tx.execute(
                    "DELETE FROM owner_leads WHERE owner_id = ?1",
                    params![owner],
                )?
            }
        }
        let detail = format!("{owner}: {}", email.unwrap_or("none"));
        audit(&tx, actor, "set_owner_lead", &detail)?;
        tx.commit()?;
        Ok(())
    }

    /// The owner's lead, if one is set.
    pub fn lead(&self, owner: &str) -> Result<Option<String>> {
        Ok(self
            .leads()?
            .into_iter()
            .find_map(|(o, e)| (o == owner).then_some(e)))
    }

    /// Every owner's lead: (owner, address), by owner.
    pub fn leads(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT owner_id, email FROM owner_leads ORDER BY owner_id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<crate::db::DbResult<_>>()?)
    }
}
