//! Targets: the list, setting a metric's target for a period, removing one.

use axum::response::Response;
use cxray_core::targets::{Headline, Period};
use cxray_store::StoreError;
use cxray_store::targets::Target;
use serde::Deserialize;

use super::form::{Field, button, form, number};
use super::{Change, Ctx, Done, Section, Shown, answer, compose, listing, posted};
use crate::html::escape;

pub struct Targets;

/// The form setting a target (or, with the value left out, naming one to remove).
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct Entered {
    csrf: String,
    metric: String,
    period: String,
    value: String,
}

posted!(Entered);

impl Entered {
    /// The metric and period entered, or a refusal naming the field.
    fn which(&self) -> Result<(Headline, Period), StoreError> {
        let metric: Headline = self.metric.parse().map_err(|_| {
            StoreError::invalid("metric", "metric: choose one of the metrics listed")
        })?;
        let period = self
            .period
            .parse()
            .map_err(|e| StoreError::invalid("period", e))?;
        Ok((metric, period))
    }
}

impl Section for Targets {
    const PATH: &'static str = "/admin/targets";
    const TITLE: &'static str = "Targets";
    type Entered = Entered;

    async fn body(ctx: &Ctx, shown: Shown<'_, Entered>) -> Result<String, StoreError> {
        let targets = crate::ops(&ctx.state, |db| db.targets()).await?;
        let csrf = &ctx.user.csrf;
        let rows: Vec<Vec<String>> = targets.iter().map(|t| row(t, csrf)).collect();
        let headers = [
            ("Metric", false),
            ("Period", false),
            ("Target", true),
            ("Set by", false),
            ("At", false),
            ("Actions", false),
        ];
        let list = listing("Targets of the headline metrics", &headers, &rows);
        Ok(compose(shown.problem, list, set_form(csrf, shown)))
    }
}

fn row(t: &Target, csrf: &str) -> Vec<String> {
    let which = [("metric", t.metric.name()), ("period", t.period.as_str())];
    let what = format!("{} {}", t.metric.label(), t.period);
    vec![
        t.metric.label().into(),
        escape(t.period.as_str()),
        t.value.to_string(),
        escape(&t.set_by),
        escape(&t.set_at),
        button(
            "/admin/targets/remove",
            Some(csrf),
            &which,
            ("Remove", &what),
        ),
    ]
}

fn set_form(
    csrf: &str,
    Shown {
        entered: e,
        problem,
    }: Shown<'_, Entered>,
) -> String {
    let metrics: Vec<(&str, &str)> = Headline::ALL
        .iter()
        .map(|m| (m.name(), m.label()))
        .collect();
    let units: Vec<String> = Headline::ALL
        .iter()
        .map(|m| format!("{}: {}", m.label(), m.unit()))
        .collect();
    let units = units.join("; ");
    let fields = [
        Field::new("metric", "Metric", &e.metric).select(&metrics, problem),
        Field::new("period", "Period", &e.period)
            .hint("a year (2025), a quarter (2025-Q1) or a month (2025-03)")
            .input("text", problem, &[]),
        Field::new("value", "Target", &e.value)
            .hint(&units)
            .input("number", problem, &[]),
    ]
    .concat();
    let note =
        "<p class=\"note\">A target set again for the same metric and period replaces it.</p>";
    form(
        Targets::PATH,
        csrf,
        "Set a target",
        &(fields + note),
        "Set target",
    )
}

/// `POST /admin/targets`: sets (replaces) a target.
pub async fn set(Change { ctx, form: e }: Change<Entered>) -> Response {
    let actor = ctx.user.actor();
    let which = e.which();
    let value = number::<f64>("value", "target", &e.value);
    let done = crate::ops(&ctx.state, move |db| {
        let (metric, period) = which?;
        let needed = || StoreError::invalid("value", "target: a number is needed");
        let value = value?.ok_or_else(needed)?;
        db.set_target(&actor, metric, &period, value)?;
        let label = metric.label();
        Ok(Done::said(format!(
            "{label} target for {period} set to {value}."
        )))
    })
    .await;
    answer::<Targets>(&ctx, done, Some(&e)).await
}

/// `POST /admin/targets/remove`: removes a target.
pub async fn remove(Change { ctx, form: e }: Change<Entered>) -> Response {
    let actor = ctx.user.actor();
    let which = e.which();
    let done = crate::ops(&ctx.state, move |db| {
        let (metric, period) = which?;
        db.remove_target(&actor, metric, &period)?;
        let label = metric.label();
        Ok(Done::said(format!("{label} target for {period} removed.")))
    })
    .await;
    answer::<Targets>(&ctx, done, None).await
}
