use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use cxray_core::cases::{
    Arm, CaseStatus, Draw, Experience, HoldoutShare, Outcome, OutcomeKind, RootCause,
    ScoreCondition, Trigger,
};
use cxray_core::stats::Instrument;

use super::*;
use crate::StoreError;
use crate::ops::OpsDb;
use crate::ops::temp_db as db;

const KEY: [u8; 32] = [3; 32];

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn detractors(name: &str) -> NewRule {
    NewRule {
        name: name.into(),
        trigger: Trigger::Survey {
            instrument: Instrument::Nps,
            condition: ScoreCondition::parse(Instrument::Nps, "<=6").unwrap(),
            touchpoint: None,
        },
        customers: vec!["segment=business".parse().unwrap()],
        fallback_owner: Some("cx-team".into()),
        cooldown_days: 30,
        holdout: HoldoutShare::new(0.0).unwrap(),
        since: None,
        watermark: Some(4),
    }
}

fn event(customer: &str, key: &str, owner: Option<&str>) -> Candidate {
    Candidate {
        key: key.into(),
        customer_id: customer.into(),
        at: at("2026-11-30T10:00:00Z"),
        touchpoint: Some("check-in".into()),
        detail: "nps 3".into(),
        owner: owner.map(str::to_string),
    }
}

fn opening<'a>(hours: &'a BTreeMap<String, f64>, now: DateTime<Utc>) -> Opening<'a> {
    Opening {
        actor: "scan",
        sla_hours: hours,
        key: &KEY,
        now,
    }
}

fn actions(db: &OpsDb, n: usize) -> Vec<String> {
    let audit = db.recent_audit(n).unwrap();
    audit.into_iter().rev().map(|a| a.action).collect()
}

#[test]
fn rules_are_named_uniquely_listed_disabled_and_audited() {
    let (_dir, db) = db();
    let rule = db.add_rule("ann", &detractors("Detractors")).unwrap();
    assert_eq!(rule.label, "NPS ≤ 6");
    assert_eq!(rule.watermark, Some(4));
    assert_eq!(rule.customers[0].to_string(), "segment=business");
    let e = db.add_rule("ann", &detractors("detractors")).unwrap_err();
    assert!(
        matches!(e, StoreError::Invalid { field: "name", .. }),
        "{e}"
    );
    let e = db.add_rule("ann", &detractors("  ")).unwrap_err();
    assert!(
        matches!(e, StoreError::Invalid { field: "name", .. }),
        "{e}"
    );
    let failed = NewRule {
        name: "Lost bags".into(),
        trigger: Trigger::Interaction {
            touchpoint: "baggage".into(),
            experience: Experience::Failed,
        },
        ..detractors("x")
    };
    let second = db.add_rule("ann", &failed).unwrap();
    assert_eq!(db.rule("lost BAGS").unwrap(), second);
    assert_eq!(db.rules().unwrap().len(), 2);
    let e = db.rule("nope").unwrap_err().to_string();
    assert_eq!(e, "no rule 'nope' (rules: Detractors, Lost bags)");
    assert!(!db.disable_rule("bob", "1").unwrap().enabled);
    assert_eq!(
        actions(&db, 3),
        ["add_case_rule", "add_case_rule", "disable_case_rule"]
    );
}

