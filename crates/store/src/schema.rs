//! The Arrow schemas of the contract tables, derived from [`cxray_core::domain`].

use std::sync::Arc;

use cxray_core::domain::{Column, ColumnType, MONEY_PRECISION, MONEY_SCALE, Table};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// The Arrow type a contract column is stored as.
pub fn arrow_type(ty: ColumnType) -> DataType {
    match ty {
        ColumnType::Text => DataType::Utf8,
        ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        ColumnType::Date => DataType::Date32,
        ColumnType::Money => DataType::Decimal128(MONEY_PRECISION, MONEY_SCALE as i8),
        ColumnType::Float => DataType::Float64,
        ColumnType::Int => DataType::Int64,
    }
}

/// The Arrow field of a contract column: required columns are not nullable.
pub fn field(column: &Column) -> Field {
    Field::new(column.name, arrow_type(column.ty), !column.required)
}

/// An attribute column: nullable text.
pub fn attribute_field(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}

/// The contract schema of a table (without attribute columns).
pub fn contract_schema(table: Table) -> SchemaRef {
    Arc::new(Schema::new(
        table.columns().iter().map(field).collect::<Vec<_>>(),
    ))
}

/// The normalised name of a source column kept as an attribute: lower case, with every
/// run of characters other than letters, digits and `_` replaced by one `_`.
pub fn attribute_name(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    for ch in source.trim().chars() {
        if ch.is_alphanumeric() || ch == '_' {
            out.extend(ch.to_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_').to_string();
    match out.chars().next() {
        None => "attribute".into(),
        Some(c) if c.is_ascii_digit() => format!("a_{out}"),
        Some(_) => out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_names_are_sql_friendly() {
        assert_eq!(attribute_name(" Home Airport "), "home_airport");
        assert_eq!(attribute_name("Tier/Level"), "tier_level");
        assert_eq!(attribute_name("2nd"), "a_2nd");
        assert_eq!(attribute_name("--"), "attribute");
    }
}
