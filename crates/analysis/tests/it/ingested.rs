//! Rules evaluated on the rows as they are ingested open the same cases, with the same
//! counts, as the rules evaluated on the rows read back from the data files.

use std::path::Path;

use cxray_analysis::cases::{RuleScan, Scanner, condition, scan};
use cxray_core::cases::{Comparison, Experience, ScoreCondition, Trigger};
use cxray_core::domain::Table;
use cxray_core::stats::Instrument;
use cxray_store::DataFolder;
use cxray_store::cases::{CaseFilter, NewRule};
use cxray_store::ingest::{Client, Ingest, IngestOptions};
use cxray_store::ops::OpsDb;
use cxray_store::sql::Sql;
use proptest::prelude::*;

use crate::cases::{now, rule, world};
use crate::fresh;

/// A rule: which trigger, only business customers, a cooldown, a start.
type RuleSpec = (usize, bool, bool, bool);

/// An answer or an interaction: customer, table, instrument or outcome, score, touchpoint,
/// day.
type RowSpec = (usize, bool, bool, u8, usize, u32);

const TOUCHPOINTS: [&str; 3] = ["check_in", "booking", ""];

fn trigger(which: usize) -> Trigger {
    let survey = |instrument, comparison, score, touchpoint: Option<&str>| Trigger::Survey {
        instrument,
        condition: ScoreCondition { comparison, score },
        touchpoint: touchpoint.map(str::to_string),
    };
    match which {
        0 => survey(Instrument::Nps, Comparison::AtMost, 6.0, None),
        1 => survey(Instrument::Csat, Comparison::AtMost, 2.0, Some("check_in")),
        2 => survey(Instrument::Nps, Comparison::Above, 8.0, Some("booking")),
        3 => survey(Instrument::Csat, Comparison::Equal, 3.0, None),
        4 => Trigger::Interaction {
            touchpoint: "check_in".into(),
            experience: Experience::Failed,
        },
        _ => Trigger::Interaction {
            touchpoint: "booking".into(),
            experience: Experience::Bad,
        },
    }
}

fn new_rule(i: usize, (which, business, cooldown, since): RuleSpec) -> NewRule {
    NewRule {
        customers: match business {
            true => vec!["segment=business".parse().unwrap()],
            false => Vec::new(),
        },
        cooldown_days: if cooldown { 30 } else { 0 },
        since: since.then(|| "2026-11-10T00:00:00Z".parse().unwrap()),
        ..rule(&format!("rule {i}"), trigger(which))
    }
}

/// The rows as NDJSON for their tables (responses, interactions).
fn ndjson(rows: &[RowSpec]) -> [String; 2] {
    let mut out = [String::new(), String::new()];
    for (i, &(customer, answer, first, score, tp, day)) in rows.iter().enumerate() {
        let (customer, at) = (
            format!("C{}", customer + 1),
            format!("2026-11-{:02}T{:02}:00:00Z", day + 1, i % 24),
        );
        let touchpoint = match TOUCHPOINTS[tp] {
            "" => "null".to_string(),
            tp => format!("\"{tp}\""),
        };
        if answer {
            let (instrument, score) = match first {
                true => ("nps", score % 11),
                false => ("csat", score % 5 + 1),
            };
            out[0] += &format!(
                "{{\"customer_id\":\"{customer}\",\"at\":\"{at}\",\"instrument\":\"{instrument}\",\"score\":{score},\"touchpoint\":{touchpoint},\"comment\":\"row {i}\"}}\n"
            );
        } else {
            let outcome = if first { "failed" } else { "ok" };
            let tp = if tp == 2 { "booking" } else { TOUCHPOINTS[tp] };
            out[1] += &format!(
                "{{\"customer_id\":\"{customer}\",\"at\":\"{at}\",\"touchpoint\":\"{tp}\",\"owner\":\"ground\",\"outcome\":\"{outcome}\",\"wait_seconds\":{}}}\n",
                u32::from(score) * 100
            );
        }
    }
    out
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        match entry.file_type().unwrap().is_dir() {
            true => copy(&entry.path(), &target),
            false => drop(std::fs::copy(entry.path(), target).unwrap()),
        }
    }
}

