//! `/api/v1/initiatives…` and `/api/v1/whatif`: initiatives as JSON — listed, recorded,
//! one read or changed, one's measured effect and business case — and proposed fixes
//! priced; with their OpenAPI description.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{Change, EffectAsked, Missing, NewInitiative, WhatIfAsked};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::cases::api::{body, store_refusal};

/// The routes (behind [`crate::auth::require_read`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/initiatives", get(list).post(add))
        .route("/api/v1/initiatives/{id}", get(one).patch(change))
        .route("/api/v1/initiatives/{id}/effect", get(effect))
        .route("/api/v1/whatif", get(what_if))
}

type Reply = Result<Response, Response>;

/// A refusal as its status and `{"error", "kind", "field"}`.
fn refusal(e: &Missing) -> Response {
    match e {
        Missing::NotFound(_) => crate::api::error(StatusCode::NOT_FOUND, &e.to_string()),
        Missing::Store(e) => store_refusal(e),
    }
}

async fn list(State(state): State<AppState>, user: CurrentUser) -> Reply {
    let all = super::list(&state, &user).await;
    Ok(Json(all.map_err(|e| store_refusal(&e))?).into_response())
}

async fn one(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Reply {
    let found = super::find(&state, &user, id).await;
    Ok(Json(found.map_err(|e| refusal(&e))?).into_response())
}

async fn add(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    bytes: Bytes,
) -> Reply {
    super::may_change(&user).map_err(IntoResponse::into_response)?;
    let new: NewInitiative = body(&headers, &bytes)?;
    let added = super::add(&state, &user, &new).await;
    let added = added.map_err(|e| store_refusal(&e))?;
    Ok((StatusCode::CREATED, Json(added)).into_response())
}

async fn change(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Reply {
    super::may_change(&user).map_err(IntoResponse::into_response)?;
    let c: Change = body(&headers, &bytes)?;
    let changed = super::change(&state, &user, id, &c).await;
    Ok(Json(changed.map_err(|e| refusal(&e))?).into_response())
}

async fn effect(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(asked): Query<EffectAsked>,
) -> Reply {
    let report = super::effect(&state, &user, id, &asked).await;
    Ok(Json(report.map_err(|e| refusal(&e))?).into_response())
}

async fn what_if(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(asked): Query<WhatIfAsked>,
) -> Reply {
    crate::api::allow(&user, true)?;
    let priced = super::what_if(&state, &asked).await;
    Ok(Json(priced.map_err(|e| store_refusal(&e))?).into_response())
}

/// The OpenAPI description of the initiative routes.
pub fn openapi() -> [(&'static str, Value); 4] {
    let read = json!([{"session": []}, {"token": ["read"]}]);
    let write = json!([{"session": []}, {"token": ["read", "initiatives"]}]);
    let query = crate::api::query_parameter;
    let with = |extra: Value| {
        crate::api::with_refusals(extra, "No such initiative, or one the caller may not see.")
    };
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}});
    let who = "Admins, analysts and executives see every initiative; owners and partners only those scoped to named touchpoints that are all their own.";
    let fields = "{name, owner?, scope: \"column=value,value\", touchpoints?: [..], start: YYYY-MM-DD, starts?: {unit: YYYY-MM-DD}, end?, one_off_cost?, running_cost? (a year), expected_effect? (relative, above −1), status? (planned, running, done, stopped), notes?}";
    [
        (
            "/api/v1/initiatives",
            json!({
                "get": {
                    "summary": "The initiatives, by name: [{id, name, owner, scope: {column, values, touchpoints}, start, starts, end, one_off_cost, running_cost, expected_effect, status, notes}].",
                    "description": who,
                    "security": read,
                    "responses": with(json!({"200": {"description": "The initiatives."}})),
                },
                "post": {
                    "summary": format!("Record an initiative: {fields}. The scope's column and values, the touchpoints and the starts are checked against the interactions; a name is unique ignoring case. Admins and analysts. Audited."),
                    "security": write,
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["name", "scope", "start"]}}}},
                    "responses": with(json!({"201": {"description": "The initiative recorded, with its id."}, "415": {"description": "The body is not JSON."}})),
                }
            }),
        ),
        (
            "/api/v1/initiatives/{id}",
            json!({
                "get": {
                    "summary": "One initiative.",
                    "description": who,
                    "parameters": [id],
                    "security": read,
                    "responses": with(json!({"200": {"description": "The initiative."}})),
                },
                "patch": {
                    "summary": "Change an initiative: any of {status, end, notes, one_off_cost, running_cost}. Admins and analysts. Audited.",
                    "parameters": [id],
                    "security": write,
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}},
                    "responses": with(json!({"200": {"description": "The initiative as changed."}, "415": {"description": "The body is not JSON."}})),
                }
            }),
        ),
        (
            "/api/v1/initiatives/{id}/effect",
            json!({
                "get": {
                    "summary": "What the initiative did, as `cxray initiative measure --json`: {claim, estimator, chosen_automatically, reason, design, start, refusal, effect: {absolute, relative, cumulative, p_value, se, detectable}, diagnostics, event_study, series, weights, placebos, notes, business_case}. A design that cannot support a claim is a result, not an error: 200 with `claim: false` and `refusal.reason`. On the failure rate, leaving (`defection`) and the revenue per customer, `business_case` prices the effect a year against the recorded costs (null for other outcomes, and on failures and leaving when customers are not valued).",
                    "description": who,
                    "parameters": [
                        id,
                        query("outcome", "failure_rate (default), wait, csat, nps, grade or revenue_per_customer."),
                        query("estimator", "auto (default: chosen from the design, `reason` says why), difference_in_differences, staggered, synthetic_control or randomized_pilot."),
                        query("years", "The business case's horizon, more than 0 and at most 50 (3)."),
                    ],
                    "security": read,
                    "responses": with(json!({"200": {"description": "The measurement."}, "422": {"description": "No interactions to measure on."}})),
                }
            }),
        ),
        (
            "/api/v1/whatif",
            json!({
                "get": {
                    "summary": "What fewer bad experiences would keep a year, as `cxray whatif --json`: {reduction, window_days, currency, by_value: [{name, reduction, avoided, excess_dropout, customers_kept, value, cost, value_per_cost}], by_value_per_cost, unpriced: [{touchpoint, reason}]}, the fixes ranked by money kept a year.",
                    "description": "Admins, executives and analysts only.",
                    "parameters": [
                        query("touchpoint", "Touchpoints, comma-separated (every touchpoint when not given); an unknown one is refused with the known ones."),
                        query("reduce_failures", "The share of bad experiences removed, a percentage more than 0 and at most 100 (30%)."),
                        query("cost", "What a fix costs a year at touchpoints, `bag_drop=5000,security=2000`: adds `by_value_per_cost`."),
                    ],
                    "security": read,
                    "responses": with(json!({"200": {"description": "The fixes priced and ranked."}})),
                }
            }),
        ),
    ]
}
