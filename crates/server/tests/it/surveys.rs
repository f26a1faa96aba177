//! Surveys on the server: the JSON API round trip (surveys, rules, the contact policy,
//! rates by owner, a customer's contact log), who may read and change what, bad input
//! refused naming the field with nothing stored, the administration page's forms and the
//! response rates page.

use std::collections::BTreeMap;

use cxray_core::access::{Role, Scope};
use cxray_core::stats::Instrument;
use cxray_core::surveys::Survey;
use cxray_server::ServerOptions;
use cxray_store::decode::Columns;
use cxray_store::sql::Sql;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

use crate::admin::{Session, audit_count, field_error};
use crate::auth::audit_actions;
use crate::{Reply, Server};

const ADMIN: &str = "admin@example.com";

impl Server {
    /// A demo world of 300 customers with the demo's surveys and rules, their invitations
    /// played forward to the world's end.
    fn surveyed_demo() -> Server {
        Server::launch(ServerOptions::default(), |runtime, folder| {
            runtime.block_on(async {
                cxray_store::tables::create_all(folder).await.unwrap();
                let world = cxray_core::world::World::airline();
                let truth = cxray_analysis::world::build(folder, world, 300, 1, |_| {})
                    .await
                    .unwrap();
                let end = chrono::NaiveDate::parse_from_str(&truth.observation.end, "%Y-%m-%d")
                    .unwrap()
                    .and_hms_opt(23, 59, 59)
                    .unwrap()
                    .and_utc();
                let ops = cxray_store::ops::OpsDb::open(&folder.ops_db_path()).unwrap();
                let sql = Sql::open(folder, &BTreeMap::new()).await.unwrap();
                cxray_analysis::surveys::demo::plant(&sql, &ops, end)
                    .await
                    .unwrap();
            });
        })
    }

    /// A customer the survey rules triggered on (at check-in).
    fn triggered_customer(&self) -> String {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let folder = self.folder();
        let batches = runtime.block_on(async {
            let sql = Sql::open(&folder, &BTreeMap::new()).await.unwrap();
            let query =
                "SELECT customer_id FROM interactions WHERE touchpoint = 'check_in' LIMIT 1";
            sql.query(query).await.unwrap().1
        });
        let c = Columns::new(&batches[0]);
        c.text("customer_id").unwrap().str(0).unwrap().to_string()
    }
}

/// `GET` with a bearer token.
fn get(server: &Server, path: &str, token: &str) -> Reply {
    server.get(path, &[("Authorization", token)])
}

/// Groups' `sent`, summed.
fn sent(rates: &Value) -> u64 {
    let rows = rates["rates"].as_array().unwrap();
    rows.iter().map(|r| r["sent"].as_u64().unwrap()).sum()
}

