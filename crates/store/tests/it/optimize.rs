//! `optimize` after many small ingestion commits: one clustered file, the same rows, the
//! same figures, time travel to before it; safe while ingestion commits beside it.

use std::collections::BTreeMap;
use std::time::Duration;

use cxray_core::cases::{HoldoutShare, ScoreCondition, Trigger};
use cxray_core::domain::Table;
use cxray_core::stats::Instrument;
use cxray_store::cases::NewRule;
use cxray_store::ingest::{Client, Ingest, IngestOptions};
use cxray_store::maintenance::optimize::optimize;
use cxray_store::ops::OpsDb;
use cxray_store::sql::Sql;
use cxray_store::{DataFolder, tables};

use crate::{fresh, query, query_as_of};

/// Rows per ingested batch.
const ROWS: usize = 20;

/// Every response, in one order.
const ALL: &str = "SELECT * FROM responses ORDER BY comment";

/// NPS by touchpoint and month, as the metrics count it.
const NPS: &str = "SELECT touchpoint, date_trunc('month', at) AS month, count(*) AS n, \
    sum(CASE WHEN score >= 9 THEN 1 WHEN score <= 6 THEN -1 ELSE 0 END) AS net \
    FROM responses WHERE instrument = 'nps' GROUP BY 1, 2 ORDER BY 1, 2";

/// Ingestion that commits every batch at once.
async fn ingestion(folder: &DataFolder) -> Ingest {
    let options = IngestOptions {
        flush_rows: 1,
        flush_every: Duration::from_secs(3600),
        ..IngestOptions::default()
    };
    Ingest::open(folder, options).await.unwrap()
}

/// Batch `b` of NPS answers: touchpoints, months and scores vary by row.
fn batch(b: usize) -> Vec<u8> {
    let touchpoints = ["booking", "check-in", "boarding", "baggage"];
    (0..ROWS)
        .map(|i| {
            let k = b * ROWS + i;
            format!(
                "{{\"customer_id\":\"c{}\",\"at\":\"2025-{:02}-{:02}T10:00:00Z\",\"instrument\":\"nps\",\
                 \"score\":{},\"touchpoint\":\"{}\",\"comment\":\"row {k:05}\"}}\n",
                k % 97,
                k % 3 + 1,
                k % 28 + 1,
                k % 11,
                touchpoints[k % 4]
            )
        })
        .collect::<String>()
        .into_bytes()
}

/// Sends batch `b` and returns once it is acknowledged.
async fn send(ingest: &Ingest, b: usize) {
    let client = Client {
        actor: "test".into(),
        id: "token:1".into(),
    };
    let key = Some(format!("b{b}"));
    ingest
        .ingest(Table::Responses, key, client, batch(b))
        .await
        .unwrap();
}

