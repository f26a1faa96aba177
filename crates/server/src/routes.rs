//! The page handlers: who may open which page, and the layout around each body.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use cxray_analysis::journey::Journey;
use cxray_core::domain::Table;
use cxray_store::ops::OpsDb;
use cxray_store::{ErrorKind, tables};
use serde::Deserialize;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::filters::Filters;
use crate::html::{Layout, NAV, escape, missing, page};
use crate::snapshot::{Part, PartError, Snapshot, ViewError};
use crate::{pages, visible};

/// The page routes.
pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/", get(scorecard))
        .route("/link", get(link))
        .route("/journey", get(journey))
        .route("/areas", get(areas))
        .route("/drivers", get(drivers))
        .route("/owners", get(owners))
        .route("/owners/{owner}", get(owner))
        .route("/customers", get(customer))
        .route("/data", get(data))
        .route("/report", get(report))
}

type Page = Result<Response, Response>;

/// The navigation entries a reader may open: everything, or for owners and partners
/// only what concerns their touchpoints; the administration for admins.
fn nav(user: &CurrentUser) -> Vec<(&'static str, &'static str)> {
    let admin = user
        .role
        .can_admin()
        .then_some(("/admin", "Administration"));
    NAV.iter()
        .copied()
        .filter(|(href, _)| {
            user.role.sees_all_owners()
                || matches!(
                    *href,
                    "/journey"
                        | "/areas"
                        | "/owners"
                        | "/cases"
                        | "/surveys"
                        | "/initiatives"
                        | "/comments"
                )
        })
        .chain(admin)
        .collect()
}

/// A whole page for `user`.
pub(crate) fn render(
    user: &CurrentUser,
    path: &str,
    title: &str,
    as_of: Option<String>,
    body: &str,
) -> Response {
    let layout = Layout {
        path,
        nav: nav(user),
        user: Some((&user.name, &user.csrf)),
        as_of,
    };
    Html(page(&layout, title, body)).into_response()
}

/// Any path no route has: a page saying so, or the API's JSON error.
pub async fn not_found(uri: axum::http::Uri) -> Response {
    let status = StatusCode::NOT_FOUND;
    match uri.path().starts_with("/api/") {
        true => (
            status,
            axum::Json(serde_json::json!({"error": "no such API route"})),
        )
            .into_response(),
        false => crate::html::notice(status, "Not found", "There is no page at this address."),
    }
}

/// A page's error: the status and a short explanation, in the layout.
pub(crate) fn refuse(user: &CurrentUser, status: StatusCode, title: &str, text: &str) -> Response {
    let body = format!("<p role=\"alert\">{}</p>", escape(text));
    (status, render(user, "", title, None, &body)).into_response()
}

/// A form's fields, after its token is checked (a browser session's), read as `T` the way
/// the API reads JSON; a form that does not read is 400.
pub(crate) fn posted<T: serde::de::DeserializeOwned>(
    user: &CurrentUser,
    pairs: Vec<(String, String)>,
) -> Result<T, Response> {
    user.require_session()
        .map_err(IntoResponse::into_response)?;
    let csrf = pairs.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v);
    user.check_csrf(csrf.map_or("", String::as_str))
        .map_err(IntoResponse::into_response)?;
    let fields: serde_json::Map<String, serde_json::Value> = pairs
        .into_iter()
        .filter(|(k, _)| k != "csrf")
        .map(|(k, v)| (k, serde_json::Value::String(v)))
        .collect();
    serde_json::from_value(fields.into())
        .map_err(|e| refuse(user, StatusCode::BAD_REQUEST, "Bad form", &e.to_string()))
}

/// Company-wide figures: not for owners and partners.
pub(crate) fn company_wide(user: &CurrentUser) -> Result<(), Response> {
    if user.role.sees_all_owners() {
        return Ok(());
    }
    Err(refuse(
        user,
        StatusCode::FORBIDDEN,
        "Not allowed",
        "This page shows company-wide figures; your role sees only your own touchpoints.",
    ))
}

/// The analyses page `part` needs for the request's filters, or a page saying they are
/// still being computed (or why the filters are wrong).
async fn snapshot(
    state: &AppState,
    user: &CurrentUser,
    filters: Filters,
    part: Part,
) -> Result<(Arc<Snapshot>, Filters), Response> {
    let filters = filters
        .normalised()
        .map_err(|e| refuse(user, StatusCode::BAD_REQUEST, "Bad filter", &e))?;
    let view = state
        .snapshots
        .filtered(&state.folder, &filters, part, user.id)
        .await;
    match view {
        Some(Ok(s)) => Ok((s, filters)),
        Some(Err(e)) => {
            let (status, title) = view_refusal(&e);
            Err(refuse(user, status, title, &e.to_string()))
        }
        None => {
            let body = "<p role=\"status\">The analyses are being computed; this page reloads in a few seconds.</p>\
                        <meta http-equiv=\"refresh\" content=\"3\">";
            Err((
                StatusCode::SERVICE_UNAVAILABLE,
                render(user, "", "Computing", None, body),
            )
                .into_response())
        }
    }
}

