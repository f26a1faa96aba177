//! The comment analyses computed so far, per state of the data and what was asked. The
//! unfiltered ones are started when a snapshot is published ([`super::warm`]); the others
//! when first asked for. Each runs once (single flight) on the analysis runtime, at most
//! `views_at_once` at a time and `views_per_user` per user; a request waits for its result
//! only a moment, then says it is being computed, so no request is held up by another's.
//! Up to [`KEPT`] results are kept, least recently used dropped first, and results of
//! older data go when newer data are asked about.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cxray_analysis::snapshot::DataState;
use tokio::sync::{Semaphore, watch};

use super::{Computed, Key};
use crate::snapshot::PartError;

/// The most results kept.
pub const KEPT: usize = 256;

/// An analysis's outcome.
pub type Outcome = std::result::Result<Arc<Computed>, PartError>;

/// What a request gets.
pub enum Got {
    Done(Outcome),
    /// Still being computed.
    Computing,
    /// The user has as many analyses computing as allowed.
    Busy(usize),
}

struct Entry {
    outcome: Arc<watch::Sender<Option<Outcome>>>,
    used: u64,
}

/// The cache.
pub struct Texts {
    entries: Mutex<(HashMap<Key, Entry>, u64)>,
    at_once: Arc<Semaphore>,
    per_user: usize,
    users: Mutex<HashMap<i64, Arc<Semaphore>>>,
}

impl Texts {
    pub fn new(at_once: usize, per_user: usize) -> Self {
        Texts {
            entries: Mutex::default(),
            at_once: Arc::new(Semaphore::new(at_once.max(1))),
            per_user: per_user.max(1),
            users: Mutex::default(),
        }
    }

    /// The outcome of `key`: computed by `job` on `runtime` the first time (for `user`,
    /// within their allowance; none for the background's own), waited for up to `wait`.
    pub async fn get<F>(
        &self,
        runtime: &tokio::runtime::Handle,
        key: Key,
        user: Option<i64>,
        job: F,
        wait: Duration,
    ) -> Got
    where
        F: Future<Output = Outcome> + Send + 'static,
    {
        let mut outcome = {
            let mut guard = self.entries.lock().expect("comments cache lock");
            let (entries, clock) = &mut *guard;
            *clock += 1;
            let now = *clock;
            if let Some(e) = entries.get_mut(&key) {
                e.used = now;
                e.outcome.subscribe()
            } else {
                let mine = match user {
                    Some(u) => match self.user_slots(u).try_acquire_owned() {
                        Ok(p) => Some(p),
                        Err(_) => return Got::Busy(self.per_user),
                    },
                    None => None,
                };
                forget_older(entries, &key.0);
                let sender = Arc::new(watch::Sender::new(None));
                let (tx, at_once) = (sender.clone(), self.at_once.clone());
                runtime.spawn(async move {
                    let Ok(_turn) = at_once.acquire_owned().await else {
                        return;
                    };
                    let done = job.await;
                    drop(mine);
                    tx.send_replace(Some(done));
                });
                let rx = sender.subscribe();
                entries.insert(
                    key,
                    Entry {
                        outcome: sender,
                        used: now,
                    },
                );
                keep_within(entries);
                rx
            }
        };
        let waited = tokio::time::timeout(wait, outcome.wait_for(Option::is_some)).await;
        match waited {
            Ok(Ok(done)) => Got::Done(done.clone().expect("waited for an outcome")),
            _ => Got::Computing,
        }
    }

    fn user_slots(&self, user: i64) -> Arc<Semaphore> {
        let mut users = self.users.lock().expect("comments users lock");
        let per_user = self.per_user;
        users
            .entry(user)
            .or_insert_with(|| Arc::new(Semaphore::new(per_user)))
            .clone()
    }

    /// Stops computing: jobs waiting for their turn never start.
    pub fn stop(&self) {
        self.at_once.close();
    }
}

/// Drops the results of other states of the data than `state`.
fn forget_older(entries: &mut HashMap<Key, Entry>, state: &DataState) {
    entries.retain(|k, _| &k.0 == state);
}

/// Drops the least recently used finished results beyond [`KEPT`].
fn keep_within(entries: &mut HashMap<Key, Entry>) {
    while entries.len() > KEPT {
        let oldest = entries
            .iter()
            .filter(|(_, e)| e.outcome.borrow().is_some())
            .min_by_key(|(_, e)| e.used)
            .map(|(k, _)| k.clone());
        match oldest {
            Some(k) => entries.remove(&k),
            None => break,
        };
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use cxray_analysis::comments::CommentScope;

    use super::*;
    use crate::comments::{Ask, By};
    use crate::filters::Filters;

    fn key(version: u64, by: By) -> Key {
        let state = (BTreeMap::from([("responses".to_string(), version)]), 0);
        (
            state,
            0,
            Filters::default(),
            CommentScope::default(),
            Ask::Sentiment(by),
        )
    }

    /// A job that counts its runs and finishes when `go` is set.
    fn job(
        runs: &Arc<AtomicUsize>,
        go: &watch::Sender<bool>,
    ) -> impl Future<Output = Outcome> + Send + 'static {
        let (runs, mut go) = (runs.clone(), go.subscribe());
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            let _ = go.wait_for(|g| *g).await;
            Ok(Arc::new(Computed::Examples(Vec::new())))
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_analysis_runs_once_and_no_request_waits_for_it_longer_than_asked() {
        let texts = Texts::new(2, 1);
        let runtime = tokio::runtime::Handle::current();
        let (runs, go) = (Arc::new(AtomicUsize::new(0)), watch::Sender::new(false));
        let short = Duration::from_millis(50);
        let k = key(1, By::Month);
        // Still computing: said so after the wait, and a second request starts nothing.
        let first = texts.get(&runtime, k.clone(), Some(1), job(&runs, &go), short);
        assert!(matches!(first.await, Got::Computing));
        let second = texts.get(&runtime, k.clone(), Some(2), job(&runs, &go), short);
        assert!(matches!(second.await, Got::Computing));
        // User 1's allowance (one) is taken by their running analysis: another is refused.
        let other = texts.get(
            &runtime,
            key(1, By::Touchpoint),
            Some(1),
            job(&runs, &go),
            short,
        );
        assert!(matches!(other.await, Got::Busy(1)));
        go.send_replace(true);
        let done = texts.get(
            &runtime,
            k.clone(),
            Some(3),
            job(&runs, &go),
            Duration::from_secs(10),
        );
        assert!(matches!(done.await, Got::Done(Ok(_))));
        assert_eq!(runs.load(Ordering::SeqCst), 1, "single flight");
        // Done, user 1 may ask again; results of older data go when newer are asked about.
        let again = texts.get(
            &runtime,
            key(1, By::Touchpoint),
            Some(1),
            job(&runs, &go),
            Duration::from_secs(10),
        );
        assert!(matches!(again.await, Got::Done(Ok(_))));
        let newer = texts.get(
            &runtime,
            key(2, By::Month),
            None,
            job(&runs, &go),
            Duration::from_secs(10),
        );
        assert!(matches!(newer.await, Got::Done(Ok(_))));
        let kept = texts.entries.lock().unwrap().0.len();
        assert_eq!(kept, 1);
        assert_eq!(runs.load(Ordering::SeqCst), 3);
    }
}
