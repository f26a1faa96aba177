//! The closed loop's evaluation: every enabled rule against the rows its source table
//! gained since the rule's watermark (the table version it evaluated last), the matches
//! routed to their touchpoint's owner, and the store opening the cases — at most one per
//! rule and event, the watermark moved in the same transaction. Run after imports, after
//! every ingestion commit in the server, and on demand (`cxray cases scan`); running it
//! again changes nothing. What following up changed: [`effect`]. Cases opened by hand
//! ([`open_by_hand`]) and the source event a case shows ([`source_event`]). The outer
//! loop: root causes counted and priced ([`cause_costs`]).

mod by_hand;
mod causes;
pub mod demo;
mod effect;
mod ingested;
mod matches;
mod routing;
mod source;
mod valuations;
mod valued;
mod windows;

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use cxray_core::cases::Trigger;
use cxray_core::domain::Table;
use cxray_store::Result;
use cxray_store::cases::{Candidate, Opened, Opening, Rule, RuleEvents};
use cxray_store::datafusion::prelude::Expr;
use cxray_store::ops::OpsDb;
use cxray_store::sql::Sql;
use serde::Serialize;

pub use by_hand::{ByHand, MAX_DETAIL_CHARS, Opener, open_by_hand};
pub use causes::{CauseCost, CauseCosts, cause_costs};
pub use effect::{
    EffectQuery, EffectReport, Group, MAX_WINDOW_DAYS, WindowEffect, check_windows, effect_report,
};
use ingested::Coverage;
pub use matches::{condition, matches};
use routing::Routing;
pub use routing::touchpoint_owners;
pub use source::{SourceEvent, source_event};

/// What a scan did for one rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleScan {
    pub rule: i64,
    pub name: String,
    /// The source table's version the rule is now evaluated to (for behaviour rules,
    /// `customer_value`'s).
    pub version: Option<u64>,
    #[serde(flatten)]
    pub opened: Opened,
}

/// Whether an enabled rule reads one of `tables`: a commit to them is worth a scan.
pub fn watched(ops: &OpsDb, tables: &[Table]) -> Result<bool> {
    let rules = ops.rules()?;
    Ok(rules
        .iter()
        .any(|r| r.enabled && r.trigger.table().is_some_and(|t| tables.contains(&t))))
}

