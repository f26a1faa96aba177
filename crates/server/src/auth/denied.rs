//! Refusals: sign in first, not allowed, or the check itself failed.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::login::safe_next;
use crate::html::notice;

/// Why a request is refused.
#[derive(Debug)]
pub enum Denied {
    /// A page without a signed-in user: 303 to the sign-in page, then back to `next`.
    SignIn { next: String },
    /// An API request without a live session or token: 401.
    Unauthorized,
    /// Signed in, but the role, the token's scope or the form token does not allow it.
    Forbidden { api: bool, message: String },
    /// The operational database failed.
    Internal { api: bool, message: String },
}

impl Denied {
    pub(super) fn forbidden(api: bool, message: &str) -> Self {
        Denied::Forbidden {
            api,
            message: message.to_string(),
        }
    }

    pub(super) fn internal(api: bool, error: &cxray_store::StoreError) -> Self {
        tracing::error!("authentication: {error}");
        Denied::Internal {
            api,
            message: "the user database cannot be read".into(),
        }
    }
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        let (status, api, message) = match self {
            Denied::SignIn { next } => {
                let to = format!("/login?next={}", query_escape(&safe_next(&next)));
                return (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response();
            }
            Denied::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                true,
                "sign in, or send an API token: Authorization: Bearer cxr_…".to_string(),
            ),
            Denied::Forbidden { api, message } => (StatusCode::FORBIDDEN, api, message),
            Denied::Internal { api, message } => (StatusCode::INTERNAL_SERVER_ERROR, api, message),
        };
        if api {
            return (status, Json(json!({ "error": message }))).into_response();
        }
        let title = status.canonical_reason().unwrap_or("Refused");
        notice(status, title, &message)
    }
}

/// Percent-encodes everything but unreserved characters and `/`, for a query value.
pub(super) fn query_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
