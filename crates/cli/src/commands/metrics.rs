//! `cxray metrics` and `cxray compare`: survey metrics with intervals.

use std::collections::BTreeMap;

use cxray_core::stats::{Estimate, Settings};
use cxray_store::metrics::{self, MetricRow, Slice};
use cxray_store::sql::Sql;

use super::date;
use crate::args::{CompareArgs, LinkArgs, MetricsArgs, SliceArgs};
use crate::config::Config;
use crate::output::{self, count};

fn slice(args: &SliceArgs) -> anyhow::Result<Slice> {
    Ok(Slice {
        by: args
            .by
            .iter()
            .map(|b| b.trim().to_string())
            .filter(|b| !b.is_empty())
            .collect(),
        from: args
            .from
            .as_deref()
            .map(|d| date("--from", d))
            .transpose()?,
        to: args.to.as_deref().map(|d| date("--to", d)).transpose()?,
        filter: args.filter.clone(),
    })
}

async fn open(config: &Config) -> anyhow::Result<Sql> {
    Ok(Sql::open(&super::folder(config)?, &BTreeMap::new()).await?)
}

/// Prints the metric per group.
pub async fn run(config: &Config, args: MetricsArgs, json: bool) -> anyhow::Result<()> {
    let instrument = metrics::instrument(&args.metric)?;
    let slice = slice(&args.slice)?;
    let rows = metrics::metric(
        &open(config).await?,
        instrument,
        &slice,
        &Settings::default(),
    )
    .await?;
    if json {
        return output::json(&rows);
    }
    if rows.is_empty() {
        println!("no {} responses match", instrument.name());
        return Ok(());
    }
    let mut headers: Vec<&str> = slice.by.iter().map(String::as_str).collect();
    headers.extend(["n", instrument.name(), "95% interval", ""]);
    let numeric: Vec<bool> = slice
        .by
        .iter()
        .map(|_| false)
        .chain([true, true, true, false])
        .collect();
    let mut t = output::Table::new(&headers, &numeric);
    for MetricRow { group, estimate } in rows {
        let mut cells: Vec<String> = slice
            .by
            .iter()
            .map(|b| group[b].clone().unwrap_or_else(|| "NULL".into()))
            .collect();
        cells.extend(estimate_cells(&estimate));
        t.rows.push(cells);
    }
    t.print()
}

fn estimate_cells(e: &Estimate) -> [String; 4] {
    let interval = match (e.low, e.high) {
        (Some(l), Some(h)) => format!("{l:.1} – {h:.1}"),
        _ => "—".into(),
    };
    let flag = if e.small_sample { "small sample" } else { "" };
    [count(e.n), format!("{:.1}", e.value), interval, flag.into()]
}

/// Prints the two groups and their difference.
pub async fn compare(config: &Config, args: CompareArgs, json: bool) -> anyhow::Result<()> {
    let instrument = metrics::instrument(&args.metric)?;
    let base = slice(&args.slice)?;
    let c = metrics::compare(
        &open(config).await?,
        instrument,
        &args.a,
        &args.b,
        &base,
        &Settings::default(),
    )
    .await?;
    if json {
        return output::json(&c);
    }
    let mut t = output::Table::new(
        &["group", "n", instrument.name(), "95% interval", ""],
        &[false, true, true, true, false],
    );
    for (label, e) in [
        (format!("a: {}", args.a), &c.a),
        (format!("b: {}", args.b), &c.b),
    ] {
        let mut row = vec![label];
        row.extend(estimate_cells(e));
        t.rows.push(row);
    }
    t.print()?;
    let d = &c.difference;
    let interval = match (d.low, d.high) {
        (Some(l), Some(h)) => format!("{l:.1} to {h:.1}"),
        _ => "undefined".into(),
    };
    let p = d.p_value.map_or("—".into(), |p| format!("{p:.4}"));
    let verdict = match d.p_value {
        Some(p) if p < 0.05 => "a real difference at the 5% level",
        _ => "not distinguishable from no difference",
    };
    println!(
        "a − b = {:.1} (95% interval {interval}), p = {p}: {verdict}",
        d.value
    );
    Ok(())
}

/// Prints the satisfaction–loyalty link per group.
pub async fn link(config: &Config, args: LinkArgs, json: bool) -> anyhow::Result<()> {
    if args.defection != "window" {
        return Err(super::usage(format!(
            "--defection {}: only 'window' is available so far (P(alive)-based defection is not built yet)",
            args.defection
        )));
    }
    let instrument = metrics::instrument(&args.instrument)?;
    let sql = open(config).await?;
    let links = metrics::link(
        &sql,
        instrument,
        args.window_days,
        args.by.as_deref(),
        &Settings::default(),
    )
    .await?;
    if json {
        return output::json(&links);
    }
    let pct =
        |s: Option<&metrics::Share>| s.map_or("—".into(), |s| format!("{:.1}%", s.value * 100.0));
    let area = |e: Option<&Estimate>| e.map_or("—".into(), |e| format!("{:.3}", e.value));
    let mut t = output::Table::new(
        &[
            "group",
            "respondents",
            "defectors",
            "satisfied defectors",
            "95% interval",
            "AUC stated",
            "AUC behaviour",
        ],
        &[false, true, true, true, true, true, true],
    );
    for l in &links {
        let s = &l.satisfied_defector_share;
        let interval = match (s.low, s.high) {
            (Some(lo), Some(hi)) => format!("{:.1} – {:.1}%", lo * 100.0, hi * 100.0),
            _ => "—".into(),
        };
        t.rows.push(vec![
            l.group.clone().unwrap_or_else(|| "all".into()),
            count(l.respondents),
            count(l.defectors),
            pct(Some(s)),
            interval,
            area(l.auc_stated.as_ref()),
            area(l.auc_behaviour.as_ref()),
        ]);
    }
    t.print()
}
