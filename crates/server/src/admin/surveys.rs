//! Surveys: the list with their questions, languages, anonymous links and invitations;
//! adding a survey; the invitation rules and adding one; the contact policy and changing
//! it — each through the same checks and audit as `cxray survey add|rule add|policy`.

use std::collections::HashMap;

use axum::response::Response;
use cxray_analysis::surveys::{NewRule, NewSurvey};
use cxray_core::stats::Instrument;
use cxray_core::surveys::{ContactPolicy, LANGUAGES, PolicyChange, language_name};
use cxray_store::StoreError;
use cxray_store::surveys::StoredRule;
use serde::Deserialize;

use super::form::{Field, button, form, number};
use super::{
    Change, Ctx, Done, Section, Shown, answer, compose, from_pairs, listing, posted, touchpoints,
};
use crate::html::escape;
use crate::surveys::{SurveyView, acting, views};

pub struct Surveys;

const RULES_PATH: &str = "/admin/surveys/rules";
const POLICY_PATH: &str = "/admin/surveys/policy";

/// The section's three forms (a survey, a rule, the policy), their fields named apart;
/// the check boxes share a name, hence read from the pairs.
#[derive(Clone, Deserialize)]
#[serde(from = "Vec<(String, String)>")]
pub struct Entered {
    csrf: String,
    name: String,
    touchpoint: String,
    questions: Vec<String>,
    comment: Vec<String>,
    languages: String,
    rule_survey: String,
    rule_name: String,
    rule_touchpoint: String,
    delay_hours: String,
    sample_rate: String,
    customers: String,
    survey_cooldown_days: String,
    touchpoint_cooldown_days: String,
    all_history: Vec<String>,
    global_cooldown_days: String,
    window_days: String,
    max_in_window: String,
    reminders: String,
    reminder_gap_days: String,
    expiry_days: String,
    holdout_share: String,
}

impl Default for Entered {
    fn default() -> Self {
        let rule = NewRule::default();
        Entered {
            csrf: String::new(),
            name: String::new(),
            touchpoint: String::new(),
            questions: Vec::new(),
            comment: Vec::new(),
            languages: "en".into(),
            rule_survey: String::new(),
            rule_name: String::new(),
            rule_touchpoint: String::new(),
            delay_hours: rule.delay_hours.to_string(),
            sample_rate: rule.sample_rate.to_string(),
            customers: String::new(),
            survey_cooldown_days: rule.survey_cooldown_days.to_string(),
            touchpoint_cooldown_days: rule.touchpoint_cooldown_days.to_string(),
            all_history: Vec::new(),
            global_cooldown_days: String::new(),
            window_days: String::new(),
            max_in_window: String::new(),
            reminders: String::new(),
            reminder_gap_days: String::new(),
            expiry_days: String::new(),
            holdout_share: String::new(),
        }
    }
}

from_pairs!(Entered {
    csrf, name, touchpoint, languages, rule_survey, rule_name, rule_touchpoint, delay_hours,
    sample_rate, customers, survey_cooldown_days, touchpoint_cooldown_days,
    global_cooldown_days, window_days, max_in_window, reminders, reminder_gap_days,
    expiry_days, holdout_share;
    questions, comment, all_history
});

posted!(Entered);

/// A field of the rule's form is named apart from the survey's: the store's field names
/// mapped to the form's.
fn rule_field(e: StoreError) -> StoreError {
    match e {
        StoreError::Invalid { field, message } => {
            let field = match field {
                "name" => "rule_name",
                "survey" => "rule_survey",
                "touchpoint" => "rule_touchpoint",
                f => f,
            };
            StoreError::Invalid { field, message }
        }
        e => e,
    }
}

impl Entered {
    fn survey(&self) -> NewSurvey {
        NewSurvey {
            name: self.name.clone(),
            touchpoint: Some(self.touchpoint.clone()),
            questions: self.questions.clone(),
            comment: !self.comment.is_empty(),
            languages: self.languages.split(',').map(String::from).collect(),
        }
    }