/// Each rule's scan and every case, as the scan left them.
type Outcome = (
    Vec<RuleScan>,
    Vec<(i64, String, String, Option<String>, String)>,
);

async fn cases(folder: &DataFolder, scans: Vec<RuleScan>) -> Outcome {
    let ops = OpsDb::open(&folder.ops_db_path()).unwrap();
    let cases = ops.cases(&CaseFilter::default(), now()).unwrap();
    let cases = cases
        .into_iter()
        .map(|c| (c.rule_id, c.customer_id, c.event_at, c.owner, c.detail))
        .collect();
    (scans, cases)
}

/// Ingests the batches into `folder` (whose rules a scan has evaluated to the world's
/// rows, and so watches), then scans with the matches found while ingesting and, on a
/// copy of the folder, from the files.
async fn both_ways(folder: &DataFolder, rules: &[RuleSpec], batches: &[Vec<RowSpec>]) {
    let ops = OpsDb::open(&folder.ops_db_path()).unwrap();
    for (i, spec) in rules.iter().enumerate() {
        ops.add_rule("test", &new_rule(i, *spec)).unwrap();
    }
    let options = IngestOptions {
        flush_rows: 7,
        ..IngestOptions::default()
    };
    let ingest = Ingest::open(folder, options).await.unwrap();
    let mut scanner = Scanner::default();
    let sql = Sql::open(folder, &Default::default()).await.unwrap();
    let sql = sql.with_recent(ingest.recent());
    scanner.scan(&sql, &ops, "test", now()).await.unwrap();
    let client = Client {
        actor: "test".into(),
        id: "token:1".into(),
    };
    for (b, rows) in batches.iter().enumerate() {
        let tables = [Table::Responses, Table::Interactions];
        for (table, body) in tables.into_iter().zip(ndjson(rows)) {
            if !body.is_empty() {
                let key = Some(format!("{table}-{b}"));
                let sent = ingest.ingest(table, key, client.clone(), body.into_bytes());
                sent.await.unwrap();
            }
        }
    }
    ingest.close().await;
    let root = folder.root();
    let files = root.parent().unwrap().join("from-files");
    copy(root, &files);
    let copied = DataFolder::open(&files).unwrap();

    let sql = Sql::open(folder, &Default::default()).await.unwrap();
    let sql = sql.with_recent(ingest.recent());
    for rule in ops.rules().unwrap() {
        let table = rule.trigger.table().unwrap();
        let schema = sql.context().table(table.name()).await.unwrap();
        let condition = condition(&rule, None, schema.schema().as_arrow()).unwrap();
        let matched = sql.matched_since(table, rule.watermark, &condition.unwrap());
        assert!(
            matched.is_some(),
            "rule {}: not evaluated while ingested",
            rule.id
        );
    }
    let ingested = scanner.scan(&sql, &ops, "test", now()).await.unwrap();
    let ingested = cases(folder, ingested).await;

    let copied_ops = OpsDb::open(&copied.ops_db_path()).unwrap();
    let sql = Sql::open(&copied, &Default::default()).await.unwrap();
    let from_files = scan(&sql, &copied_ops, "test", now()).await.unwrap();
    let from_files = cases(&copied, from_files).await;
    assert_eq!(ingested, from_files);
}

fn rules() -> impl Strategy<Value = Vec<RuleSpec>> {
    prop::collection::vec(
        (0..6usize, any::<bool>(), any::<bool>(), any::<bool>()),
        1..4,
    )
}

fn batches() -> impl Strategy<Value = Vec<Vec<RowSpec>>> {
    let row = (
        0..6usize,
        any::<bool>(),
        any::<bool>(),
        0..11u8,
        0..3usize,
        0..28u32,
    );
    prop::collection::vec(prop::collection::vec(row, 1..9), 1..6)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn rules_evaluated_on_ingested_batches_open_what_they_open_from_the_files(
        rules in rules(),
        batches in batches(),
    ) {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let (_dir, folder) = fresh().await;
            world(&folder).await;
            both_ways(&folder, &rules, &batches).await;
        });
    }
}
