//! The outbox, in the operational database: every message cxray sends — the e-mails of
//! board packs, of case events and of survey invitations, and signed webhook messages —
//! is queued here in the
//! transaction that decided to send it, and stays until it was delivered (its content
//! then dropped) or given up after [`MAX_ATTEMPTS`](cxray_core::schedule::MAX_ATTEMPTS)
//! tries with growing waits ([`retry_after`]). A webhook endpoint whose message is given
//! up is disabled; its other messages wait until it is enabled again.

use crate::db::{Conn, OptionalExtension, params};
use chrono::{DateTime, Utc};
use cxray_core::cases::CaseEvent;
use cxray_core::schedule::{Channel, DeliveryStatus, retry_after};
use cxray_core::surveys::SurveyMail;
use cxray_core::webhook::WebhookSecret;
use serde::Serialize;

use crate::ops::{OpsDb, audit, parse_column, parse_optional, stored};
use crate::{Result, StoreError};

/// One e-mail to queue: its recipient and the whole message (RFC 5322), as it is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    pub recipient: String,
    pub message: Vec<u8>,
}

/// What a message is about: a schedule's pack of a period, a case's event, an
/// invitation's e-mail, or a survey answer committed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum About<'a> {
    Pack { schedule: i64, period: &'a str },
    Case { case: i64, event: CaseEvent },
    Invitation { invitation: i64, mail: SurveyMail },
    Answer { answer: i64 },
}

/// A queued message to try now: an e-mail, or a webhook message with its endpoint's
/// secret.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub id: i64,
    pub channel: Channel,
    pub sender: String,
    /// An address, or the endpoint's URL.
    pub recipient: String,
    pub message: Vec<u8>,
    pub secret: Option<WebhookSecret>,
}

impl Queued {
    /// The message's id in webhook headers, the same on every try: `msg_17`.
    pub fn message_id(&self) -> String {
        format!("msg_{}", self.id)
    }
}

/// A message of the outbox as listed: where it is, without its content.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    pub id: i64,
    pub channel: Channel,
    pub schedule_id: Option<i64>,
    pub period: Option<String>,
    pub case_id: Option<i64>,
    pub event: Option<CaseEvent>,
    /// The invitation of a survey e-mail, and which e-mail it is.
    pub invitation_id: Option<i64>,
    pub survey_mail: Option<SurveyMail>,
    /// The survey answer of a `response.created` message.
    pub answer_id: Option<i64>,
    pub webhook_id: Option<i64>,
    pub recipient: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub queued_at: String,
    /// When it is tried next (pending ones).
    pub next_attempt: Option<String>,
    pub last_error: Option<String>,
    pub sent_at: Option<String>,
}

impl Delivery {
    /// When it was sent, or (pending) when it is tried next.
    pub fn when(&self) -> Option<&str> {
        self.sent_at.as_deref().or(self.next_attempt.as_deref())
    }

    /// What it is about, for people: "Board pack 2025-06", "Case 17: Case opened",
    /// "Survey invitation 17", "Survey answer 12".
    pub fn about(&self) -> String {
        if let (Some(i), Some(mail)) = (self.invitation_id, self.survey_mail) {
            return format!("{} {i}", mail.label());
        }
        match (&self.period, self.case_id, self.event, self.answer_id) {
            (Some(p), ..) => format!("Board pack {p}"),
            (_, Some(c), Some(e), _) => format!("Case {c}: {}", e.label()),
            (.., Some(a)) => format!("Survey answer {a}"),
            _ => "—".into(),
        }
    }
}

/// What became of a try.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Sent,
    /// Not delivered; `permanent` when the receiver refused it for good.
    Failed {
        error: String,
        permanent: bool,
    },
}

/// Queues a message (inside the caller's transaction) for a first try at `now`.
pub(crate) fn insert(
    conn: &Conn,
    (channel, webhook): (Channel, Option<i64>),
    about: About,
    (sender, recipient, message): (&str, &str, &[u8]),
    now: DateTime<Utc>,
) -> Result<()> {
    let (mut schedule, mut period, mut case, mut event) = (None, None, None, None);
    let (mut invitation, mut answer) = (None, None);
    match about {
        About::Pack {
            schedule: s,
            period: p,
        } => (schedule, period) = (Some(s), Some(p)),
        About::Case { case: c, event: e } => (case, event) = (Some(c), Some(e.name())),
        About::Invitation {
            invitation: i,
            mail,
        } => (invitation, event) = (Some(i), Some(mail.name())),
        About::Answer { answer: a } => answer = Some(a),
    }
    let mut stmt = conn.prepare_cached(
        "INSERT INTO outbox (channel, schedule_id, period, case_id, event, webhook_id, sender,
                             recipient, message, queued_at, next_attempt, status,
                             invitation_id, answer_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, 'pending', ?11, ?12)",
    )?;
    stmt.execute(params![
        channel.name(),
        schedule,
        period,
        case,
        event,
        webhook,
        sender,
        recipient,
        message,
        stored(now),
        invitation,
        answer
    ])?;
    Ok(())
}

const LISTED: &str = "SELECT o.id, o.channel, o.schedule_id, o.period, o.case_id, o.event,
        o.webhook_id, o.recipient, o.status, o.attempts, o.queued_at, o.next_attempt,
        o.last_error, o.sent_at, o.invitation_id, o.answer_id
     FROM outbox o";

