use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use cxray_analysis::metrics::{self, Defection, LinkOptions, Slice};
use cxray_core::domain::Table;
use cxray_core::models::ModelKind;
use cxray_core::stats::{Instrument, Proportion, Settings};
use cxray_store::ErrorKind;
use cxray_store::import::{ImportOptions, NoProgress, import};
use cxray_store::sql::Sql;

use crate::fresh;

/// Ten NPS answers in January (6 promoters, 2 passives, 2 detractors), customers in two
/// segments, plus CSAT answers about two touchpoints owned by different owners.
async fn surveyed() -> (tempfile::TempDir, cxray_store::DataFolder, Sql) {
    let (dir, folder) = fresh().await;
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let customers = write(
        "c.csv",
        "customer_id,segment\nc0,business\nc1,business\nc2,leisure\nc3,leisure\nc4,leisure\n",
    );
    let mut responses = String::from("customer_id,at,instrument,score,touchpoint\n");
    for (i, score) in [10, 10, 9, 9, 9, 10, 8, 7, 3, 0].iter().enumerate() {
        responses.push_str(&format!("c{},2024-01-{:02},nps,{score},\n", i % 5, i + 1));
    }
    for (i, score) in [5, 4, 2, 5, 1, 4].iter().enumerate() {
        let tp = if i % 2 == 0 { "bag drop" } else { "check-in" };
        responses.push_str(&format!(
            "c{},2024-02-{:02},csat,{score},{tp}\n",
            i % 5,
            i + 1
        ));
    }
    responses.push_str("c1,2024-03-01,ces,3,\n");
    let interactions = write(
        "i.csv",
        "customer_id,at,touchpoint,owner\nc0,2024-01-01,bag drop,ground partner\nc1,2024-01-01,check-in,airport team\n",
    );
    let responses = write("r.csv", &responses);
    let o = ImportOptions::default();
    for (table, file) in [
        (Table::Customers, customers),
        (Table::Responses, responses),
        (Table::Interactions, interactions),
    ] {
        import(&folder, table, &[file], &o, Arc::new(NoProgress))
            .await
            .unwrap();
    }
    let sql = Sql::open(&folder, &BTreeMap::new()).await.unwrap();
    (dir, folder, sql)
}

#[tokio::test]
async fn nps_matches_the_hand_computed_adjusted_wald_interval() {
    let (_d, _f, sql) = surveyed().await;
    let rows = metrics::metric(
        &sql,
        Instrument::Nps,
        &Slice::default(),
        &Settings::default(),
    )
    .await
    .unwrap();
    assert_eq!(rows.len(), 1);
    let e = rows[0].estimate;
    // 6 promoters, 2 detractors of 10: NPS 40; adjusted Wald: p' = 6.75/13, d' = 2.75/13,
    // var = (p' + d' − (p' − d')²)/13, 40.0 ± 1.96·100·√var → −12.586 … 74.124.
    assert_eq!((e.n, e.value), (10, 40.0));
    assert!(
        (e.low.unwrap() + 12.586).abs() < 1e-3 && (e.high.unwrap() - 74.124).abs() < 1e-3,
        "{e:?}"
    );
    assert!(e.small_sample);
}

