//! Initiatives measured on data: a query's result read as a unit × period panel
//! (`unit`, `period`, `outcome`, `treated_from`) and measured by
//! `core::initiatives::measure`; a recorded initiative's [`report`] (the measurement and,
//! on the failure rate, its business case); proposed fixes priced before they are made
//! ([`what_ifs`]).

mod data;
mod outcome;
mod panel;
mod value;
mod whatif;

pub use data::check_scope;
pub use outcome::Outcome;
pub use panel::{PeriodKind, panel_sql};
pub use value::{Basis, Valued, value_of};
pub use whatif::{Proposal, Unpriced, WhatIfs, costs, dropout_odds, reduction, what_ifs};

use cxray_core::initiatives::{Initiative, Measurement, Panel, Request, measure};
use cxray_store::sql::Sql;

use crate::journey::JourneyOptions;
use cxray_store::{Result, StoreError};
use serde::Serialize;

/// A measurement with how its periods read (numbers, or days as dates).
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    pub periods: PeriodKind,
    #[serde(flatten)]
    pub measurement: Measurement,
}

/// Runs `query` (columns unit, period, outcome, treated_from; files by path allowed) and
/// measures the effect on its panel.
pub async fn measure_sql(sql: &Sql, query: &str, request: &Request) -> Result<Measured> {
    let (periods, panel) = panel_sql(sql, query).await?;
    measured(periods, &panel, request)
}

fn measured(periods: PeriodKind, panel: &Panel, request: &Request) -> Result<Measured> {
    let measurement = measure(panel, request).map_err(StoreError::analysis)?;
    Ok(Measured {
        periods,
        measurement,
    })
}

/// Measures a recorded initiative's effect on `outcome` from the interactions, leaving
/// judged over the journey's window.
pub async fn measure_initiative(
    sql: &Sql,
    opts: &JourneyOptions,
    initiative: &Initiative,
    outcome: Outcome,
    request: &Request,
) -> Result<Measured> {
    let panel = data::panel(sql, initiative, outcome, opts.window_days).await?;
    measured(PeriodKind::Date, &panel, request)
}

/// A recorded initiative's measurement and, on the failure rate, leaving or revenue, its
/// business case; `claim` says whether the design supports a claim (else `refusal` says
/// why).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub claim: bool,
    #[serde(flatten)]
    pub measured: Measured,
    pub business_case: Option<Valued>,
}

/// Measures `initiative` on `outcome` and, for the failure rate, leaving or revenue,
/// prices the effect over `years` (the journey of `opts` gives the excess leaving and the
/// CLV).
pub async fn report(
    sql: &Sql,
    opts: &JourneyOptions,
    initiative: &Initiative,
    outcome: Outcome,
    (request, years): (&Request, f64),
) -> Result<Report> {
    let measured = measure_initiative(sql, opts, initiative, outcome, request).await?;
    let m = &measured.measurement;
    let business_case = match &m.effect {
        Some(effect) => value_of(sql, opts, initiative, (effect, outcome), years).await?,
        None => None,
    };
    Ok(Report {
        claim: m.refusal.is_none() && m.effect.is_some(),
        measured,
        business_case,
    })
}
