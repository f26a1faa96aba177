//! Initiatives on the web, over a demo world with its planted initiative (the CPH fix):
//! the API listed, read, recorded and changed per role, the effect measured (the planted
//! effect found, a refusal as a result), proposed fixes priced; bad input refused naming
//! its field and recording nothing; the pages with their forms.

use cxray_core::access::{Role, Scope};
use cxray_server::ServerOptions;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

use crate::admin::{Session, audit_count, field_error};
use crate::cases::refused;
use crate::{Reply, Server, computed};

/// Every initiative the token may see.
fn listed(server: &Server, token: &str) -> Vec<Value> {
    let r = server.api("/api/v1/initiatives", token);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json().as_array().unwrap().clone()
}

/// The demo's planted initiative as the API lists it.
fn planted(server: &Server, token: &str) -> Value {
    listed(server, token).remove(0)
}

/// A new initiative at HEL's security, as the API takes it.
fn new_initiative(name: &str) -> Value {
    json!({
        "name": name,
        "owner": "Airport ops",
        "scope": "airport=HEL",
        "touchpoints": ["security"],
        "start": "2024-03-04",
        "one_off_cost": 25000,
        "running_cost": "4000",
        "expected_effect": -0.2,
    })
}

/// A demo world of 2,000 customers, valued (`customer_value`) as `cxray demo` does.
fn demo() -> Server {
    Server::launch(ServerOptions::default(), |runtime, folder| {
        runtime.block_on(async {
            cxray_store::tables::create_all(folder).await.unwrap();
            let world = cxray_core::world::World::airline();
            cxray_analysis::world::build(folder, world, 2000, 1, |_| {})
                .await
                .unwrap();
            cxray_analysis::world::value(folder).await.unwrap();
        });
    })
}

