//! The analyses behind the pages and the API, computed in the background once per state
//! of the data (table versions and operational changes) and shared by every request, so
//! a page only formats what is already known.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use cxray_core::drivers::Options;
use cxray_core::models::ModelKind;
use cxray_core::stats::{Instrument, Settings};
use cxray_store::journey::{self, DriverGroup, DriverOutcome, Journey, JourneyOptions, MonthRate};
use cxray_store::metrics::{self, Defection, LinkOptions, LinkReport};
use cxray_store::ops::OpsDb;
use cxray_store::scorecard::{self, Scorecard};
use cxray_store::sql::Sql;
use cxray_store::{DataFolder, Result};
use serde::Serialize;

use crate::filters::{Choices, Filters};

/// How the analyses are run.
#[derive(Debug, Clone, Copy)]
pub struct AnalysisSettings {
    /// Bootstrap resamples of the driver analysis.
    pub resamples: usize,
    /// Days after an answer or a trip within which a purchase counts as staying.
    pub window_days: u32,
}

impl Default for AnalysisSettings {
    fn default() -> Self {
        AnalysisSettings {
            resamples: 200,
            window_days: 180,
        }
    }
}

/// Every analysis the pages show, as of one state of the data. A part that failed holds
/// the reason, which the page shows instead of numbers.
#[derive(Debug, Serialize)]
pub struct Snapshot {
    /// Table name → Delta version, and the last operational change, analysed.
    pub versions: BTreeMap<String, u64>,
    pub last_change: i64,
    /// When the analyses finished (RFC 3339) and how long they took.
    pub computed_at: String,
    pub seconds: f64,
    pub scorecard: std::result::Result<Scorecard, String>,
    pub link: std::result::Result<LinkReport, String>,
    pub journey: std::result::Result<Journey, String>,
    pub drivers: std::result::Result<Vec<DriverGroup>, String>,
    /// Each owner's failure rate by month.
    pub trends: BTreeMap<String, Vec<MonthRate>>,
    /// What the filters offer.
    pub choices: Choices,
}

/// The latest snapshot, refreshed in the background, and snapshots of filtered views
/// computed on demand (a few kept, dropped when the data change).
pub struct Snapshots {
    settings: AnalysisSettings,
    latest: RwLock<Option<Arc<Snapshot>>>,
    filtered: tokio::sync::Mutex<Vec<(Filters, Arc<Snapshot>)>>,
}

/// Filtered snapshots kept.
const FILTERED_KEPT: usize = 8;

impl Snapshots {
    pub fn new(settings: AnalysisSettings) -> Self {
        Snapshots {
            settings,
            latest: RwLock::default(),
            filtered: tokio::sync::Mutex::default(),
        }
    }

    /// The latest snapshot, if one has been computed.
    pub fn latest(&self) -> Option<Arc<Snapshot>> {
        self.latest.read().expect("snapshot lock").clone()
    }

    /// The snapshot for `filters`: the latest one without filters; with filters, one
    /// computed for them (now, the first time) from the same data. None until the
    /// latest exists.
    pub async fn filtered(
        &self,
        folder: &DataFolder,
        filters: &Filters,
    ) -> Option<Result<Arc<Snapshot>>> {
        let latest = self.latest()?;
        if filters.is_empty() {
            return Some(Ok(latest));
        }
        let mut kept = self.filtered.lock().await;
        kept.retain(|(_, s)| s.versions == latest.versions && s.last_change == latest.last_change);
        let mut columns = latest.choices.attributes.clone();
        columns.extend(["segment".to_string(), "region".to_string()]);
        if let Err(e) = filters.check_attribute(&columns) {
            return Some(Err(cxray_store::StoreError::Input(e)));
        }
        if let Some((_, s)) = kept.iter().find(|(f, _)| f == filters) {
            return Some(Ok(s.clone()));
        }
        let computed = async {
            let sql = Sql::open(folder, &BTreeMap::new()).await?;
            let (from, to) = filters.instants();
            sql.restrict(
                filters.customers_sql().as_deref(),
                from.as_deref(),
                to.as_deref(),
            )
            .await?;
            let (versions, change) = (latest.versions.clone(), latest.last_change);
            compute(&sql, folder, versions, change, self.settings).await
        }
        .await
        .map(Arc::new);
        if let Ok(s) = &computed {
            if kept.len() >= FILTERED_KEPT {
                kept.remove(0);
            }
            kept.push((filters.clone(), s.clone()));
        }
        Some(computed)
    }

