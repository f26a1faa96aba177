//! Query results read by column name: each accessor finds the column, casts it to the
//! type asked for (so an Int32 read as i64, or Utf8View as text, just works), and says
//! which column it could not read instead of panicking when a type changes. Every
//! analysis reads its results this way, never by position: a query's columns are named
//! by its aliases.

use chrono::NaiveDate;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Date32Type, Float64Type, Int64Type};

use crate::{Result, StoreError};

/// One batch's columns, looked up by name.
pub struct Columns<'a> {
    batch: &'a RecordBatch,
}

/// A column cast to one type.
pub struct Column {
    name: String,
    array: ArrayRef,
}

impl<'a> Columns<'a> {
    pub fn new(batch: &'a RecordBatch) -> Self {
        Columns { batch }
    }

    pub fn rows(&self) -> usize {
        self.batch.num_rows()
    }

    fn cast(&self, name: &str, to: &DataType) -> Result<Column> {
        let array = self
            .batch
            .column_by_name(name)
            .ok_or_else(|| StoreError::Decode(format!("the result has no column '{name}'")))?;
        let array = cast(array, to)
            .map_err(|e| StoreError::Decode(format!("column '{name}' as {to}: {e}")))?;
        Ok(Column {
            name: name.to_string(),
            array,
        })
    }

    /// The column as 64-bit integers.
    pub fn int(&self, name: &str) -> Result<Column> {
        self.cast(name, &DataType::Int64)
    }

    /// The column as 64-bit floats.
    pub fn float(&self, name: &str) -> Result<Column> {
        self.cast(name, &DataType::Float64)
    }

    /// The column as text.
    pub fn text(&self, name: &str) -> Result<Column> {
        self.cast(name, &DataType::Utf8)
    }

    /// The column as dates.
    pub fn date(&self, name: &str) -> Result<Column> {
        self.cast(name, &DataType::Date32)
    }
}

impl Column {
    /// Row `r` of an integer column (none where null).
    pub fn i64(&self, r: usize) -> Option<i64> {
        let a = self.array.as_primitive::<Int64Type>();
        (!a.is_null(r)).then(|| a.value(r))
    }

    /// Row `r` of an integer column as a count (0 where null or negative).
    pub fn count(&self, r: usize) -> u64 {
        self.i64(r).map_or(0, |v| v.max(0) as u64)
    }

    /// Row `r` of a float column (none where null).
    pub fn f64(&self, r: usize) -> Option<f64> {
        let a = self.array.as_primitive::<Float64Type>();
        (!a.is_null(r)).then(|| a.value(r))
    }

    /// Row `r` of a text column (none where null).
    pub fn str(&self, r: usize) -> Option<&str> {
        let a = self.array.as_string::<i32>();
        (!a.is_null(r)).then(|| a.value(r))
    }

    /// Row `r` of a date column (none where null).
    pub fn date(&self, r: usize) -> Option<NaiveDate> {
        let a = self.array.as_primitive::<Date32Type>();
        a.is_valid(r).then(|| a.value_as_date(r)).flatten()
    }

    /// Row `r` of an integer column the query never leaves null: an error naming the
    /// column where it is.
    pub fn int_at(&self, r: usize) -> Result<i64> {
        self.i64(r).ok_or_else(|| self.null(r))
    }

    /// Row `r` of a float column the query never leaves null: an error naming the
    /// column where it is.
    pub fn float_at(&self, r: usize) -> Result<f64> {
        self.f64(r).ok_or_else(|| self.null(r))
    }

    fn null(&self, r: usize) -> StoreError {
        StoreError::Decode(format!("column '{}' is null in row {r}", self.name))
    }

    /// The whole column, as cast.
    pub fn array(&self) -> &ArrayRef {
        &self.array
    }
}
