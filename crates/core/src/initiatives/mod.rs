//! What a change did: the effect of an initiative on a unit × period panel (units such as
//! sites, periods such as weeks), measured against a control.
//!
//! [`Panel`] holds the outcome of each unit in each period and the period each unit's
//! treatment began. [`measure`] chooses an estimator for the design (or takes the one
//! asked for), refuses when the design cannot support a claim, and reports the effect per
//! treated unit and period with its 95% interval, absolute, relative and cumulative, its
//! p-value, the diagnostics and the minimum detectable effect:
//!
//! - difference-in-differences: two-way fixed effects (unit and period) with standard
//!   errors clustered by unit, CR1 as fixest and pyfixest compute them (`regression`), and
//!   an event study with a joint pre-trend test (`event`);
//! - staggered adoption: Sun & Abraham (2021)'s interacted event study, each adoption
//!   cohort's effects against the never-treated (or the last-treated) units, aggregated
//!   by the treated observations of each cell (`event`);
//! - synthetic control (Abadie, Diamond & Hainmueller 2010) on the pre-period outcomes,
//!   with in-space placebos (`synthetic`);
//! - a randomized pilot: the units' post-period means compared with CUPED on their
//!   pre-period means (`pilot`).
//!
//! [`business_case`] prices a measured effect a year — failures avoided, defections
//! avoided or revenue — against the change's costs, with intervals (`value`);
//! [`what_if`] prices a proposed fix before it is made, from the dropout model's odds
//! ratio, and [`shopping_list`] ranks the candidates (`whatif`).

mod design;
mod event;
mod measure;
mod panel;
mod pilot;
mod record;
mod regression;
mod synthetic;
mod value;
mod whatif;

pub use design::{Design, Estimator, Refusal, Rules};
pub use event::{Coefficient, DroppedTerm};
pub use measure::{Diagnostics, Effect, Measurement, Point, Request, measure};
pub use panel::{Panel, Row};
pub use record::{Initiative, RecordError, Scope, Status};
pub use synthetic::{Placebo, Weight};
pub use value::{Benefit, BusinessCase, Costs, Months, Payback, business_case};
pub use whatif::{Fix, ShoppingList, WhatIf, excess_dropout, shopping_list, what_if};

/// A panel that cannot be analysed, or an estimator that failed on it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InitiativeError {
    #[error("the panel has no rows")]
    NoRows,
    #[error("row {row}: outcome of unit '{unit}' in period {period} is not a finite number")]
    NonFinite {
        row: usize,
        unit: String,
        period: i64,
    },
    #[error("row {row}: unit '{unit}' has period {period} twice")]
    Duplicate {
        row: usize,
        unit: String,
        period: i64,
    },
    #[error(
        "row {row}: unit '{unit}' has treated_from {given}, but {earlier} in an earlier row \
         (one start per unit)"
    )]
    TreatedFrom {
        row: usize,
        unit: String,
        given: String,
        earlier: String,
    },
    /// Not returned by [`measure`], which reports such a design as a [`Refusal`]
    /// (`Unidentified`, `TooFewObservations`).
    #[error("the treatment cannot be told apart from the unit and period effects")]
    Collinear,
    #[error("{what} is {value}: {rule}")]
    Invalid {
        what: &'static str,
        value: f64,
        rule: &'static str,
    },
    #[error(transparent)]
    Stats(#[from] crate::stats::StatsError),
}