#[test]
fn the_api_measures_the_planted_initiative_and_each_role_sees_what_it_may() {
    let server = &demo();
    let exec = server.token("exec-i@example.com", Role::Executive, None, &[Scope::Read]);
    let i = planted(server, &exec);
    assert_eq!(i["scope"]["values"][0], "CPH", "{i}");
    let id = i["id"].as_i64().unwrap();
    let one = server.api(&format!("/api/v1/initiatives/{id}"), &exec);
    assert_eq!(one.json(), i);

    let r = server.api(&format!("/api/v1/initiatives/{id}/effect"), &exec);
    assert_eq!(r.status, 200, "{}", r.body);
    let m = r.json();
    assert_eq!(m["claim"], true, "{m}");
    assert!(m["refusal"].is_null());
    let high = m["effect"]["absolute"]["high"].as_f64().unwrap();
    assert!(
        high < 0.0,
        "the planted fix lowers the failure rate: {}",
        m["effect"]
    );
    assert!(m["reason"].as_str().is_some_and(|r| !r.is_empty()));
    // Customers are valued: the failure rate's business case (its sign is the data's).
    assert!(m["business_case"]["value"]["value"].is_f64(), "{m}");
    assert!(!m["event_study"].as_array().unwrap().is_empty());

    // A design that cannot support a claim is a result: a synthetic control needs 19
    // untreated airports, the demo has 5.
    let asked = format!("/api/v1/initiatives/{id}/effect?estimator=synthetic_control&outcome=wait");
    let r = server.api(&asked, &exec);
    assert_eq!(r.status, 200, "{}", r.body);
    let m = r.json();
    assert_eq!(m["claim"], false, "{m}");
    assert_eq!(m["refusal"]["reason"], "too_few_donors", "{m}");
    assert!(m["business_case"].is_null());
    for (query, field) in [
        ("outcome=smiles", "outcome"),
        ("estimator=magic", "estimator"),
        ("years=0", "years"),
        ("years=many", "years"),
    ] {
        let r = server.api(&format!("/api/v1/initiatives/{id}/effect?{query}"), &exec);
        assert_eq!(refused(&r), (400, field.to_string()), "{query}: {}", r.body);
    }
    assert_eq!(server.api("/api/v1/initiatives/9999", &exec).status, 404);
    assert_eq!(
        server.api("/api/v1/initiatives/9999/effect", &exec).status,
        404
    );

    // Owners see initiatives on touchpoints all their own; partners too.
    let journey = computed(server, "/api/v1/journey", &exec).json();
    let touchpoints = i["scope"]["touchpoints"].as_array().unwrap();
    let owner_of = |tp: &Value| {
        let t = journey["touchpoints"].as_array().unwrap().iter();
        let found = t.clone().find(|t| &t["touchpoint"] == tp).unwrap();
        found["owner"].as_str().unwrap().to_string()
    };
    let owners: Vec<String> = touchpoints.iter().map(owner_of).collect();
    let other = journey["owners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["owner"].as_str().unwrap().to_string())
        .find(|o| !owners.contains(o))
        .unwrap();
    let outsider = server.token(
        "other-i@example.com",
        Role::Partner,
        Some(&other),
        &[Scope::Read],
    );
    assert!(listed(server, &outsider).is_empty());
    let r = server.api(&format!("/api/v1/initiatives/{id}/effect"), &outsider);
    assert_eq!(r.status, 404, "{}", r.body);
    if owners.iter().all(|o| o == &owners[0]) {
        let own = server.token(
            "own-i@example.com",
            Role::Owner,
            Some(&owners[0]),
            &[Scope::Read],
        );
        assert_eq!(listed(server, &own).len(), 1);
    }
    // What-ifs are company-wide.
    assert_eq!(server.api("/api/v1/whatif", &outsider).status, 403);
}

#[test]
fn proposed_fixes_are_priced_and_ranked() {
    let server = &demo();
    let analyst = server.token("whatif@example.com", Role::Analyst, None, &[Scope::Read]);
    let r = server.api("/api/v1/whatif?reduce_failures=30%25", &analyst);
    assert_eq!(r.status, 200, "{}", r.body);
    let w = r.json();
    assert_eq!(w["reduction"], 0.3);
    let fixes = w["by_value"].as_array().unwrap();
    let priced = fixes.len() + w["unpriced"].as_array().unwrap().len();
    assert!(priced > 1, "{w}");
    let values: Vec<f64> = fixes
        .iter()
        .map(|f| f["value"]["value"].as_f64().unwrap())
        .collect();
    assert!(
        values.windows(2).all(|v| v[0] >= v[1]),
        "ranked: {values:?}"
    );
    let one = fixes[0]["name"].as_str().unwrap();
    let r = server.api(
        &format!("/api/v1/whatif?touchpoint={one}&reduce_failures=60"),
        &analyst,
    );
    let single = r.json();
    assert_eq!(single["by_value"].as_array().unwrap().len(), 1, "{single}");
    let doubled = single["by_value"][0]["customers_kept"]["value"]
        .as_f64()
        .unwrap();
    let kept = fixes[0]["customers_kept"]["value"].as_f64().unwrap();
    assert!((doubled - 2.0 * kept).abs() < 1e-9 * kept.abs().max(1.0));
    for (query, field) in [
        ("reduce_failures=0", "reduce_failures"),
        ("reduce_failures=150%25", "reduce_failures"),
        ("reduce_failures=lots", "reduce_failures"),
        ("touchpoint=moon_base", "touchpoint"),
        ("cost=bag_drop", "cost"),
        ("cost=bag_drop=-5", "cost"),
        ("cost=moon_base=5", "cost"),
    ] {
        let r = server.api(&format!("/api/v1/whatif?{query}"), &analyst);
        assert_eq!(refused(&r), (400, field.to_string()), "{query}: {}", r.body);
    }

    let costed = format!(
        "/api/v1/whatif?cost={one}=1000,{}=2000",
        fixes[1]["name"].as_str().unwrap()
    );
    let w = server.api(&costed, &analyst).json();
    let per_cost = w["by_value_per_cost"].as_array().unwrap();
    assert_eq!(per_cost.len(), 2, "{w}");
    assert!(
        per_cost
            .iter()
            .all(|f| f["value_per_cost"]["value"].is_f64())
    );

    let page = Session::new(server, "whatif-page@example.com", Role::Analyst, None);
    let r = page.get(&format!(
        "/whatif?touchpoint={one}&reduce_failures=30&cost={one}%3D500"
    ));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("money kept per unit of cost"), "{}", r.body);
    assert!(
        r.body.contains(&format!("data-key=\"whatif.{one}\"")),
        "{}",
        r.body
    );
    assert_eq!(page.get("/whatif?reduce_failures=lots").status, 400);
}

