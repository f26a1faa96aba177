//! Follow-up cases on the web: the list with its filters and one case with its history
//! and source event, as pages ([`pages`]) and JSON ([`api`]), and the work on them,
//! through the store's own checked and audited operations. Owners and partners see and
//! work only their own owner's cases (any other is "not found"); partners see customers
//! by pseudonym.

pub mod api;
mod effect;
pub mod pages;

/// The case pages and API routes (reading routes: behind [`crate::auth::require_read`]).
pub fn routes() -> axum::Router<AppState> {
    pages::routes().merge(api::routes())
}

use chrono::Utc;
use cxray_analysis::cases::{ByHand, CauseCosts, Opener, SourceEvent, open_by_hand, source_event};
use cxray_core::access::{Role, Scope};
use cxray_core::cases::{CaseStatus, Outcome, OutcomeKind, RootCause};
use cxray_store::cases::{Case, CaseFilter, CaseUpdate, HistoryEntry, Rule, check};
use cxray_store::ops::OpsDb;
use cxray_store::{Result, StoreError};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::CurrentUser;

/// Cases on a page when the request does not say.
pub const PER_PAGE: usize = 50;
/// The most cases on one page.
pub const MAX_PER_PAGE: usize = 500;
/// The furthest page.
const MAX_PAGE: usize = 1_000_000;

/// The filters of the case list, as the query gives them (checked by [`CaseQuery::filter`]).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CaseQuery {
    pub owner: Option<String>,
    pub status: Option<String>,
    pub overdue: Option<String>,
    /// The rule's id or name.
    pub rule: Option<String>,
    pub root_cause: Option<String>,
    /// 1 for the newest cases.
    pub page: Option<String>,
    pub per_page: Option<String>,
}

/// A page of cases: the cases the user may see, and how many there are in all.
#[derive(Debug, Serialize)]
pub struct CaseList {
    pub cases: Vec<Case>,
    pub total: usize,
    pub page: usize,
    pub per_page: usize,
}

/// One case with what happened and what was done.
#[derive(Debug, Serialize)]
pub struct CaseDetail {
    pub case: Case,
    /// The rule's trigger for people.
    pub trigger: String,
    /// The answer or interaction the case was opened for (none when opened by hand or no
    /// longer in the data).
    pub source: Option<SourceEvent>,
    pub history: Vec<HistoryEntry>,
}

/// A query value that is empty counts as not given.
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl CaseQuery {
    /// The store's filter for `user`: owners and partners see only their owner's cases
    /// (asking for another owner's is refused as that owner not being there).
    fn filter(&self, user: &CurrentUser, ops: &OpsDb) -> Result<CaseFilter> {
        let status = given(&self.status)
            .map(str::parse::<CaseStatus>)
            .transpose()
            .map_err(|e| StoreError::invalid("status", e.to_string()))?;
        let root_cause = given(&self.root_cause)
            .map(str::parse::<RootCause>)
            .transpose()
            .map_err(|e| StoreError::invalid("root_cause", e.to_string()))?;
        let rule = given(&self.rule).map(|r| ops.rule(r)).transpose()?;
        let page = number(&self.page, "page", 1, MAX_PAGE)?.unwrap_or(1);
        let per_page = number(&self.per_page, "per_page", 1, MAX_PER_PAGE)?.unwrap_or(PER_PAGE);
        Ok(CaseFilter {
            owner: owner_filter(user, given(&self.owner))?,
            status,
            overdue: flag(&self.overdue, "overdue")?,
            rule: rule.map(|r| r.id),
            root_cause,
            limit: Some(per_page),
            offset: (page - 1).saturating_mul(per_page),
            with_root_cause: false,
        })
    }
}

/// The owner filter for `user`: theirs for owners and partners (another owner's asked
/// for is refused as unknown), else the one asked for.
fn owner_filter(user: &CurrentUser, asked: Option<&str>) -> Result<Option<String>> {
    if user.role.sees_all_owners() {
        return Ok(asked.map(str::to_string));
    }
    let own = user.owner_id.clone().unwrap_or_default();
    match asked {
        Some(o) if o != own => Err(StoreError::invalid(
            "owner",
            format!("no owner '{o}' you may see"),
        )),
        _ => Ok(Some(own)),
    }
}

