//! Scheduled board packs: when a schedule is due, its pack (the period holding the data's
//! last day: the month for weekly and monthly schedules, the quarter for quarterly ones)
//! is printed to PDF, written as one e-mail per recipient with a summary of what changed,
//! and queued in the outbox with the schedule's next due time; [`crate::outbox`] hands it
//! to the mail server, and what it did not take is tried again later. The server does
//! both every minute; `cxray report send` does them once.

pub mod mail;
pub mod print;
mod summary;

use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use cxray_analysis::board::Cadence;
use cxray_analysis::snapshot::Snapshot;
use cxray_core::schedule::ReportCadence;
use cxray_store::ops::OpsDb;
use cxray_store::reports::Schedule;
use cxray_store::{DataFolder, StoreError};

use crate::pages::pack::{self, PackError};
use crate::snapshot::Snapshots;
pub use mail::{MailError, MailSettings, Mailer};
pub use print::PrintError;
pub use summary::summary;

/// Why packs were not queued or sent.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Pack(#[from] PackError),
    #[error(transparent)]
    Print(#[from] PrintError),
    #[error(transparent)]
    Mail(#[from] MailError),
}

/// A pack queued for a schedule.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QueuedPack {
    pub schedule: i64,
    pub period: String,
    pub recipients: usize,
}

/// Runs `f` on the folder's operational database, off the async threads.
pub(crate) async fn db<T: Send + 'static>(
    folder: &DataFolder,
    f: impl FnOnce(&OpsDb) -> cxray_store::Result<T> + Send + 'static,
) -> Result<T, StoreError> {
    let folder = folder.clone();
    tokio::task::spawn_blocking(move || f(&folder.ops_db()?))
        .await
        .map_err(|e| StoreError::Input(format!("operational database task: {e}")))?
}

/// The board cadence and period of a schedule's pack as of the data's last day: the
/// month for weekly and monthly schedules, the quarter for quarterly ones.
fn pack_period(c: ReportCadence, as_of: NaiveDate) -> (Cadence, String) {
    let cadence = match c {
        ReportCadence::Weekly | ReportCadence::Monthly => Cadence::Month,
        ReportCadence::Quarterly => Cadence::Quarter,
    };
    (cadence, cadence.name(cadence.start(as_of)))
}

/// Queues the pack of each schedule from `snap` — as due (each moves to its next due
/// time) or out of turn (`due` false).
pub async fn queue(
    folder: &DataFolder,
    (snap, chromium): (&Snapshot, &Path),
    mailer: &Mailer,
    schedules: &[Schedule],
    due: bool,
) -> Result<Vec<QueuedPack>, ReportError> {
    let card = snap
        .scorecard
        .as_ref()
        .map_err(|e| PackError::NoScorecard(e.message.clone()))?;
    let as_of = card
        .as_of
        .ok_or_else(|| PackError::NoScorecard("no purchases in the data".into()))?;
    let records = db(folder, pack::Records::of).await?;
    let mut queued = Vec::new();
    for s in schedules {
        let (cadence, period) = pack_period(s.cadence, as_of);
        let html = pack::render(snap, &records, Some(&period))?;
        let pdf = print_off_thread(chromium, html).await?;
        let board = card.board_for(&period.parse().map_err(PackError::BadPeriod)?);
        let subject = format!("Customer board pack, {}", pack_name(cadence, &period));
        let text = summary(card, &board);
        let file = format!("cxray-board-pack-{period}.pdf");
        let recipients = s.recipients.clone();
        let addresses = db(folder, move |ops| ops.addresses(&recipients)).await?;
        let mails = addresses
            .iter()
            .map(|a| mailer.pack(a, (&subject, &text), (&file, &pdf)))
            .collect::<Result<Vec<_>, _>>()?;
        let (schedule, from, n) = (s.clone(), mailer.from(), mails.len());
        let period_queued = period.clone();
        let now = Utc::now();
        let done = db(folder, move |ops| {
            ops.queue_pack(&schedule, (&period_queued, &from), &mails, due, now)
        })
        .await?;
        if done {
            queued.push(QueuedPack {
                schedule: s.id,
                period,
                recipients: n,
            });
        }
    }
    Ok(queued)
}

/// "quarter 2025-Q2".
fn pack_name(c: Cadence, period: &str) -> String {
    let word = match c {
        Cadence::Month => "month",
        Cadence::Quarter => "quarter",
        Cadence::Year => "year",
    };
    format!("{word} {period}")
}

async fn print_off_thread(chromium: &Path, html: String) -> Result<Vec<u8>, ReportError> {
    let chromium = chromium.to_path_buf();
    let printed = tokio::task::spawn_blocking(move || print::pdf(&chromium, &html)).await;
    printed
        .map_err(|e| StoreError::Input(format!("printing task: {e}")))?
        .map_err(ReportError::from)
}

/// The schedules due at `now`.
pub async fn due(folder: &DataFolder, now: DateTime<Utc>) -> Result<Vec<Schedule>, StoreError> {
    db(folder, move |ops| ops.due_schedules(now)).await
}

/// Queues the packs of the schedules due at `now` from the latest snapshot (once the
/// analyses exist).
pub(crate) async fn queue_due(
    folder: &DataFolder,
    snapshots: &Snapshots,
    mailer: &Mailer,
    chromium: Option<&Path>,
    now: DateTime<Utc>,
) -> Result<(), ReportError> {
    let schedules = due(folder, now).await?;
    if let (false, Some(snap)) = (schedules.is_empty(), snapshots.latest()) {
        let chromium = print::find_chromium(chromium)?;
        for q in queue(folder, (&snap, &chromium), mailer, &schedules, true).await? {
            tracing::info!(
                schedule = q.schedule,
                period = q.period,
                recipients = q.recipients,
                "board pack queued"
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekly_and_monthly_packs_cover_the_month_quarterly_ones_the_quarter() {
        let day = NaiveDate::from_ymd_opt(2025, 5, 17).unwrap();
        let period = |c| pack_period(c, day).1;
        assert_eq!(period(ReportCadence::Weekly), "2025-05");
        assert_eq!(period(ReportCadence::Monthly), "2025-05");
        assert_eq!(period(ReportCadence::Quarterly), "2025-Q2");
    }
}
