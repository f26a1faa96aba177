//! The import readers (CSV, TSV, whitespace, NDJSON, Parquet, gzip) on arbitrary files:
//! every file is imported whole or refused with an input error, never a panic, and a
//! refused file leaves the table as it was.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use cxray_core::domain::Table;
use cxray_store::datafusion::arrow::array::{RecordBatch, StringArray};
use cxray_store::datafusion::arrow::datatypes::{DataType, Field, Schema};
use cxray_store::datafusion::parquet::arrow::ArrowWriter;
use cxray_store::import::{ImportOptions, NoProgress, import};
use cxray_store::{StoreError, tables};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::fresh;

const CSV: &str =
    "customer_id,at,amount,Tier\nc1,2025-01-01,1.5,gold\n\"c,2\",2025-01-02T10:00:00Z,2,\n";
const NDJSON: &str = "{\"customer_id\":\"n1\",\"at\":\"2025-01-01\",\"amount\":3.75,\"note\":\"hi\"}\n{\"customer_id\":2,\"at\":\"2025-01-02\",\"amount\":\"1\"}\n";

/// A small valid Parquet file.
fn parquet() -> Vec<u8> {
    let field = |n: &str| Field::new(n, DataType::Utf8, true);
    let schema = Arc::new(Schema::new(vec![
        field("customer_id"),
        field("at"),
        field("amount"),
    ]));
    let column = |v: &[&str]| Arc::new(StringArray::from(v.to_vec())) as _;
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            column(&["p1", "p2"]),
            column(&["2025-01-01", "2025-01-02"]),
            column(&["1", "2.5"]),
        ],
    )
    .unwrap();
    let mut out = Vec::new();
    let mut w = ArrowWriter::try_new(&mut out, schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// The valid file of each format, by file name extension.
fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("csv", CSV.into()),
        ("tsv", CSV.replace(',', "\t").into()),
        (
            "txt",
            "customer_id at amount\nc1 2025-01-01 1.5\nc2 2025-01-02 7\n".into(),
        ),
        ("ndjson", NDJSON.into()),
        ("parquet", parquet()),
        ("csv.gz", gzip(CSV.as_bytes())),
    ]
}

/// Which seed, arbitrary bytes instead of it, bytes to change (where, to what), how much of
/// the end to cut off.
type Content = (usize, Option<Vec<u8>>, Vec<(usize, u8)>, usize);

/// A file: arbitrary bytes, or a seed with bytes changed and its end cut off.
fn content() -> impl Strategy<Value = Content> {
    (
        0usize..6,
        prop::option::weighted(0.3, prop::collection::vec(any::<u8>(), 0..200)),
        prop::collection::vec((any::<usize>(), any::<u8>()), 0..4),
        any::<usize>(),
    )
}

#[test]
fn any_file_is_imported_whole_or_refused() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (dir, folder) = runtime.block_on(fresh());
    let seeds = seeds();
    let options = ImportOptions {
        actor: "fuzz".into(),
        ..Default::default()
    };
    let rows = || {
        runtime
            .block_on(tables::info(&folder, Table::Transactions))
            .unwrap()
            .rows
    };
    let mut runner = TestRunner::new(Config::with_cases(96));
    let n = std::cell::Cell::new(0);
    runner
        .run(&content(), |(format, bytes, flips, cut)| {
            let (ext, seed) = &seeds[format];
            let mut bytes = bytes.unwrap_or_else(|| seed.clone());
            for (at, byte) in flips {
                if !bytes.is_empty() {
                    let i = at % bytes.len();
                    bytes[i] = byte;
                }
            }
            bytes.truncate(bytes.len() - cut % (bytes.len() / 4 + 1));
            n.set(n.get() + 1);
            let path: PathBuf = dir.path().join(format!("f{}.{ext}", n.get()));
            std::fs::write(&path, &bytes).unwrap();
            let before = rows();
            let result = runtime.block_on(import(
                &folder,
                Table::Transactions,
                &[path],
                &options,
                Arc::new(NoProgress),
            ));
            match result {
                Ok(s) => prop_assert_eq!(rows(), before + s.rows),
                Err(StoreError::Input(_)) => prop_assert_eq!(rows(), before),
                Err(e) => prop_assert!(false, "not an input error: {e}"),
            }
            Ok(())
        })
        .unwrap();
}
