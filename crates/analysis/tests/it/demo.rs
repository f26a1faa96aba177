use cxray_core::world::World;

use crate::{fresh, query};

/// Builds a small demo world and returns its folder and truth.
async fn build(
    customers: u64,
    seed: u64,
) -> (
    tempfile::TempDir,
    cxray_store::DataFolder,
    cxray_core::world::Truth,
) {
    let (dir, folder) = fresh().await;
    let truth = cxray_analysis::world::build(&folder, World::airline(), customers, seed, |_| {})
        .await
        .unwrap();
    (dir, folder, truth)
}

const FINGERPRINT: &str = "SELECT
    (SELECT count(*) FROM customers) AS customers,
    (SELECT count(*) FROM transactions) AS transactions,
    (SELECT CAST(sum(amount) AS VARCHAR) FROM transactions) AS revenue,
    (SELECT count(*) FROM interactions WHERE outcome = 'failed') AS failures,
    (SELECT CAST(sum(wait_seconds) AS VARCHAR) FROM interactions) AS waits,
    (SELECT CAST(sum(score) AS VARCHAR) FROM responses) AS scores,
    (SELECT max(customer_id || order_id) FROM transactions) AS last_order";

#[tokio::test]
async fn the_demo_world_is_deterministic_and_its_tables_agree_with_the_truth() {
    let (_a, first, truth) = build(3_000, 7).await;
    let (_b, second, again) = build(3_000, 7).await;
    let (_c, other, _) = build(3_000, 8).await;
    assert_eq!(truth, again);
    let fp = query(&first, FINGERPRINT).await;
    assert_eq!(fp, query(&second, FINGERPRINT).await);
    assert_ne!(fp, query(&other, FINGERPRINT).await);

    // Row counts equal the truth's counts.
    let c = &truth.counts;
    let expected = [
        c.customers,
        c.transactions,
        c.interactions,
        c.responses,
        c.owners,
        c.financials,
    ];
    for (table, n) in cxray_core::domain::Table::ALL.iter().zip(expected) {
        let rows = query(&first, &format!("SELECT count(*) FROM {table}")).await;
        assert_eq!(rows[0][0], n.to_string(), "{table}");
    }
    assert_eq!(c.customers, 3_000);

    // Failures per touchpoint in the table equal the simulated counts.
    let rows = query(&first, "SELECT touchpoint, count(*), sum(CASE WHEN outcome = 'failed' THEN 1 ELSE 0 END) FROM interactions GROUP BY touchpoint").await;
    for tp in &truth.touchpoints {
        let row = rows
            .iter()
            .find(|r| r[0] == tp.touchpoint)
            .unwrap_or_else(|| panic!("{} missing", tp.touchpoint));
        assert_eq!(
            (row[1].clone(), row[2].clone()),
            (
                tp.observed.trials.to_string(),
                tp.observed.events.to_string()
            ),
            "{}",
            tp.touchpoint
        );
    }
    // The truth file is beside the data.
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(first.truth_path()).unwrap()).unwrap();
    assert_eq!(written["counts"]["transactions"], c.transactions);
    // Every owner kind is valid and the airport's security is an outside party.
    let kinds = query(&first, "SELECT DISTINCT kind FROM owners ORDER BY kind").await;
    assert!(
        kinds
            .iter()
            .all(|k| ["external", "partner", "team"].contains(&k[0].as_str())),
        "{kinds:?}"
    );
    assert!(kinds.iter().any(|k| k[0] == "external"));
}
