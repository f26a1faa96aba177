//! `/s/{token}/unsubscribe`: a personal link's customer asks for no more surveys — a
//! confirmation form, then the opt-out recorded (via "link") and confirmed. The link
//! still works after the survey has closed: only its signature is checked.

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::Response;
use cxray_core::surveys::Link;
use cxray_core::surveys::texts::Text;

use super::page::{self, notice};
use super::respond::{fields, guard, internal, invited, key};
use super::{browser_language, now};
use crate::AppState;

type Reply = Result<Response, Response>;

/// `GET /s/{token}/unsubscribe`: one question, one button.
pub(super) async fn confirm(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Reply {
    let (_, lang) = customer(&state, &token, &headers).await?;
    Ok(page::unsubscribe(&lang, &format!("/s/{token}/unsubscribe")))
}

/// `POST /s/{token}/unsubscribe`: the opt-out recorded, and confirmed.
pub(super) async fn unsubscribe(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    extensions: Extensions,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Reply {
    guard(
        &state,
        &headers,
        &extensions,
        Some(&token),
        browser_language(&headers),
    )?;
    let (customer, lang) = customer(&state, &token, &headers).await?;
    fields(form, &lang)?;
    state
        .surveys
        .db(&state, move |db| db.opt_out(&customer, "link", now()))
        .await
        .map_err(|e| internal(&lang, &e))?;
    Ok(notice(StatusCode::OK, &lang, Text::Unsubscribed))
}

/// The customer a personal link was made for and their language, or a page saying the
/// link does not work (404).
async fn customer(
    state: &AppState,
    token: &str,
    headers: &HeaderMap,
) -> Result<(String, String), Response> {
    let lang = browser_language(headers);
    let key = key(state, lang).await?;
    // As of the earliest time, so a link past its expiry still unsubscribes.
    let link = Link::verify(token, &key, i64::MIN)
        .map_err(|_| notice(StatusCode::NOT_FOUND, lang, Text::Altered))?;
    let p = invited(state, link, headers).await?;
    Ok((p.invitation.customer_id, p.lang))
}