#[test]
fn each_event_opens_one_case_routed_with_deadlines_and_cooldown() {
    let (_dir, db) = db();
    let rule = db.add_rule("ann", &detractors("Detractors")).unwrap();
    let hours = BTreeMap::from([("airport".to_string(), 24.0)]);
    let now = at("2026-12-01T09:00:00Z");
    let events = [
        event("C-1", "k1", Some("airport")),
        event("C-2", "k2", None),
        // The same customer again: in the cooldown.
        event("C-1", "k3", Some("airport")),
    ];
    let o = db
        .open_cases(&opening(&hours, now), &rule, &events, Some(7))
        .unwrap();
    assert_eq!((o.events, o.opened, o.cooling_down, o.known), (3, 2, 1, 0));
    assert_eq!(db.rule("1").unwrap().watermark, Some(7));
    let cases = db.cases(&CaseFilter::default(), now).unwrap();
    let c1 = cases.iter().find(|c| c.customer_id == "C-1").unwrap();
    assert_eq!(c1.owner.as_deref(), Some("airport"));
    assert_eq!(
        (c1.contact_by.as_str(), c1.resolve_by.as_str()),
        ("2026-12-02T09:00:00Z", "2026-12-04T09:00:00Z")
    );
    let c2 = cases.iter().find(|c| c.customer_id == "C-2").unwrap();
    assert_eq!(c2.owner.as_deref(), Some("cx-team"), "the rule's fallback");
    assert_eq!(c2.contact_by, "2026-12-03T09:00:00Z", "48 hours by default");
    // Again, as after a restart or a re-import: nothing new, the watermark never goes back.
    let again = db
        .open_cases(&opening(&hours, now), &rule, &events[..2], Some(5))
        .unwrap();
    assert_eq!((again.opened, again.known), (0, 2));
    assert_eq!(db.rule("1").unwrap().watermark, Some(7));
    // After the cooldown the customer's new event opens a case.
    let later = now + Duration::days(31);
    let o = db
        .open_cases(
            &opening(&hours, later),
            &rule,
            &[event("C-1", "k4", None)],
            None,
        )
        .unwrap();
    assert_eq!(o.opened, 1);
    assert_eq!(actions(&db, 1), ["open_cases"]);
    assert!(!db.recent_audit(1).unwrap()[0].detail.contains("C-1"));
    db.disable_rule("ann", "1").unwrap();
    let o = db
        .open_cases(
            &opening(&hours, later),
            &rule,
            &[event("C-9", "k9", None)],
            None,
        )
        .unwrap();
    assert_eq!(o, Opened::default(), "a disabled rule opens nothing");
}

#[test]
fn the_holdout_is_the_keyed_draw_and_its_cases_are_not_worked() {
    let (_dir, db) = db();
    let new = NewRule {
        holdout: HoldoutShare::new(0.5).unwrap(),
        cooldown_days: 0,
        ..detractors("Half")
    };
    let rule = db.add_rule("ann", &new).unwrap();
    let events: Vec<Candidate> = (0..400)
        .map(|i| event(&format!("C-{i}"), &format!("k{i}"), Some("airport")))
        .collect();
    let now = at("2026-12-01T09:00:00Z");
    let o = db
        .open_cases(&opening(&BTreeMap::new(), now), &rule, &events, None)
        .unwrap();
    assert!((150..250).contains(&o.held_out), "{o:?}");
    let cases = db.cases(&CaseFilter::default(), now).unwrap();
    for c in &cases {
        let draw = Draw {
            rule: rule.id,
            owner: "airport",
            customer: &c.customer_id,
        };
        assert_eq!(c.arm, draw.arm(&KEY, rule.holdout));
    }
    let held = cases.iter().find(|c| c.arm == Arm::Holdout).unwrap();
    let update = CaseUpdate {
        status: Some(CaseStatus::Contacted),
        ..CaseUpdate::default()
    };
    let e = db.update_case("ann", held.id, &update, now).unwrap_err();
    assert!(e.to_string().contains("held out"), "{e}");
}

