//! The case pages: `/cases`, the list with its filters, and `/cases/{id}`, one case with
//! what happened, its history and the form to work on it (posted back to the same
//! address; a refused value is shown next to its field and changes nothing).

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use cxray_analysis::cases::{CauseCosts, SourceEvent};
use cxray_core::cases::{Arm, CaseStatus, OutcomeKind, RootCause};
use cxray_core::text::money_in;
use cxray_store::StoreError;
use cxray_store::cases::{Case, Rule};
use serde::Deserialize;

use super::{CaseDetail, CaseList, CaseQuery, Missing, Work, given};
use crate::AppState;
use crate::admin::form::{Field, Problem, form};
use crate::auth::CurrentUser;
use crate::html::{escape, select, table};
use crate::routes::render;

/// The page routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cases", get(list))
        .route("/cases/effect", get(super::effect::page))
        .route("/cases/{id}", get(one).post(work))
}

type Page = Result<Response, Response>;

/// A page refusing the request, with its status.
fn refuse(user: &CurrentUser, status: StatusCode, title: &str, text: &str) -> Response {
    let body = format!("<p role=\"alert\">{}</p>", escape(text));
    (status, render(user, "", title, None, &body)).into_response()
}

fn missing(user: &CurrentUser, e: &Missing) -> Response {
    match e {
        Missing::NotFound(_) => refuse(user, StatusCode::NOT_FOUND, "Unknown case", &e.to_string()),
        Missing::Store(s) => {
            let status = crate::api::status(s.kind());
            refuse(user, status, "Cases not available", &s.to_string())
        }
    }
}

/// What the list's filter form offers: the owners, rules and root causes.
struct Choices {
    owners: Vec<String>,
    rules: Vec<Rule>,
    causes: Vec<RootCause>,
}

async fn choices(state: &AppState, user: &CurrentUser) -> Result<Choices, StoreError> {
    let owners = match user.role.sees_all_owners() {
        true => crate::admin::choices::owners(state).await,
        false => Vec::new(),
    };
    let (rules, causes) = crate::ops(state, |ops| Ok((ops.rules()?, ops.root_causes()?))).await?;
    Ok(Choices {
        owners,
        rules,
        causes,
    })
}

async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<CaseQuery>,
) -> Page {
    let choices = choices(&state, &user)
        .await
        .map_err(|e| missing(&user, &Missing::Store(e)))?;
    let effect = match user.role.sees_all_owners() {
        true => {
            "<p><a href=\"/cases/effect\">What following up changed</a>: followed-up against held-out cases.</p>"
        }
        false => "",
    };
    let form = format!("{effect}{}", filter_form(&q, &choices));
    let body = match super::list(&state, &user, q.clone()).await {
        Ok(cases) => format!("{form}{}", listing(&cases, &q)),
        Err(e) => {
            let problem = Problem::of(&e);
            let Some(p) = problem else {
                return Err(missing(&user, &Missing::Store(e)));
            };
            let alert = format!(
                "<p class=\"error\" role=\"alert\">{}</p>",
                escape(&p.message)
            );
            let page = render(
                &user,
                "/cases",
                "Follow-up cases",
                None,
                &format!("{form}{alert}"),
            );
            return Err((StatusCode::BAD_REQUEST, page).into_response());
        }
    };
    Ok(render(&user, "/cases", "Follow-up cases", None, &body))
}

fn filter_form(q: &CaseQuery, c: &Choices) -> String {
    let pairs = |v: &[String]| -> Vec<(String, String)> {
        v.iter().map(|o| (o.clone(), o.clone())).collect()
    };
    let owner = match c.owners.is_empty() {
        true => String::new(),
        false => select("owner", "owner", given(&q.owner), &pairs(&c.owners)),
    };
    let statuses: Vec<(String, String)> = CaseStatus::ALL
        .iter()
        .map(|s| (s.name().to_string(), s.label().to_string()))
        .collect();
    let rules: Vec<(String, String)> = c
        .rules
        .iter()
        .map(|r| (r.id.to_string(), r.name.clone()))
        .collect();
    let causes: Vec<String> = c.causes.iter().map(ToString::to_string).collect();
    let overdue = super::flag(&q.overdue, "overdue").unwrap_or(false);
    let checked = if overdue { " checked" } else { "" };
    format!(
        "<form class=\"filters\" method=\"get\" action=\"/cases\" aria-label=\"filters\">{owner}{}{}{}\
         <label>overdue only<input type=\"checkbox\" name=\"overdue\" value=\"true\"{checked}></label>\
         <button type=\"submit\">Apply</button> <a href=\"/cases\">clear</a></form>",
        select("status", "status", given(&q.status), &statuses),
        select("rule", "rule", given(&q.rule), &rules),
        select(
            "root_cause",
            "root cause",
            given(&q.root_cause),
            &pairs(&causes)
        ),
    )
}

