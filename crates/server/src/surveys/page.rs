//! `/surveys`: response rates and reach, as `cxray survey rates` reports them, by survey,
//! touchpoint, owner, channel or week — a bar chart of the response rates and the table
//! of every figure; owners and partners see only their own touchpoints' invitations.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use cxray_analysis::surveys::Rate;
use cxray_charts::{Bar, Bars, Format, Frame, bars};
use cxray_core::stats::Estimate;
use cxray_core::text::thousands;
use cxray_store::surveys::RateGroup;
use serde::Deserialize;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::html::{escape, figure, table, with_interval};
use crate::routes::render;

const PATH: &str = "/surveys";
const TITLE: &str = "Survey response rates";

/// The groupings offered: query value and name.
const GROUPINGS: [(&str, &str); 5] = [
    ("survey", "Survey"),
    ("touchpoint", "Touchpoint"),
    ("owner", "Owner"),
    ("channel", "Channel"),
    ("week", "Week sent"),
];

/// The page's query.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Asked {
    by: Option<String>,
}

/// `GET /surveys`.
pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<Asked>,
) -> Response {
    let by = super::grouping(q.by.as_deref());
    let rates = match by {
        Ok(by) => super::rates(&state, &user, by).await.map(|r| (by, r)),
        Err(e) => Err(e),
    };
    let asked = q.by.as_deref().unwrap_or("survey");
    match rates {
        Ok((by, rates)) => {
            let body = format!("{}{}", choices(asked), content(&user, by, &rates));
            render(&user, PATH, TITLE, None, &body)
        }
        Err(e) => {
            let body = format!(
                "{}<p class=\"error\" role=\"alert\">{}</p>",
                choices(asked),
                escape(&e.to_string())
            );
            let status = crate::api::status(e.kind());
            (status, render(&user, PATH, TITLE, None, &body)).into_response()
        }
    }
}

/// The groupings as links, the one shown marked.
fn choices(asked: &str) -> String {
    let links: String = GROUPINGS
        .iter()
        .map(|(value, name)| {
            let mark = if *value == asked {
                " aria-current=\"page\""
            } else {
                ""
            };
            format!("<a href=\"{PATH}?by={value}\"{mark}>{name}</a>")
        })
        .collect();
    format!("<nav class=\"sections\" aria-label=\"group by\">By: {links}</nav>")
}

fn content(user: &CurrentUser, by: RateGroup, rates: &[Rate]) -> String {
    let whose = match user.role.sees_all_owners() {
        true => "",
        false => " about your own touchpoints",
    };
    if rates.is_empty() {
        return format!(
            "<p class=\"note\">No survey invitation{whose} has been sent yet: response rates \
             appear once invitations go out (<code>cxray survey links</code>).</p>"
        );
    }
    let intro = format!(
        "<p>The invitations sent{whose}, by {}: how many were answered, the response rate \
         with its 95% interval (Wilson), the different customers reached and how long answers \
         took.</p>",
        by.label()
    );
    format!("{intro}{}{}", chart(by, rates), rows_table(by, rates))
}

fn chart(by: RateGroup, rates: &[Rate]) -> String {
    let chart = Bars {
        bars: rates
            .iter()
            .filter_map(|r| Some(Bar::new(r.name.clone(), r.response_rate?)))
            .collect(),
        format: Format::Percent,
        value_title: Some("response rate".into()),
    };
    let frame = Frame::new(format!("Response rate by {}", by.label()))
        .id("response-rates")
        .caption("The share of the invitations sent that were answered, 95% Wilson intervals.");
    bars(&frame, &chart)
}

fn rows_table(by: RateGroup, rates: &[Rate]) -> String {
    let rows: Vec<Vec<String>> = rates.iter().map(row).collect();
    let first = crate::html::capitalised(by.label());
    let headers = [
        (first.as_str(), false),
        ("Invited", true),
        ("Answered", true),
        ("Response rate, %", true),
        ("E-mailed", true),
        ("Delivered, %", true),
        ("Opened, %", true),
        ("Customers reached", true),
        ("Reminded", true),
        ("Expired", true),
        ("Median time to answer", true),
    ];
    table("Response rates and reach", &headers, &rows)
}

fn row(r: &Rate) -> Vec<String> {
    let x = &r.reach;
    let percent = |e: &Option<Estimate>| {
        e.as_ref().map_or("—".into(), |e| {
            let pct = |v: f64| 100.0 * v;
            with_interval(pct(e.value), e.low.map(pct), e.high.map(pct), 1)
        })
    };
    let rate = r.response_rate.as_ref().map_or("—".into(), |e| {
        let key = format!("response-rate-{}", x.group);
        figure(&key, e.value, &percent(&r.response_rate))
    });
    vec![
        escape(&r.name),
        thousands(x.sent),
        thousands(x.responded),
        rate,
        thousands(x.emailed),
        percent(&r.delivery_rate),
        percent(&r.open_rate),
        thousands(x.customers),
        thousands(x.reminded),
        thousands(x.expired),
        x.median_hours_to_respond.map_or("—".into(), waited),
    ]
}

/// A wait for people: hours up to two days, then days.
fn waited(hours: f64) -> String {
    match hours < 48.0 {
        true => format!("{hours:.1} hours"),
        false => format!("{:.1} days", hours / 24.0),
    }
}
