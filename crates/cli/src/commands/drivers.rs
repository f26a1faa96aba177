//! `cxray drivers`: what explains an outcome, with bootstrap intervals.

use cxray_core::drivers::{Analysis, Figure, Method, Model, Options};
use cxray_store::drivers::drivers_sql;
use cxray_store::journey::{self, DriverOutcome};
use cxray_store::sql::Sql;

use crate::args::DriversArgs;
use crate::config::Config;
use crate::output::{self, count};

/// Runs the analysis on the query's result and prints it.
pub async fn run(config: &Config, args: DriversArgs, json: bool) -> anyhow::Result<()> {
    let method = match args.method.as_str() {
        "auto" => Method::Auto,
        "shapley" | "dominance" => Method::Shapley,
        "relative-weights" => Method::RelativeWeights,
        other => {
            return Err(super::usage(format!(
                "--method {other}: expected auto, shapley or relative-weights"
            )));
        }
    };
    let options = Options {
        method,
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
    let analysis = match (&args.sql, args.outcome.as_deref()) {
        (Some(query), _) => drivers_sql(&sql, query, &options).await?,
        (None, Some(outcome)) => {
            let outcome = match outcome {
                "defection" => DriverOutcome::Defection,
                "spend" => DriverOutcome::Spend,
                other => {
                    return Err(super::usage(format!(
                        "--outcome {other}: expected defection or spend"
                    )));
                }
            };
            let journey = super::journey::options(config, &args.journey)?;
            journey::drivers(&sql, outcome, &journey, &options).await?
        }
        (None, None) => return Err(super::usage("give --sql or --outcome")),
    };
    if json {
        return output::json(&analysis);
    }
    print(&analysis)
}

fn figure(f: &Figure, decimals: usize) -> String {
    output::with_interval(f.value, f.low, f.high, decimals)
}

fn print(a: &Analysis) -> anyhow::Result<()> {
    let statistic = match a.model {
        Model::Linear => "R²",
        Model::Logistic => "McFadden pseudo-R²",
    };
    println!(
        "{} rows, {:?} model, {:?}; {statistic} {}; {} resamples ({} failed)",
        count(a.n),
        a.model,
        a.method,
        figure(&a.r2, 3),
        a.resamples,
        a.failed_resamples
    );
    let effect = match a.model {
        Model::Linear => "coefficient",
        Model::Logistic => "odds ratio",
    };
    let mut t = output::Table::new(
        &["rank", "predictor", "weight", "share %", effect],
        &[true, false, true, true, true],
    );
    let mut drivers: Vec<_> = a.drivers.iter().collect();
    drivers.sort_by_key(|d| d.rank);
    for d in drivers {
        let share = Figure {
            value: d.share.value * 100.0,
            low: d.share.low.map(|v| v * 100.0),
            high: d.share.high.map(|v| v * 100.0),
        };
        t.rows.push(vec![
            d.rank.to_string(),
            d.name.clone(),
            figure(&d.weight, 3),
            figure(&share, 1),
            figure(d.odds_ratio.as_ref().unwrap_or(&d.coefficient), 3),
        ]);
    }
    t.print()
}
