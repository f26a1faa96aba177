//! `POST /api/v1/ingest/{table}`: NDJSON batches into an event table (see
//! [`cxray_store::ingest`]): validated whole, acknowledged once durable, not written twice
//! under the same `Idempotency-Key`. The body is read only once the token, its role and
//! scope, the table and the key are accepted.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use cxray_core::access::{Role, Scope};
use cxray_core::domain::Table;
use cxray_store::ingest::{Client, IngestError};
use cxray_store::tables::DERIVED;
use serde_json::{Value, json};

use crate::AppState;
use crate::api::error;
use crate::auth::CurrentUser;

/// The largest batch accepted, in bytes.
const MAX_BODY: usize = 16 << 20;
/// The longest idempotency key.
const MAX_KEY: usize = 200;

/// The ingestion route.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/ingest/{table}", post(ingest))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

type Reply = Result<Response, Response>;

async fn ingest(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
    headers: HeaderMap,
    request: Request,
) -> Reply {
    let token = allow(&user)?;
    follower(&state).await?;
    let table = table(&name)?;
    let key = idempotency_key(&headers)?;
    let body = Bytes::from_request(request, &state)
        .await
        .map_err(|r| error(r.status(), &r.body_text()))?;
    let client = Client {
        actor: user.actor(),
        id: format!("token:{token}"),
    };
    let ack = state
        .ingest
        .ingest(table, key.clone(), client, body.into())
        .await
        .map_err(refusal)?;
    Ok(Json(json!({
        "accepted": ack.accepted,
        "idempotency_key": key,
        "duplicate": ack.duplicate,
    }))
    .into_response())
}

/// An API token with the `ingest` scope of an admin or analyst: its id, whose
/// idempotency keys the batch uses.
fn allow(user: &CurrentUser) -> Result<i64, Response> {
    let Some(token) = user.token else {
        return Err(error(
            StatusCode::FORBIDDEN,
            "ingestion needs an API token with the ingest scope",
        ));
    };
    user.require_scope(Scope::Ingest)
        .and_then(|()| user.require_role(Role::can_ingest))
        .map_err(IntoResponse::into_response)?;
    Ok(token)
}

/// On a server that does not lead: 503, naming the leader (the body's `leader` and the
/// `Cxray-Leader` header; null and absent when none is known), with `Retry-After`. A
/// server about to lead answers once it does.
async fn follower(state: &AppState) -> Result<(), Response> {
    let leadership = &state.leadership;
    if let Some(wait) = leadership.starting_in() {
        tokio::time::sleep(wait).await;
    }
    if leadership.leading() {
        return Ok(());
    }
    let leader = leadership.leader();
    let message = match &leader {
        Some(address) => {
            format!("this server does not accept ingestion: send to the leader, {address}")
        }
        None => {
            "this server does not accept ingestion, and no leader is known yet: try again".into()
        }
    };
    let body = json!({"error": message, "leader": leader});
    let retry = leadership.retry_after().to_string();
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
    let headers = response.headers_mut();
    let values = [("retry-after", Some(retry)), ("cxray-leader", leader)];
    for (name, value) in values {
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            headers.insert(name, v);
        }
    }
    Err(response)
}

fn table(name: &str) -> Result<Table, Response> {
    if DERIVED.contains(&name) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            &format!("{name} is derived by cxray from the event tables: ingest into those"),
        ));
    }
    name.parse().map_err(|e: cxray_core::domain::UnknownTable| {
        let tables: Vec<&str> = Table::ALL.iter().map(|t| t.name()).collect();
        let body = json!({"error": e.to_string(), "tables": tables});
        (StatusCode::NOT_FOUND, Json(body)).into_response()
    })
}

/// The `Idempotency-Key` header, if sent: 1 to 200 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, Response> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(k) if (1..=MAX_KEY).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(k.to_string()))
        }
        _ => Err(error(
            StatusCode::BAD_REQUEST,
            "Idempotency-Key: 1 to 200 visible ASCII characters",
        )),
    }
}

fn refusal(e: IngestError) -> Response {
    let message = e.to_string();
    match e {
        IngestError::Rejected(rows) => {
            let body =
                json!({"error": message, "rejected": rows.listed, "rejected_count": rows.count});
            (StatusCode::BAD_REQUEST, Json(body)).into_response()
        }
        IngestError::Empty | IngestError::Limit(_) => error(StatusCode::BAD_REQUEST, &message),
        IngestError::KeyReused => error(StatusCode::UNPROCESSABLE_ENTITY, &message),
        IngestError::MissingTable(_) | IngestError::Stopped | IngestError::Broken(_) => {
            error(StatusCode::SERVICE_UNAVAILABLE, &message)
        }
        IngestError::Store(e) => {
            tracing::error!("ingestion: {e}");
            error(StatusCode::INTERNAL_SERVER_ERROR, &message)
        }
    }
}

/// The endpoint in the OpenAPI document.
pub fn openapi() -> Value {
    let message = json!({"application/json": {"schema": {"type": "object"}}});
    json!({"post": {
        "summary": "Send rows to an event table: NDJSON, one object per line, the columns of `cxray import`.",
        "description": "Admins and analysts, with an API token that has the ingest scope. The token, its role and scope are checked before the body is read. The batch is validated whole: one invalid row refuses it (400, the first 1000 invalid rows with their 0-based line and reason, and the count of all) and nothing is written; so do keys that become one column, rows with more keys than allowed, and new attribute columns beyond the table's limit. An acknowledged batch (200) is durable; its rows become queryable within seconds. A batch re-sent with the same Idempotency-Key is not written again: the answer repeats the first one's, with duplicate true.",
        "parameters": [
            {"name": "table", "in": "path", "required": true, "schema": {"type": "string", "enum": Table::ALL.iter().map(|t| t.name()).collect::<Vec<_>>()}},
            {"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "maxLength": MAX_KEY}}
        ],
        "requestBody": {"required": true, "content": {"application/x-ndjson": {"schema": {"type": "string"}}}},
        "security": [{"token": ["ingest"]}],
        "responses": {
            "200": {"description": "Durable: {accepted, idempotency_key, duplicate}.", "content": message},
            "400": {"description": "Invalid rows (rejected: [{index, reason}], rejected_count), no rows, a limit passed, or a derived table; nothing written.", "content": message},
            "401": {"description": "No valid token."},
            "403": {"description": "Not a token with the ingest scope of an admin or analyst."},
            "404": {"description": "No such table (tables: the list)."},
            "413": {"description": "The batch is larger than 16 MiB."},
            "422": {"description": "The Idempotency-Key was used with a different batch."},
            "503": {"description": "The server is stopping or cannot write, or (one of several servers) does not lead: the body's leader and the Cxray-Leader header name the one that does; retry with the same Idempotency-Key, there or after Retry-After seconds."}
        }
    }})
}
