//! `cxray link` as text: the headline, the report-card quadrant, score groups and the
//! prediction of defection.

use cxray_analysis::metrics::{Defection, Link, LinkReport};
use cxray_core::stats::Estimate;

use crate::output::{self, count};

/// Prints the report for people.
pub fn print(r: &LinkReport) -> anyhow::Result<()> {
    let definition = match r.defection {
        Defection::Window => format!("no purchase within {} days of the answer", r.window_days),
        Defection::Palive { threshold } => format!("P(alive) below {threshold}"),
    };
    println!(
        "{} answers up to {}, data to {}; defected = {definition}",
        r.instrument, r.statements_until, r.data_end
    );
    for note in &r.notes {
        println!("note: {note}");
    }
    headline(std::slice::from_ref(&r.overall).iter().chain(&r.groups))?;
    println!("\nreport card (all respondents)");
    quadrant(&r.overall)?;
    println!("\nby {} group", r.instrument);
    score_groups(&r.overall)?;
    println!(
        "\npredicting no purchase within {} days of the answer",
        r.window_days
    );
    prediction(&r.overall)
}

fn pct(s: Option<&Estimate>) -> String {
    s.map_or("—".into(), |s| format!("{:.1}%", s.value * 100.0))
}

fn interval(s: Option<&Estimate>) -> String {
    match s.and_then(|s| s.low.zip(s.high)) {
        Some((lo, hi)) => format!("{:.1} – {:.1}%", lo * 100.0, hi * 100.0),
        None => "—".into(),
    }
}

fn estimate(e: Option<&Estimate>, decimals: usize) -> String {
    e.map_or("—".into(), |e| {
        output::with_interval(e.value, e.low, e.high, decimals)
    })
}

fn headline<'a>(links: impl Iterator<Item = &'a Link>) -> anyhow::Result<()> {
    let mut t = output::Table::new(
        &[
            "group",
            "respondents",
            "defectors",
            "satisfied defectors",
            "95% interval",
        ],
        &[false, true, true, true, true],
    );
    for l in links {
        let s = l.satisfied_defector_share.as_ref();
        t.rows.push(vec![
            l.group.clone().unwrap_or_else(|| "all".into()),
            count(l.respondents),
            count(l.defectors),
            pct(s),
            interval(s),
        ]);
    }
    t.print()
}

fn quadrant(l: &Link) -> anyhow::Result<()> {
    let mut t = output::Table::new(
        &["said", "did", "customers", "revenue to date", "CLV"],
        &[false, false, true, true, true],
    );
    for c in &l.quadrant {
        t.rows.push(vec![
            if c.satisfied {
                "satisfied"
            } else {
                "dissatisfied"
            }
            .into(),
            if c.defected { "defected" } else { "stayed" }.into(),
            count(c.customers),
            count(c.revenue.round() as u64),
            c.clv.map_or("—".into(), |v| count(v.round() as u64)),
        ]);
    }
    t.print()
}

fn score_groups(l: &Link) -> anyhow::Result<()> {
    let mut t = output::Table::new(
        &[
            "group",
            "respondents",
            "defected",
            "buying 180 days on",
            "buying 360 days on",
            "still customers %",
            "mean CLV",
        ],
        &[false, true, true, true, true, true, true],
    );
    for g in &l.by_score {
        let at = |days: i64| {
            pct(g
                .retention
                .iter()
                .find(|p| p.days == days)
                .map(|p| &p.share))
        };
        t.rows.push(vec![
            g.group.clone(),
            count(g.respondents),
            pct(g.defection.as_ref()),
            at(180),
            at(360),
            estimate(g.alive.as_ref(), 1),
            estimate(g.mean_clv.as_ref(), 0),
        ]);
    }
    t.print()
}

fn prediction(l: &Link) -> anyhow::Result<()> {
    let p = &l.prediction;
    println!(
        "{} respondents, {} did not buy; AUC (0.5 is chance, 95% interval):",
        count(p.n),
        count(p.defectors)
    );
    println!(
        "  stated score       {}",
        estimate(p.auc_stated.as_ref(), 3)
    );
    println!(
        "  behaviour (model)  {}",
        estimate(p.auc_behaviour.as_ref(), 3)
    );
    println!("  both               {}", estimate(p.auc_both.as_ref(), 3));
    let mut t = output::Table::new(
        &[
            "decile",
            "respondents",
            "did not buy",
            "rate %",
            "lift",
            "captured %",
        ],
        &[true, true, true, true, true, true],
    );
    for row in &p.lift {
        t.rows.push(vec![
            row.group.to_string(),
            count(row.n),
            count(row.events),
            format!("{:.1}", row.rate),
            format!("{:.2}", row.lift),
            format!("{:.1}", row.cumulative_capture),
        ]);
    }
    println!("lift by decile of {}:", p.lift_of);
    t.print()
}
