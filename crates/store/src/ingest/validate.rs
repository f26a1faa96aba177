//! A request's NDJSON rows, validated by the importer's own code: the rows go through the
//! NDJSON visitor of [`crate::import::source`] and [`BatchBuilder::append`], exactly as
//! the rows of an imported NDJSON file, so the API accepts what `cxray import` accepts.

use cxray_core::domain::Table;
use datafusion::arrow::array::RecordBatch;
use serde::Serialize;
use serde_json::{Map, Value};

use super::IngestError;
use crate::import::batch::BatchBuilder;
use crate::import::plan::Plan;
use crate::import::source::{self, Fields, RowSink};
use crate::import::values::TimeParser;
use crate::{Result, StoreError};

/// A row refused: its 0-based line in the request body and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejection {
    pub index: usize,
    pub reason: String,
}

/// A request's rows as one Arrow batch, and the body's hash (to tell a re-sent batch
/// from a different one under the same idempotency key).
#[derive(Debug)]
pub(crate) struct Validated {
    pub batch: RecordBatch,
    pub hash: String,
}

/// Validates every row of `body` (NDJSON; blank lines are skipped) for `table`: the batch
/// of all rows, or every bad row with its reason.
pub(crate) fn validate(table: Table, body: &[u8]) -> Result<Validated, IngestError> {
    let lines: Vec<(usize, &[u8])> = body
        .split(|b| *b == b'\n')
        .enumerate()
        .filter(|(_, line)| !line.trim_ascii().is_empty())
        .collect();
    if lines.is_empty() {
        return Err(IngestError::Empty);
    }
    let mut rejected = Vec::new();
    let indexes: Vec<usize> = lines.iter().map(|(i, _)| *i).collect();
    match rows(table, body, &indexes, &mut rejected) {
        Ok(batch) if rejected.is_empty() => Ok(Validated {
            batch,
            hash: blake3::hash(body).to_hex().to_string(),
        }),
        Ok(_) => Err(IngestError::Rejected(rejected)),
        // A line that is not one flat JSON object: find every such line, and the bad rows
        // among the others.
        Err(_) => Err(IngestError::Rejected(line_by_line(table, &lines)?)),
    }
}

/// Every bad line of a body that is not all flat JSON objects, with its reason.
fn line_by_line(table: Table, lines: &[(usize, &[u8])]) -> Result<Vec<Rejection>> {
    let mut rejected = Vec::new();
    let mut objects = Vec::new();
    for &(index, line) in lines {
        match flat_object(line) {
            Ok(()) => objects.push((index, line)),
            Err(reason) => rejected.push(Rejection { index, reason }),
        }
    }
    if !objects.is_empty() {
        let text = objects
            .iter()
            .map(|(_, l)| *l)
            .collect::<Vec<_>>()
            .join(&b'\n');
        let indexes: Vec<usize> = objects.iter().map(|(i, _)| *i).collect();
        rows(table, &text, &indexes, &mut rejected)?;
    }
    rejected.sort_by_key(|r| r.index);
    Ok(rejected)
}

/// The number of rows in a body that [`validate`] accepted.
pub(crate) fn count_rows(body: &[u8]) -> u64 {
    body.split(|b| *b == b'\n')
        .filter(|l| !l.trim_ascii().is_empty())
        .count() as u64
}

/// Checks that a line is one JSON object with no nested values (as the importer needs).
/// Only for bodies the importer's reader refused, to say which lines and why.
fn flat_object(line: &[u8]) -> Result<(), String> {
    let object: Map<String, Value> =
        serde_json::from_slice(line).map_err(|e| format!("not a JSON object ({e})"))?;
    match object.iter().find(|(_, v)| v.is_array() || v.is_object()) {
        Some((name, _)) => Err(format!("{name}: nested values are not accepted")),
        None => Ok(()),
    }
}

