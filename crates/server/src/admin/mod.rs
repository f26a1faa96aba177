//! Web administration, for admins only: users, API tokens, targets, service levels and
//! touchpoint placements. Every change calls the store's own operation — the validation
//! and audit entry the CLI uses — from a form carrying the session's CSRF token, then
//! redirects (303) to its section with a confirmation; a refused value is shown next to
//! its field and changes nothing. Other roles get 403 on every route.

mod flash;
mod form;
mod placements;
mod slas;
mod targets;
mod tokens;
mod users;

use std::collections::HashMap;
use std::future::Future;

use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use cxray_analysis::journey::Journey;
use cxray_core::access::Role;
use cxray_store::StoreError;
use cxray_store::sql::Sql;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::auth::{CurrentUser, cookie};
use crate::html::escape;
use flash::Flash;
use form::Problem;

/// The sections: path, name and what they are for.
const SECTIONS: &[(&str, &str, &str)] = &[
    (
        users::Users::PATH,
        users::Users::TITLE,
        "who may sign in, with which role; disable, reset a password",
    ),
    (
        tokens::Tokens::PATH,
        tokens::Tokens::TITLE,
        "tokens for the API and ingestion, with their scopes; revoke",
    ),
    (
        targets::Targets::PATH,
        targets::Targets::TITLE,
        "targets for the headline metrics, per period",
    ),
    (
        slas::Slas::PATH,
        slas::Slas::TITLE,
        "the longest acceptable wait and failure rate per touchpoint",
    ),
    (
        placements::Placements::PATH,
        placements::Placements::TITLE,
        "where touchpoints sit in the journey and who owns them",
    ),
];

/// The administration's routes (reading routes: behind [`crate::auth::require_read`]).
pub fn routes() -> Router<AppState> {
    use placements::Placements;
    use slas::Slas;
    use targets::Targets;
    use tokens::Tokens;
    use users::Users;
    Router::new()
        .route("/admin", get(index))
        .route(Users::PATH, get(show::<Users>).post(users::add))
        .route("/admin/users/disable", post(users::disable))
        .route("/admin/users/password", post(users::password))
        .route(Tokens::PATH, get(show::<Tokens>).post(tokens::add))
        .route("/admin/tokens/revoke", post(tokens::revoke))
        .route(Targets::PATH, get(show::<Targets>).post(targets::set))
        .route("/admin/targets/remove", post(targets::remove))
        .route(Slas::PATH, get(show::<Slas>).post(slas::set))
        .route("/admin/service-levels/remove", post(slas::remove))
        .route(
            Placements::PATH,
            get(show::<Placements>).post(placements::set),
        )
        .route("/admin/placements/remove", post(placements::remove))
}

/// One section: a page listing what there is, with the forms that change it.
trait Section {
    const PATH: &'static str;
    const TITLE: &'static str;
    /// What the section's main form sends; the default is the empty form.
    type Entered: Default + Send + Sync;
    /// The main form filled in from the query of a row's Edit button; empty by default.
    fn prefill(
        _ctx: &Ctx,
        _query: &HashMap<String, String>,
    ) -> impl Future<Output = Result<Self::Entered, StoreError>> + Send {
        async { Ok(Self::Entered::default()) }
    }
    /// The page's body: the list and the forms, showing what was entered and the problem.
    fn body(
        ctx: &Ctx,
        shown: Shown<'_, Self::Entered>,
    ) -> impl Future<Output = Result<String, StoreError>> + Send;
}

/// What a section's forms show: the values entered and why they were refused.
struct Shown<'a, E> {
    entered: &'a E,
    problem: Option<&'a Problem>,
}

// Copied whatever `E` is (a derive would ask `E: Copy`).
impl<E> Clone for Shown<'_, E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E> Copy for Shown<'_, E> {}

/// What a change did, for its confirmation: a message and a secret to show once.
struct Done {
    message: String,
    secret: Option<(String, String)>,
}

impl Done {
    fn said(message: String) -> Self {
        Done {
            message,
            secret: None,
        }
    }
}

