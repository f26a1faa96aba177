//! Delivering the outbox: each message due for a try goes to the mail server or is posted
//! to its webhook endpoint, and the try is recorded (sent, or tried again later, or given
//! up). The server runs a round every `every`: overdue cases escalated, case events
//! written as messages, due board packs queued, survey invitations and reminders
//! e-mailed and expired, then the outbox delivered — at least once: a message cut off by
//! a stop is sent again.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use cxray_core::schedule::{Channel, DeliveryStatus};
use cxray_store::outbox::Outcome;
use cxray_store::{DataFolder, StoreError};

use crate::invitations::{self, InvitationOptions};
use crate::leader::Leadership;
use crate::notify::{self, Hooks};
use crate::reports::{self, MailSettings, Mailer, db};
use crate::snapshot::Snapshots;

/// What a delivery round did: messages sent, waiting to be tried again, given up (with
/// the receivers' reasons).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Delivered {
    pub sent: usize,
    pub waiting: usize,
    pub failed: usize,
    pub errors: Vec<String>,
}

/// Where messages go: the mail server (none: e-mails are neither written nor sent) and
/// webhook endpoints.
pub struct Senders {
    pub mail: Option<Mailer>,
    pub hooks: Hooks,
}

/// How the server runs its outbox.
#[derive(Debug, Clone)]
pub struct OutboxOptions {
    pub mail: Option<MailSettings>,
    /// The Chromium that prints the board packs (else the first on PATH).
    pub chromium: Option<PathBuf>,
    /// How often a round runs.
    pub every: Duration,
    /// Survey invitations by e-mail.
    pub invitations: InvitationOptions,
}

/// Hands the outbox's messages of `channel` (every channel when none) to their
/// receivers: those due for a try at `now`, or all that wait (`all`). E-mails wait while
/// there is no mail server.
pub async fn deliver(
    folder: &DataFolder,
    senders: &Senders,
    channel: Option<Channel>,
    now: DateTime<Utc>,
    all: bool,
) -> Result<Delivered, StoreError> {
    let channel = match senders.mail {
        Some(_) => channel,
        None => Some(Channel::Webhook),
    };
    let waiting = db(folder, move |ops| ops.queued(now, all, channel)).await?;
    let mut done = Delivered::default();
    for q in waiting {
        let outcome = match (&senders.mail, q.channel) {
            (Some(mailer), Channel::Mail) => mailer.send(&q).await,
            _ => senders.hooks.send(&q).await,
        };
        if let Outcome::Failed { error, .. } = &outcome {
            done.errors.push(format!("{}: {error}", q.recipient));
        }
        let status = db(folder, move |ops| {
            ops.record_try(q.id, &outcome, Utc::now())
        })
        .await?;
        match status {
            DeliveryStatus::Sent => done.sent += 1,
            DeliveryStatus::Pending => done.waiting += 1,
            DeliveryStatus::Failed => done.failed += 1,
        }
    }
    Ok(done)
}

/// Runs a round every `options.every` while this server leads, until the task is dropped.
pub(crate) fn keep_delivering(
    folder: DataFolder,
    snapshots: Arc<Snapshots>,
    options: OutboxOptions,
    leadership: Arc<Leadership>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let senders = match senders(options.mail.as_ref()) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("notifications: nothing is sent: {e}");
                return;
            }
        };
        if senders.mail.is_some() && options.invitations.public_url.is_none() {
            tracing::warn!(
                "survey invitations are not e-mailed: no public address for their links \
                 (config file's public_url or CXRAY_PUBLIC_URL)"
            );
        }
        loop {
            leadership.until_leading().await;
            round(&folder, &snapshots, &senders, &options).await;
            tokio::time::sleep(options.every).await;
        }
    })
}

/// The senders for the mail settings.
pub fn senders(mail: Option<&MailSettings>) -> Result<Senders, notify::NotifyError> {
    Ok(Senders {
        mail: mail.map(Mailer::new).transpose()?,
        hooks: Hooks::new()?,
    })
}

/// One round; each step's failure is logged and the next steps still run.
async fn round(folder: &DataFolder, snapshots: &Snapshots, senders: &Senders, o: &OutboxOptions) {
    let now = Utc::now();
    if let Err(e) = notify::escalate(folder, now).await {
        tracing::error!("escalating overdue cases: {e}");
    }
    if let Err(e) = notify::write(folder, senders.mail.as_ref(), now).await {
        tracing::error!("case notifications: {e}");
    }
    if let Some(mailer) = &senders.mail
        && let Err(e) =
            reports::queue_due(folder, snapshots, mailer, o.chromium.as_deref(), now).await
    {
        tracing::error!("report schedules: {e}");
    }
    let mail = senders.mail.as_ref();
    if let Err(e) = invitations::round(folder, mail, &o.invitations, now.timestamp()).await {
        tracing::error!("survey invitations: {e}");
    }
    match deliver(folder, senders, None, now, false).await {
        Ok(done) => done
            .errors
            .iter()
            .for_each(|e| tracing::warn!("not delivered: {e}")),
        Err(e) => tracing::error!("outbox: {e}"),
    }
}
