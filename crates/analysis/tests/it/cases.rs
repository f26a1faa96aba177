//! Rule evaluation over real Delta tables: matches, routing, the watermark, idempotence
//! across re-imports and scans.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use cxray_analysis::cases::scan;
use cxray_core::cases::{Experience, HoldoutShare, ScoreCondition, Trigger};
use cxray_core::domain::Table;
use cxray_core::stats::Instrument;
use cxray_store::DataFolder;
use cxray_store::cases::{CaseFilter, NewRule, check};
use cxray_store::import::{ImportOptions, NoProgress, import};
use cxray_store::maintenance::forget::forget;
use cxray_store::ops::{OpsDb, Placement, Sla};
use cxray_store::sql::Sql;

use crate::fresh;

pub(crate) async fn load(folder: &DataFolder, table: Table, name: &str, csv: &str) -> u64 {
    let dir = folder.root().parent().unwrap();
    let path = dir.join(name);
    std::fs::write(&path, csv).unwrap();
    let o = ImportOptions {
        actor: "test".into(),
        ..ImportOptions::default()
    };
    let s = import(folder, table, &[path], &o, Arc::new(NoProgress)).await;
    s.unwrap().version.unwrap_or(0)
}

pub(crate) async fn world(folder: &DataFolder) {
    let customers = "customer_id,segment\nC1,business\nC2,leisure\nC3,business\nC4,business\n";
    load(folder, Table::Customers, "customers.csv", customers).await;
    let owners = "owner_id,name,kind,sla_hours\nground,Ground crew,partner,24\nsales,Sales,team,\n";
    load(folder, Table::Owners, "owners.csv", owners).await;
    let interactions = "customer_id,at,touchpoint,owner,outcome,wait_seconds
C1,2026-10-01T08:00:00Z,check_in,ground,ok,100
C2,2026-10-01T09:00:00Z,check_in,ground,failed,50
C3,2026-10-02T09:00:00Z,check_in,ground,ok,900
C4,2026-10-02T10:00:00Z,booking,sales,ok,10
";
    load(
        folder,
        Table::Interactions,
        "interactions-1.csv",
        interactions,
    )
    .await;
    let responses = "customer_id,at,instrument,score,touchpoint,comment
C1,2026-10-03T08:00:00Z,nps,3,check_in,the queue was endless
C2,2026-10-03T09:00:00Z,nps,9,check_in,
C3,2026-10-03T10:00:00Z,nps,6,booking,
C4,2026-10-03T11:00:00Z,csat,1,check_in,
";
    load(folder, Table::Responses, "responses-1.csv", responses).await;
}

pub(crate) fn rule(name: &str, trigger: Trigger) -> NewRule {
    NewRule {
        name: name.into(),
        trigger,
        customers: Vec::new(),
        clv_percentile: None,
        fallback_owner: Some("sales".into()),
        cooldown_days: 0,
        holdout: HoldoutShare::new(0.0).unwrap(),
        since: None,
        watermark: None,
    }
}

fn detractors() -> Trigger {
    Trigger::Survey {
        instrument: Instrument::Nps,
        condition: ScoreCondition::parse(Instrument::Nps, "<=6").unwrap(),
        touchpoint: None,
    }
}

/// Each rule's name and the cases it opened.
async fn run_scan(folder: &DataFolder, ops: &OpsDb, now: DateTime<Utc>) -> Vec<(String, usize)> {
    let scans = scan_events(folder, ops, now).await;
    scans
        .into_iter()
        .map(|(name, opened, _)| (name, opened))
        .collect()
}

/// Each rule's name, the cases it opened and the events it matched.
async fn scan_events(
    folder: &DataFolder,
    ops: &OpsDb,
    now: DateTime<Utc>,
) -> Vec<(String, usize, usize)> {
    let sql = Sql::open(folder, &BTreeMap::new()).await.unwrap();
    let scans = scan(&sql, ops, "test", now).await.unwrap();
    scans
        .into_iter()
        .map(|s| (s.name, s.opened.opened, s.opened.events))
        .collect()
}

