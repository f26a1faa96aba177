//! The JSON API, `/api/v1/…`: the data behind every page, under the same access rules,
//! and its OpenAPI description (with the ingestion endpoint of [`crate::ingest`]).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use cxray_analysis::journey::{Journey, areas};
use cxray_core::domain::Table;
use cxray_store::ErrorKind;
use cxray_store::ops::OpsDb;
use serde::Serialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::CurrentUser;
use crate::filters::Filters;
use crate::snapshot::{Part, PartError, Snapshot};
use crate::visible;

/// Every read endpoint: path, summary, and whether owners and partners may call it.
const ENDPOINTS: &[(&str, &str, bool)] = &[
    (
        "/api/v1/scorecard",
        "The executive scorecard: headline figures with intervals, targets, trends, weak areas, revenue and EBIT; `boards`: the one-page figures per month, quarter and year with their changes.",
        false,
    ),
    (
        "/api/v1/link",
        "The satisfaction–loyalty link: report-card quadrant, retention by NPS group, AUCs and lift.",
        false,
    ),
    (
        "/api/v1/respondents",
        "Who answers, for all customers: among those asked as recorded (`invited_by`: every trip, or the invitations sent once answers came through them), responders against non-responders by what is known of everyone asked (`levels`, `means`), the NPS as answered (`answered`) and weighted to everyone asked (`weighted`: inverse response-propensity weights from a logistic model, `propensity`; `post_stratified` as a check), each with its interval and n.",
        false,
    ),
    (
        "/api/v1/journey",
        "The journey map: touchpoints in journey order with owners, performance, dropout and money (`measurable` when the loss is distinguishable from zero); owners; hand-offs.",
        true,
    ),
    (
        "/api/v1/areas",
        "The weak-area map, ranked by measurable money at risk (`rank` null for no measurable loss).",
        true,
    ),
    (
        "/api/v1/drivers",
        "The driver analysis of defection after a trip: each predictor's weight and share, and per touchpoint the odds ratio of leaving from the dropout model (`dropout`).",
        false,
    ),
    (
        "/api/v1/owners/{owner}",
        "One owner's scorecard: totals, touchpoints, monthly failure rate and `cases`: the owner's followed-up cases not yet done (`open`) and of them past a deadline (`overdue`).",
        true,
    ),
    (
        "/api/v1/customers/{customer}",
        "One customer's timeline with P(alive), expected purchases, CLV and P(n purchases) over the prediction horizon (value.purchases: n = 0, 1, 2, 3, then 4 or more), and over the rest of the lifetime the discounted expected residual transactions and their value (value.residual_transactions, value.lifetime_value).",
        false,
    ),
    (
        "/api/v1/tables",
        "The event tables: rows, versions, date ranges.",
        false,
    ),
    (
        "/api/v1/targets",
        "The targets per headline metric and period.",
        false,
    ),
];

/// Endpoints answered from the analyses, which take the filters.
const FILTERED: &[&str] = &[
    "/api/v1/scorecard",
    "/api/v1/link",
    "/api/v1/journey",
    "/api/v1/areas",
    "/api/v1/drivers",
    "/api/v1/owners",
];

/// The API's public route: its OpenAPI document.
pub fn public_routes() -> Router<AppState> {
    Router::new().route("/api/v1/openapi.json", get(openapi))
}

/// The API's reading routes (behind [`crate::auth::require_read`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/scorecard", get(scorecard))
        .route("/api/v1/link", get(link))
        .route("/api/v1/respondents", get(respondents))
        .route("/api/v1/journey", get(journey))
        .route("/api/v1/areas", get(area_list))
        .route("/api/v1/drivers", get(drivers))
        .route("/api/v1/owners/{owner}", get(owner))
        .route("/api/v1/customers/{customer}", get(customer))
        .route("/api/v1/tables", get(tables))
        .route("/api/v1/targets", get(targets))
}

type Reply = Result<Response, Response>;

/// A JSON refusal: `{"error": message}`.
pub(crate) fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"error": message}))).into_response()
}

/// The HTTP status of each kind of failure, for the API and the pages alike: bad input
/// 400, no data and a model that failed 422, I/O and internal failures 500.
pub(crate) fn status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::BadInput => StatusCode::BAD_REQUEST,
        ErrorKind::NoData | ErrorKind::ModelFailed => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A failure as its status and `{"error": message, "kind": kind}`.
fn failure(e: impl Into<PartError>) -> Response {
    let e = e.into();
    let body = json!({"error": e.message, "kind": e.kind});
    (status(e.kind), Json(body)).into_response()
}

/// For company-wide data the caller must see every owner (the `read` scope is checked
/// by [`crate::auth::require_read`]).
pub(crate) fn allow(user: &CurrentUser, company_wide: bool) -> Result<(), Response> {
    if company_wide && !user.role.sees_all_owners() {
        return Err(error(
            StatusCode::FORBIDDEN,
            "company-wide data: your role sees only your own touchpoints",
        ));
    }
    Ok(())
}

