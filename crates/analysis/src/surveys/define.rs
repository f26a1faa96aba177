//! Surveys and invitation rules as people enter them — names of instruments, languages, a
//! `column=value` condition — read into the core's types, checked field by field and
//! against the data, then stored: one path for the CLI, the API and the administration
//! page, so each accepts and refuses the same input. A refusal names the field.

use cxray_core::cases::trigger::parse_instrument;
use cxray_core::domain::Table;
use cxray_core::surveys::{ContactPolicy, InvitationRule, PolicyChange, Survey, SurveyError};
use cxray_store::ops::OpsDb;
use cxray_store::sql::Sql;
use cxray_store::surveys::{StoredRule, StoredSurvey, check};
use cxray_store::{Result, StoreError};
use serde::Deserialize;

/// A survey as entered.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSurvey {
    pub name: String,
    /// The touchpoint it asks about; none for a relationship survey.
    #[serde(default)]
    pub touchpoint: Option<String>,
    /// Instrument names (nps, csat, ces, grade), in the order asked.
    pub questions: Vec<String>,
    /// Whether a free comment follows the questions.
    #[serde(default)]
    pub comment: bool,
    /// Language codes, the first the default.
    #[serde(default = "english")]
    pub languages: Vec<String>,
}

fn english() -> Vec<String> {
    vec!["en".into()]
}

/// An invitation rule as entered (the defaults are the CLI's).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NewRule {
    pub name: String,
    /// The survey's id or name.
    pub survey: String,
    /// The touchpoint whose interactions invite; the survey's when none.
    pub touchpoint: Option<String>,
    pub delay_hours: f64,
    pub sample_rate: f64,
    /// Only customers whose column equals the value: `segment=business`.
    pub customers: Option<String>,
    pub survey_cooldown_days: i64,
    pub touchpoint_cooldown_days: i64,
    /// Evaluate the interactions already there too, not only those from now on.
    pub all_history: bool,
}

impl Default for NewRule {
    fn default() -> Self {
        NewRule {
            name: String::new(),
            survey: String::new(),
            touchpoint: None,
            delay_hours: 24.0,
            sample_rate: 1.0,
            customers: None,
            survey_cooldown_days: 90,
            touchpoint_cooldown_days: 0,
            all_history: false,
        }
    }
}

/// A text that may be left empty: none when it is.
fn given(text: &Option<String>) -> Option<String> {
    text.as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(String::from)
}

fn invalid(e: SurveyError) -> StoreError {
    StoreError::invalid(e.field, e.to_string())
}

impl NewSurvey {
    /// The survey entered, its fields checked.
    pub fn survey(&self) -> Result<Survey> {
        let questions = self
            .questions
            .iter()
            .map(|q| parse_instrument(q.trim()))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| StoreError::invalid("questions", e.to_string()))?;
        let survey = Survey {
            name: self.name.clone(),
            touchpoint: given(&self.touchpoint),
            questions,
            comment: self.comment,
            languages: self
                .languages
                .iter()
                .map(|l| l.trim().to_lowercase())
                .collect(),
        };
        survey.check().map_err(invalid)?;
        Ok(survey)
    }
}

/// Adds the survey entered as `actor`: checked, its touchpoint against the data, then
/// stored (audited).
pub async fn add_survey(
    sql: &Sql,
    ops: &OpsDb,
    actor: &str,
    new: &NewSurvey,
) -> Result<StoredSurvey> {
    let survey = new.survey()?;
    check::survey(sql, &survey).await?;
    ops.add_survey(actor, &survey)
}

impl NewRule {
    /// The rule entered for `survey`, its fields checked.
    fn rule(&self, survey: &StoredSurvey) -> Result<InvitationRule> {
        let touchpoint = given(&self.touchpoint)
            .or(survey.survey.touchpoint.clone())
            .ok_or_else(|| {
                let why = "the survey asks about no touchpoint, so name the one whose interactions invite";
                StoreError::invalid("touchpoint", why)
            })?;
        let customers = given(&self.customers)
            .map(|c| c.parse())
            .transpose()
            .map_err(|e: cxray_core::cases::CaseError| {
                StoreError::invalid("customers", e.to_string())
            })?;
        let rule = InvitationRule {
            name: self.name.clone(),
            survey: survey.survey.name.clone(),
            touchpoint,
            delay_hours: self.delay_hours,
            sample_rate: self.sample_rate,
            customers,
            survey_cooldown_days: self.survey_cooldown_days,
            touchpoint_cooldown_days: self.touchpoint_cooldown_days,
        };
        rule.check().map_err(invalid)?;
        Ok(rule)
    }
}

/// Adds the rule entered as `actor`: its survey found, checked, its touchpoint and
/// customers' column against the data, then stored (audited), watching the interactions
/// from now on unless `all_history`.
pub async fn add_rule(sql: &Sql, ops: &OpsDb, actor: &str, new: &NewRule) -> Result<StoredRule> {
    let survey = ops.survey(&new.survey).map_err(|e| match e {
        StoreError::Input(message) => StoreError::invalid("survey", message),
        e => e,
    })?;
    let rule = new.rule(&survey)?;
    check::rule(sql, &rule).await?;
    let watermark = match new.all_history {
        true => None,
        false => sql.versions().get(&Table::Interactions).copied(),
    };
    ops.add_survey_rule(actor, &rule, watermark)
}

/// Changes the contact policy as `actor` (checked, audited when it changes); returns it.
pub fn change_policy(ops: &OpsDb, actor: &str, change: &PolicyChange) -> Result<ContactPolicy> {
    let before = ops.contact_policy()?;
    let after = change.apply(before);
    if after != before {
        ops.set_contact_policy(actor, &after)?;
    }
    Ok(after)
}
