//! Rules evaluated after every ingestion commit into a table a rule watches (the closed
//! loop's, and the survey invitation rules on interactions), as `cxray import` evaluates
//! them after an import: the scan reads what the commits since each
//! rule's watermark added, so commits that land during a scan are read by the next.
//! The scan's session is kept between scans and brought to the tables' new versions, and
//! the rules' conditions are evaluated on the rows as they are ingested, so a scan after
//! a commit only looks at the customers the rules matched.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use cxray_analysis::{cases, surveys};
use cxray_core::domain::Table;
use cxray_store::ingest::{Ingest, RecentCommits};
use cxray_store::ops::OpsDb;
use cxray_store::sql::Sql;
use cxray_store::{DataFolder, StoreError};

use crate::leader::Leadership;

/// Scans once this server leads (for the rows recovery committed, that commits at the
/// last stop added, or that a leader before it committed) and after each commit (commits
/// that come while a scan runs get one more scan) until ingestion stops; a server that
/// follows scans every table once it leads.
pub(crate) fn keep_scanning(
    folder: DataFolder,
    ingest: Arc<Ingest>,
    leadership: Arc<Leadership>,
) -> tokio::task::JoinHandle<()> {
    let mut commits = ingest.commits();
    tokio::spawn(async move {
        let mut seen = committed(&ingest);
        let mut tables = Table::ALL.to_vec();
        let mut kept = Some(Kept::default());
        loop {
            if !leadership.leading() {
                leadership.until_leading().await;
                tables = Table::ALL.to_vec();
            }
            let (folder, watched) = (folder.clone(), std::mem::take(&mut tables));
            let (handle, recent) = (tokio::runtime::Handle::current(), ingest.recent());
            let mut state = kept.take().unwrap_or_default();
            let scanned = tokio::task::spawn_blocking(move || {
                let result = handle.block_on(state.scan(&folder, &watched, recent));
                (state, result)
            });
            match scanned.await {
                Ok((state, result)) => {
                    if let Err(e) = result {
                        tracing::error!("evaluating the rules after ingestion: {e}");
                    }
                    kept = Some(state);
                }
                Err(e) => tracing::error!("evaluating the rules after ingestion: {e}"),
            }
            if commits.changed().await.is_err() {
                return;
            }
            commits.borrow_and_update();
            let now = committed(&ingest);
            tables = Table::ALL
                .into_iter()
                .zip(now.iter().zip(&seen))
                .filter(|(_, (n, s))| n != s)
                .map(|(t, _)| t)
                .collect();
            seen = now;
        }
    })
}

/// Each table's commits so far.
fn committed(ingest: &Ingest) -> Vec<u64> {
    ingest
        .stats()
        .tables
        .iter()
        .map(|(_, s)| s.commits)
        .collect()
}

/// How often a scan brings every table of its session up to date, not only those the
/// ingestion committed to: how soon scans see what other processes changed (an import,
/// a valuation, the owners).
const EVERY_TABLE_EVERY: Duration = Duration::from_secs(10);

/// What scans keep between them: the session (none until a scan needs one, or after
/// an error) and when it last read every table, the operational database, and the
/// rules' state.
#[derive(Default)]
struct Kept {
    sql: Option<(Sql, Instant)>,
    ops: Option<OpsDb>,
    scanner: cases::Scanner,
}

impl Kept {
    /// Evaluates the rules when one watches `tables`, reading the rows of the latest
    /// commits from memory where `recent` holds them.
    async fn scan(
        &mut self,
        folder: &DataFolder,
        tables: &[Table],
        recent: Arc<RecentCommits>,
    ) -> Result<(), StoreError> {
        let ops = match self.ops.take() {
            Some(ops) => ops,
            None => folder.ops_db()?,
        };
        self.evaluate(&ops, folder, tables, recent).await?;
        self.ops = Some(ops);
        Ok(())
    }

    /// [`Kept::scan`] with the operational database open (opened anew after an error).
    async fn evaluate(
        &mut self,
        ops: &OpsDb,
        folder: &DataFolder,
        tables: &[Table],
        recent: Arc<RecentCommits>,
    ) -> Result<(), StoreError> {
        let cases = cases::watched(ops, tables)?;
        let invitations = tables.contains(&Table::Interactions) && surveys::watched(ops)?;
        if !cases {
            for table in tables {
                recent.watch(*table, Vec::new());
            }
        }
        if !cases && !invitations {
            return Ok(());
        }
        let started = Instant::now();
        let sql = session(&mut self.sql, folder, tables, recent).await?;
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            "scan session brought up to date"
        );
        if cases {
            let scans = self.scanner.scan(sql, ops, "ingestion", Utc::now()).await?;
            let opened: usize = scans.iter().map(|s| s.opened.opened).sum();
            let ms = started.elapsed().as_millis() as u64;
            tracing::info!(opened, ms, "rules evaluated after ingestion");
        }
        if invitations {
            let scans = surveys::scan(sql, ops).await?;
            let invited: usize = scans.iter().map(|s| s.invited.invited).sum();
            let ms = started.elapsed().as_millis() as u64;
            tracing::info!(invited, ms, "invitation rules evaluated after ingestion");
        }
        Ok(())
    }
}

/// The kept session with `tables` (and, every [`EVERY_TABLE_EVERY`], every table) at
/// their latest versions; opened anew when there is none or bringing it up to date fails.
async fn session<'a>(
    kept: &'a mut Option<(Sql, Instant)>,
    folder: &DataFolder,
    tables: &[Table],
    recent: Arc<RecentCommits>,
) -> Result<&'a Sql, StoreError> {
    if let Some((sql, every_table_at)) = kept {
        let updated = match every_table_at.elapsed() < EVERY_TABLE_EVERY {
            true => sql.update_tables(tables).await,
            false => sql
                .update()
                .await
                .map(|()| *every_table_at = Instant::now()),
        };
        if let Err(e) = updated {
            tracing::warn!("the scan's session could not be brought up to date: {e}");
            *kept = None;
        }
    }
    let fresh = match kept.take() {
        Some(kept) => kept,
        None => {
            let sql = Sql::open(folder, &BTreeMap::new()).await?;
            (sql.with_recent(recent), Instant::now())
        }
    };
    Ok(&kept.insert(fresh).0)
}
