//! Rules: added, listed, disabled, and their watermarks.

use crate::db::{Conn, params};
use chrono::{DateTime, Utc};
use cxray_core::cases::{
    Comparison, CustomerCondition, Experience, HoldoutShare, ScoreCondition, Trigger,
    trigger::parse_instrument,
};
use cxray_core::domain::Table;

use super::{NewRule, Rule};
use crate::ops::{OpsDb, audit, bad_column, now_text, parse_column, parse_optional, stored};
use crate::{Result, StoreError};

/// The longest rule name, in characters.
const MAX_NAME_CHARS: usize = 80;

/// A trigger's columns: kind, instrument, comparison, score, touchpoint, experience,
/// P(alive) threshold.
type TriggerColumns<'a> = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<f64>,
    Option<&'a str>,
    Option<&'static str>,
    Option<f64>,
);

fn columns(t: &Trigger) -> TriggerColumns<'_> {
    let kind = t.kind().name();
    match t {
        Trigger::Survey {
            instrument,
            condition,
            touchpoint,
        } => (
            kind,
            Some(instrument.name()),
            Some(condition.comparison.name()),
            Some(condition.score),
            touchpoint.as_deref(),
            None,
            None,
        ),
        Trigger::Interaction {
            touchpoint,
            experience,
        } => (
            kind,
            None,
            None,
            None,
            Some(touchpoint),
            Some(experience.name()),
            None,
        ),
        Trigger::Behaviour { p_alive_below } => {
            (kind, None, None, None, None, None, Some(*p_alive_below))
        }
    }
}

/// The trigger of a stored row (columns `kind` … `p_alive_below` from 2).
fn trigger(r: &crate::db::Row) -> crate::db::DbResult<Trigger> {
    let kind: String = r.get(2)?;
    let touchpoint: Option<String> = r.get(6)?;
    let bad = |e: String| bad_column(r, 2, e);
    Ok(match kind.as_str() {
        "survey" => Trigger::Survey {
            instrument: parse_column(r, 3, parse_instrument)?,
            condition: ScoreCondition {
                comparison: parse_column(r, 4, str::parse::<Comparison>)?,
                score: r.get(5)?,
            },
            touchpoint,
        },
        "interaction" => Trigger::Interaction {
            touchpoint: touchpoint
                .ok_or_else(|| bad("an interaction rule without touchpoint".into()))?,
            experience: parse_column(r, 7, str::parse::<Experience>)?,
        },
        _ => Trigger::behaviour(r.get(8)?).map_err(|e| bad(e.to_string()))?,
    })
}

const SELECT: &str = "SELECT id, name, kind, instrument, comparison, score, touchpoint, experience,
        p_alive_below, customers, fallback_owner, cooldown_days, holdout_share, since, enabled,
        watermark, created_by, created_at, clv_percentile
     FROM case_rules";

fn rule(r: &crate::db::Row) -> crate::db::DbResult<Rule> {
    let trigger = trigger(r)?;
    Ok(Rule {
        id: r.get(0)?,
        name: r.get(1)?,
        label: trigger.label(),
        trigger,
        clv_percentile: r.get(18)?,
        customers: parse_column(r, 9, |t| {
            t.split('\n')
                .filter(|c| !c.is_empty())
                .map(str::parse::<CustomerCondition>)
                .collect::<std::result::Result<Vec<_>, _>>()
        })?,
        fallback_owner: r.get(10)?,
        cooldown_days: r.get(11)?,
        holdout: HoldoutShare::new(r.get(12)?).map_err(|e| bad_column(r, 12, e))?,
        since: parse_optional(r, 13, str::parse::<DateTime<Utc>>)?,
        enabled: r.get(14)?,
        watermark: r.get::<_, Option<i64>>(15)?.map(|v| v.max(0) as u64),
        created_by: r.get(16)?,
        created_at: r.get(17)?,
    })
}