/// The analyses `part` needs for the request's filters (see `filters.rs`; the same as the
/// pages').
async fn latest(
    state: &AppState,
    user: &CurrentUser,
    filters: Filters,
    part: Part,
) -> Result<std::sync::Arc<Snapshot>, Response> {
    let filters = filters
        .normalised()
        .map_err(|e| error(StatusCode::BAD_REQUEST, &e))?;
    let view = state
        .snapshots
        .filtered(&state.folder, &filters, part, user.id)
        .await;
    match view {
        Some(Ok(s)) => Ok(s),
        Some(Err(e)) => Err(error(crate::routes::view_refusal(&e).0, &e.to_string())),
        None => Err(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the analyses are being computed; retry shortly",
        )),
    }
}

fn reply<T: Serialize>(part: &Result<T, PartError>) -> Reply {
    match part {
        Ok(v) => Ok(Json(v).into_response()),
        Err(e) => Err(failure(e.clone())),
    }
}

async fn scorecard(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(f): Query<Filters>,
) -> Reply {
    allow(&user, true)?;
    reply(&latest(&state, &user, f, Part::Scorecard).await?.scorecard)
}

async fn link(State(state): State<AppState>, user: CurrentUser, Query(f): Query<Filters>) -> Reply {
    allow(&user, true)?;
    reply(&latest(&state, &user, f, Part::Link).await?.link)
}

async fn respondents(State(state): State<AppState>, user: CurrentUser) -> Reply {
    allow(&user, true)?;
    let all = Filters::default();
    reply(&latest(&state, &user, all, Part::Link).await?.respondents)
}

async fn drivers(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(f): Query<Filters>,
) -> Reply {
    allow(&user, true)?;
    reply(&latest(&state, &user, f, Part::Drivers).await?.drivers)
}

/// A view withheld from the caller (see [`visible::withheld`]): 200 with no figures,
/// `{"withheld": true, "min_group_size": N, "note": …}`.
fn withheld(state: &AppState, user: &CurrentUser, s: &Snapshot) -> Result<(), Response> {
    let min = state.min_group_size;
    if !visible::withheld(user, s, min) {
        return Ok(());
    }
    let body = json!({"withheld": true, "min_group_size": min, "note": visible::note(min)});
    Err(Json(body).into_response())
}

/// The journey `user` may see in the view `s`.
fn journey_of(state: &AppState, user: &CurrentUser, s: &Snapshot) -> Result<Journey, Response> {
    withheld(state, user, s)?;
    let j = s.journey.as_ref().map_err(|e| failure(e.clone()))?;
    Ok(visible::journey(j, user))
}

async fn journey(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(f): Query<Filters>,
) -> Reply {
    allow(&user, false)?;
    let s = latest(&state, &user, f, Part::Journey).await?;
    Ok(Json(journey_of(&state, &user, &s)?).into_response())
}

async fn area_list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(f): Query<Filters>,
) -> Reply {
    allow(&user, false)?;
    let s = latest(&state, &user, f, Part::Journey).await?;
    Ok(Json(areas(&journey_of(&state, &user, &s)?)).into_response())
}

async fn owner(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(f): Query<Filters>,
) -> Reply {
    allow(&user, false)?;
    let s = latest(&state, &user, f, Part::Journey).await?;
    let unknown = || {
        error(
            StatusCode::NOT_FOUND,
            &format!("no owner '{id}' you may see"),
        )
    };
    if !visible::sees(&user, Some(&id)) {
        return Err(unknown());
    }
    let j = journey_of(&state, &user, &s)?;
    let o = j
        .owners
        .iter()
        .find(|o| o.owner == id)
        .ok_or_else(unknown)?;
    let touchpoints: Vec<_> = j
        .touchpoints
        .iter()
        .filter(|t| t.owner.as_deref() == Some(id.as_str()))
        .collect();
    let of = id.clone();
    let cases = crate::ops(&state, move |ops| ops.owner_cases(&of, chrono::Utc::now()))
        .await
        .map_err(failure)?;
    Ok(Json(json!({
        "owner": o,
        "touchpoints": touchpoints,
        "trend": s.trends.get(&id),
        "cases": cases,
    }))
    .into_response())
}

async fn customer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Reply {
    allow(&user, true)?;
    let sql = cxray_store::sql::Sql::open(&state.folder, &Default::default())
        .await
        .map_err(failure)?;
    match cxray_analysis::customer::timeline(&sql, &id).await {
        Ok(Some(t)) => Ok(Json(t).into_response()),
        Ok(None) => Err(error(StatusCode::NOT_FOUND, &format!("no customer '{id}'"))),
        Err(e) => Err(failure(e)),
    }
}

async fn tables(State(state): State<AppState>, user: CurrentUser) -> Reply {
    allow(&user, true)?;
    let mut out = Vec::new();
    for table in Table::ALL {
        let info = cxray_store::tables::info(&state.folder, table)
            .await
            .map_err(failure)?;
        out.push(info);
    }
    Ok(Json(out).into_response())
}

async fn targets(State(state): State<AppState>, user: CurrentUser) -> Reply {
    allow(&user, true)?;
    let targets = crate::ops(&state, |ops: &OpsDb| ops.targets())
        .await
        .map_err(failure)?;
    Ok(Json(targets).into_response())
}