/// A yes/no query value: `true`, `on`, `1` or `yes`; `false`, `0`, `no` or empty.
fn flag(v: &Option<String>, field: &'static str) -> Result<bool> {
    match given(v).map(str::to_ascii_lowercase).as_deref() {
        None | Some("false" | "0" | "no") => Ok(false),
        Some("true" | "on" | "1" | "yes") => Ok(true),
        Some(other) => Err(StoreError::invalid(
            field,
            format!("{field} '{other}': say true or false"),
        )),
    }
}

/// A whole number from `min` to `max`, if given.
fn number(
    v: &Option<String>,
    field: &'static str,
    min: usize,
    max: usize,
) -> Result<Option<usize>> {
    let Some(text) = given(v) else {
        return Ok(None);
    };
    match text.parse::<usize>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(StoreError::invalid(
            field,
            format!("{field} '{text}': a whole number from {min} to {max}"),
        )),
    }
}

/// The case as `user` may see it: partners see the customer's pseudonym.
fn shown(case: Case, user: &CurrentUser, key: &cxray_core::access::PseudonymKey) -> Case {
    Case {
        customer_id: user.role.customer_id(key, &case.customer_id),
        ..case
    }
}

/// The page of cases the query asks for, as `user` may see them.
pub async fn list(state: &AppState, user: &CurrentUser, q: CaseQuery) -> Result<CaseList> {
    let user = user.clone();
    crate::ops(state, move |ops| {
        let filter = q.filter(&user, ops)?;
        let now = Utc::now();
        let key = ops.pseudonym_key()?;
        let cases = ops.cases(&filter, now)?;
        let per_page = filter.limit.unwrap_or(PER_PAGE);
        Ok(CaseList {
            total: ops.count_cases(&filter, now)?,
            page: filter.offset / per_page + 1,
            per_page,
            cases: cases.into_iter().map(|c| shown(c, &user, &key)).collect(),
        })
    })
    .await
}

