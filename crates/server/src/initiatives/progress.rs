//! What the running initiatives did so far, measured once per state of the data and of
//! the initiative and kept: the initiatives list waits for the measurements, the
//! scorecard shows those that are ready and starts the others in the background.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cxray_analysis::initiatives::{Outcome, Report};
use cxray_core::initiatives::Status;
use cxray_store::initiatives::Recorded;
use tokio::sync::OnceCell;

use crate::AppState;

/// A running initiative's effect on the failure rate so far, or why there is none.
pub type SoFar = Arc<std::result::Result<Report, String>>;

/// The running initiatives shown, the latest started first; the others are a link away
/// (each measurement reads the interactions).
pub const SHOWN: usize = 5;

/// Measurements by state of the data and initiative (only the latest data's kept).
#[derive(Default)]
pub struct Progress {
    cells: Mutex<HashMap<Key, Arc<OnceCell<SoFar>>>>,
}

/// The state of the data, and the initiative as recorded.
type Key = (String, String);

impl Progress {
    /// The initiative's measurement so far, measured now unless it was before.
    pub async fn measured(&self, state: &AppState, r: &Recorded) -> SoFar {
        let cell = self.cell(state, r);
        cell.get_or_init(|| measure(state.clone(), r.clone()))
            .await
            .clone()
    }

    /// The initiative's measurement so far if it is ready; else none, and it is started in
    /// the background.
    pub fn ready(&self, state: &AppState, r: &Recorded) -> Option<SoFar> {
        let cell = self.cell(state, r);
        if let Some(done) = cell.get() {
            return Some(done.clone());
        }
        // A second start waits for the first one's measurement instead of measuring again.
        let (state, r) = (state.clone(), r.clone());
        tokio::spawn(async move {
            cell.get_or_init(|| measure(state, r)).await;
        });
        None
    }

    fn cell(&self, state: &AppState, r: &Recorded) -> Arc<OnceCell<SoFar>> {
        let data = state.snapshots.latest().map_or(String::new(), |s| {
            format!("{:?}/{}", s.versions, s.last_change)
        });
        let initiative = format!("{}/{}", r.id, serde_json::json!(r.initiative));
        let mut cells = self.cells.lock().expect("progress lock");
        cells.retain(|(d, _), _| *d == data);
        cells.entry((data, initiative)).or_default().clone()
    }
}

async fn measure(state: AppState, r: Recorded) -> SoFar {
    let asked = (Outcome::FailureRate, None, super::request::YEARS);
    let measured = super::measure(&state, &r.initiative, asked).await;
    Arc::new(measured.map_err(|e| e.to_string()))
}

/// The running initiatives of `list` shown, the latest started first.
pub fn running(list: &[Recorded]) -> Vec<&Recorded> {
    let mut running: Vec<&Recorded> = list
        .iter()
        .filter(|r| r.initiative.status == Status::Running)
        .collect();
    running.sort_by_key(|r| std::cmp::Reverse(r.initiative.start));
    running.truncate(SHOWN);
    running
}
