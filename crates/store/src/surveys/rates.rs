//! Response rates and reach: the invitations sent, grouped by survey, touchpoint, channel
//! or week — how many were answered, reminded, expired, how many customers they reached
//! and how long answers took.

use std::collections::BTreeMap;

use rusqlite::params;
use serde::Serialize;

use crate::Result;
use crate::ops::OpsDb;

/// What invitations are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RateGroup {
    Survey,
    Touchpoint,
    Channel,
    /// The ISO week the invitation went out (a survey round).
    Week,
}

impl RateGroup {
    /// The grouping's name for people.
    pub fn label(self) -> &'static str {
        match self {
            RateGroup::Survey => "survey",
            RateGroup::Touchpoint => "touchpoint",
            RateGroup::Channel => "channel",
            RateGroup::Week => "week sent",
        }
    }

    /// The group of an invitation row, as SQL over `i` (invitations) and `s` (surveys).
    fn expression(self) -> &'static str {
        match self {
            RateGroup::Survey => "s.name",
            RateGroup::Touchpoint => "i.touchpoint",
            RateGroup::Channel => "COALESCE(i.channel, '')",
            RateGroup::Week => "strftime('%Y-W%W', i.sent_at, 'unixepoch')",
        }
    }
}

/// One group's invitations sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Reach {
    pub group: String,
    pub sent: u64,
    pub responded: u64,
    pub reminded: u64,
    pub expired: u64,
    /// E-mailed through the outbox; their e-mails accepted by the mail server; their
    /// pages shown.
    pub emailed: u64,
    pub delivered: u64,
    pub opened: u64,
    /// Different customers sent an invitation.
    pub customers: u64,
    /// Hours from sending to the answer: the median, of those answered.
    pub median_hours_to_respond: Option<f64>,
}

impl OpsDb {
    /// The invitations sent, grouped `by`, in the group's order.
    pub fn reach(&self, by: RateGroup) -> Result<Vec<Reach>> {
        let sql = format!(
            "SELECT {} AS grp, i.customer_id, i.status, i.reminders, i.responded_at - i.sent_at,
                    i.opened_at IS NOT NULL,
                    EXISTS (SELECT 1 FROM outbox o WHERE o.invitation_id = i.id
                            AND o.event = 'invitation'),
                    EXISTS (SELECT 1 FROM outbox o WHERE o.invitation_id = i.id
                            AND o.event = 'invitation' AND o.status = 'sent')
             FROM invitations i JOIN surveys s ON s.id = i.survey_id
             WHERE i.sent_at IS NOT NULL ORDER BY grp",
            by.expression()
        );
        let mut stmt = self.conn().prepare(&sql)?;
        let mut rows = stmt.query(params![])?;
        let mut groups: BTreeMap<String, (Reach, Vec<String>, Vec<i64>)> = BTreeMap::new();
        while let Some(r) = rows.next()? {
            let group: String = r.get(0)?;
            let (reach, customers, waits) = groups.entry(group.clone()).or_insert_with(|| {
                let reach = Reach {
                    group,
                    ..Reach::default()
                };
                (reach, Vec::new(), Vec::new())
            });
            customers.push(r.get(1)?);
            let status: String = r.get(2)?;
            reach.sent += 1;
            reach.responded += u64::from(status == "responded");
            reach.expired += u64::from(status == "expired");
            reach.reminded += u64::from(r.get::<_, i64>(3)? > 0);
            reach.opened += u64::from(r.get::<_, bool>(5)?);
            reach.emailed += u64::from(r.get::<_, bool>(6)?);
            reach.delivered += u64::from(r.get::<_, bool>(7)?);
            if let Some(wait) = r.get::<_, Option<i64>>(4)? {
                waits.push(wait);
            }
        }
        Ok(groups
            .into_values()
            .map(|(mut reach, mut customers, mut waits)| {
                customers.sort_unstable();
                customers.dedup();
                reach.customers = customers.len() as u64;
                waits.sort_unstable();
                reach.median_hours_to_respond =
                    (!waits.is_empty()).then(|| waits[waits.len() / 2] as f64 / 3600.0);
                reach
            })
            .collect())
    }
}
