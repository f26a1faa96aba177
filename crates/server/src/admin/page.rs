//! A section's page: the sections' navigation, the confirmation of the last change, the
//! list and the forms; and the page of a failure.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cxray_store::StoreError;

use super::flash::Flash;
use super::form::{self, Problem};
use super::{SECTIONS, Section};
use crate::auth::CurrentUser;
use crate::html::escape;

/// A section's page: the sections' navigation, the confirmation and the body.
pub fn page<S: Section>(
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
pub fn compose(problem: Option<&Problem>, list: String, form: String) -> String {
    format!("{}{list}{form}", form::general(problem))
}

/// The table of what a section lists, or a note that there is nothing yet.
pub fn listing(caption: &str, headers: &[(&str, bool)], rows: &[Vec<String>]) -> String {
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
pub fn failed(user: &CurrentUser, e: &StoreError) -> Response {
    tracing::error!("administration: {e}");
    let body = format!("<p role=\"alert\">{}</p>", escape(&e.to_string()));
    let page = crate::routes::render(user, "", "Error", None, &body);
    (StatusCode::INTERNAL_SERVER_ERROR, page).into_response()
}
