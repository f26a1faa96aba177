use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use cxray_core::access::Role;
use cxray_core::cases::{
    Arm, CaseEvent, CaseStatus, Draw, Escalation, Experience, HoldoutShare, Outcome, OutcomeKind,
    RootCause, ScoreCondition, Trigger,
};
use cxray_core::schedule::{Channel, DeliveryStatus, MAX_ATTEMPTS};
use cxray_core::stats::Instrument;
use cxray_core::webhook::WebhookEvent;
use proptest::prelude::*;

use crate::StoreError;
use crate::accounts::NewUser;
use crate::cases::*;
use crate::ops::OpsDb;
use crate::outbox::{Mail, Outcome as Tried, Queued};

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
        clv_percentile: None,
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

/// The rule "Half" (half held out, no cooldown) with the cases of `n` customers' events
/// at the airport, opened now.
fn half_held_out(db: &OpsDb, n: usize) -> (Rule, Opened, DateTime<Utc>) {
    let new = NewRule {
        holdout: HoldoutShare::new(0.5).unwrap(),
        cooldown_days: 0,
        ..detractors("Half")
    };
    let rule = db.add_rule("ann", &new).unwrap();
    let events: Vec<Candidate> = (0..n)
        .map(|i| event(&format!("C-{i}"), &format!("k{i}"), Some("airport")))
        .collect();
    let now = at("2026-12-01T09:00:00Z");
    let o = db
        .open_cases(&opening(&BTreeMap::new(), now), &rule, &events, None)
        .unwrap();
    (rule, o, now)
}

#[test]
fn the_holdout_is_the_keyed_draw_and_its_cases_are_not_worked() {
    let (_dir, db) = db();
    let (rule, o, now) = half_held_out(&db, 400);
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
    // Of the two cases, the one that names a root cause.
    let named = CaseFilter {
        with_root_cause: true,
        ..CaseFilter::default()
    };
    assert_eq!(db.cases(&named, now).unwrap().len(), 1);
    assert_eq!(list(CaseFilter::default(), now), 2);
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
    // A webhook message (which names the customer) waits in the outbox.
    db.add_webhook("ann", "http://127.0.0.1:9/hook", &[])
        .unwrap();
    for w in db.waiting_events(now, 10).unwrap() {
        db.write_event(&w, "cx@example.com", &[], now).unwrap();
    }
    assert_eq!(db.queued(now, true, None).unwrap().len(), 2);
    assert_eq!(db.forget_cases(&["C-SECRET-1".into()]).unwrap(), 1);
    assert_eq!(db.queued(now, true, None).unwrap().len(), 1);
    assert_eq!(db.cases(&CaseFilter::default(), now).unwrap().len(), 1);
    let crate::db::OpsLocation::Sqlite(file) = dir.location() else {
        return; // PostgreSQL's files are its own; `rewrite_file` ran its VACUUM FULL.
    };
    for entry in std::fs::read_dir(file.parent().unwrap()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let found = bytes.windows(10).any(|w| w == b"C-SECRET-1");
        assert!(!found, "the id is still in a database file");
    }
}

/// Adds a user of `role` (of `owner` for owners and partners).
fn user(db: &OpsDb, email: &str, role: Role, owner: Option<&str>) {
    let new = NewUser {
        email,
        name: email,
        role,
        owner_id: owner,
        password: "a long enough password",
    };
    db.add_user("admin", &new).unwrap();
}

/// Writes every waiting event with one e-mail per recipient; returns (event, case id,
/// recipients) of each.
fn write_all(db: &OpsDb, now: DateTime<Utc>) -> Vec<(CaseEvent, i64, Vec<String>)> {
    let mut out = Vec::new();
    for w in db.waiting_events(now, 1000).unwrap() {
        let mails: Vec<Mail> = w
            .recipients
            .iter()
            .map(|r| Mail {
                recipient: r.clone(),
                message: b"a notice".to_vec(),
            })
            .collect();
        assert!(db.write_event(&w, "cx@example.com", &mails, now).unwrap());
        assert!(!db.write_event(&w, "cx@example.com", &mails, now).unwrap());
        out.push((w.event, w.case.id, w.recipients));
    }
    out
}