/// An admin's request: the state, the user, and whether cookies must be `Secure`. Any
/// other role gets 403.
struct Ctx {
    state: AppState,
    user: CurrentUser,
    secure: bool,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let user = CurrentUser::from_request_parts(parts, state).await;
        let user = user.map_err(IntoResponse::into_response)?;
        admin(&user)?;
        let (h, e) = (&parts.headers, &parts.extensions);
        let secure = cookie::secure(h, e, state.secure_cookies, &state.trusted_proxies);
        Ok(Ctx {
            state: state.clone(),
            user,
            secure,
        })
    }
}

/// Implements [`Posted`] for form types with a `csrf` field.
macro_rules! posted {
    ($($form:ty),+) => {
        $(impl super::Posted for $form {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        })+
    };
}
use posted;

/// A form of the administration: it carries the session's form token.
trait Posted: DeserializeOwned + Send {
    fn csrf(&self) -> &str;
}

/// A change: an admin's form, posted from a browser session with the session's form
/// token (else 403, before anything is done).
struct Change<F> {
    ctx: Ctx,
    form: F,
}

impl<F: Posted> FromRequest<AppState> for Change<F> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let ctx = Ctx::from_request_parts(&mut parts, state).await?;
        let form = Form::<F>::from_request(Request::from_parts(parts, body), state).await;
        let Form(form) = form.map_err(IntoResponse::into_response)?;
        let user = &ctx.user;
        user.require_session()
            .map_err(IntoResponse::into_response)?;
        user.check_csrf(form.csrf())
            .map_err(IntoResponse::into_response)?;
        Ok(Change { ctx, form })
    }
}

/// The touchpoints to choose from: the latest journey map's, else the interactions'.
async fn touchpoints(state: &AppState) -> Vec<String> {
    let mapped = |j: &Journey| j.touchpoints.iter().map(|t| t.touchpoint.clone()).collect();
    known(state, mapped, ("interactions", "touchpoint")).await
}

/// The owners to suggest: the latest journey map's, else the owners table's.
async fn owners(state: &AppState) -> Vec<String> {
    let mapped = |j: &Journey| j.owners.iter().map(|o| o.owner.clone()).collect();
    known(state, mapped, ("owners", "owner_id")).await
}

/// Values to choose from, sorted: from the latest analyses' journey map (so a page does
/// not scan a table), else `column` of `table`; none when neither can be read.
async fn known(
    state: &AppState,
    from_map: impl Fn(&Journey) -> Vec<String>,
    (table, column): (&str, &str),
) -> Vec<String> {
    let latest = state.snapshots.latest();
    let mut values = match latest.as_ref().and_then(|s| s.journey.as_ref().ok()) {
        Some(j) => from_map(j),
        None => match sql(state).await {
            Ok(sql) => sql.distinct(table, column).await.unwrap_or_default(),
            Err(_) => Vec::new(),
        },
    };
    values.sort();
    values
}

/// A session over the event tables, to check edits against the data.
async fn sql(state: &AppState) -> Result<Sql, StoreError> {
    Sql::open(&state.folder, &Default::default()).await
}

/// 403 unless the user is an admin.
fn admin(user: &CurrentUser) -> Result<(), Response> {
    user.require_role(Role::can_admin)
        .map_err(IntoResponse::into_response)
}

/// `GET /admin`: the sections.
async fn index(ctx: Ctx) -> Response {
    let items: String = SECTIONS
        .iter()
        .map(|(href, name, what)| format!("<li><a href=\"{href}\">{name}</a>: {what}</li>"))
        .collect();
    let body = format!(
        "<p>Changes made here are checked and audited exactly as with the <code>cxray</code> command line.</p><ul>{items}</ul>"
    );
    crate::routes::render(&ctx.user, "/admin", "Administration", None, &body)
}

/// `GET` of a section, with the confirmation of the change before it; its form filled
/// in for the row named in the query.
async fn show<S: Section>(
    ctx: Ctx,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let flash = Flash::take(&headers, ctx.user.id);
    let body = match S::prefill(&ctx, &query).await {
        Ok(entered) => {
            let shown = Shown {
                entered: &entered,
                problem: None,
            };
            S::body(&ctx, shown).await
        }
        Err(e) => Err(e),
    };
    let mut r = page::<S>(&ctx.user, body, flash.as_ref(), StatusCode::OK);
    if Flash::sent(&headers) {
        let clear = HeaderValue::from_str(&Flash::clear(ctx.secure));
        r.headers_mut()
            .extend(clear.map(|v| (header::SET_COOKIE, v)));
    }
    r
}

