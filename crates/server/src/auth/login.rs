//! Signing in and out: the sign-in form (its token bound to a cookie: double submit),
//! the session cookie, and the safe way back to the page asked for.

use std::time::Duration;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{Extensions, HeaderMap, StatusCode, header};
use axum::response::{AppendHeaders, Html, IntoResponse, Response};
use cxray_store::StoreError;
use cxray_store::accounts::random_token;
use serde::Deserialize;

use super::cookie::{self, same_secret};
use super::denied::Denied;
use super::user::CurrentUser;
use crate::AppState;
use crate::html::{Layout, escape, page};

/// How long a session lasts.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// How long the sign-in form may stay open.
const FORM_SECONDS: u64 = 3600;

#[derive(Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

/// `GET /login`: the sign-in form.
pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: Extensions,
    q: Query<NextQuery>,
) -> Response {
    let secure = secure(&state, &headers, &extensions);
    form_page(StatusCode::OK, "", &q.next, None, secure)
}

/// `POST /login`: checks the form token, then the password (rate limited); on success
/// starts a session and goes to `next`.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: Extensions,
    Form(f): Form<LoginForm>,
) -> Response {
    let secure = secure(&state, &headers, &extensions);
    let bound = cookie::get(&headers, cookie::LOGIN).unwrap_or_default();
    if bound.is_empty() || !same_secret(&bound, &f.csrf) {
        let message = "The sign-in form expired or was not sent from this site: try again.";
        return form_page(
            StatusCode::FORBIDDEN,
            &f.email,
            &f.next,
            Some(message),
            secure,
        );
    }
    let address = cookie::client_address(&headers, &extensions, &state.trusted_proxies);
    let (email, password) = (f.email.clone(), f.password);
    let started = crate::ops(&state, move |db| {
        let user = db.login(&email, &password, &address)?;
        db.create_session(user.id, SESSION_LIFETIME)
    })
    .await;
    match started {
        Ok(session) => {
            let cookies = AppendHeaders([
                (
                    header::SET_COOKIE,
                    cookie::set(
                        cookie::SESSION,
                        &session.token,
                        "/",
                        SESSION_LIFETIME.as_secs(),
                        secure,
                    ),
                ),
                (
                    header::SET_COOKIE,
                    cookie::set(cookie::LOGIN, "", "/login", 0, secure),
                ),
            ]);
            let to = safe_next(&f.next);
            (StatusCode::SEE_OTHER, cookies, [(header::LOCATION, to)]).into_response()
        }
        Err(e @ StoreError::BadCredentials) => {
            let message = format!("{}.", crate::html::capitalised(&e.to_string()));
            form_page(
                StatusCode::UNAUTHORIZED,
                &f.email,
                &f.next,
                Some(&message),
                secure,
            )
        }
        Err(e @ StoreError::RateLimited { minutes }) => {
            let message = format!("{}.", crate::html::capitalised(&e.to_string()));
            let mut r = form_page(
                StatusCode::TOO_MANY_REQUESTS,
                &f.email,
                &f.next,
                Some(&message),
                secure,
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, (minutes * 60).into());
            r
        }
        Err(e) => Denied::internal(false, &e).into_response(),
    }
}

/// `POST /logout`: ends the session (the form must carry its token).
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: Extensions,
    user: CurrentUser,
    Form(f): Form<LogoutForm>,
) -> Result<Response, Denied> {
    user.check_csrf(&f.csrf)?;
    if let Some(token) = cookie::get(&headers, cookie::SESSION) {
        crate::ops(&state, move |db| db.delete_session(&token))
            .await
            .map_err(|e| Denied::internal(false, &e))?;
    }
    let secure = secure(&state, &headers, &extensions);
    let clear = cookie::set(cookie::SESSION, "", "/", 0, secure);
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, clear),
            (header::LOCATION, "/login".into()),
        ],
    )
        .into_response())
}

/// Whether this request's cookies are `Secure` (see [`cookie::secure`]).
fn secure(state: &AppState, headers: &HeaderMap, extensions: &Extensions) -> bool {
    cookie::secure(
        headers,
        extensions,
        state.secure_cookies,
        &state.trusted_proxies,
    )
}

/// `next` if it is a path on this site (not `//host`, not back to sign-in), else `/`:
/// signing in never leads elsewhere.
pub fn safe_next(next: &str) -> String {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/login")
        && next.len() <= 2048
        && next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    if local { next.to_string() } else { "/".into() }
}

/// The sign-in page with a fresh form token (also set as the form's cookie), the email
/// typed so far and a message.
fn form_page(
    status: StatusCode,
    email: &str,
    next: &str,
    message: Option<&str>,
    secure: bool,
) -> Response {
    let token = match random_token() {
        Ok(t) => t,
        Err(e) => return Denied::internal(false, &e).into_response(),
    };
    let alert = message.map_or(String::new(), |m| {
        format!("<p role=\"alert\">{}</p>", escape(m))
    });
    let body = format!(
        "{alert}<form method=\"post\" action=\"/login\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{token}\">\
         <input type=\"hidden\" name=\"next\" value=\"{next}\">\
         <p><label>Email<br><input type=\"email\" name=\"email\" value=\"{email}\" autocomplete=\"username\" required autofocus></label></p>\
         <p><label>Password<br><input type=\"password\" name=\"password\" autocomplete=\"current-password\" required></label></p>\
         <p><button type=\"submit\">Sign in</button></p></form>",
        next = escape(&safe_next(next)),
        email = escape(&email.chars().take(254).collect::<String>()),
    );
    let layout = Layout {
        path: "/login",
        nav: vec![],
        user: None,
        as_of: None,
    };
    let set = cookie::set(cookie::LOGIN, &token, "/login", FORM_SECONDS, secure);
    (
        status,
        [(header::SET_COOKIE, set)],
        Html(page(&layout, "Sign in", &body)),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next("/owners/crew?x=1"), "/owners/crew?x=1");
        for bad in [
            "//evil.example",
            "https://evil.example/",
            "/\\evil.example",
            "evil",
            "",
            "/login?next=/x",
            "/a b",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad}");
        }
    }
}
