use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cxray_core::domain::Table;
use cxray_store::import::plan::parse_map;
use cxray_store::import::{ImportOptions, ImportSummary, NoProgress, import};
use cxray_store::ops::OpsDb;
use cxray_store::{DataFolder, ErrorKind, StoreError};

use crate::{cdnow, fresh, query, query_as_of, versions};

fn options(map: &str, date_format: Option<&str>) -> ImportOptions {
    ImportOptions {
        map: parse_map(map).unwrap(),
        date_format: date_format.map(String::from),
        actor: "test".into(),
        ..Default::default()
    }
}

async fn run(
    folder: &DataFolder,
    table: Table,
    files: &[PathBuf],
    o: &ImportOptions,
) -> Result<ImportSummary, StoreError> {
    import(folder, table, files, o, Arc::new(NoProgress)).await
}

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// The exact total of the last column of a whitespace file, in hundredths.
fn total_cents(path: &Path, skip_header: bool) -> i128 {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(skip_header as usize)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let value = l.split_whitespace().last().unwrap();
            let (int, frac) = value.split_once('.').unwrap_or((value, ""));
            let frac = format!("{frac:0<2}");
            int.parse::<i128>().unwrap() * 100 + frac[..2].parse::<i128>().unwrap()
        })
        .sum()
}

#[tokio::test]
async fn cdnow_master_imports_every_row_with_the_exact_total() {
    let (_dir, folder) = fresh().await;
    let file = cdnow("CDNOW_master.txt");
    let s = run(
        &folder,
        Table::Transactions,
        std::slice::from_ref(&file),
        &options(
            "at=date,amount=dollar_value,quantity=number_of_cds",
            Some("%Y%m%d"),
        ),
    )
    .await
    .unwrap();
    assert_eq!((s.rows, s.customers, s.version), (69_659, 23_570, Some(1)));
    assert_eq!(s.first.as_deref(), Some("1997-01-01T00:00:00Z"));
    assert_eq!(s.last.as_deref(), Some("1998-06-30T00:00:00Z"));
    let rows = query(&folder, "SELECT count(*), count(DISTINCT customer_id), CAST(sum(amount) * 100 AS BIGINT), sum(quantity) FROM transactions").await;
    let cents = total_cents(&file, true);
    assert_eq!(
        rows[0][..3],
        ["69659".to_string(), "23570".into(), cents.to_string()]
    );
    // The import is logged in the operational database.
    let log = OpsDb::open(&folder.ops_db_path())
        .unwrap()
        .recent_imports(5)
        .unwrap();
    assert_eq!(
        (log.len(), log[0].rows, log[0].files.as_str()),
        (1, 69_659, "CDNOW_master.txt")
    );
}

#[tokio::test]
async fn cdnow_sample_imports_by_position_without_a_header() {
    let (_dir, folder) = fresh().await;
    let file = cdnow("CDNOW_sample.txt");
    let o = ImportOptions {
        header: Some(false),
        ..options("customer_id=1,at=3,amount=5", Some("%Y%m%d"))
    };
    let s = run(
        &folder,
        Table::Transactions,
        std::slice::from_ref(&file),
        &o,
    )
    .await
    .unwrap();
    assert_eq!((s.rows, s.customers), (6_919, 2_357));
    // Unmapped columns are kept as attributes that SQL can group on.
    let rows = query(
        &folder,
        "SELECT count(DISTINCT column_2), CAST(sum(amount) * 100 AS BIGINT) FROM transactions",
    )
    .await;
    assert_eq!(
        rows[0],
        ["2357".to_string(), total_cents(&file, false).to_string()]
    );
}

const GOOD: &str =
    "customer_id,at,amount,quantity\nc1,2024-01-01,10.50,1\nc2,2024-01-02T10:00:00Z,5,2\n";

