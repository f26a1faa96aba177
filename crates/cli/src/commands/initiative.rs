//! `cxray initiative`: changes recorded with their scope, dates and costs, and what they
//! did, measured against a control.

use std::collections::BTreeMap;

use cxray_analysis::initiatives::{Basis, Measured, Valued, check_scope, measure_sql, report};
use cxray_core::initiatives::{Effect, Initiative, Measurement, Months, Request, Scope};
use cxray_core::stats::Estimate;
use cxray_core::text::{self, significant, significant_with_interval};
use cxray_store::StoreError;
use cxray_store::sql::Sql;

use crate::args::{
    InitiativeAddArgs, InitiativeCommand, InitiativeFields, InitiativeUpdateArgs, JourneyArgs,
    MeasureArgs,
};
use crate::config::Config;
use crate::output;

/// The flags of the fields errors name.
const FLAGS: &[(&str, &str)] = &[
    ("name", "--name"),
    ("scope", "--scope"),
    ("touchpoints", "--touchpoints"),
    ("start for", "--start-for"),
    ("start", "--start"),
    ("end", "--end"),
    ("one_off_cost", "--one-off-cost"),
    ("running_cost", "--running-cost"),
    ("expected effect", "--expected-effect"),
];

/// Runs an initiative command.
pub async fn run(config: &Config, command: InitiativeCommand, json: bool) -> anyhow::Result<()> {
    match command {
        InitiativeCommand::Add(args) => add(config, args, json).await,
        InitiativeCommand::List => {
            let list = super::users::open(config)?.initiatives()?;
            match json {
                true => output::json(&list),
                false => print_list(&list),
            }
        }
        InitiativeCommand::Show { name } => {
            let i = super::users::open(config)?.initiative(&name)?;
            match json {
                true => output::json(&i),
                false => print_one(&i),
            }
        }
        InitiativeCommand::Update(args) => update(config, args, json).await,
        InitiativeCommand::Measure(args) => measure(config, args, json).await,
    }
}

async fn add(config: &Config, args: InitiativeAddArgs, json: bool) -> anyhow::Result<()> {
    let mut starts = BTreeMap::new();
    for text in &args.start_for {
        let (unit, day) = text
            .split_once('=')
            .ok_or_else(|| super::usage(format!("--start-for: '{text}' is not UNIT=YYYY-MM-DD")))?;
        starts.insert(
            unit.trim().to_string(),
            super::date("--start-for", day.trim())?,
        );
    }
    let scope = Scope::parse(&args.scope, args.touchpoints)
        .map_err(|e| super::usage(format!("--scope: {e}")))?;
    let start = super::date("--start", &args.start)?;
    let mut i = Initiative {
        owner: args.owner,
        starts,
        ..Initiative::new(args.name, scope, start)
    };
    apply(&mut i, args.fields)?;
    save(config, &i, None).await?;
    show(&i, json)
}

async fn update(config: &Config, args: InitiativeUpdateArgs, json: bool) -> anyhow::Result<()> {
    let mut i = super::users::open(config)?.initiative(&args.initiative)?;
    if let Some(name) = args.name {
        i.name = name;
    }
    if let Some(owner) = args.owner {
        i.owner = Some(owner);
    }
    apply(&mut i, args.fields)?;
    save(config, &i, Some(&args.initiative)).await?;
    show(&i, json)
}

/// The fields given, over the initiative's.
fn apply(i: &mut Initiative, f: InitiativeFields) -> anyhow::Result<()> {
    if let Some(end) = f.end {
        i.end = Some(super::date("--end", &end)?);
    }
    i.one_off_cost = f.one_off_cost.unwrap_or(i.one_off_cost);
    i.running_cost = f.running_cost.unwrap_or(i.running_cost);
    i.expected_effect = f.expected_effect.or(i.expected_effect);
    i.status = f.status.unwrap_or(i.status);
    i.notes = f.notes.unwrap_or(std::mem::take(&mut i.notes));
    Ok(())
}

/// Checks the initiative against the data, then adds it (or replaces `replacing`).
async fn save(config: &Config, i: &Initiative, replacing: Option<&str>) -> anyhow::Result<()> {
    let hint = |e: StoreError| super::hint(e, FLAGS);
    i.check()
        .map_err(|e| hint(StoreError::invalid(e.field(), e.to_string())))?;
    let sql = Sql::open(&super::folder(config)?, &BTreeMap::new()).await?;
    check_scope(&sql, i).await.map_err(hint)?;
    let ops = super::users::open(config)?;
    match replacing {
        Some(name) => ops.update_initiative(&super::actor(), name, i),
        None => ops.add_initiative(&super::actor(), i),
    }
    .map_err(hint)?;
    Ok(())
}

fn show(i: &Initiative, json: bool) -> anyhow::Result<()> {
    match json {
        true => output::json(i),
        false => print_one(i),
    }
}

