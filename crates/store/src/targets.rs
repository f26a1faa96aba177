//! Targets for the headline metrics, per period, in the operational database.

use crate::db::params;
use cxray_core::targets::{Headline, Period};
use serde::Serialize;

use crate::ops::{OpsDb, audit, now_text, parse_column};
use crate::{Result, StoreError};

/// A metric's target for a period, and who set it when.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Target {
    pub metric: Headline,
    pub period: Period,
    pub value: f64,
    pub set_by: String,
    pub set_at: String,
}

impl OpsDb {
    /// Sets (replaces) a metric's target for a period, checked against the metric's
    /// range. Audited. (Only admins may, which the callers check.)
    pub fn set_target(
        &self,
        actor: &str,
        metric: Headline,
        period: &Period,
        value: f64,
    ) -> Result<()> {
        let value = metric
            .check(value)
            .map_err(|e| StoreError::invalid("value", e))?;
        let tx = self.conn().write()?;
        tx.execute(
            "INSERT INTO targets (metric, period, value, set_by, set_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (metric, period) DO UPDATE SET value = ?3, set_by = ?4, set_at = ?5",
            params![
                metric.name(),
                period.as_str(),
                value,
                actor,
                now_text()
            ],
        )?;
        audit(
            &tx,
            actor,
            "set_target",
            &format!("{metric} {period}: {value}"),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Removes a metric's target for a period. Audited.
    pub fn remove_target(&self, actor: &str, metric: Headline, period: &Period) -> Result<()> {
        let tx = self.conn().write()?;
        let removed = tx.execute(
            "DELETE FROM targets WHERE metric = ?1 AND period = ?2",
            params![metric.name(), period.as_str()],
        )?;
        if removed == 0 {
            let metric = metric.label();
            return Err(StoreError::Input(format!(
                "no {metric} target for {period}"
            )));
        }
        audit(&tx, actor, "remove_target", &format!("{metric} {period}"))?;
        tx.commit()?;
        Ok(())
    }

    /// Every target, by metric (in [`Headline::ALL`] order) and period.
    pub fn targets(&self) -> Result<Vec<Target>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT metric, period, value, set_by, set_at FROM targets")?;
        let rows = stmt.query_map([], |r| {
            Ok(Target {
                metric: parse_column(r, 0, str::parse::<Headline>)?,
                period: parse_column(r, 1, str::parse::<Period>)?,
                value: r.get(2)?,
                set_by: r.get(3)?,
                set_at: r.get(4)?,
            })
        })?;
        let mut targets: Vec<Target> = rows.collect::<Result<_, _>>()?;
        targets.sort_by(|a, b| (a.metric, &a.period).cmp(&(b.metric, &b.period)));
        Ok(targets)
    }
}

/// The tests, on each backend of the operational database.
#[cfg(test)]
mod tests {
    crate::on_each_backend!("targets/tests.rs");
}
