//! Who is asking: [`CurrentUser`] from the session cookie or an API token, and what
//! they may do.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use cxray_core::access::{Role, Scope};
use cxray_store::accounts::{SessionUser, TokenUser, User};

use super::cookie::{self, same_secret};
use super::denied::Denied;
use crate::AppState;

/// The signed-in user of a request. Extracting it refuses requests without a live
/// session or API token: pages redirect to `/login?next=…`, `/api/…` paths get 401.
/// Behind [`require_read`] it is the user that layer found.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The owner an owner or partner belongs to.
    pub owner_id: Option<String>,
    /// The session's token for forms (see [`CurrentUser::check_csrf`]); empty for API
    /// tokens.
    pub csrf: String,
    /// An API token's scopes; `None` for a browser session, which may do what the role
    /// allows.
    pub scopes: Option<Vec<Scope>>,
    /// The API token's id; `None` for a browser session.
    pub token: Option<i64>,
    /// Whether the request is for the JSON API (refusals are then JSON).
    api: bool,
}

impl CurrentUser {
    fn new(user: User, csrf: String, token: Option<(i64, Vec<Scope>)>, api: bool) -> Self {
        let (token, scopes) = token.unzip();
        CurrentUser {
            id: user.id,
            email: user.email,
            name: user.name,
            role: user.role,
            owner_id: user.owner_id,
            csrf,
            scopes,
            token,
            api,
        }
    }

    /// Who acts, for the audit log: `web:` and the email (as sign-ins are logged).
    pub fn actor(&self) -> String {
        format!("web:{}", self.email)
    }

    /// Whether the request may do what `scope` covers: always for a browser session,
    /// for an API token when it has the scope.
    pub fn has_scope(&self, scope: Scope) -> bool {
        self.scopes.as_ref().is_none_or(|s| s.contains(&scope))
    }

    /// 403 unless [`CurrentUser::has_scope`].
    pub fn require_scope(&self, scope: Scope) -> Result<(), Denied> {
        match self.has_scope(scope) {
            true => Ok(()),
            false => Err(Denied::forbidden(
                self.api,
                &format!("this API token lacks the {scope} scope"),
            )),
        }
    }

    /// 403 unless the role passes `allowed`, e.g. `user.require_role(Role::can_admin)`.
    pub fn require_role(&self, allowed: fn(Role) -> bool) -> Result<(), Denied> {
        match allowed(self.role) {
            true => Ok(()),
            false => Err(Denied::forbidden(
                self.api,
                &format!("the {} role may not do this", self.role),
            )),
        }
    }

    /// 403 for an API token: changes to accounts and settings need a browser session.
    pub fn require_session(&self) -> Result<(), Denied> {
        match self.token {
            None => Ok(()),
            Some(_) => Err(Denied::forbidden(
                self.api,
                "administration needs a signed-in session, not an API token",
            )),
        }
    }

    /// 403 unless a form's `csrf` field is this session's token (compared in constant
    /// time). Requests with an API token carry no cookies, so need none.
    pub fn check_csrf(&self, token: &str) -> Result<(), Denied> {
        if self.scopes.is_some() || (!self.csrf.is_empty() && same_secret(&self.csrf, token)) {
            return Ok(());
        }
        Err(Denied::forbidden(
            self.api,
            "the form's security token is missing or out of date: reload the page and try again",
        ))
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Denied;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Denied> {
        if let Some(user) = parts.extensions.get::<CurrentUser>() {
            return Ok(user.clone());
        }
        let api = parts.uri.path().starts_with("/api/");
        if let Some(token) = cookie::bearer(&parts.headers) {
            let found = crate::ops(state, move |db| db.token_user(&token)).await;
            return match found.map_err(|e| Denied::internal(api, &e))? {
                Some(TokenUser { id, user, scopes }) => Ok(CurrentUser::new(
                    user,
                    String::new(),
                    Some((id, scopes)),
                    api,
                )),
                None => Err(Denied::Unauthorized),
            };
        }
        let found = match cookie::get(&parts.headers, cookie::SESSION) {
            Some(token) => crate::ops(state, move |db| db.session_user(&token))
                .await
                .map_err(|e| Denied::internal(api, &e))?,
            None => None,
        };
        match found {
            Some(SessionUser { user, csrf }) => Ok(CurrentUser::new(user, csrf, None, api)),
            None if api => Err(Denied::Unauthorized),
            None => Err(Denied::SignIn {
                next: parts
                    .uri
                    .path_and_query()
                    .map_or("/".into(), |p| p.to_string()),
            }),
        }
    }
}

/// Middleware of every route that shows data, pages and API alike: the caller must be
/// signed in, and an API token must have the `read` scope. The user found is kept in
/// the request for the handler's [`CurrentUser`].
pub async fn require_read(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, Denied> {
    let (mut parts, body) = request.into_parts();
    let user = CurrentUser::from_request_parts(&mut parts, &state).await?;
    user.require_scope(Scope::Read)?;
    parts.extensions.insert(user);
    Ok(next.run(Request::from_parts(parts, body)).await)
}
