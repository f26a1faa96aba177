//! Answering: the personal link's and the anonymous link's page and form posts. A
//! personal link is checked (signature, expiry, invitation) before anything else; an
//! anonymous form must carry a nonce this server handed out, taken once. A form with a
//! problem is shown again with the problem next to its question (400) and nothing is
//! stored; a complete one is held and thanked for.

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{Extensions, HeaderMap, StatusCode, header};
use axum::response::Response;
use cxray_core::access::PseudonymKey;
use cxray_core::stats::Instrument;
use cxray_core::surveys::answer::{self, Given, Problem};
use cxray_core::surveys::texts::Text;
use cxray_core::surveys::{Link, LinkError, Nonce, NonceError, pick_language};
use cxray_store::StoreError;
use cxray_store::surveys::{HeldAnswer, Hold, Invitation, StoredSurvey};

use super::guard::same_origin;
use super::page::{self, notice};
use super::{accept_language, browser_language, now};
use crate::AppState;
use crate::auth::cookie::client_address;

type Reply = Result<Response, Response>;

/// How long an anonymous form may be sent after it was handed out: a day.
const NONCE_AGE: i64 = 86_400;

/// What a personal link leads to.
pub(super) struct Personal {
    pub invitation: Invitation,
    pub survey: StoredSurvey,
    pub held: Option<HeldAnswer>,
    /// The page's language.
    pub lang: String,
}

/// `GET /s/{token}`: the form (with the held answer while it may be changed), or why not;
/// the first time, the invitation is recorded as opened.
pub(super) async fn personal_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Reply {
    let p = personal(&state, &token, &headers).await?;
    let now = now();
    if p.invitation.opened_at.is_none() {
        let id = p.invitation.id;
        let opened = state.surveys.db(&state, move |db| db.mark_opened(id, now));
        if let Err(e) = opened.await {
            tracing::error!("survey page: recording invitation {id} opened: {e}");
        }
    }
    if p.held.as_ref().is_some_and(|h| h.final_at <= now) {
        return Ok(notice(StatusCode::OK, &p.lang, Text::Closed));
    }
    let given: Given = p.held.map(given).unwrap_or_default();
    Ok(personal_form(
        StatusCode::OK,
        &token,
        &p.survey,
        &p.lang,
        &given,
        &[],
        None,
    ))
}