pub(crate) fn now() -> DateTime<Utc> {
    "2026-12-01T09:00:00Z".parse().unwrap()
}

#[tokio::test]
async fn rules_open_one_case_per_event_routed_to_the_touchpoints_owner() {
    let (_dir, folder) = fresh().await;
    world(&folder).await;
    let ops = OpsDb::open(&folder.ops_db_path()).unwrap();
    ops.set_sla(
        "test",
        "check_in",
        Sla {
            max_wait_seconds: Some(600.0),
            max_failure_rate: None,
        },
    )
    .unwrap();
    ops.add_rule("test", &rule("Detractors", detractors()))
        .unwrap();
    let bad = Trigger::Interaction {
        touchpoint: "check_in".into(),
        experience: Experience::Bad,
    };
    ops.add_rule("test", &rule("Bad check-in", bad)).unwrap();
    let business = NewRule {
        customers: vec!["segment=business".parse().unwrap()],
        ..rule("Business detractors", detractors())
    };
    ops.add_rule("test", &business).unwrap();
    let opened = run_scan(&folder, &ops, now()).await;
    assert_eq!(
        opened,
        [
            ("Detractors".to_string(), 2),
            ("Bad check-in".to_string(), 2),
            ("Business detractors".to_string(), 2)
        ]
    );
    let cases = ops
        .cases(
            &CaseFilter {
                rule: Some(1),
                ..CaseFilter::default()
            },
            now(),
        )
        .unwrap();
    let c1 = cases.iter().find(|c| c.customer_id == "C1").unwrap();
    assert_eq!(c1.detail, "nps 3: \"the queue was endless\"");
    assert_eq!(c1.event_at, "2026-10-03T08:00:00Z");
    // The answer's touchpoint is owned by whom its interactions name, with their hours.
    assert_eq!(c1.owner.as_deref(), Some("ground"));
    assert_eq!(c1.contact_by, "2026-12-02T09:00:00Z");
    let bad: Vec<(String, String)> = ops
        .cases(
            &CaseFilter {
                rule: Some(2),
                ..CaseFilter::default()
            },
            now(),
        )
        .unwrap()
        .into_iter()
        .map(|c| (c.customer_id, c.detail))
        .collect();
    assert_eq!(
        bad,
        [
            ("C3".to_string(), "ok, waited 900 s".to_string()),
            ("C2".to_string(), "failed, waited 50 s".to_string())
        ]
    );

    // Scanning again opens nothing; new rows open only their own cases, and an edited
    // placement routes them.
    assert!(
        run_scan(&folder, &ops, now())
            .await
            .iter()
            .all(|(_, n)| *n == 0)
    );
    let edit = Placement {
        owner: Some("sales".into()),
        ..Placement::default()
    };
    ops.set_placement("test", "check_in", &edit).unwrap();
    let more =
        "customer_id,at,instrument,score,touchpoint\nC4,2026-11-01T08:00:00Z,nps,2,check_in\n";
    load(&folder, Table::Responses, "responses-2.csv", more).await;
    // Only the new file is read: one event matched, not the table's three.
    let opened = scan_events(&folder, &ops, now()).await;
    assert_eq!(opened[0], ("Detractors".to_string(), 1, 1));
    assert_eq!(
        opened[1],
        ("Bad check-in".to_string(), 0, 0),
        "interactions unchanged"
    );
    let newest = &ops
        .cases(
            &CaseFilter {
                rule: Some(1),
                ..CaseFilter::default()
            },
            now(),
        )
        .unwrap()[0];
    assert_eq!(
        (newest.customer_id.as_str(), newest.owner.as_deref()),
        ("C4", Some("sales"))
    );
    assert_eq!(
        newest.contact_by, "2026-12-03T09:00:00Z",
        "no hours: two days"
    );

    // The same events in another file: new files, known events, no new case.
    let again = format!("{more}C1,2026-10-03T08:00:00Z,nps,3,check_in\n");
    load(&folder, Table::Responses, "responses-3.csv", &again).await;
    let opened = scan_events(&folder, &ops, now()).await;
    assert_eq!(opened[0], ("Detractors".to_string(), 0, 2));
    let rule = ops.rule("Detractors").unwrap();
    let version = Sql::open(&folder, &BTreeMap::new())
        .await
        .unwrap()
        .versions()[&Table::Responses];
    assert_eq!(rule.watermark, Some(version));

    // An erasure rewrites the files that held the customer: their other rows are no new
    // events (nor is anything read from the commits whose log it removed).
    forget(&folder, &["C2".to_string()], "test", None)
        .await
        .unwrap();
    let after = scan_events(&folder, &ops, now()).await;
    assert!(
        after.iter().all(|(_, n, events)| (*n, *events) == (0, 0)),
        "{after:?}"
    );
    let sql = Sql::open(&folder, &BTreeMap::new()).await.unwrap();
    for (name, table) in [
        ("Detractors", Table::Responses),
        ("Bad check-in", Table::Interactions),
    ] {
        let watermark = ops.rule(name).unwrap().watermark;
        assert_eq!(
            watermark,
            Some(sql.versions()[&table]),
            "{name}: moved past the erasure"
        );
    }
}