    fn rule(&self) -> Result<NewRule, StoreError> {
        let defaults = NewRule::default();
        Ok(NewRule {
            name: self.rule_name.clone(),
            survey: self.rule_survey.clone(),
            touchpoint: Some(self.rule_touchpoint.clone()),
            delay_hours: number("delay_hours", "delay, hours", &self.delay_hours)?
                .unwrap_or(defaults.delay_hours),
            sample_rate: number("sample_rate", "share invited", &self.sample_rate)?
                .unwrap_or(defaults.sample_rate),
            customers: Some(self.customers.clone()),
            survey_cooldown_days: number(
                "survey_cooldown_days",
                "days before this survey again",
                &self.survey_cooldown_days,
            )?
            .unwrap_or(defaults.survey_cooldown_days),
            touchpoint_cooldown_days: number(
                "touchpoint_cooldown_days",
                "days before this touchpoint again",
                &self.touchpoint_cooldown_days,
            )?
            .unwrap_or(defaults.touchpoint_cooldown_days),
            all_history: !self.all_history.is_empty(),
        })
    }

    fn policy_change(&self) -> Result<PolicyChange, StoreError> {
        Ok(PolicyChange {
            global_cooldown_days: number(
                "global_cooldown_days",
                "days before another invitation",
                &self.global_cooldown_days,
            )?,
            window_days: number("window_days", "window, days", &self.window_days)?,
            max_in_window: number(
                "max_in_window",
                "invitations in the window",
                &self.max_in_window,
            )?,
            reminders: number("reminders", "reminders", &self.reminders)?,
            reminder_gap_days: number(
                "reminder_gap_days",
                "days between reminders",
                &self.reminder_gap_days,
            )?,
            expiry_days: number("expiry_days", "days to expiry", &self.expiry_days)?,
            holdout_share: number("holdout_share", "share never asked", &self.holdout_share)?,
        })
    }

    /// The policy's fields, from `p` when none was entered.
    fn with_policy(&self, p: &ContactPolicy) -> Entered {
        let entered = [
            &self.global_cooldown_days,
            &self.window_days,
            &self.max_in_window,
            &self.reminders,
            &self.reminder_gap_days,
            &self.expiry_days,
            &self.holdout_share,
        ];
        let mut e = self.clone();
        if entered.iter().all(|f| f.trim().is_empty()) {
            e.global_cooldown_days = p.global_cooldown_days.to_string();
            e.window_days = p.window_days.to_string();
            e.max_in_window = p.max_in_window.to_string();
            e.reminders = p.reminders.to_string();
            e.reminder_gap_days = p.reminder_gap_days.to_string();
            e.expiry_days = p.expiry_days.to_string();
            e.holdout_share = p.holdout_share.to_string();
        }
        e
    }
}

impl Section for Surveys {
    const PATH: &'static str = "/admin/surveys";
    const TITLE: &'static str = "Surveys";
    type Entered = Entered;

    /// The rule's form for the survey of a row's "Add a rule" button.
    async fn prefill(_ctx: &Ctx, query: &HashMap<String, String>) -> Result<Entered, StoreError> {
        Ok(Entered {
            rule_survey: query.get("survey").cloned().unwrap_or_default(),
            ..Entered::default()
        })
    }

    async fn body(ctx: &Ctx, shown: Shown<'_, Entered>) -> Result<String, StoreError> {
        let (surveys, policy) =
            crate::ops(&ctx.state, |db| Ok((views(db)?, db.contact_policy()?))).await?;
        let touchpoints = touchpoints(&ctx.state).await;
        let entered = shown.entered.with_policy(&policy);
        let shown = Shown {
            entered: &entered,
            problem: shown.problem,
        };
        let lists = format!("{}{}", survey_list(&surveys), rule_list(&surveys));
        let forms = format!(
            "{}{}{}",
            survey_form(&ctx.user.csrf, shown, &touchpoints),
            rule_form(&ctx.user.csrf, shown, (&surveys, &touchpoints)),
            policy_form(&ctx.user.csrf, shown)
        );
        Ok(compose(shown.problem, lists, forms))
    }
}

fn survey_list(surveys: &[SurveyView]) -> String {
    let rows: Vec<Vec<String>> = surveys.iter().map(survey_row).collect();
    let headers = [
        ("Survey", false),
        ("Asks about", false),
        ("Questions", false),
        ("Languages", false),
        ("Anonymous link", false),
        ("Invited", true),
        ("Answered", true),
        ("Actions", false),
    ];
    listing("Surveys", &headers, &rows)
}

