//! Case rules: the list, adding one (checked against the data as `cxray trigger add`
//! checks it), disabling one.

use axum::response::Response;
use chrono::{NaiveDate, NaiveTime};
use cxray_core::cases::{
    CustomerCondition, Experience, HoldoutShare, ScoreCondition, Trigger, TriggerKind,
    trigger::parse_instrument,
};
use cxray_core::stats::Instrument;
use cxray_store::StoreError;
use cxray_store::cases::{NewRule, Rule, check};
use serde::Deserialize;

use super::form::{Field, button, form, number};
use super::{
    Change, Ctx, Done, Numbered, Section, Shown, answer, compose, listing, owners, posted, sql,
    touchpoints,
};
use crate::html::escape;

pub struct Rules;

/// The form adding a rule.
#[derive(Deserialize)]
#[serde(default)]
pub struct Entered {
    csrf: String,
    name: String,
    kind: String,
    instrument: String,
    score: String,
    touchpoint: String,
    experience: String,
    p_alive_below: String,
    customers: String,
    clv_percentile: String,
    fallback_owner: String,
    cooldown_days: String,
    holdout: String,
    since: String,
}

impl Default for Entered {
    fn default() -> Self {
        Entered {
            csrf: String::new(),
            name: String::new(),
            kind: TriggerKind::Survey.name().into(),
            instrument: String::new(),
            score: String::new(),
            touchpoint: String::new(),
            experience: String::new(),
            p_alive_below: String::new(),
            customers: String::new(),
            clv_percentile: String::new(),
            fallback_owner: String::new(),
            cooldown_days: "30".into(),
            holdout: "0.1".into(),
            since: String::new(),
        }
    }
}

posted!(Entered);

/// A text field's value, none when empty.
fn text(t: &str) -> Option<String> {
    Some(t.trim().to_string()).filter(|t| !t.is_empty())
}

impl Entered {
    /// What the form asks a rule to watch.
    fn trigger(&self) -> Result<Trigger, StoreError> {
        let kind: TriggerKind =
            self.kind
                .parse()
                .map_err(|e: cxray_core::names::UnknownName| {
                    StoreError::invalid("kind", e.to_string())
                })?;
        let touchpoint = text(&self.touchpoint);
        match kind {
            TriggerKind::Survey => {
                let instrument = parse_instrument(&self.instrument)
                    .map_err(|e| StoreError::invalid("instrument", e.to_string()))?;
                let condition = ScoreCondition::parse(instrument, &self.score)
                    .map_err(|e| StoreError::invalid("score", e.to_string()))?;
                Ok(Trigger::Survey {
                    instrument,
                    condition,
                    touchpoint,
                })
            }
            TriggerKind::Interaction => {
                let experience: Experience =
                    self.experience
                        .parse()
                        .map_err(|e: cxray_core::names::UnknownName| {
                            StoreError::invalid("experience", e.to_string())
                        })?;
                let touchpoint = touchpoint.ok_or_else(|| {
                    StoreError::invalid("touchpoint", "a rule on experiences needs a touchpoint")
                })?;
                Ok(Trigger::Interaction {
                    touchpoint,
                    experience,
                })
            }
            TriggerKind::Behaviour => {
                let p = number::<f64>("p_alive_below", "P(alive) below", &self.p_alive_below)?
                    .ok_or_else(|| {
                        StoreError::invalid(
                            "p_alive_below",
                            "a rule on behaviour needs a threshold",
                        )
                    })?;
                Trigger::behaviour(p)
                    .map_err(|e| StoreError::invalid("p_alive_below", e.to_string()))
            }
        }
    }

    /// The rule the form describes, as of the session's table versions.
    async fn rule(&self, sql: &cxray_store::sql::Sql) -> Result<NewRule, StoreError> {
        let trigger = self.trigger()?;
        let customers = self
            .customers
            .split(',')
            .filter(|c| !c.trim().is_empty())
            .map(str::parse::<CustomerCondition>)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StoreError::invalid("customers", e.to_string()))?;
        let share = number::<f64>("holdout", "holdout", &self.holdout)?.unwrap_or(0.1);
        let holdout =
            HoldoutShare::new(share).map_err(|e| StoreError::invalid("holdout", e.to_string()))?;
        let since = text(&self.since)
            .map(|d| {
                NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|_| {
                    StoreError::invalid("since", format!("since '{d}': not a day (YYYY-MM-DD)"))
                })
            })
            .transpose()?
            .map(|d| d.and_time(NaiveTime::MIN).and_utc());
        Ok(NewRule {
            name: self.name.clone(),
            watermark: NewRule::starting_watermark(sql, &trigger, since).await?,
            trigger,
            customers,
            clv_percentile: number("clv_percentile", "CLV percentile", &self.clv_percentile)?,
            fallback_owner: text(&self.fallback_owner),
            cooldown_days: number("cooldown_days", "cooldown days", &self.cooldown_days)?
                .unwrap_or(30),
            holdout,
            since,
        })
    }
}

impl Section for Rules {
    const PATH: &'static str = "/admin/rules";
    const TITLE: &'static str = "Case rules";
    type Entered = Entered;

