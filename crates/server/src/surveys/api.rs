//! `/api/v1/surveys…`, `/api/v1/survey-policy`, `/api/v1/survey-rates` and a customer's
//! contact log as JSON, and their OpenAPI description. Definitions, the policy and the
//! contact log are company-wide (admins, executives, analysts); changes need an admin
//! (an API token also its `surveys` scope); rates are for every role, owners and partners
//! seeing only their own touchpoints'. Bad input is 400 `{error, kind, field}`, nothing
//! stored.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use cxray_analysis::surveys::{NewRule, NewSurvey};
use cxray_core::surveys::PolicyChange;
use cxray_store::ops::OpsDb;
use cxray_store::sql::Sql;
use cxray_store::surveys::RateGroup;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{SurveyView, view, views};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::cases::api::{body, store_refusal};

/// The routes (behind [`crate::auth::require_read`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/surveys", get(list).post(add))
        .route("/api/v1/surveys/{id}", get(one))
        .route("/api/v1/surveys/{id}/rules", get(rules).post(add_rule))
        .route("/api/v1/survey-policy", get(policy).put(set_policy))
        .route("/api/v1/survey-rates", get(rates))
        .route("/api/v1/customers/{customer}/contacts", get(contacts))
}

type Reply = Result<Response, Response>;

/// 403 unless the user sees every owner.
fn company_wide(user: &CurrentUser) -> Result<(), Response> {
    match user.role.sees_all_owners() {
        true => Ok(()),
        false => Err(crate::api::error(
            StatusCode::FORBIDDEN,
            "company-wide data: your role sees only your own touchpoints",
        )),
    }
}

async fn list(State(state): State<AppState>, user: CurrentUser) -> Reply {
    company_wide(&user)?;
    let all = crate::ops(&state, views)
        .await
        .map_err(|e| store_refusal(&e))?;
    Ok(Json(all).into_response())
}

/// The survey with id `id`, or 404.
async fn found(state: &AppState, id: String) -> Result<SurveyView, Response> {
    let all = crate::ops(state, views)
        .await
        .map_err(|e| store_refusal(&e))?;
    all.into_iter()
        .find(|v| v.survey.id.to_string() == id.trim())
        .ok_or_else(|| crate::api::error(StatusCode::NOT_FOUND, &format!("no survey {id}")))
}

