//! The rows the latest ingestion commits added, read from memory by rule evaluation: the
//! same rows, columns and types as read back from the data files, whichever commits a
//! reader asks for, whether the batches brought a new attribute column or lacked one.

use std::collections::BTreeMap;
use std::time::Duration;

use cxray_core::domain::Table;
use cxray_store::datafusion::arrow::util::pretty::pretty_format_batches;
use cxray_store::datafusion::prelude::{DataFrame, col};
use cxray_store::ingest::{Client, Ingest, IngestOptions};
use cxray_store::sql::Sql;

use crate::fresh;

/// Batch `b`: every third brings a `channel` attribute, every other lacks comments.
fn batch(b: usize) -> Vec<u8> {
    (0..5)
        .map(|i| {
            let k = b * 5 + i;
            let channel = match b % 3 {
                0 => format!(",\"channel\":\"app{}\"", k % 2),
                _ => String::new(),
            };
            let comment = match b % 2 {
                0 => format!(",\"comment\":\"row {k:03}\""),
                _ => String::new(),
            };
            format!(
                "{{\"customer_id\":\"c{}\",\"at\":\"2025-03-{:02}T10:00:00Z\",\"instrument\":\"nps\",\
                 \"score\":{},\"touchpoint\":\"gate\"{channel}{comment}}}\n",
                k % 7,
                k % 28 + 1,
                k % 11,
            )
        })
        .collect::<String>()
        .into_bytes()
}

async fn text(df: Option<DataFrame>) -> String {
    let Some(df) = df else {
        return "none".into();
    };
    let sorted = df.sort(vec![
        col("at").sort(true, true),
        col("score").sort(true, true),
    ]);
    let batches = sorted.unwrap().collect().await.unwrap();
    pretty_format_batches(&batches).unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_added_read_from_memory_equal_those_read_from_the_files() {
    let (_dir, folder) = fresh().await;
    let options = IngestOptions {
        flush_rows: 1,
        flush_every: Duration::from_secs(3600),
        ..IngestOptions::default()
    };
    let ingest = Ingest::open(&folder, options).await.unwrap();
    let mut commits = ingest.commits();
    let client = Client {
        actor: "test".into(),
        id: "token:1".into(),
    };
    for b in 0..6 {
        let key = Some(format!("b{b}"));
        let body = batch(b);
        ingest
            .ingest(Table::Responses, key, client.clone(), body)
            .await
            .unwrap();
        commits.wait_for(|n| *n > b as u64).await.unwrap();
    }
    let files = Sql::open(&folder, &BTreeMap::new()).await.unwrap();
    let memory = Sql::open(&folder, &BTreeMap::new())
        .await
        .unwrap()
        .with_recent(ingest.recent());
    let since = [Some(0), Some(1), Some(3), Some(5), Some(6)];
    let mut expected = Vec::new();
    for s in since {
        expected.push(text(files.added_since(Table::Responses, s).await.unwrap()).await);
    }
    assert!(expected[0].contains("app1") && expected[0].contains("row 000"));
    assert_eq!(expected[0].lines().count(), 30 + 4, "30 rows and the frame");
    assert_eq!(expected[4], "none");
    // Without their data files, the commits' rows are still read, from memory.
    for file in std::fs::read_dir(folder.table_dir(Table::Responses)).unwrap() {
        let path = file.unwrap().path();
        if path.extension().is_some_and(|e| e == "parquet") {
            std::fs::remove_file(path).unwrap();
        }
    }
    let gone = files.added_since(Table::Responses, Some(0)).await.unwrap();
    assert!(gone.unwrap().collect().await.is_err(), "the files are gone");
    for (s, expected) in since.into_iter().zip(&expected) {
        let read = text(memory.added_since(Table::Responses, s).await.unwrap()).await;
        assert_eq!(&read, expected, "since {s:?}");
        // Asked again (another rule), the rows are the same.
        let again = text(memory.added_since(Table::Responses, s).await.unwrap()).await;
        assert_eq!(&again, expected, "since {s:?}, again");
    }
    ingest.close().await;
}
