//! Integration tests of cxray-core.

mod cdnow;
mod drivers;
mod initiatives;
mod initiatives_placebo;
mod initiatives_sparse;
mod models_cdnow;
mod models_predict;
mod models_sbg;
mod models_sim;
mod stats_coverage;
mod terms;
mod topics;
mod vader;