#[test]
fn followed_up_cases_are_told_to_their_owners_users_and_webhooks_held_out_ones_never() {
    let (_dir, db) = db();
    user(&db, "kim@airport.example", Role::Owner, Some("airport"));
    user(&db, "pat@handling.example", Role::Partner, Some("airport"));
    user(&db, "old@airport.example", Role::Owner, Some("airport"));
    user(&db, "sam@lounge.example", Role::Owner, Some("lounge"));
    user(&db, "eve@example.com", Role::Executive, None);
    db.disable_user("admin", "old@airport.example").unwrap();
    let opened = db
        .add_webhook(
            "ann",
            "https://crm.example/hooks",
            &[WebhookEvent::CaseOpened],
        )
        .unwrap()
        .0;
    let closed = db
        .add_webhook(
            "ann",
            "http://127.0.0.1:8099/x",
            &[WebhookEvent::CaseClosed],
        )
        .unwrap()
        .0;
    let (_, o, now) = half_held_out(&db, 40);
    assert!(o.held_out > 0 && o.held_out < 40, "{o:?}");
    let written = write_all(&db, now);
    let cases = db.cases(&CaseFilter::default(), now).unwrap();
    let followed: Vec<i64> = cases
        .iter()
        .filter(|c| c.arm == Arm::FollowUp)
        .map(|c| c.id)
        .collect();
    let mut told: Vec<i64> = written.iter().map(|(_, id, _)| *id).collect();
    told.sort_unstable();
    let mut expected = followed.clone();
    expected.sort_unstable();
    assert_eq!(
        told, expected,
        "every followed-up case once, no held-out one"
    );
    for (event, _, to) in &written {
        assert_eq!(*event, CaseEvent::Opened);
        assert_eq!(to, &["kim@airport.example", "pat@handling.example"]);
    }
    let queued = db.queued(now, false, None).unwrap();
    let hooks: Vec<&Queued> = queued
        .iter()
        .filter(|q| q.channel == Channel::Webhook)
        .collect();
    assert_eq!(
        hooks.len(),
        followed.len(),
        "only the endpoint for opened cases"
    );
    assert!(hooks.iter().all(|q| q.recipient == opened.url));
    let body: serde_json::Value = serde_json::from_slice(&hooks[0].message).unwrap();
    assert_eq!(body["type"], "case.opened");
    assert_eq!(body["data"]["case"]["rule"], "Half");
    assert_eq!(queued.len(), 3 * followed.len());
    let close = CaseUpdate {
        status: Some(CaseStatus::Closed),
        ..CaseUpdate::default()
    };
    db.update_case("kim", followed[0], &close, now).unwrap();
    let written = write_all(&db, now);
    assert_eq!(written.len(), 1);
    assert_eq!(
        (written[0].0, written[0].1),
        (CaseEvent::Closed, followed[0])
    );
    let last = db.webhook_deliveries(closed.id, 10).unwrap();
    assert_eq!(last.len(), 1);
    assert_eq!(
        last[0].about(),
        format!("Case {}: Case closed", followed[0])
    );
}

#[test]
fn overdue_cases_escalate_once_per_level_to_the_lead_then_the_admins() {
    let (_dir, db) = db();
    user(&db, "kim@airport.example", Role::Owner, Some("airport"));
    user(&db, "ada@example.com", Role::Admin, None);
    let rule = db.add_rule("ann", &detractors("Detractors")).unwrap();
    let hours = BTreeMap::from([("airport".to_string(), 24.0)]);
    let t0 = at("2026-12-01T09:00:00Z");
    let events = [event("C-1", "k1", Some("airport"))];
    db.open_cases(&opening(&hours, t0), &rule, &events, None)
        .unwrap();
    write_all(&db, t0);
    let id = db.cases(&CaseFilter::default(), t0).unwrap()[0].id;
    let h = |n: i64| t0 + Duration::hours(n);
    assert_eq!(
        db.escalate("escalation", h(23)).unwrap(),
        Escalated::default()
    );
    let late = db.escalate("escalation", h(25)).unwrap();
    assert_eq!((late.overdue, late.escalated), (1, 0));
    assert_eq!(
        db.escalate("escalation", h(26)).unwrap(),
        Escalated::default()
    );
    let written = write_all(&db, h(26));
    assert_eq!(
        written,
        [(CaseEvent::Overdue, id, vec!["kim@airport.example".into()])]
    );
    // A day more: to the lead — the administrators while the owner has none.
    assert_eq!(db.escalate("escalation", h(48)).unwrap().escalated, 1);
    let e = db
        .set_lead("ann", "airport", Some("not an address"))
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Invalid { field: "email", .. }),
        "{e}"
    );
    let waiting = db.waiting_events(h(48), 10).unwrap();
    assert_eq!(waiting[0].escalation, Some(Escalation::Lead));
    assert_eq!(waiting[0].recipients, ["ada@example.com"]);
    db.set_lead("ann", "airport", Some("lee@airport.example"))
        .unwrap();
    let written = write_all(&db, h(48));
    assert_eq!(written[0].2, ["lee@airport.example"]);
    // Contacted after all: late again only when its resolution is overdue; the levels
    // reached are not repeated, the next one still comes.
    let contact = CaseUpdate {
        status: Some(CaseStatus::Contacted),
        ..CaseUpdate::default()
    };
    db.update_case("kim", id, &contact, h(49)).unwrap();
    assert_eq!(
        db.escalate("escalation", h(71)).unwrap(),
        Escalated::default()
    );
    let late = db.escalate("escalation", h(96)).unwrap();
    assert_eq!((late.overdue, late.escalated), (1, 0));
    let late = db.escalate("escalation", h(120)).unwrap();
    assert_eq!((late.overdue, late.escalated), (0, 1));
    assert_eq!(
        db.escalate("escalation", h(500)).unwrap(),
        Escalated::default()
    );
    let written = write_all(&db, h(500));
    let kinds: Vec<_> = written.iter().map(|w| (w.0, w.2.clone())).collect();
    assert_eq!(
        kinds,
        [
            (CaseEvent::Overdue, vec!["kim@airport.example".to_string()]),
            (CaseEvent::Escalated, vec!["ada@example.com".to_string()]),
        ]
    );
    let history: Vec<String> = db
        .case_history(id)
        .unwrap()
        .into_iter()
        .map(|h| h.change)
        .collect();
    let steps: Vec<&String> = history
        .iter()
        .filter(|c| c.starts_with("overdue") || c.starts_with("escalated"))
        .collect();
    assert_eq!(
        steps,
        [
            "overdue: not contacted by 2026-12-02T09:00:00Z",
            "escalated to the owner's lead",
            "overdue: not done by 2026-12-04T09:00:00Z",
            "escalated to the administrators",
        ]
    );
    let audit = db.recent_audit(50).unwrap();
    let count = |a: &str| audit.iter().filter(|e| e.action == a).count();
    assert_eq!((count("case_overdue"), count("escalate_case")), (2, 2));
    assert!(audit.iter().all(|e| !e.detail.contains("C-1")));
}

