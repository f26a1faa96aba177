//! A request's NDJSON rows, validated by the importer's own code: the rows go through the
//! NDJSON visitor of [`crate::import::source`] and [`BatchBuilder::append`], exactly as
//! the rows of an imported NDJSON file, so the API accepts what `cxray import` accepts.

use std::sync::Arc;

use cxray_core::domain::Table;
use datafusion::arrow::array::RecordBatch;
use serde::Serialize;
use serde_json::{Map, Value};

use super::IngestError;
use crate::erased::Erased;
use crate::import::batch::BatchBuilder;
use crate::import::plan::{Plan, PlanError};
use crate::import::source::{self, Fields, HeaderAt, KeyLimits, RowSink, is_blank};
use crate::import::values::TimeParser;
use crate::{Result, StoreError};

/// The most invalid rows a refusal lists; the rest are only counted.
pub const MAX_LISTED: usize = 1000;

/// A row refused: its 0-based line in the request body and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejection {
    pub index: usize,
    pub reason: String,
}

/// A batch's invalid rows: the first [`MAX_LISTED`] by line, and how many there are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rejections {
    pub listed: Vec<Rejection>,
    pub count: usize,
}

impl Rejections {
    fn push(&mut self, index: usize, reason: String) {
        self.count += 1;
        if self.listed.len() < MAX_LISTED {
            self.listed.push(Rejection { index, reason });
        }
    }

    /// Both lists' rows, the first [`MAX_LISTED`] by line.
    fn merge(mut self, other: Rejections) -> Rejections {
        self.count += other.count;
        self.listed.extend(other.listed);
        self.listed.sort_by_key(|r| r.index);
        self.listed.truncate(MAX_LISTED);
        self
    }
}

/// A request's rows as one Arrow batch, and the body's hash (to tell a re-sent batch
/// from a different one under the same idempotency key).
#[derive(Debug)]
pub(crate) struct Validated {
    pub batch: RecordBatch,
    pub hash: String,
}

/// The lines of `body` (0-based index, content).
fn lines(body: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    body.split(|b| *b == b'\n').enumerate()
}

/// Validates every row of `body` (NDJSON; blank lines are skipped) for `table`, refusing
/// the rows of `erased` customers: the batch of all rows, or the bad rows with their
/// reasons.
pub(crate) fn validate(
    table: Table,
    body: &[u8],
    keys: KeyLimits,
    erased: &Arc<Erased>,
) -> Result<Validated, IngestError> {
    let Some(first) = lines(body).find(|(_, l)| !is_blank(l)).map(|(i, _)| i) else {
        return Err(IngestError::Empty);
    };
    let mut rejected = Rejections::default();
    match rows(table, body, keys, erased, &mut rejected) {
        Ok(Some(batch)) if rejected.count == 0 => Ok(Validated {
            batch,
            hash: blake3::hash(body).to_hex().to_string(),
        }),
        Ok(_) => Err(IngestError::Rejected(rejected)),
        // A line that is not one flat JSON object: find every such line, and the bad rows
        // among the others.
        Err(e) => {
            let mut rejected = line_by_line(table, body, keys, erased);
            if rejected.count == 0 {
                rejected.push(first, e.to_string());
            }
            Err(IngestError::Rejected(rejected))
        }
    }
}

/// The bad lines of a body that is not all flat JSON objects, with their reasons.
fn line_by_line(table: Table, body: &[u8], keys: KeyLimits, erased: &Arc<Erased>) -> Rejections {
    let mut rejected = Rejections::default();
    // The body with its bad lines blanked, so lines keep their numbers.
    let mut text = Vec::with_capacity(body.len());
    let mut objects = 0;
    for (index, line) in lines(body) {
        if index > 0 {
            text.push(b'\n');
        }
        if is_blank(line) {
            continue;
        }
        match flat_object(line) {
            Ok(()) => {
                text.extend_from_slice(line);
                objects += 1;
            }
            Err(reason) => rejected.push(index, reason),
        }
    }
    let mut others = Rejections::default();
    if objects > 0
        && let Err(e) = rows(table, &text, keys, erased, &mut others)
    {
        let first = lines(&text)
            .find(|(_, l)| !is_blank(l))
            .map_or(0, |(i, _)| i);
        others.push(first, e.to_string());
    }
    rejected.merge(others)
}

