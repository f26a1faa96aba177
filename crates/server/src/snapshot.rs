//! The analyses behind the pages and the API, computed in the background once per state
//! of the data (table versions and operational changes) and shared by every request, so
//! a page only formats what is already known.
//!
//! Filtered views (a population or a period) are computed on demand, one page's part at
//! a time, on a runtime of their own so that requests for cached pages never wait for
//! them: the first request for a view computes it and later ones for the same view wait
//! for that result (single flight); other views are not held up. Each user may have a
//! few views computing at once, a few run at a time overall, and the computed views are
//! kept up to a memory budget, least recently used dropped first. Stopping the server
//! stops the runtime, so running analyses are abandoned at once.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use cxray_analysis::groups::{self, Groups};
use cxray_analysis::settings::ProductSettings;
use cxray_analysis::snapshot::{DataState, compute, data_state, from_groups};
pub use cxray_analysis::snapshot::{Part, PartError, Snapshot};
use cxray_store::sql::Sql;
use cxray_store::{DataFolder, Result, StoreError};
use tokio::sync::{OnceCell, Semaphore};

use crate::filters::Filters;

/// How the analyses are run: the product settings, and how much work filtered views may
/// cost.
#[derive(Debug, Clone, Copy)]
pub struct AnalysisSettings {
    pub product: ProductSettings,
    /// Filtered views one user may have computing at once.
    pub views_per_user: usize,
    /// Filtered views computed at once (more wait their turn).
    pub views_at_once: usize,
    /// Memory kept for computed filtered views (their size as JSON).
    pub views_bytes: usize,
}

impl Default for AnalysisSettings {
    fn default() -> Self {
        AnalysisSettings {
            product: ProductSettings::default(),
            views_per_user: 2,
            views_at_once: 2,
            views_bytes: 64 << 20,
        }
    }
}

/// Why a filtered view is not there.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    /// The filters are wrong.
    #[error("{0}")]
    Input(String),
    /// The user has as many views computing as allowed.
    #[error("you have {0} filtered views being computed; wait for them and try again")]
    Busy(usize),
    /// The server is stopping.
    #[error("the server is stopping")]
    Stopped,
    /// The analyses failed.
    #[error("{0}")]
    Failed(PartError),
}

impl From<StoreError> for ViewError {
    fn from(e: StoreError) -> Self {
        ViewError::Failed(e.into())
    }
}

/// The latest snapshot, refreshed in the background, and filtered views computed on
/// demand.
pub struct Snapshots {
    settings: AnalysisSettings,
    latest: RwLock<Option<Arc<Snapshot>>>,
    /// The partial aggregates of customer groups for the latest snapshot's data, which
    /// answer scorecard views of a segment or region: being computed, or computed (none
    /// where they cannot be).
    groups: tokio::sync::watch::Sender<Option<Partials>>,
    views: Mutex<Views>,
    users: Mutex<HashMap<i64, Arc<Semaphore>>>,
    at_once: Arc<Semaphore>,
    /// Set when the server stops.
    stopped: tokio::sync::watch::Sender<bool>,
    /// The analyses' own runtime (taken when the server stops) and a handle to it.
    runtime: Mutex<Option<tokio::runtime::Runtime>>,
    handle: tokio::runtime::Handle,
    /// The comment analyses of the latest data (see [`crate::comments`]).
    pub(crate) texts: crate::comments::Texts,
}

/// The partial aggregates of customer groups of one state of the data.
#[derive(Clone)]
enum Partials {
    Computing(DataState),
    Computed(DataState, Option<Arc<Groups>>),
}

/// Filtered views: computed or being computed, with their size and last use.
#[derive(Default)]
struct Views {
    entries: HashMap<(Filters, Part), View>,
    bytes: usize,
    clock: u64,
}

struct View {
    cell: Arc<OnceCell<Arc<Snapshot>>>,
    bytes: usize,
    used: u64,
}

