//! `/initiatives`: the initiatives the reader may see, and for admins and analysts the
//! form to record one (a refused value shown next to its field, nothing recorded).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use cxray_core::initiatives::{Initiative, Scope, Status};
use cxray_core::text::{money, money_with_interval, significant_with_interval};
use cxray_store::initiatives::Recorded;
use serde::de::DeserializeOwned;

use super::progress::{SoFar, running};
use super::{Missing, NewInitiative};
use crate::AppState;
use crate::admin::form::{Field, Problem, form, general};
use crate::auth::CurrentUser;
use crate::html::{escape, figure, table};
use crate::routes::{refuse, render};

/// The page routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/initiatives", get(list).post(add))
        .route(
            "/initiatives/{id}",
            get(super::detail::page).post(super::detail::change),
        )
        .route("/whatif", get(super::whatif::page))
}

pub(super) type Page = Result<Response, Response>;

/// A page saying why the initiative is not shown.
pub(super) fn missing(user: &CurrentUser, e: &Missing) -> Response {
    match e {
        Missing::NotFound(_) => refuse(
            user,
            StatusCode::NOT_FOUND,
            "Unknown initiative",
            &e.to_string(),
        ),
        Missing::Store(s) => refuse(
            user,
            crate::api::status(s.kind()),
            "Initiatives not available",
            &s.to_string(),
        ),
    }
}

/// A form's fields, after its token is checked (a browser session of a user who may
/// change initiatives), read as `T` the way the API reads JSON.
pub(super) fn posted<T: DeserializeOwned>(
    user: &CurrentUser,
    pairs: Vec<(String, String)>,
) -> Result<T, Response> {
    super::may_change(user).map_err(IntoResponse::into_response)?;
    crate::routes::posted(user, pairs)
}

/// An initiative's scope for people: `airport = CPH, OSL` and its touchpoints.
pub(super) fn scope_text(s: &Scope) -> String {
    let units = format!("{} = {}", s.column, s.values.join(", "));
    match s.touchpoints.is_empty() {
        true => format!("{units}; every touchpoint"),
        false => format!("{units}; {}", s.touchpoints.join(", ")),
    }
}

/// The one-off and running costs for people.
pub(super) fn costs_text(i: &Initiative) -> String {
    format!(
        "{} once, {} a year",
        money(i.one_off_cost),
        money(i.running_cost)
    )
}

fn rows(list: &[Recorded]) -> Vec<Vec<String>> {
    list.iter()
        .map(|r| {
            let i = &r.initiative;
            vec![
                format!("<a href=\"/initiatives/{}\">{}</a>", r.id, escape(&i.name)),
                escape(i.owner.as_deref().unwrap_or("—")),
                escape(&scope_text(&i.scope)),
                i.start.to_string(),
                escape(i.status.label()),
                escape(&costs_text(i)),
                format!(
                    "<a href=\"/initiatives/{}\" aria-label=\"Effect of {}\">measure</a>",
                    r.id,
                    escape(&i.name)
                ),
            ]
        })
        .collect()
}

fn list_body(list: &[Recorded]) -> String {
    let headers = [
        ("Name", false),
        ("Owner", false),
        ("Scope", false),
        ("Start", false),
        ("Status", false),
        ("Costs", true),
        ("Effect", false),
    ];
    let intro = "<p class=\"note\">A change measured against the units it did not touch: \
        open an initiative for its effect with its 95% interval, the checks of the design \
        and its business case. <a href=\"/whatif\">Price a proposed fix</a> before it is \
        made.</p>";
    match list.is_empty() {
        true => format!("{intro}<p class=\"note\">No initiative you may see is recorded.</p>"),
        false => format!(
            "{intro}{}",
            table("Initiatives, by name", &headers, &rows(list))
        ),
    }
}

/// The form to record an initiative, with what was entered and the refusal.
fn add_form(user: &CurrentUser, e: &NewInitiative, problem: Option<&Problem>) -> String {
    if super::may_change(user).is_err() || user.csrf.is_empty() {
        return String::new();
    }
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let amount = |a: &Option<crate::cases::Amount>| match a {
        Some(crate::cases::Amount::Text(t)) => t.clone(),
        Some(crate::cases::Amount::Number(n)) => n.to_string(),
        None => String::new(),
    };
    let touchpoints = match &e.touchpoints {
        Some(super::request::Names::Text(t)) => t.clone(),
        Some(super::request::Names::List(l)) => l.join(", "),
        None => String::new(),
    };
    let (owner, end, status, notes) = (
        text(&e.owner),
        text(&e.end),
        text(&e.status),
        text(&e.notes),
    );
    let (one_off, running, expected) = (
        amount(&e.one_off_cost),
        amount(&e.running_cost),
        amount(&e.expected_effect),
    );
    let statuses: Vec<(&str, &str)> = Status::ALL.iter().map(|s| (s.name(), s.label())).collect();
    let fields = [
        Field::new("name", "Name", &e.name)
            .hint("unique, ignoring case")
            .input("text", problem, &[]),
        Field::new("owner", "Owner", &owner)
            .hint("who is responsible")
            .input("text", problem, &[]),
        Field::new("scope", "Scope", &e.scope)
            .hint(
                "a column of the interactions and its values, e.g. airport=CPH or airport=HEL,OSL",
            )
            .input("text", problem, &[]),
        Field::new("touchpoints", "Touchpoints", &touchpoints)
            .hint("comma-separated; empty: every touchpoint")
            .input("text", problem, &[]),
        Field::new("start", "Start", &e.start).input("date", problem, &[]),
        Field::new("end", "End", &end)
            .hint("optional")
            .input("date", problem, &[]),
        Field::new("one_off_cost", "One-off cost", &one_off).input("number", problem, &[]),
        Field::new("running_cost", "Running cost a year", &running).input("number", problem, &[]),
        Field::new("expected_effect", "Expected effect", &expected)
            .hint("a relative change above −1: −0.2 is 20% less")
            .input("number", problem, &[]),
        Field::new("status", "Status", &status).select(&statuses, problem),
        Field::new("notes", "Notes", &notes).input("text", problem, &[]),
    ]
    .concat();
    format!(
        "{}{}",
        general(problem),
        form(
            "/initiatives",
            &user.csrf,
            "Record an initiative",
            &fields,
            "Record"
        )
    )
}

