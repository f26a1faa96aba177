//! `/api/v1/cases`: the cases as JSON — listed with filters and pages, one with its
//! history and source event, opened by hand, worked on — and their OpenAPI description.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use cxray_analysis::cases::ByHand;
use cxray_core::access::Role;
use cxray_store::StoreError;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{CaseQuery, Missing, Work};
use crate::AppState;
use crate::auth::CurrentUser;

/// The routes (behind [`crate::auth::require_read`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/cases", get(list).post(open))
        .route("/api/v1/cases/causes", get(causes))
        .route("/api/v1/cases/{id}", get(one).patch(work))
}

type Reply = Result<Response, Response>;

/// A refusal as its status and `{"error", "kind", "field"}` (the field of bad input).
pub(crate) fn refusal(e: &Missing) -> Response {
    match e {
        Missing::NotFound(_) => crate::api::error(StatusCode::NOT_FOUND, &e.to_string()),
        Missing::Store(e) => store_refusal(e),
    }
}

/// A store's refusal as its status and `{"error", "kind", "field"}`.
pub(crate) fn store_refusal(e: &StoreError) -> Response {
    let field = match e {
        StoreError::Invalid { field, .. } => Some(*field),
        _ => None,
    };
    let body = json!({"error": e.to_string(), "kind": e.kind(), "field": field});
    (crate::api::status(e.kind()), Json(body)).into_response()
}

async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<CaseQuery>,
) -> Reply {
    let cases = super::list(&state, &user, q).await;
    let cases = cases.map_err(|e| store_refusal(&e))?;
    Ok(Json(cases).into_response())
}

async fn one(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Reply {
    let detail = super::detail(&state, &user, id).await;
    Ok(Json(detail.map_err(|e| refusal(&e))?).into_response())
}

async fn causes(State(state): State<AppState>, user: CurrentUser) -> Reply {
    let costs = super::cause_costs(&state, &user).await;
    Ok(Json(costs.map_err(|e| store_refusal(&e))?).into_response())
}

/// The JSON body of a change: `application/json`, its fields known, else 400 naming
/// what is wrong (415 for another content type).
pub(crate) fn body<T: DeserializeOwned>(headers: &HeaderMap, bytes: &Bytes) -> Result<T, Response> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.trim_start().starts_with("application/json"));
    if !json {
        let message = "send the body as JSON (Content-Type: application/json)";
        return Err(crate::api::error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            message,
        ));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| store_refusal(&StoreError::invalid("body", format!("the JSON body: {e}"))))
}

async fn work(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Reply {
    super::may_work(&user).map_err(IntoResponse::into_response)?;
    let w: Work = body(&headers, &bytes)?;
    let case = super::work(&state, &user, id, &w).await;
    Ok(Json(case.map_err(|e| refusal(&e))?).into_response())
}

/// The body of `POST /api/v1/cases`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Opening {
    rule: String,
    customer_id: String,
    touchpoint: Option<String>,
    detail: String,
}

async fn open(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    bytes: Bytes,
) -> Reply {
    super::may_work(&user).map_err(IntoResponse::into_response)?;
    if user.role == Role::Partner {
        let message = "partners know customers only by pseudonym and cannot open cases for them";
        return Err(crate::api::error(StatusCode::FORBIDDEN, message));
    }
    let o: Opening = body(&headers, &bytes)?;
    let new = ByHand {
        rule: o.rule,
        customer_id: o.customer_id,
        touchpoint: o.touchpoint.filter(|t| !t.trim().is_empty()),
        detail: o.detail,
    };
    let case = super::open(&state, &user, &new).await;
    Ok((StatusCode::CREATED, Json(case.map_err(|e| refusal(&e))?)).into_response())
}

/// The OpenAPI description of the case routes.
pub fn openapi() -> [(&'static str, Value); 3] {
    let security = json!([{"session": []}, {"token": ["read"]}]);
    let write_security = json!([{"session": []}, {"token": ["read", "cases"]}]);
    let query = crate::api::query_parameter;
    let with = |extra: Value| {
        crate::api::with_refusals(
            extra,
            "No such case, or another owner's (for owners and partners).",
        )
    };
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}});
    let who = "Owners and partners see and work only their own owner's cases; partners see customers by pseudonym (c-…). Executives read only.";
    [
        (
            "/api/v1/cases",
            json!({
                "get": {
                    "summary": "Follow-up cases, newest first: {cases, total, page, per_page}; `overdue` when past a deadline; held-out cases have arm `holdout`.",
                    "description": who,
                    "parameters": [
                        query("owner", "Only this owner's cases."),
                        query("status", "open, contacted, resolved or closed."),
                        query("overdue", "true: only cases past their first-contact or resolution deadline."),
                        query("rule", "Only cases of this rule (id or name)."),
                        query("root_cause", "This root cause or one below it (`baggage > delayed`)."),
                        query("page", "1 (the newest) and on."),
                        query("per_page", "1 to 500 (50)."),
                    ],
                    "security": security,
                    "responses": with(json!({"200": {"description": "A page of cases."}})),
                },
                "post": {
                    "summary": "Open a case by hand: {rule, customer_id, touchpoint?, detail}. Routed to the touchpoint's owner (else the rule's fallback), deadlines from the owner's sla_hours, drawn into an arm by the rule's holdout, the rule's cooldown applies. Owners only for their own touchpoints; not partners.",
                    "security": write_security,
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["rule", "customer_id", "detail"]}}}},
                    "responses": with(json!({"201": {"description": "The case opened."}, "415": {"description": "The body is not JSON."}})),
                }
            }),
        ),
        (
            "/api/v1/cases/causes",
            json!({
                "get": {
                    "summary": "The root causes of the cases, counted and priced (the outer loop), the costliest first: {currency, causes: [{cause, cases, customers, valued, clv}]}. A cause counts its own cases and those of the causes below it; `clv` sums the lifetime value of the distinct customers behind them (null when customers are not valued).",
                    "description": "Owners and partners: only their own owner's cases.",
                    "security": security,
                    "responses": with(json!({"200": {"description": "The root causes."}})),
                }
            }),
        ),
        (
            "/api/v1/cases/{id}",
            json!({
                "get": {
                    "summary": "One case: {case, trigger, source (the answer with its comment, or the interaction), history}.",
                    "description": who,
                    "parameters": [id],
                    "security": security,
                    "responses": with(json!({"200": {"description": "The case."}})),
                },
                "patch": {
                    "summary": "Work on a case: any of {status, assignee, owner, root_cause, outcome, amount, note}. A move the status does not allow, an unknown root cause or owner, an outcome's amount that does not fit is refused (400, naming the field) and changes nothing; held-out cases refuse every change (400, field `case`). Every change is in the case's history and the audit log.",
                    "parameters": [id],
                    "security": write_security,
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}},
                    "responses": with(json!({"200": {"description": "The case as changed."}, "415": {"description": "The body is not JSON."}})),
                }
            }),
        ),
    ]
}