#[tokio::test]
async fn bad_input_changes_nothing_and_says_where() {
    let (dir, folder) = fresh().await;
    let d = dir.path();
    run(
        &folder,
        Table::Transactions,
        &[write(d, "good.csv", GOOD)],
        &options("", None),
    )
    .await
    .unwrap();
    let before = versions(&folder).await;
    assert_eq!(before[1], 1);

    let truncated_gz = {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        for i in 0..5000 {
            writeln!(enc, "c{i},2024-02-01,{i}.25,1").unwrap();
        }
        let bytes = enc.finish().unwrap();
        let path = d.join("cut.csv.gz");
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        path
    };
    let cases: Vec<(PathBuf, &str, ImportOptions)> = vec![
        (
            write(
                d,
                "value.csv",
                "customer_id,at,amount\nc1,2024-01-01,1.00\nc2,2024-01-01,12.x\n",
            ),
            "value.csv:3:3: amount: '12.x' is not a decimal number",
            options("", None),
        ),
        (
            write(
                d,
                "type.csv",
                "customer_id,at,amount,quantity\nc1,2024-01-01,1.00,two\n",
            ),
            "type.csv:2:4: quantity: 'two' is not a whole number",
            options("", None),
        ),
        (
            write(d, "date.csv", "customer_id,at,amount\nc1,01/02/2024,1.00\n"),
            "date.csv:2:2: at: '01/02/2024' is not an ISO 8601",
            options("", None),
        ),
        (
            write(
                d,
                "missing.csv",
                "customer_id,at,amount\nc1,2024-01-01,1.00\n",
            ),
            "mapping at: no column 'when'",
            options("at=when", None),
        ),
        (
            write(
                d,
                "required.csv",
                "customer_id,when,amount\nc1,2024-01-01,1.00\n",
            ),
            "required column 'at' is not in the source",
            options("", None),
        ),
        (
            write(d, "ragged.csv", "customer_id,at,amount\nc1,2024-01-01\n"),
            "ragged.csv:2: expected 3 fields, found 2",
            options("", None),
        ),
        (
            write(d, "empty.csv", ""),
            "empty.csv: empty file (no rows)",
            options("", None),
        ),
        (
            write(d, "header.csv", "customer_id,at,amount\n"),
            "no data rows",
            options("", None),
        ),
        (
            truncated_gz,
            "truncated or corrupt gzip data",
            options("", None),
        ),
        // A good file and a bad one: neither lands.
        (
            write(
                d,
                "later-bad.csv",
                "customer_id,at,amount\nc9,2024-03-01,1\nc9,2024-03-02,-\n",
            ),
            "later-bad.csv:3:3",
            options("", None),
        ),
    ];
    for (path, expected, o) in cases {
        let good = write(
            d,
            "another-good.csv",
            "customer_id,at,amount\nz1,2025-01-01,1\n",
        );
        let err = run(&folder, Table::Transactions, &[good, path.clone()], &o)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains(expected),
            "{}: got '{err}', expected '{expected}'",
            path.display()
        );
        assert_eq!(err.kind(), ErrorKind::BadInput, "{err}");
        assert_eq!(
            versions(&folder).await,
            before,
            "{} changed a table",
            path.display()
        );
    }
    assert_eq!(
        query(&folder, "SELECT count(*) FROM transactions").await[0][0],
        "2"
    );
}

#[tokio::test]
async fn scores_and_categories_are_validated_per_instrument() {
    let (dir, folder) = fresh().await;
    let file = write(
        dir.path(),
        "r.csv",
        "customer_id,at,instrument,score\nc1,2024-01-01,nps,9\nc1,2024-01-02,NPS,11\n",
    );
    let err = run(&folder, Table::Responses, &[file], &options("", None))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("r.csv:3:4: score: score 11 is out of range for nps (0–10)"),
        "{err}"
    );
    let file = write(
        dir.path(),
        "i.csv",
        "customer_id,at,touchpoint,outcome\nc1,2024-01-01,bag drop,lost\n",
    );
    let err = run(&folder, Table::Interactions, &[file], &options("", None))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("i.csv:2:4: outcome: 'lost' is not one of ok, failed"),
        "{err}"
    );
    let file = write(
        dir.path(),
        "g.csv",
        "customer_id,at,instrument,score\nc1,2024-01-01,grade,B\nc2,2024-01-01,Csat,4\n",
    );
    run(&folder, Table::Responses, &[file], &options("", None))
        .await
        .unwrap();
    let rows = query(
        &folder,
        "SELECT instrument, score FROM responses ORDER BY customer_id",
    )
    .await;
    assert_eq!(rows, [["grade", "3.0"], ["csat", "4.0"]]);
}