fn survey_row(v: &SurveyView) -> Vec<String> {
    let s = &v.survey.survey;
    let mut questions: Vec<&str> = s.questions.iter().map(|q| q.label()).collect();
    if s.comment {
        questions.push("a comment");
    }
    let languages: Vec<&str> = s
        .languages
        .iter()
        .map(|l| language_name(l).unwrap_or(l))
        .collect();
    let invited: usize = v.counts.invitations.values().sum();
    let answered = v.counts.invitations.get("responded").copied().unwrap_or(0);
    let id = v.survey.id.to_string();
    vec![
        escape(&s.name),
        s.touchpoint
            .as_deref()
            .map_or("the relationship".into(), escape),
        escape(&questions.join(", ")),
        escape(&languages.join(", ")),
        format!("<a href=\"{0}\">{0}</a>", escape(&v.anonymous_link)),
        cxray_core::text::thousands(invited as u64),
        cxray_core::text::thousands(answered as u64),
        button(
            Surveys::PATH,
            None,
            &[("survey", &id)],
            ("Add a rule", &s.name),
        ),
    ]
}

fn rule_list(surveys: &[SurveyView]) -> String {
    let rows: Vec<Vec<String>> = surveys
        .iter()
        .flat_map(|v| v.rules.iter().map(rule_row))
        .collect();
    let headers = [
        ("Rule", false),
        ("Invites to", false),
        ("After", false),
        ("Delay", true),
        ("Sample", true),
        ("Only customers", false),
        ("Not again within", false),
        ("Status", false),
    ];
    listing("Invitation rules", &headers, &rows)
}

fn rule_row(r: &StoredRule) -> Vec<String> {
    let x = &r.rule;
    vec![
        escape(&x.name),
        escape(&x.survey),
        escape(&x.touchpoint),
        format!("{} hours", x.delay_hours),
        format!("{}%", x.sample_rate * 100.0),
        x.customers
            .as_ref()
            .map_or("all".into(), |c| escape(&c.to_string())),
        format!(
            "this survey {} days, this touchpoint {} days",
            x.survey_cooldown_days, x.touchpoint_cooldown_days
        ),
        if r.enabled { "Enabled" } else { "Disabled" }.into(),
    ]
}

fn survey_form(
    csrf: &str,
    Shown {
        entered: e,
        problem,
    }: Shown<'_, Entered>,
    touchpoints: &[String],
) -> String {
    let mut tps = vec![("", "none: a relationship survey")];
    tps.extend(touchpoints.iter().map(|t| (t.as_str(), t.as_str())));
    let instruments: Vec<_> = Instrument::ALL
        .iter()
        .map(|i| (i.name(), i.label()))
        .collect();
    let codes: Vec<String> = LANGUAGES
        .iter()
        .map(|(c, n)| format!("{c} ({n})"))
        .collect();
    let languages_hint = format!(
        "codes separated by commas, the first the default: {}",
        codes.join(", ")
    );
    let fields = [
        Field::new("name", "Name", &e.name).input("text", problem, &[]),
        Field::new("touchpoint", "Asks about the touchpoint", &e.touchpoint).select(&tps, problem),
        Field::new("questions", "Questions", "")
            .hint("asked in this order")
            .checkboxes(&instruments, &e.questions, problem),
        Field::new("comment", "Comment", "").checkboxes(
            &[("on", "Ask for a comment after the questions")],
            &e.comment,
            problem,
        ),
        Field::new("languages", "Languages", &e.languages)
            .hint(&languages_hint)
            .input("text", problem, &[]),
    ]
    .concat();
    form(Surveys::PATH, csrf, "Add a survey", &fields, "Add survey")
}

fn rule_form(
    csrf: &str,
    Shown {
        entered: e,
        problem,
    }: Shown<'_, Entered>,
    (surveys, touchpoints): (&[SurveyView], &[String]),
) -> String {
    let ids: Vec<(String, &str)> = surveys
        .iter()
        .map(|v| (v.survey.id.to_string(), v.survey.survey.name.as_str()))
        .collect();
    let mut choices = vec![("", "choose a survey")];
    choices.extend(ids.iter().map(|(id, name)| (id.as_str(), *name)));
    let mut tps = vec![("", "the survey's touchpoint")];
    tps.extend(touchpoints.iter().map(|t| (t.as_str(), t.as_str())));
    let fields = [
        Field::new("rule_survey", "Invites to the survey", &e.rule_survey)
            .select(&choices, problem),
        Field::new("rule_name", "Name", &e.rule_name).input("text", problem, &[]),
        Field::new(
            "rule_touchpoint",
            "After an interaction at",
            &e.rule_touchpoint,
        )
        .select(&tps, problem),
        Field::new("delay_hours", "Delay, hours", &e.delay_hours)
            .hint("from the interaction to the invitation: 0 to 2160")
            .input("number", problem, &[]),
        Field::new("sample_rate", "Share invited", &e.sample_rate)
            .hint("of the customers it triggers on: above 0, at most 1")
            .input("number", problem, &[]),
        Field::new("customers", "Only customers", &e.customers)
            .hint("column=value, e.g. segment=business; empty: all")
            .input("text", problem, &[]),
        Field::new(
            "survey_cooldown_days",
            "Not this survey again within, days",
            &e.survey_cooldown_days,
        )
        .hint("0 to 3650")
        .input("number", problem, &[]),
        Field::new(
            "touchpoint_cooldown_days",
            "Not about this touchpoint again within, days",
            &e.touchpoint_cooldown_days,
        )
        .hint("0 to 3650; 0: off")
        .input("number", problem, &[]),
        Field::new("all_history", "Interactions", "").checkboxes(
            &[(
                "on",
                "Also the interactions already there, not only those from now on",
            )],
            &e.all_history,
            problem,
        ),
    ]
    .concat();
    form(
        RULES_PATH,
        csrf,
        "Add an invitation rule",
        &fields,
        "Add rule",
    )
}

