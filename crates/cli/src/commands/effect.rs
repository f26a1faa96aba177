//! `cxray cases effect`: what following up changed, followed-up against held-out cases.

use std::collections::BTreeMap;

use cxray_analysis::cases::{EffectQuery, EffectReport, Group, WindowEffect, effect_report};
use cxray_analysis::settings::ProductSettings;
use cxray_core::cases::effect::{Effect, EffectSettings};
use cxray_core::text::{
    money_difference, money_estimate, money_in, p_value, points, signed, signed_count, thousands,
};
use cxray_store::DataFolder;
use cxray_store::ops::OpsDb;
use cxray_store::sql::Sql;

use crate::args::CasesEffectArgs;
use crate::output;

/// Compares the arms and prints the comparison.
pub async fn run(
    folder: &DataFolder,
    ops: &OpsDb,
    args: CasesEffectArgs,
    json: bool,
) -> anyhow::Result<()> {
    let flags = [("rule", "--rule"), ("window", "--window-days")];
    let rule = args.rule.map(|r| ops.rule(&r)).transpose();
    let rule = rule.map_err(|e| super::hint(e, &flags))?;
    if !(args.detect_points > 0.0 && args.detect_points < 100.0) {
        let points = args.detect_points;
        return Err(super::usage(format!(
            "--detect-points: {points} is not between 0 and 100 percentage points"
        )));
    }
    let query = EffectQuery {
        rule: rule.map(|r| r.id),
        windows: args.window_days,
        settings: EffectSettings {
            stats: ProductSettings::default().stats,
            detect_points: args.detect_points,
            ..EffectSettings::default()
        },
    };
    cxray_analysis::cases::check_windows(&query.windows).map_err(|e| super::hint(e, &flags))?;
    let sql = Sql::open(folder, &BTreeMap::new()).await?;
    let report = effect_report(&sql, ops, &query).await?;
    match json {
        true => output::json(&report),
        false => print(&report),
    }
}

fn print(r: &EffectReport) -> anyhow::Result<()> {
    let as_of = r
        .as_of
        .map_or("no purchases yet".into(), |d| format!("as of {d}"));
    println!(
        "What following up changed, {as_of}: {} cases",
        thousands(r.cases)
    );
    if let Some(c) = &r.currency {
        println!("amounts of money in {c}");
    }
    for w in &r.windows {
        println!();
        window(w, r.currency.as_deref())?;
    }
    Ok(())
}

fn window(w: &WindowEffect, currency: Option<&str>) -> anyhow::Result<()> {
    let compared = w.overall.follow_up + w.overall.holdout;
    println!(
        "Within {} days of the case: {} cases compared, {} left out (their window has not ended)",
        w.days,
        thousands(compared),
        thousands(w.not_ended)
    );
    let mut t = output::Table::new(
        &[
            "cases",
            "followed up",
            "held out",
            "bought again, pp (95%)",
            "p",
            "revenue per case (95%, adjusted)",
            "p",
        ],
        &[false, true, true, true, true, true, true],
    );
    let named = |kind: &str, g: &Group| format!("{kind}: {}", g.label);
    let mut rows = vec![(w.overall.label.clone(), &w.overall)];
    rows.extend(w.rules.iter().map(|g| (named("rule", g), g)));
    rows.extend(w.owners.iter().map(|g| (named("owner", g), g)));
    rows.extend(w.outcomes.iter().map(|g| (named("outcome", g) + " *", g)));
    for (name, g) in rows {
        t.rows.push(group_row(name, g));
    }
    t.print()?;
    if !w.outcomes.is_empty() {
        println!(
            "* not randomised: the followed-up cases with the outcome against every held-out case"
        );
    }
    match &w.overall.effect {
        Some(e) => details(e, currency),
        None => {
            println!("no comparison: an arm has no cases whose window has ended");
            Ok(())
        }
    }
}

fn group_row(name: String, g: &Group) -> Vec<String> {
    let mut row = vec![name, thousands(g.follow_up), thousands(g.holdout)];
    match &g.effect {
        Some(e) => row.extend([
            points(&e.repurchase),
            p_value(e.repurchase.p_value),
            money_difference(&e.revenue.adjusted),
            p_value(e.revenue.adjusted.p_value),
        ]),
        None => row.extend(["—".into(), String::new(), "—".into(), String::new()]),
    }
    row
}

/// The overall comparison's further figures.
fn details(e: &Effect, currency: Option<&str>) -> anyhow::Result<()> {
    let money_of = |v: f64| money_in(v, currency);
    let mut lines = vec![
        (
            "revenue per case, unadjusted".to_string(),
            format!(
                "{}, p {}",
                money_difference(&e.revenue.unadjusted),
                p_value(e.revenue.unadjusted.p_value)
            ),
        ),
        (
            "adjustment by spend before".into(),
            format!(
                "θ {:.3}; variance of the difference {:.0}% lower",
                e.revenue.theta,
                100.0 * e.revenue.variance_reduction
            ),
        ),
    ];
    for b in &e.balance {
        let smd = b
            .smd
            .map_or("undefined".into(), |d| signed(d, format!("{:.3}", d.abs())));
        let flag = if b.flagged { " (unbalanced)" } else { "" };
        lines.push((
            format!("balance: {}", b.measure.label().to_lowercase()),
            format!("standardised difference {smd}{flag}"),
        ));
    }
    if let (Some(pp), Some(rev)) = (e.detectable.repurchase_points, e.detectable.revenue) {
        lines.push((
            "detectable at these sizes".into(),
            format!(
                "{pp:.1} pp bought again, {} revenue per case (α 0.05, power 80%)",
                money_of(rev)
            ),
        ));
    }
    if let Some(n) = e.needed {
        lines.push((
            format!("to detect {} pp bought again", n.effect_points),
            format!(
                "{} cases in all, {} more",
                thousands(n.total),
                thousands(n.further)
            ),
        ));
    }
    if let Some(d) = &e.p_alive {
        lines.push(("change in P(alive), pp".into(), points(d)));
    }
    lines.extend(value(e, currency));
    for a in &e.absent {
        lines.push(("absent".into(), a.label().into()));
    }
    for (name, value) in lines {
        println!("{name:<34} {value}");
    }
    Ok(())
}

fn value(e: &Effect, currency: Option<&str>) -> Vec<(String, String)> {
    let v = &e.value;
    let mut lines = vec![(
        "extra customers who bought again".to_string(),
        signed_count(&v.extra_customers),
    )];
    if let (Some(clv), Some(worth), Some(net)) = (v.mean_clv, &v.value, &v.net) {
        lines.push((
            "their value (× mean CLV)".into(),
            format!(
                "{} (mean CLV {})",
                money_estimate(worth, currency),
                money_in(clv, currency)
            ),
        ));
        lines.push(("net of compensation".into(), money_estimate(net, currency)));
    }
    lines.push((
        "compensation paid".into(),
        format!(
            "{} ({} per followed-up case)",
            money_in(v.compensation, currency),
            money_in(v.compensation_per_case, currency)
        ),
    ));
    lines
}
