//! Driver analysis on data: any query's result (first column the outcome, the others the
//! predictors), statistics by `core::drivers`.

use cxray_core::drivers::{Analysis, Dataset, Options, analyse};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, SchemaRef};

use cxray_store::sql::Sql;
use cxray_store::{Result, StoreError};

/// Runs `query` and analyses its result: the first column explained by the others.
pub async fn drivers_sql(sql: &Sql, query: &str, options: &Options) -> Result<Analysis> {
    let (schema, batches) = sql.query(query).await?;
    if schema.fields().len() < 2 {
        return Err(StoreError::Input(
            "the query needs an outcome column and at least one predictor column".into(),
        ));
    }
    let columns = numeric_columns(&schema, &batches)?;
    analyse_columns(&schema, &columns, options)
}

/// Analyses named numeric columns, the first the outcome.
fn analyse_columns(
    schema: &SchemaRef,
    columns: &[Vec<f64>],
    options: &Options,
) -> Result<Analysis> {
    let mut data = Dataset::new(&columns[0]);
    for (field, values) in schema.fields().iter().zip(columns).skip(1) {
        data = data.predictor(field.name().clone(), values);
    }
    analyse(&data, options).map_err(StoreError::analysis)
}

/// Every column as numbers (booleans as 0/1), refusing text and missing values by name
/// and row.
fn numeric_columns(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Vec<Vec<f64>>> {
    let mut columns: Vec<Vec<f64>> = vec![Vec::new(); schema.fields().len()];
    let mut row0 = 0;
    for batch in batches {
        for (i, field) in schema.fields().iter().enumerate() {
            let array = batch.column(i);
            let numeric = array.data_type().is_numeric() || *array.data_type() == DataType::Boolean;
            if !numeric {
                return Err(StoreError::Input(format!(
                    "column {} is {}, not a number: cast or encode it (e.g. CASE WHEN … THEN 1 ELSE 0 END)",
                    field.name(),
                    array.data_type()
                )));
            }
            let values = cast(array, &DataType::Float64)?;
            let values = values.as_primitive::<Float64Type>();
            if let Some(r) = (0..values.len()).find(|&r| values.is_null(r)) {
                return Err(StoreError::Input(format!(
                    "column {} is NULL in row {}: drivers need complete rows (filter with IS NOT NULL or COALESCE)",
                    field.name(),
                    row0 + r + 1
                )));
            }
            columns[i].extend(values.values().iter());
        }
        row0 += batch.num_rows();
    }
    Ok(columns)
}
