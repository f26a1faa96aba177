//! The import plan: which source column feeds each contract column, and which source
//! columns are kept as attributes.

use std::collections::HashMap;

use cxray_core::domain::Table;

use crate::schema::attribute_name;

/// Where a contract column's values come from in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceColumn {
    /// A header name (matched case-insensitively, ignoring spaces and punctuation).
    Name(String),
    /// A 1-based column position.
    Position(usize),
}

impl std::str::FromStr for SourceColumn {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("empty source column".into());
        }
        Ok(match s.parse::<usize>() {
            Ok(0) => return Err("column positions start at 1".into()),
            Ok(n) => SourceColumn::Position(n),
            Err(_) => SourceColumn::Name(s.to_string()),
        })
    }
}

/// Parses `field=source,field=source`.
pub fn parse_map(text: &str) -> Result<Vec<(String, SourceColumn)>, String> {
    text.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|pair| {
            let (field, source) = pair
                .split_once('=')
                .ok_or_else(|| format!("mapping: '{pair}' is not field=source"))?;
            let source = source
                .parse()
                .map_err(|e| format!("mapping: {pair}: {e}"))?;
            Ok((field.trim().to_string(), source))
        })
        .collect()
}

/// Why a source's columns cannot be imported.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    /// The mapping does not fit the source.
    #[error("{0}")]
    Mapping(String),
    /// Two source columns (0-based `first` < `second`) would become one column.
    #[error("'{}' and '{}' both become the column '{column}': rename or drop one", .names[0], .names[1])]
    Collision {
        first: usize,
        second: usize,
        names: [String; 2],
        column: String,
    },
}

/// The resolved plan for one file.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// For each contract column (in contract order): the 0-based source index.
    pub contract: Vec<Option<usize>>,
    /// Attribute columns: name and 0-based source index.
    pub attributes: Vec<(String, usize)>,
    /// How many fields a row is expected to have.
    pub width: usize,
}

impl Plan {
    /// Resolves the mapping for a source whose first row is `first` and which has a
    /// header or not. Without a header and without a mapping, columns are taken in the
    /// contract's order.
    pub fn resolve(
        table: Table,
        map: &[(String, SourceColumn)],
        first: &[String],
        has_header: bool,
    ) -> Result<Plan, PlanError> {
        for (field, _) in map {
            if table.column(field).is_none() {
                let names: Vec<_> = table.columns().iter().map(|c| c.name).collect();
                return Err(PlanError::Mapping(format!(
                    "mapping: {table} has no column '{field}' (columns: {})",
                    names.join(", ")
                )));
            }
        }
        let width = first.len();
        let normalized: Vec<String> = first.iter().map(|n| attribute_name(n)).collect();
        let find = |source: &SourceColumn| -> Result<usize, String> {
            match source {
                SourceColumn::Position(p) if *p <= width => Ok(p - 1),
                SourceColumn::Position(p) => Err(format!(
                    "column {p} is beyond the {width} columns of the first row"
                )),
                SourceColumn::Name(_) if !has_header => {
                    Err("names need a header row (or use positions)".into())
                }
                SourceColumn::Name(n) => normalized
                    .iter()
                    .position(|h| *h == attribute_name(n))
                    .ok_or_else(|| format!("no column '{n}' in the header ({})", first.join(", "))),
            }
        };
        let positional = !has_header && map.is_empty();
        let mut contract = Vec::new();
        for (i, col) in table.columns().iter().enumerate() {
            let source = match map.iter().find(|(f, _)| f == col.name) {
                Some((_, s)) => Some(
                    find(s)
                        .map_err(|e| PlanError::Mapping(format!("mapping {}: {e}", col.name)))?,
                ),
                None if positional => (i < width).then_some(i),
                None if has_header => normalized.iter().position(|h| h == col.name),
                None => None,
            };
            if col.required && source.is_none() {
                return Err(PlanError::Mapping(format!(
                    "required column '{}' is not in the source{}: give it a mapping {}=<column name or position>",
                    col.name,
                    if has_header {
                        format!(" (header: {})", first.join(", "))
                    } else {
                        String::new()
                    },
                    col.name
                )));
            }
            contract.push(source);
        }
        let attributes: Vec<(String, usize)> = (0..width)
            .filter(|i| !contract.contains(&Some(*i)))
            .map(|i| {
                let base = if has_header {
                    normalized[i].clone()
                } else {
                    format!("column_{}", i + 1)
                };
                let name = if table.column(&base).is_some() {
                    format!("source_{base}")
                } else {
                    base
                };
                (name, i)
            })
            .collect();
        unique(&attributes, first)?;
        Ok(Plan {
            contract,
            attributes,
            width,
        })
    }

    /// Whether a first row looks like a header for `table`: one of its fields names a
    /// contract column or a mapped source column.
    pub fn looks_like_header(
        table: Table,
        map: &[(String, SourceColumn)],
        first: &[String],
    ) -> bool {
        first.iter().map(|f| attribute_name(f)).any(|f| {
            table.column(&f).is_some()
                || map
                    .iter()
                    .any(|(_, s)| matches!(s, SourceColumn::Name(n) if attribute_name(n) == f))
        })
    }
}

