//! Feedback collection in the operational database: surveys and the rules that invite to
//! them ([`define`]), the contact policy, and the invitations the analysis layer's scan
//! decides on — each decision, invited or suppressed with its reason, logged so "why was
//! this customer not asked?" has an answer ([`invite`]); what happens to an invitation
//! afterwards (sent, reminded, expired, answered) is logged the same way, and a world that
//! already happened can play its invitations forward ([`replay`]). Invitations and their
//! reminders go out by e-mail through the outbox ([`email`]). Answers from the survey
//! page are held for a grace period before they are committed ([`answers`]), each then
//! posted to the webhook endpoints that want `response.created`.

mod answers;
pub mod check;
mod define;
mod email;
mod forget;
mod invite;
mod rates;
mod replay;

/// The tests, on each backend of the operational database.
#[cfg(test)]
pub(crate) mod tests {
    crate::on_each_backend!("surveys/tests.rs");
    pub(crate) use sqlite::{rule, survey};
}

use cxray_core::surveys::{InvitationRule, Survey};
use serde::Serialize;

pub use answers::{HeldAnswer, Hold};
pub use email::Mails;
pub use invite::{Candidate, ContactEntry, Invitation, Invited, SurveyCounts};
pub use rates::{NO_OWNER, Ownership, RateGroup, Reach};
pub use replay::Replayed;

/// A survey as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredSurvey {
    pub id: i64,
    #[serde(flatten)]
    pub survey: Survey,
    /// The id of its anonymous link.
    pub public_id: String,
    pub enabled: bool,
}

/// An invitation rule as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredRule {
    pub id: i64,
    pub survey_id: i64,
    #[serde(flatten)]
    pub rule: InvitationRule,
    pub enabled: bool,
    /// The interactions' version the rule has evaluated; none before its first scan.
    pub watermark: Option<u64>,
}
