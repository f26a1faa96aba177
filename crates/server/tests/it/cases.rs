//! Follow-up cases on the web, over a demo world whose detractors' answers opened cases:
//! the API listed, filtered and paged per role (owners and partners only their own,
//! partners by pseudonym), one case with its source event, cases worked and opened by
//! hand with every bad input refused naming its field and changing nothing; the pages
//! and their form; the rules' administration; open and overdue cases on the owner's
//! scorecard.

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use cxray_core::access::{Role, Scope};
use cxray_core::cases::{HoldoutShare, ScoreCondition, Trigger};
use cxray_core::stats::Instrument;
use cxray_server::ServerOptions;
use cxray_store::cases::NewRule;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

use crate::admin::{Session, audit_count, field_error};
use crate::auth::add;
use crate::{Reply, Server, computed};

/// The rule the demo's cases come from.
const RULE: &str = "Detractors";

impl Server {
    /// A demo world of 1,500 customers whose NPS detractors and unhappy CSAT answers
    /// opened cases ten days ago (so the open ones are overdue, and escalated), a fifth
    /// held out.
    fn demo_with_cases() -> Server {
        Server::launch(ServerOptions::default(), |runtime, folder| {
            runtime.block_on(async {
                crate::airline(folder, 1500).await;
                let ops = cxray_store::ops::OpsDb::open(&folder.ops_db_path()).unwrap();
                let rule = NewRule {
                    name: RULE.into(),
                    trigger: Trigger::Survey {
                        instrument: Instrument::Nps,
                        condition: ScoreCondition::parse(Instrument::Nps, "<=6").unwrap(),
                        touchpoint: None,
                    },
                    customers: Vec::new(),
                    clv_percentile: None,
                    fallback_owner: Some("customer_care".into()),
                    cooldown_days: 0,
                    holdout: HoldoutShare::new(0.2).unwrap(),
                    since: Some("2020-01-01T00:00:00Z".parse().unwrap()),
                    watermark: None,
                };
                ops.add_rule("test", &rule).unwrap();
                // Answers about a touchpoint: routed to its owner.
                let unhappy = NewRule {
                    name: "Unhappy".into(),
                    trigger: Trigger::Survey {
                        instrument: Instrument::Csat,
                        condition: ScoreCondition::parse(Instrument::Csat, "<=2").unwrap(),
                        touchpoint: None,
                    },
                    ..rule
                };
                ops.add_rule("test", &unhappy).unwrap();
                ops.add_root_cause("test", &"baggage > delayed".parse().unwrap())
                    .unwrap();
                let sql = cxray_store::sql::Sql::open(folder, &Default::default())
                    .await
                    .unwrap();
                let past = Utc::now() - Duration::days(10);
                cxray_analysis::cases::scan(&sql, &ops, "test", past)
                    .await
                    .unwrap();
                // Overdue and escalated before the server starts, so that its
                // notification rounds change none of these cases while a test runs.
                ops.escalate("test", Utc::now()).unwrap();
            });
        })
    }

    /// A bearer token of a new user with `role` (and owner) and `scopes`.
    pub(crate) fn token(
        &self,
        email: &str,
        role: Role,
        owner: Option<&str>,
        scopes: &[Scope],
    ) -> String {
        add(self, email, role, owner);
        let t = self.ops().create_api_token("test", email, "t", scopes);
        format!("Bearer {}", t.unwrap().token)
    }

    pub(crate) fn api(&self, path: &str, token: &str) -> Reply {
        self.get(path, &[("Authorization", token)])
    }

    /// Sends `body` as JSON with `method`.
    pub(crate) fn send(&self, method: &str, path: &str, token: &str, body: &Value) -> Reply {
        self.send_raw(method, path, token, "application/json", &body.to_string())
    }

    pub(crate) fn send_raw(
        &self,
        method: &str,
        path: &str,
        token: &str,
        kind: &str,
        body: &str,
    ) -> Reply {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(self.addr).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAuthorization: {token}\r\n\
             Content-Type: {kind}\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).unwrap();
        Reply::parse(&raw)
    }
}

