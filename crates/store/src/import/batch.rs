//! Turning rows of text fields into typed Arrow record batches, one validated row at a
//! time: a row either enters the batch whole or is rejected with the column and reason.

use std::sync::Arc;

use cxray_core::domain::{self, Column, ColumnType, MONEY_PRECISION, MONEY_SCALE, Rule, Table};
use datafusion::arrow::array::{
    ArrayBuilder, ArrayRef, Date32Builder, Decimal128Builder, Float64Builder, Int64Builder,
    RecordBatch, StringBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};

use super::plan::Plan;
use super::source::Fields;
use super::values::{self, TimeParser};
use crate::erased::{self, Erased};
use crate::schema::{attribute_field, field};

/// A parsed value, before it is appended.
#[derive(Debug, Clone, PartialEq)]
enum Value<'a> {
    Null,
    Text(&'a str),
    Owned(String),
    Micros(i64),
    Days(i32),
    Decimal(i128),
    Float(f64),
    Int(i64),
}

/// Why a row was rejected: the 1-based source column (if one is to blame) and reason.
#[derive(Debug, Clone, PartialEq)]
pub struct RowError {
    pub column: Option<usize>,
    pub reason: String,
    /// The row is an erased customer's: never set aside where it would be kept.
    pub erased: bool,
}

enum Builder {
    Text(StringBuilder),
    Micros(TimestampMicrosecondBuilder),
    Days(Date32Builder),
    Decimal(Decimal128Builder),
    Float(Float64Builder),
    Int(Int64Builder),
}

impl Builder {
    fn new(ty: ColumnType) -> Self {
        match ty {
            ColumnType::Text => Builder::Text(StringBuilder::new()),
            ColumnType::Timestamp => {
                Builder::Micros(TimestampMicrosecondBuilder::new().with_timezone("UTC"))
            }
            ColumnType::Date => Builder::Days(Date32Builder::new()),
            ColumnType::Money => Builder::Decimal(
                Decimal128Builder::new()
                    .with_precision_and_scale(MONEY_PRECISION, MONEY_SCALE as i8)
                    .expect("valid decimal type"),
            ),
            ColumnType::Float => Builder::Float(Float64Builder::new()),
            ColumnType::Int => Builder::Int(Int64Builder::new()),
        }
    }

    fn append(&mut self, value: Value) {
        match (self, value) {
            (Builder::Text(b), Value::Text(s)) => b.append_value(s),
            (Builder::Text(b), Value::Owned(s)) => b.append_value(s),
            (Builder::Micros(b), Value::Micros(v)) => b.append_value(v),
            (Builder::Days(b), Value::Days(v)) => b.append_value(v),
            (Builder::Decimal(b), Value::Decimal(v)) => b.append_value(v),
            (Builder::Float(b), Value::Float(v)) => b.append_value(v),
            (Builder::Int(b), Value::Int(v)) => b.append_value(v),
            (b, Value::Null) => b.append_null(),
            (_, v) => unreachable!("value {v:?} does not fit its column"),
        }
    }

    fn append_null(&mut self) {
        match self {
            Builder::Text(b) => b.append_null(),
            Builder::Micros(b) => b.append_null(),
            Builder::Days(b) => b.append_null(),
            Builder::Decimal(b) => b.append_null(),
            Builder::Float(b) => b.append_null(),
            Builder::Int(b) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        let b: &mut dyn ArrayBuilder = match self {
            Builder::Text(b) => b,
            Builder::Micros(b) => b,
            Builder::Days(b) => b,
            Builder::Decimal(b) => b,
            Builder::Float(b) => b,
            Builder::Int(b) => b,
        };
        b.finish()
    }
}

/// Builds record batches of one table from rows under a [`Plan`].
pub struct BatchBuilder {
    table: Table,
    plan: Plan,
    time: TimeParser,
    schema: SchemaRef,
    contract: Vec<Builder>,
    attributes: Vec<StringBuilder>,
    rows: usize,
    /// The position of `customer_id` among the contract columns, if the table has one.
    customer: Option<usize>,
    erased: Arc<Erased>,
}

impl BatchBuilder {
    /// A builder for `table` under `plan`, parsing times with `time`.
    pub fn new(table: Table, plan: Plan, time: TimeParser) -> Self {
        let mut fields: Vec<Field> = table
            .columns()
            .iter()
            .zip(&plan.contract)
            .filter(|(_, source)| source.is_some())
            .map(|(c, _)| field(c))
            .collect();
        fields.extend(
            plan.attributes
                .iter()
                .map(|(name, _)| attribute_field(name)),
        );
        let contract = table.columns().iter().map(|c| Builder::new(c.ty)).collect();
        let attributes = plan
            .attributes
            .iter()
            .map(|_| StringBuilder::new())
            .collect();
        BatchBuilder {
            table,
            plan,
            time,
            schema: Arc::new(Schema::new(fields)),
            contract,
            attributes,
            rows: 0,
            customer: table.columns().iter().position(|c| c.name == "customer_id"),
            erased: Arc::default(),
        }
    }

