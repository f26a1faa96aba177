//! Initiatives on the web: listed, recorded and changed ([`api`], [`pages`]), one with its
//! measured effect and business case ([`detail`]), and proposed fixes priced before they
//! are made ([`whatif`]) — through the store's and the analysis layer's own checked and
//! audited operations. Admins and analysts record and change initiatives, executives
//! read them; owners and partners see only those scoped to touchpoints of their own.

pub mod api;
mod charts;
mod detail;
pub mod pages;
mod progress;
mod request;
mod whatif;

pub use progress::Progress;

use std::collections::BTreeSet;

use axum::Router;
use cxray_analysis::initiatives::{
    Outcome, Report, WhatIfs, check_scope, dropout_odds, report, what_ifs,
};
use cxray_analysis::journey::JourneyOptions;
use cxray_core::access::{Role, Scope};
use cxray_core::initiatives::{Estimator, Initiative, Request};
use cxray_store::initiatives::Recorded;
use cxray_store::sql::Sql;
use cxray_store::{Result, StoreError};

pub use request::{Change, EffectAsked, NewInitiative, WhatIfAsked};

use crate::AppState;
use crate::auth::{CurrentUser, Denied};

/// The initiative pages and API routes (behind [`crate::auth::require_read`]).
pub fn routes() -> Router<AppState> {
    pages::routes().merge(api::routes())
}

/// Why an initiative is not shown: not there for this user, or it could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Missing {
    #[error("no initiative {0} you may see")]
    NotFound(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Refuses (403) a user who may not record or change initiatives: executives, owners and
/// partners, and API tokens without the `initiatives` scope.
pub fn may_change(user: &CurrentUser) -> std::result::Result<(), Denied> {
    user.require_role(Role::can_record_initiatives)?;
    user.require_scope(Scope::Initiatives)
}

/// The touchpoints `user` owns in the latest journey, or `None` for roles that see every
/// owner.
fn own_touchpoints(state: &AppState, user: &CurrentUser) -> Option<BTreeSet<String>> {
    if user.role.sees_all_owners() {
        return None;
    }
    let latest = state.snapshots.latest();
    let journey = latest.as_ref().and_then(|s| s.journey.as_ref().ok());
    Some(journey.map_or_else(BTreeSet::new, |j| {
        j.touchpoints
            .iter()
            .filter(|t| crate::visible::sees(user, t.owner.as_deref()))
            .map(|t| t.touchpoint.clone())
            .collect()
    }))
}

/// Whether an initiative is for readers who own `own`: every initiative when they see
/// every owner, else one scoped to named touchpoints that are all theirs.
fn sees(i: &Initiative, own: Option<&BTreeSet<String>>) -> bool {
    own.is_none_or(|own| {
        let tps = &i.scope.touchpoints;
        !tps.is_empty() && tps.iter().all(|t| own.contains(t))
    })
}

/// The initiatives `user` may see, by name.
pub async fn list(state: &AppState, user: &CurrentUser) -> Result<Vec<Recorded>> {
    let own = own_touchpoints(state, user);
    let all = crate::ops(state, |ops| ops.recorded_initiatives()).await?;
    Ok(all
        .into_iter()
        .filter(|r| sees(&r.initiative, own.as_ref()))
        .collect())
}

/// Initiative `id`, unless `user` may not see it.
pub async fn find(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
) -> std::result::Result<Recorded, Missing> {
    let own = own_touchpoints(state, user);
    let found = crate::ops(state, move |ops| ops.initiative_by_id(id)).await?;
    found
        .filter(|r| sees(&r.initiative, own.as_ref()))
        .ok_or(Missing::NotFound(id))
}

/// Checks `i` (its fields checked already) against the data, then records it as `user`
/// (or replaces `replacing`, by name); the initiative as stored.
async fn save(
    state: &AppState,
    user: &CurrentUser,
    i: Initiative,
    replacing: Option<String>,
) -> Result<Recorded> {
    let sql = Sql::open(&state.folder, &Default::default()).await?;
    check_scope(&sql, &i).await?;
    let actor = user.actor();
    crate::ops(state, move |ops| {
        match &replacing {
            Some(name) => ops.update_initiative(&actor, name, &i)?,
            None => ops.add_initiative(&actor, &i)?,
        }
        ops.recorded_initiatives()?
            .into_iter()
            .find(|r| r.initiative.name.eq_ignore_ascii_case(&i.name))
            .ok_or_else(|| StoreError::Input(format!("initiative '{}' not stored", i.name)))
    })
    .await
}

/// Records a new initiative as `user` (who may change initiatives).
pub async fn add(state: &AppState, user: &CurrentUser, new: &NewInitiative) -> Result<Recorded> {
    save(state, user, new.initiative()?, None).await
}

/// Changes initiative `id` as `user`: its status, end, notes or costs.
pub async fn change(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    change: &Change,
) -> std::result::Result<Recorded, Missing> {
    let found = find(state, user, id).await?;
    let name = found.initiative.name.clone();
    let changed = change.apply(found.initiative)?;
    Ok(save(state, user, changed, Some(name)).await?)
}

/// The journey options of the product (window, service levels, placements).
async fn journey_options(state: &AppState) -> Result<JourneyOptions> {
    let settings = *state.snapshots.product();
    crate::ops(state, move |ops| JourneyOptions::of_product(ops, &settings)).await
}

/// Initiative `id` measured on the outcome asked for, with its business case.
pub async fn effect(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    asked: &EffectAsked,
) -> std::result::Result<Report, Missing> {
    let (outcome, estimator, years) = asked.checked()?;
    let found = find(state, user, id).await?;
    Ok(measure(state, &found.initiative, (outcome, estimator, years)).await?)
}

/// Measures `i` on `outcome` with `estimator` (chosen from the design when none), its
/// business case over `years`.
async fn measure(
    state: &AppState,
    i: &Initiative,
    (outcome, estimator, years): (Outcome, Option<Estimator>, f64),
) -> Result<Report> {
    let opts = journey_options(state).await?;
    let sql = Sql::open(&state.folder, &Default::default()).await?;
    let request = Request {
        estimator,
        stats: state.snapshots.product().stats,
        ..Request::default()
    };
    report(&sql, &opts, i, outcome, (&request, years)).await
}

/// The proposed fixes asked for, priced and ranked.
pub async fn what_if(state: &AppState, asked: &WhatIfAsked) -> Result<WhatIfs> {
    let proposal = asked.proposal()?;
    let opts = journey_options(state).await?;
    let sql = Sql::open(&state.folder, &Default::default()).await?;
    // The dropout model's odds ratios as the latest snapshot's drivers have them.
    let latest = state.snapshots.latest();
    let drivers = latest.as_ref().and_then(|s| s.drivers.as_ref().ok());
    let odds = drivers.map(|d| dropout_odds(d)).unwrap_or_default();
    what_ifs(&sql, &opts, &proposal, &odds).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_see_initiatives_on_their_own_touchpoints_only() {
        let scope = |tps: &[&str]| cxray_core::initiatives::Scope {
            touchpoints: tps.iter().map(|t| t.to_string()).collect(),
            column: "airport".into(),
            values: vec!["CPH".into()],
        };
        let i = |tps: &[&str]| Initiative::new("x", scope(tps), Default::default());
        let own: BTreeSet<String> = ["bag_drop".to_string()].into();
        assert!(sees(&i(&["bag_drop"]), Some(&own)));
        assert!(!sees(&i(&["bag_drop", "security"]), Some(&own)));
        assert!(!sees(&i(&[]), Some(&own)));
        assert!(sees(&i(&[]), None));
    }
}
