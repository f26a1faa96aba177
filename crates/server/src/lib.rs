//! cxray's HTTP server: `/health`, the server-rendered pages and (later) the JSON API.

mod html;
mod pages;

use std::future::Future;

use axum::Router;
use axum::routing::get;
use cxray_store::DataFolder;
use tokio::net::TcpListener;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub folder: DataFolder,
}

/// The application's routes.
pub fn router(folder: DataFolder) -> Router {
    Router::new()
        .route("/", get(pages::overview))
        .route("/health", get(pages::health))
        .with_state(AppState { folder })
}

/// Serves `folder` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    folder: DataFolder,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(folder))
        .with_graceful_shutdown(shutdown)
        .await
}
