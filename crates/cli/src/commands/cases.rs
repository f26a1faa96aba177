//! `cxray trigger` and `cxray cases`: the rules that open follow-up cases, and the cases.

use std::collections::BTreeMap;

use chrono::{NaiveTime, Utc};
use cxray_analysis::cases::{self, CauseCosts, RuleScan};
use cxray_core::cases::{
    Arm, CaseStatus, CustomerCondition, HoldoutShare, Outcome, RootCause, ScoreCondition, Trigger,
};
use cxray_core::domain::Table;
use cxray_core::text;
use cxray_store::DataFolder;
use cxray_store::cases::{Case, CaseFilter, CaseUpdate, NewRule, check};
use cxray_store::ops::OpsDb;
use cxray_store::sql::Sql;

use crate::args::{CaseUpdateArgs, CasesCommand, CasesListArgs, TriggerAddArgs, TriggerCommand};
use crate::config::Config;
use crate::output;

/// The flags of the settings the store's messages name.
const FLAGS: &[(&str, &str)] = &[
    ("touchpoint", "--touchpoint"),
    ("owner", "--fallback-owner"),
    ("customers", "--customer"),
    ("service level", "--experience"),
    ("clv_percentile", "--min-clv-percentile"),
    ("trigger", "--p-alive-below"),
];

/// Adds, lists or disables rules, then lists them.
pub async fn trigger(config: &Config, command: TriggerCommand, json: bool) -> anyhow::Result<()> {
    let folder = super::folder(config)?;
    let ops = folder.ops_db()?;
    match command {
        TriggerCommand::Add(args) => {
            let sql = Sql::open(&folder, &BTreeMap::new()).await?;
            let new = new_rule(args, &sql).await?;
            let checked = check::rule(&sql, &ops.slas()?, &new).await;
            checked.map_err(|e| super::hint(e, FLAGS))?;
            let added = ops.add_rule(&super::actor(), &new);
            added.map_err(|e| super::hint(e, FLAGS))?;
        }
        TriggerCommand::Disable { rule } => {
            ops.disable_rule(&super::actor(), &rule)?;
        }
        TriggerCommand::List => {}
    }
    let rules = ops.rules()?;
    if json {
        return output::json(&rules);
    }
    let mut t = output::Table::new(
        &[
            "id",
            "name",
            "trigger",
            "customers",
            "fallback owner",
            "cooldown d",
            "holdout",
            "enabled",
        ],
        &[true, false, false, false, false, true, true, false],
    );
    for r in &rules {
        let customers: Vec<String> = r.customers.iter().map(ToString::to_string).collect();
        t.rows.push(vec![
            r.id.to_string(),
            r.name.clone(),
            r.label.clone(),
            or_dash(Some(customers.join(", ")).filter(|c| !c.is_empty())),
            or_dash(r.fallback_owner.clone()),
            r.cooldown_days.to_string(),
            format!("{:.0}%", r.holdout.get() * 100.0),
            if r.enabled { "yes" } else { "no" }.into(),
        ]);
    }
    t.print()
}