/// The status and title of a filtered view that could not be had.
pub(crate) fn view_refusal(e: &ViewError) -> (StatusCode, &'static str) {
    match e {
        ViewError::Input(_) => (StatusCode::BAD_REQUEST, "Bad filter"),
        ViewError::Busy(_) => (StatusCode::TOO_MANY_REQUESTS, "Busy"),
        ViewError::Stopped => (StatusCode::SERVICE_UNAVAILABLE, "Stopping"),
        ViewError::Failed(e) => (crate::api::status(e.kind), failure_title(e.kind)),
    }
}

/// The title of a page whose analyses failed.
fn failure_title(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::BadInput => "Bad filter",
        ErrorKind::NoData => "No data",
        ErrorKind::ModelFailed => "Analysis failed",
        ErrorKind::Internal => "Analyses failed",
    }
}

/// A filterable page: the filter form, the body, in the layout.
fn filtered_page(
    user: &CurrentUser,
    (path, title): (&str, &str),
    (s, f): (&Snapshot, &Filters),
    body: String,
) -> Response {
    let note = if f.is_empty() {
        ""
    } else {
        "<p class=\"note\">Filtered: the analyses below use only these customers, and events in this period.</p>"
    };
    let body = format!("{}{note}{body}", f.form(path, &s.choices));
    render(user, path, title, as_of(s), &body)
}

/// "As of" line: the data's last purchase day and when the analyses ran.
pub(crate) fn as_of(s: &Snapshot) -> Option<String> {
    let day = s.scorecard.as_ref().ok().and_then(|c| c.as_of);
    Some(format!(
        "As of {} · analysed {}",
        day.map_or("—".into(), |d| d.to_string()),
        s.computed_at
            .get(..16)
            .unwrap_or(&s.computed_at)
            .replace('T', " ")
    ))
}

/// A page body for `user` from the journey as they may see it, or the note that the view
/// is withheld from them.
fn journey_body(
    state: &AppState,
    user: &CurrentUser,
    s: &Snapshot,
    what: &str,
    body: impl FnOnce(&Journey) -> String,
) -> String {
    if visible::withheld(user, s, state.min_group_size) {
        let note = visible::note(state.min_group_size);
        return format!("<p role=\"status\" class=\"note\">{}</p>", escape(&note));
    }
    part(what, &s.journey, |j| body(&visible::journey(j, user)))
}

/// An analysis's body, or what is missing and why.
fn part<T>(what: &str, r: &Result<T, PartError>, body: impl FnOnce(&T) -> String) -> String {
    match r {
        Ok(v) => body(v),
        Err(e) => missing(what, &e.message),
    }
}

/// The scorecard's period (`?period=month|quarter|year`; a quarter by default).
#[derive(serde::Deserialize)]
struct PeriodChoice {
    period: Option<cxray_analysis::board::Cadence>,
}

