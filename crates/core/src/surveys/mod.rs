//! Feedback collection: surveys (questions from the instruments, texts in several
//! languages), the rules that invite customers after a touchpoint, the one contact policy
//! every invitation and reminder obeys, the signed personal links answers come back
//! through, the e-mails that carry them, and the answers as the survey page's form sends
//! them.

pub mod answer;
pub mod email;
pub mod language;
pub mod link;
pub mod nonce;
pub mod policy;
mod signature;
pub mod survey;
pub mod texts;

pub use answer::{Answer, Refusal};
pub use email::{Letter, Links, SurveyChannel, SurveyMail, letter};
pub use language::{LANGUAGES, language_name, pick_language};
pub use link::{Link, LinkError};
pub use nonce::{Nonce, NonceError};
pub use policy::{Contact, ContactPolicy, Decision, Draw, PolicyChange, Suppression, decide};
pub use survey::{InvitationRule, Survey};

/// A survey, rule or policy field that is wrong: the field and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {why}")]
pub struct SurveyError {
    pub field: &'static str,
    pub why: String,
}

impl SurveyError {
    pub(crate) fn new(field: &'static str, why: impl Into<String>) -> Self {
        SurveyError {
            field,
            why: why.into(),
        }
    }
}