fn print_list(list: &[Initiative]) -> anyhow::Result<()> {
    let mut t = output::Table::new(&["name", "status", "scope", "start", "owner"], &[false; 5]);
    for i in list {
        t.rows.push(vec![
            i.name.clone(),
            i.status.label().into(),
            scope_text(&i.scope),
            i.start.to_string(),
            i.owner.clone().unwrap_or_default(),
        ]);
    }
    t.print()
}

fn scope_text(s: &Scope) -> String {
    let units = format!("{} = {}", s.column, s.values.join(", "));
    match s.touchpoints.is_empty() {
        true => format!("{units}, every touchpoint"),
        false => format!("{units}; {}", s.touchpoints.join(", ")),
    }
}

fn print_one(i: &Initiative) -> anyhow::Result<()> {
    println!("{} ({})", i.name, i.status.label());
    println!("Owner: {}", i.owner.as_deref().unwrap_or("—"));
    println!("Scope: {}", scope_text(&i.scope));
    let starts: Vec<String> = i
        .starts
        .iter()
        .map(|(u, d)| format!("{u} from {d}"))
        .collect();
    let own = if starts.is_empty() {
        String::new()
    } else {
        format!(" ({})", starts.join(", "))
    };
    let end = i.end.map_or(String::new(), |e| format!(" to {e}"));
    println!("From {}{own}{end}", i.start);
    println!(
        "Costs: {} once, {} a year",
        significant(i.one_off_cost, 3),
        significant(i.running_cost, 3)
    );
    if let Some(e) = i.expected_effect {
        println!("Expected effect: {} %", significant(100.0 * e, 3));
    }
    if !i.notes.is_empty() {
        println!("Notes: {}", i.notes);
    }
    Ok(())
}

async fn measure(config: &Config, args: MeasureArgs, json: bool) -> anyhow::Result<()> {
    let request = Request {
        estimator: args.estimator.into(),
        randomized: args.randomized,
        ..Request::default()
    };
    let sql = Sql::open(&super::folder(config)?, &BTreeMap::new()).await?;
    match (&args.name, &args.sql) {
        (_, Some(query)) => {
            let measured = measure_sql(&sql, query, &request).await;
            let measured = measured.map_err(|e| super::hint(e, &[("the query", "--sql")]))?;
            match json {
                true => output::json(&measured),
                false => print(&measured),
            }
        }
        (Some(name), None) => {
            let i = super::users::open(config)?.initiative(name)?;
            let opts = super::journey::options(config, &JourneyArgs { window_days: 180 })?;
            let asked = (&request, args.years);
            let r = report(&sql, &opts, &i, args.outcome.into(), asked).await;
            let r = r.map_err(|e| super::hint(e, &[("horizon", "--years")]))?;
            if json {
                return output::json(&r);
            }
            print(&r.measured)?;
            r.business_case.as_ref().map_or(Ok(()), print_value)
        }
        (None, None) => Err(super::usage("give an initiative's NAME or --sql")),
    }
}

fn print_value(v: &Valued) -> anyhow::Result<()> {
    let c = &v.case;
    let money = |e: &Estimate| text::money_with_interval(e.value, e.low, e.high);
    match &v.basis {
        Basis::Failures {
            interactions_per_year,
            excess_dropout,
            mean_clv,
        } => println!(
            "\nBusiness case: {} interactions a year in scope; leaving after a bad experience there {} percentage points more often; mean CLV {}",
            output::count(interactions_per_year.round() as u64),
            with_interval(&excess_dropout.scaled(100.0)),
            text::money(*mean_clv)
        ),
        Basis::Leaving {
            customers_per_year,
            mean_clv,
        } => println!(
            "\nBusiness case: {} customers in scope in the data's last year; mean CLV {}",
            output::count(customers_per_year.round() as u64),
            text::money(*mean_clv)
        ),
        Basis::Revenue {
            buyer_weeks_per_year,
        } => println!(
            "\nBusiness case: {} buying customers a year in scope, counted per week",
            output::count(buyer_weeks_per_year.round() as u64)
        ),
    }
    if let Some(kept) = &c.customers_kept {
        println!("  customers kept a year: {}", with_interval(kept));
    }
    println!("  value a year: {}", money(&c.value));
    println!(
        "  net value over {} years (one-off {}, running {} a year): {}",
        significant(c.costs.years, 3),
        text::money(c.costs.one_off),
        text::money(c.costs.running),
        money(&c.net_value)
    );
    if let Some(roi) = &c.roi {
        println!("  return on the costs: {}", with_interval(roi));
    }
    let months = |m: Months| match m {
        Months::After(m) => format!("{} months", significant(m, 3)),
        Months::Never => "never".into(),
    };
    let p = &c.payback;
    println!(
        "  payback: {} (soonest {}, latest {})",
        months(p.months),
        months(p.soonest),
        months(p.latest)
    );
    Ok(())
}

fn with_interval(e: &Estimate) -> String {
    significant_with_interval(e.value, e.low, e.high, 3)
}

/// The event study's relative periods the text shows.
const SHOWN_RELATIVE: std::ops::RangeInclusive<i64> = -8..=12;