async fn scorecard(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(f): Query<Filters>,
    Query(p): Query<PeriodChoice>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Page {
    company_wide(&user)?;
    let (s, f) = snapshot(&state, &user, f, Part::Scorecard).await?;
    let targets = crate::ops(&state, |ops: &OpsDb| ops.targets())
        .await
        .unwrap_or_default();
    // Initiatives are company-wide: on the view of everyone only.
    let initiatives = match f.is_empty() {
        true => crate::initiatives::pages::on_scorecard(&state, &user).await,
        false => String::new(),
    };
    let body = part("The scorecard", &s.scorecard, |c| {
        let cadence = p.period.unwrap_or(cxray_analysis::board::Cadence::Quarter);
        let asked = pages::respondents::in_tile(&s.respondents);
        let beside = (asked.as_str(), initiatives.as_str());
        pages::scorecard::render(c, &targets, (cadence, query.as_deref()), beside)
    });
    Ok(filtered_page(&user, ("/", "Scorecard"), (&s, &f), body))
}

async fn link(State(state): State<AppState>, user: CurrentUser, Query(f): Query<Filters>) -> Page {
    company_wide(&user)?;
    let (s, f) = snapshot(&state, &user, f, Part::Link).await?;
    let mut body = part("The satisfaction–loyalty link", &s.link, |l| {
        pages::link::render(l) + &pages::respondents::render(&s.respondents)
    });
    body.push_str(&crate::comments::pages::satisfied_defectors(&state, &user, &f).await);
    let page = ("/link", "Satisfaction vs loyalty");
    Ok(filtered_page(&user, page, (&s, &f), body))
}

async fn journey(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(f): Query<Filters>,
) -> Page {
    let (s, f) = snapshot(&state, &user, f, Part::Journey).await?;
    let body = journey_body(&state, &user, &s, "The journey map", pages::journey::render);
    Ok(filtered_page(
        &user,
        ("/journey", "Journey map"),
        (&s, &f),
        body,
    ))
}

async fn areas(State(state): State<AppState>, user: CurrentUser, Query(f): Query<Filters>) -> Page {
    let (s, f) = snapshot(&state, &user, f, Part::Journey).await?;
    let render = pages::journey::render_areas;
    let mut body = journey_body(&state, &user, &s, "The weak-area map", render);
    body.push_str(&match crate::cases::cause_costs(&state, &user).await {
        Ok(c) => crate::cases::pages::cause_costs(&c),
        Err(e) => missing("The root causes of follow-up cases", &e.to_string()),
    });
    Ok(filtered_page(
        &user,
        ("/areas", "Weak areas"),
        (&s, &f),
        body,
    ))
}

async fn drivers(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(f): Query<Filters>,
) -> Page {
    company_wide(&user)?;
    let (s, f) = snapshot(&state, &user, f, Part::Drivers).await?;
    let body = part("The driver analysis", &s.drivers, |g| {
        pages::drivers::render(g)
    });
    let page = ("/drivers", "Drivers of defection");
    Ok(filtered_page(&user, page, (&s, &f), body))
}

async fn owners(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(f): Query<Filters>,
) -> Page {
    let (s, f) = snapshot(&state, &user, f, Part::Journey).await?;
    let body = journey_body(
        &state,
        &user,
        &s,
        "The owners",
        pages::journey::render_owners,
    );
    Ok(filtered_page(&user, ("/owners", "Owners"), (&s, &f), body))
}

async fn owner(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(f): Query<Filters>,
) -> Page {
    let (s, f) = snapshot(&state, &user, f, Part::Journey).await?;
    let not_found = || {
        refuse(
            &user,
            StatusCode::NOT_FOUND,
            "Unknown owner",
            &format!("There is no owner '{id}' you may see."),
        )
    };
    if !visible::sees(&user, Some(&id)) {
        return Err(not_found());
    }
    let j = s.journey.as_ref().map_err(|_| not_found())?;
    let o = j
        .owners
        .iter()
        .find(|o| o.owner == id)
        .ok_or_else(not_found)?;
    let trend = s.trends.get(&id).map(Vec::as_slice).unwrap_or_default();
    let of = id.clone();
    let cases = crate::ops(&state, move |ops| ops.owner_cases(&of, chrono::Utc::now())).await;
    let body = journey_body(&state, &user, &s, "The owner", |j| {
        let cases = cases.as_ref().ok().copied();
        pages::journey::render_owner(j, o, trend, cases)
    });
    let title = format!("Owner {}", o.name.as_deref().unwrap_or(&o.owner));
    let path = format!("/owners/{id}");
    Ok(filtered_page(&user, (&path, &title), (&s, &f), body))
}

#[derive(Deserialize)]
struct CustomerQuery {
    id: Option<String>,
}

async fn customer(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<CustomerQuery>,
) -> Page {
    company_wide(&user)?;
    let id = q.id.unwrap_or_default();
    let mut body = pages::customer::form(&id);
    if !id.is_empty() {
        let sql = cxray_store::sql::Sql::open(&state.folder, &Default::default())
            .await
            .map_err(|e| {
                refuse(
                    &user,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Error",
                    &e.to_string(),
                )
            })?;
        match cxray_analysis::customer::timeline(&sql, &id).await {
            Ok(Some(t)) => body.push_str(&pages::customer::render(&t, &id)),
            Ok(None) => body.push_str(&format!(
                "<p role=\"alert\">No customer '{}'.</p>",
                escape(&id)
            )),
            Err(e) => body.push_str(&missing("The customer", &e.to_string())),
        }
    }
    Ok(render(&user, "/customers", "Customer", None, &body))
}

async fn data(State(state): State<AppState>, user: CurrentUser) -> Page {
    company_wide(&user)?;
    let mut infos = Vec::new();
    for table in Table::ALL {
        let info = tables::info(&state.folder, table).await.map_err(|e| {
            refuse(
                &user,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Data",
                &format!("Table {table} cannot be read: {e}"),
            )
        })?;
        infos.push(info);
    }
    let imports = crate::ops(&state, |ops: &OpsDb| ops.recent_imports(20))
        .await
        .unwrap_or_default();
    Ok(render(
        &user,
        "/data",
        "Data",
        None,
        &pages::data::render(&infos, &imports),
    ))
}

/// `/report?period=2025-Q2`: the board pack for the browser's print, for those who see
/// the scorecard.
async fn report(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<ReportQuery>,
) -> Page {
    company_wide(&user)?;
    let (s, _) = snapshot(&state, &user, Filters::default(), Part::Scorecard).await?;
    let records = crate::ops(&state, pages::pack::Records::of)
        .await
        .map_err(|e| {
            refuse(
                &user,
                StatusCode::INTERNAL_SERVER_ERROR,
                "No board pack",
                &e.to_string(),
            )
        })?;
    match pages::pack::render(&s, &records, p.period.as_deref()) {
        Ok(html) => Ok(Html(html).into_response()),
        Err(e) => {
            let status = match e {
                pages::pack::PackError::NoScorecard(_) => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::BAD_REQUEST,
            };
            Err(refuse(&user, status, "No board pack", &e.to_string()))
        }
    }
}

#[derive(Deserialize)]
struct ReportQuery {
    period: Option<String>,
}