/// An optional query parameter of text, for the OpenAPI document.
pub(crate) fn query_parameter(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "schema": {"type": "string"}, "description": description})
}

/// An OpenAPI operation's responses: `extra` and the refusals of the routes that take
/// input (400 naming the field, 401, 403), with `not_found` as the 404.
pub(crate) fn with_refusals(mut extra: Value, not_found: &str) -> Value {
    let refusals = json!({
        "400": {"description": "Bad input: {\"error\", \"kind\": \"bad_input\", \"field\"} names the field; nothing changed."},
        "401": {"description": "Not signed in and no valid token."},
        "403": {"description": "The role or token scope does not allow it."},
        "404": {"description": not_found}
    });
    if let (Some(e), Value::Object(r)) = (extra.as_object_mut(), refusals) {
        e.extend(r);
    }
    extra
}

/// `GET /api/v1/openapi.json`: the API's description (public).
async fn openapi() -> Json<Value> {
    Json(openapi_document())
}

fn openapi_document() -> Value {
    let mut paths = serde_json::Map::new();
    for (path, summary, scoped) in ENDPOINTS {
        let mut params: Vec<Value> = path
            .split('/')
            .filter_map(|p| p.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        if FILTERED.iter().any(|f| path.starts_with(f)) {
            params.extend(["from", "to", "segment", "region", "attribute", "value"].map(|name| {
                json!({"name": name, "in": "query", "required": false, "schema": {"type": "string"},
                       "description": "Filter: first / last day (YYYY-MM-DD); the customers' segment / region; any other customers' column (attribute) equal to value."})
            }));
        }
        let who = if *scoped {
            "Owners and partners see only their own touchpoints, compared among themselves (no company mean CLV; weak areas ranked among their own touchpoints, the average target theirs). A filtered view of fewer customers (with interactions) than the server's minimum group size (default 20) is withheld from them: 200 with {\"withheld\": true, \"min_group_size\": N, \"note\": text} and no figures."
        } else {
            "Admins, executives and analysts only."
        };
        paths.insert(
            path.to_string(),
            json!({"get": {
                "summary": summary,
                "description": who,
                "parameters": params,
                "security": [{"session": []}, {"token": ["read"]}],
                "responses": {
                    "200": {"description": "The data, as JSON.", "content": {"application/json": {"schema": {"type": "object"}}}},
                    "401": {"description": "Not signed in and no valid token."},
                    "403": {"description": "Role or token scope does not allow it."},
                    "503": {"description": "The analyses are still being computed."}
                }
            }}),
        );
    }
    paths.insert("/api/v1/ingest/{table}".into(), crate::ingest::openapi());
    paths.extend(
        crate::cases::api::openapi()
            .into_iter()
            .chain(crate::surveys::api::openapi())
            .chain(crate::initiatives::api::openapi())
            .chain(crate::comments::api::openapi())
            .map(|(path, v)| (path.to_string(), v)),
    );
    json!({
        "openapi": "3.1.0",
        "info": {"title": "cxray API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "The data behind cxray's pages. Every figure carries its interval and n."},
        "paths": paths,
        "components": {"securitySchemes": {
            "session": {"type": "apiKey", "in": "cookie", "name": "cxray_session"},
            "token": {"type": "http", "scheme": "bearer", "description": "An API token (cxr_…) with scopes read, ingest, cases (opening and working on cases), surveys (defining surveys, rules and the contact policy) and/or initiatives (recording and changing initiatives)."}
        }}
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_endpoint_is_described() {
        let doc = super::openapi_document();
        for (path, _, _) in super::ENDPOINTS {
            assert!(doc["paths"][path]["get"]["summary"].is_string(), "{path}");
        }
        assert_eq!(
            doc["paths"]["/api/v1/owners/{owner}"]["get"]["parameters"][0]["name"],
            "owner"
        );
        let ingest = &doc["paths"]["/api/v1/ingest/{table}"]["post"];
        assert_eq!(ingest["security"][0]["token"][0], "ingest");
        assert!(ingest["responses"]["413"].is_object());
        let cases = &doc["paths"]["/api/v1/cases/{id}"];
        assert_eq!(cases["patch"]["security"][1]["token"][1], "cases");
        assert!(cases["get"]["responses"]["404"].is_object());
        assert!(doc["paths"]["/api/v1/cases"]["post"]["requestBody"].is_object());
        let policy = &doc["paths"]["/api/v1/survey-policy"]["put"];
        assert_eq!(policy["security"][1]["token"][1], "surveys");
        let rates = &doc["paths"]["/api/v1/survey-rates"]["get"]["parameters"][0];
        assert_eq!(rates["schema"]["enum"][2], "owner");
        let initiatives = &doc["paths"]["/api/v1/initiatives/{id}"];
        assert_eq!(
            initiatives["patch"]["security"][1]["token"][1],
            "initiatives"
        );
        assert!(doc["paths"]["/api/v1/initiatives/{id}/effect"]["get"]["summary"].is_string());
        assert!(doc["paths"]["/api/v1/whatif"]["get"]["parameters"].is_array());
    }
}
