//! What the forms offer to choose from: the touchpoints and the owners.

use cxray_analysis::journey::Journey;
use cxray_store::StoreError;
use cxray_store::sql::Sql;

use crate::AppState;

/// The touchpoints to choose from: the latest journey map's, else the interactions'.
pub async fn touchpoints(state: &AppState) -> Vec<String> {
    let mapped = |j: &Journey| j.touchpoints.iter().map(|t| t.touchpoint.clone()).collect();
    known(state, mapped, ("interactions", "touchpoint")).await
}

/// The owners to suggest: the latest journey map's, else the owners table's.
pub async fn owners(state: &AppState) -> Vec<String> {
    let mapped = |j: &Journey| j.owners.iter().map(|o| o.owner.clone()).collect();
    known(state, mapped, ("owners", "owner_id")).await
}

/// Values to choose from, sorted: from the latest analyses' journey map (so a page does
/// not scan a table), else `column` of `table`; none when neither can be read.
async fn known(
    state: &AppState,
    from_map: impl Fn(&Journey) -> Vec<String>,
    (table, column): (&str, &str),
) -> Vec<String> {
    let latest = state.snapshots.latest();
    let mut values = match latest.as_ref().and_then(|s| s.journey.as_ref().ok()) {
        Some(j) => from_map(j),
        None => match sql(state).await {
            Ok(sql) => sql.distinct(table, column).await.unwrap_or_default(),
            Err(_) => Vec::new(),
        },
    };
    values.sort();
    values
}

/// A session over the event tables, to check edits against the data.
pub async fn sql(state: &AppState) -> Result<Sql, StoreError> {
    Sql::open(&state.folder, &Default::default()).await
}