/// Why a case is not shown: it is not there for this user, or it could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Missing {
    #[error("no case {0} you may see")]
    NotFound(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Case `id` with its rule, unless `user` may not see it (another owner's case, for
/// owners and partners, is not found).
async fn find(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
) -> std::result::Result<(Case, Rule), Missing> {
    let found = crate::ops(state, move |ops| {
        let case = match ops.case(id, Utc::now()) {
            Ok(c) => c,
            Err(StoreError::Invalid { field: "case", .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let rule = ops.rule(&case.rule_id.to_string())?;
        Ok(Some((case, rule)))
    })
    .await?;
    match found {
        Some((case, rule)) if crate::visible::sees(user, case.owner.as_deref()) => Ok((case, rule)),
        _ => Err(Missing::NotFound(id)),
    }
}

/// Case `id` as `user` may see it, with its source event and history.
pub async fn detail(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
) -> std::result::Result<CaseDetail, Missing> {
    let (case, rule) = find(state, user, id).await?;
    let sql = cxray_store::sql::Sql::open(&state.folder, &Default::default()).await?;
    let source = source_event(&sql, &case, &rule).await?;
    let (history, key) = crate::ops(state, move |ops| {
        Ok((ops.case_history(id)?, ops.pseudonym_key()?))
    })
    .await?;
    Ok(CaseDetail {
        case: shown(case, user, &key),
        trigger: rule.label,
        source,
        history,
    })
}

/// A money amount as JSON sends it (a number) or a form (text).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Amount {
    Number(f64),
    Text(String),
}

/// Work on a case as a form or JSON sends it; empty or absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Work {
    pub status: Option<String>,
    pub assignee: Option<String>,
    pub owner: Option<String>,
    pub root_cause: Option<String>,
    pub outcome: Option<String>,
    pub amount: Option<Amount>,
    pub note: Option<String>,
}

impl Work {
    /// The store's update, each value checked (refusals name the field); the owner is
    /// checked against the data by [`work`].
    fn update(&self) -> Result<CaseUpdate> {
        let text = |v: &Option<String>| given(v).map(str::to_string);
        let outcome = given(&self.outcome)
            .map(str::parse::<OutcomeKind>)
            .transpose()
            .map_err(|e| StoreError::invalid("outcome", e.to_string()))?;
        let amount = match &self.amount {
            Some(Amount::Number(a)) => Some(*a),
            Some(Amount::Text(t)) if !t.trim().is_empty() => {
                Some(t.trim().parse::<f64>().map_err(|_| {
                    StoreError::invalid("amount", format!("amount '{t}': not a number"))
                })?)
            }
            _ => None,
        };
        let outcome = match (outcome, amount) {
            (Some(kind), amount) => Some(
                Outcome::new(kind, amount)
                    .map_err(|e| StoreError::invalid("amount", e.to_string()))?,
            ),
            (None, Some(_)) => {
                let message = "an amount belongs to an outcome: choose compensation";
                return Err(StoreError::invalid("amount", message));
            }
            (None, None) => None,
        };
        Ok(CaseUpdate {
            status: given(&self.status)
                .map(str::parse::<CaseStatus>)
                .transpose()
                .map_err(|e| StoreError::invalid("status", e.to_string()))?,
            assignee: text(&self.assignee),
            owner: text(&self.owner),
            root_cause: given(&self.root_cause)
                .map(str::parse::<RootCause>)
                .transpose()
                .map_err(|e| StoreError::invalid("root_cause", e.to_string()))?,
            outcome,
            note: text(&self.note),
        })
    }
}

/// Refuses (403) a user who may not work on cases: executives, and API tokens without
/// the `cases` scope.
pub fn may_work(user: &CurrentUser) -> std::result::Result<(), crate::auth::Denied> {
    user.require_role(Role::can_work_cases)?;
    user.require_scope(Scope::Cases)
}

/// Changes case `id` as `user` (checked, audited by the store) and returns it as they
/// may see it.
pub async fn work(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    work: &Work,
) -> std::result::Result<Case, Missing> {
    find(state, user, id).await?;
    let update = work.update()?;
    if let Some(o) = &update.owner {
        let sql = cxray_store::sql::Sql::open(&state.folder, &Default::default()).await?;
        check::owner(&sql, o).await?;
    }
    let actor = user.actor();
    let updated = crate::ops(state, move |ops| {
        let case = ops.update_case(&actor, id, &update, Utc::now())?;
        Ok((case, ops.pseudonym_key()?))
    })
    .await?;
    Ok(shown(updated.0, user, &updated.1))
}

/// Runs `f` with a session over the tables and the operational database. The database
/// is not shared between threads, so the whole of `f` runs on a blocking thread of its
/// own.
pub async fn with_ops<T, F, Fut>(state: &AppState, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(cxray_store::sql::Sql, OpsDb) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<T>>,
{
    let folder = state.folder.clone();
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        handle.block_on(async move {
            let sql = cxray_store::sql::Sql::open(&folder, &Default::default()).await?;
            let ops = folder.ops_db()?;
            f(sql, ops).await
        })
    })
    .await
    .map_err(|e| StoreError::Input(format!("operational database task: {e}")))?
}

/// Opens a case by hand as `user`: owners only for their own touchpoints; partners, who
/// know customers only by pseudonym, not at all (403).
pub async fn open(
    state: &AppState,
    user: &CurrentUser,
    new: &ByHand,
) -> std::result::Result<Case, Missing> {
    let new = new.clone();
    let actor = user.actor();
    let only_owner =
        (!user.role.sees_all_owners()).then(|| user.owner_id.clone().unwrap_or_default());
    let opened = with_ops(state, move |sql, ops| async move {
        let by = Opener {
            actor: &actor,
            only_owner: only_owner.as_deref(),
        };
        let case = open_by_hand(&sql, &ops, &new, by, Utc::now()).await?;
        Ok((case, ops.pseudonym_key()?))
    })
    .await?;
    Ok(shown(opened.0, user, &opened.1))
}

/// The root causes of the cases `user` may see, counted and priced (the outer loop).
pub async fn cause_costs(state: &AppState, user: &CurrentUser) -> Result<CauseCosts> {
    let owner = owner_filter(user, None)?;
    let cases = crate::ops(state, move |ops| {
        // Only the cases that name a root cause count; a programme's many others are not read.
        let filter = CaseFilter {
            owner,
            with_root_cause: true,
            ..CaseFilter::default()
        };
        ops.cases(&filter, Utc::now())
    })
    .await?;
    let sql = cxray_store::sql::Sql::open(&state.folder, &Default::default()).await?;
    cxray_analysis::cases::cause_costs(&sql, &cases).await
}