/// Runs the JSON objects of `text` (line `i` of it is line `indexes[i]` of the body)
/// through the importer's validation; the bad rows go to `rejected`.
fn rows(
    table: Table,
    text: &[u8],
    indexes: &[usize],
    rejected: &mut Vec<Rejection>,
) -> Result<RecordBatch> {
    let mut sink = Rows {
        table,
        builder: None,
        indexes,
        rejected,
    };
    let columns: Vec<&str> = table.columns().iter().map(|c| c.name).collect();
    source::visit_ndjson_text(text, &columns, &mut sink)?;
    Ok(sink.builder.expect("a header").finish())
}

struct Rows<'a> {
    table: Table,
    builder: Option<BatchBuilder>,
    indexes: &'a [usize],
    rejected: &'a mut Vec<Rejection>,
}

impl RowSink for Rows<'_> {
    fn header(&mut self, names: &[String]) -> Result<bool> {
        // Every contract column is among the names, so the plan always resolves.
        let plan = Plan::resolve(self.table, &[], names, true).map_err(StoreError::Input)?;
        let time = TimeParser::new(None, None).map_err(StoreError::Input)?;
        self.builder = Some(BatchBuilder::new(self.table, plan, time));
        Ok(true)
    }

    fn row(&mut self, line: u64, fields: &dyn Fields) -> Result<()> {
        let builder = self.builder.as_mut().expect("header seen first");
        if let Err(e) = builder.append(fields) {
            self.rejected.push(Rejection {
                index: self.indexes[line as usize - 1],
                reason: e.reason,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(body: &str) -> Vec<(usize, String)> {
        match validate(Table::Transactions, body.as_bytes()) {
            Err(IngestError::Rejected(r)) => r.into_iter().map(|r| (r.index, r.reason)).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn good_rows_become_one_batch_with_attributes() {
        let body = "{\"customer_id\":\"c1\",\"at\":\"2025-01-02T03:04:05Z\",\"amount\":12.5,\"Fare Class\":\"Y\"}\n\n\
                    {\"customer_id\":7,\"at\":\"2025-01-03\",\"amount\":\"3\",\"quantity\":2}\n";
        let v = validate(Table::Transactions, body.as_bytes()).unwrap();
        assert_eq!(v.batch.num_rows(), 2);
        let names: Vec<_> = v
            .batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(
            names,
            [
                "customer_id",
                "at",
                "amount",
                "order_id",
                "quantity",
                "currency",
                "fare_class"
            ]
        );
        assert_eq!(count_rows(body.as_bytes()), 2);
    }

    #[test]
    fn every_bad_row_is_named_with_its_line() {
        let body = "{\"customer_id\":\"c1\",\"at\":\"2025-01-02\",\"amount\":1}\n\
                    {\"customer_id\":\"c2\",\"at\":\"yesterday\",\"amount\":1}\n\
                    not json\n\
                    {\"customer_id\":\"c3\",\"amount\":1}\n\
                    {\"customer_id\":\"c4\",\"at\":\"2025-01-02\",\"amount\":[1]}\n\
                    {\"customer_id\":\"c5\",\"at\":\"2025-01-02\",\"amount\":-1,\"quantity\":-2}";
        let r = reasons(body);
        let lines: Vec<usize> = r.iter().map(|(i, _)| *i).collect();
        assert_eq!(lines, [1, 2, 3, 4, 5], "{r:?}");
        assert!(r[0].1.starts_with("at: "), "{r:?}");
        assert!(r[1].1.starts_with("not a JSON object"), "{r:?}");
        assert_eq!(r[2].1, "at: missing value");
        assert_eq!(r[3].1, "amount: nested values are not accepted");
        assert_eq!(r[4].1, "quantity: '-2' must not be negative");
    }

    #[test]
    fn an_empty_body_has_no_rows() {
        assert!(matches!(
            validate(Table::Transactions, b"\n \n"),
            Err(IngestError::Empty)
        ));
    }
}
