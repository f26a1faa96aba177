//! Invitations: the decisions on the customers a rule triggered on, taken in the order
//! their invitations would go out under the contact policy, against every invitation
//! they had; the personal links handed out; invitations expired; and the log of every
//! decision.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::db::{Conn, ROWS_PER_INSERT, ToValue, Tx, Value, params};
use cxray_core::access::PseudonymKey;
use cxray_core::surveys::{Contact, ContactPolicy, Decision, Draw, SurveyChannel, decide};
use serde::Serialize;

use super::StoredRule;
use crate::Result;
use crate::ops::OpsDb;

const HOUR: i64 = 3_600;

/// An interaction a rule triggered on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The event's key ([`cxray_core::cases::event_key`]): one invitation per rule and event.
    pub key: String,
    pub customer_id: String,
    /// When the interaction happened, seconds since the epoch.
    pub at: i64,
    /// The customer's language (a `language` column of customers), if known.
    pub language: Option<String>,
}

/// What a rule's scan decided.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Invited {
    pub events: usize,
    pub invited: usize,
    /// Suppressed customers by reason code.
    pub suppressed: BTreeMap<&'static str, usize>,
}

/// An invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invitation {
    pub id: i64,
    pub survey_id: i64,
    pub customer_id: String,
    pub touchpoint: String,
    pub send_at: i64,
    pub status: String,
    pub expires_at: Option<i64>,
    pub language: Option<String>,
    /// When its personal page was first shown.
    pub opened_at: Option<i64>,
}

/// A survey's invitations by status (pending, sent, responded, expired) and suppressions
/// by reason code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SurveyCounts {
    pub invitations: BTreeMap<String, usize>,
    pub suppressed: BTreeMap<String, usize>,
}

/// One entry of the contact log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactEntry {
    pub at: i64,
    pub survey_id: Option<i64>,
    pub invitation_id: Option<i64>,
    /// invited, suppressed, sent, reminded, expired, responded, opted_out.
    pub decision: String,
    /// The suppression's reason code.
    pub reason: Option<String>,
}

impl OpsDb {
    /// Decides on every candidate of `rule` and records the invitations and the
    /// suppressions with their reasons, moving the rule's watermark to `version` in the
    /// same transaction, so a scan that fails records nothing and a repeated one finds
    /// nothing new. When the watermark moved since `rule` was read (another scan decided
    /// on these interactions), nothing is recorded.
    pub fn invite(
        &self,
        rule: &StoredRule,
        candidates: &[Candidate],
        version: Option<u64>,
        key: &PseudonymKey,
    ) -> Result<Invited> {
        let policy = self.contact_policy()?;
        let delay = (rule.rule.delay_hours * HOUR as f64).round() as i64;
        let mut order: Vec<&Candidate> = candidates.iter().collect();
        order.sort_unstable_by(|a, b| (a.at, &a.key).cmp(&(b.at, &b.key)));
        let tx = self.conn().write()?;
        if watermark(&tx, rule.id)? != rule.watermark {
            // Another scan evaluated these interactions meanwhile.
            return Ok(Invited::default());
        }
        let since = order.first().map_or(0, |c| c.at + delay) - lookback(&policy, rule);
        let mut history = history(&tx, &order, since)?;
        let opted_out = opted_out(&tx)?;
        let mut out = Invited {
            events: candidates.len(),
            ..Invited::default()
        };
        let mut decided = Vec::with_capacity(order.len());
        for c in order {
            let draw = Draw {
                customer: &c.customer_id,
                event: &c.key,
                at: c.at + delay,
                survey: rule.survey_id,
                touchpoint: &rule.rule.touchpoint,
                opted_out: opted_out.contains(&c.customer_id),
            };
            let past = history
                .get_mut(&c.customer_id)
                .expect("every candidate's history");
            let decision = decide(&policy, (rule.id, &rule.rule), &draw, past, key);
            match decision {
                Decision::Invite => {
                    past.push(Contact {
                        at: draw.at,
                        survey: rule.survey_id,
                        touchpoint: rule.rule.touchpoint.clone(),
                    });
                    out.invited += 1;
                }
                Decision::Suppress(why) => *out.suppressed.entry(why.code()).or_default() += 1,
            }
            decided.push((c, draw.at, decision));
        }
        // Written by customer, so the indexes by customer grow in order.
        decided.sort_unstable_by(|a, b| (&a.0.customer_id, a.1).cmp(&(&b.0.customer_id, b.1)));
        let mut logged = Vec::with_capacity(ROWS_PER_INSERT);
        // Sent as they fill a statement, so a large scan does not hold every row.
        for (c, at, decision) in decided {
            logged.push(record(&tx, rule, c, at, decision)?);
            if logged.len() == ROWS_PER_INSERT {
                tx.insert_rows(LOG_DECISION, &logged)?;
                logged.clear();
            }
        }
        tx.insert_rows(LOG_DECISION, &logged)?;
        tx.execute(
            "UPDATE survey_rules SET watermark = ?1 WHERE id = ?2",
            params![version.map(|v| v as i64), rule.id],
        )?;
        tx.commit()?;
        Ok(out)
    }