#[test]
fn surveys_rules_and_the_policy_round_trip_through_the_api_and_rates_group_by_owner() {
    let server = Server::surveyed_demo();
    let admin = server.token(ADMIN, Role::Admin, None, &[Scope::Read, Scope::Surveys]);
    let listed = get(&server, "/api/v1/surveys", &admin).json();
    let demo = &listed.as_array().unwrap()[0];
    assert_eq!(demo["name"], "After check-in", "{listed}");
    let link = demo["anonymous_link"].as_str().unwrap();
    assert!(link.starts_with("/s/open/"), "{link}");
    assert_eq!(
        server.get(link, &[]).status,
        200,
        "the anonymous link works"
    );
    assert!(demo["counts"]["invitations"]["responded"].as_u64().unwrap() > 0);
    assert_eq!(demo["rules"].as_array().unwrap().len(), 1);

    let new = json!({"name": "Check-in again", "touchpoint": "check_in",
                     "questions": ["csat", "nps"], "comment": true, "languages": ["de", "en"]});
    let added = server.send("POST", "/api/v1/surveys", &admin, &new);
    assert_eq!(added.status, 201, "{}", added.body);
    let id = added.json()["id"].as_i64().unwrap();
    let one = get(&server, &format!("/api/v1/surveys/{id}"), &admin).json();
    assert_eq!(one["questions"], json!(["csat", "nps"]));
    assert_eq!(one["languages"], json!(["de", "en"]));
    assert_eq!(one["counts"]["invitations"], json!({}));
    let rule = json!({"name": "Check-in, a week later", "delay_hours": 168, "sample_rate": 0.25,
                      "customers": "segment=business", "survey_cooldown_days": 120});
    let rules = format!("/api/v1/surveys/{id}/rules");
    let r = server.send("POST", &rules, &admin, &rule);
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.json()["touchpoint"],
        "check_in",
        "the survey's touchpoint"
    );
    let listed = get(&server, &rules, &admin).json();
    assert_eq!(listed[0]["name"], "Check-in, a week later");
    assert_eq!(listed[0]["sample_rate"], 0.25);
    let missing = get(&server, "/api/v1/surveys/999", &admin);
    assert_eq!(missing.status, 404);

    let p = server.send(
        "PUT",
        "/api/v1/survey-policy",
        &admin,
        &json!({"global_cooldown_days": 45}),
    );
    assert_eq!(p.status, 200, "{}", p.body);
    let p = get(&server, "/api/v1/survey-policy", &admin).json();
    assert_eq!(
        (
            p["global_cooldown_days"].as_i64(),
            p["max_in_window"].as_i64()
        ),
        (Some(45), Some(3))
    );
    let actions = audit_actions(&server);
    for action in ["add_survey", "add_survey_rule", "set_contact_policy"] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} audited: {actions:?}"
        );
    }
    // The same invitations grouped every way; by owner, each touchpoint's.
    let by = |g: &str| get(&server, &format!("/api/v1/survey-rates?by={g}"), &admin).json();
    let all = sent(&by("survey"));
    assert!(all > 0);
    for g in ["touchpoint", "owner", "channel", "week"] {
        assert_eq!(sent(&by(g)), all, "{g}");
    }
    let owners = by("owner");
    assert_eq!(owners["by"], "owner");
    let rate = &owners["rates"][0];
    assert!(rate["response_rate"]["low"].as_f64() <= rate["response_rate"]["value"].as_f64());
    assert_ne!(rate["group"], "No owner", "{owners}");
    let bad = get(&server, "/api/v1/survey-rates?by=colour", &admin);
    assert_eq!(
        (bad.status, bad.json()["field"].as_str()),
        (400, Some("by"))
    );

    // Why was this customer (not) asked: every decision, in words.
    let customer = server.triggered_customer();
    let log = get(
        &server,
        &format!("/api/v1/customers/{customer}/contacts"),
        &admin,
    )
    .json();
    let entries = log.as_array().unwrap();
    assert!(!entries.is_empty(), "{customer}: {log}");
    for e in entries {
        let why = e["why"].as_str().unwrap();
        assert!(!why.contains('_'), "in words: {why}");
        if e["decision"] == "suppressed" {
            assert!(why.starts_with("Not asked: "), "{why}");
        }
    }
    let none = get(&server, "/api/v1/customers/nobody/contacts", &admin).json();
    assert_eq!(none, json!([]));

    // The rates page: a chart and the table, numbers for people.
    let session = Session::new(&server, "ann@example.com", Role::Analyst, None);
    let page = session.get("/surveys?by=owner");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("href=\"/surveys\""), "in the navigation");
    assert!(page.body.contains("<svg") && page.body.contains("Response rates and reach"));
    let first = owners["rates"][0]["group"].as_str().unwrap();
    assert!(page.body.contains(&format!("<td>{first}</td>")), "{first}");
    assert_eq!(session.get("/surveys?by=colour").status, 400);
}