async fn one(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Reply {
    company_wide(&user)?;
    Ok(Json(found(&state, id).await?).into_response())
}

/// A definition stored by `f` as `user`, who must be allowed to define: 201 with it.
async fn define<T, F, Fut>(state: &AppState, user: &CurrentUser, f: F) -> Reply
where
    T: Serialize + Send + 'static,
    F: FnOnce(Sql, OpsDb, String) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = cxray_store::Result<T>>,
{
    super::may_define(user).map_err(IntoResponse::into_response)?;
    let stored = super::acting(state, user, f).await;
    Ok((
        StatusCode::CREATED,
        Json(stored.map_err(|e| store_refusal(&e))?),
    )
        .into_response())
}

async fn add(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    bytes: Bytes,
) -> Reply {
    let new: NewSurvey = body(&headers, &bytes)?;
    define(&state, &user, move |sql, ops, actor| async move {
        let stored = cxray_analysis::surveys::add_survey(&sql, &ops, &actor, &new).await?;
        view(&ops, stored, &[])
    })
    .await
}

async fn rules(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> Reply {
    company_wide(&user)?;
    Ok(Json(found(&state, id).await?.rules).into_response())
}

async fn add_rule(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Reply {
    super::may_define(&user).map_err(IntoResponse::into_response)?;
    let survey = found(&state, id).await?.survey;
    let new = NewRule {
        survey: survey.id.to_string(),
        ..body(&headers, &bytes)?
    };
    define(&state, &user, move |sql, ops, actor| async move {
        cxray_analysis::surveys::add_rule(&sql, &ops, &actor, &new).await
    })
    .await
}

async fn policy(State(state): State<AppState>, user: CurrentUser) -> Reply {
    company_wide(&user)?;
    let p = crate::ops(&state, |ops| ops.contact_policy()).await;
    Ok(Json(p.map_err(|e| store_refusal(&e))?).into_response())
}

async fn set_policy(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    bytes: Bytes,
) -> Reply {
    super::may_define(&user).map_err(IntoResponse::into_response)?;
    let change: PolicyChange = body(&headers, &bytes)?;
    let actor = user.actor();
    let p = crate::ops(&state, move |ops| {
        cxray_analysis::surveys::change_policy(ops, &actor, &change)
    })
    .await;
    Ok(Json(p.map_err(|e| store_refusal(&e))?).into_response())
}

/// The query of `GET /api/v1/survey-rates`.
#[derive(Deserialize)]
struct RatesQuery {
    by: Option<String>,
}

/// The answer of `GET /api/v1/survey-rates`.
#[derive(Serialize)]
struct Rates {
    by: RateGroup,
    rates: Vec<cxray_analysis::surveys::Rate>,
}

async fn rates(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<RatesQuery>,
) -> Reply {
    let by = super::grouping(q.by.as_deref()).map_err(|e| store_refusal(&e))?;
    let rates = super::rates(&state, &user, by)
        .await
        .map_err(|e| store_refusal(&e))?;
    Ok(Json(Rates { by, rates }).into_response())
}

async fn contacts(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(customer): Path<String>,
) -> Reply {
    company_wide(&user)?;
    if !user.role.sees_customer_ids() {
        return Err(crate::api::error(
            StatusCode::FORBIDDEN,
            "customer ids are not shown to your role",
        ));
    }
    let log = crate::ops(&state, move |ops| super::contacts(ops, &customer)).await;
    Ok(Json(log.map_err(|e| store_refusal(&e))?).into_response())
}

/// The OpenAPI description of these routes.
pub fn openapi() -> [(&'static str, Value); 6] {
    let read = json!([{"session": []}, {"token": ["read"]}]);
    let write = json!([{"session": []}, {"token": ["read", "surveys"]}]);
    let refusals = json!({
        "400": {"description": "Bad input: {\"error\", \"kind\": \"bad_input\", \"field\"} names the field; nothing stored."},
        "401": {"description": "Not signed in and no valid token."},
        "403": {"description": "The role or token scope does not allow it."}
    });
    let with = |extra: Value| {
        let mut all = refusals.clone();
        all.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        all
    };
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}});
    let who = "Admins, executives and analysts.";
    let json_body = |required: &[&str], properties: Value| json!({"required": true, "content": {"application/json": {"schema": {"type": "object", "required": required, "properties": properties}}}});
    let survey = json_body(
        &["name", "questions"],
        json!({
            "name": {"type": "string", "description": "1 to 80 characters, unique ignoring case."},
            "touchpoint": {"type": "string", "description": "The touchpoint it asks about, one the interactions have; none for a relationship survey."},
            "questions": {"type": "array", "items": {"type": "string", "enum": ["nps", "csat", "ces", "grade"]}, "description": "In the order asked, each once."},
            "comment": {"type": "boolean", "description": "A free comment after the questions."},
            "languages": {"type": "array", "items": {"type": "string", "enum": ["en", "de", "fr", "es"]}, "description": "The first is the default (en)."}
        }),
    );
    let rule = json_body(
        &["name"],
        json!({
            "name": {"type": "string", "description": "1 to 80 characters, unique ignoring case."},
            "touchpoint": {"type": "string", "description": "Whose interactions invite; the survey's when not given."},
            "delay_hours": {"type": "number", "description": "0 to 2160 (24)."},
            "sample_rate": {"type": "number", "description": "Above 0, at most 1 (1)."},
            "customers": {"type": "string", "description": "Only customers whose column equals the value: segment=business."},
            "survey_cooldown_days": {"type": "integer", "description": "0 to 3650 (90)."},
            "touchpoint_cooldown_days": {"type": "integer", "description": "0 to 3650 (0)."},
            "all_history": {"type": "boolean", "description": "Also the interactions already there, not only those from now on."}
        }),
    );
    let days = |what: &str| json!({"type": "integer", "description": what});
    let policy = json_body(
        &[],
        json!({
            "global_cooldown_days": days("No invitation within this many days of another, from any survey: 0 to 3650."),
            "window_days": days("The window of max_in_window: 1 to 3650."),
            "max_in_window": days("At most this many invitations in any window: at least 1."),
            "reminders": days("Reminders to non-responders: 0 to 10."),
            "reminder_gap_days": days("Days between reminders: 1 to 3650 when there are reminders."),
            "expiry_days": days("An invitation expires after: 1 to 3650."),
            "holdout_share": {"type": "number", "description": "The share of customers never asked: 0 to 0.5."}
        }),
    );
    [
        (
            "/api/v1/surveys",
            json!({
                "get": {"summary": "Every survey by name: name, touchpoint, questions, comment, languages, id, public_id, enabled, anonymous_link (/s/open/…), counts {invitations by status, suppressed by reason}, rules.", "description": who, "security": read, "responses": with(json!({"200": {"description": "The surveys."}}))},
                "post": {"summary": "Add a survey, checked as `cxray survey add` checks it (its touchpoint against the interactions); audited.", "description": "Admins (an API token also needs the surveys scope).", "security": write, "requestBody": survey, "responses": with(json!({"201": {"description": "The survey as stored, with its anonymous link."}, "415": {"description": "The body is not JSON."}}))}
            }),
        ),
        (
            "/api/v1/surveys/{id}",
            json!({"get": {"summary": "One survey with its counts, rules and anonymous link.", "description": who, "parameters": [id], "security": read, "responses": with(json!({"200": {"description": "The survey."}, "404": {"description": "No such survey."}}))}}),
        ),
        (
            "/api/v1/surveys/{id}/rules",
            json!({
                "get": {"summary": "The survey's invitation rules.", "description": who, "parameters": [id], "security": read, "responses": with(json!({"200": {"description": "The rules."}, "404": {"description": "No such survey."}}))},
                "post": {"summary": "Add an invitation rule to the survey, checked as `cxray survey rule add` checks it (touchpoint and customers' column against the data); it watches the interactions arriving from now on unless all_history; audited.", "description": "Admins (an API token also needs the surveys scope).", "parameters": [id], "security": write, "requestBody": rule, "responses": with(json!({"201": {"description": "The rule as stored."}, "404": {"description": "No such survey."}, "415": {"description": "The body is not JSON."}}))}
            }),
        ),
        (
            "/api/v1/survey-policy",
            json!({
                "get": {"summary": "The contact policy every invitation obeys.", "description": who, "security": read, "responses": with(json!({"200": {"description": "The policy."}}))},
                "put": {"summary": "Change the contact policy: the limits given replace the current ones, the rest stay; checked as `cxray survey policy` checks it; audited.", "description": "Admins (an API token also needs the surveys scope).", "security": write, "requestBody": policy, "responses": with(json!({"200": {"description": "The policy as it now is."}, "415": {"description": "The body is not JSON."}}))}
            }),
        ),
        (
            "/api/v1/survey-rates",
            json!({"get": {"summary": "Response rates and reach of the invitations sent, grouped: {by, rates: [{group, name (for people), sent, responded, emailed, delivered, opened, reminded, expired, customers, median_hours_to_respond, response_rate, delivery_rate, open_rate (Wilson intervals)}]}. By owner, a touchpoint without one is \"No owner\".", "description": "Every role; owners and partners see only the invitations about their own touchpoints.", "parameters": [json!({"name": "by", "in": "query", "required": false, "schema": {"type": "string", "enum": ["survey", "touchpoint", "owner", "channel", "week"]}})], "security": read, "responses": with(json!({"200": {"description": "The rates."}}))}}),
        ),
        (
            "/api/v1/customers/{customer}/contacts",
            json!({"get": {"summary": "Why was this customer (not) asked: every contact decision, oldest first — {at, survey_id, survey, invitation_id, decision, reason (code), why (in words)}.", "description": who, "parameters": [json!({"name": "customer", "in": "path", "required": true, "schema": {"type": "string"}})], "security": read, "responses": with(json!({"200": {"description": "The contact log (empty when no rule triggered on the customer)."}}))}}),
        ),
    ]
}
