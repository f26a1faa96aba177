//! `cxray whatif`: what fewer bad experiences at touchpoints would keep a year, and the
//! fixes ranked by value (and by value per cost where a cost is given).

use std::collections::BTreeMap;

use cxray_analysis::initiatives::{Proposal, WhatIfs, costs, dropout_odds, reduction, what_ifs};
use cxray_analysis::journey::{self, DriverOutcome};
use cxray_core::drivers::Options;
use cxray_core::initiatives::WhatIf;
use cxray_core::stats::Estimate;
use cxray_core::text::{self, significant_with_interval};
use cxray_store::sql::Sql;

use crate::args::{JourneyArgs, WhatIfArgs};
use crate::config::Config;
use crate::output::{self, count};

/// Prices the proposed fixes and prints the shopping list.
pub async fn run(config: &Config, args: WhatIfArgs, json: bool) -> anyhow::Result<()> {
    let flags = [
        ("reduce_failures", "--reduce-failures"),
        ("touchpoint", "--touchpoint"),
        ("cost", "--cost"),
    ];
    let proposal = Proposal {
        reduction: reduction(&args.reduce_failures).map_err(|e| super::hint(e, &flags))?,
        touchpoints: args.touchpoints,
        costs: costs(args.costs.iter().map(String::as_str)).map_err(|e| super::hint(e, &flags))?,
    };
    let journey = JourneyArgs {
        window_days: args.window_days,
    };
    let opts = super::journey::options(config, &journey)?;
    let sql = Sql::open(&super::folder(config)?, &BTreeMap::new()).await?;
    // The dropout model's odds ratios of leaving, as `cxray drivers --outcome defection`.
    let options = Options::default();
    let drivers = journey::drivers(&sql, DriverOutcome::Defection, &opts, &options, None).await;
    let odds = drivers.map(|d| dropout_odds(&d)).unwrap_or_default();
    let priced = what_ifs(&sql, &opts, &proposal, &odds).await;
    let priced = priced.map_err(|e| super::hint(e, &flags))?;
    match json {
        true => output::json(&priced),
        false => print(&priced),
    }
}

fn print(w: &WhatIfs) -> anyhow::Result<()> {
    let unit = w.currency.as_deref().unwrap_or("");
    println!(
        "{}% fewer bad experiences (failures, waits over the service level); leaving within {} days of a trip; money a year{}",
        text::significant(w.reduction * 100.0, 3),
        w.window_days,
        match unit.is_empty() {
            true => String::new(),
            false => format!(" in {unit}"),
        }
    );
    table("by money kept a year", &w.list.by_value)?;
    if !w.list.by_value_per_cost.is_empty() {
        table("by money kept per unit of cost", &w.list.by_value_per_cost)?;
    }
    if !w.unadjusted.is_empty() {
        println!(
            "odds ratio unadjusted (the dropout model has no effect for them): {}",
            w.unadjusted.join(", ")
        );
    }
    for u in &w.unpriced {
        println!("not priced: {}: {}", u.touchpoint, u.reason);
    }
    Ok(())
}

fn with_interval(e: &Estimate) -> String {
    significant_with_interval(e.value, e.low, e.high, 3)
}

fn table(title: &str, fixes: &[WhatIf]) -> anyhow::Result<()> {
    println!("\n{title}");
    let mut t = output::Table::new(
        &[
            "touchpoint",
            "bad experiences avoided",
            "excess leaving per bad experience, pp",
            "customers kept",
            "money kept",
            "cost",
            "money per cost",
        ],
        &[false, true, true, true, true, true, true],
    );
    for f in fixes {
        let points = f.excess_dropout.scaled(100.0);
        t.rows.push(vec![
            f.name.clone(),
            count(f.avoided.round() as u64),
            with_interval(&points),
            with_interval(&f.customers_kept),
            text::money_with_interval(f.value.value, f.value.low, f.value.high),
            f.cost.map_or("—".into(), text::money),
            f.value_per_cost.as_ref().map_or("—".into(), with_interval),
        ]);
    }
    t.print()
}
