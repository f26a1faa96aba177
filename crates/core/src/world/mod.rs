//! The demo world simulator: a described world (journeys, touchpoints, owners, failure
//! rates, effects, survey design) turned into event rows with a known truth.
//!
//! The format of a world file is documented in `docs/world.md`; the built-in airline is
//! `airline.toml`.

mod calendar;
pub mod comments;
pub mod followup;
mod plan;
pub mod records;
mod sim;
pub mod spec;
pub mod truth;

#[cfg(test)]
mod tests;

pub use sim::{simulate, simulate_with_progress, simulate_with_rules};
pub use spec::{Spec, WorldError};
pub use truth::Truth;

/// A parsed and validated world description.
#[derive(Debug, Clone, PartialEq)]
pub struct World {
    spec: Spec,
    plan: plan::Plan,
}

impl World {
    /// The built-in fictional airline.
    pub fn airline() -> World {
        World::from_toml(include_str!("airline.toml")).expect("the built-in airline is valid")
    }

    /// Parses and validates a TOML world description.
    pub fn from_toml(text: &str) -> Result<World, WorldError> {
        World::new(Spec::parse(text)?)
    }

    /// Validates a description.
    pub fn new(spec: Spec) -> Result<World, WorldError> {
        spec.validate()?;
        let plan = plan::Plan::new(&spec)?;
        Ok(World { spec, plan })
    }

    /// The description.
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// The description as TOML, readable by [`World::from_toml`].
    pub fn to_toml(&self) -> String {
        toml::to_string(&self.spec).expect("a world description serializes")
    }

    pub(crate) fn plan(&self) -> &plan::Plan {
        &self.plan
    }
}
