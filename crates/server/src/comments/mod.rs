//! What customers write, on the web (see `docs/text.md`): the comments' sentiment by
//! touchpoint and by month, the taxonomy's topics, the terms that distinguish two groups
//! and example comments — `analysis::comments` over the same data as the latest snapshot,
//! as JSON ([`api`]) and as the Comments page ([`pages`]), which the satisfaction–loyalty
//! page borrows from for what satisfied defectors wrote.
//!
//! The unfiltered analyses are started in the background when a snapshot is published
//! ([`warm`]); filtered ones on demand, cached ([`cache`]). Owners and partners read only
//! the comments on answers about their own touchpoints; partners see customers by
//! pseudonym. Comments are redacted by the pipeline (e-mail addresses, card and phone
//! numbers); no contact detail is ever read.
//!
//! The taxonomy is the data folder's `taxonomy.toml`, or the starter taxonomy
//! (`cxray text topics` prints it) when there is none.

pub mod api;
pub mod cache;
pub mod pages;
mod request;
mod small;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use cxray_analysis::board::Cadence;
use cxray_analysis::comments::{
    self, CommentScope, Compared, Example, ExampleFilter, Groups, SentimentReport, TermOptions,
    TermsReport, TopicsReport,
};
use cxray_analysis::settings::ProductSettings;
use cxray_analysis::snapshot::DataState;
use cxray_core::comments::{DiscoverSettings, Taxonomy};
use cxray_core::domain::Table;
use cxray_store::sql::Sql;
use cxray_store::{DataFolder, StoreError};

pub use cache::{Got, Texts};
pub use request::{Asked, By, EXAMPLES, Group, TOP};

use crate::AppState;
use crate::auth::CurrentUser;
use crate::filters::Filters;
use crate::snapshot::{Snapshot, Snapshots};

/// The page and API routes (behind [`crate::auth::require_read`]).
pub fn routes() -> Router<AppState> {
    pages::routes().merge(api::routes())
}

/// How long a request waits for an analysis before saying it is being computed.
const WAIT: Duration = Duration::from_secs(2);

/// Example comments of satisfied defectors on the satisfaction–loyalty page.
pub const LINK_EXAMPLES: usize = 5;

/// The analyses one Comments page asks for (the allowance per user is that many times
/// the views a user may have computing).
pub const ASKS_PER_PAGE: usize = 6;

/// The two groups whose terms are compared.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Comparison {
    Promoters,
    Defectors,
    SatisfiedDefectors,
    /// One touchpoint's comments against the rest.
    Touchpoint(String),
}

impl Comparison {
    /// The comparisons offered on the page (one touchpoint against the rest besides).
    pub const FIXED: [Comparison; 3] = [
        Comparison::Promoters,
        Comparison::Defectors,
        Comparison::SatisfiedDefectors,
    ];

    /// The groups as the analysis takes them, defection judged `window_days` after the
    /// answer.
    pub fn groups(&self, window_days: u32) -> Groups {
        match self {
            Comparison::Promoters => Groups::Answers(Compared::Promoters, window_days),
            Comparison::Defectors => Groups::Answers(Compared::Defectors, window_days),
            Comparison::SatisfiedDefectors => {
                Groups::Answers(Compared::SatisfiedDefectors, window_days)
            }
            Comparison::Touchpoint(t) => Groups::Touchpoint(t.clone()),
        }
    }

    /// The name the API takes (`compare=`).
    pub fn name(&self) -> &'static str {
        match self {
            Comparison::Promoters => "promoters",
            Comparison::Defectors => "defectors",
            Comparison::SatisfiedDefectors => "satisfied_defectors",
            Comparison::Touchpoint(_) => "touchpoint",
        }
    }

    /// The comparison's name for people.
    pub fn label(&self) -> String {
        match self {
            Comparison::Promoters => "Promoters against detractors".into(),
            Comparison::Defectors => "Defectors against stayers".into(),
            Comparison::SatisfiedDefectors => {
                "Satisfied defectors against satisfied stayers".into()
            }
            Comparison::Touchpoint(t) => format!("Touchpoint {t} against the others"),
        }
    }
}

/// One analysis of the comments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Ask {
    Sentiment(By),
    /// The taxonomy's topics, by period.
    Topics(Cadence),
    /// Topics among the comments the taxonomy misses.
    Discovered,
    Terms(Comparison, usize),
    Examples {
        group: Option<Group>,
        limit: usize,
    },
}

impl Ask {
    /// The comments the analysis reads of those a reader asks about: the topics compare
    /// the comments with a topic and those without, so a chosen topic narrows the others
    /// only.
    fn scope(&self, asked: &CommentScope) -> CommentScope {
        match self {
            Ask::Topics(_) | Ask::Discovered => CommentScope {
                topic: None,
                ..asked.clone()
            },
            _ => asked.clone(),
        }
    }
}

