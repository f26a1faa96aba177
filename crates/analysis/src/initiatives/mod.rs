//! Initiatives measured on data: a query's result read as a unit × period panel
//! (`unit`, `period`, `outcome`, `treated_from`) and measured by
//! `core::initiatives::measure`; proposed fixes priced before they are made ([`what_ifs`]).

mod data;
mod panel;
mod value;
mod whatif;

pub use data::{Outcome, check_scope};
pub use panel::{PeriodKind, panel_sql};
pub use value::{Valued, value_of};
pub use whatif::{Proposal, Unpriced, WhatIfs, what_ifs};

use cxray_core::initiatives::{Initiative, Measurement, Panel, Request, measure};
use cxray_store::sql::Sql;
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

/// Measures a recorded initiative's effect on `outcome` from the interactions.
pub async fn measure_initiative(
    sql: &Sql,
    initiative: &Initiative,
    outcome: Outcome,
    request: &Request,
) -> Result<Measured> {
    let panel = data::panel(sql, initiative, outcome).await?;
    measured(PeriodKind::Date, &panel, request)
}