#[tokio::test]
async fn slices_by_customer_touchpoint_owner_and_time() {
    let (_d, _f, sql) = surveyed().await;
    let s = Settings::default();
    let by = |cols: &[&str]| Slice {
        by: cols.iter().map(|c| c.to_string()).collect(),
        ..Slice::default()
    };
    let seg = metrics::metric(&sql, Instrument::Nps, &by(&["segment"]), &s)
        .await
        .unwrap();
    let groups: Vec<(String, u64)> = seg
        .iter()
        .map(|r| (r.group["segment"].clone().unwrap(), r.estimate.n))
        .collect();
    assert_eq!(
        groups,
        [("business".to_string(), 4), ("leisure".to_string(), 6)]
    );
    // CSAT top-2-box by owner (from interactions): bag drop 5, 2, 1 → 1/3; check-in 4, 5, 4 → 3/3.
    let owner = metrics::metric(&sql, Instrument::Csat, &by(&["owner"]), &s)
        .await
        .unwrap();
    let values: Vec<(String, f64)> = owner
        .iter()
        .map(|r| (r.group["owner"].clone().unwrap(), r.estimate.value))
        .collect();
    assert_eq!(values[0].0, "airport team");
    assert!(
        (values[0].1 - 100.0).abs() < 1e-9 && (values[1].1 - 100.0 / 3.0).abs() < 1e-9,
        "{values:?}"
    );
    let month = metrics::metric(&sql, Instrument::Csat, &by(&["month"]), &s)
        .await
        .unwrap();
    assert_eq!(month[0].group["month"].as_deref(), Some("2024-02-01"));
    // A date range and a predicate narrow the responses.
    let day = |t: &str| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok();
    let ranged = Slice {
        from: day("2024-01-03"),
        to: day("2024-01-05"),
        ..Slice::default()
    };
    assert_eq!(
        metrics::metric(&sql, Instrument::Nps, &ranged, &s)
            .await
            .unwrap()[0]
            .estimate
            .n,
        3
    );
    let filtered = Slice {
        filter: Some("segment = 'business' AND score >= 9".into()),
        ..Slice::default()
    };
    let f = metrics::metric(&sql, Instrument::Nps, &filtered, &s)
        .await
        .unwrap();
    assert_eq!((f[0].estimate.n, f[0].estimate.value), (3, 100.0));
}

#[tokio::test]
async fn edge_cases_give_clear_answers() {
    let (_d, _f, sql) = surveyed().await;
    let s = Settings::default();
    // No responses: no rows, not NaN.
    assert!(
        metrics::metric(&sql, Instrument::Grade, &Slice::default(), &s)
            .await
            .unwrap()
            .is_empty()
    );
    // One response: the value, no interval, flagged.
    let one = metrics::metric(&sql, Instrument::Ces, &Slice::default(), &s)
        .await
        .unwrap();
    assert_eq!(
        (
            one[0].estimate.n,
            one[0].estimate.value,
            one[0].estimate.low
        ),
        (1, 3.0, None)
    );
    assert!(one[0].estimate.small_sample);
    // All promoters: a valid interval within the scale.
    let promoters = Slice {
        filter: Some("score >= 9".into()),
        ..Slice::default()
    };
    let p = metrics::metric(&sql, Instrument::Nps, &promoters, &s)
        .await
        .unwrap()[0]
        .estimate;
    assert_eq!(p.value, 100.0);
    assert!(p.low.unwrap() > 0.0 && p.high.unwrap() <= 100.0, "{p:?}");
    // An unknown slice column is named, with the columns there are.
    let bad = Slice {
        by: vec!["colour".into()],
        ..Slice::default()
    };
    let err = metrics::metric(&sql, Instrument::Nps, &bad, &s)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown column 'colour'") && err.contains("segment"),
        "{err}"
    );
}

#[tokio::test]
async fn comparing_two_groups() {
    let (_d, _f, sql) = surveyed().await;
    let c = metrics::compare(
        &sql,
        Instrument::Nps,
        "segment = 'business'",
        "segment = 'leisure'",
        &Slice::default(),
        &Settings::default(),
    )
    .await
    .unwrap();
    assert_eq!((c.a.n, c.b.n), (4, 6));
    assert!((c.difference.value - (c.a.value - c.b.value)).abs() < 1e-9);
    let p = c.difference.p_value.unwrap();
    assert!(
        p > 0.05 && p <= 1.0,
        "ten answers cannot show a difference: p = {p}"
    );
    let none = metrics::compare(
        &sql,
        Instrument::Nps,
        "segment = 'none'",
        "true",
        &Slice::default(),
        &Settings::default(),
    )
    .await;
    let none = none.unwrap_err();
    assert_eq!(none.kind(), ErrorKind::NoData, "{none}");
    assert!(none.to_string().contains("group a: no nps responses match"));
}

