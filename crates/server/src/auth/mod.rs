//! Authentication and access: who the request is from ([`CurrentUser`], from the
//! session cookie or an API token), signing in and out, and refusals ([`Denied`]).
//!
//! Handlers take a [`CurrentUser`] argument to require a signed-in user, then check
//! what the user may do: [`CurrentUser::require_role`], [`CurrentUser::require_scope`],
//! and [`CurrentUser::check_csrf`] on every form post.

mod cookie;
mod denied;
mod login;
mod user;

use axum::routing::{get, post};
use axum::{Json, Router};
use cxray_core::access::Scope;
use serde_json::{Value, json};

use crate::AppState;

pub use denied::Denied;
pub use login::SESSION_LIFETIME;
pub use user::CurrentUser;

/// `/login`, `/logout` and `/api/v1/me`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login::form).post(login::login))
        .route("/logout", post(login::logout))
        .route("/api/v1/me", get(me))
}

/// `GET /api/v1/me`: the caller (needs the `read` scope).
async fn me(user: CurrentUser) -> Result<Json<Value>, Denied> {
    user.require_scope(Scope::Read)?;
    Ok(Json(json!({
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "owner_id": user.owner_id,
        "scopes": user.scopes,
    })))
}
