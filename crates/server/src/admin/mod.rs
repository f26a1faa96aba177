//! Web administration, for admins only: users, API tokens, targets, service levels,
//! touchpoint placements, case rules, surveys and report schedules. Every change calls the store's own
//! operation — the validation and audit entry the CLI uses — from a form carrying the
//! session's CSRF token, then redirects (303) to its section with a confirmation; a refused value is shown next to
//! its field and changes nothing. Other roles get 403 on every route.

pub(crate) mod choices;
mod flash;
pub(crate) mod form;
mod page;
mod placements;
mod request;
mod rules;
mod schedules;
mod slas;
mod surveys;
mod targets;
mod tokens;
mod users;

use std::collections::HashMap;
use std::future::Future;

use axum::Router;
use axum::extract::Query;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cxray_store::StoreError;

use crate::AppState;
use choices::{owners, sql, touchpoints};
use flash::Flash;
use form::Problem;
use page::{compose, failed, listing, page};
use request::{Change, Ctx, Numbered, from_pairs, posted};

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
    (
        rules::Rules::PATH,
        rules::Rules::TITLE,
        "the rules that open follow-up cases; add, disable",
    ),
    (
        surveys::Surveys::PATH,
        surveys::Surveys::TITLE,
        "surveys, the rules that invite customers to them, the contact policy",
    ),
    (
        schedules::Schedules::PATH,
        schedules::Schedules::TITLE,
        "the board pack by e-mail: how often, to whom; what was sent",
    ),
];

/// The administration's routes (reading routes: behind [`crate::auth::require_read`]).
pub fn routes() -> Router<AppState> {
    use placements::Placements;
    use rules::Rules;
    use schedules::Schedules;
    use slas::Slas;
    use surveys::Surveys;
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
        .route(Schedules::PATH, get(show::<Schedules>).post(schedules::add))
        .route("/admin/report-schedules/remove", post(schedules::remove))
        .route(Rules::PATH, get(show::<Rules>).post(rules::add))
        .route("/admin/rules/disable", post(rules::disable))
        .route(Surveys::PATH, get(show::<Surveys>).post(surveys::add))
        .route("/admin/surveys/rules", post(surveys::add_rule))
        .route("/admin/surveys/policy", post(surveys::policy))
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
