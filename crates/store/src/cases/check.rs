//! Rules and case changes checked against the data: the touchpoints, owners and customer
//! columns they name must exist (a refusal lists the ones that do), a rule on waits
//! needs the touchpoint's service level, and one on behaviour or CLV valued customers.

use cxray_core::cases::{CustomerCondition, Trigger};
use cxray_core::domain::Table;

use super::NewRule;
use crate::edits::known;
use std::collections::BTreeMap;

#[cfg(doc)]
use crate::ops::OpsDb;
use crate::ops::Sla;
use crate::sql::{Sql, typed};
use crate::tables::CUSTOMER_VALUE;
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
    let behaviour = matches!(rule.trigger, Trigger::Behaviour { .. });
    if behaviour && rule.fallback_owner.is_none() {
        let message = "a rule on behaviour watches no touchpoint: name the owner of its cases";
        return Err(StoreError::invalid("owner", message));
    }
    if (behaviour || rule.clv_percentile.is_some()) && !valued(sql).await? {
        let message = "customers are not valued yet: run `cxray loyalty predict` first";
        let field = if behaviour {
            "trigger"
        } else {
            "clv_percentile"
        };
        return Err(StoreError::invalid(field, message));
    }
    if let Some(o) = &rule.fallback_owner {
        owner(sql, o).await?;
    }
    customers(sql, &rule.customers).await
}

/// Fails (field `customers`) unless every condition names a column of customers and a
/// value of its type.
pub async fn customers(sql: &Sql, conditions: &[CustomerCondition]) -> Result<()> {
    let customers = sql.context().table(Table::Customers.name()).await?;
    let schema = customers.schema().as_arrow();
    for c in conditions {
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

/// Whether `customer_value` holds a valuation.
async fn valued(sql: &Sql) -> Result<bool> {
    Ok(!sql.derived_history(CUSTOMER_VALUE).await?.is_empty())
}

/// Fails (field `owner`) unless the owner is in the owners, naming those that are.
pub async fn owner(sql: &Sql, owner: &str) -> Result<()> {
    known(sql, "owner", (Table::Owners.name(), "owner_id"), owner).await
}
