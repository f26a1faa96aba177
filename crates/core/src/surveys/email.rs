//! Survey invitations by e-mail: the channels an invitation goes out through, the two
//! e-mails (the invitation and its reminders) and their words in the invitation's
//! language, each with the personal link and the unsubscribe link.

use super::texts::{Text, text};
use crate::names::named_enum;

named_enum! {
    /// How an invitation reached its customer.
    pub enum SurveyChannel("survey channel") {
        /// A personal link handed out in a file (`cxray survey links`).
        Link = "link",
        /// An e-mail through the outbox.
        Email = "email",
    }
}

impl SurveyChannel {
    /// The channel's name for people.
    pub fn label(self) -> &'static str {
        match self {
            SurveyChannel::Link => "Personal link",
            SurveyChannel::Email => "E-mail",
        }
    }
}

named_enum! {
    /// A survey e-mail.
    pub enum SurveyMail("survey e-mail") {
        Invitation = "invitation",
        /// Sent after the invitation to a customer who has not answered.
        Reminder = "reminder",
    }
}

impl SurveyMail {
    /// The e-mail's name for people.
    pub fn label(self) -> &'static str {
        match self {
            SurveyMail::Invitation => "Survey invitation",
            SurveyMail::Reminder => "Survey reminder",
        }
    }
}

/// A survey e-mail's words: subject and plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub subject: String,
    pub body: String,
}

/// The links of one personal invitation, absolute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    pub survey: String,
    pub unsubscribe: String,
}

impl Links {
    /// The links of a signed personal link `token` under the public address `base`
    /// (`https://cx.example.com`, a trailing slash or not).
    pub fn new(base: &str, token: &str) -> Links {
        let survey = format!("{}/s/{token}", base.trim_end_matches('/'));
        Links {
            unsubscribe: format!("{survey}/unsubscribe"),
            survey,
        }
    }
}

/// The e-mail `kind` in `language` (English for a language without texts).
pub fn letter(kind: SurveyMail, language: &str, links: &Links) -> Letter {
    let (subject, lead) = match kind {
        SurveyMail::Invitation => (Text::Subject, Text::Invitation),
        SurveyMail::Reminder => (Text::ReminderSubject, Text::Reminder),
    };
    let t = |x| text(language, x);
    Letter {
        subject: t(subject).to_string(),
        body: format!(
            "{}\n\n{}\n\n-- \n{}\n{}\n",
            t(lead),
            links.survey,
            t(Text::UnsubscribeLine),
            links.unsubscribe
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surveys::LANGUAGES;

    #[test]
    fn every_letter_carries_both_links_in_its_language() {
        let links = Links::new("https://cx.example/", "TOKEN");
        assert_eq!(links.survey, "https://cx.example/s/TOKEN");
        assert_eq!(links.unsubscribe, "https://cx.example/s/TOKEN/unsubscribe");
        for (code, _) in LANGUAGES {
            for kind in SurveyMail::ALL {
                let l = letter(*kind, code, &links);
                assert!(l.body.contains(&links.survey), "{code} {kind}");
                assert!(l.body.contains(&links.unsubscribe), "{code} {kind}");
                assert!(!l.subject.is_empty());
            }
        }
        let de = letter(SurveyMail::Reminder, "de", &links);
        assert_eq!(de.subject, "Erinnerung: Wie war Ihre Reise?");
        let fallback = letter(SurveyMail::Invitation, "pt", &links);
        assert_eq!(fallback.subject, "How was your trip?");
        assert_eq!(SurveyChannel::Email.name(), "email");
        assert_eq!(SurveyMail::Reminder.label(), "Survey reminder");
    }
}