#[test]
fn an_endpoint_is_disabled_when_a_message_fails_every_try_and_keeps_the_rest() {
    let (_dir, db) = db();
    let (hook, secret) = db
        .add_webhook("ann", "http://127.0.0.1:9/hook", &[])
        .unwrap();
    assert!(secret.shown().starts_with("whsec_"));
    let rule = db.add_rule("ann", &detractors("Detractors")).unwrap();
    let mut now = at("2026-12-01T09:00:00Z");
    let events = [event("C-1", "k1", None), event("C-2", "k2", None)];
    db.open_cases(&opening(&BTreeMap::new(), now), &rule, &events, None)
        .unwrap();
    write_all(&db, now);
    let [first, second] = <[Queued; 2]>::try_from(db.queued(now, true, None).unwrap()).unwrap();
    assert_eq!(first.secret.as_ref(), Some(&secret));
    let down = Tried::Failed {
        error: "HTTP 500".into(),
        permanent: false,
    };
    for _ in 1..MAX_ATTEMPTS {
        assert_eq!(
            db.record_try(first.id, &down, now).unwrap(),
            DeliveryStatus::Pending
        );
        now += Duration::hours(7);
    }
    assert!(db.webhook(hook.id).unwrap().enabled);
    assert_eq!(
        db.record_try(first.id, &down, now).unwrap(),
        DeliveryStatus::Failed
    );
    let disabled = db.webhook(hook.id).unwrap();
    assert!(!disabled.enabled);
    assert!(disabled.disabled_why.unwrap().contains("failed every try"));
    assert!(
        db.queued(now, true, None).unwrap().is_empty(),
        "not tried while disabled"
    );
    db.set_webhook_enabled("ann", hook.id, true).unwrap();
    let again = db.queued(now, true, None).unwrap();
    assert_eq!(again.iter().map(|q| q.id).collect::<Vec<_>>(), [second.id]);
    let log = db.webhook_deliveries(hook.id, 10).unwrap();
    assert_eq!(log[1].status, DeliveryStatus::Failed);
    assert_eq!(
        (log[1].attempts, log[1].last_error.as_deref()),
        (MAX_ATTEMPTS, Some("HTTP 500"))
    );
    let e = db.webhook_deliveries(hook.id + 1, 10).unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Invalid {
                field: "webhook",
                ..
            }
        ),
        "{e}"
    );
}

