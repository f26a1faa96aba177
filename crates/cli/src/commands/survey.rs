//! `cxray survey`: surveys, the rules that invite to them, the contact policy, the
//! invitations handed out as personal links, and why a customer was or was not asked.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cxray_analysis::surveys;
use cxray_analysis::surveys::population::Asked;
use cxray_analysis::surveys::{NewRule, NewSurvey};
use cxray_core::domain::Table;
use cxray_core::stats::Estimate;
use cxray_core::surveys::{ContactPolicy, Link, Links, PolicyChange, Suppression, SurveyChannel};
use cxray_store::DataFolder;
use cxray_store::ops::OpsDb;
use cxray_store::sql::Sql;
use cxray_store::surveys::{RateGroup, StoredRule, StoredSurvey};
use serde::Serialize;

use crate::args::{
    LinksArgs, PolicyArgs, SurveyAddArgs, SurveyCommand, SurveyRuleArgs, SurveyRuleCommand,
};
use crate::config::Config;
use crate::output;

/// The flags of the fields errors name.
const FLAGS: &[(&str, &str)] = &[
    ("name", "--name"),
    ("survey", "--survey"),
    ("questions", "--questions"),
    ("languages", "--languages"),
    ("touchpoint", "--touchpoint"),
    ("customers", "--customers"),
    ("delay_hours", "--delay-hours"),
    ("sample_rate", "--sample-rate"),
    ("survey_cooldown_days", "--survey-cooldown-days"),
    ("touchpoint_cooldown_days", "--touchpoint-cooldown-days"),
    ("global_cooldown_days", "--global-cooldown-days"),
    ("window_days", "--window-days"),
    ("max_in_window", "--max-in-window"),
    ("reminders", "--reminders"),
    ("reminder_gap_days", "--reminder-gap-days"),
    ("expiry_days", "--expiry-days"),
    ("holdout_share", "--holdout-share"),
];

/// Runs a survey command.
pub async fn run(config: &Config, command: SurveyCommand, json: bool) -> anyhow::Result<()> {
    let ops = super::users::open(config)?;
    match command {
        SurveyCommand::Add(args) => add(config, &ops, args, json).await,
        SurveyCommand::List => list(&ops.surveys()?, json),
        SurveyCommand::Show { survey } => show(&ops, &survey, json),
        SurveyCommand::Rule(SurveyRuleCommand::Add(args)) => {
            add_rule(config, &ops, args, json).await
        }
        SurveyCommand::Rule(SurveyRuleCommand::List) => rules(&ops.survey_rules()?, json),
        SurveyCommand::Policy(args) => policy(&ops, args, json),
        SurveyCommand::Scan => scan(config, &ops, json).await,
        SurveyCommand::Links(args) => links(config, &ops, args, json),
        SurveyCommand::Why { customer } => why(&ops, &customer, json),
        SurveyCommand::Rates { by } => rates(config, &ops, by.into(), json).await,
        SurveyCommand::Holdout { window_days } => holdout(config, &ops, window_days, json).await,
        SurveyCommand::Respondents { every_trip, sent } => {
            let asked = match (every_trip, sent) {
                (true, _) => Asked::EveryTrip,
                (_, true) => Asked::Sent,
                _ => Asked::AsRecorded,
            };
            super::respondents::run(config, asked, json).await
        }
    }
}

async fn add(config: &Config, ops: &OpsDb, a: SurveyAddArgs, json: bool) -> anyhow::Result<()> {
    let new = NewSurvey {
        name: a.name,
        touchpoint: a.touchpoint,
        questions: a.questions,
        comment: a.comment,
        languages: a.languages,
    };
    let stored = surveys::add_survey(&sql(config).await?, ops, &super::actor(), &new)
        .await
        .map_err(|e| super::hint(e, FLAGS))?;
    list(&[stored], json)
}

