//! A case opened by hand for a customer (and a touchpoint) under a rule: checked against
//! the data, routed as a scan routes the rule's events, drawn into an arm by the same
//! keyed hash (so the rule's comparison stays randomised) and opened by the store, with
//! the rule's cooldown.

use chrono::{DateTime, Utc};
use cxray_core::cases::event_key;
use cxray_core::domain::Table;
use cxray_store::cases::{Candidate, Case, Opening};
use cxray_store::datafusion::functions_aggregate::expr_fn::count;
use cxray_store::datafusion::prelude::{col, lit};
use cxray_store::decode::Columns;
use cxray_store::edits::check_touchpoint;
use cxray_store::ops::OpsDb;
use cxray_store::sql::Sql;
use cxray_store::{Result, StoreError};

use super::routing::Routing;

/// The longest description of a case opened by hand, in characters.
pub const MAX_DETAIL_CHARS: usize = 500;

/// A case to open by hand.
#[derive(Debug, Clone, PartialEq)]
pub struct ByHand {
    /// The rule (id or name) the case counts under.
    pub rule: String,
    pub customer_id: String,
    pub touchpoint: Option<String>,
    /// What happened, in the opener's words.
    pub detail: String,
}

/// Who opens it: the actor, and for owners and partners the one owner the case may go to.
#[derive(Debug, Clone, Copy)]
pub struct Opener<'a> {
    pub actor: &'a str,
    pub only_owner: Option<&'a str>,
}

/// Opens the case and returns it; bad input (an unknown or disabled rule, customer or
/// touchpoint, an empty or long description, a case that would go to another owner than
/// `only_owner`, a customer within the rule's cooldown) is refused naming the field, and
/// nothing is opened.
pub async fn open_by_hand(
    sql: &Sql,
    ops: &OpsDb,
    new: &ByHand,
    by: Opener<'_>,
    now: DateTime<Utc>,
) -> Result<Case> {
    let rule = ops.rule(&new.rule)?;
    if !rule.enabled {
        let message = format!("rule '{}' is disabled: it opens no cases", rule.name);
        return Err(StoreError::invalid("rule", message));
    }
    let detail = new.detail.trim();
    if detail.is_empty() || detail.chars().count() > MAX_DETAIL_CHARS {
        let message = format!("say what happened in 1 to {MAX_DETAIL_CHARS} characters");
        return Err(StoreError::invalid("detail", message));
    }
    check_customer(sql, &new.customer_id).await?;
    if let Some(tp) = &new.touchpoint {
        check_touchpoint(sql, tp).await?;
    }
    let routing = Routing::load(sql, ops).await?;
    let micros = now.timestamp_micros().to_string();
    let fields = [
        "by hand",
        by.actor,
        &new.customer_id,
        new.touchpoint.as_deref().unwrap_or(""),
        &micros,
    ];
    let candidate = Candidate {
        key: event_key(Table::Customers, &fields),
        customer_id: new.customer_id.clone(),
        at: now,
        touchpoint: new.touchpoint.clone(),
        detail: format!("opened by hand: {detail}"),
        owner: None,
    };
    let routed = routing.route(sql, vec![candidate]).await?.remove(0);
    let owner = routed.owner.as_ref().or(rule.fallback_owner.as_ref());
    if let Some(mine) = by.only_owner
        && owner.map(String::as_str) != Some(mine)
    {
        let to = owner.map_or("no owner".into(), |o| format!("owner '{o}'"));
        let message = format!("a case at this touchpoint goes to {to}, not to yours");
        return Err(StoreError::invalid("touchpoint", message));
    }
    let opening = Opening {
        actor: by.actor,
        sla_hours: &routing.sla_hours,
        key: &ops.pseudonym_key()?,
        now,
    };
    let opened = ops.open_cases(&opening, &rule, std::slice::from_ref(&routed), None)?;
    if opened.cooling_down > 0 {
        let message = format!(
            "the customer had a case from rule '{}' within its cooldown of {} days",
            rule.name, rule.cooldown_days
        );
        return Err(StoreError::invalid("customer_id", message));
    }
    ops.case_of_event(rule.id, &routed.key, now)?
        .ok_or_else(|| StoreError::invalid("rule", format!("rule '{}' was disabled", rule.name)))
}

/// Fails (field `customer_id`) unless the customer is in the customers table.
async fn check_customer(sql: &Sql, customer: &str) -> Result<()> {
    let df = sql
        .context()
        .table(Table::Customers.name())
        .await?
        .filter(col("customer_id").eq(lit(customer)))?
        .aggregate(vec![], vec![count(lit(1)).alias("n")])?;
    let mut n = 0;
    for b in df.collect().await? {
        let c = Columns::new(&b);
        let counts = c.int("n")?;
        n += (0..c.rows()).map(|r| counts.count(r)).sum::<u64>();
    }
    match n {
        0 => Err(StoreError::invalid(
            "customer_id",
            format!("no customer '{customer}'"),
        )),
        _ => Ok(()),
    }
}