/// Every case the token may see, newest first.
fn all_cases(server: &Server, token: &str, query: &str) -> Vec<Value> {
    let r = server.api(&format!("/api/v1/cases?per_page=500&{query}"), token);
    assert_eq!(r.status, 200, "{}", r.body);
    let body = r.json();
    let cases = body["cases"].as_array().unwrap().clone();
    assert_eq!(
        body["total"].as_u64().unwrap() as usize,
        cases.len(),
        "one page holds all"
    );
    cases
}

fn ids(cases: &[Value]) -> Vec<i64> {
    cases.iter().map(|c| c["id"].as_i64().unwrap()).collect()
}

/// A refusal's status and field.
/// Asks `prefix` + each query and checks it is refused (400) naming its field.
pub(crate) fn refusals(server: &Server, token: &str, prefix: &str, bad: &[(&str, &str)]) {
    for (query, field) in bad {
        let r = server.api(&format!("{prefix}{query}"), token);
        assert_eq!(refused(&r), (400, field.to_string()), "{query}: {}", r.body);
    }
}

pub(crate) fn refused(r: &Reply) -> (u16, String) {
    (
        r.status,
        r.json()["field"].as_str().unwrap_or_default().to_string(),
    )
}

#[test]
fn cases_are_listed_filtered_paged_and_shown_to_each_role_as_it_may_see_them() {
    let server = Server::demo_with_cases();
    let admin = server.token("admin@example.com", Role::Admin, None, &[Scope::Read]);
    let all = all_cases(&server, &admin, "");
    assert!(all.len() > 20, "{} cases", all.len());
    let newest_first: Vec<i64> = ids(&all);
    assert!(newest_first.windows(2).all(|w| w[0] > w[1]));

    // Pages: the second page of two is the third and fourth newest.
    let r = server.api("/api/v1/cases?per_page=2&page=2", &admin).json();
    assert_eq!(ids(r["cases"].as_array().unwrap()), newest_first[2..4]);
    assert_eq!(r["total"].as_u64().unwrap() as usize, all.len());

    // Each filter lets through exactly the cases that meet it.
    let owners: BTreeSet<&str> = all.iter().filter_map(|c| c["owner"].as_str()).collect();
    assert!(owners.len() >= 2, "{owners:?}");
    for owner in &owners {
        let mine = all_cases(&server, &admin, &format!("owner={owner}"));
        let expected: Vec<i64> = ids(&all
            .iter()
            .filter(|c| c["owner"] == *owner)
            .cloned()
            .collect::<Vec<_>>());
        assert_eq!(ids(&mine), expected, "{owner}");
    }
    let overdue = all_cases(&server, &admin, "overdue=true");
    let expected: Vec<&Value> = all.iter().filter(|c| c["overdue"] == true).collect();
    assert_eq!(overdue.len(), expected.len());
    assert!(!overdue.is_empty() && overdue.iter().all(|c| c["arm"] == "follow_up"));
    assert_eq!(all_cases(&server, &admin, "status=contacted").len(), 0);
    let of_rule = all.iter().filter(|c| c["rule"] == RULE).count();
    assert!(of_rule > 0 && of_rule < all.len());
    assert_eq!(
        all_cases(&server, &admin, &format!("rule={RULE}")).len(),
        of_rule
    );
    assert_eq!(all_cases(&server, &admin, "root_cause=baggage").len(), 0);

    // Bad filters are refused naming the filter.
    let bad = [
        ("status=done", "status"),
        ("overdue=maybe", "overdue"),
        ("rule=Nope", "rule"),
        ("root_cause=%20%3E%20", "root_cause"),
        ("page=0", "page"),
        ("per_page=501", "per_page"),
    ];
    refusals(&server, &admin, "/api/v1/cases?", &bad);

    // Any page size outside 1 … 500, any page that is not a whole number from 1: refused.
    let mut runner = TestRunner::new(Config {
        cases: 24,
        ..Config::default()
    });
    let sizes = prop_oneof![Just(0i64), 501i64..100_000, -100_000i64..0];
    runner
        .run(&sizes, |n| {
            let r = server.api(&format!("/api/v1/cases?per_page={n}"), &admin);
            prop_assert_eq!(refused(&r), (400, "per_page".to_string()));
            let r = server.api(&format!("/api/v1/cases?page={n}"), &admin);
            prop_assert_eq!(r.status, if n > 0 { 200 } else { 400 });
            Ok(())
        })
        .unwrap();

    // An owner sees only their cases; another owner's is not found.
    let owner = *owners.iter().next().unwrap();
    let other = all.iter().find(|c| c["owner"] != owner).unwrap();
    let theirs = server.token(
        "owner@example.com",
        Role::Owner,
        Some(owner),
        &[Scope::Read],
    );
    let seen = all_cases(&server, &theirs, "");
    assert!(!seen.is_empty() && seen.iter().all(|c| c["owner"] == owner));
    let r = server.api(&format!("/api/v1/cases/{}", other["id"]), &theirs);
    assert_eq!(r.status, 404, "{}", r.body);
    let r = server.api(
        &format!("/api/v1/cases?owner={}", other["owner"].as_str().unwrap()),
        &theirs,
    );
    assert_eq!(refused(&r), (400, "owner".into()));

    // A partner sees their cases with pseudonyms for customers, and the answer.
    let partner = server.token(
        "partner@example.com",
        Role::Partner,
        Some(owner),
        &[Scope::Read],
    );
    let pseudonymous = all_cases(&server, &partner, "");
    assert_eq!(ids(&pseudonymous), ids(&seen));
    for (p, o) in pseudonymous.iter().zip(&seen) {
        let id = p["customer_id"].as_str().unwrap();
        assert!(id.starts_with("c-") && id != o["customer_id"], "{id}");
        assert_eq!(p["detail"], o["detail"]);
    }
    let one = server
        .api(&format!("/api/v1/cases/{}", seen[0]["id"]), &partner)
        .json();
    assert_eq!(one["case"]["customer_id"], pseudonymous[0]["customer_id"]);
    assert!(
        !one.to_string()
            .contains(seen[0]["customer_id"].as_str().unwrap())
    );

    // One case: its source answer (as the responses hold it) and its history.
    for (rule, instrument, most) in [(RULE, "nps", 6.0), ("Unhappy", "csat", 2.0)] {
        let first = all.iter().find(|c| c["rule"] == rule).unwrap();
        let one = server
            .api(&format!("/api/v1/cases/{}", first["id"]), &admin)
            .json();
        let source = &one["source"];
        assert_eq!(source["kind"], "answer", "{one}");
        assert_eq!(source["instrument"], instrument);
        assert_eq!(source["touchpoint"], first["touchpoint"]);
        let score = source["score"].as_f64().unwrap();
        assert!(score <= most, "{source}");
        let detail = first["detail"].as_str().unwrap();
        assert!(
            detail.starts_with(&format!("{instrument} {score}")),
            "{detail}"
        );
        let change = one["history"][0]["change"].as_str().unwrap();
        assert!(
            change.starts_with(&format!("opened by rule '{rule}'")),
            "{change}"
        );
    }
    assert_eq!(server.api("/api/v1/cases/999999", &admin).status, 404);
}

