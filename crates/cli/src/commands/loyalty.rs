//! `cxray loyalty`: customer-base models on the transactions.

use std::collections::BTreeMap;

use cxray_analysis::groups::Groups;
use cxray_analysis::loyalty::{self, FitReport, PredictOptions, Window};
use cxray_analysis::settings::ProductSettings;
use cxray_core::models::{FitOptions, ModelKind};
use cxray_store::sql::Sql;

use super::date;
use crate::args::{FitArgs, LoyaltyCommand, PredictArgs, RetentionArgs, ValidateArgs, WindowArgs};
use crate::config::Config;
use crate::output::{self, count};

/// Runs a loyalty subcommand.
pub async fn run(config: &Config, command: LoyaltyCommand, json: bool) -> anyhow::Result<()> {
    let folder = super::folder(config)?;
    let sql = Sql::open(&folder, &BTreeMap::new()).await?;
    match command {
        LoyaltyCommand::Fit(args) => fit(&sql, args, json).await,
        LoyaltyCommand::Predict(args) => predict(&folder, &sql, args, json).await,
        LoyaltyCommand::Validate(args) => validate(&sql, args, json).await,
        LoyaltyCommand::Retention(args) => retention(&sql, args, json).await,
    }
}

async fn window(
    sql: &Sql,
    args: &WindowArgs,
    holdout_end: Option<&str>,
) -> anyhow::Result<(Window, FitOptions)> {
    let calibration_end = match &args.calibration_end {
        Some(text) => date("--calibration-end", text)?,
        None => loyalty::last_purchase_date(sql).await?,
    };
    let holdout_end = holdout_end.map(|h| date("--holdout-end", h)).transpose()?;
    let opts = FitOptions {
        penalty: args.penalty,
        ..FitOptions::default()
    };
    Ok((
        Window {
            unit: args.unit.into(),
            calibration_end,
            holdout_end,
        },
        opts,
    ))
}

async fn fit(sql: &Sql, args: FitArgs, json: bool) -> anyhow::Result<()> {
    let (window, opts) = window(sql, &args.window, None).await?;
    let report = loyalty::fit(
        sql,
        args.model.into(),
        &window,
        args.survival.as_deref(),
        &opts,
    )
    .await?;
    if json {
        return output::json(&report);
    }
    print_fit(&report)
}

fn print_fit(r: &FitReport) -> anyhow::Result<()> {
    let f = &r.fit;
    println!(
        "{}: log-likelihood {:.2}, AIC {:.2}, {} customers in {} patterns, {} iterations, {}, {:.3} s",
        f.model.label(),
        f.log_likelihood,
        f.aic,
        count(f.n_customers.round() as u64),
        count(f.n_patterns as u64),
        f.iterations,
        if f.converged {
            "converged"
        } else {
            "NOT converged"
        },
        r.seconds
    );
    let mut t = output::Table::new(
        &["parameter", "estimate", "std error"],
        &[false, true, true],
    );
    for (name, value) in &f.params.0 {
        let se = f
            .std_errors
            .get(name)
            .map_or("—".into(), |s| format!("{s:.4}"));
        t.rows.push(vec![name.clone(), format!("{value:.4}"), se]);
    }
    t.print()
}

async fn predict(
    folder: &cxray_store::DataFolder,
    sql: &Sql,
    args: PredictArgs,
    json: bool,
) -> anyhow::Result<()> {
    let (window, fit) = window(sql, &args.window, None).await?;
    let opts = PredictOptions {
        model: args.model.into(),
        window,
        horizon: args.horizon,
        discount_rate: args.discount_rate,
        fit,
    };
    let report = loyalty::predict(folder, sql, &opts).await?;
    // The customers' values change the groups' partial totals: prepare them for the server
    // (which computes them itself if this fails).
    let groups = Groups::prepare(folder, &ProductSettings::default())
        .await
        .map_err(|e| tracing::warn!("partial totals of customer groups not prepared: {e}"))
        .ok();
    let opened = super::cases::after_predict(folder).await?;
    if json {
        return output::json(&report);
    }
    if let Some(n) = opened {
        let cases = if n == 1 { "case" } else { "cases" };
        println!("{n} follow-up {cases} opened (P(alive) fell)");
    }
    println!(
        "customer equity {:.2} ({} customers, {:.1} expected transactions over {} {}s, discount {}%/year)",
        report.customer_equity,
        count(report.customers),
        report.expected_transactions,
        report.horizon,
        window.unit.name(),
        report.discount_rate * 100.0
    );
    println!(
        "wrote customer_value version {} in {:.2} s; query it with cxray sql",
        report.version, report.seconds
    );
    if let Some(seconds) = groups {
        println!("partial totals of customer groups prepared in {seconds:.1} s");
    }
    print_fit(&report.transactions)?;
    print_fit(&report.spend)
}

async fn validate(sql: &Sql, args: ValidateArgs, json: bool) -> anyhow::Result<()> {
    let kinds: Vec<ModelKind> = args.model.iter().map(|&m| m.into()).collect();
    let (window, opts) = window(sql, &args.window, Some(&args.holdout_end)).await?;
    let v = loyalty::validate(sql, &kinds, &window, &opts).await?;
    if json {
        return output::json(&v);
    }
    let mut models = output::Table::new(
        &[
            "model",
            "log-lik",
            "AIC",
            "holdout actual",
            "holdout predicted",
        ],
        &[false, true, true, true, true],
    );
    for m in &v.models {
        models.rows.push(vec![
            m.fit.fit.model.label().into(),
            format!("{:.2}", m.fit.fit.log_likelihood),
            format!("{:.2}", m.fit.fit.aic),
            format!("{:.0}", m.holdout_actual),
            format!("{:.1}", m.holdout_predicted),
        ]);
    }
    models.print()?;
    for m in &v.models {
        println!(
            "\n{}: holdout transactions per customer by calibration frequency",
            m.fit.fit.model.label()
        );
        let mut t = output::Table::new(
            &["x", "customers", "actual", "predicted"],
            &[true, true, true, true],
        );
        for r in &m.by_frequency {
            t.rows.push(vec![
                r.x.to_string(),
                format!("{:.0}", r.customers),
                format!("{:.3}", r.actual),
                format!("{:.3}", r.predicted),
            ]);
        }
        t.print()?;
    }
    Ok(())
}

async fn retention(sql: &Sql, args: RetentionArgs, json: bool) -> anyhow::Result<()> {
    let rows = loyalty::retention(sql, args.by.into(), args.contractual).await?;
    if json {
        return output::json(&rows);
    }
    let mut t = output::Table::new(
        &["cohort", "period", "customers", "active", "share"],
        &[false, true, true, true, true],
    );
    for r in rows {
        t.rows.push(vec![
            r.cohort,
            r.period.to_string(),
            count(r.customers),
            count(r.active),
            format!("{:.1}%", r.share * 100.0),
        ]);
    }
    t.print()
}