/// The case's status for people: held-out cases say so.
fn status(c: &Case) -> String {
    let text = match c.arm {
        Arm::Holdout => c.arm.label(),
        Arm::FollowUp => c.status.label(),
    };
    match c.overdue {
        true => format!("{} · <strong>overdue</strong>", escape(text)),
        false => escape(text),
    }
}

/// The deadline the case is working towards.
fn due(c: &Case) -> String {
    match (c.arm, c.status) {
        (Arm::Holdout, _) => "—".into(),
        (_, CaseStatus::Open) => format!("contact by {}", day_time(&c.contact_by)),
        (_, s) if s.is_done() => "—".into(),
        _ => format!("resolve by {}", day_time(&c.resolve_by)),
    }
}

/// A stored time as `2026-12-03 14:05`.
fn day_time(t: &str) -> String {
    t.get(..16).unwrap_or(t).replace('T', " ")
}

fn or_dash(v: Option<&str>) -> String {
    v.map_or("—".into(), escape)
}

fn listing(l: &CaseList, q: &CaseQuery) -> String {
    if l.cases.is_empty() {
        return "<p class=\"note\">No cases match these filters.</p>".into();
    }
    let headers = [
        ("Case", true),
        ("Opened", false),
        ("Rule", false),
        ("Customer", false),
        ("Touchpoint", false),
        ("What happened", false),
        ("Owner", false),
        ("Status", false),
        ("Due", false),
    ];
    let rows: Vec<Vec<String>> = l
        .cases
        .iter()
        .map(|c| {
            vec![
                format!("<a href=\"/cases/{0}\">{0}</a>", c.id),
                escape(&day_time(&c.opened_at)),
                escape(&c.rule),
                escape(&c.customer_id),
                or_dash(c.touchpoint.as_deref()),
                escape(&c.detail),
                or_dash(c.owner.as_deref()),
                status(c),
                escape(&due(c)),
            ]
        })
        .collect();
    let first = (l.page - 1) * l.per_page + 1;
    let caption = format!(
        "Cases {first}–{} of {}, newest first",
        first + l.cases.len() - 1,
        l.total
    );
    format!("{}{}", table(&caption, &headers, &rows), pages(l, q))
}

/// Links to the newer and older pages of the list, keeping the filters.
fn pages(l: &CaseList, q: &CaseQuery) -> String {
    let link = |page: usize, text: &str| {
        let mut params: Vec<String> = [
            ("owner", &q.owner),
            ("status", &q.status),
            ("overdue", &q.overdue),
            ("rule", &q.rule),
            ("root_cause", &q.root_cause),
            ("per_page", &q.per_page),
        ]
        .iter()
        .filter_map(|(k, v)| given(v).map(|v| format!("{k}={}", crate::filters::encode(v))))
        .collect();
        params.push(format!("page={page}"));
        format!(
            "<a href=\"/cases?{}\">{text}</a>",
            escape(&params.join("&"))
        )
    };
    let newer = (l.page > 1).then(|| link(l.page - 1, "Newer cases"));
    let older = (l.page * l.per_page < l.total).then(|| link(l.page + 1, "Older cases"));
    let links: Vec<String> = newer.into_iter().chain(older).collect();
    match links.is_empty() {
        true => String::new(),
        false => format!(
            "<nav aria-label=\"pages of cases\" class=\"sections\">{}</nav>",
            links.join("")
        ),
    }
}

#[derive(Deserialize)]
struct Saved {
    saved: Option<String>,
}

async fn one(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(s): Query<Saved>,
) -> Page {
    let detail = super::detail(&state, &user, id)
        .await
        .map_err(|e| missing(&user, &e))?;
    let causes = crate::ops(&state, |ops| ops.root_causes())
        .await
        .unwrap_or_default();
    let saved = s
        .saved
        .is_some()
        .then_some("Saved: the change is in the case's history.");
    let shown = Shown {
        entered: &Work::default(),
        problem: None,
        saved,
    };
    Ok(case_page(&user, &detail, &causes, shown))
}

/// What the work form shows: the values entered, why they were refused, a confirmation.
struct Shown<'a> {
    entered: &'a Work,
    problem: Option<&'a Problem>,
    saved: Option<&'a str>,
}

