//! `/initiatives/{id}`: one initiative as recorded, what it did — the estimator and why,
//! the effect with its 95% interval (absolute and relative), the checks of the design,
//! the smallest effect it detects, or why no claim can be made — its business case, the
//! charts, and for admins and analysts the form to change its status, end, notes or costs.
//! Figures carry the raw values of `/api/v1/initiatives/{id}/effect` under their JSON
//! paths (`effect.absolute`, `business_case.value`, …).

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use cxray_analysis::initiatives::{Basis, Report, Valued};
use cxray_core::initiatives::{Diagnostics, Effect, Initiative, Months, Status};
use cxray_core::stats::Estimate;
use cxray_core::text::{money_with_interval, significant, significant_with_interval};
use cxray_store::initiatives::Recorded;

use super::pages::{Page, costs_text, missing, posted, scope_text};
use super::{Change, EffectAsked, Missing};
use crate::AppState;
use crate::admin::form::{Field, Problem, form, general};
use crate::auth::CurrentUser;
use crate::html::{escape, figure};
use crate::routes::render;

/// Significant digits of the figures shown.
const DIGITS: u32 = 3;

/// `GET /initiatives/{id}?outcome=…&estimator=…`.
pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(asked): Query<EffectAsked>,
) -> Page {
    let found = super::find(&state, &user, id).await;
    let found = found.map_err(|e| missing(&user, &e))?;
    let measured = super::effect(&state, &user, id, &asked).await;
    Ok(whole(
        &user,
        &found,
        &asked,
        &measured,
        (&Change::default(), None),
    ))
}

/// The page: the record, the measurement form, the measurement (or why there is none),
/// the change form.
fn whole(
    user: &CurrentUser,
    r: &Recorded,
    asked: &EffectAsked,
    measured: &Result<Report, Missing>,
    (entered, problem): (&Change, Option<&Problem>),
) -> Response {
    let i = &r.initiative;
    let result = match measured {
        Ok(report) => body(report),
        Err(e) => format!(
            "<p class=\"error\" role=\"alert\">{}</p>",
            escape(&e.to_string())
        ),
    };
    let body = format!(
        "{}{}<section aria-labelledby=\"effect\"><h2 id=\"effect\">What it did</h2>{result}</section>{}",
        facts(i),
        measure_form(r.id, asked),
        change_form(user, r.id, entered, problem)
    );
    let path = format!("/initiatives/{}", r.id);
    render(user, &path, &i.name, None, &body)
}

/// The initiative as recorded.
fn facts(i: &Initiative) -> String {
    let starts: Vec<String> = i
        .starts
        .iter()
        .map(|(u, d)| format!("{u} from {d}"))
        .collect();
    let mut rows = vec![
        ("Owner", i.owner.clone().unwrap_or_else(|| "—".into())),
        ("Scope", scope_text(&i.scope)),
        ("Start", i.start.to_string()),
        ("Status", i.status.label().into()),
        ("Costs", costs_text(i)),
    ];
    if !starts.is_empty() {
        rows.push(("Own starts", starts.join(", ")));
    }
    if let Some(end) = i.end {
        rows.push(("End", end.to_string()));
    }
    if let Some(e) = i.expected_effect {
        rows.push((
            "Expected effect",
            format!("{} %", significant(100.0 * e, 3)),
        ));
    }
    if !i.notes.is_empty() {
        rows.push(("Notes", i.notes.clone()));
    }
    let items: String = rows
        .iter()
        .map(|(k, v)| format!("<dt>{k}</dt><dd>{}</dd>", escape(v)))
        .collect();
    format!("<dl class=\"facts\">{items}</dl>")
}

/// The outcome and estimator to measure with.
fn measure_form(id: i64, asked: &EffectAsked) -> String {
    let option = |value: &str, label: &str, chosen: &str| {
        let selected = if value == chosen { " selected" } else { "" };
        format!("<option value=\"{value}\"{selected}>{label}</option>")
    };
    use cxray_analysis::initiatives::Outcome;
    use cxray_core::initiatives::Estimator;
    let outcome = asked.outcome_text();
    let outcomes: String = Outcome::ALL
        .iter()
        .map(|o| option(o.name(), o.label(), outcome))
        .collect();
    let estimator = asked.estimator.as_deref().unwrap_or("auto");
    let estimators: String = std::iter::once(option("auto", "chosen from the design", estimator))
        .chain(
            [
                (
                    "difference_in_differences",
                    Estimator::DifferenceInDifferences,
                ),
                ("staggered", Estimator::Staggered),
                ("synthetic_control", Estimator::SyntheticControl),
                ("randomized_pilot", Estimator::RandomizedPilot),
            ]
            .iter()
            .map(|(v, e)| option(v, e.label(), estimator)),
        )
        .collect();
    format!(
        "<form class=\"filters\" method=\"get\" action=\"/initiatives/{id}\" aria-label=\"measure\">\
         <label>outcome<select name=\"outcome\">{outcomes}</select></label>\
         <label>estimator<select name=\"estimator\">{estimators}</select></label>\
         <button type=\"submit\">Measure</button></form>"
    )
}