async fn add_rule(
    config: &Config,
    ops: &OpsDb,
    a: SurveyRuleArgs,
    json: bool,
) -> anyhow::Result<()> {
    let new = NewRule {
        name: a.name,
        survey: a.survey,
        touchpoint: a.touchpoint,
        delay_hours: a.delay_hours,
        sample_rate: a.sample_rate,
        customers: a.customers,
        survey_cooldown_days: a.survey_cooldown_days,
        touchpoint_cooldown_days: a.touchpoint_cooldown_days,
        all_history: a.all_history,
    };
    let stored = surveys::add_rule(&sql(config).await?, ops, &super::actor(), &new)
        .await
        .map_err(|e| super::hint(e, FLAGS))?;
    rules(&[stored], json)
}

fn policy(ops: &OpsDb, a: PolicyArgs, json: bool) -> anyhow::Result<()> {
    let change = PolicyChange {
        global_cooldown_days: a.global_cooldown_days,
        window_days: a.window_days,
        max_in_window: a.max_in_window,
        reminders: a.reminders,
        reminder_gap_days: a.reminder_gap_days,
        expiry_days: a.expiry_days,
        holdout_share: a.holdout_share,
    };
    let p =
        surveys::change_policy(ops, &super::actor(), &change).map_err(|e| super::hint(e, FLAGS))?;
    match json {
        true => output::json(&p),
        false => print_policy(&p),
    }
}

async fn scan(config: &Config, ops: &OpsDb, json: bool) -> anyhow::Result<()> {
    let scans = surveys::scan(&sql(config).await?, ops).await?;
    if json {
        return output::json(&scans);
    }
    let mut t = output::Table::new(
        &["rule", "interactions", "invited", "suppressed"],
        &[false, true, true, false],
    );
    for s in &scans {
        let suppressed: Vec<String> = s
            .invited
            .suppressed
            .iter()
            .map(|(code, n)| format!("{n} {}", reason(code).to_lowercase()))
            .collect();
        t.rows.push(vec![
            s.name.clone(),
            s.invited.events.to_string(),
            s.invited.invited.to_string(),
            suppressed.join("; "),
        ]);
    }
    t.print()
}

/// One line of the personal-links file.
#[derive(Serialize)]
struct LinkRow {
    customer_id: String,
    survey: String,
    link: String,
    expires: String,
}

fn links(config: &Config, ops: &OpsDb, a: LinksArgs, json: bool) -> anyhow::Result<()> {
    let key = ops.pseudonym_key()?;
    let names: BTreeMap<i64, String> = ops
        .surveys()?
        .into_iter()
        .map(|s| (s.id, s.survey.name))
        .collect();
    let mut out = csv::Writer::from_path(&a.out)
        .map_err(|e| super::usage(format!("--out {}: {e}", a.out.display())))?;
    let now = Utc::now().timestamp();
    // With e-mail on, the server e-mails those with an address.
    let sent = match config.mail.is_some() && config.invitations.public_url.is_some() {
        true => ops.send_unaddressed(now)?,
        false => ops.send_due(SurveyChannel::Link, now)?,
    };
    for i in &sent {
        let expires = i.expires_at.unwrap_or_default();
        let token = Link {
            invitation: i.id,
            expires,
        }
        .sign(&key);
        out.serialize(LinkRow {
            customer_id: i.customer_id.clone(),
            survey: names.get(&i.survey_id).cloned().unwrap_or_default(),
            link: Links::new(&a.base_url, &token).survey,
            expires: time(expires),
        })?;
    }
    out.flush()?;
    match json {
        true => output::json(&serde_json::json!({ "links": sent.len(), "file": a.out })),
        false => {
            println!(
                "{} personal links written to {}",
                sent.len(),
                a.out.display()
            );
            Ok(())
        }
    }
}