/// Rules matching `filter` (SQL over `case_rules`), by id.
pub(super) fn rules_where(
    conn: &Conn,
    filter: &str,
    values: &[&dyn crate::db::ToValue],
) -> Result<Vec<Rule>> {
    let mut stmt = conn.prepare(&format!("{SELECT} WHERE {filter} ORDER BY id"))?;
    let rows = stmt.query_map(values, rule)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

impl OpsDb {
    /// Adds a rule, its name unique (ignoring case). Audited. Check it against the data
    /// first ([`super::check::rule`]).
    pub fn add_rule(&self, actor: &str, new: &NewRule) -> Result<Rule> {
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            let message = format!("a rule needs a name of 1 to {MAX_NAME_CHARS} characters");
            return Err(StoreError::invalid("name", message));
        }
        if self.rule(name).is_ok() {
            return Err(StoreError::invalid(
                "name",
                format!("there is a rule named '{name}' already"),
            ));
        }
        if let Some(p) = new.clv_percentile.filter(|p| !(*p > 0.0 && *p < 100.0)) {
            let message =
                format!("CLV percentile {p}: a percentile between 0 and 100, both excluded");
            return Err(StoreError::invalid("clv_percentile", message));
        }
        let (kind, instrument, comparison, score, touchpoint, experience, p_alive) =
            columns(&new.trigger);
        let customers: Vec<String> = new.customers.iter().map(ToString::to_string).collect();
        let tx = self.conn().write()?;
        let id = tx.insert(
            "INSERT INTO case_rules (name, kind, instrument, comparison, score, touchpoint,
                experience, p_alive_below, customers, fallback_owner, cooldown_days,
                holdout_share, since, watermark, created_by, created_at, clv_percentile)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17)",
            params![
                name,
                kind,
                instrument,
                comparison,
                score,
                touchpoint,
                experience,
                p_alive,
                customers.join("\n"),
                new.fallback_owner,
                new.cooldown_days,
                new.holdout.get(),
                new.since.map(stored),
                new.watermark.map(|v| v as i64),
                actor,
                now_text(),
                new.clv_percentile
            ],
        )?;

        let detail = format!("rule {id} '{name}': {}", new.trigger.label());
        audit(&tx, actor, "add_case_rule", &detail)?;
        tx.commit()?;
        self.rule(&id.to_string())
    }

    /// Every rule, by id.
    pub fn rules(&self) -> Result<Vec<Rule>> {
        rules_where(self.conn(), "1 = 1", params![])
    }

    /// The rule with this id or name (ignoring case).
    pub fn rule(&self, id_or_name: &str) -> Result<Rule> {
        let text = id_or_name.trim();
        let found = match text.parse::<i64>() {
            Ok(id) => rules_where(self.conn(), "id = ?1", params![id])?,
            Err(_) => rules_where(self.conn(), "name = ?1", params![text])?,
        };
        found.into_iter().next().ok_or_else(|| {
            let names: Vec<String> = self
                .rules()
                .map(|all| all.into_iter().map(|r| r.name).collect())
                .unwrap_or_default();
            let known = match names.is_empty() {
                true => "there are none".to_string(),
                false => format!("rules: {}", names.join(", ")),
            };
            StoreError::invalid("rule", format!("no rule '{text}' ({known})"))
        })
    }

    /// Disables a rule: it opens no more cases; its cases stay. Audited.
    pub fn disable_rule(&self, actor: &str, id_or_name: &str) -> Result<Rule> {
        let rule = self.rule(id_or_name)?;
        let tx = self.conn().write()?;
        tx.execute(
            "UPDATE case_rules SET enabled = 0 WHERE id = ?1",
            params![rule.id],
        )?;
        let detail = format!("rule {} '{}'", rule.id, rule.name);
        audit(&tx, actor, "disable_case_rule", &detail)?;
        tx.commit()?;
        self.rule(&rule.id.to_string())
    }

    /// Moves the watermarks of the rules on `table` that had evaluated it to `from` on to
    /// `to`: the commits between rewrote rows (an erasure), they appended none.
    pub fn pass_rewrite(&self, table: Table, from: u64, to: u64) -> Result<()> {
        for rule in self.rules()? {
            if rule.trigger.table() == Some(table) && rule.watermark == Some(from) {
                self.conn().execute(
                    "UPDATE case_rules SET watermark = ?2 WHERE id = ?1 AND watermark = ?3",
                    params![rule.id, to as i64, from as i64],
                )?;
            }
        }
        Ok(())
    }
}
