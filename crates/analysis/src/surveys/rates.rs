//! Response rates: each group's reach with the shares answered, delivered and opened and
//! their Wilson intervals,
//! by survey, touchpoint, owner (as the journey sees the touchpoint's owner), channel or
//! week; for an owner, only the invitations about their own touchpoints.

use cxray_core::stats::{Estimate, Settings, share};
use cxray_core::surveys::SurveyChannel;
use cxray_store::Result;
use cxray_store::ops::OpsDb;
use cxray_store::sql::Sql;
use cxray_store::surveys::{Ownership, RateGroup, Reach};
use serde::Serialize;

/// One group's response rate beside its reach.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rate {
    #[serde(flatten)]
    pub reach: Reach,
    /// The group as people read it (a channel by its name).
    pub name: String,
    /// The share of the invitations sent that were answered; none when none were sent.
    pub response_rate: Option<Estimate>,
    /// The share of the e-mailed invitations whose e-mail the mail server accepted.
    pub delivery_rate: Option<Estimate>,
    /// The share of the invitations sent whose page was opened.
    pub open_rate: Option<Estimate>,
}

/// The response rates grouped `by`, of every invitation sent or, with `only`, of those
/// about that owner's touchpoints.
pub async fn rates(sql: &Sql, ops: &OpsDb, by: RateGroup, only: Option<&str>) -> Result<Vec<Rate>> {
    let ownership = Ownership {
        owners: match (by, only) {
            (RateGroup::Owner, _) | (_, Some(_)) => {
                crate::cases::touchpoint_owners(sql, ops).await?
            }
            _ => Default::default(),
        },
        only: only.map(String::from),
    };
    let settings = Settings::default();
    Ok(ops
        .reach(by, &ownership)?
        .into_iter()
        .map(|reach| Rate {
            name: name(by, &reach.group),
            response_rate: share(reach.responded, reach.sent, &settings),
            delivery_rate: share(reach.delivered, reach.emailed, &settings),
            open_rate: share(reach.opened, reach.sent, &settings),
            reach,
        })
        .collect())
}

/// A group's name for people: a channel's label, else the group itself.
fn name(by: RateGroup, group: &str) -> String {
    let channel = (by == RateGroup::Channel)
        .then(|| group.parse::<SurveyChannel>().ok())
        .flatten();
    channel.map_or(group.to_string(), |c| c.label().to_string())
}