/// An analysis's result.
#[derive(Debug, Clone)]
pub enum Computed {
    Sentiment(SentimentReport),
    /// The taxonomy's topics, or (with discovered ones) what `Ask::Discovered` found.
    Topics(TopicsReport),
    Terms(TermsReport),
    /// Customer ids as they are in the data (pseudonymised when shown to partners).
    Examples(Vec<Example>),
    /// Withheld from the reader: fewer comments than the minimum group size ([`small`]).
    Withheld,
}

/// What the cache keys an analysis by: the data, the taxonomy's hash, the period and
/// customers, the comments read, the analysis.
pub type Key = (DataState, u64, Filters, CommentScope, Ask);

/// The taxonomy the topics are counted by, and the hash of its text.
#[derive(Clone)]
pub struct Topics {
    pub taxonomy: Arc<Taxonomy>,
    pub hash: u64,
    /// Whether it is the data folder's own (else the starter taxonomy).
    pub own: bool,
}

/// The data folder's `taxonomy.toml`, or the starter taxonomy; a bad file is bad input
/// naming its line and column.
pub fn topics(folder: &DataFolder) -> cxray_store::Result<Topics> {
    let (text, own) = cxray_store::taxonomy::read(folder)?;
    Ok(Topics {
        taxonomy: Arc::new(cxray_store::taxonomy::parse(&text)?),
        hash: {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            text.hash(&mut h);
            h.finish()
        },
        own,
    })
}

/// The comments a reader asks about, as of the latest snapshot.
pub struct View {
    pub snapshot: Arc<Snapshot>,
    pub filters: Filters,
    pub scope: CommentScope,
    /// The touchpoints the reader may choose.
    pub known: BTreeSet<String>,
    pub touchpoint: Option<String>,
}

/// The touchpoints of the latest journey `user` may see.
fn touchpoints(s: &Snapshot, user: &CurrentUser) -> BTreeSet<String> {
    let journey = s.journey.as_ref().ok();
    let all = journey.map_or(&[][..], |j| j.touchpoints.as_slice());
    all.iter()
        .filter(|t| crate::visible::sees(user, t.owner.as_deref()))
        .map(|t| t.touchpoint.clone())
        .collect()
}

/// The period, customers, touchpoint, band, topic and tone a request asks about, checked,
/// as `user` may see them: owners and partners only their own touchpoints' comments. None
/// until the first snapshot exists.
pub fn view(
    snapshots: &Snapshots,
    user: &CurrentUser,
    filters: Filters,
    asked: &Asked,
    topics: &Topics,
) -> cxray_store::Result<Option<View>> {
    let Some(snapshot) = snapshots.latest() else {
        return Ok(None);
    };
    let filters = checked_filters(filters, &snapshot)?;
    let known = touchpoints(&snapshot, user);
    let touchpoint = asked.touchpoint(&known)?;
    let touchpoints = match (&touchpoint, user.role.sees_all_owners()) {
        (Some(t), _) => Some(BTreeSet::from([t.clone()])),
        (None, true) => None,
        (None, false) => Some(known.clone()),
    };
    let scope = CommentScope {
        touchpoints,
        band: asked.band()?,
        topic: asked.topic(&topics.taxonomy)?,
        tone: asked.tone()?,
    };
    Ok(Some(View {
        snapshot,
        filters,
        scope,
        known,
        touchpoint,
    }))
}

/// The filters normalised and their attribute checked, a refusal naming the parameter.
fn checked_filters(filters: Filters, s: &Snapshot) -> cxray_store::Result<Filters> {
    let named = |message: String| {
        let field = ["from", "to", "attribute"]
            .into_iter()
            .find(|f| message.starts_with(&format!("{f} ")))
            .unwrap_or("value");
        StoreError::invalid(field, message)
    };
    let filters = filters.normalised().map_err(named)?;
    let mut columns = s.choices.attributes.clone();
    columns.extend(["segment".to_string(), "region".to_string()]);
    filters.check_attribute(&columns).map_err(named)?;
    Ok(filters)
}

/// The analysis `ask` of the view's comments: computed once, cached; for `user` within
/// their allowance, `None` for the background's own.
pub async fn analysis(
    snapshots: &Snapshots,
    folder: &DataFolder,
    view: &View,
    ask: Ask,
    topics: &Topics,
    user: Option<i64>,
    wait: Duration,
) -> Got {
    let state: DataState = (view.snapshot.versions.clone(), view.snapshot.last_change);
    let scope = ask.scope(&view.scope);
    let key = (
        state.clone(),
        topics.hash,
        view.filters.clone(),
        scope.clone(),
        ask.clone(),
    );
    let job = compute(
        folder.clone(),
        state,
        (view.filters.clone(), scope),
        ask,
        topics.taxonomy.clone(),
        *snapshots.product(),
    );
    snapshots
        .texts
        .get(snapshots.runtime(), key, user, job, wait)
        .await
}