#[test]
fn updates_are_checked_recorded_and_listed_by_filters() {
    let (_dir, db) = db();
    let rule = db.add_rule("ann", &detractors("Detractors")).unwrap();
    let now = at("2026-12-01T09:00:00Z");
    let hours = BTreeMap::new();
    let events = [
        event("C-1", "k1", Some("airport")),
        event("C-2", "k2", None),
    ];
    db.open_cases(&opening(&hours, now), &rule, &events, None)
        .unwrap();
    let id = db.cases(&CaseFilter::default(), now).unwrap()[1].id;
    let cause: RootCause = "baggage > delayed > missed connection".parse().unwrap();
    let with_cause = CaseUpdate {
        root_cause: Some(cause.clone()),
        ..CaseUpdate::default()
    };
    let e = db.update_case("ann", id, &with_cause, now).unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Invalid {
                field: "root_cause",
                ..
            }
        ),
        "{e}"
    );
    db.add_root_cause("ann", &cause).unwrap();
    assert_eq!(db.root_causes().unwrap().len(), 3, "with its ancestors");
    let resolve = CaseUpdate {
        status: Some(CaseStatus::Resolved),
        ..CaseUpdate::default()
    };
    let unchanged = db.case(id, now).unwrap();
    let e = db
        .update_case(
            "ann",
            id,
            &CaseUpdate {
                note: Some("x".into()),
                ..resolve.clone()
            },
            now,
        )
        .and_then(|_| db.update_case("ann", id, &resolve, now));
    assert!(e.is_err(), "resolved → resolved is refused");
    let e = db
        .update_case("ann", id, &resolve, now)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "a resolved case cannot become resolved (it can become: open)"
    );
    db.update_case(
        "ann",
        id,
        &CaseUpdate {
            status: Some(CaseStatus::Open),
            ..CaseUpdate::default()
        },
        now,
    )
    .unwrap();
    let work = CaseUpdate {
        status: Some(CaseStatus::Contacted),
        assignee: Some("kim".into()),
        root_cause: Some(cause.clone()),
        outcome: Some(Outcome::new(OutcomeKind::Compensation, Some(50.0)).unwrap()),
        note: Some("called, offered a voucher".into()),
        ..CaseUpdate::default()
    };
    let c = db.update_case("kim", id, &work, now).unwrap();
    assert_eq!(c.status, CaseStatus::Contacted);
    assert_eq!(c.contacted_at.as_deref(), Some("2026-12-01T09:00:00Z"));
    assert_eq!(c.outcome.unwrap().amount, Some(50.0));
    assert_ne!(c, unchanged);
    let history = db.case_history(id).unwrap();
    assert_eq!(history.len(), 4);
    assert_eq!(
        history[3].note.as_deref(),
        Some("called, offered a voucher")
    );
    let audit = db.recent_audit(1).unwrap();
    assert!(
        audit[0]
            .detail
            .starts_with(&format!("case {id}: status open → contacted"))
    );
    assert!(!audit[0].detail.contains("voucher") && !audit[0].detail.contains("C-"));
    let e = db
        .update_case("kim", id, &CaseUpdate::default(), now)
        .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Invalid {
                field: "update",
                ..
            }
        ),
        "{e}"
    );
    let e = db.update_case("kim", 999, &work, now).unwrap_err();
    assert_eq!(e.to_string(), "no case 999");

    let list = |f: CaseFilter, at| db.cases(&f, at).unwrap().len();
    let baggage = Some("baggage".parse().unwrap());
    assert_eq!(
        list(
            CaseFilter {
                root_cause: baggage,
                ..CaseFilter::default()
            },
            now
        ),
        1
    );
    let bag = Some("bag".parse().unwrap());
    assert_eq!(
        list(
            CaseFilter {
                root_cause: bag,
                ..CaseFilter::default()
            },
            now
        ),
        0
    );
    let airport = Some("airport".to_string());
    assert_eq!(
        list(
            CaseFilter {
                owner: airport,
                ..CaseFilter::default()
            },
            now
        ),
        1
    );
    let open = Some(CaseStatus::Open);
    assert_eq!(
        list(
            CaseFilter {
                status: open,
                ..CaseFilter::default()
            },
            now
        ),
        1
    );
    let overdue = CaseFilter {
        overdue: true,
        ..CaseFilter::default()
    };
    assert_eq!(list(overdue.clone(), now), 0);
    // Past first contact only the open case is overdue; past resolution both.
    assert_eq!(list(overdue.clone(), now + Duration::hours(49)), 1);
    assert_eq!(list(overdue, now + Duration::hours(145)), 2);
    let other = CaseFilter {
        rule: Some(rule.id + 1),
        ..CaseFilter::default()
    };
    assert_eq!(list(other, now), 0);
}

#[test]
fn forgotten_customers_cases_leave_no_trace_in_the_database_files() {
    let (dir, db) = db();
    let rule = db.add_rule("ann", &detractors("Detractors")).unwrap();
    let now = at("2026-12-01T09:00:00Z");
    let events = [event("C-SECRET-1", "k1", None), event("C-2", "k2", None)];
    db.open_cases(&opening(&BTreeMap::new(), now), &rule, &events, None)
        .unwrap();
    assert_eq!(db.forget_cases(&["C-SECRET-1".into()]).unwrap(), 1);
    assert_eq!(db.cases(&CaseFilter::default(), now).unwrap().len(), 1);
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let found = bytes.windows(10).any(|w| w == b"C-SECRET-1");
        assert!(!found, "the id is still in a database file");
    }
}