#[tokio::test]
async fn the_link_counts_satisfied_defectors() {
    let (dir, folder) = fresh().await;
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    // Everyone buys on 2024-01-01 and answers the next day; a and d buy again within 180
    // days, b and c do not; e's late purchase sets the end of the data.
    let tx = write(
        "t.csv",
        "customer_id,at,amount\na,2024-01-01,1\nb,2024-01-01,1\nc,2024-01-01,1\nd,2024-01-01,1\na,2024-02-01,1\nd,2024-03-01,1\ne,2025-01-01,1\n",
    );
    let answers = write(
        "r.csv",
        "customer_id,at,instrument,score\na,2024-01-02,nps,9\nb,2024-01-02,nps,8\nc,2024-01-02,nps,3\nd,2024-01-02,nps,10\nb,2024-12-30,nps,0\n",
    );
    for (table, file) in [(Table::Transactions, tx), (Table::Responses, answers)] {
        import(
            &folder,
            table,
            &[file],
            &ImportOptions::default(),
            Arc::new(NoProgress),
        )
        .await
        .unwrap();
    }
    let sql = Sql::open(&folder, &BTreeMap::new()).await.unwrap();
    let opts = LinkOptions {
        instrument: Instrument::Nps,
        defection: Defection::Window,
        window_days: 180,
        by: None,
        model: ModelKind::BgNbd,
        settings: Settings::default(),
    };
    let report = metrics::link(&sql, &opts).await.unwrap();
    let l = &report.overall;
    // b's answer of 2024-12-30 is too late to be followed for 180 days: its earlier 8 counts.
    assert_eq!((l.respondents, l.defectors), (4, 2));
    let share = l.satisfied_defector_share.unwrap();
    assert_eq!((share.value, share.n), (0.5, 2));
    // By the month of the last answer: both defectors answered in January, b satisfied.
    let january = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let by_month = [(january, Proportion { successes: 1, n: 2 })];
    assert_eq!(report.defectors_by_month, by_month.into());
    assert!((l.defection_if_satisfied.unwrap().value - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!(l.defection_if_dissatisfied.unwrap().value, 1.0);
    // The stated score ranks c (3) as likeliest to leave: AUC of the stated score is
    // P(score of a defector < score of a stayer) = (b: 8 < 9, 8 < 10; c: 3 < 9, 3 < 10) = 1.
    assert_eq!(l.prediction.auc_stated.unwrap().value, 1.0);
    // The quadrant: a and d satisfied and stayed (revenue 2 each), b satisfied and
    // defected (1), c dissatisfied and defected (1); nobody dissatisfied stayed.
    let cell = |satisfied: bool, defected: bool| {
        let c = l
            .quadrant
            .iter()
            .find(|c| c.satisfied == satisfied && c.defected == defected)
            .unwrap();
        (c.customers, c.revenue, c.clv)
    };
    assert_eq!(cell(true, false), (2, 4.0, None));
    assert_eq!(cell(true, true), (1, 1.0, None));
    assert_eq!(cell(false, true), (1, 1.0, None));
    assert_eq!(cell(false, false), (0, 0.0, None));
    // Groups: c detractor, b passive, a and d promoters. a's last purchase is exactly 30
    // days after the answer (not later than 30 days on), d's 59 days after it.
    let groups: Vec<(&str, u64)> = l
        .by_score
        .iter()
        .map(|g| (g.group.as_str(), g.respondents))
        .collect();
    assert_eq!(groups, [("detractor", 1), ("passive", 1), ("promoter", 2)]);
    let promoters = &l.by_score[2].retention;
    let at = |days: i64| {
        promoters
            .iter()
            .find(|p| p.days == days)
            .unwrap()
            .share
            .value
    };
    assert_eq!((at(30), at(60)), (0.5, 0.0));
    assert!(
        report.notes.iter().any(|n| n.contains("customer_value")),
        "{:?}",
        report.notes
    );
    let palive = LinkOptions {
        defection: Defection::Palive { threshold: 0.5 },
        ..opts.clone()
    };
    let err = metrics::link(&sql, &palive).await.unwrap_err();
    assert!(err.to_string().contains("cxray loyalty predict"), "{err}");
    let late = LinkOptions {
        window_days: 2000,
        ..opts
    };
    let err = metrics::link(&sql, &late).await.unwrap_err();
    assert!(err.to_string().contains("nothing to link"), "{err}");
    assert_eq!(err.kind(), ErrorKind::NoData);
}

/// The demo world plants failures that drive both dissatisfaction and dropout, yet most
/// who leave said they were satisfied, and behaviour predicts leaving better than words.
#[tokio::test]
async fn the_demo_world_links_as_planted() {
    let (_dir, folder) = fresh().await;
    let truth = cxray_analysis::world::build(
        &folder,
        cxray_core::world::World::airline(),
        20_000,
        11,
        |_| {},
    )
    .await
    .unwrap();
    cxray_analysis::world::value(&folder).await.unwrap();
    let sql = Sql::open(&folder, &BTreeMap::new()).await.unwrap();
    let opts = LinkOptions {
        instrument: Instrument::Nps,
        defection: Defection::Palive { threshold: 0.5 },
        window_days: 180,
        by: None,
        model: ModelKind::MbgNbd,
        settings: Settings::default(),
    };
    let report = metrics::link(&sql, &opts).await.unwrap();
    assert!(report.notes.is_empty(), "{:?}", report.notes);
    let l = &report.overall;
    // Everyone with an NPS answer and a purchase is a respondent, as in the truth.
    let respondents: u64 = truth
        .defection
        .by_nps_group
        .iter()
        .map(|g| g.respondents)
        .sum();
    assert_eq!(l.respondents, respondents);
    let share = l.satisfied_defector_share.unwrap();
    let planted = truth.defection.satisfied_defector_share.unwrap();
    // The months of the last answers partition the defectors.
    let months = report.defectors_by_month.values();
    let (satisfied, defectors) = months.fold((0, 0), |(s, n), p| (s + p.successes, n + p.n));
    assert!(report.defectors_by_month.len() > 12);
    assert_eq!(defectors, l.defectors);
    assert!((satisfied as f64 / defectors as f64 - share.value).abs() < 1e-12);
    eprintln!("satisfied-defector share {share:?}, truth {planted}");
    assert!(share.value > 0.5, "most defectors said they were satisfied");
    assert!(
        share.low.unwrap() <= planted && planted <= share.high.unwrap(),
        "truth {planted} outside {share:?}"
    );
    // Money in every cell of the report card, from customer_value.
    assert!(
        l.quadrant
            .iter()
            .all(|c| c.clv.is_some() && c.revenue > 0.0)
    );
    for g in &l.by_score {
        let t = truth
            .defection
            .by_nps_group
            .iter()
            .find(|t| t.group == g.group)
            .unwrap();
        assert_eq!(g.respondents, t.respondents, "{}", g.group);
        let (alive, retained) = (g.alive.unwrap(), 100.0 * (1.0 - t.defector_share.unwrap()));
        eprintln!(
            "{}: still customers {alive:?}, truly {retained:.1}%",
            g.group
        );
        assert!(
            alive.low.unwrap() <= retained && retained <= alive.high.unwrap(),
            "{}: truly retained {retained} outside {alive:?}",
            g.group
        );
    }
    // Behaviour predicts defection in the next window better than the stated score.
    let p = &l.prediction;
    let d = p.auc_behaviour_minus_stated.unwrap();
    eprintln!(
        "AUC stated {:?}, behaviour {:?}, both {:?}",
        p.auc_stated, p.auc_behaviour, p.auc_both
    );
    assert!(d.low.unwrap() > 0.0, "{d:?}");
    assert!(p.auc_both.is_some() && p.lift.len() > 1);
}

/// NPS (n, value) of the responses matching `predicate`, by a query with the predicate in
/// its text, over responses with their customer's segment and their touchpoint's owner:
/// what `--where` gave when it was spliced into SQL.
async fn nps_by_sql_text(sql: &Sql, predicate: &str) -> (u64, Option<f64>) {
    let query = format!(
        "WITH v AS (
            SELECT r.*, c.segment, tp.owner FROM responses r
            LEFT JOIN (SELECT customer_id, max(segment) AS segment FROM customers
                       GROUP BY customer_id) c ON r.customer_id = c.customer_id
            LEFT JOIN (SELECT touchpoint, max(owner) AS owner FROM interactions
                       GROUP BY touchpoint) tp ON r.touchpoint = tp.touchpoint)
         SELECT count(*) AS n,
                CAST(sum(CASE WHEN score >= 9 THEN 1 WHEN score <= 6 THEN -1 ELSE 0 END) AS DOUBLE) AS net
         FROM v WHERE instrument = 'nps' AND ({predicate})"
    );
    let (_, batches) = sql.query(&query).await.unwrap();
    let cell = |name: &str| {
        use cxray_store::datafusion::arrow::array::AsArray;
        use cxray_store::datafusion::arrow::datatypes::{DataType, Float64Type};
        let column = batches[0].column_by_name(name).unwrap();
        let column =
            cxray_store::datafusion::arrow::compute::cast(column, &DataType::Float64).unwrap();
        column.as_primitive::<Float64Type>().value(0)
    };
    let (n, net) = (cell("n") as u64, cell("net"));
    (n, (n > 0).then(|| 100.0 * net / n as f64))
}

/// Conditions made of the view's columns, values and operators.
fn conditions() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let atom = prop_oneof![
        (0..=10u32).prop_map(|s| format!("score >= {s}")),
        (0..=10u32).prop_map(|s| format!("score < {s}")),
        prop::sample::select(vec!["business", "leisure", "none"])
            .prop_map(|s| format!("segment = '{s}'")),
        prop::sample::select(vec!["ground partner", "airport team"])
            .prop_map(|o| format!("owner = '{o}'")),
        Just("touchpoint IS NULL".to_string()),
        Just("customer_id IN ('c0', 'c3')".to_string()),
        (1..=10u32).prop_map(|d| format!("at < CAST('2024-01-{d:02}T12:00:00Z' AS TIMESTAMP)")),
    ];
    atom.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) AND ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) OR ({b})")),
            inner.prop_map(|a| format!("NOT ({a})")),
        ]
    })
}

