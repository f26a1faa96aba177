//! The source events a rule matches, as a DataFusion plan over the rows its source table
//! gained since the rule's watermark, narrowed to the rule's customers: the rule's values
//! enter as literals, never as SQL text, and only the matches are collected, decoded by
//! column name.

use std::collections::HashSet;

use chrono::DateTime;
use cxray_core::cases::{Comparison, Experience, ScoreCondition, Trigger, event_key};
use cxray_core::domain::Table;
use cxray_store::Result;
use cxray_store::cases::{Candidate, Rule};
use cxray_store::datafusion::arrow::datatypes::{DataType, Schema};
use cxray_store::datafusion::prelude::{DataFrame, Expr, cast, col, lit};
use cxray_store::decode::{Column, Columns};
use cxray_store::sql::{Sql, of_customers, of_customers_meeting, typed};

use super::valued::above_clv;

/// The longest comment a case quotes, in characters.
const COMMENT_CHARS: usize = 500;

/// The events of `rows` (the source table's new rows) that the rule's `condition`
/// ([`condition`]) matches, with the owner their row names (interactions); those of
/// `cooling` customers (in the rule's cooldown: they open no case) are only counted.
pub async fn matches(
    sql: &Sql,
    rule: &Rule,
    rows: DataFrame,
    condition: Expr,
    cooling: &HashSet<String>,
) -> Result<(Vec<Candidate>, usize)> {
    let Some(df) = narrow(sql, rule, rows.filter(condition)?).await? else {
        return Ok((Vec::new(), 0));
    };
    let table = rule.trigger.table().expect("rules with a source table");
    decoded(df, table, cooling).await
}

/// The events of `df` (rows of `table`) as candidates, but those of `cooling` customers,
/// which are counted.
pub(super) async fn decoded(
    df: DataFrame,
    table: Table,
    cooling: &HashSet<String>,
) -> Result<(Vec<Candidate>, usize)> {
    let df = df.select(columns(table))?;
    let (mut out, mut skipped) = (Vec::new(), 0);
    for batch in df.collect().await? {
        skipped += decode(&Columns::new(&batch), table, cooling, &mut out)?;
    }
    Ok((out, skipped))
}

/// `df` (with `customer_id`) narrowed to the rule's customers: those meeting its
/// conditions on customers' columns and above its CLV percentile; none when it asks for
/// a percentile and customers are not valued.
pub(super) async fn narrow(sql: &Sql, rule: &Rule, df: DataFrame) -> Result<Option<DataFrame>> {
    let mut df = of_customers_meeting(sql, df, &rule.customers).await?;
    if let Some(p) = rule.clv_percentile {
        match above_clv(sql, p).await? {
            Some(ids) => df = of_customers(df, ids)?,
            None => {
                tracing::warn!(
                    rule = rule.id,
                    "customers are not valued: the rule matches nothing"
                );
                return Ok(None);
            }
        }
    }
    Ok(Some(df))
}

/// The rule's condition on a row of its source table (whose columns are `schema`), given
/// the touchpoint's longest acceptable wait for rules on waits: the values enter as
/// literals. None when nothing can match (a rule on waits at a touchpoint whose service
/// level was removed).
pub fn condition(rule: &Rule, max_wait: Option<f64>, schema: &Schema) -> Result<Option<Expr>> {
    let Some(mut e) = on_row(rule, max_wait) else {
        return Ok(None);
    };
    if let Some(since) = rule.since {
        let instant = typed(schema, "at", &since.to_rfc3339())?;
        e = e.and(col("at").gt_eq(lit(instant)));
    }
    Ok(Some(e))
}

/// The rule's condition on a row but its start.
fn on_row(rule: &Rule, max_wait: Option<f64>) -> Option<Expr> {
    match &rule.trigger {
        Trigger::Survey {
            instrument,
            condition,
            touchpoint,
        } => {
            let mut e = col("instrument")
                .eq(lit(instrument.name()))
                .and(score(condition));
            if let Some(tp) = touchpoint {
                e = e.and(col("touchpoint").eq(lit(tp.as_str())));
            }
            Some(e)
        }
        Trigger::Interaction {
            touchpoint,
            experience,
        } => {
            let failed = col("outcome").eq(lit("failed"));
            let slow = max_wait.map(|w| col("wait_seconds").gt(lit(w)));
            let bad = match (experience, slow) {
                (Experience::Failed, _) => failed,
                (Experience::OverSla, Some(slow)) => slow,
                (Experience::Bad, Some(slow)) => failed.or(slow),
                (Experience::Bad, None) => failed,
                (Experience::OverSla, None) => {
                    tracing::warn!(rule = rule.id, %touchpoint, "no service level for waits: the rule matches nothing");
                    return None;
                }
            };
            Some(col("touchpoint").eq(lit(touchpoint.as_str())).and(bad))
        }
        Trigger::Behaviour { .. } => None,
    }
}