/// The answer to a change of section `S`: on success a 303 to the section with the
/// confirmation; a refused value shows the section again (400) with the form as
/// `entered` (the problem next to its field) or, for a row's action (`None`), above the
/// forms; any other failure is a 500 page.
async fn answer<S: Section>(
    ctx: &Ctx,
    done: Result<Done, StoreError>,
    entered: Option<&S::Entered>,
) -> Response {
    let user = &ctx.user;
    match done {
        Ok(Done { message, secret }) => {
            let flash = Flash {
                user: user.id,
                message,
                secret,
            };
            let to = [
                (header::LOCATION, S::PATH.to_string()),
                (header::SET_COOKIE, flash.cookie(ctx.secure)),
            ];
            (StatusCode::SEE_OTHER, to).into_response()
        }
        Err(e) => match Problem::of(&e) {
            Some(mut problem) => {
                let blank = S::Entered::default();
                if entered.is_none() {
                    problem.field = None;
                }
                let shown = Shown {
                    entered: entered.unwrap_or(&blank),
                    problem: Some(&problem),
                };
                let body = S::body(ctx, shown).await;
                page::<S>(user, body, None, StatusCode::BAD_REQUEST)
            }
            None => failed(user, &e),
        },
    }
}

/// A section's page: the sections' navigation, the confirmation and the body.
fn page<S: Section>(
    user: &CurrentUser,
    body: Result<String, StoreError>,
    flash: Option<&Flash>,
    status: StatusCode,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => return failed(user, &e),
    };
    let html = format!("{}{}{body}", sections(S::PATH), confirmation(flash));
    let mut r = (
        status,
        crate::routes::render(user, S::PATH, S::TITLE, None, &html),
    )
        .into_response();
    // A page may show a secret: never kept by caches.
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A section's body: the refusal of no particular field, the list and the form.
fn compose(problem: Option<&Problem>, list: String, form: String) -> String {
    format!("{}{list}{form}", form::general(problem))
}

/// The table of what a section lists, or a note that there is nothing yet.
fn listing(caption: &str, headers: &[(&str, bool)], rows: &[Vec<String>]) -> String {
    match rows.is_empty() {
        true => format!("<p class=\"note\">{}: none yet.</p>", escape(caption)),
        false => crate::html::table(caption, headers, rows),
    }
}

/// The navigation between the sections, the current one marked.
fn sections(current: &str) -> String {
    let links: String = SECTIONS
        .iter()
        .map(|(href, name, _)| {
            let mark = if *href == current {
                " aria-current=\"page\""
            } else {
                ""
            };
            format!("<a href=\"{href}\"{mark}>{name}</a>")
        })
        .collect();
    format!("<nav class=\"sections\" aria-label=\"administration\">{links}</nav>")
}

/// The confirmation of the last change, and its secret with the note that it is shown once.
fn confirmation(flash: Option<&Flash>) -> String {
    let Some(f) = flash else {
        return String::new();
    };
    let secret = f.secret.as_ref().map_or(String::new(), |(what, value)| {
        format!(
            "<p>{}: <code class=\"secret\">{}</code></p><p class=\"note\">Shown once: copy it now and pass it on safely; only its hash is kept.</p>",
            escape(what),
            escape(value)
        )
    });
    format!(
        "<div class=\"done\" role=\"status\"><p>{}</p>{secret}</div>",
        escape(&f.message)
    )
}

/// A 500 page for a failure that is not the request's fault.
fn failed(user: &CurrentUser, e: &StoreError) -> Response {
    tracing::error!("administration: {e}");
    let body = format!("<p role=\"alert\">{}</p>", escape(&e.to_string()));
    let page = crate::routes::render(user, "", "Error", None, &body);
    (StatusCode::INTERNAL_SERVER_ERROR, page).into_response()
}