/// The measurement: the estimator and why, a refusal or the effect, the diagnostics, the
/// business case and the charts.
fn body(r: &Report) -> String {
    let m = &r.measured.measurement;
    let how = match m.chosen_automatically {
        true => "chosen",
        false => "as asked",
    };
    let mut out = format!(
        "<p>Estimator: <strong>{}</strong> ({how}: {}).</p>",
        escape(m.estimator.label()),
        escape(&m.reason)
    );
    for note in &m.notes {
        out.push_str(&format!("<p class=\"note\">{}</p>", escape(note)));
    }
    if let Some(refusal) = &m.refusal {
        out.push_str(&format!(
            "<p role=\"status\"><strong>No claim:</strong> {}.</p>",
            escape(&refusal.label())
        ));
    }
    if let Some(e) = &m.effect {
        out.push_str(&effect(e));
        out.push_str(&diagnostics(&m.diagnostics));
    }
    if let Some(v) = &r.business_case {
        out.push_str(&business_case(v));
    }
    let period = |p: i64| r.measured.periods.text(p);
    out + &super::charts::paths(m, &period) + &super::charts::event_study(m)
}

/// A figure with its interval under `key`.
fn with_interval(key: &str, e: &Estimate) -> String {
    let text = significant_with_interval(e.value, e.low, e.high, DIGITS);
    figure(key, e.value, &text)
}

fn effect(e: &Effect) -> String {
    let a = &e.absolute;
    let verdict = match a.interval() {
        Some((lo, hi)) if lo > 0.0 || hi < 0.0 => "a change: the 95% interval excludes 0",
        Some(_) => "no measurable effect: the 95% interval includes 0",
        None => "no interval: too few placebo units for 95%",
    };
    let relative = e.relative.map_or("—".into(), |r| {
        let pct = r.scaled(100.0);
        let text = significant_with_interval(pct.value, pct.low, pct.high, DIGITS);
        format!("{} %", figure("effect.relative", r.value, &text))
    });
    let detectable = e.detectable.map_or("—".into(), |d| {
        figure("effect.detectable", d, &significant(d, DIGITS))
    });
    format!(
        "<p role=\"status\">Verdict: {verdict}.</p><dl class=\"facts\">\
         <dt>Effect per treated unit and period (95% interval)</dt><dd>{}</dd>\
         <dt>Relative to what it would have been</dt><dd>{relative}</dd>\
         <dt>Cumulative over {} treated unit-periods</dt><dd>{}</dd>\
         <dt>p-value</dt><dd>{}</dd>\
         <dt>Smallest effect this design detects (80% power, 5% level)</dt><dd>{detectable}</dd></dl>",
        with_interval("effect.absolute", a),
        a.n,
        with_interval("effect.cumulative", &e.cumulative),
        figure("effect.p_value", e.p_value, &significant(e.p_value, DIGITS)),
    )
}

fn diagnostics(d: &Diagnostics) -> String {
    let mut rows = Vec::new();
    let shown = |key: &str, v: f64| figure(key, v, &significant(v, DIGITS));
    if let Some(p) = d.pretrend_p {
        let reading = match p < 0.05 {
            true => "the treated units already moved apart before the start",
            false => "no evidence of diverging trends before the start",
        };
        let p = shown("diagnostics.pretrend_p", p);
        rows.push((
            "Pre-trend test (leads jointly 0), p".into(),
            format!("{p} — {reading}"),
        ));
    }
    if let (Some(rank), Some(units)) = (d.placebo_rank, d.placebo_units) {
        rows.push(("Placebo rank".into(), format!("{rank} of {units} units")));
    }
    if let Some(pre) = d.pre_rmspe {
        rows.push((
            "Fit before the start (RMSPE)".into(),
            shown("diagnostics.pre_rmspe", pre),
        ));
    }
    if let Some(ratio) = d.rmspe_ratio {
        rows.push((
            "Post/pre RMSPE ratio".into(),
            shown("diagnostics.rmspe_ratio", ratio),
        ));
    }
    if rows.is_empty() {
        return String::new();
    }
    let items: String = rows
        .iter()
        .map(|(k, v): &(String, String)| format!("<dt>{}</dt><dd>{v}</dd>", escape(k)))
        .collect();
    format!("<h2>Checks of the design</h2><dl class=\"facts\">{items}</dl>")
}

