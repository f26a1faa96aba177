//! Rules and case changes checked against the data: the touchpoints, owners and customer
//! columns they name must exist (a refusal lists the ones that do), and a rule on waits
//! needs the touchpoint's service level.

use cxray_core::cases::Trigger;
use cxray_core::domain::Table;

use super::NewRule;
use crate::edits::known;
use std::collections::BTreeMap;

#[cfg(doc)]
use crate::ops::OpsDb;
use crate::ops::Sla;
use crate::sql::{Sql, typed};
use crate::{Result, StoreError};

/// Fails (naming the field) unless everything the rule names is in the data.
/// `slas` are the touchpoints' service levels ([`OpsDb::slas`]).
pub async fn rule(sql: &Sql, slas: &BTreeMap<String, Sla>, rule: &NewRule) -> Result<()> {
    if let (Some(table), Some(tp)) = (rule.trigger.table(), rule.trigger.touchpoint()) {
        known(sql, "touchpoint", (table.name(), "touchpoint"), tp).await?;
    }
    if let Trigger::Interaction {
        touchpoint,
        experience,
    } = &rule.trigger
    {
        let wait = slas.get(touchpoint).and_then(|s| s.max_wait_seconds);
        if experience.needs_sla() && wait.is_none() {
            let message = format!(
                "touchpoint '{touchpoint}' has no service level for waits: set its maximum \
                 wait first, or watch failures only"
            );
            return Err(StoreError::invalid("experience", message));
        }
    }
    if let Trigger::Behaviour { .. } = rule.trigger {
        let message = "rules on behaviour are not evaluated yet: watch survey answers or \
                       touchpoint experiences";
        return Err(StoreError::invalid("trigger", message));
    }
    if let Some(o) = &rule.fallback_owner {
        owner(sql, o).await?;
    }
    let customers = sql.context().table(Table::Customers.name()).await?;
    let schema = customers.schema().as_arrow();
    for c in &rule.customers {
        if schema.field_with_name(&c.column).is_err() {
            let columns: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            let message = format!(
                "customers have no column '{}' (columns: {})",
                c.column,
                columns.join(", ")
            );
            return Err(StoreError::invalid("customers", message));
        }
        typed(schema, &c.column, &c.value)
            .map_err(|e| StoreError::invalid("customers", e.to_string()))?;
    }
    Ok(())
}

/// Fails (field `owner`) unless the owner is in the owners, naming those that are.
pub async fn owner(sql: &Sql, owner: &str) -> Result<()> {
    known(sql, "owner", (Table::Owners.name(), "owner_id"), owner).await
}