/// Refuses two attribute columns with one name (their source names differ only in case
/// or punctuation, or normalise to nothing).
fn unique(attributes: &[(String, usize)], first: &[String]) -> Result<(), PlanError> {
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(attributes.len());
    for (name, i) in attributes {
        if let Some(earlier) = seen.insert(name, *i) {
            let raw = |j: usize| first.get(j).cloned().unwrap_or_default();
            return Err(PlanError::Collision {
                first: earlier,
                second: *i,
                names: [raw(earlier), raw(*i)],
                column: name.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn cdnow_master_by_name() {
        let first = names(&["customer_id", "date", "number_of_cds", "dollar_value"]);
        let map = parse_map("at=date,amount=dollar_value,quantity=number_of_cds").unwrap();
        assert!(Plan::looks_like_header(Table::Transactions, &map, &first));
        let plan = Plan::resolve(Table::Transactions, &map, &first, true).unwrap();
        assert_eq!(
            plan.contract,
            vec![Some(0), Some(1), Some(3), None, Some(2), None]
        );
        assert!(plan.attributes.is_empty());
    }

    #[test]
    fn cdnow_sample_by_position() {
        let first = names(&["00004", "0001", "19970101", "2", "29.33"]);
        let map = parse_map("customer_id=1,at=3,amount=5").unwrap();
        assert!(!Plan::looks_like_header(Table::Transactions, &map, &first));
        let plan = Plan::resolve(Table::Transactions, &map, &first, false).unwrap();
        assert_eq!(plan.contract[..3], [Some(0), Some(2), Some(4)]);
        assert_eq!(
            plan.attributes,
            vec![("column_2".into(), 1), ("column_4".into(), 3)]
        );
    }

    #[test]
    fn missing_and_unknown_columns_are_named() {
        let first = names(&["customer_id", "when", "amount"]);
        let err = Plan::resolve(Table::Transactions, &[], &first, true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("required column 'at'"), "{err}");
        let err = Plan::resolve(
            Table::Transactions,
            &parse_map("at=time").unwrap(),
            &first,
            true,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("no column 'time'"), "{err}");
        let err = Plan::resolve(
            Table::Transactions,
            &parse_map("price=3").unwrap(),
            &first,
            true,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("has no column 'price'"), "{err}");
        assert!(parse_map("at").is_err());
        assert!(parse_map("at=0").is_err());
    }

    #[test]
    fn extra_columns_become_attributes() {
        let first = names(&["Customer ID", "at", "amount", "Fare Class"]);
        let plan = Plan::resolve(Table::Transactions, &[], &first, true).unwrap();
        assert_eq!(plan.attributes, vec![("fare_class".into(), 3)]);
    }

    #[test]
    fn names_that_become_one_column_are_refused() {
        let first = names(&[
            "customer_id",
            "at",
            "amount",
            "Fare Class",
            "x",
            "fare_class",
        ]);
        let err = Plan::resolve(Table::Transactions, &[], &first, true).unwrap_err();
        assert_eq!(
            err,
            PlanError::Collision {
                first: 3,
                second: 5,
                names: ["Fare Class".into(), "fare_class".into()],
                column: "fare_class".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "'Fare Class' and 'fare_class' both become the column 'fare_class': rename or drop one"
        );
        let first = names(&["customer_id", "at", "amount", "--", "!!"]);
        let err = Plan::resolve(Table::Transactions, &[], &first, true).unwrap_err();
        assert!(
            matches!(
                err,
                PlanError::Collision {
                    first: 3,
                    second: 4,
                    ..
                }
            ),
            "{err}"
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Whatever the header, a plan's columns have distinct names, and a refusal names
        /// two source columns that do normalise to one name.
        #[test]
        fn a_plan_never_has_two_columns_of_one_name(
            extra in proptest::collection::vec("[ A-Za-z_./-]{0,6}", 0..8)
        ) {
            let mut first = names(&["customer_id", "at", "amount"]);
            first.extend(extra);
            match Plan::resolve(Table::Transactions, &[], &first, true) {
                Ok(plan) => {
                    let mut columns: Vec<String> = Table::Transactions
                        .columns()
                        .iter()
                        .zip(&plan.contract)
                        .filter(|(_, s)| s.is_some())
                        .map(|(c, _)| c.name.to_string())
                        .chain(plan.attributes.iter().map(|(n, _)| n.clone()))
                        .collect();
                    let all = columns.len();
                    columns.sort();
                    columns.dedup();
                    proptest::prop_assert_eq!(columns.len(), all);
                }
                Err(PlanError::Collision { first: a, second: b, column, .. }) => {
                    proptest::prop_assert!(a < b);
                    let base = |i: usize| attribute_name(&first[i]);
                    let named = |i: usize| base(i) == column || format!("source_{}", base(i)) == column;
                    proptest::prop_assert!(named(a) && named(b));
                }
                Err(e) => proptest::prop_assert!(false, "{}", e),
            }
        }
    }
}