fn delivery(r: &crate::db::Row) -> crate::db::DbResult<Delivery> {
    let status = parse_column(r, 8, str::parse::<DeliveryStatus>)?;
    let (case_id, invitation_id) = (r.get::<_, Option<i64>>(4)?, r.get(14)?);
    Ok(Delivery {
        id: r.get(0)?,
        channel: parse_column(r, 1, str::parse::<Channel>)?,
        schedule_id: r.get(2)?,
        period: r.get(3)?,
        case_id,
        event: match case_id {
            Some(_) => parse_optional(r, 5, str::parse::<CaseEvent>)?,
            None => None,
        },
        invitation_id,
        survey_mail: match invitation_id {
            Some(_) => parse_optional(r, 5, str::parse::<SurveyMail>)?,
            None => None,
        },
        answer_id: r.get(15)?,
        webhook_id: r.get(6)?,
        recipient: r.get(7)?,
        status,
        attempts: r.get(9)?,
        queued_at: r.get(10)?,
        next_attempt: match status {
            DeliveryStatus::Pending => r.get(11)?,
            _ => None,
        },
        last_error: r.get(12)?,
        sent_at: r.get(13)?,
    })
}

impl OpsDb {
    /// The pending messages to try — those whose next try is due at `now`, or all of
    /// them — of one channel or every one; never those of a disabled webhook endpoint.
    pub fn queued(
        &self,
        now: DateTime<Utc>,
        all: bool,
        channel: Option<Channel>,
    ) -> Result<Vec<Queued>> {
        let mut stmt = self.conn().prepare(
            "SELECT o.id, o.channel, o.sender, o.recipient, o.message, w.secret FROM outbox o
             LEFT JOIN webhooks w ON w.id = o.webhook_id
             WHERE o.status = 'pending' AND (?1 OR o.next_attempt <= ?2)
               AND (CAST(?3 AS TEXT) IS NULL OR o.channel = ?3)
               AND (o.webhook_id IS NULL OR w.enabled = 1)
             ORDER BY o.id",
        )?;
        let channel = channel.map(Channel::name);
        let rows = stmt.query_map(params![all, stored(now), channel], |r| {
            Ok(Queued {
                id: r.get(0)?,
                channel: parse_column(r, 1, str::parse::<Channel>)?,
                sender: r.get(2)?,
                recipient: r.get(3)?,
                message: r.get(4)?,
                secret: r.get::<_, Option<Vec<u8>>>(5)?.map(WebhookSecret::new),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records a try of message `id`: sent (its content is dropped, its record stays), or
    /// failed — tried again later by [`retry_after`], or given up (audited) when the
    /// receiver refused it for good or every try failed; a webhook endpoint whose message
    /// is given up is disabled (audited). Returns the status it is left in.
    pub fn record_try(
        &self,
        id: i64,
        outcome: &Outcome,
        now: DateTime<Utc>,
    ) -> Result<DeliveryStatus> {
        let tx = self.conn().write()?;
        let found: Option<(u32, String, Option<i64>, Option<i64>)> = tx
            .query_row(
                "SELECT attempts, recipient, schedule_id, webhook_id FROM outbox
                 WHERE id = ?1 AND status = 'pending'",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((attempts, recipient, schedule, webhook)) = found else {
            return Err(StoreError::Input(format!(
                "no pending message {id} in the outbox"
            )));
        };
        let attempts = attempts + 1;
        let status = match outcome {
            Outcome::Sent => {
                tx.execute(
                    "UPDATE outbox SET status = 'sent', attempts = ?2, sent_at = ?3, message = ?4,
                                       last_error = NULL
                     WHERE id = ?1",
                    params![id, attempts, stored(now), [0u8; 0]],
                )?;
                DeliveryStatus::Sent
            }
            Outcome::Failed { error, permanent } => {
                let retry = retry_after(attempts).filter(|_| !permanent);
                let status = retry.map_or(DeliveryStatus::Failed, |_| DeliveryStatus::Pending);
                let next = retry.map(|wait| stored(now + wait));
                tx.execute(
                    "UPDATE outbox SET status = ?2, attempts = ?3, last_error = ?4,
                                       next_attempt = COALESCE(?5, next_attempt)
                     WHERE id = ?1",
                    params![id, status.name(), attempts, error, next],
                )?;
                if status == DeliveryStatus::Failed {
                    let action = match schedule {
                        Some(_) => "report_not_delivered",
                        None => "notification_not_delivered",
                    };
                    let detail = format!("message {id} to {recipient}, {attempts} tries: {error}");
                    audit(&tx, "outbox", action, &detail)?;
                    if let Some(w) = webhook {
                        crate::webhooks::disable_failing(&tx, w, id)?;
                    }
                }
                status
            }
        };
        tx.commit()?;
        Ok(status)
    }

    /// The outbox's most recent e-mails, newest first.
    pub fn deliveries(&self, limit: usize) -> Result<Vec<Delivery>> {
        let mut stmt = self.conn().prepare(&format!(
            "{LISTED} WHERE o.channel = 'mail' ORDER BY o.id DESC LIMIT ?1"
        ))?;
        let rows = stmt.query_map(params![limit as i64], delivery)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The most recent messages to webhook endpoint `id`, newest first: its delivery log.
    pub fn webhook_deliveries(&self, id: i64, limit: usize) -> Result<Vec<Delivery>> {
        self.webhook(id)?;
        let mut stmt = self.conn().prepare(&format!(
            "{LISTED} WHERE o.webhook_id = ?1 ORDER BY o.id DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![id, limit as i64], delivery)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// The tests, on each backend of the operational database.
#[cfg(test)]
pub(crate) mod tests {
    crate::on_each_backend!("outbox/tests.rs");
    pub(crate) use sqlite::{at, mail};
}
