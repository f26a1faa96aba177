//! Invitations played forward through time, as a world that already happened lived them:
//! each pending invitation due by the end is sent when due, answered when its customer
//! answered before it expired, else reminded under the contact policy and expired — every
//! step logged at its time. The demo world's invitations get their history this way.

use std::collections::HashMap;

use crate::db::{ROWS_PER_INSERT, params};
use cxray_core::surveys::SurveyChannel;
use serde::Serialize;

use super::invite::{LOG_CONTACT, contact_row};
use crate::Result;
use crate::ops::OpsDb;

/// What the replay did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Replayed {
    pub sent: usize,
    pub responded: usize,
    pub reminded: usize,
    pub expired: usize,
}

impl OpsDb {
    /// Plays the pending invitations due by `end` (seconds since the epoch) forward
    /// through `channel`; `answered` holds each customer's answer times, ascending.
    pub fn replay_invitations(
        &self,
        end: i64,
        channel: SurveyChannel,
        answered: &HashMap<String, Vec<i64>>,
    ) -> Result<Replayed> {
        let policy = self.contact_policy()?;
        let tx = self.conn().write()?;
        let due: Vec<(i64, String, i64, i64)> = {
            let mut stmt = tx.prepare(
                "SELECT id, customer_id, survey_id, send_at FROM invitations
                 WHERE status = 'pending' AND send_at <= ?1 ORDER BY send_at",
            )?;
            let rows =
                stmt.query_map([end], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        let mut update = tx.prepare(
            "UPDATE invitations SET status = ?2, channel = ?3, sent_at = ?4, expires_at = ?5,
                    reminders = ?6, reminded_at = ?7, responded_at = ?8 WHERE id = ?1",
        )?;
        let mut logged = Vec::with_capacity(ROWS_PER_INSERT);
        let mut out = Replayed::default();
        for (id, customer, survey, sent) in due {
            let expires = policy.expires(sent);
            let answer = answered
                .get(&customer)
                .and_then(|times| times.iter().find(|t| **t >= sent && **t <= expires))
                .copied();
            let mut steps = vec![(sent, "sent")];
            let (mut reminded, mut last) = (0, sent);
            while let Some(due) = policy.next_reminder(sent, reminded, last) {
                if answer.is_some_and(|a| a <= due) || due > end {
                    break;
                }
                steps.push((due, "reminded"));
                (reminded, last) = (reminded + 1, due);
            }
            let status = match answer {
                Some(at) => {
                    steps.push((at, "responded"));
                    "responded"
                }
                None if expires < end => {
                    steps.push((expires, "expired"));
                    "expired"
                }
                None => "sent",
            };
            let reminded_at = (reminded > 0).then_some(last);
            update.execute(params![
                id,
                status,
                channel.name(),
                sent,
                expires,
                reminded,
                reminded_at,
                answer
            ])?;
            for (at, decision) in steps {
                logged.push(contact_row(at, &customer, survey, id, decision)?);
            }
            if logged.len() >= ROWS_PER_INSERT {
                tx.insert_rows(LOG_CONTACT, &logged)?;
                logged.clear();
            }
            out.sent += 1;
            out.reminded += reminded as usize;
            out.responded += usize::from(status == "responded");
            out.expired += usize::from(status == "expired");
        }
        drop(update);
        tx.insert_rows(LOG_CONTACT, &logged)?;
        tx.commit()?;
        Ok(out)
    }
}