/// The number of rows in a body that [`validate`] accepted.
pub(crate) fn count_rows(body: &[u8]) -> u64 {
    lines(body).filter(|(_, l)| !is_blank(l)).count() as u64
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

/// Runs the JSON objects of `text` (one per non-blank line) through the importer's
/// validation; the bad rows go to `rejected`. `None` when the rows were refused as a whole
/// (colliding keys, too many keys): `rejected` says why.
fn rows(
    table: Table,
    text: &[u8],
    keys: KeyLimits,
    erased: &Arc<Erased>,
    rejected: &mut Rejections,
) -> Result<Option<RecordBatch>> {
    let mut sink = Rows {
        table,
        erased,
        builder: None,
        lines: Box::new(lines(text).filter(|(_, l)| !is_blank(l)).map(|(i, _)| i)),
        rejected,
        refused: false,
    };
    let columns: Vec<&str> = table.columns().iter().map(|c| c.name).collect();
    match source::visit_ndjson_text(text, &columns, keys, &mut sink) {
        Err(_) if sink.refused => Ok(None),
        Err(e) => Err(e),
        Ok(()) => Ok(sink.builder.map(|mut b| b.finish())),
    }
}

struct Rows<'a> {
    table: Table,
    erased: &'a Arc<Erased>,
    builder: Option<BatchBuilder>,
    /// The body line of each row to come.
    lines: Box<dyn Iterator<Item = usize> + 'a>,
    rejected: &'a mut Rejections,
    /// The rows were refused as a whole.
    refused: bool,
}

