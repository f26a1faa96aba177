//! Surveys for signed-in readers: their definitions with counts and anonymous links, the
//! rules, the contact policy, response rates and a customer's contact log — read and
//! changed through the analysis layer's one path (the CLI's checks and audit), as JSON
//! ([`api`]) and as the response rates page ([`page`]). The survey page respondents
//! answer on is [`crate::survey`].

pub mod api;
pub mod page;

/// The routes (behind [`crate::auth::require_read`]).
pub fn routes() -> axum::Router<AppState> {
    api::routes().route("/surveys", axum::routing::get(page::show))
}

use chrono::{DateTime, Utc};
use cxray_analysis::surveys::Rate;
use cxray_core::access::{Role, Scope};
use cxray_core::surveys::Suppression;
use cxray_store::ops::OpsDb;
use cxray_store::surveys::{RateGroup, StoredRule, StoredSurvey, SurveyCounts};
use cxray_store::{Result, StoreError};
use serde::Serialize;

use crate::AppState;
use crate::auth::{CurrentUser, Denied};

/// A survey with its rules, invitations counted and the path of its anonymous link.
#[derive(Debug, Serialize)]
pub struct SurveyView {
    #[serde(flatten)]
    pub survey: StoredSurvey,
    /// `/s/open/{public_id}`: the form anyone with the link may answer.
    pub anonymous_link: String,
    pub counts: SurveyCounts,
    pub rules: Vec<StoredRule>,
}

/// Every survey, by name, with its rules and counts.
pub fn views(ops: &OpsDb) -> Result<Vec<SurveyView>> {
    let rules = ops.survey_rules()?;
    let views = ops.surveys()?.into_iter().map(|s| view(ops, s, &rules));
    views.collect()
}

/// `survey` with its rules (those of `rules` that invite to it) and counts.
pub fn view(ops: &OpsDb, survey: StoredSurvey, rules: &[StoredRule]) -> Result<SurveyView> {
    Ok(SurveyView {
        anonymous_link: format!("/s/open/{}", survey.public_id),
        counts: ops.survey_counts(survey.id)?,
        rules: rules
            .iter()
            .filter(|r| r.survey_id == survey.id)
            .cloned()
            .collect(),
        survey,
    })
}

/// Refuses (403) whoever may not define surveys: other roles than admins, and API tokens
/// without the `surveys` scope.
pub fn may_define(user: &CurrentUser) -> std::result::Result<(), Denied> {
    user.require_role(Role::can_admin)?;
    user.require_scope(Scope::Surveys)
}

/// Runs `f` with a session over the tables, the operational database and `user` as the
/// actor of the audit log.
pub async fn acting<T, F, Fut>(state: &AppState, user: &CurrentUser, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(cxray_store::sql::Sql, OpsDb, String) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<T>>,
{
    let actor = user.actor();
    crate::cases::with_ops(state, move |sql, ops| f(sql, ops, actor)).await
}

/// The response rates `user` may see, grouped `by`: owners and partners only those of
/// invitations about their own touchpoints.
pub async fn rates(state: &AppState, user: &CurrentUser, by: RateGroup) -> Result<Vec<Rate>> {
    let only = (!user.role.sees_all_owners()).then(|| user.owner_id.clone().unwrap_or_default());
    crate::cases::with_ops(state, move |sql, ops| async move {
        cxray_analysis::surveys::rates(&sql, &ops, by, only.as_deref()).await
    })
    .await
}

/// The grouping named `by` (`survey` when none), or a refusal naming the field.
pub fn grouping(by: Option<&str>) -> Result<RateGroup> {
    let by = by.unwrap_or("survey").trim();
    serde_json::from_value(serde_json::Value::String(by.to_string())).map_err(|_| {
        StoreError::invalid(
            "by",
            format!("'{by}': group by survey, touchpoint, owner, channel or week"),
        )
    })
}

/// One entry of a customer's contact log, in words.
#[derive(Debug, Serialize)]
pub struct Contact {
    pub at: DateTime<Utc>,
    pub survey_id: Option<i64>,
    pub survey: Option<String>,
    pub invitation_id: Option<i64>,
    /// invited, suppressed, sent, reminded, expired, responded, opted_out.
    pub decision: String,
    /// The suppression's reason code.
    pub reason: Option<String>,
    /// What happened, for people: the decision, and why a customer was not asked.
    pub why: String,
}

/// Every contact decision about `customer`, oldest first, with the reasons in words.
pub fn contacts(ops: &OpsDb, customer: &str) -> Result<Vec<Contact>> {
    let names: std::collections::BTreeMap<i64, String> = ops
        .surveys()?
        .into_iter()
        .map(|s| (s.id, s.survey.name))
        .collect();
    let log = ops.contact_log(customer)?;
    Ok(log
        .into_iter()
        .map(|e| Contact {
            at: DateTime::from_timestamp(e.at, 0).unwrap_or_default(),
            survey: e.survey_id.and_then(|id| names.get(&id).cloned()),
            why: match &e.reason {
                Some(code) => format!("Not asked: {}", Suppression::words(code).to_lowercase()),
                None => crate::html::capitalised(&e.decision.replace('_', " ")),
            },
            survey_id: e.survey_id,
            invitation_id: e.invitation_id,
            decision: e.decision,
            reason: e.reason,
        })
        .collect())
}
