//! `cxray metrics` and `cxray compare`: survey metrics with intervals.

use cxray_analysis::metrics::{self, LinkOptions, MetricRow, Slice};
use cxray_analysis::settings::ProductSettings;
use cxray_core::stats::{Estimate, Instrument, Settings};

use super::link_text;

use super::{SLICE, date};
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

/// Prints the metric per group.
pub async fn run(config: &Config, args: MetricsArgs, json: bool) -> anyhow::Result<()> {
    let instrument: Instrument = args.metric.into();
    let slice = slice(&args.slice)?;
    let rows = metrics::metric(
        &super::sql::open(config, &args.slice.as_of).await?,
        instrument,
        &slice,
        &Settings::default(),
    )
    .await
    .map_err(|e| super::hint(e, SLICE))?;
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
    let instrument: Instrument = args.metric.into();
    let base = slice(&args.slice)?;
    let c = metrics::compare(
        &super::sql::open(config, &args.slice.as_of).await?,
        instrument,
        &args.a,
        &args.b,
        &base,
        &Settings::default(),
    )
    .await
    .map_err(|e| {
        super::hint(
            e,
            &[
                ("group a", "--a"),
                ("group b", "--b"),
                ("condition", "--where"),
            ],
        )
    })?;
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

/// Prints the satisfaction–loyalty link, overall and per group.
pub async fn link(config: &Config, args: LinkArgs, json: bool) -> anyhow::Result<()> {
    if !(0.0..=1.0).contains(&args.threshold) {
        return Err(super::usage(format!(
            "--threshold {}: a probability between 0 and 1",
            args.threshold
        )));
    }
    let settings = ProductSettings {
        defection: args.defection.into(),
        palive_threshold: args.threshold,
        window_days: args.window_days,
        instrument: args.instrument.into(),
        model: args.model.into(),
        ..ProductSettings::default()
    };
    let sql = super::sql::open(config, &args.as_of).await?;
    let opts = LinkOptions {
        by: args.by.clone(),
        ..settings.link_options(&sql)
    };
    let report = metrics::link(&sql, &opts).await.map_err(|e| {
        super::hint(
            e,
            &[("group by", "--by"), ("defection rule", "--defection")],
        )
    })?;
    if json {
        return output::json(&report);
    }
    link_text::print(&report)
}