async fn rates(config: &Config, ops: &OpsDb, by: RateGroup, json: bool) -> anyhow::Result<()> {
    let rates = surveys::rates(&sql(config).await?, ops, by, None).await?;
    if json {
        return output::json(&rates);
    }
    let headers = [
        by.label(),
        "sent",
        "answered",
        "response rate, %",
        "e-mailed",
        "delivered, %",
        "opened, %",
        "reminded",
        "expired",
        "customers",
        "median hours to answer",
    ];
    let mut right = [true; 11];
    right[0] = false;
    let mut t = output::Table::new(&headers, &right);
    let percent = |e: &Option<Estimate>| {
        e.as_ref().map_or("—".into(), |e| {
            output::with_interval(
                100.0 * e.value,
                e.low.map(|v| 100.0 * v),
                e.high.map(|v| 100.0 * v),
                1,
            )
        })
    };
    for r in &rates {
        let x = &r.reach;
        t.rows.push(vec![
            r.name.clone(),
            output::count(x.sent),
            output::count(x.responded),
            percent(&r.response_rate),
            output::count(x.emailed),
            percent(&r.delivery_rate),
            percent(&r.open_rate),
            output::count(x.reminded),
            output::count(x.expired),
            output::count(x.customers),
            x.median_hours_to_respond
                .map_or("—".into(), |h| format!("{h:.1}")),
        ]);
    }
    t.print()
}

async fn holdout(config: &Config, ops: &OpsDb, window_days: u32, json: bool) -> anyhow::Result<()> {
    let e = surveys::asking_effect(&sql(config).await?, ops, window_days).await?;
    if json {
        return output::json(&e);
    }
    let pct = |x: &Estimate| {
        output::with_interval(
            100.0 * x.value,
            x.low.map(|v| 100.0 * v),
            x.high.map(|v| 100.0 * v),
            1,
        )
    };
    let d = &e.difference;
    println!(
        "bought again within {} days of a survey rule's first trigger:",
        e.window_days
    );
    println!(
        "  open to being asked: {}% of {}",
        pct(&e.asked),
        output::count(e.asked.n)
    );
    println!(
        "  never asked (holdout): {}% of {}",
        pct(&e.held_out),
        output::count(e.held_out.n)
    );
    println!(
        "  being asked: {} percentage points{}",
        output::with_interval(d.value, d.low, d.high, 1),
        d.p_value
            .map_or(String::new(), |p| format!(" (p = {p:.3})"))
    );
    println!(
        "  {} customers triggered too recently to tell, left out",
        output::count(e.censored)
    );
    Ok(())
}

fn why(ops: &OpsDb, customer: &str, json: bool) -> anyhow::Result<()> {
    let log = ops.contact_log(customer)?;
    if json {
        return output::json(&log);
    }
    if log.is_empty() {
        println!("No survey contact with customer {customer}: no rule has triggered on them.");
        return Ok(());
    }
    let names: BTreeMap<i64, String> = ops
        .surveys()?
        .into_iter()
        .map(|s| (s.id, s.survey.name))
        .collect();
    let mut t = output::Table::new(&["when", "survey", "what", "why"], &[false; 4]);
    for e in &log {
        t.rows.push(vec![
            time(e.at),
            e.survey_id
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or_default(),
            e.decision.replace('_', " "),
            e.reason
                .as_deref()
                .map(reason)
                .unwrap_or_default()
                .to_string(),
        ]);
    }
    t.print()
}

fn show(ops: &OpsDb, name: &str, json: bool) -> anyhow::Result<()> {
    let s = ops.survey(name)?;
    let rules: Vec<StoredRule> = ops
        .survey_rules()?
        .into_iter()
        .filter(|r| r.survey_id == s.id)
        .collect();
    let counts = ops.survey_counts(s.id)?;
    if json {
        let shown = serde_json::json!({ "survey": s, "rules": rules, "counts": counts });
        return output::json(&shown);
    }
    list(std::slice::from_ref(&s), false)?;
    println!("\nAnonymous link: /s/open/{}", s.public_id);
    if !rules.is_empty() {
        println!();
        self::rules(&rules, false)?;
    }
    println!();
    let mut t = output::Table::new(&["invitations", "count"], &[false, true]);
    for (status, n) in &counts.invitations {
        t.rows.push(vec![status.clone(), n.to_string()]);
    }
    for (code, n) in &counts.suppressed {
        t.rows.push(vec![
            format!("not asked: {}", reason(code).to_lowercase()),
            n.to_string(),
        ]);
    }
    t.print()
}