    /// The builder refusing the rows of the `erased` customers.
    pub fn refusing(self, erased: Arc<Erased>) -> Self {
        BatchBuilder { erased, ..self }
    }

    /// Rows appended since the last [`BatchBuilder::finish`].
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Validates a row and appends it, or says why it was rejected (appending nothing).
    pub fn append(&mut self, fields: &dyn Fields) -> Result<(), RowError> {
        if fields.width() != self.plan.width {
            return Err(RowError {
                column: None,
                reason: format!(
                    "expected {} fields, found {}",
                    self.plan.width,
                    fields.width()
                ),
                erased: false,
            });
        }
        let mut values: Vec<Value> = Vec::with_capacity(self.contract.len());
        let mut instrument = "";
        for (col, source) in self.table.columns().iter().zip(&self.plan.contract) {
            let text = source.and_then(|i| fields.get(i));
            let value = self
                .parse(col, text, instrument)
                .map_err(|reason| RowError {
                    column: source.map(|i| i + 1),
                    reason: format!("{}: {reason}", col.name),
                    erased: false,
                })?;
            if let (true, Value::Owned(s)) = (col.name == "instrument", &value) {
                instrument = domain::INSTRUMENTS
                    .iter()
                    .find(|i| **i == s)
                    .copied()
                    .unwrap_or("");
            }
            values.push(value);
        }
        self.check_erased(&values)?;
        for (builder, value) in self.contract.iter_mut().zip(values) {
            builder.append(value);
        }
        for (builder, (_, i)) in self.attributes.iter_mut().zip(&self.plan.attributes) {
            builder.append_option(fields.get(*i));
        }
        self.rows += 1;
        Ok(())
    }

    /// Refuses the row of an erased customer.
    fn check_erased(&self, values: &[Value]) -> Result<(), RowError> {
        let Some(i) = self.customer else {
            return Ok(());
        };
        match values.get(i) {
            Some(Value::Text(id)) if self.erased.refuses(id) => Err(RowError {
                column: self.plan.contract[i].map(|c| c + 1),
                reason: format!("customer_id: {}", erased::REFUSED),
                erased: true,
            }),
            _ => Ok(()),
        }
    }

    fn parse<'a>(
        &self,
        col: &Column,
        text: Option<&'a str>,
        instrument: &str,
    ) -> Result<Value<'a>, String> {
        let Some(text) = text else {
            return if col.required {
                Err("missing value".into())
            } else {
                Ok(Value::Null)
            };
        };
        let value = match col.ty {
            ColumnType::Text => match col.rule {
                Rule::OneOf(allowed) => {
                    let lower = text.to_ascii_lowercase();
                    if !allowed.contains(&lower.as_str()) {
                        return Err(format!("'{text}' is not one of {}", allowed.join(", ")));
                    }
                    Value::Owned(lower)
                }
                _ => Value::Text(text),
            },
            ColumnType::Timestamp => Value::Micros(self.time.timestamp(text)?),
            ColumnType::Date => Value::Days(self.time.date(text)?),
            ColumnType::Money => {
                Value::Decimal(values::decimal(text, MONEY_PRECISION, MONEY_SCALE)?)
            }
            ColumnType::Float if col.rule == Rule::Score => {
                Value::Float(domain::parse_score(instrument, text)?)
            }
            ColumnType::Float => Value::Float(values::float(text)?),
            ColumnType::Int => Value::Int(values::int(text)?),
        };
        let negative =
            matches!(value, Value::Float(v) if v < 0.0) || matches!(value, Value::Int(v) if v < 0);
        if col.rule == Rule::NonNegative && negative {
            return Err(format!("'{text}' must not be negative"));
        }
        Ok(value)
    }

    /// The rows appended so far as a record batch (only the mapped contract columns and
    /// the attributes), resetting the builder.
    pub fn finish(&mut self) -> RecordBatch {
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
        for (builder, source) in self.contract.iter_mut().zip(&self.plan.contract) {
            let array = builder.finish();
            if source.is_some() {
                columns.push(array);
            }
        }
        columns.extend(
            self.attributes
                .iter_mut()
                .map(|b| Arc::new(b.finish()) as ArrayRef),
        );
        self.rows = 0;
        RecordBatch::try_new(self.schema.clone(), columns).expect("columns match the schema")
    }
}
