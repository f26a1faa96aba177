//! `cxray target`: targets for the headline metrics, per period.

use cxray_core::targets::Period;

use crate::args::TargetCommand;
use crate::config::Config;
use crate::output;

/// Sets or removes a target, then lists them all.
pub fn run(config: &Config, command: TargetCommand, json: bool) -> anyhow::Result<()> {
    let ops = super::users::open(config)?;
    let period = |p: &str| p.parse::<Period>().map_err(super::usage);
    match command {
        TargetCommand::Set {
            metric,
            period: p,
            value,
        } => ops.set_target(&super::actor(), metric, &period(&p)?, value)?,
        TargetCommand::Remove { metric, period: p } => {
            ops.remove_target(&super::actor(), metric, &period(&p)?)?
        }
        TargetCommand::List => {}
    }
    let targets = ops.targets()?;
    if json {
        return output::json(&targets);
    }
    let mut t = output::Table::new(
        &["metric", "period", "target", "set by", "at"],
        &[false, false, true, false, false],
    );
    for g in &targets {
        t.rows.push(vec![
            g.metric.to_string(),
            g.period.to_string(),
            g.value.to_string(),
            g.set_by.clone(),
            g.set_at.clone(),
        ]);
    }
    t.print()
}
