//! Invitations by e-mail. Each round takes a bounded batch: the pending invitations due,
//! those with an address sent — marked sent by e-mail, logged and their e-mails queued in
//! the outbox in one transaction — and those without one marked so, left for the link
//! export; then the reminders due by the contact policy, the same way. The personal
//! page's first opening is recorded.

use crate::db::{Conn, OptionalExtension, params};
use cxray_core::schedule::Channel;
use cxray_core::surveys::{ContactPolicy, SurveyChannel, SurveyMail};

use super::invite::{Invitation, invitations_where};
use crate::Result;
use crate::ops::OpsDb;
use crate::outbox::{About, Mail, insert};

/// E-mails to queue, each for its invitation.
pub type Mails = [(i64, Mail)];

impl OpsDb {
    /// Up to `limit` pending invitations due by `now` that were not found without an
    /// address, oldest first.
    pub fn due_for_email(&self, now: i64, limit: usize) -> Result<Vec<Invitation>> {
        invitations_where(
            self.conn(),
            "status = 'pending' AND unaddressed_at IS NULL AND send_at <= ?1
             ORDER BY send_at, id LIMIT ?2",
            params![now, limit as i64],
        )
    }

    /// Sends invitations by e-mail at `now`, in one transaction: each of `mails` still
    /// pending becomes sent through e-mail (expiring, and its first reminder due, by
    /// `policy`), is logged and has its e-mail from `sender` queued; each of `unaddressed`
    /// still pending is marked as having no address. Returns how many were sent.
    pub fn email_invitations(
        &self,
        (sender, mails): (&str, &Mails),
        unaddressed: &[i64],
        policy: &ContactPolicy,
        now: i64,
    ) -> Result<usize> {
        let tx = self.conn().write()?;
        let mut sent = 0;
        for (id, mail) in mails {
            let marked = tx.execute(
                "UPDATE invitations SET status = 'sent', channel = ?2, sent_at = ?3,
                        expires_at = ?4, remind_at = ?5
                 WHERE id = ?1 AND status = 'pending'",
                params![
                    id,
                    SurveyChannel::Email.name(),
                    now,
                    policy.expires(now),
                    policy.next_reminder(now, 0, now)
                ],
            )?;
            if marked > 0 {
                queue(&tx, (*id, SurveyMail::Invitation), (sender, mail), now)?;
                sent += 1;
            }
        }
        for id in unaddressed {
            tx.execute(
                "UPDATE invitations SET unaddressed_at = ?2 WHERE id = ?1 AND status = 'pending'",
                params![id, now],
            )?;
        }
        tx.commit()?;
        Ok(sent)
    }

    /// Up to `limit` invitations sent by e-mail whose next reminder was due by `now`,
    /// oldest due first.
    pub fn due_reminders(&self, now: i64, limit: usize) -> Result<Vec<Invitation>> {
        invitations_where(
            self.conn(),
            "status = 'sent' AND remind_at IS NOT NULL AND remind_at <= ?1
             ORDER BY remind_at, id LIMIT ?2",
            params![now, limit as i64],
        )
    }

    /// Reminds at `now`, in one transaction: each invitation of `mails` still sent — not
    /// answered, expired or opted out — whose reminder the contact policy says is due
    /// gets its e-mail from `sender` queued, a reminder more, and `reminded` logged;
    /// the others' next reminder is set again by the policy (none when opted out), and
    /// the `unaddressed` get none. Returns how many were reminded.
    pub fn remind(
        &self,
        (sender, mails): (&str, &Mails),
        unaddressed: &[i64],
        now: i64,
    ) -> Result<usize> {
        let policy = self.contact_policy()?;
        let tx = self.conn().write()?;
        for id in unaddressed {
            tx.execute(
                "UPDATE invitations SET remind_at = NULL WHERE id = ?1",
                [id],
            )?;
        }
        let mut reminded = 0;
        for (id, mail) in mails {
            let Some(r) = reminders(&tx, *id)? else {
                continue;
            };
            let due = policy.next_reminder(r.sent_at, r.count, r.last.unwrap_or(r.sent_at));
            if r.opted_out || due.is_none_or(|d| d > now) {
                let next = due.filter(|_| !r.opted_out);
                tx.execute(
                    "UPDATE invitations SET remind_at = ?2 WHERE id = ?1",
                    params![id, next],
                )?;
                continue;
            }
            tx.execute(
                "UPDATE invitations SET reminders = ?2, reminded_at = ?3, remind_at = ?4
                 WHERE id = ?1",
                params![
                    id,
                    r.count + 1,
                    now,
                    policy.next_reminder(r.sent_at, r.count + 1, now)
                ],
            )?;
            queue(&tx, (*id, SurveyMail::Reminder), (sender, mail), now)?;
            reminded += 1;
        }
        tx.commit()?;
        Ok(reminded)
    }

    /// Records that invitation `id`'s personal page was shown at `now`, the first time.
    pub fn mark_opened(&self, id: i64, now: i64) -> Result<()> {
        let tx = self.conn().write()?;
        tx.execute(
            "UPDATE invitations SET opened_at = ?2 WHERE id = ?1 AND opened_at IS NULL",
            params![id, now],
        )?;
        tx.commit()?;
        Ok(())
    }
}

/// Where an invitation still sent stands with its reminders.
struct Reminders {
    sent_at: i64,
    count: i64,
    /// The last reminder's time.
    last: Option<i64>,
    opted_out: bool,
}

/// Invitation `id`'s reminders, when it is still sent.
fn reminders(tx: &Conn, id: i64) -> Result<Option<Reminders>> {
    Ok(tx
        .query_row(
            "SELECT i.sent_at, i.reminders, i.reminded_at, o.customer_id IS NOT NULL
             FROM invitations i LEFT JOIN survey_opt_outs o ON o.customer_id = i.customer_id
             WHERE i.id = ?1 AND i.status = 'sent' AND i.sent_at IS NOT NULL",
            [id],
            |r| {
                Ok(Reminders {
                    sent_at: r.get(0)?,
                    count: r.get(1)?,
                    last: r.get(2)?,
                    opted_out: r.get(3)?,
                })
            },
        )
        .optional()?)
}

/// Logs an invitation's e-mail (`sent` or `reminded`) and queues it.
fn queue(
    tx: &Conn,
    (invitation, kind): (i64, SurveyMail),
    (sender, mail): (&str, &Mail),
    now: i64,
) -> Result<()> {
    let decision = match kind {
        SurveyMail::Invitation => "sent",
        SurveyMail::Reminder => "reminded",
    };
    tx.execute(
        "INSERT INTO contact_log (at, customer_id, survey_id, invitation_id, decision)
         SELECT CAST(?1 AS BIGINT), customer_id, survey_id, id, CAST(?2 AS TEXT)
         FROM invitations WHERE id = ?3",
        params![now, decision, invitation],
    )?;
    let about = About::Invitation {
        invitation,
        mail: kind,
    };
    let message = (sender, mail.recipient.as_str(), mail.message.as_slice());
    let at = chrono::DateTime::from_timestamp(now, 0).unwrap_or_default();
    insert(tx, (Channel::Mail, None), about, message, at)
}
