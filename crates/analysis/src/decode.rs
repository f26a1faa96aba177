//! Query results read by column name: each accessor finds the column, casts it to the
//! type asked for (so an Int32 read as i64, or Utf8View as text, just works), and says
//! which column it could not read instead of panicking when a type changes.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};

use cxray_store::{Result, StoreError};

/// One batch's columns, looked up by name.
pub(crate) struct Columns<'a> {
    batch: &'a RecordBatch,
}

/// A column cast to one type.
pub(crate) struct Column(ArrayRef);

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
        Ok(Column(array))
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
}

impl Column {
    /// Row `r` of an integer column (none where null).
    pub fn i64(&self, r: usize) -> Option<i64> {
        let a = self.0.as_primitive::<Int64Type>();
        (!a.is_null(r)).then(|| a.value(r))
    }

    /// Row `r` of an integer column as a count (0 where null or negative).
    pub fn count(&self, r: usize) -> u64 {
        self.i64(r).map_or(0, |v| v.max(0) as u64)
    }

    /// Row `r` of a float column (none where null).
    pub fn f64(&self, r: usize) -> Option<f64> {
        let a = self.0.as_primitive::<Float64Type>();
        (!a.is_null(r)).then(|| a.value(r))
    }

    /// Row `r` of a text column (none where null).
    pub fn str(&self, r: usize) -> Option<&str> {
        let a = self.0.as_string::<i32>();
        (!a.is_null(r)).then(|| a.value(r))
    }
}