fn case_page(user: &CurrentUser, d: &CaseDetail, causes: &[RootCause], shown: Shown) -> Response {
    let c = &d.case;
    let saved = shown.saved.map_or(String::new(), |s| {
        format!(
            "<div class=\"done\" role=\"status\"><p>{}</p></div>",
            escape(s)
        )
    });
    let facts = [
        (
            "Rule",
            format!("{} — {}", escape(&c.rule), escape(&d.trigger)),
        ),
        ("Customer", escape(&c.customer_id)),
        ("Touchpoint", or_dash(c.touchpoint.as_deref())),
        ("What happened", escape(&c.detail)),
        ("Owner", or_dash(c.owner.as_deref())),
        ("Status", status(c)),
        ("Assignee", or_dash(c.assignee.as_deref())),
        (
            "Root cause",
            or_dash(c.root_cause.as_ref().map(ToString::to_string).as_deref()),
        ),
        ("Outcome", or_dash(c.outcome.map(|o| o.label()).as_deref())),
        ("Opened", escape(&day_time(&c.opened_at))),
        ("First contact by", escape(&day_time(&c.contact_by))),
        ("Resolved by", escape(&day_time(&c.resolve_by))),
    ];
    let facts: String = facts
        .iter()
        .map(|(k, v)| format!("<dt>{k}</dt><dd>{v}</dd>"))
        .collect();
    let body = format!(
        "{saved}<p><a href=\"/cases\">All cases</a></p><dl class=\"facts\">{facts}</dl>{}{}{}",
        source(d.source.as_ref()),
        history(d),
        work_form(user, c, causes, &shown),
    );
    let title = format!("Case {}", c.id);
    render(user, "/cases", &title, None, &body)
}

fn source(s: Option<&SourceEvent>) -> String {
    let Some(s) = s else {
        return String::new();
    };
    let inner = match s {
        SourceEvent::Answer {
            at,
            touchpoint,
            instrument,
            score,
            comment,
        } => {
            let comment = comment.as_deref().map_or(String::new(), |c| {
                format!("<blockquote>{}</blockquote>", escape(c))
            });
            format!(
                "<p>The customer answered {} {score} on {}{}.</p>{comment}",
                escape(&instrument.to_uppercase()),
                at.format("%Y-%m-%d %H:%M"),
                touchpoint
                    .as_deref()
                    .map_or(String::new(), |t| format!(" about {}", escape(t))),
            )
        }
        SourceEvent::Interaction {
            at,
            touchpoint,
            channel,
            outcome,
            wait_seconds,
            ..
        } => {
            let wait = wait_seconds.map_or(String::new(), |w| format!(", waited {w:.0} seconds"));
            format!(
                "<p>At {} on {}{}: {}{wait}.</p>",
                escape(touchpoint),
                at.format("%Y-%m-%d %H:%M"),
                channel
                    .as_deref()
                    .map_or(String::new(), |c| format!(" ({})", escape(c))),
                escape(outcome.as_deref().unwrap_or("no outcome recorded")),
            )
        }
    };
    format!("<h2>What happened</h2>{inner}")
}

fn history(d: &CaseDetail) -> String {
    let rows: Vec<Vec<String>> = d
        .history
        .iter()
        .map(|h| {
            vec![
                escape(&day_time(&h.at)),
                escape(h.actor.strip_prefix("web:").unwrap_or(&h.actor)),
                escape(&h.change),
                or_dash(h.note.as_deref()),
            ]
        })
        .collect();
    let headers = [
        ("When", false),
        ("Who", false),
        ("Change", false),
        ("Note", false),
    ];
    format!(
        "<h2>History</h2>{}",
        table("Every change, oldest first", &headers, &rows)
    )
}