/// `POST /s/{token}`: the answer held (or one held before replaced), or the form again.
pub(super) async fn personal_answer(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    extensions: Extensions,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Reply {
    let lang = browser_language(&headers);
    guard(&state, &headers, &extensions, Some(&token), lang)?;
    let p = personal(&state, &token, &headers).await?;
    let fields = fields(form, &p.lang)?;
    let answer = match answer::read(&p.survey.survey, &fields) {
        Ok(a) => a,
        Err(r) => {
            let alert = r.stray.then_some(Text::Check);
            return Err(personal_form(
                StatusCode::BAD_REQUEST,
                &token,
                &p.survey,
                &p.lang,
                &r.given,
                &r.problems,
                alert,
            ));
        }
    };
    let grace = state.surveys.options.grace.as_secs() as i64;
    let (id, lang) = (p.invitation.id, p.lang.clone());
    let held = state
        .surveys
        .db(&state, move |db| {
            db.hold_answer(id, &lang, &answer, now(), grace)
        })
        .await
        .map_err(|e| internal(&p.lang, &e))?;
    Ok(match held {
        Hold::Held { .. } => notice(StatusCode::OK, &p.lang, Text::Thanks),
        Hold::Answered => notice(StatusCode::CONFLICT, &p.lang, Text::Closed),
        Hold::Expired => notice(StatusCode::GONE, &p.lang, Text::Expired),
        Hold::Unknown => notice(StatusCode::NOT_FOUND, &p.lang, Text::Altered),
    })
}

/// `GET /s/open/{public_id}`: the anonymous form, with a fresh nonce.
pub(super) async fn open_page(
    State(state): State<AppState>,
    Path(public_id): Path<String>,
    headers: HeaderMap,
) -> Reply {
    let (survey, lang) = open_survey(&state, &public_id, &headers).await?;
    let key = key(&state, &lang).await?;
    let none = Given::default();
    let form = open_form(&key, &public_id, &survey, &lang, &none, &[], None)?;
    Ok(page::form(StatusCode::OK, &form.view()))
}

/// `POST /s/open/{public_id}`: an answer without a customer, held; or the form again.
pub(super) async fn open_answer(
    State(state): State<AppState>,
    Path(public_id): Path<String>,
    headers: HeaderMap,
    extensions: Extensions,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Reply {
    let lang = browser_language(&headers);
    guard(&state, &headers, &extensions, None, lang)?;
    let (survey, lang) = open_survey(&state, &public_id, &headers).await?;
    let key = key(&state, &lang).await?;
    let mut fields = fields(form, &lang)?;
    let nonce = fields
        .iter()
        .position(|(k, _)| k == "nonce")
        .map(|i| fields.remove(i).1);
    let now = now();
    let checked = nonce.as_deref().map_or(Err(NonceError::Forged), |n| {
        Nonce::verify(n, &key, &public_id, now, NONCE_AGE)
    });
    let read = answer::read(&survey.survey, &fields);
    let again = |given: &Given, problems: &[(Option<Instrument>, Problem)], alert| {
        open_form(&key, &public_id, &survey, &lang, given, problems, alert)
            .map(|f| page::form(StatusCode::BAD_REQUEST, &f.view()))
            .unwrap_or_else(|r| r)
    };
    let answer = match (checked, read) {
        (Err(_), Ok(a)) => return Err(again(&a.into(), &[], Some(Text::Stale))),
        (Err(_), Err(r)) => return Err(again(&r.given, &r.problems, Some(Text::Stale))),
        (Ok(_), Err(r)) => {
            return Err(again(&r.given, &r.problems, r.stray.then_some(Text::Check)));
        }
        (Ok(n), Ok(a)) => {
            if !state
                .surveys
                .guard
                .take_nonce(n.random, n.issued, now, NONCE_AGE)
            {
                return Err(again(&a.into(), &[], Some(Text::Stale)));
            }
            a
        }
    };
    let grace = state.surveys.options.grace.as_secs() as i64;
    let (id, touchpoint, language) = (survey.id, survey.survey.touchpoint.clone(), lang.clone());
    state
        .surveys
        .db(&state, move |db| {
            db.hold_anonymous_answer(id, touchpoint.as_deref(), &language, &answer, now, grace)
        })
        .await
        .map_err(|e| internal(&lang, &e))?;
    Ok(notice(StatusCode::OK, &lang, Text::Thanks))
}

/// The abuse limits of a form post: from this site, within the address's and the
/// personal link's rate limits.
pub(super) fn guard(
    state: &AppState,
    headers: &HeaderMap,
    extensions: &Extensions,
    link: Option<&str>,
    lang: &str,
) -> Result<(), Response> {
    if !same_origin(headers) {
        return Err(notice(StatusCode::FORBIDDEN, lang, Text::Stale));
    }
    let s = &state.surveys;
    let address = client_address(headers, extensions, &state.trusted_proxies);
    let allowed = s
        .guard
        .allow(format!("address:{address}"), s.options.per_address)
        .and_then(|()| match link {
            Some(token) => s.guard.allow(format!("link:{token}"), s.options.per_link),
            None => Ok(()),
        });
    allowed.map_err(|wait| {
        let mut r = notice(StatusCode::TOO_MANY_REQUESTS, lang, Text::TooMany);
        r.headers_mut()
            .insert(header::RETRY_AFTER, wait.as_secs().max(1).into());
        r
    })
}

/// What a personal link leads to, or the page saying why it leads nowhere: a link
/// altered or never made (404), expired (410), for a survey no longer open (410).
async fn personal(
    state: &AppState,
    token: &str,
    headers: &HeaderMap,
) -> Result<Personal, Response> {
    let lang = browser_language(headers);
    let key = key(state, lang).await?;
    let link = Link::verify(token, &key, now()).map_err(|e| match e {
        LinkError::Malformed | LinkError::Tampered => {
            notice(StatusCode::NOT_FOUND, lang, Text::Altered)
        }
        LinkError::Expired => notice(StatusCode::GONE, lang, Text::Expired),
    })?;
    let p = invited(state, link, headers).await?;
    match p.invitation.status.as_str() {
        "pending" => Err(notice(StatusCode::NOT_FOUND, &p.lang, Text::Altered)),
        "expired" => Err(notice(StatusCode::GONE, &p.lang, Text::Expired)),
        _ if !p.survey.enabled => Err(notice(StatusCode::GONE, &p.lang, Text::Expired)),
        _ => Ok(p),
    }
}

/// The invitation a checked link names, its survey, its held answer and the page's
/// language; a page saying the link does not work when the invitation is unknown (404).
pub(super) async fn invited(
    state: &AppState,
    link: Link,
    headers: &HeaderMap,
) -> Result<Personal, Response> {
    let lang = browser_language(headers);
    let found = state
        .surveys
        .db(state, move |db| {
            let Some(invitation) = db.invitation(link.invitation)? else {
                return Ok(None);
            };
            let survey = db.survey(&invitation.survey_id.to_string())?;
            let held = db.invitation_answer(invitation.id)?;
            Ok(Some((invitation, survey, held)))
        })
        .await
        .map_err(|e| internal(lang, &e))?;
    let Some((invitation, survey, held)) = found else {
        return Err(notice(StatusCode::NOT_FOUND, lang, Text::Altered));
    };
    let accept = accept_language(headers);
    let picked = pick_language(
        &survey.survey.languages,
        invitation.language.as_deref(),
        accept,
    );
    Ok(Personal {
        lang: picked.to_string(),
        invitation,
        survey,
        held,
    })
}

/// The survey of an anonymous link and the page's language, or a page saying why not.
async fn open_survey(
    state: &AppState,
    public_id: &str,
    headers: &HeaderMap,
) -> Result<(StoredSurvey, String), Response> {
    let lang = browser_language(headers);
    let id = public_id.to_string();
    let found = state
        .surveys
        .db(state, move |db| db.survey_by_public_id(&id))
        .await
        .map_err(|e| internal(lang, &e))?;
    let Some(survey) = found else {
        return Err(notice(StatusCode::NOT_FOUND, lang, Text::Altered));
    };
    let lang = pick_language(&survey.survey.languages, None, accept_language(headers)).to_string();
    match survey.enabled {
        true => Ok((survey, lang)),
        false => Err(notice(StatusCode::GONE, &lang, Text::Expired)),
    }
}

/// The posted fields, or a page for a body that is not a form or is too large.
pub(super) fn fields(
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
    lang: &str,
) -> Result<Vec<(String, String)>, Response> {
    form.map(|Form(f)| f).map_err(|r| {
        let status = match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        };
        notice(status, lang, Text::Check)
    })
}

fn personal_form(
    status: StatusCode,
    token: &str,
    survey: &StoredSurvey,
    lang: &str,
    given: &Given,
    problems: &[(Option<Instrument>, Problem)],
    alert: Option<Text>,
) -> Response {
    let action = format!("/s/{token}");
    let unsubscribe = format!("/s/{token}/unsubscribe");
    page::form(
        status,
        &page::Form {
            lang,
            action: &action,
            questions: &survey.survey.questions,
            comment: survey.survey.comment,
            given,
            problems,
            alert,
            nonce: None,
            unsubscribe: Some(&unsubscribe),
        },
    )
}

/// The anonymous form's parts that are made per request: its address and a new nonce.
struct OpenForm<'a> {
    action: String,
    nonce: String,
    survey: &'a StoredSurvey,
    lang: &'a str,
    given: &'a Given,
    problems: &'a [(Option<Instrument>, Problem)],
    alert: Option<Text>,
}