    /// Hands out the pending invitations due by `now` as personal links: each becomes
    /// sent through `channel`, expiring by the contact policy, and logged.
    pub fn send_due(&self, channel: SurveyChannel, now: i64) -> Result<Vec<Invitation>> {
        self.send_where(channel, now, "status = 'pending' AND send_at <= ?1")
    }

    /// Hands out as personal links, like [`OpsDb::send_due`], only the pending
    /// invitations due by `now` that the e-mail round found without an address.
    pub fn send_unaddressed(&self, now: i64) -> Result<Vec<Invitation>> {
        let due = "status = 'pending' AND send_at <= ?1 AND unaddressed_at IS NOT NULL";
        self.send_where(SurveyChannel::Link, now, due)
    }

    /// Sends the invitations meeting `due` (`?1` is `now`) through `channel`.
    fn send_where(&self, channel: SurveyChannel, now: i64, due: &str) -> Result<Vec<Invitation>> {
        let policy = self.contact_policy()?;
        let tx = self.conn().write()?;
        let mut sent = invitations_where(&tx, &format!("{due} ORDER BY id"), params![now])?;
        let expires = policy.expires(now);
        tx.execute(
            &format!(
                "UPDATE invitations SET status = 'sent', channel = ?2, sent_at = ?1,
                        expires_at = ?3 WHERE {due}"
            ),
            params![now, channel.name(), expires],
        )?;
        for i in &mut sent {
            (i.status, i.expires_at) = ("sent".into(), Some(expires));
        }
        log_each(&tx, &sent, now, "sent")?;
        tx.commit()?;
        Ok(sent)
    }

    /// Marks up to `limit` sent invitations past their expiry by `now` expired, and logs
    /// them.
    pub fn expire_invitations(&self, now: i64, limit: usize) -> Result<usize> {
        let tx = self.conn().write()?;
        let past = "status = 'sent' AND expires_at < ?1 ORDER BY id LIMIT ?2";
        let expired = invitations_where(&tx, past, params![now, limit as i64])?;
        let mut mark =
            tx.prepare_cached("UPDATE invitations SET status = 'expired' WHERE id = ?1")?;
        for i in &expired {
            mark.execute([i.id])?;
        }
        drop(mark);
        log_each(&tx, &expired, now, "expired")?;
        tx.commit()?;
        Ok(expired.len())
    }