proptest! {
    /// Anything but an absolute http(s) address with a host — another scheme, no scheme,
    /// a host that is no host — is refused, naming the URL field, and adds no endpoint.
    #[test]
    fn webhook_urls_other_than_http_addresses_are_refused(
        scheme in prop::sample::select(vec!["ftp", "file", "mailto", "javascript", "smtp"]),
        host in "[a-z]{1,10}\\.example",
        junk in "[^:/]{0,20}",
        word in "[a-z0-9.-]{0,10}",
    ) {
        let (_dir, db) = db();
        let spaced = format!("http://{word} {host}");
        for url in [format!("{scheme}://{host}/x"), junk.clone(), spaced] {
            let e = db.add_webhook("ann", &url, &[]).unwrap_err();
            prop_assert!(matches!(e, StoreError::Invalid { field: "url", .. }), "{url}: {e}");
        }
        prop_assert!(db.webhooks().unwrap().is_empty());
        let good = format!("https://{host}/hook");
        prop_assert!(db.add_webhook("ann", &good, &[]).is_ok());
    }
}

#[test]
fn cases_are_counted_by_the_month_they_were_opened_and_their_deadlines() {
    let (_dir, db) = db();
    let rule = db.add_rule("ann", &detractors("Detractors")).unwrap();
    let hours = BTreeMap::from([("airport".to_string(), 24.0)]);
    let june = at("2026-06-10T09:00:00Z");
    let july = at("2026-07-01T09:00:00Z");
    let first = [
        event("C-1", "k1", Some("airport")),
        event("C-2", "k2", Some("airport")),
        event("C-3", "k3", None),
    ];
    db.open_cases(&opening(&hours, june), &rule, &first, None)
        .unwrap();
    db.open_cases(
        &opening(&hours, july),
        &rule,
        &[event("C-4", "k4", None)],
        None,
    )
    .unwrap();
    let id = |customer: &str| {
        let all = db.cases(&CaseFilter::default(), july).unwrap();
        all.into_iter()
            .find(|c| c.customer_id == customer)
            .unwrap()
            .id
    };
    let to = |status| CaseUpdate {
        status: Some(status),
        ..CaseUpdate::default()
    };
    // C-1 contacted and resolved in time; C-2 contacted late, never resolved; C-3 closed
    // without contact, late.
    let (c1, c2, c3) = (id("C-1"), id("C-2"), id("C-3"));
    db.update_case(
        "ann",
        c1,
        &to(CaseStatus::Contacted),
        june + Duration::hours(2),
    )
    .unwrap();
    db.update_case(
        "ann",
        c1,
        &to(CaseStatus::Resolved),
        june + Duration::hours(5),
    )
    .unwrap();
    db.update_case(
        "ann",
        c2,
        &to(CaseStatus::Contacted),
        june + Duration::days(20),
    )
    .unwrap();
    db.update_case(
        "ann",
        c3,
        &to(CaseStatus::Closed),
        june + Duration::days(30),
    )
    .unwrap();
    let months = db.case_months().unwrap();
    let row = |m: &str, o: Option<&str>| {
        let found = months
            .iter()
            .find(|r| r.month == m && r.owner.as_deref() == o);
        let r = found.unwrap();
        (r.opened, r.contacted_in_time, r.resolved_in_time, r.done)
    };
    assert_eq!(months.len(), 3, "{months:?}");
    assert_eq!(row("2026-06", Some("airport")), (2, 1, 1, 1));
    assert_eq!(row("2026-06", Some("cx-team")), (1, 0, 0, 1));
    assert_eq!(row("2026-07", Some("cx-team")), (1, 0, 0, 0));
}

#[test]
fn deadlines_count_business_hours_once_they_are_set() {
    let (_dir, db) = db();
    let rule = db.add_rule("ann", &detractors("Detractors")).unwrap();
    let hours = BTreeMap::from([("airport".to_string(), 24.0)]);
    assert_eq!(db.business_hours().unwrap(), None);
    let weekdays: cxray_core::cases::hours::BusinessHours =
        "Mon-Fri 08:00-17:00 Europe/Copenhagen".parse().unwrap();
    db.set_business_hours("ann", Some(&weekdays)).unwrap();
    assert_eq!(db.business_hours().unwrap(), Some(weekdays));
    // Friday 16:00 in Copenhagen: 24 working hours end on Wednesday 13:00.
    let friday = at("2026-12-04T15:00:00Z");
    let events = [event("C-1", "k1", Some("airport"))];
    db.open_cases(&opening(&hours, friday), &rule, &events, None)
        .unwrap();
    let case = &db.cases(&CaseFilter::default(), friday).unwrap()[0];
    assert_eq!(case.contact_by, "2026-12-09T12:00:00Z");
    db.set_business_hours("bob", None).unwrap();
    assert_eq!(db.business_hours().unwrap(), None);
    assert_eq!(
        actions(&db, 3),
        ["set_business_hours", "open_cases", "set_business_hours"]
    );
}