#[test]
fn cases_are_worked_through_the_api_and_bad_input_changes_nothing() {
    let server = Server::demo_with_cases();
    let admin = server.token(
        "admin@example.com",
        Role::Admin,
        None,
        &[Scope::Read, Scope::Cases],
    );
    let all = all_cases(&server, &admin, "");
    let case = all.iter().find(|c| c["arm"] == "follow_up").unwrap();
    let held = all
        .iter()
        .find(|c| c["arm"] == "holdout")
        .expect("a held-out case");
    let path = format!("/api/v1/cases/{}", case["id"]);
    let owner = case["owner"].as_str().unwrap();
    let other = all.iter().find(|c| c["owner"] != owner).unwrap();
    let mine = server.token(
        "owner@example.com",
        Role::Owner,
        Some(owner),
        &[Scope::Read, Scope::Cases],
    );
    let reader = server.token("reader@example.com", Role::Analyst, None, &[Scope::Read]);
    let exec = server.token(
        "exec@example.com",
        Role::Executive,
        None,
        &[Scope::Read, Scope::Cases],
    );
    let before = server.api(&path, &admin).body;
    let audited = audit_count(&server);

    // Who may not: a token without the cases scope, an executive.
    let change = json!({"status": "contacted"});
    for token in [&reader, &exec] {
        assert_eq!(server.send("PATCH", &path, token, &change).status, 403);
    }
    // Bad input, each refused naming its field.
    for (body, field) in [
        (json!({"status": "done"}), "status"),
        (
            json!({"status": "resolved", "root_cause": "weather"}),
            "root_cause",
        ),
        (json!({"owner": "nobody"}), "owner"),
        (json!({"outcome": "compensation"}), "amount"),
        (json!({"outcome": "apology", "amount": 5}), "amount"),
        (json!({"amount": 5}), "amount"),
        (json!({"outcome": "refund"}), "outcome"),
        (json!({"note": "x".repeat(4001)}), "note"),
        (json!({"stauts": "closed"}), "body"),
        (json!({}), "update"),
    ] {
        let r = server.send("PATCH", &path, &admin, &body);
        assert_eq!(refused(&r), (400, field.to_string()), "{body}: {}", r.body);
    }
    let r = server.send_raw(
        "PATCH",
        &path,
        &admin,
        "application/x-www-form-urlencoded",
        "status=closed",
    );
    assert_eq!(r.status, 415);
    let r = server.send(
        "PATCH",
        &format!("/api/v1/cases/{}", held["id"]),
        &admin,
        &change,
    );
    assert_eq!(refused(&r), (400, "case".into()), "{}", r.body);
    let r = server.send(
        "PATCH",
        &format!("/api/v1/cases/{}", other["id"]),
        &mine,
        &change,
    );
    assert_eq!(r.status, 404, "another owner's case");
    // Any text that is not a status is refused the same way.
    let mut runner = TestRunner::new(Config {
        cases: 24,
        ..Config::default()
    });
    let not_a_status = "[a-z_ ]{1,12}".prop_filter("not a status", |s| {
        s.trim().parse::<cxray_core::cases::CaseStatus>().is_err() && !s.trim().is_empty()
    });
    runner
        .run(&not_a_status, |s| {
            let r = server.send("PATCH", &path, &admin, &json!({"status": s}));
            prop_assert_eq!(refused(&r), (400, "status".to_string()));
            Ok(())
        })
        .unwrap();
    assert_eq!(server.api(&path, &admin).body, before, "nothing changed");
    assert_eq!(audit_count(&server), audited, "nothing audited");

    // The owner works their case: contacted, then resolved with a compensation.
    let r = server.send(
        "PATCH",
        &path,
        &mine,
        &json!({"status": "contacted", "assignee": "kim", "note": "called"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "contacted");
    assert_eq!(
        r.json()["overdue"],
        true,
        "still past its resolution deadline"
    );
    let done = json!({"status": "resolved", "root_cause": "baggage > delayed", "outcome": "compensation", "amount": 50});
    let r = server.send("PATCH", &path, &mine, &done).json();
    assert_eq!(
        (r["status"].as_str(), r["overdue"].as_bool()),
        (Some("resolved"), Some(false))
    );
    assert_eq!(
        r["outcome"],
        json!({"kind": "compensation", "amount": 50.0})
    );
    let history = server.api(&path, &mine).json()["history"].clone();
    let changes: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["change"].as_str().unwrap())
        .collect();
    // Opened, noticed overdue, escalated to the lead and to the administrators, then
    // the owner's two changes.
    assert_eq!(changes.len(), 6, "{changes:?}");
    assert!(
        changes[1].starts_with("overdue: not contacted by"),
        "{changes:?}"
    );
    assert_eq!(changes[4], "status open → contacted; assignee kim; note");
    assert_eq!(history[4]["actor"], "web:owner@example.com");
    assert_eq!(history[4]["note"], "called");
    assert_eq!(audit_count(&server), audited + 2);
    // Moving back from resolved to contacted is not a move a case makes.
    let r = server.send("PATCH", &path, &mine, &json!({"status": "contacted"}));
    assert_eq!(refused(&r), (400, "status".into()));
}

#[test]
fn cases_opened_by_hand_are_routed_as_a_scan_routes_and_bad_input_opens_none() {
    let server = Server::demo_with_cases();
    let analyst = server.token(
        "analyst@example.com",
        Role::Analyst,
        None,
        &[Scope::Read, Scope::Cases],
    );
    let all = all_cases(&server, &analyst, "");
    let scanned = all
        .iter()
        .find(|c| c["touchpoint"].is_string() && c["owner"] != "customer_care")
        .expect("a case at an owned touchpoint");
    let (tp, owner) = (
        scanned["touchpoint"].as_str().unwrap(),
        scanned["owner"].as_str().unwrap(),
    );
    let customer = all.last().unwrap()["customer_id"].as_str().unwrap();
    let new = json!({"rule": RULE, "customer_id": customer, "touchpoint": tp, "detail": "phoned about the queue"});

    // Bad input opens nothing and names the field.
    let partner = server.token(
        "partner@example.com",
        Role::Partner,
        Some(owner),
        &[Scope::Read, Scope::Cases],
    );
    assert_eq!(
        server.send("POST", "/api/v1/cases", &partner, &new).status,
        403
    );
    let elsewhere = all
        .iter()
        .filter_map(|c| c["owner"].as_str())
        .find(|o| *o != owner)
        .unwrap();
    let stranger = server.token(
        "owner@example.com",
        Role::Owner,
        Some(elsewhere),
        &[Scope::Read, Scope::Cases],
    );
    let r = server.send("POST", "/api/v1/cases", &stranger, &new);
    assert_eq!(refused(&r), (400, "touchpoint".into()), "{}", r.body);
    let bad = |key: &str, value: Value, field: &str| {
        let mut body = new.clone();
        body[key] = value;
        let r = server.send("POST", "/api/v1/cases", &analyst, &body);
        assert_eq!(refused(&r), (400, field.to_string()), "{body}: {}", r.body);
    };
    bad("customer_id", json!("no-such-customer"), "customer_id");
    bad("touchpoint", json!("moon_base"), "touchpoint");
    bad("rule", json!("Nope"), "rule");
    bad("detail", json!(""), "detail");
    bad("detail", json!("x".repeat(501)), "detail");
    bad("colour", json!("red"), "body");
    assert_eq!(
        all_cases(&server, &analyst, "").len(),
        all.len(),
        "none opened"
    );

    // Opened: routed to the touchpoint's owner with the owner's deadlines.
    let r = server.send("POST", "/api/v1/cases", &analyst, &new);
    assert_eq!(r.status, 201, "{}", r.body);
    let case = r.json();
    assert_eq!(case["owner"], owner);
    assert_eq!(case["touchpoint"], tp);
    assert_eq!(case["detail"], "opened by hand: phoned about the queue");
    let hours = |c: &Value| {
        let at = |k: &str| {
            c[k].as_str()
                .unwrap()
                .parse::<chrono::DateTime<Utc>>()
                .unwrap()
        };
        (at("contact_by") - at("opened_at")).num_minutes()
    };
    assert_eq!(hours(&case), hours(scanned));
    assert_eq!(case["overdue"], false);
    assert_eq!(all_cases(&server, &analyst, "").len(), all.len() + 1);
    let one = server
        .api(&format!("/api/v1/cases/{}", case["id"]), &analyst)
        .json();
    assert!(one["source"].is_null(), "no source event: {one}");
    assert_eq!(one["history"][0]["actor"], "web:analyst@example.com");
}

#[test]
fn the_case_pages_list_show_and_work_cases_through_their_form() {
    let server = Server::demo_with_cases();
    let admin_token = server.token("reader@example.com", Role::Analyst, None, &[Scope::Read]);
    let all = all_cases(&server, &admin_token, "");
    let case = all.iter().find(|c| c["arm"] == "follow_up").unwrap();
    let held = all.iter().find(|c| c["arm"] == "holdout").unwrap();
    let owner = case["owner"].as_str().unwrap();
    let session = Session::new(&server, "owner@example.com", Role::Owner, Some(owner));

    let list = session.get("/cases?overdue=true&status=open&per_page=500");
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(
        list.body.contains("href=\"/cases\" aria-current=\"page\""),
        "in the navigation"
    );
    let mine = all
        .iter()
        .filter(|c| c["owner"] == owner && c["overdue"] == true)
        .count();
    assert_eq!(list.body.matches("<a href=\"/cases/").count(), mine);
    let r = session.get("/cases?status=done");
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("unknown status &#39;done&#39;"),
        "{}",
        r.body
    );

    let path = format!("/cases/{}", case["id"]);
    let page = session.get(&path);
    assert!(page.body.contains("Work on the case") && page.body.contains("The customer answered "));
    let audited = audit_count(&server);
    let r = session.post(&path, &[("status", ""), ("root_cause", "weather")]);
    assert_eq!(r.status, 400);
    assert!(
        field_error(&r.body, "root_cause")
            .unwrap()
            .contains("unknown root cause"),
        "{}",
        r.body
    );
    let r = session.post_raw(&path, "status=contacted");
    assert_eq!(r.status, 403, "no form token");
    assert_eq!(audit_count(&server), audited);
    let r = session.post(
        &path,
        &[
            ("status", "contacted"),
            ("note", "left a voicemail"),
            ("amount", ""),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let page = session.get(r.header("location").unwrap());
    assert!(page.body.contains("Saved") && page.body.contains("left a voicemail"));
    assert!(page.body.contains("<dd>Customer contacted"));
    let other = all.iter().find(|c| c["owner"] != owner).unwrap();
    assert_eq!(session.get(&format!("/cases/{}", other["id"])).status, 404);
    assert_eq!(
        session
            .post(&format!("/cases/{}", other["id"]), &[("status", "closed")])
            .status,
        404
    );

    let admin = Session::new(&server, "admin@example.com", Role::Admin, None);
    let page = admin.get(&format!("/cases/{}", held["id"]));
    assert!(
        page.body.contains("Held out (not followed up)") && !page.body.contains("Work on the case")
    );
}

#[test]
fn an_admin_adds_and_disables_rules_and_bad_rules_change_nothing() {
    let server = Server::demo_with_cases();
    let admin = Session::new(&server, "admin@example.com", Role::Admin, None);
    let page = admin.get("/admin/rules");
    assert!(
        page.body.contains(RULE) && page.body.contains("Add a rule"),
        "{}",
        page.body
    );
    let audited = audit_count(&server);
    let good = [
        ("name", "Failed bag drop"),
        ("kind", "interaction"),
        ("touchpoint", "bag_drop"),
        ("experience", "failed"),
        ("cooldown_days", "30"),
        ("holdout", "0.1"),
    ];
    for (field, value, why) in [
        ("touchpoint", "moon_base", "unknown touchpoint"),
        ("experience", "sad", "unknown experience"),
        ("holdout", "0.9", "holdout"),
        ("cooldown_days", "-1", "not a number"),
        ("name", RULE, "already"),
        ("customers", "shoe_size=9", "no column 'shoe_size'"),
        ("fallback_owner", "nobody", "unknown owner"),
        ("since", "yesterday", "not a day"),
        ("clv_percentile", "top", "not a number"),
    ] {
        let mut fields = good.to_vec();
        fields.retain(|(k, _)| *k != field);
        fields.push((field, value));
        let r = admin.post("/admin/rules", &fields);
        assert_eq!(r.status, 400, "{field}: {}", r.body);
        let e = field_error(&r.body, field).unwrap_or_else(|| panic!("{field}: {}", r.body));
        assert!(e.contains(why), "{field}: {e}");
    }
    let score = [
        ("name", "x"),
        ("kind", "survey"),
        ("instrument", "nps"),
        ("score", "<=11"),
    ];
    let r = admin.post("/admin/rules", &score);
    assert!(
        field_error(&r.body, "score")
            .unwrap()
            .contains("out of range"),
        "{}",
        r.body
    );
    // Behaviour: the threshold is a chance, and the rule names the owner of its cases.
    let fading = [
        ("name", "Fading"),
        ("kind", "behaviour"),
        ("p_alive_below", "1.5"),
        ("fallback_owner", "customer_care"),
    ];
    let r = admin.post("/admin/rules", &fading);
    assert!(
        field_error(&r.body, "p_alive_below").is_some(),
        "{}",
        r.body
    );
    let r = admin.post("/admin/rules", &fading[..2]);
    let e = field_error(&r.body, "p_alive_below").unwrap_or_else(|| panic!("{}", r.body));
    assert!(e.contains("needs a threshold"), "{e}");
    let ownerless = [fading[0], fading[1], ("p_alive_below", "0.5")];
    let r = admin.post("/admin/rules", &ownerless);
    let e = field_error(&r.body, "fallback_owner").unwrap_or_else(|| panic!("{}", r.body));
    assert!(e.contains("name the owner"), "{e}");
    assert_eq!(audit_count(&server), audited);
    assert_eq!(server.ops().rules().unwrap().len(), 2);

    let page = admin.follow(&admin.post("/admin/rules", &good));
    assert!(
        page.body.contains("Rule Failed bag drop added"),
        "{}",
        page.body
    );
    let added = server.ops().rule("Failed bag drop").unwrap();
    assert!(
        added.enabled && added.watermark.is_some(),
        "watches what arrives from now on"
    );
    let page = admin.follow(&admin.post("/admin/rules/disable", &[("id", &added.id.to_string())]));
    assert!(page.body.contains("disabled"));
    assert!(!server.ops().rule("Failed bag drop").unwrap().enabled);
}

#[test]
fn the_owner_scorecard_counts_the_owners_open_and_overdue_cases() {
    let server = Server::demo_with_cases();
    let admin = server.token("admin@example.com", Role::Admin, None, &[Scope::Read]);
    let all = all_cases(&server, &admin, "");
    let owned = |c: &&Value| c["arm"] == "follow_up" && c["owner"] != "customer_care";
    let owner = all.iter().find(owned).unwrap()["owner"].as_str().unwrap();
    let r = computed(&server, &format!("/api/v1/owners/{owner}"), &admin);
    assert_eq!(r.status, 200, "{}", r.body);
    let open = all_cases(&server, &admin, &format!("owner={owner}&status=open"))
        .iter()
        .filter(|c| c["arm"] == "follow_up")
        .count();
    let overdue = all_cases(&server, &admin, &format!("owner={owner}&overdue=true")).len();
    assert!(overdue > 0);
    assert_eq!(r.json()["cases"], json!({"open": open, "overdue": overdue}));
    let session = Session::new(&server, "owner@example.com", Role::Owner, Some(owner));
    // The root causes of the owner's cases are counted beside the weak-area map.
    let areas = session.get("/areas");
    assert!(
        areas.body.contains("No case names a root cause yet"),
        "{}",
        areas.body
    );
    let id = all
        .iter()
        .find(|c| c["owner"] == owner && c["arm"] == "follow_up")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let update = cxray_store::cases::CaseUpdate {
        root_cause: Some("baggage > delayed".parse().unwrap()),
        ..Default::default()
    };
    server
        .ops()
        .update_case("test", id, &update, Utc::now())
        .unwrap();
    let areas = session.get("/areas");
    assert!(areas.body.contains("root_cause=baggage%20%3E%20delayed\">baggage &gt; delayed</a></td><td class=\"num\">1</td><td class=\"num\">1</td>"), "{}", areas.body);
    // The same through the API: the owner's causes, the cause above counting the one below;
    // another owner sees none of them.
    let mine = server.token(
        "owner.api@example.com",
        Role::Owner,
        Some(owner),
        &[Scope::Read],
    );
    let causes = server.api("/api/v1/cases/causes", &mine).json()["causes"].clone();
    let counted: Vec<(&str, i64)> = causes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["cause"].as_str().unwrap(), c["cases"].as_i64().unwrap()))
        .collect();
    assert_eq!(counted, [("baggage", 1), ("baggage > delayed", 1)]);
    let other = all.iter().find(|c| c["owner"] != owner).unwrap()["owner"]
        .as_str()
        .unwrap();
    let theirs = server.token(
        "other@example.com",
        Role::Owner,
        Some(other),
        &[Scope::Read],
    );
    let causes = server.api("/api/v1/cases/causes", &theirs).json()["causes"].clone();
    assert_eq!(causes, json!([]));
    // What following up changed: for those who see every owner.
    assert_eq!(session.get("/cases/effect").status, 403);
    let boss = Session::new(&server, "boss@example.com", Role::Executive, None);
    let effect = boss.get("/cases/effect?window_days=30");
    assert_eq!(effect.status, 200, "{}", effect.body);
    assert!(
        effect.body.contains("Within 30 days of the case") && effect.body.contains("cx-forest"),
        "{}",
        effect.body
    );
    let bad = boss.get("/cases/effect?window_days=0");
    assert_eq!(bad.status, 400);
    assert!(
        bad.body.contains("a window is 1 to 3650 days"),
        "{}",
        bad.body
    );
    let page = session.get(&format!("/owners/{owner}"));
    assert!(
        page.body.contains(&format!(
            "{open} open</a>, <a href=\"/cases?owner={owner}&amp;overdue=true\">{overdue} overdue"
        )),
        "{}",
        page.body
    );
}
