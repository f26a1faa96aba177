//! The demo world's feedback collection: two surveys with their invitation rules, evaluated
//! on every interaction, and the invitations played forward to the end of the world —
//! answered when the world's customer answered, reminded and expired otherwise — so every
//! survey page and report has content.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use cxray_core::cases::CustomerCondition;
use cxray_core::domain::Table;
use cxray_core::stats::Instrument;
use cxray_core::surveys::{InvitationRule, Survey, SurveyChannel};
use cxray_store::Result;
use cxray_store::datafusion::arrow::datatypes::DataType;
use cxray_store::datafusion::prelude::{cast, col, lit};
use cxray_store::decode::Columns;
use cxray_store::ops::OpsDb;
use cxray_store::sql::Sql;
use cxray_store::surveys::{Replayed, check};

use super::scan;

/// Adds the demo's surveys and rules (once; those whose touchpoint the world has), decides
/// on every interaction, and plays the invitations forward to `end`.
pub async fn plant(sql: &Sql, ops: &OpsDb, end: DateTime<Utc>) -> Result<Replayed> {
    if ops.surveys()?.is_empty() {
        for (survey, rule) in surveys() {
            if check::survey(sql, &survey).await.is_err() {
                continue;
            }
            ops.add_survey("demo", &survey)?;
            ops.add_survey_rule("demo", &rule, None)?;
        }
    }
    scan(sql, ops).await?;
    ops.replay_invitations(end.timestamp(), SurveyChannel::Email, &answered(sql).await?)
}

fn surveys() -> [(Survey, InvitationRule); 2] {
    let survey = |name: &str, touchpoint: &str, questions| Survey {
        name: name.into(),
        touchpoint: Some(touchpoint.into()),
        questions,
        comment: true,
        languages: vec!["en".into(), "de".into(), "fr".into()],
    };
    let rule = |name: &str, survey: &str, touchpoint: &str| InvitationRule {
        name: name.into(),
        survey: survey.into(),
        touchpoint: touchpoint.into(),
        delay_hours: 24.0,
        sample_rate: 0.5,
        customers: None,
        survey_cooldown_days: 90,
        touchpoint_cooldown_days: 0,
    };
    let business = CustomerCondition {
        column: "segment".into(),
        value: "business".into(),
    };
    [
        (
            survey(
                "After check-in",
                "check_in",
                vec![Instrument::Nps, Instrument::Csat],
            ),
            rule("Check-in, next day", "After check-in", "check_in"),
        ),
        (
            survey(
                "Onboard",
                "onboard_service",
                vec![Instrument::Grade, Instrument::Csat],
            ),
            InvitationRule {
                delay_hours: 6.0,
                sample_rate: 1.0,
                customers: Some(business),
                ..rule("Business cabin, same day", "Onboard", "onboard_service")
            },
        ),
    ]
}

/// Each customer's NPS answer times, ascending.
async fn answered(sql: &Sql) -> Result<HashMap<String, Vec<i64>>> {
    let df = sql
        .context()
        .table(Table::Responses.name())
        .await?
        .filter(col("instrument").eq(lit(Instrument::Nps.name())))?
        .select(vec![
            col("customer_id"),
            cast(col("at"), DataType::Int64).alias("at_us"),
        ])?;
    let mut out: HashMap<String, Vec<i64>> = HashMap::new();
    for batch in df.collect().await? {
        let c = Columns::new(&batch);
        let (customer, at) = (c.text("customer_id")?, c.int("at_us")?);
        for r in 0..c.rows() {
            let id = customer.str(r).unwrap_or_default().to_string();
            out.entry(id)
                .or_default()
                .push(at.int_at(r)?.div_euclid(1_000_000));
        }
    }
    out.values_mut().for_each(|times| times.sort_unstable());
    Ok(out)
}
