//! Service levels: the list, setting a touchpoint's (longest wait, highest failure
//! rate), removing them.

use std::collections::BTreeMap;

use std::collections::HashMap;

use axum::response::Response;
use cxray_store::StoreError;
use cxray_store::edits;
use cxray_store::ops::Sla;
use serde::Deserialize;

use super::form::{Field, button, form, number};
use super::{
    Change, Ctx, Done, Section, Shown, answer, compose, listing, posted, sql, touchpoints,
};
use crate::html::escape;

pub struct Slas;

/// The form setting a touchpoint's service levels.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct Entered {
    csrf: String,
    touchpoint: String,
    max_wait_seconds: String,
    max_failure_rate: String,
}

posted!(Entered);

impl Section for Slas {
    const PATH: &'static str = "/admin/service-levels";
    const TITLE: &'static str = "Service levels";
    type Entered = Entered;

    async fn prefill(ctx: &Ctx, query: &HashMap<String, String>) -> Result<Entered, StoreError> {
        let tp = query.get("touchpoint").cloned().unwrap_or_default();
        let slas = crate::ops(&ctx.state, |db| db.slas()).await?;
        let number = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
        let sla = slas.get(&tp).copied().unwrap_or_default();
        Ok(Entered {
            max_wait_seconds: number(sla.max_wait_seconds),
            max_failure_rate: number(sla.max_failure_rate),
            touchpoint: tp,
            ..Entered::default()
        })
    }

    async fn body(ctx: &Ctx, shown: Shown<'_, Entered>) -> Result<String, StoreError> {
        let slas: BTreeMap<String, Sla> = crate::ops(&ctx.state, |db| db.slas()).await?;
        let touchpoints = touchpoints(&ctx.state).await;
        let csrf = &ctx.user.csrf;
        let rows: Vec<Vec<String>> = slas.iter().map(|(tp, s)| row(tp, s, csrf)).collect();
        let headers = [
            ("Touchpoint", false),
            ("Longest wait (seconds)", true),
            ("Highest failure rate", true),
            ("Actions", false),
        ];
        let list = listing("Service levels per touchpoint", &headers, &rows);
        Ok(compose(
            shown.problem,
            list,
            set_form(csrf, shown, &touchpoints),
        ))
    }
}

fn row(touchpoint: &str, s: &Sla, csrf: &str) -> Vec<String> {
    let which = [("touchpoint", touchpoint)];
    vec![
        escape(touchpoint),
        s.max_wait_seconds.map_or("—".into(), |w| format!("{w:.0}")),
        s.max_failure_rate
            .map_or("—".into(), |r| format!("{:.1}%", r * 100.0)),
        [
            button(Slas::PATH, None, &which, ("Edit", touchpoint)),
            button(
                "/admin/service-levels/remove",
                Some(csrf),
                &which,
                ("Remove", touchpoint),
            ),
        ]
        .concat(),
    ]
}

fn set_form(csrf: &str, shown: Shown<'_, Entered>, touchpoints: &[String]) -> String {
    let Shown {
        entered: e,
        problem,
    } = shown;
    let choices: Vec<(&str, &str)> = touchpoints
        .iter()
        .map(|t| (t.as_str(), t.as_str()))
        .collect();
    let fields = [
        Field::new("touchpoint", "Touchpoint", &e.touchpoint).select(&choices, problem),
        Field::new(
            "max_wait_seconds",
            "Longest acceptable wait, seconds",
            &e.max_wait_seconds,
        )
        .hint("empty: none")
        .input("number", problem, &[]),
        Field::new(
            "max_failure_rate",
            "Highest acceptable failure rate",
            &e.max_failure_rate,
        )
        .hint("a fraction, 0.05 = 5%; empty: none")
        .input("number", problem, &[]),
    ]
    .concat();
    let note = "<p class=\"note\">Setting a touchpoint's service levels replaces both.</p>";
    form(
        Slas::PATH,
        csrf,
        "Set service levels",
        &(fields + note),
        "Set service levels",
    )
}

/// `POST /admin/service-levels`: sets (replaces) a touchpoint's service levels.
pub async fn set(Change { ctx, form: e }: Change<Entered>) -> Response {
    let done = async {
        let sla = Sla {
            max_wait_seconds: number("max_wait_seconds", "max wait seconds", &e.max_wait_seconds)?,
            max_failure_rate: number("max_failure_rate", "max failure rate", &e.max_failure_rate)?,
        };
        edits::check_touchpoint(&sql(&ctx.state).await?, &e.touchpoint).await?;
        let (actor, tp) = (ctx.user.actor(), e.touchpoint.clone());
        crate::ops(&ctx.state, move |db| db.set_sla(&actor, &tp, sla)).await?;
        Ok(Done::said(format!(
            "Service levels of {} set.",
            e.touchpoint
        )))
    }
    .await;
    answer::<Slas>(&ctx, done, Some(&e)).await
}

/// `POST /admin/service-levels/remove`: removes a touchpoint's service levels.
pub async fn remove(Change { ctx, form: e }: Change<Entered>) -> Response {
    let (actor, tp) = (ctx.user.actor(), e.touchpoint.clone());
    let done = crate::ops(&ctx.state, move |db| db.remove_sla(&actor, &tp)).await;
    let done = done.map(|()| Done::said(format!("Service levels of {} removed.", e.touchpoint)));
    answer::<Slas>(&ctx, done, None).await
}