#[tokio::test]
async fn a_rule_added_without_since_leaves_the_events_before_it_alone() {
    let (_dir, folder) = fresh().await;
    world(&folder).await;
    let ops = OpsDb::open(&folder.ops_db_path()).unwrap();
    let sql = Sql::open(&folder, &BTreeMap::new()).await.unwrap();
    let from_now = NewRule {
        watermark: Some(sql.versions()[&Table::Responses]),
        ..rule("From now on", detractors())
    };
    ops.add_rule("test", &from_now).unwrap();
    let since = NewRule {
        since: Some("2026-10-03T09:30:00Z".parse().unwrap()),
        ..rule("Since", detractors())
    };
    ops.add_rule("test", &since).unwrap();
    let opened = run_scan(&folder, &ops, now()).await;
    assert_eq!(
        opened,
        [("From now on".to_string(), 0), ("Since".to_string(), 1)]
    );
}

#[tokio::test]
async fn rules_naming_what_the_data_lacks_are_refused_with_the_valid_names() {
    let (_dir, folder) = fresh().await;
    world(&folder).await;
    let ops = OpsDb::open(&folder.ops_db_path()).unwrap();
    let sql = Sql::open(&folder, &BTreeMap::new()).await.unwrap();
    let refused = |new: NewRule| {
        let (sql, ops) = (&sql, &ops);
        async move {
            let slas = ops.slas().unwrap();
            check::rule(sql, &slas, &new).await.unwrap_err().to_string()
        }
    };
    let at_gate = Trigger::Interaction {
        touchpoint: "gate".into(),
        experience: Experience::Failed,
    };
    let e = refused(rule("x", at_gate)).await;
    assert_eq!(
        e,
        "unknown touchpoint 'gate' (touchpoints: booking, check_in)"
    );
    let slow = Trigger::Interaction {
        touchpoint: "booking".into(),
        experience: Experience::OverSla,
    };
    assert!(refused(rule("x", slow)).await.contains("no service level"));
    let nobody = NewRule {
        fallback_owner: Some("nobody".into()),
        ..rule("x", detractors())
    };
    assert_eq!(
        refused(nobody).await,
        "unknown owner 'nobody' (owners: ground, sales)"
    );
    let tier = NewRule {
        customers: vec!["tier=gold".parse().unwrap()],
        ..rule("x", detractors())
    };
    let e = refused(tier).await;
    assert!(
        e.starts_with("customers have no column 'tier' (columns: customer_id"),
        "{e}"
    );
    // Behaviour and CLV need valued customers; behaviour cases an owner.
    let behaviour = rule("x", Trigger::behaviour(0.3).unwrap());
    assert!(refused(behaviour.clone()).await.contains("not valued yet"));
    let ownerless = NewRule {
        fallback_owner: None,
        ..behaviour
    };
    assert!(refused(ownerless).await.contains("name the owner"));
    let valuable = NewRule {
        clv_percentile: Some(80.0),
        ..rule("x", detractors())
    };
    assert!(refused(valuable).await.contains("not valued yet"));
    assert!(ops.rules().unwrap().is_empty());
}