/// What the running initiatives did so far: the effect on the failure rate relative to
/// what it would have been, and its value a year, with their intervals.
async fn in_progress(state: &AppState, list: &[Recorded]) -> String {
    let mut rows = Vec::new();
    for r in running(list) {
        rows.push(so_far(r, Some(&state.initiatives.measured(state, r).await)));
    }
    match rows.is_empty() {
        true => String::new(),
        false => format!("<h2>Initiatives in progress</h2>{}", progress_table(&rows)),
    }
}

/// The running initiatives `user` may see for the scorecard: those measured already, the
/// others started and said to be on their way; nothing when none is running.
pub async fn on_scorecard(state: &AppState, user: &CurrentUser) -> String {
    let Ok(list) = super::list(state, user).await else {
        return String::new();
    };
    let rows: Vec<Vec<String>> = running(&list)
        .into_iter()
        .map(|r| so_far(r, state.initiatives.ready(state, r).as_ref()))
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    format!(
        "<h3>Initiatives in progress ({} running)</h3>{}",
        rows.len(),
        progress_table(&rows)
    )
}

fn progress_table(rows: &[Vec<String>]) -> String {
    let headers = [
        ("Initiative", false),
        ("Failure rate, relative (95% interval)", true),
        ("Value a year (95% interval)", true),
    ];
    table(
        "Running initiatives: what they did so far, on the failure rate",
        &headers,
        rows,
    )
}

/// One running initiative's row: its effect and value so far, or why there is none yet.
fn so_far(r: &Recorded, measured: Option<&SoFar>) -> Vec<String> {
    let key = |k: &str| format!("initiative.{}.{k}", r.id);
    let name = format!(
        "<a href=\"/initiatives/{}\">{}</a>",
        r.id,
        escape(&r.initiative.name)
    );
    let m = match measured.map(|m| m.as_ref()) {
        Some(Ok(report)) => report,
        Some(Err(e)) => return vec![name, escape(e), "—".into()],
        None => {
            return vec![
                name,
                "being measured: reload in a moment".into(),
                "—".into(),
            ];
        }
    };
    let effect = &m.measured.measurement;
    let relative = match (
        &effect.refusal,
        effect.effect.as_ref().and_then(|e| e.relative),
    ) {
        (Some(refusal), _) => escape(&format!("no claim: {}", refusal.label())),
        (None, Some(rel)) => {
            let pct = rel.scaled(100.0);
            let text = significant_with_interval(pct.value, pct.low, pct.high, 3);
            format!("{} %", figure(&key("effect.relative"), rel.value, &text))
        }
        (None, None) => "—".into(),
    };
    let value = m.business_case.as_ref().map_or("—".into(), |b| {
        let v = &b.case.value;
        let text = money_with_interval(v.value, v.low, v.high);
        figure(&key("business_case.value"), v.value, &text)
    });
    vec![name, relative, value]
}

fn list_page(
    user: &CurrentUser,
    (list, progress): (&[Recorded], &str),
    entered: &NewInitiative,
    problem: Option<&Problem>,
) -> Response {
    let body = list_body(list) + progress + &add_form(user, entered, problem);
    render(user, "/initiatives", "Initiatives", None, &body)
}

async fn list(State(state): State<AppState>, user: CurrentUser) -> Page {
    let all = super::list(&state, &user).await;
    let all = all.map_err(|e| missing(&user, &Missing::Store(e)))?;
    let progress = in_progress(&state, &all).await;
    Ok(list_page(
        &user,
        (&all, &progress),
        &NewInitiative::default(),
        None,
    ))
}

/// `POST /initiatives`: the form to record an initiative; to its page when recorded.
async fn add(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Page {
    let entered: NewInitiative = posted(&user, pairs)?;
    match super::add(&state, &user, &entered).await {
        Ok(r) => {
            let to = [(header::LOCATION, format!("/initiatives/{}", r.id))];
            Ok((StatusCode::SEE_OTHER, to).into_response())
        }
        Err(e) => match Problem::of(&e) {
            Some(problem) => {
                let all = super::list(&state, &user).await.unwrap_or_default();
                let page = list_page(&user, (&all, ""), &entered, Some(&problem));
                Err((StatusCode::BAD_REQUEST, page).into_response())
            }
            None => Err(missing(&user, &Missing::Store(e))),
        },
    }
}