/// The form to work on the case, or why there is none.
fn work_form(user: &CurrentUser, c: &Case, causes: &[RootCause], shown: &Shown) -> String {
    let note = |t: &str| format!("<p class=\"note\">{}</p>", escape(t));
    if c.arm == Arm::Holdout {
        return note(
            "This case is held out to measure what following up changes: it is not worked.",
        );
    }
    if super::may_work(user).is_err() || user.csrf.is_empty() {
        return note("Your role, or this API token, reads cases only.");
    }
    let (e, problem) = (shown.entered, shown.problem);
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let keep = format!("Keep: {}", c.status.label());
    let mut statuses = vec![("", keep.as_str())];
    statuses.extend(c.status.next().iter().map(|s| (s.name(), s.label())));
    let cause_names: Vec<String> = causes.iter().map(ToString::to_string).collect();
    let mut cause_choices = vec![("", "Keep")];
    cause_choices.extend(cause_names.iter().map(|c| (c.as_str(), c.as_str())));
    let mut outcomes = vec![("", "Keep")];
    outcomes.extend(OutcomeKind::ALL.iter().map(|o| (o.name(), o.label())));
    let amount = match &e.amount {
        Some(super::Amount::Text(t)) => t.clone(),
        Some(super::Amount::Number(n)) => n.to_string(),
        None => String::new(),
    };
    let (status, assignee, owner, cause, outcome, note_text) = (
        value(&e.status),
        value(&e.assignee),
        value(&e.owner),
        value(&e.root_cause),
        value(&e.outcome),
        value(&e.note),
    );
    let fields = [
        Field::new("status", "Status", &status).select(&statuses, problem),
        Field::new("assignee", "Assignee", &assignee)
            .hint("who works on it; empty: as it is")
            .input("text", problem, &[]),
        Field::new("owner", "Owner", &owner)
            .hint("hand the case to another owner; empty: as it is")
            .input("text", problem, &[]),
        Field::new("root_cause", "Root cause", &cause).select(&cause_choices, problem),
        Field::new("outcome", "Outcome", &outcome).select(&outcomes, problem),
        Field::new("amount", "Amount", &amount)
            .hint("of a compensation")
            .input("number", problem, &[]),
        Field::new("note", "Note", &note_text)
            .hint("what was done or said")
            .input("text", problem, &[]),
    ]
    .concat();
    let general = crate::admin::form::general(problem);
    let action = format!("/cases/{}", c.id);
    format!(
        "{general}{}",
        form(&action, &user.csrf, "Work on the case", &fields, "Save")
    )
}

/// The work form's fields: a refusal of another (the case itself) is shown above it.
const FIELDS: [&str; 7] = [
    "status",
    "assignee",
    "owner",
    "root_cause",
    "outcome",
    "amount",
    "note",
];

/// `POST /cases/{id}`: the work form, from a browser session with its form token.
async fn work(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Page {
    super::may_work(&user).map_err(IntoResponse::into_response)?;
    user.require_session()
        .map_err(IntoResponse::into_response)?;
    let csrf = pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map_or("", |(_, v)| v.as_str());
    user.check_csrf(csrf).map_err(IntoResponse::into_response)?;
    let fields: serde_json::Map<String, serde_json::Value> = pairs
        .iter()
        .filter(|(k, _)| k != "csrf")
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    let entered: Work = serde_json::from_value(fields.into())
        .map_err(|e| refuse(&user, StatusCode::BAD_REQUEST, "Bad form", &e.to_string()))?;
    match super::work(&state, &user, id, &entered).await {
        Ok(_) => {
            let to = [(header::LOCATION, format!("/cases/{id}?saved=1"))];
            Ok((StatusCode::SEE_OTHER, to).into_response())
        }
        Err(Missing::Store(e)) if Problem::of(&e).is_some() => {
            let problem = Problem::of(&e).map(|mut p| {
                p.field = p.field.filter(|f| FIELDS.contains(f));
                p
            });
            let detail = super::detail(&state, &user, id)
                .await
                .map_err(|e| missing(&user, &e))?;
            let causes = crate::ops(&state, |ops| ops.root_causes())
                .await
                .unwrap_or_default();
            let shown = Shown {
                entered: &entered,
                problem: problem.as_ref(),
                saved: None,
            };
            let page = case_page(&user, &detail, &causes, shown);
            Err((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(e) => Err(missing(&user, &e)),
    }
}

/// The root causes of follow-up cases, counted and priced, beside the weak-area map.
pub fn cause_costs(c: &CauseCosts) -> String {
    let intro = "<h2>Root causes of follow-up cases</h2><p class=\"note\">Each cause counts its \
        own cases and those of the causes below it; the value is the lifetime value of the \
        customers behind them (from the loyalty model): what is kept by keeping them.</p>";
    if c.causes.is_empty() {
        return format!("{intro}<p class=\"note\">No case names a root cause yet.</p>");
    }
    let rows: Vec<Vec<String>> = c
        .causes
        .iter()
        .map(|k| {
            let cause = k.cause.to_string();
            let link = format!(
                "<a href=\"/cases?root_cause={}\">{}</a>",
                escape(&crate::filters::encode(&cause)),
                escape(&cause)
            );
            vec![
                link,
                k.cases.to_string(),
                k.customers.to_string(),
                k.clv.map_or("— (customers not valued)".into(), |v| {
                    escape(&money_in(v, c.currency.as_deref()))
                }),
            ]
        })
        .collect();
    let headers = [
        ("Root cause", false),
        ("Cases", true),
        ("Customers", true),
        ("Their lifetime value", true),
    ];
    format!(
        "{intro}{}",
        table("Root causes, the costliest first", &headers, &rows)
    )
}
