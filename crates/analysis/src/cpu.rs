//! CPU-bound work (model fits, bootstrap resamples) off the async task that drives the
//! queries, so the parts of a snapshot that run concurrently keep their queries going.

use cxray_store::{Result, StoreError};
use datafusion::error::DataFusionError;

/// Runs `work` on the blocking pool; a panic in it resumes here.
pub async fn run<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => Err(StoreError::Query(DataFusionError::External(Box::new(e)))),
        },
    }
}
