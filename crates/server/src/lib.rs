//! cxray's HTTP server: the server-rendered pages, the JSON API, `/health` and
//! `/metrics`. Analyses are computed in the background once per state of the data
//! ([`snapshot`]); pages and the API format the same snapshot, so they always agree.

// Handlers return `Result<Response, Response>`: the error is the response to send, as
// large as any other, and boxing it would only add an allocation per refusal.
#![allow(clippy::result_large_err)]

mod admin;
mod api;
pub mod auth;
mod cases;
mod comments;
mod filters;
mod html;
mod ingest;
mod initiatives;
pub mod invitations;
pub mod leader;
pub mod notify;
pub mod outbox;
mod pages;
pub mod reports;
mod routes;
mod scan;
mod security;
pub mod snapshot;
mod survey;
mod surveys;
mod telemetry;
mod visible;

/// The board pack, for `cxray report`.
pub use pages::pack;
pub use survey::{Limit, SurveyOptions};

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use cxray_store::DataFolder;
use cxray_store::ingest::{Ingest, IngestOptions};
use cxray_store::ops::OpsDb;
use tokio::net::TcpListener;

use crate::leader::{Leadership, LeaseOptions};
use crate::snapshot::{AnalysisSettings, Snapshots};
use crate::telemetry::Telemetry;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub folder: DataFolder,
    pub snapshots: Arc<Snapshots>,
    /// Whether cookies are `Secure` (sent over https only); off when serving on loopback.
    pub secure_cookies: bool,
    /// The reverse proxies whose `X-Forwarded-For` (the client) and `X-Forwarded-Proto` count.
    pub trusted_proxies: Arc<[IpAddr]>,
    pub telemetry: Arc<Telemetry>,
    pub ingest: Arc<Ingest>,
    /// The fewest customers a filtered view may describe for owners and partners.
    pub min_group_size: u64,
    /// Whether scheduled board packs are e-mailed (a mail server is set).
    pub mails_reports: bool,
    /// The survey page's settings, rate limits and key.
    pub surveys: Arc<survey::Surveys>,
    /// What the running initiatives did so far, as measured.
    pub initiatives: Arc<initiatives::Progress>,
    /// Whether this server leads (accepts ingestion, writes in the background).
    pub leadership: Arc<Leadership>,
}

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub analysis: AnalysisSettings,
    /// How often to look for new data to analyse.
    pub refresh_every: Duration,
    /// When ingested rows are committed.
    pub ingest: IngestOptions,
    /// The reverse proxies whose `X-Forwarded-For` (sign-in limits count by the client's
    /// address) and `X-Forwarded-Proto` are believed; none by default.
    pub trusted_proxies: Vec<IpAddr>,
    /// The fewest customers a filtered view may describe for owners and partners; views
    /// of smaller groups are withheld from them.
    pub min_group_size: u64,
    /// The outbox: case notifications (webhooks; e-mails with a mail server) and
    /// scheduled board packs (with a mail server).
    pub outbox: outbox::OutboxOptions,
    /// The survey page: the grace period of answers, its rate limits.
    pub surveys: SurveyOptions,
    /// Which of several servers leads (tables on object storage, operational database on
    /// PostgreSQL).
    pub lease: LeaseOptions,
}

/// The default minimum group size.
pub const MIN_GROUP_SIZE: u64 = 20;

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            analysis: AnalysisSettings::default(),
            refresh_every: Duration::from_secs(30),
            ingest: IngestOptions::default(),
            trusted_proxies: Vec::new(),
            min_group_size: MIN_GROUP_SIZE,
            outbox: outbox::OutboxOptions {
                mail: None,
                chromium: None,
                every: Duration::from_secs(60),
                invitations: invitations::InvitationOptions::default(),
            },
            surveys: SurveyOptions::default(),
            lease: LeaseOptions::default(),
        }
    }
}

/// Runs `f` on the operational database, off the async threads.
pub(crate) async fn ops<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&OpsDb) -> cxray_store::Result<T> + Send + 'static,
) -> cxray_store::Result<T> {
    let folder = state.folder.clone();
    tokio::task::spawn_blocking(move || f(&folder.ops_db()?))
        .await
        .map_err(|e| cxray_store::StoreError::Input(format!("operational database task: {e}")))?
}

/// The application's routes. Every route that shows data is behind
/// [`auth::require_read`]; the survey page's are public.
pub fn router(state: AppState) -> Router {
    let read = axum::middleware::from_fn_with_state(state.clone(), auth::require_read);
    routes::pages()
        .merge(admin::routes())
        .merge(api::routes())
        .merge(cases::routes())
        .merge(surveys::routes())
        .merge(initiatives::routes())
        .merge(comments::routes())
        .merge(auth::reading_routes())
        .route_layer(read)
        .merge(api::public_routes())
        .merge(ingest::routes())
        .merge(survey::routes())
        .merge(auth::routes())
        .route("/health", axum::routing::get(telemetry::health))
        .route("/metrics", axum::routing::get(telemetry::metrics))
        .fallback(routes::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            telemetry::observe,
        ))
        .layer(axum::middleware::map_response(security::headers))
        .with_state(state)
}

/// Serves `folder` on `listener` until `shutdown` completes, keeping the analyses fresh
/// in the background. Ingestion recovers first (batches this server acknowledged before a
/// crash are committed before any request is answered, whether it leads or not) and
/// commits what it holds at the end. Ingestion and the background writing are the
/// leader's ([`leader`]).
pub async fn serve(
    listener: TcpListener,
    folder: DataFolder,
    options: ServerOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let ingest = Ingest::open(&folder, options.ingest)
        .await
        .map_err(std::io::Error::other)?;
    let ingest = Arc::new(ingest);
    let local = listener.local_addr()?;
    let address = options.lease.advertise.unwrap_or(format!("http://{local}"));
    let leadership = Leadership::start(&folder, options.lease.every, address);
    let snapshots = Arc::new(Snapshots::new(options.analysis));
    snapshots.keep_fresh(folder.clone(), options.refresh_every);
    let mails_reports = options.outbox.mail.is_some();
    let sending = outbox::keep_delivering(
        folder.clone(),
        snapshots.clone(),
        options.outbox,
        leadership.clone(),
    );
    let scanning = scan::keep_scanning(folder.clone(), ingest.clone(), leadership.clone());
    let committing = survey::keep_committing(
        folder.clone(),
        ingest.clone(),
        options.surveys.commit_every,
        leadership.clone(),
    );
    let secure_cookies = !local.ip().is_loopback();
    let state = AppState {
        folder,
        snapshots: snapshots.clone(),
        secure_cookies,
        trusted_proxies: options.trusted_proxies.into(),
        telemetry: Arc::default(),
        ingest: ingest.clone(),
        min_group_size: options.min_group_size,
        mails_reports,
        surveys: Arc::new(survey::Surveys::new(options.surveys)),
        initiatives: Arc::default(),
        leadership: leadership.clone(),
    };
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    // Analyses stop first, so requests waiting for them are answered and the server can
    // drain its connections at once.
    let stopping = async move {
        shutdown.await;
        // Another server may lead at once; what this one acknowledged is still committed.
        leadership.stop();
        snapshots.stop();
        // A message cut off mid-send stays queued and is sent again: at least once.
        sending.abort();
        // A scan cut off opens nothing (its transaction is not committed); the next
        // start's first commit, or `cxray cases scan`, reads those rows.
        scanning.abort();
        // An answer cut off between its ingestion and its mark is sent again at the next
        // start, under the same idempotency key: written once.
        committing.abort();
    };
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(stopping)
        .await;
    ingest.close().await;
    served
}