/// The analysis for a request by `user` (waiting a moment for it), its groups of fewer
/// comments than the minimum group size withheld from roles that do not see small groups.
pub async fn asked(
    state: &AppState,
    user: &CurrentUser,
    view: &View,
    topics: &Topics,
    ask: Ask,
) -> Got {
    let snapshots = &state.snapshots;
    let got = analysis(
        snapshots,
        &state.folder,
        view,
        ask,
        topics,
        Some(user.id),
        WAIT,
    )
    .await;
    match got {
        Got::Done(Ok(c)) if !user.role.sees_small_groups() => {
            Got::Done(Ok(Arc::new(small::withheld(&c, state.min_group_size))))
        }
        other => other,
    }
}

/// The event tables at the versions the snapshot read.
fn pinned(versions: &BTreeMap<String, u64>) -> BTreeMap<Table, u64> {
    Table::ALL
        .into_iter()
        .filter_map(|t| Some((t, *versions.get(t.name())?)))
        .collect()
}

/// Runs one analysis over the tables as of `state`, narrowed to the filters' period and
/// customers and to the scope's comments.
async fn compute(
    folder: DataFolder,
    state: DataState,
    (filters, scope): (Filters, CommentScope),
    ask: Ask,
    taxonomy: Arc<Taxonomy>,
    settings: ProductSettings,
) -> cache::Outcome {
    let run = async {
        let mut sql = Sql::open(&folder, &pinned(&state.0)).await?;
        if !filters.is_empty() {
            sql.restrict(filters.restriction()).await?;
        }
        let narrowed = comments::narrowed(&sql, &scope, &taxonomy).await?;
        let sql = narrowed.as_ref().unwrap_or(&sql);
        let (s, window) = (&settings.stats, settings.window_days);
        Ok::<_, StoreError>(match ask {
            Ask::Sentiment(by) => {
                Computed::Sentiment(comments::sentiment(sql, Some(by.name()), s).await?)
            }
            Ask::Topics(cadence) => {
                Computed::Topics(comments::topics(sql, &taxonomy, None, cadence, s).await?)
            }
            Ask::Discovered => {
                let discover = DiscoverSettings::default();
                let month = Cadence::Month;
                Computed::Topics(comments::topics(sql, &taxonomy, Some(&discover), month, s).await?)
            }
            Ask::Terms(compared, top) => {
                let options = TermOptions {
                    top,
                    ..TermOptions::default()
                };
                let groups = compared.groups(window);
                Computed::Terms(comments::terms(sql, &groups, options).await?)
            }
            Ask::Examples { group, limit } => {
                let groups = group
                    .as_ref()
                    .map(|g| (g.comparison.groups(window), g.side()));
                let filter = ExampleFilter {
                    taxonomy: &taxonomy,
                    group: groups.as_ref().map(|(g, side)| (g, *side)),
                    limit,
                };
                Computed::Examples(comments::examples(sql, &filter).await?)
            }
        })
    };
    let started = std::time::Instant::now();
    let done = run.await;
    tracing::debug!(
        seconds = started.elapsed().as_secs_f64(),
        "comment analysis"
    );
    done.map(Arc::new).map_err(Into::into)
}

/// The analyses every reader of all comments starts with, for a snapshot: sentiment by
/// touchpoint and by month, the topics by month and those discovered, promoters' and
/// satisfied defectors' terms, the latest examples and satisfied defectors' (the
/// satisfaction–loyalty page's).
pub fn unfiltered() -> Vec<Ask> {
    let examples = |group: Option<Group>, limit| Ask::Examples { group, limit };
    let satisfied_defectors = Group {
        comparison: Comparison::SatisfiedDefectors,
        first: true,
    };
    vec![
        Ask::Sentiment(By::Touchpoint),
        Ask::Sentiment(By::Month),
        Ask::Topics(Cadence::Month),
        Ask::Discovered,
        Ask::Terms(Comparison::Promoters, TOP),
        Ask::Terms(Comparison::SatisfiedDefectors, TOP),
        examples(None, EXAMPLES),
        examples(Some(satisfied_defectors), LINK_EXAMPLES),
    ]
}

/// Starts the unfiltered analyses of snapshot `s` in the background (not waiting for
/// them).
pub async fn warm(snapshots: &Snapshots, folder: &DataFolder, s: Arc<Snapshot>) {
    let topics = match topics(folder) {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!("comments: {e}");
            return;
        }
    };
    let view = View {
        snapshot: s,
        filters: Filters::default(),
        scope: CommentScope::default(),
        known: BTreeSet::new(),
        touchpoint: None,
    };
    for ask in unfiltered() {
        let got = analysis(snapshots, folder, &view, ask, &topics, None, Duration::ZERO);
        got.await;
    }
}

/// The examples as `user` may see them: partners see customers by pseudonym.
pub async fn shown(
    state: &AppState,
    user: &CurrentUser,
    examples: &[Example],
) -> cxray_store::Result<Vec<Example>> {
    let mut out = examples.to_vec();
    if user.role.sees_customer_ids() {
        return Ok(out);
    }
    let key = crate::ops(state, |ops| ops.pseudonym_key()).await?;
    for e in &mut out {
        e.customer_id = user.role.customer_id(&key, &e.customer_id);
    }
    Ok(out)
}