#[test]
fn only_admins_change_surveys_and_owners_see_only_their_own_rates() {
    let server = Server::surveyed_demo();
    let ops = server.ops();
    let before = (
        ops.surveys().unwrap().len(),
        ops.survey_rules().unwrap().len(),
    );
    let policy = ops.contact_policy().unwrap();
    let all = [Scope::Read, Scope::Cases, Scope::Surveys];
    let writers = [
        server.token("exec@example.com", Role::Executive, None, &all),
        server.token("ana@example.com", Role::Analyst, None, &all),
        server.token("owner@example.com", Role::Owner, Some("cabin_crew"), &all),
        server.token(
            "partner@example.com",
            Role::Partner,
            Some("nordground"),
            &all,
        ),
        // An admin's token without the surveys scope.
        server.token("adm@example.com", Role::Admin, None, &[Scope::Read]),
    ];
    let audits = audit_count(&server);
    let survey = json!({"name": "X", "touchpoint": "check_in", "questions": ["nps"]});
    let rule = json!({"name": "X"});
    for token in &writers {
        for (method, path, body) in [
            ("POST", "/api/v1/surveys", &survey),
            ("POST", "/api/v1/surveys/1/rules", &rule),
            ("PUT", "/api/v1/survey-policy", &json!({"reminders": 0})),
        ] {
            let r = server.send(method, path, token, body);
            assert_eq!(r.status, 403, "{method} {path}: {}", r.body);
        }
    }
    let after = (
        ops.surveys().unwrap().len(),
        ops.survey_rules().unwrap().len(),
    );
    assert_eq!(after, before);
    assert_eq!(ops.contact_policy().unwrap(), policy);
    assert_eq!(audit_count(&server), audits);

    // Owners and partners: no company-wide definitions, rates of their own touchpoints.
    let admin = server.token(ADMIN, Role::Admin, None, &[Scope::Read]);
    let everyone = get(&server, "/api/v1/survey-rates?by=owner", &admin).json();
    for (who, owner) in [(&writers[2], "cabin_crew"), (&writers[3], "nordground")] {
        for path in [
            "/api/v1/surveys",
            "/api/v1/survey-policy",
            "/api/v1/surveys/1",
            "/api/v1/customers/c1/contacts",
        ] {
            assert_eq!(get(&server, path, who).status, 403, "{owner} {path}");
        }
        let theirs = get(&server, "/api/v1/survey-rates?by=owner", who).json();
        let groups: Vec<&Value> = theirs["rates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| &r["group"])
            .collect();
        assert!(groups.iter().all(|g| *g == owner), "{owner}: {theirs}");
        let own = everyone["rates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["group"] == owner);
        assert_eq!(theirs["rates"].get(0), own, "{owner}");
        let by_survey = get(&server, "/api/v1/survey-rates?by=survey", who).json();
        assert_eq!(
            sent(&by_survey),
            own.map_or(0, |r| r["sent"].as_u64().unwrap())
        );
    }
    let owner = Session::new(&server, "o2@example.com", Role::Owner, Some("cabin_crew"));
    let page = owner.get("/surveys?by=owner");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("href=\"/surveys\""),
        "in the owner's navigation"
    );
    for other in everyone["rates"].as_array().unwrap() {
        let group = other["group"].as_str().unwrap();
        if group != "cabin_crew" {
            assert!(
                !page.body.contains(&format!("<td>{group}</td>")),
                "{group} shown to an owner"
            );
        }
    }
}

/// A request with one bad value, and the field its refusal must name.
fn bad_request() -> impl Strategy<Value = (&'static str, &'static str, Value, &'static str)> {
    let days = prop_oneof![i64::MIN..0, 3651..i64::MAX];
    let share = prop_oneof![-1e9..=0.0, 1.000_001..1e9];
    let rule = |field: &'static str, v: Value| {
        (
            "POST",
            "/api/v1/surveys/1/rules",
            json!({"name": "R", "touchpoint": "check_in", field: v}),
            field,
        )
    };
    let policy =
        |field: &'static str, v: Value| ("PUT", "/api/v1/survey-policy", json!({field: v}), field);
    prop_oneof![
        days.clone()
            .prop_map(move |d| rule("survey_cooldown_days", json!(d))),
        days.clone()
            .prop_map(move |d| rule("touchpoint_cooldown_days", json!(d))),
        share.prop_map(move |s| rule("sample_rate", json!(s))),
        prop_oneof![-1e9..-1e-9, 2160.001..1e9].prop_map(move |h| rule("delay_hours", json!(h))),
        "[a-z]{1,12}".prop_map(move |t| rule("touchpoint", json!(format!("nowhere_{t}")))),
        days.clone()
            .prop_map(move |d| policy("global_cooldown_days", json!(d))),
        days.prop_map(move |d| policy("expiry_days", json!(d))),
        prop_oneof![-1e9..-1e-9, 0.500_001..1e9]
            .prop_map(move |s| policy("holdout_share", json!(s))),
        prop_oneof![i64::MIN..0, 11..i64::MAX].prop_map(move |r| policy("reminders", json!(r))),
        "[a-z]{1,12}".prop_map(|q| (
            "POST",
            "/api/v1/surveys",
            json!({"name": "S2", "questions": [format!("x{q}")]}),
            "questions"
        )),
        "[a-z]{3}".prop_map(|l| (
            "POST",
            "/api/v1/surveys",
            json!({"name": "S2", "questions": ["nps"], "languages": [format!("q{l}")]}),
            "languages"
        )),
        "[a-z]{1,12}".prop_map(|t| (
            "POST",
            "/api/v1/surveys",
            json!({"name": "S2", "questions": ["nps"], "touchpoint": t}),
            "touchpoint"
        )),
        Just(("POST", "/api/v1/surveys", json!({"name": "S2"}), "body")),
        Just((
            "POST",
            "/api/v1/surveys",
            json!({"name": " ", "questions": ["nps"]}),
            "name"
        )),
    ]
}