/// Evaluates every enabled rule — on a source table's new rows, or (behaviour) on the
/// latest valuation against the one it read last — over the session (unrestricted, at
/// the tables' latest versions) and opens their cases on behalf of `actor` at `now`.
pub async fn scan(
    sql: &Sql,
    ops: &OpsDb,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<RuleScan>> {
    Scanner::default().scan(sql, ops, actor, now).await
}

/// A rule as a scan found it: its matches routed, how many matches of customers in its
/// cooldown were only counted, and the source table's version read to.
type Scanned = (Rule, Vec<Candidate>, usize, Option<u64>);

/// Scans kept between evaluations (the server's, after each ingestion commit): each
/// rule's condition is evaluated on the rows ingested from the scan on, and the customers
/// each rule covers are read once while they stay the same.
#[derive(Default)]
pub struct Scanner {
    coverage: Coverage,
}

impl Scanner {
    /// [`scan`], reading the matches the ingestion found where the session holds them,
    /// and having the rules' conditions evaluated on the rows ingested next.
    pub async fn scan(
        &mut self,
        sql: &Sql,
        ops: &OpsDb,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<RuleScan>> {
        let rules: Vec<_> = ops.rules()?.into_iter().filter(|r| r.enabled).collect();
        let mut watched: BTreeMap<Table, Vec<_>> = BTreeMap::new();
        let slas = ops.slas()?;
        let mut routing: Option<Routing> = None;
        let mut scanned = Vec::new();
        for rule in rules {
            let started = std::time::Instant::now();
            let cooling = ops.cooling_customers(&rule, now)?;
            let (found, skipped, version) = match (&rule.trigger, rule.trigger.table()) {
                (Trigger::Behaviour { p_alive_below }, _) => {
                    let (found, version) = valued::fell_below(sql, &rule, *p_alive_below).await?;
                    (found, 0, version)
                }
                (_, Some(table)) => {
                    let version = sql.versions().get(&table).copied();
                    let max_wait = rule
                        .trigger
                        .touchpoint()
                        .and_then(|tp| slas.get(tp))
                        .and_then(|s| s.max_wait_seconds);
                    let schema = sql.context().table(table.name()).await?.schema().clone();
                    let (found, skipped) = match condition(&rule, max_wait, schema.as_arrow())? {
                        Some(condition) => {
                            let conditions = watched.entry(table).or_default();
                            if !conditions.contains(&condition) {
                                conditions.push(condition.clone());
                            }
                            self.matches(sql, &rule, condition, &cooling).await?
                        }
                        None => (Vec::new(), 0),
                    };
                    (found, skipped, version)
                }
                (_, None) => continue,
            };
            let matched = started.elapsed();
            if routing.is_none() && !found.is_empty() {
                routing = Some(Routing::load(sql, ops).await?);
            }
            let candidates = match &routing {
                Some(routing) if !found.is_empty() => routing.route(sql, found).await?,
                _ => found,
            };
            tracing::debug!(
                rule = rule.id,
                matches = candidates.len(),
                matched_ms = matched.as_millis() as u64,
                ms = started.elapsed().as_millis() as u64,
                "rule evaluated"
            );
            scanned.push((rule, candidates, skipped, version));
        }
        let opened = open(ops, &scanned, routing.as_ref(), (actor, now))?;
        let out = scanned
            .into_iter()
            .zip(opened)
            .map(|((rule, _, _, version), opened)| RuleScan {
                rule: rule.id,
                name: rule.name,
                version,
                opened,
            })
            .collect();
        sql.watch(watched);
        Ok(out)
    }

    /// The rule's matches since its watermark: those the ingestion found where held,
    /// else the source table's new rows filtered.
    async fn matches(
        &mut self,
        sql: &Sql,
        rule: &Rule,
        condition: Expr,
        cooling: &HashSet<String>,
    ) -> Result<(Vec<Candidate>, usize)> {
        let found = ingested::matches(sql, rule, &condition, cooling, &mut self.coverage).await?;
        if let Some(found) = found {
            return Ok(found);
        }
        tracing::debug!(
            rule = rule.id,
            "rule's matches not found while ingesting: rows filtered"
        );
        let table = rule.trigger.table().expect("rules with a source table");
        match sql.added_since(table, rule.watermark).await? {
            Some(rows) => matches(sql, rule, rows, condition, cooling).await,
            None => Ok((Vec::new(), 0)),
        }
    }
}

/// Opens the rules' cases and moves their watermarks in one transaction; none when no
/// rule found anything since its watermark. What each rule's events did, in order.
fn open(
    ops: &OpsDb,
    scanned: &[Scanned],
    routing: Option<&Routing>,
    (actor, now): (&str, DateTime<Utc>),
) -> Result<Vec<Opened>> {
    let changed = |(rule, candidates, skipped, version): &Scanned| {
        !candidates.is_empty() || *skipped > 0 || *version != rule.watermark
    };
    let mut done = vec![Opened::default(); scanned.len()];
    if !scanned.iter().any(changed) {
        return Ok(done);
    }
    let (key, no_slas) = (ops.pseudonym_key()?, BTreeMap::new());
    let opening = Opening {
        actor,
        sla_hours: routing.map_or(&no_slas, |r| &r.sla_hours),
        key: &key,
        now,
    };
    let found: Vec<RuleEvents> = scanned
        .iter()
        .map(|(rule, candidates, _, watermark)| RuleEvents {
            rule,
            candidates,
            watermark: *watermark,
        })
        .collect();
    let opened = ops.open_cases_of(&opening, &found)?;
    for ((d, o), (_, _, skipped, _)) in done.iter_mut().zip(opened).zip(scanned) {
        *d = Opened {
            events: o.events + skipped,
            cooling_down: o.cooling_down + skipped,
            ..o
        };
    }
    Ok(done)
}