fn score(c: &ScoreCondition) -> Expr {
    let (score, with) = (col("score"), lit(c.score));
    match c.comparison {
        Comparison::AtMost => score.lt_eq(with),
        Comparison::AtLeast => score.gt_eq(with),
        Comparison::Below => score.lt(with),
        Comparison::Above => score.gt(with),
        Comparison::Equal => score.eq(with),
    }
}

/// The columns a case needs, named: the time as microseconds since the epoch.
fn columns(table: Table) -> Vec<Expr> {
    let mut out = vec![
        col("customer_id"),
        cast(col("at"), DataType::Int64).alias("at_us"),
        col("touchpoint"),
    ];
    out.extend(match table {
        Table::Responses => vec![col("instrument"), col("score"), col("comment")],
        _ => vec![col("owner"), col("outcome"), col("wait_seconds")],
    });
    out
}

/// Decodes the batch's events into `out`, but those of `cooling` customers, which it counts.
fn decode(
    c: &Columns,
    table: Table,
    cooling: &HashSet<String>,
    out: &mut Vec<Candidate>,
) -> Result<usize> {
    let customer = c.text("customer_id")?;
    let (at, touchpoint) = (c.int("at_us")?, c.text("touchpoint")?);
    let specific = Specific::of(c, table)?;
    let mut skipped = 0;
    for r in 0..c.rows() {
        let customer_id = customer.str(r).unwrap_or_default();
        if cooling.contains(customer_id) {
            skipped += 1;
            continue;
        }
        let customer_id = customer_id.to_string();
        let micros = at.int_at(r)?;
        let tp = touchpoint.str(r);
        let (detail, owner, instrument) = specific.row(r)?;
        let mut fields = vec![customer_id.as_str(), tp.unwrap_or("")];
        let time = micros.to_string();
        fields.push(&time);
        fields.extend(instrument);
        out.push(Candidate {
            key: event_key(table, &fields),
            at: DateTime::from_timestamp_micros(micros).unwrap_or_default(),
            customer_id,
            touchpoint: tp.map(str::to_string),
            detail,
            owner,
        });
    }
    Ok(skipped)
}

/// The columns of a batch that only one source table has.
enum Specific {
    Answer {
        instrument: Column,
        score: Column,
        comment: Column,
    },
    Experience {
        owner: Column,
        outcome: Column,
        wait: Column,
    },
}

impl Specific {
    fn of(c: &Columns, table: Table) -> Result<Self> {
        Ok(match table {
            Table::Responses => Specific::Answer {
                instrument: c.text("instrument")?,
                score: c.float("score")?,
                comment: c.text("comment")?,
            },
            _ => Specific::Experience {
                owner: c.text("owner")?,
                outcome: c.text("outcome")?,
                wait: c.float("wait_seconds")?,
            },
        })
    }

    /// Row `r`'s detail for the case, the owner it names, and its instrument (a field of
    /// an answer's key).
    fn row(&self, r: usize) -> Result<(String, Option<String>, Option<&str>)> {
        Ok(match self {
            Specific::Answer {
                instrument,
                score,
                comment,
            } => {
                let name = instrument.str(r).unwrap_or_default();
                (
                    answer(name, score.float_at(r)?, comment.str(r)),
                    None,
                    Some(name),
                )
            }
            Specific::Experience {
                owner,
                outcome,
                wait,
            } => (
                experience(outcome.str(r), wait.f64(r)),
                owner.str(r).map(str::to_string),
                None,
            ),
        })
    }
}

/// An answer for the case: `nps 3: "the queue was endless"`.
fn answer(instrument: &str, score: f64, comment: Option<&str>) -> String {
    let comment: Option<String> = comment
        .filter(|c| !c.trim().is_empty())
        .map(|c| c.chars().take(COMMENT_CHARS).collect());
    match comment {
        Some(c) => format!("{instrument} {score}: \"{c}\""),
        None => format!("{instrument} {score}"),
    }
}

/// An experience for the case: `failed`, `waited 1,250 s`, or both.
fn experience(outcome: Option<&str>, wait: Option<f64>) -> String {
    let wait = wait.map(|w| format!("waited {w:.0} s"));
    match (outcome, wait) {
        (Some(o), Some(w)) => format!("{o}, {w}"),
        (Some(o), None) => o.to_string(),
        (None, Some(w)) => w,
        (None, None) => "interaction".into(),
    }
}
