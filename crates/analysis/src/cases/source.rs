//! The source event of a case, read back from its table: the answer with its comment, or
//! the interaction. Only contract columns are read (attribute columns may hold contact
//! details); the case's values enter the plan as literals.

use chrono::{DateTime, Duration, Utc};
use cxray_core::cases::Trigger;
use cxray_core::domain::Table;
use cxray_store::Result;
use cxray_store::cases::{Case, Rule};
use cxray_store::datafusion::arrow::datatypes::DataType;
use cxray_store::datafusion::prelude::{Expr, cast, col, lit};
use cxray_store::decode::Columns;
use cxray_store::sql::{Sql, typed};
use serde::Serialize;

/// What happened to the customer, as the source table holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceEvent {
    /// A survey answer.
    Answer {
        at: DateTime<Utc>,
        touchpoint: Option<String>,
        instrument: String,
        score: f64,
        comment: Option<String>,
    },
    /// An interaction at a touchpoint.
    Interaction {
        at: DateTime<Utc>,
        touchpoint: String,
        owner: Option<String>,
        channel: Option<String>,
        outcome: Option<String>,
        wait_seconds: Option<f64>,
    },
}

/// The event `case` was opened for by `rule`, if its table still holds it (none for a
/// case opened by hand).
pub async fn source_event(sql: &Sql, case: &Case, rule: &Rule) -> Result<Option<SourceEvent>> {
    let Some(table) = rule.trigger.table() else {
        return Ok(None);
    };
    let Ok(at) = case.event_at.parse::<DateTime<Utc>>() else {
        return Ok(None);
    };
    let df = sql.context().table(table.name()).await?;
    let schema = df.schema().as_arrow().clone();
    // Times are stored to the second: the event is within that second.
    let from = lit(typed(&schema, "at", &at.to_rfc3339())?);
    let to = lit(typed(
        &schema,
        "at",
        &(at + Duration::seconds(1)).to_rfc3339(),
    )?);
    let mut filter = col("customer_id")
        .eq(lit(case.customer_id.as_str()))
        .and(col("at").gt_eq(from))
        .and(col("at").lt(to))
        .and(match &case.touchpoint {
            Some(tp) => col("touchpoint").eq(lit(tp.as_str())),
            None => col("touchpoint").is_null(),
        });
    if let Trigger::Survey { instrument, .. } = &rule.trigger {
        filter = filter.and(col("instrument").eq(lit(instrument.name())));
    }
    let df = df
        .filter(filter)?
        .select(columns(table))?
        .limit(0, Some(1))?;
    for batch in df.collect().await? {
        let c = Columns::new(&batch);
        if c.rows() > 0 {
            return decode(&c, table).map(Some);
        }
    }
    Ok(None)
}

fn columns(table: Table) -> Vec<Expr> {
    let mut out = vec![
        cast(col("at"), DataType::Int64).alias("at_us"),
        col("touchpoint"),
    ];
    out.extend(match table {
        Table::Responses => vec![col("instrument"), col("score"), col("comment")],
        _ => vec![
            col("owner"),
            col("channel"),
            col("outcome"),
            col("wait_seconds"),
        ],
    });
    out
}

fn decode(c: &Columns, table: Table) -> Result<SourceEvent> {
    let at = DateTime::from_timestamp_micros(c.int("at_us")?.int_at(0)?).unwrap_or_default();
    let text =
        |name: &str| -> Result<Option<String>> { Ok(c.text(name)?.str(0).map(str::to_string)) };
    Ok(match table {
        Table::Responses => SourceEvent::Answer {
            at,
            touchpoint: text("touchpoint")?,
            instrument: text("instrument")?.unwrap_or_default(),
            score: c.float("score")?.float_at(0)?,
            comment: text("comment")?.filter(|t| !t.trim().is_empty()),
        },
        _ => SourceEvent::Interaction {
            at,
            touchpoint: text("touchpoint")?.unwrap_or_default(),
            owner: text("owner")?,
            channel: text("channel")?,
            outcome: text("outcome")?,
            wait_seconds: c.float("wait_seconds")?.f64(0),
        },
    })
}
