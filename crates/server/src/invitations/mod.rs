//! Survey invitations by e-mail, in the server's rounds: a bounded batch of the pending
//! invitations due — each customer's address read from customers for just that batch —
//! written as e-mails in the invitation's language with the personal link and the
//! unsubscribe link, and queued in the outbox in the transaction that marks them sent;
//! invitations without a valid address are left for the link export. Then the reminders
//! due by the contact policy, and the invitations past their expiry.

mod letters;

use std::collections::BTreeMap;

use cxray_analysis::surveys::addresses::addresses;
use cxray_core::surveys::SurveyMail;
use cxray_store::sql::Sql;
use cxray_store::surveys::Invitation;
use cxray_store::{DataFolder, StoreError};
use serde::Serialize;
use tokio::sync::OnceCell;

use crate::reports::{Mailer, db};
use letters::Writer;

/// Invitations (and reminders, and expiries) handled per transaction, so a backlog never
/// holds the operational database's lock long.
const BATCH: usize = 500;

/// Batches worked through back to back per round while full ones come: a backlog of a
/// million invitations goes out over 100 rounds, not 2,000.
const BATCHES_PER_ROUND: usize = 20;

/// How invitations are e-mailed.
#[derive(Debug, Clone, PartialEq)]
pub struct InvitationOptions {
    /// The address respondents reach the server at (`https://cx.example.com`): the
    /// personal links' base. None: no invitation is e-mailed.
    pub public_url: Option<String>,
    /// The customers' column holding their e-mail address.
    pub email_column: String,
}

impl Default for InvitationOptions {
    fn default() -> Self {
        InvitationOptions {
            public_url: None,
            email_column: "email".into(),
        }
    }
}

/// What a round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Mailed {
    /// Invitations sent by e-mail.
    pub sent: usize,
    /// Invitations due whose customer has no valid address: left for the link export.
    pub without_address: usize,
    pub reminded: usize,
    pub expired: usize,
}

/// One round at `now` (seconds since the epoch): invitations due and reminders due
/// e-mailed through `mailer` when there is one and a public address, then expiries.
pub async fn round(
    folder: &DataFolder,
    mailer: Option<&Mailer>,
    options: &InvitationOptions,
    now: i64,
) -> Result<Mailed, StoreError> {
    let mut done = Mailed::default();
    if let (Some(mailer), Some(base)) = (mailer, &options.public_url) {
        let (key, surveys) = db(folder, |ops| Ok((ops.pseudonym_key()?, ops.surveys()?))).await?;
        let languages = surveys
            .into_iter()
            .map(|s| (s.id, s.survey.languages))
            .collect();
        let writer = Writer {
            mailer,
            base,
            key,
            languages,
        };
        let book = Addresses {
            folder,
            sql: OnceCell::new(),
            column: &options.email_column,
        };
        for _ in 0..BATCHES_PER_ROUND {
            let (sent, without) = invite(folder, &writer, &book, now).await?;
            (done.sent, done.without_address) = (done.sent + sent, done.without_address + without);
            if sent + without < BATCH {
                break;
            }
        }
        for _ in 0..BATCHES_PER_ROUND {
            let (reminded, due) = remind(folder, &writer, &book, now).await?;
            done.reminded += reminded;
            if due < BATCH {
                break;
            }
        }
    }
    for _ in 0..BATCHES_PER_ROUND {
        let expired = db(folder, move |ops| ops.expire_invitations(now, BATCH)).await?;
        done.expired += expired;
        if expired < BATCH {
            break;
        }
    }
    Ok(done)
}

/// E-mails a batch of the invitations due: (sent, without an address).
async fn invite(
    folder: &DataFolder,
    writer: &Writer<'_>,
    book: &Addresses<'_>,
    now: i64,
) -> Result<(usize, usize), StoreError> {
    let due = db(folder, move |ops| ops.due_for_email(now, BATCH)).await?;
    if due.is_empty() {
        return Ok((0, 0));
    }
    let policy = db(folder, |ops| ops.contact_policy()).await?;
    let found = book.of(&due).await?;
    let expires = policy.expires(now);
    let (mails, unaddressed) = writer.write(&due, &found, SurveyMail::Invitation, |_| expires);
    let without = unaddressed.len();
    let sender = writer.mailer.from();
    let sent = db(folder, move |ops| {
        ops.email_invitations((&sender, &mails), &unaddressed, &policy, now)
    })
    .await?;
    Ok((sent, without))
}

/// E-mails a batch of the reminders due: how many went out, of how many were due.
async fn remind(
    folder: &DataFolder,
    writer: &Writer<'_>,
    book: &Addresses<'_>,
    now: i64,
) -> Result<(usize, usize), StoreError> {
    let due = db(folder, move |ops| ops.due_reminders(now, BATCH)).await?;
    if due.is_empty() {
        return Ok((0, 0));
    }
    let count = due.len();
    let found = book.of(&due).await?;
    let expiry = |i: &Invitation| i.expires_at.unwrap_or(now);
    let (mails, unaddressed) = writer.write(&due, &found, SurveyMail::Reminder, expiry);
    let sender = writer.mailer.from();
    let reminded = db(folder, move |ops| {
        ops.remind((&sender, &mails), &unaddressed, now)
    })
    .await?;
    Ok((reminded, count))
}

/// Where a round reads addresses: one session over the data for all its batches, opened
/// for the first batch (a round with nothing due opens none), and the customers' column
/// holding them.
struct Addresses<'a> {
    folder: &'a DataFolder,
    sql: OnceCell<Sql>,
    column: &'a str,
}

impl Addresses<'_> {
    /// The addresses of the invitations' customers.
    async fn of(
        &self,
        invitations: &[Invitation],
    ) -> Result<std::collections::HashMap<String, String>, StoreError> {
        let mut customers: Vec<String> =
            invitations.iter().map(|i| i.customer_id.clone()).collect();
        customers.sort_unstable();
        customers.dedup();
        let open = || async { Sql::open(self.folder, &BTreeMap::new()).await };
        let sql = self.sql.get_or_try_init(open).await?;
        addresses(sql, self.column, &customers).await
    }
}
