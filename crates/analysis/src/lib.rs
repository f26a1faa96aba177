//! cxray's analysis layer: typed queries and analyses over the store's tables — the
//! journey and its derived trips, the loyalty engine, survey metrics and the
//! satisfaction–loyalty link, driver analysis, the scorecard, a customer's timeline — the
//! product settings they share, and the orchestration of a snapshot. The command line
//! and the server call these; none of them reads a table directly.

pub mod board;
pub mod cases;
pub mod comments;
mod cpu;
pub mod customer;
pub mod drivers;
pub mod groups;
pub mod initiatives;
pub mod journey;
pub mod loyalty;
pub mod metrics;
pub mod scorecard;
pub mod settings;
pub mod snapshot;
pub mod surveys;
pub mod world;
