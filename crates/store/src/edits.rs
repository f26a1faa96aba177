//! Checks of journey-model edits against the data: the touchpoint an edit is for and the
//! owner it names must be in the event tables. (The values themselves are checked by
//! [`OpsDb::set_sla`](crate::ops::OpsDb::set_sla) and
//! [`OpsDb::set_placement`](crate::ops::OpsDb::set_placement).)

use crate::ops::Placement;
use crate::sql::Sql;
use crate::{Result, StoreError};

/// Fails (field `touchpoint`) unless `touchpoint` is in the interactions.
pub async fn check_touchpoint(sql: &Sql, touchpoint: &str) -> Result<()> {
    known(
        sql,
        "touchpoint",
        ("interactions", "touchpoint"),
        touchpoint,
    )
    .await
}

/// Fails (naming the field) unless the touchpoint is in the interactions and the owner (if
/// any) in the owners.
pub async fn check_placement(sql: &Sql, touchpoint: &str, p: &Placement) -> Result<()> {
    check_touchpoint(sql, touchpoint).await?;
    match &p.owner {
        Some(owner) => known(sql, "owner", ("owners", "owner_id"), owner).await,
        None => Ok(()),
    }
}

/// Fails with an error of `field` naming the known values unless `value` is in `column`
/// of `table`.
pub(crate) async fn known(
    sql: &Sql,
    field: &'static str,
    (table, column): (&str, &str),
    value: &str,
) -> Result<()> {
    let values = sql.distinct(table, column).await?;
    if values.iter().any(|v| v == value) {
        return Ok(());
    }
    let message = format!(
        "unknown {field} '{value}' ({field}s: {})",
        values.join(", ")
    );
    Err(StoreError::invalid(field, message))
}
