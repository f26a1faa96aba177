//! The Arrow schemas of the contract tables, derived from [`cxray_core::domain`].

use std::collections::HashSet;
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

/// Limits on what rows may add to a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most attribute columns a table may have: rows that would add more are refused.
    pub attributes: usize,
    /// The most keys one NDJSON row may have.
    pub keys_per_row: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            attributes: 200,
            keys_per_row: 250,
        }
    }
}

/// A table's attribute columns, and how many it may have.
#[derive(Debug, Clone)]
pub struct Attributes {
    table: Table,
    known: HashSet<String>,
    limit: usize,
}

impl Attributes {
    /// The attribute columns of `table` whose stored schema is `schema`.
    pub fn of(table: Table, schema: &Schema, limit: usize) -> Self {
        let known = schema
            .fields()
            .iter()
            .map(|f| f.name())
            .filter(|n| table.column(n).is_none())
            .cloned()
            .collect();
        Attributes {
            table,
            known,
            limit,
        }
    }

    /// Takes the attribute columns among `names` the table lacks, or refuses them all when
    /// the table would then have more than its limit.
    pub fn admit<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) -> Result<(), String> {
        let mut new: Vec<&str> = names
            .into_iter()
            .filter(|n| self.table.column(n).is_none() && !self.known.contains(*n))
            .collect();
        new.sort_unstable();
        new.dedup();
        let total = self.known.len() + new.len();
        if !new.is_empty() && total > self.limit {
            let shown = new.iter().take(5).copied().collect::<Vec<_>>().join(", ");
            let more = if new.len() > 5 { ", …" } else { "" };
            return Err(format!(
                "{} would have {total} attribute columns with the {} new ones ({shown}{more}); \
                 at most {} are allowed (max_attributes)",
                self.table,
                new.len(),
                self.limit
            ));
        }
        self.known.extend(new.into_iter().map(String::from));
        Ok(())
    }
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

    #[test]
    fn attribute_columns_beyond_the_limit_are_refused_together() {
        let schema = Schema::new(vec![
            field(Table::Transactions.column("amount").unwrap()),
            attribute_field("fare_class"),
        ]);
        let mut attributes = Attributes::of(Table::Transactions, &schema, 3);
        assert_eq!(attributes.admit(["fare_class", "amount", "seat"]), Ok(()));
        let err = attributes.admit(["seat", "gate", "meal"]).unwrap_err();
        assert!(
            err.contains("4 attribute columns with the 2 new ones (gate, meal)"),
            "{err}"
        );
        assert_eq!(attributes.admit(["gate", "seat", "gate"]), Ok(()));
        assert!(attributes.admit(["meal"]).is_err());
        assert_eq!(attributes.admit(["fare_class", "gate"]), Ok(()));
    }
}