/// The rule the arguments describe; it watches the data that arrives from now on (its
/// watermark the source table's version now, or for behaviour the latest valuation)
/// unless `--since` asks for the events there.
async fn new_rule(args: TriggerAddArgs, sql: &Sql) -> anyhow::Result<NewRule> {
    let trigger = match (args.instrument, args.experience, args.p_alive_below) {
        (Some(instrument), _, _) => {
            let instrument = instrument.into();
            let score = args.score.as_deref().unwrap_or_default();
            Trigger::Survey {
                instrument,
                condition: ScoreCondition::parse(instrument, score)
                    .map_err(|e| super::usage(format!("{e} (--score)")))?,
                touchpoint: args.touchpoint,
            }
        }
        (None, Some(experience), _) => Trigger::Interaction {
            touchpoint: args.touchpoint.unwrap_or_default(),
            experience,
        },
        (None, None, Some(p)) => {
            Trigger::behaviour(p).map_err(|e| super::usage(format!("{e} (--p-alive-below)")))?
        }
        (None, None, None) => unreachable!("clap requires one"),
    };
    let customers = args
        .customers
        .iter()
        .map(|c| c.parse::<CustomerCondition>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| super::usage(format!("{e} (--customer)")))?;
    let holdout =
        HoldoutShare::new(args.holdout).map_err(|e| super::usage(format!("{e} (--holdout)")))?;
    let since = args
        .since
        .map(|d| super::date("--since", &d))
        .transpose()?
        .map(|d| d.and_time(NaiveTime::MIN).and_utc());
    Ok(NewRule {
        name: args.name,
        watermark: NewRule::starting_watermark(sql, &trigger, since).await?,
        trigger,
        customers,
        clv_percentile: args.min_clv_percentile,
        fallback_owner: args.fallback_owner,
        cooldown_days: args.cooldown_days,
        holdout,
        since,
    })
}

/// Scans, lists, shows or updates cases, or edits the root causes.
pub async fn cases(config: &Config, command: CasesCommand, json: bool) -> anyhow::Result<()> {
    let folder = super::folder(config)?;
    let ops = folder.ops_db()?;
    match command {
        CasesCommand::Scan => {
            let scans = scan(&folder, &ops).await?;
            match json {
                true => output::json(&scans),
                false => print_scans(&scans),
            }
        }
        CasesCommand::List(args) => {
            let filter = filter(&ops, args)?;
            list(&ops.cases(&filter, Utc::now())?, json)
        }
        CasesCommand::Show { id } => show(&ops, id, json),
        CasesCommand::Update(args) => {
            let id = args.id;
            let update = update(&folder, args).await?;
            ops.update_case(&super::actor(), id, &update, Utc::now())
                .map_err(|e| {
                    super::hint(e, &[("root cause", "--root-cause"), ("owner", "--owner")])
                })?;
            show(&ops, id, json)
        }
        CasesCommand::Effect(args) => super::effect::run(&folder, &ops, args, json).await,
        CasesCommand::Costs => {
            let sql = Sql::open(&folder, &BTreeMap::new()).await?;
            let named = CaseFilter {
                with_root_cause: true,
                ..CaseFilter::default()
            };
            let costs = cases::cause_costs(&sql, &ops.cases(&named, Utc::now())?).await?;
            match json {
                true => output::json(&costs),
                false => print_costs(&costs),
            }
        }
        CasesCommand::Escalate => super::webhook::escalate(config, &folder, json).await,
        CasesCommand::Lead {
            owner,
            email,
            remove,
        } => {
            if let Some(owner) = owner.filter(|_| email.is_some() || remove) {
                let sql = Sql::open(&folder, &BTreeMap::new()).await?;
                check::owner(&sql, &owner).await?;
                let set = ops.set_lead(&super::actor(), &owner, email.as_deref());
                set.map_err(|e| super::hint(e, &[("email", "--email")]))?;
            }
            leads(&ops.leads()?, json)
        }
        CasesCommand::Hours { hours, clear } => {
            if let Some(text) = hours {
                let parsed = text
                    .parse()
                    .map_err(|e| super::usage(format!("HOURS: {e}")))?;
                ops.set_business_hours(&super::actor(), Some(&parsed))?;
            }
            if clear {
                ops.set_business_hours(&super::actor(), None)?;
            }
            let set = ops.business_hours()?;
            match json {
                true => output::json(&set.map(|h| h.to_string())),
                false => {
                    let every = "every hour counts (no business hours set)".to_string();
                    println!("{}", set.map_or(every, |h| h.to_string()));
                    Ok(())
                }
            }
        }
        CasesCommand::Causes(args) => {
            for text in &args.add {
                ops.add_root_cause(&super::actor(), &cause(text)?)?;
            }
            for text in &args.remove {
                ops.remove_root_cause(&super::actor(), &cause(text)?)?;
            }
            let causes = ops.root_causes()?;
            match json {
                true => output::json(&causes),
                false => {
                    causes.iter().for_each(|c| println!("{c}"));
                    Ok(())
                }
            }
        }
    }
}