/// Sends `batches` batches, each its own commit (versions 1 to `batches`).
async fn commits(folder: &DataFolder, batches: usize) {
    let ingest = ingestion(folder).await;
    let mut commits = ingest.commits();
    for b in 0..batches {
        send(&ingest, b).await;
        commits.wait_for(|n| *n > b as u64).await.unwrap();
    }
    ingest.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optimize_turns_fifty_ingestion_commits_into_one_file_with_the_same_rows() {
    let (_dir, folder) = fresh().await;
    commits(&folder, 50).await;
    let before = tables::info(&folder, Table::Responses).await.unwrap();
    assert_eq!((before.files, before.rows, before.version), (50, 1000, 50));
    let (rows, nps) = (query(&folder, ALL).await, query(&folder, NPS).await);
    assert_eq!(rows.len(), 1000);

    let done = optimize(&folder, Some(Table::Responses), None, "test")
        .await
        .unwrap();
    assert_eq!(done.len(), 1);
    let o = &done[0];
    assert_eq!((o.read_version, o.version), (50, 51));
    assert_eq!((o.files_before, o.files_removed), (50, 50));
    assert_eq!((o.files_added, o.files_after), (1, 1));
    assert_eq!(o.clustered_by, ["at", "touchpoint"]);
    assert_eq!(o.checkpoint, Some(51));
    let log = folder.table_dir(Table::Responses).join("_delta_log");
    assert!(log.join(format!("{:020}.checkpoint.parquet", 51)).is_file());

    let after = tables::info(&folder, Table::Responses).await.unwrap();
    assert_eq!((after.files, after.rows, after.version), (1, 1000, 51));
    assert_eq!(after.checkpoint, Some(51));
    assert_eq!(query(&folder, ALL).await, rows);
    assert_eq!(query(&folder, NPS).await, nps);
    let at_50 = BTreeMap::from([(Table::Responses, 50)]);
    assert_eq!(query_as_of(&folder, &at_50, ALL).await, rows, "time travel");

    // Nothing arrived since: nothing to rewrite.
    let again = optimize(&folder, None, None, "test").await.unwrap();
    assert!(again.iter().all(|o| o.files_removed == 0), "{again:?}");
    let responses = again.iter().find(|o| o.table == "responses").unwrap();
    assert_eq!((responses.read_version, responses.version), (51, 51));
    let audit = OpsDb::open(&folder.ops_db_path())
        .unwrap()
        .recent_audit(2)
        .unwrap();
    assert_eq!(audit[0].detail, "nothing to rewrite");
    assert_eq!(audit[1].detail, "responses v50: 50 files rewritten into 1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optimize_beside_ingestion_commits_keeps_every_acknowledged_row() {
    let (_dir, folder) = fresh().await;
    let ingest = std::sync::Arc::new(ingestion(&folder).await);
    let mut commits = ingest.commits();
    for b in 0..10 {
        send(&ingest, b).await;
    }
    commits.wait_for(|n| *n >= 1).await.unwrap();
    let sender = {
        let ingest = ingest.clone();
        tokio::spawn(async move {
            for b in 10..60 {
                send(&ingest, b).await;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let mut rewrites = Vec::new();
    while !sender.is_finished() {
        rewrites.extend(
            optimize(&folder, Some(Table::Responses), None, "test")
                .await
                .unwrap(),
        );
    }
    sender.await.unwrap();
    ingest.close().await;

    assert!(rewrites.iter().filter(|o| o.files_removed > 0).count() >= 2);
    let per_row = "SELECT count(*) AS n, count(DISTINCT comment) AS d FROM responses";
    assert_eq!(query(&folder, per_row).await, [["1200", "1200"]]);
    let last = optimize(&folder, Some(Table::Responses), None, "test")
        .await
        .unwrap();
    assert_eq!(last[0].files_after, 1);
    assert_eq!(query(&folder, per_row).await, [["1200", "1200"]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optimize_leaves_the_commits_a_rule_has_not_evaluated_to_the_rule() {
    let (_dir, folder) = fresh().await;
    commits(&folder, 50).await;
    let rule = NewRule {
        name: "detractors".into(),
        trigger: Trigger::Survey {
            instrument: Instrument::Nps,
            condition: ScoreCondition::parse(Instrument::Nps, "<=6").unwrap(),
            touchpoint: None,
        },
        customers: Vec::new(),
        clv_percentile: None,
        fallback_owner: None,
        cooldown_days: 30,
        holdout: HoldoutShare::new(0.0).unwrap(),
        since: None,
        watermark: Some(30),
    };
    let db = OpsDb::open(&folder.ops_db_path()).unwrap();
    db.add_rule("test", &rule).unwrap();

    let done = optimize(&folder, Some(Table::Responses), None, "test")
        .await
        .unwrap();
    assert_eq!((done[0].read_version, done[0].version), (30, 51));
    assert_eq!((done[0].files_removed, done[0].files_after), (30, 21));
    let sql = Sql::open(&folder, &BTreeMap::new()).await.unwrap();
    let new = sql
        .added_since(Table::Responses, Some(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        new.count().await.unwrap(),
        20 * ROWS,
        "the rule's rows are there"
    );
}
