//! Authentication and access: who the request is from ([`CurrentUser`], from the
//! session cookie or an API token), signing in and out, and refusals ([`Denied`]).
//!
//! Every route that shows data (pages, the API's reads) is behind [`require_read`]: a
//! signed-in user, and an API token with the `read` scope. Handlers take a
//! [`CurrentUser`] argument, then check what the user may do:
//! [`CurrentUser::require_role`], [`CurrentUser::require_scope`],
//! [`CurrentUser::require_session`] (administration: no API tokens), and
//! [`CurrentUser::check_csrf`] on every form post.

pub(crate) mod cookie;
mod denied;
mod login;
mod user;

use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::AppState;

pub use denied::Denied;
pub use login::SESSION_LIFETIME;
pub use user::{CurrentUser, require_read};

/// `/login` and `/logout`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login::form).post(login::login))
        .route("/logout", post(login::logout))
}

/// `/api/v1/me` (a reading route: behind [`require_read`]).
pub fn reading_routes() -> Router<AppState> {
    Router::new().route("/api/v1/me", get(me))
}

/// `GET /api/v1/me`: the caller.
async fn me(user: CurrentUser) -> Json<Value> {
    Json(json!({
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "owner_id": user.owner_id,
        "scopes": user.scopes,
    }))
}