fn policy_form(
    csrf: &str,
    Shown {
        entered: e,
        problem,
    }: Shown<'_, Entered>,
) -> String {
    let day = |name, label, value, hint| {
        Field::new(name, label, value)
            .hint(hint)
            .input("number", problem, &[])
    };
    let fields = [
        day(
            "global_cooldown_days",
            "No invitation within, days",
            &e.global_cooldown_days,
            "of another, from any survey, before or after it: 0 to 3650",
        ),
        day(
            "max_in_window",
            "At most, invitations",
            &e.max_in_window,
            "in any window of the length below: at least 1",
        ),
        day("window_days", "Window, days", &e.window_days, "1 to 3650"),
        day(
            "reminders",
            "Reminders",
            &e.reminders,
            "to customers who have not answered: 0 to 10",
        ),
        day(
            "reminder_gap_days",
            "Days between reminders",
            &e.reminder_gap_days,
            "at least 1 when there are reminders",
        ),
        day(
            "expiry_days",
            "An invitation expires after, days",
            &e.expiry_days,
            "1 to 3650",
        ),
        day(
            "holdout_share",
            "Never asked, share",
            &e.holdout_share,
            "of customers held out of every survey: 0 to 0.5",
        ),
    ]
    .concat();
    let title = "Contact policy (every survey and channel)";
    form(POLICY_PATH, csrf, title, &fields, "Change the policy")
}

/// `POST /admin/surveys`: adds a survey.
pub async fn add(Change { ctx, form: e }: Change<Entered>) -> Response {
    let new = e.survey();
    let done = acting(&ctx.state, &ctx.user, move |sql, ops, actor| async move {
        cxray_analysis::surveys::add_survey(&sql, &ops, &actor, &new).await
    })
    .await
    .map(|s| {
        Done::said(format!(
            "Survey {} added; its anonymous link is /s/open/{}.",
            s.survey.name, s.public_id
        ))
    });
    answer::<Surveys>(&ctx, done, Some(&e)).await
}

/// `POST /admin/surveys/rules`: adds an invitation rule.
pub async fn add_rule(Change { ctx, form: e }: Change<Entered>) -> Response {
    let done = match e.rule() {
        Ok(new) => acting(&ctx.state, &ctx.user, move |sql, ops, actor| async move {
            cxray_analysis::surveys::add_rule(&sql, &ops, &actor, &new).await
        })
        .await
        .map_err(rule_field),
        Err(refused) => Err(refused),
    };
    let done = done.map(|r| {
        Done::said(format!(
            "Rule {} added: invites to {} after {}.",
            r.rule.name, r.rule.survey, r.rule.touchpoint
        ))
    });
    answer::<Surveys>(&ctx, done, Some(&e)).await
}

/// `POST /admin/surveys/policy`: changes the contact policy.
pub async fn policy(Change { ctx, form: e }: Change<Entered>) -> Response {
    let done = match e.policy_change() {
        Ok(change) => {
            let actor = ctx.user.actor();
            crate::ops(&ctx.state, move |db| {
                cxray_analysis::surveys::change_policy(db, &actor, &change)
            })
            .await
        }
        Err(refused) => Err(refused),
    };
    let done = done.map(|_| Done::said("Contact policy changed.".into()));
    answer::<Surveys>(&ctx, done, Some(&e)).await
}