    async fn body(ctx: &Ctx, shown: Shown<'_, Entered>) -> Result<String, StoreError> {
        let rules = crate::ops(&ctx.state, |db| db.rules()).await?;
        let touchpoints = touchpoints(&ctx.state).await;
        let owners = owners(&ctx.state).await;
        let csrf = &ctx.user.csrf;
        let rows: Vec<Vec<String>> = rules.iter().map(|r| row(r, csrf)).collect();
        let headers = [
            ("Rule", false),
            ("Opens a case on", false),
            ("Only customers", false),
            ("Fallback owner", false),
            ("Cooldown (days)", true),
            ("Held out", true),
            ("Status", false),
            ("Actions", false),
        ];
        let list = listing("Rules that open follow-up cases", &headers, &rows);
        let form = add_form(csrf, shown, (&touchpoints, &owners));
        Ok(compose(shown.problem, list, form))
    }
}

fn row(r: &Rule, csrf: &str) -> Vec<String> {
    let customers: Vec<String> = r.customers.iter().map(ToString::to_string).collect();
    let id = r.id.to_string();
    let action = match r.enabled {
        true => button(
            "/admin/rules/disable",
            Some(csrf),
            &[("id", &id)],
            ("Disable", &r.name),
        ),
        false => String::new(),
    };
    vec![
        escape(&r.name),
        escape(&r.label),
        match customers.is_empty() {
            true => "all".into(),
            false => escape(&customers.join(", ")),
        },
        r.fallback_owner.as_deref().map_or("—".into(), escape),
        r.cooldown_days.to_string(),
        format!("{:.0}%", r.holdout.get() * 100.0),
        if r.enabled { "Enabled" } else { "Disabled" }.into(),
        action,
    ]
}

fn add_form(
    csrf: &str,
    Shown {
        entered: e,
        problem,
    }: Shown<'_, Entered>,
    (touchpoints, owners): (&[String], &[String]),
) -> String {
    let kinds: Vec<_> = TriggerKind::ALL
        .iter()
        .map(|k| (k.name(), k.label()))
        .collect();
    let mut instruments = vec![("", "—")];
    instruments.extend(Instrument::ALL.iter().map(|i| (i.name(), i.label())));
    let mut experiences = vec![("", "—")];
    experiences.extend(Experience::ALL.iter().map(|x| (x.name(), x.label())));
    let mut tps = vec![("", "any (answers) / choose one (experiences)")];
    tps.extend(touchpoints.iter().map(|t| (t.as_str(), t.as_str())));
    let fields = [
        Field::new("name", "Name", &e.name).input("text", problem, &[]),
        Field::new("kind", "Opens a case on", &e.kind).select(&kinds, problem),
        Field::new("instrument", "Survey instrument", &e.instrument)
            .hint("for survey answers")
            .select(&instruments, problem),
        Field::new("score", "Score condition", &e.score)
            .hint("for survey answers: <=6, >=5, <=D …")
            .input("text", problem, &[]),
        Field::new("touchpoint", "Touchpoint", &e.touchpoint).select(&tps, problem),
        Field::new("experience", "Experience", &e.experience)
            .hint("for touchpoint experiences")
            .select(&experiences, problem),
        Field::new("p_alive_below", "P(alive) below", &e.p_alive_below)
            .hint("for behaviour: a customer whose chance of still being active fell below this (0 to 1) since the last valuation")
            .input("number", problem, &[]),
        Field::new("customers", "Only customers", &e.customers)
            .hint("column=value, separated by commas; empty: all")
            .input("text", problem, &[]),
        Field::new("clv_percentile", "Only customers above the CLV percentile", &e.clv_percentile)
            .hint("0 to 100, e.g. 80 for the most valuable fifth; empty: all")
            .input("number", problem, &[]),
        Field::new("fallback_owner", "Fallback owner", &e.fallback_owner)
            .hint("owner of cases whose touchpoint has none")
            .input("text", problem, owners),
        Field::new("cooldown_days", "Cooldown, days", &e.cooldown_days)
            .hint("no second case for a customer within this many days")
            .input("number", problem, &[]),
        Field::new("holdout", "Share held out", &e.holdout)
            .hint("a fraction from 0 to 0.5, not followed up, to measure the effect")
            .input("number", problem, &[]),
        Field::new("since", "Also events since", &e.since)
            .hint("empty: only what arrives from now on")
            .input("date", problem, &[]),
    ]
    .concat();
    form(Rules::PATH, csrf, "Add a rule", &fields, "Add rule")
}

/// `POST /admin/rules`: adds a rule, checked against the data.
pub async fn add(Change { ctx, form: e }: Change<Entered>) -> Response {
    let done = async {
        let sql = sql(&ctx.state).await?;
        let new = e.rule(&sql).await?;
        let slas = crate::ops(&ctx.state, |db| db.slas()).await?;
        check::rule(&sql, &slas, &new).await.map_err(|e| match e {
            // The owner a rule names is its fallback owner.
            StoreError::Invalid {
                field: "owner",
                message,
            } => StoreError::invalid("fallback_owner", message),
            e => e,
        })?;
        let actor = ctx.user.actor();
        let rule = crate::ops(&ctx.state, move |db| db.add_rule(&actor, &new)).await?;
        Ok(Done::said(format!(
            "Rule {} added: {}.",
            rule.name, rule.label
        )))
    }
    .await;
    answer::<Rules>(&ctx, done, Some(&e)).await
}

/// `POST /admin/rules/disable`: disables a rule; its cases stay.
pub async fn disable(Change { ctx, form }: Change<Numbered>) -> Response {
    let actor = ctx.user.actor();
    let id = form.id.clone();
    let done = crate::ops(&ctx.state, move |db| db.disable_rule(&actor, &id)).await;
    let done = done.map(|r| Done::said(format!("Rule {} disabled; its cases stay.", r.name)));
    answer::<Rules>(&ctx, done, None).await
}