impl RowSink for Rows<'_> {
    fn header(&mut self, names: &[String], at: &HeaderAt) -> Result<bool> {
        // Every contract column is among the names, so only colliding keys can fail.
        let plan = match Plan::resolve(self.table, &[], names, true) {
            Ok(plan) => plan,
            Err(e @ PlanError::Collision { second, .. }) => {
                return Err(self.refuse(at.line(second).unwrap_or(1), e.to_string()));
            }
            Err(e) => return Err(StoreError::Input(e.to_string())),
        };
        let time = TimeParser::new(None, None).map_err(StoreError::Input)?;
        let builder = BatchBuilder::new(self.table, plan, time).refusing(self.erased.clone());
        self.builder = Some(builder);
        Ok(true)
    }

    fn row(&mut self, _: u64, fields: &dyn Fields) -> Result<()> {
        let (Some(builder), Some(index)) = (self.builder.as_mut(), self.lines.next()) else {
            return Err(StoreError::Input("more rows than lines".into()));
        };
        if let Err(e) = builder.append(fields) {
            self.rejected.push(index, e.reason);
        }
        Ok(())
    }

    fn refuse(&mut self, line: u64, reason: String) -> StoreError {
        self.refused = true;
        self.rejected
            .push(line.saturating_sub(1) as usize, reason.clone());
        StoreError::Input(reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> KeyLimits {
        KeyLimits::new(Table::Transactions, crate::schema::Limits::default())
    }

    /// Validates a transactions body with the default limits.
    fn check(body: &str) -> Result<Validated, IngestError> {
        validate(
            Table::Transactions,
            body.as_bytes(),
            keys(),
            &Arc::default(),
        )
    }

    fn reasons(body: &str) -> Vec<(usize, String)> {
        refused(body, keys())
    }

    /// The lines and reasons of a refused body.
    fn refused(body: &str, limits: KeyLimits) -> Vec<(usize, String)> {
        match validate(
            Table::Transactions,
            body.as_bytes(),
            limits,
            &Arc::default(),
        ) {
            Err(IngestError::Rejected(r)) => {
                assert_eq!(r.count, r.listed.len());
                r.listed.into_iter().map(|r| (r.index, r.reason)).collect()
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn good_rows_become_one_batch_with_attributes() {
        let body = "{\"customer_id\":\"c1\",\"at\":\"2025-01-02T03:04:05Z\",\"amount\":12.5,\"Fare Class\":\"Y\"}\n\n\
                    {\"customer_id\":7,\"at\":\"2025-01-03\",\"amount\":\"3\",\"quantity\":2}\n";
        let v = check(body).unwrap();
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
        assert!(matches!(check("\n \n"), Err(IngestError::Empty)));
    }

    #[test]
    fn keys_that_become_one_column_are_refused_with_their_line() {
        let body = "{\"customer_id\":\"c1\",\"at\":\"2025-01-02\",\"amount\":1,\"Fare Class\":\"Y\"}\n\
                    \n\
                    {\"customer_id\":\"c2\",\"at\":\"2025-01-02\",\"amount\":1,\"fare_class\":\"J\"}";
        assert_eq!(
            reasons(body),
            [(
                2,
                "'Fare Class' and 'fare_class' both become the column 'fare_class': rename or drop one"
                    .to_string()
            )]
        );
    }

    #[test]
    fn rows_beyond_the_key_limits_are_refused_with_their_line() {
        let limits = KeyLimits {
            per_row: 5,
            distinct: 6,
        };
        let row = |extra: &str| {
            format!("{{\"customer_id\":\"c\",\"at\":\"2025-01-02\",\"amount\":1{extra}}}\n")
        };
        let body = row(",\"a\":1,\"b\":2") + &row(",\"a\":1,\"b\":2,\"c\":3");
        let r = refused(&body, limits);
        assert_eq!(r[0].0, 1);
        assert!(
            r[0].1.starts_with("6 keys: a row may have at most 5"),
            "{r:?}"
        );
        let body = row(",\"a\":1,\"b\":2") + &row(",\"c\":1,\"d\":2") + &row(",\"e\":1");
        let r = refused(&body, limits);
        assert_eq!(r[0].0, 1);
        assert!(
            r[0].1.starts_with("key 'd': more than 6 distinct keys"),
            "{r:?}"
        );
    }

    #[test]
    fn a_line_is_one_object() {
        let good = "{\"customer_id\":\"c1\",\"at\":\"2025-01-02\",\"amount\":1}";
        let bad = "{\"customer_id\":\"c2\"}";
        let r = reasons(&format!(
            "{good} {bad}\n{good}\n{{\"customer_id\":\n\"c3\"}}"
        ));
        let lines: Vec<usize> = r.iter().map(|(i, _)| *i).collect();
        assert_eq!(lines, [0, 2, 3], "{r:?}");
        assert!(r[0].1.contains("trailing characters"), "{r:?}");
    }

    #[test]
    fn numbers_keep_every_digit() {
        let body = "{\"customer_id\":1,\"at\":\"2025-01-02\",\"amount\":12345678901234.5678}";
        let v = check(body).unwrap();
        let amount = v.batch.column_by_name("amount").unwrap();
        let amount = amount
            .as_any()
            .downcast_ref::<datafusion::arrow::array::Decimal128Array>()
            .unwrap();
        assert_eq!(amount.value(0), 123_456_789_012_345_678);
    }

    #[test]
    fn a_refusal_keeps_the_first_rejections_and_counts_the_rest() {
        let body = "x\n{}\n".repeat(MAX_LISTED * 3);
        let Err(IngestError::Rejected(r)) = check(&body) else {
            panic!("accepted")
        };
        assert_eq!((r.count, r.listed.len()), (MAX_LISTED * 6, MAX_LISTED));
        let lines: Vec<usize> = r.listed.iter().map(|r| r.index).collect();
        assert_eq!(lines, (0..MAX_LISTED).collect::<Vec<_>>());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        /// Any body: no panic; an accepted batch has one row per non-blank line; a refusal
        /// names lines of the body, at most [`MAX_LISTED`] of them.
        #[test]
        fn any_body_is_accepted_whole_or_refused_by_line(
            lines in proptest::collection::vec(line(), 0..12)
        ) {
            let body = lines.join("\n");
            match check(&body) {
                Ok(v) => proptest::prop_assert_eq!(v.batch.num_rows() as u64, count_rows(body.as_bytes())),
                Err(IngestError::Rejected(r)) => {
                    proptest::prop_assert!(r.count >= r.listed.len() && !r.listed.is_empty());
                    let count = body.split('\n').count();
                    proptest::prop_assert!(r.listed.iter().all(|x| x.index < count));
                }
                Err(IngestError::Empty) => proptest::prop_assert_eq!(count_rows(body.as_bytes()), 0),
                Err(e) => proptest::prop_assert!(false, "{}", e),
            }
        }
    }

    /// A line: a row, a row with odd keys or values, or arbitrary text.
    fn line() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let value = prop_oneof![
            Just("1".to_string()),
            Just("-0.00005".to_string()),
            Just("123456789012345678901".to_string()),
            Just("\"2025-01-02\"".to_string()),
            Just("null".to_string()),
            Just("[1]".to_string()),
            "[a-z0-9 .:-]{0,8}".prop_map(|s| format!("{s:?}")),
        ];
        let key = prop_oneof![
            Just("customer_id".to_string()),
            Just("at".to_string()),
            Just("amount".to_string()),
            Just("quantity".to_string()),
            "[A-Za-z _-]{0,5}",
        ];
        let object = proptest::collection::vec((key, value), 0..6).prop_map(|kv| {
            let fields: Vec<String> = kv.iter().map(|(k, v)| format!("{k:?}:{v}")).collect();
            format!("{{{}}}", fields.join(","))
        });
        prop_oneof![4 => object, 1 => any::<String>(), 1 => "[{} \\r\\t\"a:,]{0,12}"]
    }
}
