//! The demo world's follow-up programme in the operational database: its rules added
//! before the simulation (their ids and the folder's key are what the simulation's holdout
//! draws use), and the cases it opened and worked recorded after it, so the case pages,
//! `cxray cases list` and `cxray cases effect` have content.

use chrono::{DateTime, Utc};
use cxray_core::cases::{
    CustomerCondition, Experience, HoldoutShare, Outcome, OutcomeKind, ScoreCondition, Trigger,
};
use cxray_core::stats::Instrument;
use cxray_core::world::Spec;
use cxray_core::world::followup::{FollowUpRule, holdout_key};
use cxray_core::world::records::CaseRow;
use cxray_store::cases::{Candidate, NewRule, Opened, Opening, PastCase, Rule};
use cxray_store::ops::OpsDb;
use cxray_store::sql::Sql;
use cxray_store::{Result, StoreError};

use super::routing::Routing;

/// Who the demo's rules and cases are by.
const ACTOR: &str = "demo";

/// Gives the folder the key of the world's seed and adds the world's rules (those it
/// has already, by name, are kept without the cases of the world they came from); returns
/// them in the world's order, none when the world runs no programme.
pub fn register(ops: &OpsDb, spec: &Spec, seed: u64) -> Result<Vec<Rule>> {
    let Some(programme) = &spec.followup else {
        return Ok(Vec::new());
    };
    ops.set_pseudonym_key(&holdout_key(seed))?;
    let mut rules = Vec::new();
    for r in &programme.rules {
        let rule = match ops.rule(&r.name) {
            Ok(rule) => {
                ops.clear_rule_cases(ACTOR, &rule)?;
                rule
            }
            Err(_) => ops.add_rule(ACTOR, &new_rule(r)?)?,
        };
        rules.push(rule);
    }
    Ok(rules)
}

fn new_rule(r: &FollowUpRule) -> Result<NewRule> {
    let bad = |e: cxray_core::cases::CaseError| StoreError::invalid("followup", e.to_string());
    let trigger = match (&r.failed_at, r.nps_at_most) {
        (Some(touchpoint), _) => Trigger::Interaction {
            touchpoint: touchpoint.clone(),
            experience: Experience::Failed,
        },
        (None, score) => Trigger::Survey {
            instrument: Instrument::Nps,
            condition: ScoreCondition::parse(
                Instrument::Nps,
                &format!("<={}", score.unwrap_or(6.0)),
            )
            .map_err(bad)?,
            touchpoint: None,
        },
    };
    Ok(NewRule {
        name: r.name.clone(),
        trigger,
        customers: (r.customers.iter())
            .map(|(column, value)| CustomerCondition {
                column: column.clone(),
                value: value.clone(),
            })
            .collect(),
        clv_percentile: None,
        fallback_owner: r.fallback_owner.clone(),
        cooldown_days: r.cooldown_days,
        holdout: HoldoutShare::new(r.holdout).map_err(bad)?,
        since: None,
        watermark: None,
    })
}

/// Records the simulated cases under their rules, in one transaction per rule, with the
/// rules' watermarks at the source tables' versions in `sql` (the demo's rows are
/// evaluated already: a scan opens nothing for them). Refused if a case's arm is not the
/// product's draw.
pub async fn record(
    sql: &Sql,
    ops: &OpsDb,
    rules: &[Rule],
    cases: &[CaseRow],
) -> Result<Vec<Opened>> {
    let routing = Routing::load(sql, ops).await?;
    let key = ops.pseudonym_key()?;
    let opening = Opening {
        actor: ACTOR,
        sla_hours: &routing.sla_hours,
        key: &key,
        now: Utc::now(),
    };
    let mut out = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let past: Vec<PastCase> = cases.iter().filter(|c| c.rule == i).map(past).collect();
        let version = rule
            .trigger
            .table()
            .and_then(|t| sql.versions().get(&t).copied());
        out.push(ops.record_past_cases(&opening, rule, &past, version)?);
    }
    Ok(out)
}

fn time(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

fn past(c: &CaseRow) -> PastCase {
    let outcome = c.outcome.map(|kind| Outcome {
        kind,
        amount: c.amount.filter(|_| kind == OutcomeKind::Compensation),
    });
    PastCase {
        event: Candidate {
            key: c.event_key.clone(),
            customer_id: c.customer_id.clone(),
            at: time(c.at),
            touchpoint: c.touchpoint.clone(),
            detail: c.detail.clone(),
            owner: c.owner.clone(),
        },
        arm: c.arm,
        contacted_at: c.contacted_at.map(time),
        done_at: c.done_at.map(time),
        outcome,
    }
}