    /// Computes a snapshot when the data changed since the latest one.
    pub async fn refresh(&self, folder: &DataFolder) -> Result<()> {
        let sql = Sql::open(folder, &BTreeMap::new()).await?;
        let versions = versions(&sql);
        let last_change = last_change(folder)?;
        if let Some(s) = self.latest()
            && s.versions == versions
            && s.last_change == last_change
        {
            return Ok(());
        }
        let snapshot = compute(&sql, folder, versions, last_change, self.settings).await?;
        *self.latest.write().expect("snapshot lock") = Some(Arc::new(snapshot));
        Ok(())
    }

    /// Refreshes now and then every `every`, for as long as the server runs.
    pub async fn keep_fresh(self: Arc<Self>, folder: DataFolder, every: Duration) {
        loop {
            if let Err(e) = self.refresh(&folder).await {
                tracing::error!("analyses: {e}");
            }
            tokio::time::sleep(every).await;
        }
    }
}

fn versions(sql: &Sql) -> BTreeMap<String, u64> {
    sql.versions()
        .iter()
        .map(|(t, v)| (t.name().to_string(), *v))
        .collect()
}

/// The id of the last audited change the analyses depend on.
fn last_change(folder: &DataFolder) -> Result<i64> {
    OpsDb::open(&folder.ops_db_path())?.last_data_change()
}

async fn compute(
    sql: &Sql,
    folder: &DataFolder,
    versions: BTreeMap<String, u64>,
    last_change: i64,
    settings: AnalysisSettings,
) -> Result<Snapshot> {
    let started = Instant::now();
    let stats = Settings::default();
    let ops = OpsDb::open(&folder.ops_db_path())?;
    let journey_options = JourneyOptions {
        window_days: settings.window_days,
        slas: ops.slas()?,
        placements: ops.placements()?,
        settings: stats,
    };
    let link = metrics::link(sql, &link_options(sql, settings.window_days))
        .await
        .map_err(|e| e.to_string());
    let journey = journey::journey(sql, &journey_options)
        .await
        .map_err(|e| e.to_string());
    let driver_options = Options {
        resamples: settings.resamples,
        ..Options::default()
    };
    let drivers = journey::drivers(
        sql,
        DriverOutcome::Defection,
        &journey_options,
        &driver_options,
        None,
    )
    .await;
    let trends = journey::monthly_failure_rates(sql, &journey_options).await?;
    let scorecard = scorecard::scorecard(
        sql,
        link.as_ref().map_err(String::as_str),
        journey.as_ref().map_err(String::as_str),
        &stats,
    )
    .await;
    Ok(Snapshot {
        versions,
        last_change,
        computed_at: chrono::Utc::now().to_rfc3339(),
        seconds: started.elapsed().as_secs_f64(),
        scorecard: scorecard.map_err(|e| e.to_string()),
        link,
        journey,
        drivers: drivers.map_err(|e| e.to_string()),
        trends,
        choices: choices(sql).await?,
    })
}

/// The filters' choices: segments, regions, and the customers' other columns.
async fn choices(sql: &Sql) -> Result<Choices> {
    let df = sql.context().table("customers").await?;
    let attributes = df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .filter(|n| !matches!(n.as_str(), "customer_id" | "segment" | "region"))
        .collect();
    Ok(Choices {
        segments: sql.distinct("customers", "segment").await?,
        regions: sql.distinct("customers", "region").await?,
        attributes,
    })
}

/// The link as the pages show it: NPS, defection from P(alive) when customers are valued,
/// else from the purchase window.
fn link_options(sql: &Sql, window_days: u32) -> LinkOptions {
    let valued = sql.made_by(cxray_store::loyalty::CUSTOMER_VALUE).is_some();
    LinkOptions {
        instrument: Instrument::Nps,
        defection: if valued {
            Defection::Palive { threshold: 0.5 }
        } else {
            Defection::Window
        },
        window_days,
        by: None,
        model: ModelKind::BgNbd,
        settings: Settings::default(),
    }
}
