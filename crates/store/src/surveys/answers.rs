//! Answers from the survey page, held here for a grace period — a second submission
//! through the same personal link within it replaces the held answer — and then
//! committed into `responses` through ingestion by the server, which marks each one
//! committed (or refused, with ingestion's reason) afterwards; the mark queues the
//! answer's `response.created` message for every webhook endpoint that wants it.

use std::collections::BTreeMap;

use crate::db::{Conn, OptionalExtension, params};
use cxray_core::schedule::Channel;
use cxray_core::stats::Instrument;
use cxray_core::surveys::Answer;
use cxray_core::webhook::WebhookEvent;
use serde::Serialize;

use crate::ops::{OpsDb, parse_column, stored};
use crate::outbox::{self, About};
use crate::{Result, webhooks};

/// An answer as held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldAnswer {
    pub id: i64,
    pub survey_id: i64,
    /// The survey's name.
    pub survey: String,
    /// None for an answer through the anonymous link.
    pub invitation_id: Option<i64>,
    pub customer_id: Option<String>,
    pub touchpoint: Option<String>,
    pub language: String,
    pub scores: Vec<(Instrument, u8)>,
    pub comment: String,
    /// Seconds since the epoch: the latest submission.
    pub received_at: i64,
    /// From then on it is no longer replaced, and is committed.
    pub final_at: i64,
    pub committed_at: Option<i64>,
}

/// What became of a personal link's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// Held under this id; `replaced` when it took the place of an earlier one.
    Held { id: i64, replaced: bool },
    /// The invitation was answered and its grace period is over.
    Answered,
    /// The invitation has expired.
    Expired,
    /// No such invitation (or one never handed out).
    Unknown,
}

const COLUMNS: &str = "a.id, a.survey_id, s.name, a.invitation_id, a.customer_id, a.touchpoint,
     a.language, a.scores, a.comment, a.received_at, a.final_at, a.committed_at";