#[tokio::test]
async fn the_same_content_is_imported_once() {
    let (dir, folder) = fresh().await;
    let a = write(dir.path(), "a.csv", GOOD);
    let s = run(
        &folder,
        Table::Transactions,
        std::slice::from_ref(&a),
        &options("", None),
    )
    .await
    .unwrap();
    assert_eq!(s.version, Some(1));
    // The same bytes under another name, and gzip-compressed, are the same content.
    let copy = write(dir.path(), "copy.csv", GOOD);
    let gz = dir.path().join("a.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(GOOD.as_bytes()).unwrap();
    enc.finish().unwrap();
    let s = run(
        &folder,
        Table::Transactions,
        &[a, copy, gz],
        &options("", None),
    )
    .await
    .unwrap();
    assert_eq!(s.version, None);
    assert!(s.files.iter().all(|f| f.duplicate));
    assert_eq!(versions(&folder).await[1], 1);
    assert_eq!(
        query(&folder, "SELECT count(*) FROM transactions").await[0][0],
        "2"
    );
    // The same content may still go into another table.
    let c = write(dir.path(), "c.csv", "customer_id\nc1\n");
    assert_eq!(
        run(&folder, Table::Customers, &[c], &options("", None))
            .await
            .unwrap()
            .version,
        Some(1)
    );
}

#[tokio::test]
async fn skipped_bad_rows_go_to_a_rejects_file() {
    let (dir, folder) = fresh().await;
    let file = write(
        dir.path(),
        "some-bad.csv",
        "customer_id,at,amount\nc1,2024-01-01,1\nc2,2024-01-01,x\nc3,2024-01-01,3\nc4,,4\n",
    );
    let o = ImportOptions {
        skip_bad_rows: 2,
        ..options("", None)
    };
    let s = run(
        &folder,
        Table::Transactions,
        std::slice::from_ref(&file),
        &o,
    )
    .await
    .unwrap();
    assert_eq!((s.rows, s.rejected), (2, 2));
    let rejects = std::fs::read_to_string(s.rejects_file.unwrap()).unwrap();
    assert!(
        rejects.contains(",3,3,amount: 'x' is not a decimal number,"),
        "{rejects}"
    );
    assert!(rejects.contains(",5,2,at: missing value,"), "{rejects}");
    // One allowance fewer fails the whole import and leaves no rejects file behind.
    let (dir2, folder2) = fresh().await;
    let o = ImportOptions {
        skip_bad_rows: 1,
        ..options("", None)
    };
    let err = run(&folder2, Table::Transactions, &[file], &o)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("some-bad.csv:5:2: at: missing value (more than 1 bad rows)"),
        "{err}"
    );
    assert_eq!(versions(&folder2).await[1], 0);
    assert!(
        !folder2.rejects_dir().exists()
            || std::fs::read_dir(folder2.rejects_dir())
                .unwrap()
                .next()
                .is_none()
    );
    drop(dir2);
}

#[tokio::test]
async fn extra_columns_become_attributes_and_later_imports_may_lack_them() {
    let (dir, folder) = fresh().await;
    let a = write(
        dir.path(),
        "a.tsv",
        "Customer ID\tat\tamount\tFare Class\nc1\t2024-01-01\t100\tflex\nc2\t2024-01-01\t50\tsaver\nc3\t2024-01-02\t70\tsaver\n",
    );
    run(&folder, Table::Transactions, &[a], &options("", None))
        .await
        .unwrap();
    let b = write(
        dir.path(),
        "b.csv",
        "customer_id,at,amount,channel\nc4,2024-02-01,10,app\n",
    );
    run(&folder, Table::Transactions, &[b], &options("", None))
        .await
        .unwrap();
    let rows = query(&folder, "SELECT fare_class, count(*), CAST(sum(amount) AS INT) FROM transactions GROUP BY fare_class ORDER BY fare_class NULLS LAST").await;
    assert_eq!(
        rows,
        [
            ["flex", "1", "100"],
            ["saver", "2", "120"],
            ["NULL", "1", "10"]
        ]
    );
    assert_eq!(
        query(
            &folder,
            "SELECT channel FROM transactions WHERE channel IS NOT NULL"
        )
        .await,
        [["app"]]
    );
}

