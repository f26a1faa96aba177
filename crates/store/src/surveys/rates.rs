//! Response rates and reach: the invitations sent, grouped by survey, touchpoint, owner,
//! channel or week — how many were answered, reminded, expired, how many customers they
//! reached and how long answers took.

use std::collections::BTreeMap;

use crate::db::params;
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::ops::OpsDb;

/// What invitations are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateGroup {
    Survey,
    Touchpoint,
    /// The owner of the invitation's touchpoint ([`NO_OWNER`] for none).
    Owner,
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
            RateGroup::Owner => "owner",
            RateGroup::Channel => "channel",
            RateGroup::Week => "week sent",
        }
    }

    /// The group of an invitation row, as SQL over `i` (invitations) and `s` (surveys);
    /// by owner the touchpoint, named by its owner afterwards; by week the time sent,
    /// named by its week afterwards.
    fn expression(self) -> &'static str {
        match self {
            RateGroup::Survey => "s.name",
            RateGroup::Touchpoint | RateGroup::Owner => "i.touchpoint",
            RateGroup::Channel => "COALESCE(i.channel, '')",
            RateGroup::Week => "i.sent_at",
        }
    }
}

/// The week of a time in seconds since the epoch (UTC), as `2026-W48`: weeks start on
/// Monday, and the days before a year's first Monday are its week 00.
fn week(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map_or_else(String::new, |t| t.format("%Y-W%W").to_string())
}

/// The group of invitations about touchpoints without an owner.
pub const NO_OWNER: &str = "No owner";

/// Who owns which touchpoint, and whose invitations count.
#[derive(Debug, Clone, Default)]
pub struct Ownership {
    /// Touchpoint → its owner; a touchpoint not here has none.
    pub owners: BTreeMap<String, String>,
    /// Only the invitations about this owner's touchpoints; all when none.
    pub only: Option<String>,
}

impl Ownership {
    fn owner(&self, touchpoint: &str) -> &str {
        self.owners.get(touchpoint).map_or(NO_OWNER, String::as_str)
    }

    fn counts(&self, touchpoint: &str) -> bool {
        self.only
            .as_deref()
            .is_none_or(|o| self.owners.get(touchpoint).map(String::as_str) == Some(o))
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
    /// pages shown (an answered invitation's page was: answers come through it).
    pub emailed: u64,
    pub delivered: u64,
    pub opened: u64,
    /// Different customers sent an invitation.
    pub customers: u64,
    /// Hours from sending to the answer: the median, of those answered.
    pub median_hours_to_respond: Option<f64>,
}

impl OpsDb {
    /// The invitations sent that `ownership` counts, grouped `by`, in the group's order.
    pub fn reach(&self, by: RateGroup, ownership: &Ownership) -> Result<Vec<Reach>> {
        let sql = format!(
            "SELECT {} AS grp, i.customer_id, i.status, i.reminders, i.responded_at - i.sent_at,
                    i.touchpoint, (i.opened_at IS NOT NULL OR i.status = 'responded') AS opened,
                    EXISTS (SELECT 1 FROM outbox o WHERE o.invitation_id = i.id
                            AND o.event = 'invitation') AS emailed,
                    EXISTS (SELECT 1 FROM outbox o WHERE o.invitation_id = i.id
                            AND o.event = 'invitation' AND o.status = 'sent') AS delivered
             FROM invitations i JOIN surveys s ON s.id = i.survey_id
             WHERE i.sent_at IS NOT NULL ORDER BY grp",
            by.expression()
        );
        let mut stmt = self.conn().prepare(&sql)?;
        let rows = stmt.query(params![])?;
        let mut groups: BTreeMap<String, (Reach, Vec<String>, Vec<i64>)> = BTreeMap::new();
        for r in &rows {
            let touchpoint: String = r.get("touchpoint")?;
            if !ownership.counts(&touchpoint) {
                continue;
            }
            let group: String = match by {
                RateGroup::Owner => ownership.owner(&touchpoint).to_string(),
                RateGroup::Week => week(r.get(0)?),
                _ => r.get(0)?,
            };
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
            reach.opened += u64::from(r.get::<_, bool>("opened")?);
            reach.emailed += u64::from(r.get::<_, bool>("emailed")?);
            reach.delivered += u64::from(r.get::<_, bool>("delivered")?);
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
