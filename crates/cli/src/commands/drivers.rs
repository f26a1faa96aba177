//! `cxray drivers`: what explains an outcome, with bootstrap intervals.

use cxray_analysis::drivers::drivers_sql;
use cxray_analysis::journey::{self, DriverGroup};
use cxray_core::drivers::{Model, Options};
use cxray_core::stats::Estimate;
use cxray_core::text::significant_with_interval;
use cxray_store::sql::Sql;

use crate::args::DriversArgs;
use crate::config::Config;
use crate::output::{self, count};

/// Runs the analysis on the query's result and prints it.
pub async fn run(config: &Config, args: DriversArgs, json: bool) -> anyhow::Result<()> {
    let options = Options {
        method: args.method.into(),
        model: if args.logistic {
            Model::Logistic
        } else {
            Model::Linear
        },
        resamples: args.resamples,
        seed: args.seed,
        ..Options::default()
    };
    let sql = Sql::open(&super::folder(config)?, &Default::default()).await?;
    let groups = match (&args.sql, args.outcome) {
        (Some(query), _) => vec![DriverGroup {
            group: None,
            constant: Vec::new(),
            analysis: drivers_sql(&sql, query, &options)
                .await
                .map_err(|e| super::hint(e, &[("the query", "--sql")]))?,
            dropout: None,
        }],
        (None, Some(outcome)) => {
            let journey = super::journey::options(config, &args.journey)?;
            let by = args.by.as_deref();
            journey::drivers(&sql, outcome.into(), &journey, &options, by)
                .await
                .map_err(|e| super::hint(e, super::BY))?
        }
        (None, None) => return Err(super::usage("give --sql or --outcome")),
    };
    match (&args.by, json) {
        (Some(by), true) => output::json(&serde_json::json!({"by": by, "groups": groups})),
        (None, true) => output::json(&groups[0]),
        (by, false) => groups.iter().try_for_each(|g| {
            if let (Some(by), Some(value)) = (by, &g.group) {
                println!("\n{by} = {value}");
            }
            print(g)
        }),
    }
}

fn figure(f: &Estimate, decimals: usize) -> String {
    output::with_interval(f.value, f.low, f.high, decimals)
}

/// A ratio or coefficient with its interval, three significant digits each, so a small
/// bound never reads as zero.
fn written(e: &Estimate) -> String {
    significant_with_interval(e.value, e.low, e.high, 3)
}

fn print(g: &DriverGroup) -> anyhow::Result<()> {
    let a = &g.analysis;
    let statistic = match a.model {
        Model::Linear => "R²",
        Model::Logistic => "McFadden pseudo-R²",
    };
    println!(
        "{} rows, {}, {}; {statistic} {}; {} resamples ({} failed)",
        count(a.n),
        a.model.label(),
        a.method.label(),
        figure(&a.r2, 3),
        a.resamples,
        a.failed_resamples
    );
    let effect = match a.model {
        Model::Linear => "coefficient",
        Model::Logistic => "odds ratio",
    };
    let mut columns = vec!["rank", "predictor", "weight", "share %", effect];
    if g.dropout.is_some() {
        columns.push("odds ratio of leaving");
    }
    let mut t = output::Table::new(&columns, &[true, false, true, true, true, true]);
    let mut drivers: Vec<_> = a.drivers.iter().collect();
    drivers.sort_by_key(|d| d.rank);
    for d in drivers {
        let share = d.share.scaled(100.0);
        let mut row = vec![
            d.rank.to_string(),
            d.name.clone(),
            written(&d.weight),
            figure(&share, 1),
            written(d.odds_ratio.as_ref().unwrap_or(&d.coefficient)),
        ];
        if g.dropout.is_some() {
            row.push(g.leaving(&d.name).map_or("—".into(), written));
        }
        t.rows.push(row);
    }
    t.print()?;
    if let Some(d) = &g.dropout {
        println!(
            "odds ratio of leaving: dropout model (MBG/NBD prior a {:.3}, b {:.3}; {} resamples, \
             {} failed); the other odds ratio is that of no purchase in the window",
            d.prior.a, d.prior.b, d.resamples, d.failed_resamples
        );
    }
    if !g.constant.is_empty() {
        println!("left out (do not vary here): {}", g.constant.join(", "));
    }
    Ok(())
}
