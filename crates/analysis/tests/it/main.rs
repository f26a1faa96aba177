//! Integration tests of the analyses against real Delta tables built by the importer and
//! the demo world, in temporary folders.

mod cases;
mod comments;
#[path = "../../../store/tests/it/common.rs"]
mod common;
mod demo;
mod groups;
mod ingested;
mod journey;
mod loyalty;
mod metrics;
mod scorecard;
mod surveys;

pub use common::{cdnow, fresh, query};
