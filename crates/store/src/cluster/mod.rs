//! The Apache DataFusion Ballista cluster (feature `cluster`): sessions whose queries
//! over the tables run on it ([`session`]), and its scheduler and executor processes
//! embedded in cxray ([`process`]).
//!
//! Executors read no Delta log: a session hands each table to the cluster as the list of
//! Parquet files its loaded version consists of ([`session::files`]), so every process
//! reads the same version, and a file a later commit removes is never read. The
//! processes reach object storage with the credentials of their own environment
//! ([`stores::Stores`]).

mod planner;
pub mod process;
pub(crate) mod session;
mod stores;