impl Snapshots {
    pub fn new(settings: AnalysisSettings) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("cxray-analysis")
            .enable_all()
            .build()
            .expect("the analysis runtime starts");
        Snapshots {
            settings,
            latest: RwLock::default(),
            groups: tokio::sync::watch::Sender::new(None),
            views: Mutex::default(),
            users: Mutex::default(),
            at_once: Arc::new(Semaphore::new(settings.views_at_once.max(1))),
            stopped: tokio::sync::watch::Sender::new(false),
            handle: runtime.handle().clone(),
            runtime: Mutex::new(Some(runtime)),
            texts: crate::comments::Texts::new(
                settings.views_at_once,
                settings.views_per_user * crate::comments::ASKS_PER_PAGE,
            ),
        }
    }

    /// The product settings the analyses run with.
    pub fn product(&self) -> &ProductSettings {
        &self.settings.product
    }

    /// The analyses' own runtime.
    pub(crate) fn runtime(&self) -> &tokio::runtime::Handle {
        &self.handle
    }

    /// The latest snapshot, if one has been computed.
    pub fn latest(&self) -> Option<Arc<Snapshot>> {
        self.latest.read().expect("snapshot lock").clone()
    }

    /// The snapshot for `filters` as page `part` needs it: the latest one without
    /// filters; with filters, a view computed for them from the same data (now, the first
    /// time). None until the latest exists.
    pub async fn filtered(
        &self,
        folder: &DataFolder,
        filters: &Filters,
        part: Part,
        user: i64,
    ) -> Option<std::result::Result<Arc<Snapshot>, ViewError>> {
        let latest = self.latest()?;
        if filters.is_empty() {
            return Some(Ok(latest));
        }
        Some(self.view(folder, filters, part, user, &latest).await)
    }

    async fn view(
        &self,
        folder: &DataFolder,
        filters: &Filters,
        part: Part,
        user: i64,
        latest: &Arc<Snapshot>,
    ) -> std::result::Result<Arc<Snapshot>, ViewError> {
        let mut columns = latest.choices.attributes.clone();
        columns.extend(["segment".to_string(), "region".to_string()]);
        filters
            .check_attribute(&columns)
            .map_err(ViewError::Input)?;
        let cell = self.cell(filters, part, latest);
        if let Some(s) = cell.get() {
            return Ok(s.clone());
        }
        let _mine = self
            .user_slots(user)
            .try_acquire_owned()
            .map_err(|_| ViewError::Busy(self.settings.views_per_user))?;
        let computed = cell
            .get_or_try_init(|| self.compute_view(folder, filters, part, latest))
            .await;
        match computed {
            Ok(view) => {
                self.account(filters, part, view);
                Ok(view.clone())
            }
            Err(e) => {
                self.forget_failed(filters, part);
                Err(e)
            }
        }
    }

    /// The view's cell, created empty the first time; views of older data are dropped.
    fn cell(
        &self,
        filters: &Filters,
        part: Part,
        latest: &Snapshot,
    ) -> Arc<OnceCell<Arc<Snapshot>>> {
        let mut views = self.views.lock().expect("views lock");
        let stale: Vec<(Filters, Part)> = views
            .entries
            .iter()
            .filter(|(_, v)| {
                v.cell.get().is_some_and(|s| {
                    s.versions != latest.versions || s.last_change != latest.last_change
                })
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in stale {
            views.remove(&key);
        }
        views.clock += 1;
        let clock = views.clock;
        let view = views
            .entries
            .entry((filters.clone(), part))
            .or_insert_with(|| View {
                cell: Arc::default(),
                bytes: 0,
                used: clock,
            });
        view.used = clock;
        view.cell.clone()
    }

    /// Records a computed view's size and drops the least recently used views beyond the
    /// budget (never one still being computed).
    fn account(&self, filters: &Filters, part: Part, snapshot: &Snapshot) {
        let bytes = serde_json::to_vec(snapshot).map_or(0, |v| v.len());
        let mut views = self.views.lock().expect("views lock");
        let key = (filters.clone(), part);
        let Some(view) = views.entries.get_mut(&key) else {
            return;
        };
        let added = bytes.saturating_sub(view.bytes);
        view.bytes = bytes;
        views.bytes += added;
        while views.bytes > self.settings.views_bytes {
            let oldest = views
                .entries
                .iter()
                .filter(|(_, v)| v.cell.initialized())
                .min_by_key(|(_, v)| v.used)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => views.remove(&k),
                None => break,
            }
        }
    }

    /// Drops a view whose computation failed (unless another request has since filled
    /// it), so failed filters take no room.
    fn forget_failed(&self, filters: &Filters, part: Part) {
        let mut views = self.views.lock().expect("views lock");
        let key = (filters.clone(), part);
        if views
            .entries
            .get(&key)
            .is_some_and(|v| !v.cell.initialized())
        {
            views.remove(&key);
        }
    }

    fn user_slots(&self, user: i64) -> Arc<Semaphore> {
        let mut users = self.users.lock().expect("users lock");
        let per_user = self.settings.views_per_user.max(1);
        users
            .entry(user)
            .or_insert_with(|| Arc::new(Semaphore::new(per_user)))
            .clone()
    }

    /// Computes a view: from the partials of customer groups when they answer it, else on
    /// the analysis runtime, one of at most `views_at_once`.
    async fn compute_view(
        &self,
        folder: &DataFolder,
        filters: &Filters,
        part: Part,
        latest: &Snapshot,
    ) -> std::result::Result<Arc<Snapshot>, ViewError> {
        let state = (latest.versions.clone(), latest.last_change);
        if let Some(view) = self.group_view(filters, part, &state).await {
            tracing::debug!(
                ?filters,
                "view from the partial aggregates of customer groups"
            );
            return Ok(Arc::new(view));
        }
        let _turn = self
            .at_once
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ViewError::Stopped)?;
        let (folder, filters) = (folder.clone(), filters.clone());
        let settings = self.settings.product;
        let job = self.handle.spawn(async move {
            let mut sql = Sql::open(&folder, &BTreeMap::new()).await?;
            sql.restrict(filters.restriction()).await?;
            compute(&sql, &folder, state, &settings, &[part]).await
        });
        // A stop answers at once: the analysis may be in the middle of a long computation
        // that only ends with the process.
        let mut stopped = self.stopped.subscribe();
        tokio::select! {
            done = job => match done {
                Ok(computed) => Ok(Arc::new(computed?)),
                Err(_) => Err(ViewError::Stopped),
            },
            _ = stopped.wait_for(|s| *s) => Err(ViewError::Stopped),
        }
    }

    /// A scorecard view assembled from the partial aggregates of customer groups of the
    /// same data, when they answer it (waiting for them while they are computed).
    async fn group_view(
        &self,
        filters: &Filters,
        part: Part,
        state: &DataState,
    ) -> Option<Snapshot> {
        let restriction = filters.restriction();
        if part != Part::Scorecard || !groups::may_answer(&restriction) {
            return None;
        }
        let mut partials = self.groups.subscribe();
        let mut stopped = self.stopped.subscribe();
        let computing =
            |p: &Option<Partials>| matches!(p, Some(Partials::Computing(s)) if s == state);
        let done = tokio::select! {
            done = partials.wait_for(|p| !computing(p)) => done.ok()?.clone(),
            _ = stopped.wait_for(|s| *s) => return None,
        };
        match done {
            Some(Partials::Computed(s, Some(groups))) if &s == state => {
                from_groups(&groups, &restriction, s)
            }
            _ => None,
        }
    }

    /// Computes a snapshot when the data changed since the latest one.
    pub async fn refresh(&self, folder: &DataFolder) -> Result<()> {
        let sql = Sql::open(folder, &BTreeMap::new()).await?;
        let state = data_state(&sql, folder)?;
        if let Some(s) = self.latest()
            && s.versions == state.0
            && s.last_change == state.1
        {
            return Ok(());
        }
        let settings = &self.settings.product;
        // The snapshot and the partials side by side, each published when done (views of
        // groups wait for the partials meanwhile); both on the heap, as their futures are
        // large.
        self.groups
            .send_replace(Some(Partials::Computing(state.clone())));
        let snapshot = async {
            let parts = &Part::ALL;
            let snapshot = Box::pin(compute(&sql, folder, state.clone(), settings, parts)).await?;
            let snapshot = Arc::new(snapshot);
            *self.latest.write().expect("snapshot lock") = Some(snapshot.clone());
            // The comments' unfiltered analyses start now, in the background.
            crate::comments::warm(self, folder, snapshot).await;
            Ok(())
        };
        let groups = async {
            let groups = Box::pin(Groups::load(&sql, folder, settings))
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!("partial aggregates of customer groups: {e}");
                    None
                });
            let computed = Partials::Computed(state.clone(), groups.map(Arc::new));
            self.groups.send_replace(Some(computed));
        };
        tokio::join!(snapshot, groups).0
    }

    /// Refreshes now and then every `every`, on the analysis runtime, until [`stop`].
    ///
    /// [`stop`]: Snapshots::stop
    pub fn keep_fresh(self: &Arc<Self>, folder: DataFolder, every: Duration) {
        let this = self.clone();
        self.handle.spawn(async move {
            loop {
                if let Err(e) = this.refresh(&folder).await {
                    tracing::error!("analyses: {e}");
                }
                tokio::time::sleep(every).await;
            }
        });
    }

    /// Stops every analysis at once (running ones are abandoned, waiting requests get
    /// [`ViewError::Stopped`]).
    pub fn stop(&self) {
        self.stopped.send_replace(true);
        self.at_once.close();
        self.texts.stop();
        if let Some(runtime) = self.runtime.lock().expect("runtime lock").take() {
            runtime.shutdown_background();
        }
    }
}

impl Drop for Snapshots {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Views {
    fn remove(&mut self, key: &(Filters, Part)) {
        if let Some(v) = self.entries.remove(key) {
            self.bytes -= v.bytes;
        }
    }
}