#[tokio::test]
async fn parquet_and_ndjson_import_like_text() {
    use cxray_store::datafusion::arrow::array::{Float64Array, RecordBatch, StringArray};
    use cxray_store::datafusion::arrow::datatypes::{DataType, Field, Schema};
    use cxray_store::datafusion::parquet::arrow::ArrowWriter;
    let (dir, folder) = fresh().await;
    let schema = Arc::new(Schema::new(vec![
        Field::new("customer_id", DataType::Utf8, false),
        Field::new("at", DataType::Utf8, false),
        Field::new("amount", DataType::Float64, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(vec!["p1", "p2"])),
            Arc::new(StringArray::from(vec!["2024-05-01", "2024-05-02"])),
            Arc::new(Float64Array::from(vec![1.25, 2.5])),
        ],
    )
    .unwrap();
    let pq = dir.path().join("t.parquet");
    let mut w = ArrowWriter::try_new(std::fs::File::create(&pq).unwrap(), schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let nd = write(
        dir.path(),
        "t.ndjson",
        "{\"customer_id\":\"n1\",\"at\":\"2024-06-01T08:00:00+02:00\",\"amount\":3.75,\"note\":\"hi\"}\n{\"customer_id\":\"n2\",\"at\":\"2024-06-02\",\"amount\":1}\n",
    );
    let s = run(&folder, Table::Transactions, &[pq, nd], &options("", None))
        .await
        .unwrap();
    assert_eq!(s.rows, 4);
    let rows = query(&folder, "SELECT customer_id, CAST(at AS VARCHAR), CAST(amount AS VARCHAR), note FROM transactions ORDER BY customer_id").await;
    assert_eq!(rows[0], ["n1", "2024-06-01T06:00:00Z", "3.7500", "hi"]);
    assert_eq!(rows[2], ["p1", "2024-05-01T00:00:00Z", "1.2500", "NULL"]);
    let bad = write(
        dir.path(),
        "bad.ndjson",
        "{\"customer_id\":\"n1\",\"at\":\"2024-06-01\",\"amount\":\"x\"}\n",
    );
    let err = run(&folder, Table::Transactions, &[bad], &options("", None))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("bad.ndjson:1: amount: 'x' is not a decimal number"),
        "{err}"
    );
}

#[tokio::test]
async fn local_times_follow_the_time_zone_and_earlier_versions_stay_readable() {
    let (dir, folder) = fresh().await;
    let a = write(
        dir.path(),
        "a.csv",
        "customer_id,at,amount\nc1,2024-07-01 12:00,1\n",
    );
    let o = ImportOptions {
        timezone: Some("America/New_York".into()),
        ..options("", None)
    };
    run(&folder, Table::Transactions, &[a], &o).await.unwrap();
    let b = write(
        dir.path(),
        "b.csv",
        "customer_id,at,amount\nc2,2024-07-02,2\n",
    );
    run(&folder, Table::Transactions, &[b], &options("", None))
        .await
        .unwrap();
    assert_eq!(
        query(
            &folder,
            "SELECT CAST(min(at) AS VARCHAR), count(*) FROM transactions"
        )
        .await,
        [["2024-07-01T16:00:00Z", "2"]]
    );
    let v1 = BTreeMap::from([(Table::Transactions, 1)]);
    assert_eq!(
        query_as_of(&folder, &v1, "SELECT count(*) FROM transactions").await,
        [["1"]]
    );
}