fn months(m: Months) -> String {
    match m {
        Months::After(m) => format!("{} months", significant(m, DIGITS)),
        Months::Never => "never".into(),
    }
}

fn business_case(v: &Valued) -> String {
    let c = &v.case;
    let money = |key: &str, e: &Estimate| {
        figure(key, e.value, &money_with_interval(e.value, e.low, e.high))
    };
    let kept = c.customers_kept.as_ref().map_or("—".into(), |k| {
        with_interval("business_case.customers_kept", k)
    });
    let roi = c
        .roi
        .as_ref()
        .map_or("—".into(), |r| with_interval("business_case.roi", r));
    let p = &c.payback;
    format!(
        "<h2>Business case</h2><p class=\"note\">{}, against the recorded costs over {} \
         years.</p><dl class=\"facts\">\
         <dt>Customers kept a year</dt><dd>{kept}</dd>\
         <dt>Value a year</dt><dd>{}</dd>\
         <dt>Net value over the horizon</dt><dd>{}</dd>\
         <dt>Return on the costs</dt><dd>{roi}</dd>\
         <dt>Payback</dt><dd>{} (soonest {}, latest {})</dd></dl>",
        escape(&basis(&v.basis)),
        significant(c.costs.years, DIGITS),
        money("business_case.value", &c.value),
        money("business_case.net_value", &c.net_value),
        months(p.months),
        months(p.soonest),
        months(p.latest),
    )
}

/// What the effect is multiplied by, in words.
fn basis(b: &Basis) -> String {
    let clv = |v: &f64| cxray_core::text::money(*v);
    match b {
        Basis::Failures {
            excess_dropout,
            mean_clv,
            ..
        } => format!(
            "Failures avoided a year × the excess leaving after a bad experience at its \
             touchpoints ({} percentage points) × the mean CLV ({})",
            significant_with_interval(
                100.0 * excess_dropout.value,
                excess_dropout.low.map(|l| 100.0 * l),
                excess_dropout.high.map(|h| 100.0 * h),
                DIGITS
            ),
            clv(mean_clv)
        ),
        Basis::Leaving {
            customers_per_year,
            mean_clv,
        } => format!(
            "The change in the share leaving × the {} customers at its touchpoints in the \
             data's last year × the mean CLV ({})",
            cxray_core::text::thousands(customers_per_year.round() as u64),
            clv(mean_clv)
        ),
        Basis::Revenue {
            buyer_weeks_per_year,
        } => format!(
            "The change in revenue per buying customer and week × the {} buying customers a \
             year in its units, counted per week",
            cxray_core::text::thousands(buyer_weeks_per_year.round() as u64)
        ),
    }
}

/// The form to change the initiative, for those who may.
fn change_form(user: &CurrentUser, id: i64, e: &Change, problem: Option<&Problem>) -> String {
    if super::may_change(user).is_err() || user.csrf.is_empty() {
        return String::new();
    }
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let (status, end, notes) = (text(&e.status), text(&e.end), text(&e.notes));
    let mut statuses = vec![("", "Keep")];
    statuses.extend(Status::ALL.iter().map(|s| (s.name(), s.label())));
    let fields = [
        Field::new("status", "Status", &status).select(&statuses, problem),
        Field::new("end", "End", &end)
            .hint("empty: as it is")
            .input("date", problem, &[]),
        Field::new("notes", "Notes", &notes)
            .hint("replaces the notes")
            .input("text", problem, &[]),
    ]
    .concat();
    let action = format!("/initiatives/{id}");
    format!(
        "{}{}",
        general(problem),
        form(
            &action,
            &user.csrf,
            "Change the initiative",
            &fields,
            "Save"
        )
    )
}

/// `POST /initiatives/{id}`: the change form; back to the page when saved.
pub async fn change(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Page {
    let entered: Change = posted(&user, pairs)?;
    let entered = Change {
        notes: entered.notes.filter(|n| !n.trim().is_empty()),
        ..entered
    };
    match super::change(&state, &user, id, &entered).await {
        Ok(_) => {
            let to = [(header::LOCATION, format!("/initiatives/{id}"))];
            Ok((StatusCode::SEE_OTHER, to).into_response())
        }
        Err(Missing::Store(e)) if Problem::of(&e).is_some() => {
            let found = super::find(&state, &user, id).await;
            let found = found.map_err(|e| missing(&user, &e))?;
            let asked = EffectAsked::default();
            let measured = super::effect(&state, &user, id, &asked).await;
            let page = whole(
                &user,
                &found,
                &asked,
                &measured,
                (&entered, Problem::of(&e).as_ref()),
            );
            Err((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(e) => Err(missing(&user, &e)),
    }
}