#[test]
fn past_cases_are_recorded_as_opened_and_worked_then_without_notifying() {
    let (_dir, db) = db();
    let rule = NewRule {
        holdout: HoldoutShare::new(0.5).unwrap(),
        ..detractors("Detractors")
    };
    let rule = db.add_rule("ann", &rule).unwrap();
    let hours = BTreeMap::from([("airport".to_string(), 24.0)]);
    let arm = |customer: &str| {
        let draw = Draw {
            rule: rule.id,
            owner: "airport",
            customer,
        };
        draw.arm(&KEY, rule.holdout)
    };
    let customers: Vec<String> = (0..40).map(|i| format!("C-{i}")).collect();
    let followed: Vec<&String> = customers
        .iter()
        .filter(|c| arm(c) == Arm::FollowUp)
        .collect();
    let held = customers.iter().find(|c| arm(c) == Arm::Holdout).unwrap();
    let t = |hours: i64| at("2024-03-01T10:00:00Z") + Duration::hours(hours);
    let past = |customer: &str, key: &str| PastCase {
        event: Candidate {
            at: t(0),
            ..event(customer, key, Some("airport"))
        },
        arm: arm(customer),
        contacted_at: None,
        done_at: None,
        outcome: None,
    };
    let compensation = Outcome::new(OutcomeKind::Compensation, Some(75.0)).unwrap();
    let no_contact = Outcome::new(OutcomeKind::NoContact, None).unwrap();
    let cases = [
        PastCase {
            contacted_at: Some(t(5)),
            done_at: Some(t(30)),
            outcome: Some(compensation),
            ..past(followed[0], "k0")
        },
        PastCase {
            done_at: Some(t(20)),
            outcome: Some(no_contact),
            ..past(followed[1], "k1")
        },
        PastCase {
            contacted_at: Some(t(40)),
            ..past(followed[2], "k2")
        },
        past(followed[3], "k3"),
        past(held, "k4"),
    ];
    // A case whose arm is not the draw's is refused, and nothing is recorded.
    let wrong = PastCase {
        arm: Arm::Holdout,
        ..past(followed[4], "k5")
    };
    let all = [&cases[..], &[wrong]].concat();
    let e = db
        .record_past_cases(&opening(&hours, t(1000)), &rule, &all, Some(9))
        .unwrap_err();
    assert!(e.to_string().contains("holdout draw"), "{e}");
    let now = t(1000);
    assert!(db.cases(&CaseFilter::default(), now).unwrap().is_empty());

    let done = db
        .record_past_cases(&opening(&hours, now), &rule, &cases, Some(9))
        .unwrap();
    assert_eq!((done.opened, done.held_out), (5, 1));
    assert_eq!(db.rule("1").unwrap().watermark, Some(9));
    let listed = db.cases(&CaseFilter::default(), now).unwrap();
    let case = |customer: &str| listed.iter().find(|c| c.customer_id == customer).unwrap();
    let resolved = case(followed[0]);
    assert_eq!(resolved.status, CaseStatus::Resolved);
    assert_eq!(resolved.outcome, Some(compensation));
    assert_eq!(resolved.opened_at, "2024-03-01T10:00:00Z");
    assert_eq!(resolved.contact_by, "2024-03-02T10:00:00Z");
    assert_eq!(
        resolved.contacted_at.as_deref(),
        Some("2024-03-01T15:00:00Z")
    );
    assert_eq!(resolved.done_at.as_deref(), Some("2024-03-02T16:00:00Z"));
    assert!(!resolved.overdue);
    assert_eq!(db.case_history(resolved.id).unwrap().len(), 3);
    assert_eq!(case(followed[1]).status, CaseStatus::Closed);
    let late = case(followed[2]);
    assert_eq!((late.status, late.overdue), (CaseStatus::Contacted, true));
    assert_eq!(case(followed[3]).status, CaseStatus::Open);
    assert_eq!(case(held).arm, Arm::Holdout);
    // It happened before: nobody is told.
    assert!(db.waiting_events(now, 100).unwrap().is_empty());
    assert_eq!(actions(&db, 1), ["record_past_cases"]);
    // Again: known, nothing new.
    let again = db
        .record_past_cases(&opening(&hours, now), &rule, &cases, Some(9))
        .unwrap();
    assert_eq!((again.opened, again.known), (0, 5));
    // A rebuilt world clears them.
    assert_eq!(db.clear_rule_cases("demo", &rule).unwrap(), 5);
    assert!(db.cases(&CaseFilter::default(), now).unwrap().is_empty());
}
