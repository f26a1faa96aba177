//! The pure core of cxray: domain types, statistics, driver analysis, customer-base models and the demo
//! world simulator. No I/O, no async: everything here is a function of its inputs.

pub mod access;
pub mod cases;
pub mod comments;
pub mod domain;
pub mod drivers;
pub mod erasure;
pub mod initiatives;
pub mod models;
pub mod names;
pub mod rng;
pub mod schedule;
pub mod stats;
pub mod surveys;
pub mod targets;
pub mod text;
pub mod webhook;
pub mod world;
