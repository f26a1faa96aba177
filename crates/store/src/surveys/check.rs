//! Surveys and invitation rules checked against the data: the touchpoints they name must
//! be in the interactions, the customer columns in customers (a refusal lists those that
//! are).

use cxray_core::domain::Table;
use cxray_core::surveys::{InvitationRule, Survey};

use crate::Result;
use crate::edits::known;
use crate::sql::Sql;

/// Fails (field `touchpoint`) unless the survey's touchpoint is in the interactions.
pub async fn survey(sql: &Sql, survey: &Survey) -> Result<()> {
    match &survey.touchpoint {
        Some(tp) => touchpoint(sql, tp).await,
        None => Ok(()),
    }
}

/// Fails (naming the field) unless the rule's touchpoint and customer column exist.
pub async fn rule(sql: &Sql, rule: &InvitationRule) -> Result<()> {
    touchpoint(sql, &rule.touchpoint).await?;
    let conditions: Vec<_> = rule.customers.iter().cloned().collect();
    crate::cases::check::customers(sql, &conditions).await
}

async fn touchpoint(sql: &Sql, tp: &str) -> Result<()> {
    let interactions = (Table::Interactions.name(), "touchpoint");
    known(sql, "touchpoint", interactions, tp).await
}