#[test]
fn initiatives_are_recorded_and_changed_through_the_api_and_bad_input_records_nothing() {
    let server = &demo();
    let analyst = server.token(
        "analyst-i@example.com",
        Role::Analyst,
        None,
        &[Scope::Read, Scope::Initiatives],
    );
    let reader = server.token("reader-i@example.com", Role::Analyst, None, &[Scope::Read]);
    let exec = server.token(
        "exec-w@example.com",
        Role::Executive,
        None,
        &[Scope::Read, Scope::Initiatives],
    );
    let body = new_initiative("Security lanes");
    for token in [&reader, &exec] {
        let r = server.send("POST", "/api/v1/initiatives", token, &body);
        assert_eq!(r.status, 403, "{}", r.body);
    }
    let r = server.send("POST", "/api/v1/initiatives", &analyst, &body);
    assert_eq!(r.status, 201, "{}", r.body);
    let added = r.json();
    assert_eq!(added["running_cost"], 4000.0);
    assert_eq!(added["status"], "running");
    let path = format!("/api/v1/initiatives/{}", added["id"]);
    let r = server.send(
        "PATCH",
        &path,
        &analyst,
        &json!({"status": "done", "end": "2024-09-30", "notes": "all lanes open"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.json()["status"].clone(), r.json()["end"].clone()),
        (json!("done"), json!("2024-09-30"))
    );
    let r = server.send("PATCH", &path, &exec, &json!({"status": "stopped"}));
    assert_eq!(r.status, 403);

    // Bad input: each refused naming its field, nothing recorded or audited.
    let before = server.api("/api/v1/initiatives", &analyst).body;
    let audited = audit_count(server);
    let with = |field: &str, value: Value| {
        let mut b = new_initiative("Another");
        b[field] = value;
        b
    };
    let cases = [
        (new_initiative("security LANES"), "name"),
        (with("name", json!(" ")), "name"),
        (with("scope", json!("airport")), "scope"),
        (with("scope", json!("planet=Mars")), "scope"),
        (with("scope", json!("airport=XXX")), "scope"),
        (with("touchpoints", json!(["moon_base"])), "touchpoints"),
        (with("start", json!("yesterday")), "start"),
        (with("start", json!("1999-01-04")), "start"),
        (with("end", json!("2024-01-01")), "end"),
        (with("one_off_cost", json!(-5)), "one_off_cost"),
        (with("running_cost", json!("a lot")), "running_cost"),
        (with("expected_effect", json!(-1.5)), "expected_effect"),
        (with("status", json!("sleeping")), "status"),
        (with("colour", json!("red")), "body"),
    ];
    for (body, field) in cases {
        let r = server.send("POST", "/api/v1/initiatives", &analyst, &body);
        assert_eq!(refused(&r), (400, field.to_string()), "{body}: {}", r.body);
    }
    for (change, field) in [
        (json!({"status": "sleeping"}), "status"),
        (json!({"end": "2020-01-01"}), "end"),
        (json!({"one_off_cost": -1}), "one_off_cost"),
        (json!({"scope": "airport=OSL"}), "body"),
    ] {
        let r = server.send("PATCH", &path, &analyst, &change);
        assert_eq!(
            refused(&r),
            (400, field.to_string()),
            "{change}: {}",
            r.body
        );
    }
    let r = server.send_raw("POST", "/api/v1/initiatives", &analyst, "text/plain", "x");
    assert_eq!(r.status, 415);

    // A class of bad costs through HTTP: negative or not a number, refused naming the field.
    let mut runner = TestRunner::new(Config {
        cases: 24,
        ..Config::default()
    });
    let bad = prop_oneof![
        (-1e9..-1e-6f64).prop_map(|c| json!(c)),
        "[a-z]{1,8}".prop_map(|c| json!(c)),
    ];
    let fields = prop_oneof![Just("one_off_cost"), Just("running_cost")];
    runner
        .run(&(bad, fields), |(cost, field)| {
            let r = server.send("POST", "/api/v1/initiatives", &analyst, &with(field, cost));
            prop_assert_eq!(refused(&r), (400, field.to_string()));
            Ok(())
        })
        .unwrap();
    assert_eq!(
        server.api("/api/v1/initiatives", &analyst).body,
        before,
        "nothing recorded"
    );
    assert_eq!(audit_count(server), audited, "nothing audited");
}

/// The value of the `<data>` figure `key` on a page.
fn figure(html: &str, key: &str) -> Option<f64> {
    let marker = format!("data-key=\"{key}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    html[start..].split('"').next()?.parse().ok()
}

/// The scorecard once the analyses are computed (not 503), for at most five minutes.
fn scorecard(session: &Session) -> crate::Reply {
    for _ in 0..600 {
        let page = session.get("/");
        if page.status != 503 {
            return page;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    panic!("no scorecard within five minutes")
}

#[test]
fn the_scorecard_shows_running_initiatives_once_measured_in_the_background() {
    let server = &demo();
    let exec = Session::new(server, "exec-s@example.com", Role::Executive, None);
    let first = scorecard(&exec);
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(
        first
            .body
            .contains("<h3>Initiatives in progress (1 running)</h3>")
    );
    // Nobody measured it yet: the scorecard does not wait, it starts the measurement.
    assert!(first.body.contains("being measured"), "{}", first.body);
    let measured = (0..120).find_map(|_| {
        let page = exec.get("/");
        if page.body.contains("being measured") {
            std::thread::sleep(std::time::Duration::from_millis(500));
            return None;
        }
        Some(page)
    });
    let page = measured.expect("measured within a minute");
    let token = server.token(
        "scorecard-t@example.com",
        Role::Analyst,
        None,
        &[Scope::Read],
    );
    let id = planted(server, &token)["id"].as_i64().unwrap();
    let api = server
        .api(&format!("/api/v1/initiatives/{id}/effect"), &token)
        .json();
    let want = api["effect"]["relative"]["value"].as_f64().unwrap();
    let got = figure(&page.body, &format!("initiative.{id}.effect.relative")).unwrap();
    assert!((got - want).abs() <= 1e-9 * want.abs(), "{got} {want}");
}

#[test]
fn the_pages_list_show_record_and_change_initiatives() {
    let server = &demo();
    let analyst = Session::new(server, "pages-i@example.com", Role::Analyst, None);
    // The measurements kept are those of the analysed data.
    scorecard(&analyst);
    let list = analyst.get("/initiatives");
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(
        list.body
            .contains("href=\"/initiatives\" aria-current=\"page\">Initiatives")
    );
    assert!(list.body.contains("Record an initiative"), "{}", list.body);
    assert!(
        list.body.contains("<h2>Initiatives in progress</h2>"),
        "{}",
        list.body
    );
    let exec = Session::new(server, "exec-p@example.com", Role::Executive, None);
    let read_only = exec.get("/initiatives");
    assert!(!read_only.body.contains("Record an initiative"));

    // The planted initiative's page: the figures are the API's.
    let token = server.token("pages-t@example.com", Role::Analyst, None, &[Scope::Read]);
    let id = planted(server, &token)["id"].as_i64().unwrap();
    let page = analyst.get(&format!("/initiatives/{id}"));
    assert_eq!(page.status, 200, "{}", page.body);
    let api = server
        .api(&format!("/api/v1/initiatives/{id}/effect"), &token)
        .json();
    for key in [
        "effect.absolute",
        "effect.relative",
        "effect.p_value",
        "business_case.value",
    ] {
        let (kind, field) = key.split_once('.').unwrap();
        let want = match api[kind][field].is_object() {
            true => api[kind][field]["value"].as_f64(),
            false => api[kind][field].as_f64(),
        }
        .unwrap();
        // Computed twice: sums may differ in the last bits.
        let got = figure(&page.body, key).unwrap();
        assert!(
            (got - want).abs() <= 1e-9 * want.abs().max(1e-12),
            "{key}: {got} {want}"
        );
    }
    for text in [
        "Estimator:",
        "Event study",
        "Treated units against the comparison",
        "Change the initiative",
    ] {
        assert!(page.body.contains(text), "{text}");
    }
    assert!(!page.body.contains("DifferenceInDifferences"));

    // The scorecard shows the running initiatives as the list measured them.
    let key = format!("initiative.{id}.effect.relative");
    let scorecard = exec.get("/");
    assert!(scorecard.body.contains("<h3>Initiatives in progress"));
    assert_eq!(figure(&scorecard.body, &key), figure(&list.body, &key));
    assert!(figure(&list.body, &key).is_some(), "{}", list.body);
    let filtered = exec.get("/?segment=business");
    assert!(!filtered.body.contains("Initiatives in progress"));

    // Recorded through the form, with its token; a bad value shown next to its field.
    let fields = [
        ("name", "Bag drop kiosks"),
        ("scope", "airport=OSL"),
        ("touchpoints", "bag_drop"),
        ("start", "2024-06-03"),
        ("one_off_cost", "1000"),
        ("status", "running"),
    ];
    let bad: Vec<_> = fields
        .iter()
        .map(|&(k, v)| {
            if k == "start" {
                (k, "2099-01-01")
            } else {
                (k, v)
            }
        })
        .collect();
    let r = analyst.post("/initiatives", &bad);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(field_error(&r.body, "start").is_some(), "{}", r.body);
    let r = analyst.post_raw("/initiatives", &crate::form(&fields));
    assert_eq!(r.status, 403, "no form token");
    let r: Reply = analyst.post("/initiatives", &fields);
    assert_eq!(r.status, 303, "{}", r.body);
    let to = r.header("location").unwrap().to_string();
    let r = analyst.post(&to, &[("status", "done"), ("notes", "in use")]);
    assert_eq!(r.status, 303, "{}", r.body);
    let shown = analyst.get(&to);
    assert!(
        shown.body.contains("in use") && shown.body.contains("<dd>Done</dd>"),
        "{}",
        shown.body
    );
    let r = analyst.post(&to, &[("end", "2000-01-01")]);
    assert_eq!(r.status, 400);
    assert!(field_error(&r.body, "end").is_some(), "{}", r.body);
}