/// Evaluates the rules over the latest data and opens their cases.
pub async fn scan(folder: &DataFolder, ops: &OpsDb) -> anyhow::Result<Vec<RuleScan>> {
    let sql = Sql::open(folder, &BTreeMap::new()).await?;
    Ok(cases::scan(&sql, ops, &super::actor(), Utc::now()).await?)
}

/// After an import into `table`: the cases of the rules that watch it, and how many
/// were opened (none when no rule watches it).
pub async fn after_import(folder: &DataFolder, table: Table) -> anyhow::Result<Option<usize>> {
    let ops = folder.ops_db()?;
    let watched = cases::watched(&ops, &[table])?;
    scan_if(folder, &ops, watched).await
}

/// After `loyalty predict`: the cases of the behaviour rules, and how many were opened
/// (none when there is no such rule).
pub async fn after_predict(folder: &DataFolder) -> anyhow::Result<Option<usize>> {
    let ops = folder.ops_db()?;
    let rules = ops.rules()?;
    let watched = rules
        .iter()
        .any(|r| r.enabled && matches!(r.trigger, Trigger::Behaviour { .. }));
    scan_if(folder, &ops, watched).await
}

async fn scan_if(folder: &DataFolder, ops: &OpsDb, watched: bool) -> anyhow::Result<Option<usize>> {
    if !watched {
        return Ok(None);
    }
    let scans = scan(folder, ops).await?;
    Ok(Some(scans.iter().map(|s| s.opened.opened).sum()))
}

fn print_scans(scans: &[RuleScan]) -> anyhow::Result<()> {
    let mut t = output::Table::new(
        &[
            "rule",
            "events",
            "opened",
            "held out",
            "no owner",
            "had a case",
            "cooling down",
        ],
        &[false, true, true, true, true, true, true],
    );
    for s in scans {
        let o = &s.opened;
        t.rows.push(vec![
            s.name.clone(),
            o.events.to_string(),
            o.opened.to_string(),
            o.held_out.to_string(),
            o.unrouted.to_string(),
            o.known.to_string(),
            o.cooling_down.to_string(),
        ]);
    }
    t.print()
}

fn print_costs(costs: &CauseCosts) -> anyhow::Result<()> {
    let mut t = output::Table::new(
        &[
            "root cause",
            "cases",
            "customers",
            "valued",
            "their lifetime value",
        ],
        &[false, true, true, true, true],
    );
    for c in &costs.causes {
        t.rows.push(vec![
            c.cause.to_string(),
            c.cases.to_string(),
            c.customers.to_string(),
            c.valued.to_string(),
            c.clv.map_or("— (customers not valued)".into(), |v| {
                text::money_in(v, costs.currency.as_deref())
            }),
        ]);
    }
    t.print()
}

fn filter(ops: &OpsDb, args: CasesListArgs) -> anyhow::Result<CaseFilter> {
    let rule = args.trigger.map(|r| ops.rule(&r)).transpose();
    Ok(CaseFilter {
        owner: args.owner,
        status: args.status,
        overdue: args.overdue,
        rule: rule
            .map_err(|e| super::hint(e, &[("rule", "--trigger")]))?
            .map(|r| r.id),
        root_cause: args.root_cause.as_deref().map(cause).transpose()?,
        limit: Some(args.limit),
        offset: 0,
        with_root_cause: false,
    })
}

fn cause(text: &str) -> anyhow::Result<RootCause> {
    text.parse::<RootCause>().map_err(super::usage)
}

