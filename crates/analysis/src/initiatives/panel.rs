//! A query's result as a panel: its columns found by name and typed, each row checked.

use chrono::NaiveDate;
use cxray_core::initiatives::{Panel, Row};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, Schema};
use serde::Serialize;

use cxray_store::decode::{Column, Columns};
use cxray_store::sql::Sql;
use cxray_store::{Result, StoreError};

/// The columns a panel query names.
const COLUMNS: [&str; 4] = ["unit", "period", "outcome", "treated_from"];

/// How a panel's periods read: whole numbers (a year, a quarter's number) or dates (kept
/// as days since 1970-01-01).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    Number,
    Date,
}

impl PeriodKind {
    /// A period for people.
    pub fn text(self, period: i64) -> String {
        match self {
            PeriodKind::Number => period.to_string(),
            PeriodKind::Date => date(period).map_or(period.to_string(), |d| d.to_string()),
        }
    }

    /// The kind of a column's type; none for types a period cannot have.
    fn of(t: &DataType) -> Option<PeriodKind> {
        match t {
            t if t.is_integer() => Some(PeriodKind::Number),
            DataType::Date32 | DataType::Date64 | DataType::Timestamp(..) => Some(PeriodKind::Date),
            _ => None,
        }
    }

    fn column(self, c: &Columns, name: &str) -> Result<Column> {
        match self {
            PeriodKind::Number => c.int(name),
            PeriodKind::Date => c.date(name),
        }
    }

    fn value(self, column: &Column, r: usize) -> Option<i64> {
        match self {
            PeriodKind::Number => column.i64(r),
            PeriodKind::Date => column.date(r).map(|d| (d - epoch()).num_days()),
        }
    }
}

fn epoch() -> NaiveDate {
    NaiveDate::default()
}

fn date(days: i64) -> Option<NaiveDate> {
    epoch().checked_add_signed(chrono::TimeDelta::try_days(days)?)
}

/// Runs `query` and reads its result as a panel. Refused as bad input: a missing column,
/// an outcome that is not a number, periods that are neither whole numbers nor dates (or a
/// start of another kind), a null where a value is needed, and the panel's own checks
/// (rows numbered from 1).
pub async fn panel_sql(sql: &Sql, query: &str) -> Result<(PeriodKind, Panel)> {
    let (schema, batches) = sql.query(query).await?;
    let kind = check(&schema)?;
    let rows = rows(&batches, kind)?;
    let panel = Panel::new(&rows).map_err(|e| StoreError::analysis(e).within("the panel"))?;
    Ok((kind, panel))
}

/// The period kind, after checking the columns' names and types.
fn check(schema: &Schema) -> Result<PeriodKind> {
    let field = |name: &str| {
        schema.field_with_name(name).map_err(|_| {
            StoreError::Input(format!(
                "the query has no column {name}: a panel needs {} (… AS {name})",
                COLUMNS.join(", ")
            ))
        })
    };
    let outcome = field("outcome")?.data_type();
    if !outcome.is_numeric() {
        return Err(StoreError::Input(format!(
            "column outcome is {outcome}, not a number"
        )));
    }
    field("unit")?;
    let period = field("period")?.data_type();
    let kind = PeriodKind::of(period).ok_or_else(|| {
        StoreError::Input(format!(
            "column period is {period}: periods are whole numbers (a year, a quarter's number) or dates"
        ))
    })?;
    let start = field("treated_from")?.data_type();
    if *start != DataType::Null && PeriodKind::of(start) != Some(kind) {
        return Err(StoreError::Input(format!(
            "column treated_from is {start} but period is {period}: the start is a period of the same kind"
        )));
    }
    Ok(kind)
}

fn rows(batches: &[RecordBatch], kind: PeriodKind) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for batch in batches {
        let c = Columns::new(batch);
        let (unit, period) = (c.text("unit")?, kind.column(&c, "period")?);
        let (outcome, start) = (c.float("outcome")?, kind.column(&c, "treated_from")?);
        for r in 0..c.rows() {
            let null = |name: &str| {
                StoreError::Input(format!(
                    "the panel: row {}: column {name} is NULL (filter with IS NOT NULL or COALESCE)",
                    rows.len() + 1
                ))
            };
            rows.push(Row {
                unit: unit.str(r).ok_or_else(|| null("unit"))?.to_string(),
                period: kind.value(&period, r).ok_or_else(|| null("period"))?,
                outcome: outcome.f64(r).ok_or_else(|| null("outcome"))?,
                treated_from: kind.value(&start, r),
            });
        }
    }
    Ok(rows)
}