#[test]
fn bad_survey_input_through_the_api_is_refused_naming_the_field_and_stores_nothing() {
    let server = Server::initialised();
    let ops = server.ops();
    let relationship = Survey {
        name: "Relationship".into(),
        touchpoint: None,
        questions: vec![Instrument::Nps],
        comment: false,
        languages: vec!["en".into()],
    };
    ops.add_survey("test", &relationship).unwrap();
    let admin = server.token(ADMIN, Role::Admin, None, &[Scope::Read, Scope::Surveys]);
    let policy = ops.contact_policy().unwrap();
    let audits = audit_count(&server);
    let mut runner = TestRunner::new(Config::with_cases(48));
    runner
        .run(&bad_request(), |(method, path, body, field)| {
            let r = server.send(method, path, &admin, &body);
            prop_assert_eq!(r.status, 400, "{} {}: {}", method, body, r.body);
            let refusal = r.json();
            prop_assert_eq!(refusal["field"].as_str(), Some(field), "{}", refusal);
            prop_assert_eq!(refusal["kind"].as_str(), Some("bad_input"));
            Ok(())
        })
        .unwrap();
    assert_eq!(ops.surveys().unwrap().len(), 1);
    assert!(ops.survey_rules().unwrap().is_empty());
    assert_eq!(ops.contact_policy().unwrap(), policy);
    assert_eq!(audit_count(&server), audits, "nothing audited");
}