/// The update the arguments describe, its new owner checked against the owners.
async fn update(folder: &DataFolder, args: CaseUpdateArgs) -> anyhow::Result<CaseUpdate> {
    if let Some(owner) = &args.owner {
        let sql = Sql::open(folder, &BTreeMap::new()).await?;
        check::owner(&sql, owner)
            .await
            .map_err(|e| super::hint(e, &[("owner", "--owner")]))?;
    }
    let outcome = args
        .outcome
        .map(|kind| Outcome::new(kind, args.amount))
        .transpose()
        .map_err(|e| super::usage(format!("{e} (--outcome, --amount)")))?;
    Ok(CaseUpdate {
        status: args.status,
        assignee: args.assignee,
        owner: args.owner,
        root_cause: args.root_cause.as_deref().map(cause).transpose()?,
        outcome,
        note: args.note,
    })
}

fn list(cases: &[Case], json: bool) -> anyhow::Result<()> {
    if json {
        return output::json(cases);
    }
    let mut t = output::Table::new(
        &[
            "id",
            "rule",
            "customer",
            "touchpoint",
            "what happened",
            "owner",
            "status",
            "due",
            "",
        ],
        &[true, false, false, false, false, false, false, false, false],
    );
    for c in cases {
        let due = match c.status {
            CaseStatus::Open => c.contact_by.clone(),
            s if s.is_done() => "—".into(),
            _ => c.resolve_by.clone(),
        };
        t.rows.push(vec![
            c.id.to_string(),
            c.rule.clone(),
            c.customer_id.clone(),
            or_dash(c.touchpoint.clone()),
            c.detail.clone(),
            or_dash(c.owner.clone()),
            status(c),
            due,
            if c.overdue { "yes" } else { "" }.into(),
        ]);
    }
    t.print()
}

/// The case's status for people, with its arm when held out.
fn status(c: &Case) -> String {
    match c.arm {
        Arm::Holdout => c.arm.label().to_string(),
        Arm::FollowUp => c.status.label().to_string(),
    }
}

fn show(ops: &OpsDb, id: i64, json: bool) -> anyhow::Result<()> {
    let case = ops.case(id, Utc::now())?;
    let history = ops.case_history(id)?;
    if json {
        return output::json(&serde_json::json!({ "case": case, "history": history }));
    }
    let lines = [
        ("case", case.id.to_string()),
        ("rule", case.rule.clone()),
        ("customer", case.customer_id.clone()),
        ("event at", case.event_at.clone()),
        ("touchpoint", or_dash(case.touchpoint.clone())),
        ("what happened", case.detail.clone()),
        ("owner", or_dash(case.owner.clone())),
        ("status", status(&case)),
        ("assignee", or_dash(case.assignee.clone())),
        (
            "root cause",
            or_dash(case.root_cause.as_ref().map(ToString::to_string)),
        ),
        ("outcome", or_dash(case.outcome.map(|o| o.label()))),
        ("opened", case.opened_at.clone()),
        ("contact by", case.contact_by.clone()),
        ("resolve by", case.resolve_by.clone()),
        ("overdue", if case.overdue { "yes" } else { "no" }.into()),
    ];
    for (name, value) in lines {
        println!("{name:<14} {value}");
    }
    println!();
    let mut t = output::Table::new(&["at", "by", "change", "note"], &[false; 4]);
    for h in &history {
        t.rows.push(vec![
            h.at.clone(),
            h.actor.clone(),
            h.change.clone(),
            h.note.clone().unwrap_or_default(),
        ]);
    }
    t.print()
}

fn or_dash(v: Option<String>) -> String {
    v.unwrap_or_else(|| "—".into())
}

fn leads(leads: &[(String, String)], json: bool) -> anyhow::Result<()> {
    if json {
        let leads: Vec<_> = leads
            .iter()
            .map(|(owner, email)| serde_json::json!({ "owner": owner, "email": email }))
            .collect();
        return output::json(&leads);
    }
    let mut t = output::Table::new(&["owner", "lead"], &[false, false]);
    t.rows = leads
        .iter()
        .map(|(o, e)| vec![o.clone(), e.clone()])
        .collect();
    t.print()
}