impl OpsDb {
    /// Holds the answer given through invitation `invitation`'s personal link at `now`,
    /// final `grace` seconds after the first submission. The first answer marks the
    /// invitation responded and logs it; a later one within the grace period replaces it.
    pub fn hold_answer(
        &self,
        invitation: i64,
        language: &str,
        answer: &Answer,
        now: i64,
        grace: i64,
    ) -> Result<Hold> {
        let tx = self.conn().write()?;
        let found = tx
            .query_row(
                "SELECT status, survey_id, customer_id, touchpoint FROM invitations WHERE id = ?1",
                [invitation],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                },
            )
            .optional()?;
        let Some((status, survey, customer, touchpoint)) = found else {
            return Ok(Hold::Unknown);
        };
        match status.as_str() {
            "expired" => return Ok(Hold::Expired),
            "pending" => return Ok(Hold::Unknown),
            _ => {}
        }
        let held = tx
            .query_row(
                "SELECT id, final_at > ?2 AND committed_at IS NULL AND refused IS NULL
                 FROM survey_answers WHERE invitation_id = ?1",
                params![invitation, now],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, bool>(1)?)),
            )
            .optional()?;
        let hold = match held {
            Some((id, true)) => {
                tx.execute(
                    "UPDATE survey_answers SET language = ?2, scores = ?3, comment = ?4,
                            received_at = ?5
                     WHERE id = ?1",
                    params![id, language, answer.scores_text(), answer.comment, now],
                )?;
                Hold::Held { id, replaced: true }
            }
            Some((_, false)) => Hold::Answered,
            None => {
                let whose = (
                    Some(invitation),
                    Some(customer.as_str()),
                    Some(touchpoint.as_str()),
                );
                let id = insert(&tx, survey, whose, language, answer, (now, now + grace))?;
                tx.execute(
                    "UPDATE invitations SET status = 'responded', responded_at = ?2 WHERE id = ?1",
                    params![invitation, now],
                )?;
                tx.execute(
                    "INSERT INTO contact_log (at, customer_id, survey_id, invitation_id, decision)
                     VALUES (?1, ?2, ?3, ?4, 'responded')",
                    params![now, customer, survey, invitation],
                )?;
                Hold::Held {
                    id,
                    replaced: false,
                }
            }
        };
        tx.commit()?;
        Ok(hold)
    }

    /// Holds an answer given through a survey's anonymous link: no customer, the
    /// survey's touchpoint. Returns its id.
    pub fn hold_anonymous_answer(
        &self,
        survey_id: i64,
        touchpoint: Option<&str>,
        language: &str,
        answer: &Answer,
        now: i64,
        grace: i64,
    ) -> Result<i64> {
        let tx = self.conn().write()?;
        let whose = (None, None, touchpoint);
        let id = insert(&tx, survey_id, whose, language, answer, (now, now + grace))?;
        tx.commit()?;
        Ok(id)
    }

    /// The answer held for an invitation, if any.
    pub fn invitation_answer(&self, invitation: i64) -> Result<Option<HeldAnswer>> {
        Ok(answers_where(self.conn(), "a.invitation_id = ?1", params![invitation])?.pop())
    }

    /// Whether any answer to a personal invitation went into `responses`: the answers
    /// are then collected through cxray's own invitations.
    pub fn invitations_answered(&self) -> Result<bool> {
        Ok(self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM survey_answers
                            WHERE invitation_id IS NOT NULL AND committed_at IS NOT NULL)",
            [],
            |r| r.get(0),
        )?)
    }

    /// Up to `limit` answers final by `now` and neither committed nor refused, oldest
    /// first.
    pub fn due_answers(&self, now: i64, limit: usize) -> Result<Vec<HeldAnswer>> {
        answers_where(
            self.conn(),
            "a.committed_at IS NULL AND a.refused IS NULL AND a.final_at <= ?1
             ORDER BY a.final_at, a.id LIMIT ?2",
            params![now, limit as i64],
        )
    }

    /// Marks answers committed into `responses` at `now` and, in the same transaction,
    /// queues each newly marked one's `response.created` message for every enabled
    /// webhook endpoint that wants it: once per answer.
    pub fn mark_answers_committed(&self, ids: &[i64], now: i64) -> Result<()> {
        let tx = self.conn().write()?;
        let hooks = webhooks::subscribed(&tx, WebhookEvent::ResponseCreated)?;
        let at = chrono::DateTime::from_timestamp(now, 0).unwrap_or_default();
        for id in ids {
            let marked = tx.execute(
                "UPDATE survey_answers SET committed_at = ?2 WHERE id = ?1 AND committed_at IS NULL",
                params![id, now],
            )?;
            if marked == 0 || hooks.is_empty() {
                continue;
            }
            let Some(answer) = answers_where(&tx, "a.id = ?1", params![id])?.pop() else {
                continue;
            };
            let event = WebhookEvent::ResponseCreated;
            let body = webhooks::body(event, &stored(at), Response::of(&answer))?;
            for (hook, url) in &hooks {
                let message = ("", url.as_str(), body.as_slice());
                let about = About::Answer { answer: *id };
                outbox::insert(&tx, (Channel::Webhook, Some(*hook)), about, message, at)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Sets an answer aside that ingestion refused (e.g. its customer was erased), with
    /// the reason: it is not tried again.
    pub fn refuse_answer(&self, id: i64, reason: &str) -> Result<()> {
        let tx = self.conn().write()?;
        tx.execute(
            "UPDATE survey_answers SET refused = ?2 WHERE id = ?1",
            params![id, reason],
        )?;
        tx.commit()?;
        Ok(())
    }
}

/// An answer as a `response.created` message tells it.
#[derive(Serialize)]
struct Response<'a> {
    answer_id: i64,
    survey_id: i64,
    survey: &'a str,
    touchpoint: Option<&'a str>,
    /// None for an answer through the anonymous link.
    customer_id: Option<&'a str>,
    invitation_id: Option<i64>,
    language: &'a str,
    /// Each question's score by its instrument's name (the grade in points, A = 4).
    scores: BTreeMap<&'static str, u8>,
    comment: &'a str,
}

impl<'a> Response<'a> {
    fn of(a: &'a HeldAnswer) -> Self {
        Response {
            answer_id: a.id,
            survey_id: a.survey_id,
            survey: &a.survey,
            touchpoint: a.touchpoint.as_deref(),
            customer_id: a.customer_id.as_deref(),
            invitation_id: a.invitation_id,
            language: &a.language,
            scores: a.scores.iter().map(|(q, s)| (q.name(), *s)).collect(),
            comment: &a.comment,
        }
    }
}

/// Inserts a held answer: for a survey, with its invitation, customer and touchpoint,
/// received and final at the times given. Returns its id.
fn insert(
    tx: &Conn,
    survey: i64,
    (invitation, customer, touchpoint): (Option<i64>, Option<&str>, Option<&str>),
    language: &str,
    answer: &Answer,
    (received, last): (i64, i64),
) -> Result<i64> {
    Ok(tx.insert(
        "INSERT INTO survey_answers (survey_id, invitation_id, customer_id, touchpoint,
             language, scores, comment, received_at, final_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            survey,
            invitation,
            customer,
            touchpoint,
            language,
            answer.scores_text(),
            answer.comment,
            received,
            last
        ],
    )?)
}