    /// Every invitation sent (answered, expired or still open): customer and time sent.
    pub fn sent_invitations(&self) -> Result<Vec<(String, i64)>> {
        let mut stmt = self.conn().prepare(
            "SELECT customer_id, sent_at FROM invitations WHERE sent_at IS NOT NULL ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Every customer a rule triggered on (intention to treat: asked or not), from their
    /// first decision: customer, time, held out of every survey. Customers who opted out
    /// are left out (the holdout is not drawn for them).
    pub fn first_contacts(&self) -> Result<Vec<(String, i64, bool)>> {
        let mut stmt = self.conn().prepare(
            "SELECT customer_id, MIN(at),
                    MAX(CASE WHEN reason = 'holdout' THEN 1 ELSE 0 END)
             FROM contact_log WHERE decision IN ('invited', 'suppressed')
             GROUP BY customer_id
             HAVING MAX(CASE WHEN reason = 'opted_out' THEN 1 ELSE 0 END) = 0
             ORDER BY customer_id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// The invitation with this id.
    pub fn invitation(&self, id: i64) -> Result<Option<Invitation>> {
        Ok(invitations_where(self.conn(), "id = ?1", params![id])?.pop())
    }

    /// Every contact decision about a customer, oldest first: why they were or were not
    /// asked.
    pub fn contact_log(&self, customer_id: &str) -> Result<Vec<ContactEntry>> {
        let mut stmt = self.conn().prepare(
            "SELECT at, survey_id, invitation_id, decision, reason FROM contact_log
             WHERE customer_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([customer_id], |r| {
            Ok(ContactEntry {
                at: r.get(0)?,
                survey_id: r.get(1)?,
                invitation_id: r.get(2)?,
                decision: r.get(3)?,
                reason: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// A survey's invitations by status and its suppressions by reason code.
    pub fn survey_counts(&self, survey_id: i64) -> Result<SurveyCounts> {
        let count = |sql: &str| -> Result<BTreeMap<String, usize>> {
            let mut stmt = self.conn().prepare(sql)?;
            let rows = stmt.query_map([survey_id], |r| {
                Ok((r.get(0)?, r.get::<_, i64>(1)? as usize))
            })?;
            Ok(rows.collect::<std::result::Result<_, _>>()?)
        };
        Ok(SurveyCounts {
            invitations: count(
                "SELECT status, COUNT(*) FROM invitations WHERE survey_id = ?1 GROUP BY status",
            )?,
            suppressed: count(
                "SELECT reason, COUNT(*) FROM contact_log
                 WHERE survey_id = ?1 AND decision = 'suppressed' GROUP BY reason",
            )?,
        })
    }

    /// Records that a customer wants no more surveys (`via` says how: a link, an admin).
    pub fn opt_out(&self, customer_id: &str, via: &str, now: i64) -> Result<()> {
        let tx = self.conn().write()?;
        let added = tx.execute(
            "INSERT INTO survey_opt_outs (customer_id, at, via) VALUES (?1, ?2, ?3)
             ON CONFLICT DO NOTHING",
            params![customer_id, now, via],
        )?;
        if added > 0 {
            tx.execute(
                "INSERT INTO contact_log (at, customer_id, decision, reason)
                 VALUES (?1, ?2, 'opted_out', ?3)",
                params![now, customer_id, via],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// The rule's watermark as stored.
fn watermark(tx: &Tx, rule: i64) -> Result<Option<u64>> {
    let stored: Option<i64> = tx.query_row(
        "SELECT watermark FROM survey_rules WHERE id = ?1",
        [rule],
        |r| r.get(0),
    )?;
    Ok(stored.map(|v| v as u64))
}

/// How far back invitations matter to a decision: the longest cooldown or window.
fn lookback(policy: &ContactPolicy, rule: &StoredRule) -> i64 {
    let r = &rule.rule;
    let days = [
        policy.global_cooldown_days,
        policy.window_days,
        r.survey_cooldown_days,
        r.touchpoint_cooldown_days,
    ];
    days.into_iter().max().unwrap_or(0) * 86_400
}

/// The invitations of the candidates' customers going out after `since`, by customer
/// (read through the index by customer, so a scan of a few events reads a few rows).
fn history(
    tx: &Tx,
    candidates: &[&Candidate],
    since: i64,
) -> Result<HashMap<String, Vec<Contact>>> {
    let mut stmt = tx.prepare(
        "SELECT send_at, survey_id, touchpoint FROM invitations
         WHERE customer_id = ?1 AND send_at > ?2",
    )?;
    let mut out: HashMap<String, Vec<Contact>> = HashMap::new();
    for c in candidates {
        if out.contains_key(&c.customer_id) {
            continue;
        }
        let rows = stmt.query_map(params![c.customer_id, since], |r| {
            Ok(Contact {
                at: r.get(0)?,
                survey: r.get(1)?,
                touchpoint: r.get(2)?,
            })
        })?;
        let contacts = rows.collect::<std::result::Result<_, _>>()?;
        out.insert(c.customer_id.clone(), contacts);
    }
    Ok(out)
}

fn opted_out(tx: &Tx) -> Result<HashSet<String>> {
    let mut stmt = tx.prepare("SELECT customer_id FROM survey_opt_outs")?;
    let ids = stmt.query_map([], |r| r.get(0))?;
    Ok(ids.collect::<std::result::Result<_, _>>()?)
}

/// Inserts an invitation.
const INSERT_INVITATION: &str = "INSERT INTO invitations (rule_id, survey_id, event_key,
        customer_id, touchpoint, event_at, send_at, status, language)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8)";

/// Logs contact decisions.
const LOG_DECISION: &str = "INSERT INTO contact_log (at, customer_id, rule_id, survey_id,
        invitation_id, event_key, decision, reason)";

/// Records a decision on `c`, whose invitation would go out `at`: inserts the invitation,
/// and returns the decision's row of the contact log.
fn record(tx: &Conn, rule: &StoredRule, c: &Candidate, at: i64, d: Decision) -> Result<[Value; 8]> {
    let (invitation, decision, reason) = match d {
        Decision::Invite => {
            let params = params![
                rule.id,
                rule.survey_id,
                c.key,
                c.customer_id,
                rule.rule.touchpoint,
                c.at,
                at,
                c.language
            ];
            (Some(tx.insert(INSERT_INVITATION, params)?), "invited", None)
        }
        Decision::Suppress(why) => (None, "suppressed", Some(why.code())),
    };
    // An invitation keeps its event's key; a suppression logs it.
    let key = invitation.is_none().then_some(c.key.as_str());
    Ok([
        at.to_value()?,
        c.customer_id.to_value()?,
        rule.id.to_value()?,
        rule.survey_id.to_value()?,
        invitation.to_value()?,
        key.to_value()?,
        decision.to_value()?,
        reason.to_value()?,
    ])
}

/// Logs steps of invitations: rows of [`contact_row`].
pub(super) const LOG_CONTACT: &str =
    "INSERT INTO contact_log (at, customer_id, survey_id, invitation_id, decision)";

/// A row of [`LOG_CONTACT`]: `decision` on the customer's invitation of the survey at `at`.
pub(super) fn contact_row(
    at: i64,
    customer: &str,
    survey: i64,
    invitation: i64,
    decision: &str,
) -> crate::db::DbResult<[Value; 5]> {
    Ok([
        at.to_value()?,
        customer.to_value()?,
        survey.to_value()?,
        invitation.to_value()?,
        decision.to_value()?,
    ])
}

/// Logs `decision` at `at` for each invitation.
fn log_each(tx: &Tx, invitations: &[Invitation], at: i64, decision: &str) -> Result<()> {
    let rows = invitations
        .iter()
        .map(|i| contact_row(at, &i.customer_id, i.survey_id, i.id, decision))
        .collect::<crate::db::DbResult<Vec<_>>>()?;
    Ok(tx.insert_rows(LOG_CONTACT, &rows)?)
}

pub(super) fn invitations_where(
    conn: &Conn,
    condition: &str,
    values: impl crate::db::Params,
) -> Result<Vec<Invitation>> {
    let sql = format!(
        "SELECT id, survey_id, customer_id, touchpoint, send_at, status, expires_at, language,
                opened_at
         FROM invitations WHERE {condition}"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(values, |r| {
        Ok(Invitation {
            id: r.get(0)?,
            survey_id: r.get(1)?,
            customer_id: r.get(2)?,
            touchpoint: r.get(3)?,
            send_at: r.get(4)?,
            status: r.get(5)?,
            expires_at: r.get(6)?,
            language: r.get(7)?,
            opened_at: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}