fn list(surveys: &[StoredSurvey], json: bool) -> anyhow::Result<()> {
    if json {
        return output::json(surveys);
    }
    let mut t = output::Table::new(
        &["id", "survey", "touchpoint", "questions", "languages"],
        &[true, false, false, false, false],
    );
    for s in surveys {
        let mut questions: Vec<&str> = s.survey.questions.iter().map(|q| q.label()).collect();
        if s.survey.comment {
            questions.push("comment");
        }
        t.rows.push(vec![
            s.id.to_string(),
            s.survey.name.clone(),
            s.survey
                .touchpoint
                .clone()
                .unwrap_or_else(|| "(relationship)".into()),
            questions.join(", "),
            s.survey.languages.join(", "),
        ]);
    }
    t.print()
}

fn rules(rules: &[StoredRule], json: bool) -> anyhow::Result<()> {
    if json {
        return output::json(rules);
    }
    let headers = [
        "id",
        "rule",
        "survey",
        "after",
        "delay",
        "sample",
        "customers",
        "cooldowns",
    ];
    let mut t = output::Table::new(
        &headers,
        &[true, false, false, false, true, true, false, false],
    );
    for r in rules {
        let x = &r.rule;
        t.rows.push(vec![
            r.id.to_string(),
            x.name.clone(),
            x.survey.clone(),
            x.touchpoint.clone(),
            format!("{} h", x.delay_hours),
            format!("{}%", x.sample_rate * 100.0),
            x.customers
                .as_ref()
                .map(|c| format!("{}={}", c.column, c.value))
                .unwrap_or_else(|| "all".into()),
            format!(
                "survey {} d, touchpoint {} d",
                x.survey_cooldown_days, x.touchpoint_cooldown_days
            ),
        ]);
    }
    t.print()
}

fn print_policy(p: &ContactPolicy) -> anyhow::Result<()> {
    let mut t = output::Table::new(&["contact policy", "limit"], &[false, true]);
    let rows = [
        (
            "No other invitation within (any survey)",
            format!("{} days", p.global_cooldown_days),
        ),
        (
            "At most",
            format!("{} invitations in {} days", p.max_in_window, p.window_days),
        ),
        (
            "Reminders to non-responders",
            format!("{}, {} days apart", p.reminders, p.reminder_gap_days),
        ),
        (
            "Invitations expire after",
            format!("{} days", p.expiry_days),
        ),
        (
            "Never asked (holdout)",
            format!("{}%", p.holdout_share * 100.0),
        ),
    ];
    for (what, value) in rows {
        t.rows.push(vec![what.into(), value]);
    }
    t.print()
}

/// A reason code's words for people.
fn reason(code: &str) -> String {
    Suppression::words(code)
}

fn time(seconds: i64) -> String {
    DateTime::<Utc>::from_timestamp(seconds, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// After an import into interactions: the invitation rules evaluated, and how many
/// invitations they made (none when no rule is enabled).
pub async fn after_import(folder: &DataFolder, table: Table) -> anyhow::Result<Option<usize>> {
    let ops = folder.ops_db()?;
    if table != Table::Interactions || !surveys::watched(&ops)? {
        return Ok(None);
    }
    let sql = Sql::open(folder, &BTreeMap::new()).await?;
    let scans = surveys::scan(&sql, &ops).await?;
    Ok(Some(scans.iter().map(|s| s.invited.invited).sum()))
}

async fn sql(config: &Config) -> anyhow::Result<Sql> {
    Ok(Sql::open(&super::folder(config)?, &BTreeMap::new()).await?)
}