#[test]
fn an_admin_adds_surveys_and_rules_and_changes_the_policy_through_the_forms() {
    let server = Server::surveyed_demo();
    let admin = Session::new(&server, ADMIN, Role::Admin, None);
    let index = admin.get("/admin");
    assert!(index.body.contains("href=\"/admin/surveys\""));
    let page = admin.get("/admin/surveys");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("After check-in") && page.body.contains("/s/open/"));
    for name in [Instrument::Nps.label(), Instrument::Csat.label()] {
        assert!(page.body.contains(name), "{name}");
    }
    assert!(!page.body.contains(">nps<") && !page.body.contains("nps, csat"));

    // Refused next to the field, nothing stored.
    let before = (server.ops().surveys().unwrap().len(), audit_count(&server));
    let r = admin.post(
        "/admin/surveys",
        &[("name", "Boarding"), ("touchpoint", "check_in")],
    );
    assert_eq!(r.status, 400);
    assert!(field_error(&r.body, "questions").is_some(), "{}", r.body);
    assert!(
        r.body
            .contains("aria-describedby=\"questions-hint questions-error\"")
    );
    let r = admin.post(
        "/admin/surveys/rules",
        &[
            ("rule_survey", "1"),
            ("rule_name", "R"),
            ("sample_rate", "1.5"),
        ],
    );
    assert_eq!(r.status, 400);
    assert!(
        field_error(&r.body, "sample_rate").unwrap().contains("1.5"),
        "{}",
        r.body
    );
    let r = admin.post(
        "/admin/surveys/rules",
        &[("rule_survey", "77"), ("rule_name", "R")],
    );
    assert!(field_error(&r.body, "rule_survey").is_some(), "{}", r.body);
    let r = admin.post(
        "/admin/surveys/rules",
        &[
            ("rule_survey", "1"),
            ("rule_name", "R"),
            ("delay_hours", "soon"),
        ],
    );
    let refusal = field_error(&r.body, "delay_hours").unwrap();
    assert!(refusal.contains("'soon': not a number"), "{refusal}");
    let r = admin.post("/admin/surveys/policy", &[("holdout_share", "0.9")]);
    assert!(
        field_error(&r.body, "holdout_share").is_some(),
        "{}",
        r.body
    );
    assert_eq!(
        (server.ops().surveys().unwrap().len(), audit_count(&server)),
        before
    );

    // Added and changed: the store has it, the page shows it.
    let r = admin.post(
        "/admin/surveys",
        &[
            ("name", "Boarding"),
            ("touchpoint", "check_in"),
            ("questions", "grade"),
            ("questions", "nps"),
            ("comment", "on"),
            ("languages", "fr, en"),
        ],
    );
    let page = admin.follow(&r);
    assert!(page.body.contains("Survey Boarding added"), "{}", page.body);
    let stored = server.ops().survey("Boarding").unwrap();
    assert_eq!(
        stored.survey.questions,
        [Instrument::Grade, Instrument::Nps]
    );
    assert_eq!(stored.survey.languages, ["fr", "en"]);
    let id = stored.id.to_string();
    let prefilled = admin.get(&format!("/admin/surveys?survey={id}"));
    assert!(
        prefilled
            .body
            .contains(&format!("<option value=\"{id}\" selected>"))
    );
    let r = admin.post(
        "/admin/surveys/rules",
        &[
            ("rule_survey", &id),
            ("rule_name", "Boarding, 2 hours"),
            ("delay_hours", "2"),
            ("sample_rate", "0.5"),
        ],
    );
    let page = admin.follow(&r);
    assert!(
        page.body.contains("Rule Boarding, 2 hours added"),
        "{}",
        page.body
    );
    let rules = server.ops().survey_rules().unwrap();
    let rule = rules
        .iter()
        .find(|r| r.rule.name == "Boarding, 2 hours")
        .unwrap();
    assert_eq!((rule.rule.delay_hours, rule.rule.sample_rate), (2.0, 0.5));
    let r = admin.post(
        "/admin/surveys/policy",
        &[("reminders", "2"), ("expiry_days", "21")],
    );
    admin.follow(&r);
    let p = server.ops().contact_policy().unwrap();
    assert_eq!(
        (p.reminders, p.expiry_days, p.global_cooldown_days),
        (2, 21, 30)
    );
    let actions = audit_actions(&server);
    assert!(
        actions.ends_with(&[
            "add_survey".into(),
            "add_survey_rule".into(),
            "set_contact_policy".into()
        ]),
        "{actions:?}"
    );
}