#[test]
fn conditions_give_the_numbers_sql_text_gave() {
    use proptest::test_runner::{Config, TestRunner};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (_d, _f, sql) = runtime.block_on(surveyed());
    let s = Settings::default();
    let mut runner = TestRunner::new(Config::with_cases(48));
    runner
        .run(&conditions(), |predicate| {
            let slice = Slice {
                filter: Some(predicate.clone()),
                ..Slice::default()
            };
            let rows = runtime
                .block_on(metrics::metric(&sql, Instrument::Nps, &slice, &s))
                .unwrap();
            let got = rows.first().map(|r| r.estimate);
            let (n, value) = runtime.block_on(nps_by_sql_text(&sql, &predicate));
            assert_eq!(got.map_or(0, |e| e.n), n, "{predicate}");
            if let (Some(e), Some(v)) = (got, value) {
                assert!(
                    (e.value - v).abs() < 1e-9,
                    "{predicate}: {} vs {v}",
                    e.value
                );
            }
            Ok(())
        })
        .unwrap();
}

#[tokio::test]
async fn conditions_that_are_not_one_expression_are_bad_input() {
    let (_d, _f, sql) = surveyed().await;
    let s = Settings::default();
    for text in [
        "segment = 'business') OR 1=1; DROP TABLE responses; --",
        "score IN (SELECT score FROM responses)",
        "score > 1; SELECT 1",
        "colour = 'red'",
    ] {
        let slice = Slice {
            filter: Some(text.into()),
            ..Slice::default()
        };
        let err = metrics::metric(&sql, Instrument::Nps, &slice, &s)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, cxray_store::StoreError::Input(m) if m.starts_with("condition: ")),
            "{text}: {err}"
        );
        let err = metrics::compare(&sql, Instrument::Nps, "true", text, &Slice::default(), &s)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("group b: "), "{text}: {err}");
    }
}