/// Four significant digits.
fn figure(v: f64) -> String {
    significant(v, 4)
}

fn print(measured: &Measured) -> anyhow::Result<()> {
    let m = &measured.measurement;
    let period = |p: i64| measured.periods.text(p);
    let how = if m.chosen_automatically {
        "chosen"
    } else {
        "as asked"
    };
    println!("Estimator: {} ({how}: {})", m.estimator.label(), m.reason);
    let d = &m.design;
    let start = m
        .start
        .map_or("no start".into(), |s| format!("start {}", period(s)));
    println!(
        "Design: {} units ({} treated, {} untreated), {} periods: {} before the {start}, {} from it",
        d.units, d.treated_units, d.untreated_units, d.periods, d.pre_periods, d.post_periods
    );
    for note in &m.notes {
        println!("Note: {note}");
    }
    if let Some(refusal) = &m.refusal {
        println!("No claim: {}", refusal.label());
        return Ok(());
    }
    if let Some(e) = &m.effect {
        print_effect(e);
    }
    print_diagnostics(m);
    print_details(m, &period)
}

fn print_effect(e: &Effect) {
    let a = &e.absolute;
    let verdict = match a.interval() {
        Some((lo, hi)) if lo > 0.0 || hi < 0.0 => "a change: the 95% interval excludes 0",
        Some(_) => "no measurable effect: the 95% interval includes 0",
        None => "no interval: too few placebo units for 95%",
    };
    println!("Verdict: {verdict}");
    println!(
        "Effect per treated unit and period: {} (95% interval)",
        significant_with_interval(a.value, a.low, a.high, 4)
    );
    if let Some(r) = &e.relative {
        let pct = r.scaled(100.0);
        println!(
            "Relative to what it would have been: {} %",
            significant_with_interval(pct.value, pct.low, pct.high, 3)
        );
    }
    let c = &e.cumulative;
    println!(
        "Cumulative over {} treated unit-periods: {}",
        a.n,
        significant_with_interval(c.value, c.low, c.high, 4)
    );
    let se =
        e.se.map_or(String::new(), |s| format!(", standard error {}", figure(s)));
    println!("p-value {}{se}", significant(e.p_value, 3));
    if let Some(mde) = e.detectable {
        println!(
            "Smallest effect this design detects (80% power, 5% level): {}",
            figure(mde)
        );
    }
}

fn print_diagnostics(m: &Measurement) {
    let d = &m.diagnostics;
    if let (Some(f), Some(p)) = (d.pretrend_f, d.pretrend_p) {
        let reading = if p < 0.05 {
            "the treated units already moved apart before the start"
        } else {
            "no evidence of diverging trends before the start"
        };
        println!(
            "Pre-trend test (leads jointly 0): F {}, p {} — {reading}",
            significant(f, 3),
            significant(p, 3)
        );
    }
    if let (Some(pre), Some(ratio)) = (d.pre_rmspe, d.rmspe_ratio) {
        println!(
            "Fit before the start: RMSPE {}; post/pre RMSPE ratio {}",
            figure(pre),
            significant(ratio, 3)
        );
    }
    if let (Some(rank), Some(units)) = (d.placebo_rank, d.placebo_units) {
        println!("Placebo rank: {rank} of {units} units (p = {rank}/{units})");
    }
    if let Some(v) = d.variance_reduction {
        println!("CUPED variance reduction: {} %", significant(100.0 * v, 3));
    }
}

fn print_details(m: &Measurement, period: &dyn Fn(i64) -> String) -> anyhow::Result<()> {
    let shown: Vec<_> = m
        .event_study
        .iter()
        .filter(|c| SHOWN_RELATIVE.contains(&c.relative))
        .collect();
    if !shown.is_empty() {
        let more = m.event_study.len() - shown.len();
        let more = if more > 0 {
            format!("; {more} more with --json")
        } else {
            String::new()
        };
        println!("\nEvent study (periods from the start; −1 is the reference{more}):");
        let mut t = output::Table::new(
            &["relative", "estimate", "95% interval"],
            &[true, true, true],
        );
        for c in shown {
            t.rows.push(vec![
                c.relative.to_string(),
                figure(c.estimate),
                format!("{} – {}", figure(c.low), figure(c.high)),
            ]);
        }
        t.print()?;
    }
    if !m.weights.is_empty() {
        println!("\nSynthetic control's weights:");
        let mut t = output::Table::new(&["unit", "weight"], &[false, true]);
        for w in &m.weights {
            t.rows
                .push(vec![w.unit.clone(), format!("{:.3}", w.weight)]);
        }
        t.print()?;
    }
    println!("\nTreated against the comparison by period:");
    let mut t = output::Table::new(&["period", "treated", "comparison"], &[false, true, true]);
    let cell = |v: Option<f64>| v.map_or("—".into(), figure);
    for p in &m.series {
        t.rows
            .push(vec![period(p.period), cell(p.treated), cell(p.comparison)]);
    }
    t.print()
}