impl OpenForm<'_> {
    fn view(&self) -> page::Form<'_> {
        page::Form {
            lang: self.lang,
            action: &self.action,
            questions: &self.survey.survey.questions,
            comment: self.survey.survey.comment,
            given: self.given,
            problems: self.problems,
            alert: self.alert,
            nonce: Some(&self.nonce),
            unsubscribe: None,
        }
    }
}

fn open_form<'a>(
    key: &PseudonymKey,
    public_id: &str,
    survey: &'a StoredSurvey,
    lang: &'a str,
    given: &'a Given,
    problems: &'a [(Option<Instrument>, Problem)],
    alert: Option<Text>,
) -> Result<OpenForm<'a>, Response> {
    let random = cxray_store::accounts::random_token().map_err(|e| internal(lang, &e))?;
    let mut bytes = [0u8; 16];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(&random[2 * i..2 * i + 2], 16).unwrap_or_default();
    }
    let nonce = Nonce {
        issued: now(),
        random: bytes,
    };
    Ok(OpenForm {
        action: format!("/s/open/{public_id}"),
        nonce: nonce.sign(key, public_id),
        survey,
        lang,
        given,
        problems,
        alert,
    })
}

fn given(held: HeldAnswer) -> Given {
    Given {
        scores: held.scores,
        comment: held.comment,
    }
}

pub(super) async fn key(state: &AppState, lang: &str) -> Result<PseudonymKey, Response> {
    state
        .surveys
        .key(state)
        .await
        .map_err(|e| internal(lang, &e))
}

/// A failure of ours: logged, and a page that says to try later — never a trace.
pub(super) fn internal(lang: &str, e: &StoreError) -> Response {
    tracing::error!("survey page: {e}");
    notice(StatusCode::SERVICE_UNAVAILABLE, lang, Text::Unavailable)
}
