//! The server-rendered pages: each module turns an analysis into HTML; the handlers in
//! `routes` decide who may see what.

pub mod customer;
pub mod data;
pub mod drivers;
pub mod journey;
pub mod journey_map;
pub mod link;
pub mod money;
pub mod pack;
mod pack_cases;
pub mod respondents;
pub mod scorecard;
