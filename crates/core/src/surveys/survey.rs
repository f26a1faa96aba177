//! A survey (its questions, languages and the touchpoint it is about) and the rules that
//! invite customers to it after an interaction.

use serde::Serialize;

use super::SurveyError;
use super::language::language_name;
use crate::cases::CustomerCondition;
use crate::stats::Instrument;

/// The longest survey or rule name, in characters.
const MAX_NAME_CHARS: usize = 80;
/// The longest comment a respondent may write, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;

/// A survey: scored questions from the instruments, in order, and maybe a free comment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Survey {
    pub name: String,
    /// The touchpoint it asks about, or none for a relationship survey.
    pub touchpoint: Option<String>,
    pub questions: Vec<Instrument>,
    pub comment: bool,
    /// Language codes, the first the default.
    pub languages: Vec<String>,
}

impl Survey {
    /// Checks the fields that need no data: a name, one to four different instruments,
    /// languages with built-in texts, none twice.
    pub fn check(&self) -> Result<(), SurveyError> {
        check_name(&self.name)?;
        if self.questions.is_empty() {
            let why = "at least one of nps, csat, ces, grade";
            return Err(SurveyError::new("questions", why));
        }
        if let Some(twice) = repeated(&self.questions) {
            let why = format!("{} is asked twice", twice.label());
            return Err(SurveyError::new("questions", why));
        }
        if self.languages.is_empty() {
            return Err(SurveyError::new("languages", "at least one language"));
        }
        if let Some(unknown) = self.languages.iter().find(|l| language_name(l).is_none()) {
            let known: Vec<&str> = super::LANGUAGES.iter().map(|(c, _)| *c).collect();
            let why = format!("no texts for '{unknown}' (languages: {})", known.join(", "));
            return Err(SurveyError::new("languages", why));
        }
        if let Some(twice) = repeated(&self.languages) {
            return Err(SurveyError::new(
                "languages",
                format!("{twice} is given twice"),
            ));
        }
        Ok(())
    }
}

/// A rule that invites customers to a survey after an interaction at a touchpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvitationRule {
    pub name: String,
    pub survey: String,
    /// The touchpoint whose interactions trigger an invitation.
    pub touchpoint: String,
    /// Hours from the interaction to the invitation.
    pub delay_hours: f64,
    /// The share of triggered customers invited, by a keyed hash: in (0, 1].
    pub sample_rate: f64,
    /// Only customers meeting this condition.
    pub customers: Option<CustomerCondition>,
    /// Days in which a customer is not invited to this survey again.
    pub survey_cooldown_days: i64,
    /// Days in which a customer is not asked again about this touchpoint.
    pub touchpoint_cooldown_days: i64,
}

impl InvitationRule {
    /// Checks the fields that need no data.
    pub fn check(&self) -> Result<(), SurveyError> {
        check_name(&self.name)?;
        if !(self.delay_hours.is_finite() && (0.0..=24.0 * 90.0).contains(&self.delay_hours)) {
            let why = format!("{} hours: from 0 to 2160 (90 days)", self.delay_hours);
            return Err(SurveyError::new("delay_hours", why));
        }
        if !(self.sample_rate > 0.0 && self.sample_rate <= 1.0) {
            let why = format!("{}: a share above 0 and at most 1", self.sample_rate);
            return Err(SurveyError::new("sample_rate", why));
        }
        days("survey_cooldown_days", self.survey_cooldown_days)?;
        days("touchpoint_cooldown_days", self.touchpoint_cooldown_days)
    }
}

/// Checks a number of days: 0 to ten years.
pub(crate) fn days(field: &'static str, days: i64) -> Result<(), SurveyError> {
    match (0..=3650).contains(&days) {
        true => Ok(()),
        false => Err(SurveyError::new(
            field,
            format!("{days} days: a whole number from 0 to 3650"),
        )),
    }
}

fn check_name(name: &str) -> Result<(), SurveyError> {
    let chars = name.trim().chars().count();
    match chars > 0 && chars <= MAX_NAME_CHARS && name.trim() == name {
        true => Ok(()),
        false => Err(SurveyError::new(
            "name",
            format!("'{name}': 1 to {MAX_NAME_CHARS} characters, no leading or trailing space"),
        )),
    }
}

/// The first value given twice.
fn repeated<T: PartialEq>(values: &[T]) -> Option<&T> {
    values
        .iter()
        .enumerate()
        .find(|(i, v)| values[..*i].contains(v))
        .map(|(_, v)| v)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn survey() -> Survey {
        Survey {
            name: "After check-in".into(),
            touchpoint: Some("check_in".into()),
            questions: vec![Instrument::Nps, Instrument::Csat],
            comment: true,
            languages: vec!["en".into(), "de".into()],
        }
    }

    pub(crate) fn rule() -> InvitationRule {
        InvitationRule {
            name: "check-in next day".into(),
            survey: "After check-in".into(),
            touchpoint: "check_in".into(),
            delay_hours: 24.0,
            sample_rate: 0.5,
            customers: None,
            survey_cooldown_days: 60,
            touchpoint_cooldown_days: 30,
        }
    }

    #[test]
    fn a_survey_is_checked_field_by_field() {
        assert_eq!(survey().check(), Ok(()));
        let field = |s: Survey| s.check().unwrap_err().field;
        assert_eq!(
            field(Survey {
                name: " x".into(),
                ..survey()
            }),
            "name"
        );
        assert_eq!(
            field(Survey {
                questions: vec![],
                ..survey()
            }),
            "questions"
        );
        let twice = vec![Instrument::Nps, Instrument::Nps];
        assert_eq!(
            field(Survey {
                questions: twice,
                ..survey()
            }),
            "questions"
        );
        assert_eq!(
            field(Survey {
                languages: vec![],
                ..survey()
            }),
            "languages"
        );
        let err = Survey {
            languages: vec!["en".into(), "xx".into()],
            ..survey()
        }
        .check();
        assert_eq!(
            err.unwrap_err().to_string(),
            "languages: no texts for 'xx' (languages: en, de, fr, es)"
        );
    }

    proptest! {
        /// Negative or absurd cooldowns, delays and sample rates are refused, naming the
        /// field; sensible ones pass.
        #[test]
        fn rule_numbers_out_of_range_are_refused(
            cooldown in -1000i64..5000,
            delay in -100.0f64..3000.0,
            rate in -0.5f64..1.5,
        ) {
            let r = InvitationRule {
                survey_cooldown_days: cooldown,
                delay_hours: delay,
                sample_rate: rate,
                ..rule()
            };
            let ok = (0..=3650).contains(&cooldown)
                && (0.0..=2160.0).contains(&delay)
                && rate > 0.0
                && rate <= 1.0;
            prop_assert_eq!(r.check().is_ok(), ok);
        }
    }
}
