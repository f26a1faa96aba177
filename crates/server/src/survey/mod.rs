//! The survey page: public routes (no sign-in) through which respondents answer — a
//! personal link `/s/{token}` (the signed invitation is the capability), a survey's
//! anonymous link `/s/open/{public_id}`, and unsubscribing `/s/{token}/unsubscribe`.
//! Everything a page needs is in the operational database; answers are held there for a
//! grace period ([`commit`] then sends them into `responses` through ingestion). The
//! pages work without JavaScript, set no cookies and are never cached.

mod commit;
mod guard;
mod page;
mod respond;
mod unsubscribe;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use axum::routing::get;
use cxray_core::access::PseudonymKey;
use cxray_core::surveys::{LANGUAGES, pick_language};
use cxray_store::StoreError;
use cxray_store::ops::OpsDb;

use crate::AppState;

pub(crate) use commit::keep_committing;
pub use guard::Limit;

/// The largest form accepted, in bytes: a comment of the longest length in any script,
/// percent-encoded, fits.
const MAX_BODY: usize = 32 << 10;

/// How the survey page runs.
#[derive(Debug, Clone, Copy)]
pub struct SurveyOptions {
    /// How long a personal link's answer may still be replaced before it is committed.
    pub grace: Duration,
    /// How often held answers past their grace period are looked for.
    pub commit_every: Duration,
    /// Answers and unsubscriptions sent from one client address.
    pub per_address: Limit,
    /// Answers sent through one personal link.
    pub per_link: Limit,
}

impl Default for SurveyOptions {
    fn default() -> Self {
        SurveyOptions {
            grace: Duration::from_secs(15 * 60),
            commit_every: Duration::from_secs(1),
            per_address: Limit {
                max: 60,
                per: Duration::from_secs(600),
            },
            per_link: Limit {
                max: 10,
                per: Duration::from_secs(3600),
            },
        }
    }
}

/// Connections to the operational database kept open for the survey routes.
const POOL: usize = 16;

/// The survey page's state: its options, the key links are signed with (read once),
/// connections kept open, and the rate limits and used nonces (in memory: a restart
/// forgets them).
pub struct Surveys {
    options: SurveyOptions,
    key: tokio::sync::OnceCell<PseudonymKey>,
    pool: Arc<Mutex<Vec<OpsDb>>>,
    guard: guard::Guard,
}

impl Surveys {
    pub fn new(options: SurveyOptions) -> Self {
        Surveys {
            options,
            key: tokio::sync::OnceCell::new(),
            pool: Arc::default(),
            guard: guard::Guard::default(),
        }
    }

    /// The data folder's key, which signs personal links and nonces.
    async fn key(&self, state: &AppState) -> Result<PseudonymKey, StoreError> {
        let key = self
            .key
            .get_or_try_init(|| self.db(state, |db| db.pseudonym_key()))
            .await?;
        Ok(*key)
    }

    /// Runs `f` on the operational database off the async threads, on a connection kept
    /// open (opening one costs more than the page's reads).
    async fn db<T: Send + 'static>(
        &self,
        state: &AppState,
        f: impl FnOnce(&OpsDb) -> cxray_store::Result<T> + Send + 'static,
    ) -> cxray_store::Result<T> {
        let (pool, folder) = (self.pool.clone(), state.folder.clone());
        tokio::task::spawn_blocking(move || {
            let kept = pool.lock().expect("pool lock").pop();
            let db = match kept {
                Some(db) => db,
                None => folder.ops_db()?,
            };
            let out = f(&db);
            let mut pool = pool.lock().expect("pool lock");
            if pool.len() < POOL {
                pool.push(db);
            }
            out
        })
        .await
        .map_err(|e| StoreError::Input(format!("operational database task: {e}")))?
    }
}

/// The survey routes, with a small body limit; responses are neither cached nor indexed.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/s/{token}",
            get(respond::personal_page).post(respond::personal_answer),
        )
        .route(
            "/s/{token}/unsubscribe",
            get(unsubscribe::confirm).post(unsubscribe::unsubscribe),
        )
        .route(
            "/s/open/{public_id}",
            get(respond::open_page).post(respond::open_answer),
        )
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::map_response(private))
}

/// Marks a survey response as not to be cached or indexed (personal links, answers).
async fn private(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    response
}

/// The language of a page shown before the survey is known: the browser's preference
/// among the languages with texts, else English.
fn browser_language(headers: &HeaderMap) -> &'static str {
    let all: Vec<String> = LANGUAGES.iter().map(|(c, _)| c.to_string()).collect();
    let picked = pick_language(&all, None, accept_language(headers));
    LANGUAGES
        .iter()
        .map(|(c, _)| *c)
        .find(|c| *c == picked)
        .unwrap_or("en")
}

fn accept_language(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
}

/// Now, in seconds since the epoch.
fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
