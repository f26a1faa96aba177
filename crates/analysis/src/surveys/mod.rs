//! Feedback collection over the data: the invitation rules evaluated on the interactions
//! gained since each rule's watermark ([`scan`]), the store deciding on each customer
//! under the contact policy. Run after imports into interactions, after ingestion
//! commits in the server, and on demand (`cxray survey scan`); running it again changes
//! nothing. Who answers among the invited, and the NPS of everyone invited
//! ([`respondents`]). Surveys, rules and the policy as people enter them, checked and
//! stored ([`add_survey`], [`add_rule`], [`change_policy`]); response rates ([`rates`]);
//! customers' e-mail addresses for the invitations sent by e-mail ([`addresses`]).

pub mod addresses;
mod asking;
mod define;
pub mod demo;
mod invite;
pub mod population;
mod rates;
pub mod respondents;

pub use asking::{AskingEffect, asking_effect};
pub use define::{NewRule, NewSurvey, add_rule, add_survey, change_policy};
pub use invite::{RuleInvited, scan, watched};
pub use rates::{Rate, rates};