fn answers_where(
    conn: &Conn,
    condition: &str,
    values: impl crate::db::Params,
) -> Result<Vec<HeldAnswer>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM survey_answers a JOIN surveys s ON s.id = a.survey_id
         WHERE {condition}"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(values, |r| {
        Ok(HeldAnswer {
            id: r.get(0)?,
            survey_id: r.get(1)?,
            survey: r.get(2)?,
            invitation_id: r.get(3)?,
            customer_id: r.get(4)?,
            touchpoint: r.get(5)?,
            language: r.get(6)?,
            scores: parse_column(r, 7, |t| {
                Answer::parse_scores(t).ok_or_else(|| format!("scores '{t}'"))
            })?,
            comment: r.get(8)?,
            received_at: r.get(9)?,
            final_at: r.get(10)?,
            committed_at: r.get(11)?,
        })
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use cxray_core::surveys::{ContactPolicy, InvitationRule, Survey};

    use super::*;
    use crate::ops::temp_db;
    use crate::surveys::Candidate;

    const DAY: i64 = 86_400;

    fn answer(nps: u8) -> Answer {
        Answer {
            scores: vec![(Instrument::Nps, nps)],
            comment: "ok".into(),
        }
    }

    /// A database with one survey and two invitations sent at `now`: their ids.
    fn invited(db: &OpsDb, now: i64) -> Vec<i64> {
        let survey = Survey {
            name: "After check-in".into(),
            touchpoint: Some("check_in".into()),
            questions: vec![Instrument::Nps],
            comment: true,
            languages: vec!["en".into()],
        };
        db.add_survey("ann", &survey).unwrap();
        let rule = InvitationRule {
            name: "r".into(),
            survey: survey.name,
            touchpoint: "check_in".into(),
            delay_hours: 0.0,
            sample_rate: 1.0,
            customers: None,
            survey_cooldown_days: 0,
            touchpoint_cooldown_days: 0,
        };
        let rule = db.add_survey_rule("ann", &rule, None).unwrap();
        let policy = ContactPolicy {
            holdout_share: 0.0,
            global_cooldown_days: 0,
            ..ContactPolicy::default()
        };
        db.set_contact_policy("ann", &policy).unwrap();
        let candidates: Vec<Candidate> = ["c1", "c2"]
            .iter()
            .map(|c| Candidate {
                key: c.to_string(),
                customer_id: c.to_string(),
                at: now - DAY,
                language: None,
            })
            .collect();
        db.invite(&rule, &candidates, None, &[1; 32]).unwrap();
        db.send_due(cxray_core::surveys::SurveyChannel::Link, now)
            .unwrap()
            .iter()
            .map(|i| i.id)
            .collect()
    }

    #[test]
    fn an_answer_is_replaced_within_its_grace_period_and_then_final() {
        let (_dir, db) = temp_db();
        let now = 1_000 * DAY;
        let ids = invited(&db, now);
        let first = db.hold_answer(ids[0], "en", &answer(3), now, 60).unwrap();
        let Hold::Held {
            id,
            replaced: false,
        } = first
        else {
            panic!("{first:?}")
        };
        assert_eq!(db.invitation(ids[0]).unwrap().unwrap().status, "responded");
        let again = db.hold_answer(ids[0], "de", &answer(9), now + 59, 60);
        assert_eq!(again.unwrap(), Hold::Held { id, replaced: true });
        let held = db.invitation_answer(ids[0]).unwrap().unwrap();
        assert_eq!(held.scores, vec![(Instrument::Nps, 9)]);
        assert_eq!(
            (held.language.as_str(), held.received_at, held.final_at),
            ("de", now + 59, now + 60),
            "the grace period runs from the first answer"
        );
        assert_eq!(held.customer_id.as_deref(), Some("c1"));
        assert!(db.due_answers(now + 59, 10).unwrap().is_empty());
        let late = db.hold_answer(ids[0], "en", &answer(1), now + 60, 60);
        assert_eq!(late.unwrap(), Hold::Answered);

        let anonymous = db
            .hold_anonymous_answer(held.survey_id, Some("check_in"), "en", &answer(5), now, 0)
            .unwrap();
        let due: Vec<i64> = db
            .due_answers(now + 60, 10)
            .unwrap()
            .iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(due, vec![anonymous, id]);
        assert!(!db.invitations_answered().unwrap(), "held, not committed");
        db.mark_answers_committed(&[id], now + 61).unwrap();
        assert!(db.invitations_answered().unwrap());
        db.refuse_answer(anonymous, "erased").unwrap();
        assert!(db.due_answers(now + 60, 10).unwrap().is_empty());
        let log = db.contact_log("c1").unwrap();
        let responded = log.iter().filter(|e| e.decision == "responded").count();
        assert_eq!(responded, 1, "logged once");

        assert_eq!(
            db.hold_answer(999, "en", &answer(1), now, 60).unwrap(),
            Hold::Unknown
        );
        db.expire_invitations(now + 400 * DAY, 100).unwrap();
        assert_eq!(
            db.hold_answer(ids[1], "en", &answer(1), now + 400 * DAY, 60)
                .unwrap(),
            Hold::Expired
        );
    }
}
