//! The scorecard's twelve-month retention against counting the customers directly.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use cxray_analysis::scorecard;
use cxray_core::domain::Table;
use cxray_core::stats::Settings;
use cxray_store::import::{ImportOptions, NoProgress, import};
use cxray_store::sql::Sql;

use crate::fresh;

/// Quarter index: year * 4 + quarter − 1.
fn quarter(d: NaiveDate) -> i64 {
    i64::from(d.year()) * 4 + i64::from(d.month0() / 3)
}

/// 400 customers buying on pseudo-random days over 20 years (80 quarters), each active
/// for a stretch of it: more quarters than retention keeps, so the kept ones are tested.
fn purchases() -> Vec<(String, NaiveDate)> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    let start = NaiveDate::from_ymd_opt(2005, 1, 1).unwrap();
    let mut out = Vec::new();
    for c in 0..400 {
        let (first, length) = (next(7000), 200 + next(3000));
        for _ in 0..1 + next(12) {
            let day = start + chrono::Days::new(first + next(length));
            out.push((
                format!("C{c}"),
                day.min(NaiveDate::from_ymd_opt(2024, 12, 31).unwrap()),
            ));
        }
    }
    out
}

/// Retention at quarter end e, counted: of those active in e−7..=e−4, those also active
/// in e−3..=e.
fn counted(active: &BTreeMap<String, BTreeSet<i64>>, e: i64) -> (u64, u64) {
    let any = |qs: &BTreeSet<i64>, from: i64, to: i64| qs.range(from..=to).next().is_some();
    let before: Vec<_> = active.values().filter(|qs| any(qs, e - 7, e - 4)).collect();
    let kept = before.iter().filter(|qs| any(qs, e - 3, e)).count();
    (before.len() as u64, kept as u64)
}

#[tokio::test]
async fn retention_by_quarter_equals_counting_the_customers() {
    let (dir, folder) = fresh().await;
    let rows = purchases();
    let csv = dir.path().join("transactions.csv");
    let mut text = String::from("customer_id,at,amount\n");
    for (c, d) in &rows {
        text.push_str(&format!("{c},{d}T12:00:00Z,10.00\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let options = ImportOptions::default();
    import(
        &folder,
        Table::Transactions,
        &[csv],
        &options,
        Arc::new(NoProgress),
    )
    .await
    .unwrap();
    let sql = Sql::open(&folder, &BTreeMap::new()).await.unwrap();
    let settings = Settings::default();
    let figures = scorecard::figures(&sql, &settings).await.unwrap();
    let none = BTreeMap::new();
    let card = scorecard::scorecard(figures, Err("not needed"), Err("not needed"), none);

    let mut active: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for (c, d) in &rows {
        active.entry(c.clone()).or_default().insert(quarter(*d));
    }
    let all: BTreeSet<i64> = active.values().flatten().copied().collect();
    let (first, last) = (*all.first().unwrap(), *all.last().unwrap());
    assert!(
        last - first > 63,
        "the history must be longer than retention keeps"
    );
    let ends: Vec<i64> = (last - 62 + 7..last).collect();
    assert_eq!(card.retention.len(), ends.len());
    for (r, e) in card.retention.iter().zip(ends) {
        let (n, kept) = counted(&active, e);
        assert_eq!(quarter(r.quarter_end), e);
        assert_eq!(r.retained.n, n, "customers at {}", r.quarter_end);
        assert!((r.retained.value - kept as f64 / n as f64).abs() < 1e-12);
    }
}
