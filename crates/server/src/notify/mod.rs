//! Case notifications: overdue cases noticed and escalated ([`escalate`]), and the case
//! events waiting in the operational database written as messages ([`write`]): an e-mail
//! per recipient ([`message`], when there is a mail server) and a signed message per
//! webhook endpoint that wants the event ([`webhook`]), queued in the outbox, which
//! [`crate::outbox`] delivers.

mod message;
pub mod webhook;

use chrono::{DateTime, Utc};
use cxray_store::cases::Escalated;
use cxray_store::outbox::Mail;
use cxray_store::{DataFolder, StoreError};

use crate::reports::{MailError, Mailer};
pub use webhook::Hooks;

/// Why notifications were not written.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error("webhook client: {0}")]
    Client(#[source] reqwest::Error),
}

/// How many events are written per round.
const EVENTS_PER_ROUND: usize = 500;

/// Notices and escalates the overdue cases at `now`.
pub async fn escalate(folder: &DataFolder, now: DateTime<Utc>) -> Result<Escalated, StoreError> {
    crate::reports::db(folder, move |ops| ops.escalate("escalation", now)).await
}

/// Writes the waiting case events as messages in the outbox — e-mails only with a
/// mailer — and returns how many events were written.
pub async fn write(
    folder: &DataFolder,
    mailer: Option<&Mailer>,
    now: DateTime<Utc>,
) -> Result<usize, NotifyError> {
    let waiting =
        crate::reports::db(folder, move |ops| ops.waiting_events(now, EVENTS_PER_ROUND)).await?;
    let mut written = 0;
    for w in waiting {
        let mails = match mailer {
            Some(m) => w
                .recipients
                .iter()
                .map(|to| message::mail(m, to, &w))
                .collect::<Result<Vec<Mail>, _>>()?,
            None => Vec::new(),
        };
        let sender = mailer.map(Mailer::from).unwrap_or_default();
        let done = crate::reports::db(folder, move |ops| ops.write_event(&w, &sender, &mails, now))
            .await?;
        written += usize::from(done);
    }
    Ok(written)
}
