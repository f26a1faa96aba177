//! What customers write, on the web: `/api/v1/text/…` against the analysis layer over
//! the same data, filters that narrow, bad parameters refused naming themselves (a class
//! of them property-tested), owners and partners reading only their touchpoints'
//! comments (partners by pseudonym), the Comments page and the satisfaction–loyalty
//! page's satisfied defectors — over a demo world with comments about two touchpoints
//! added: 40 at NordGround's bag drop (a partner), 40 at the airport operator's security.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use cxray_analysis::board::Cadence;
use cxray_analysis::comments::{self, CommentScope, Compared, Groups, TermOptions, Tone};
use cxray_analysis::settings::ProductSettings;
use cxray_core::access::{Role, Scope};
use cxray_core::comments::{Taxonomy, taxonomy};
use cxray_core::stats::Settings;
use cxray_server::ServerOptions;
use cxray_store::decode::Columns;
use cxray_store::sql::Sql;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;

use crate::cases::{refusals, refused};
use crate::{Reply, Server, computed};

const BAG_DROP: &str = "The bag drop queue was endless, call me on +45 20 30 40 50.";
const SECURITY: &str = "Security staff were rude and the line was slow.";
const ADDED: usize = 40;

/// The demo world of 1,500 customers (its own comments on NPS answers and on CSAT answers
/// at bag drop among others) with 40 CSAT comments added at bag drop and 40 at security,
/// the newest of all (two days after the last answer); the customers at each.
fn demo() -> (Server, Vec<String>, Vec<String>) {
    let mut at = (Vec::new(), Vec::new());
    let server = Server::launch(ServerOptions::default(), |runtime, folder| {
        runtime.block_on(async {
            crate::airline(folder, 1500).await;
            let sql = Sql::open(folder, &BTreeMap::new()).await.unwrap();
            let query = "SELECT customer_id, (SELECT CAST(to_unixtime(max(at)) AS BIGINT) \
                         FROM responses) AS t FROM responses WHERE instrument = 'nps' \
                         GROUP BY customer_id ORDER BY customer_id LIMIT 80";
            let (_, batches) = sql.query(query).await.unwrap();
            let mut csv = String::from("customer_id,at,instrument,score,touchpoint,comment\n");
            let mut i = 0;
            for b in &batches {
                let c = Columns::new(b);
                let (id, t) = (c.text("customer_id").unwrap(), c.int("t").unwrap());
                for r in 0..c.rows() {
                    let id = id.str(r).unwrap().to_string();
                    let when = chrono::DateTime::from_timestamp(t.i64(r).unwrap() + 2 * 86_400, 0);
                    let when = when.unwrap().to_rfc3339();
                    let (tp, score, text) = match i < ADDED {
                        true => ("bag_drop", 2, BAG_DROP),
                        false => ("security", 1, SECURITY),
                    };
                    csv += &format!("{id},{when},csat,{score},{tp},\"{text}\"\n");
                    match i < ADDED {
                        true => at.0.push(id),
                        false => at.1.push(id),
                    }
                    i += 1;
                }
            }
            assert_eq!(i, 2 * ADDED);
            let path = folder.root().join("added.csv");
            std::fs::write(&path, csv).unwrap();
            let options = cxray_store::import::ImportOptions {
                actor: "test".into(),
                ..Default::default()
            };
            let progress = std::sync::Arc::new(cxray_store::import::NoProgress);
            let table = cxray_core::domain::Table::Responses;
            cxray_store::import::import(folder, table, &[path], &options, progress)
                .await
                .unwrap();
        });
    });
    (server, at.0, at.1)
}

/// The analysis layer's figures over the server's data narrowed to `scope`, as JSON.
fn analysed(server: &Server, scope: &CommentScope, compared: Compared) -> (Value, Value, Value) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let all = Sql::open(&server.folder(), &BTreeMap::new()).await.unwrap();
        let taxonomy = Taxonomy::parse(taxonomy::EXAMPLE).unwrap();
        let narrowed = comments::narrowed(&all, scope, &taxonomy).await.unwrap();
        let sql = narrowed.as_ref().unwrap_or(&all);
        let s = Settings::default();
        let sentiment = comments::sentiment(sql, Some("touchpoint"), &s)
            .await
            .unwrap();
        let topics = comments::topics(sql, &taxonomy, None, Cadence::Month, &s);
        let topics = topics.await.unwrap();
        let window = ProductSettings::default().window_days;
        let groups = Groups::Answers(compared, window);
        let terms = comments::terms(sql, &groups, TermOptions::default())
            .await
            .unwrap();
        (
            serde_json::to_value(&sentiment).unwrap(),
            serde_json::to_value(&topics).unwrap(),
            serde_json::to_value(&terms).unwrap(),
        )
    })
}

/// Whether two JSON values are equal but for the last digits of their numbers (sums
/// merged from parts in another order).
fn close(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| close(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| close(v, w)))
        }
        _ => a == b,
    }
}

/// The API's answer once computed (200), as JSON.
fn api(server: &Server, path: &str, token: &str) -> Value {
    let r = computed(server, path, token);
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    r.json()
}

/// A page once every part of it is computed.
fn page(server: &Server, path: &str, token: &str) -> String {
    all_parts(path, || computed(server, path, token))
}

/// A page for a browser session once every part of it is computed.
fn page_of(session: &crate::admin::Session, path: &str) -> String {
    all_parts(path, || session.get(path))
}

/// The page `get` fetches, once no part of it is still being computed.
fn all_parts(path: &str, get: impl Fn() -> Reply) -> String {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let r = get();
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        if !r.body.contains("is being computed") || Instant::now() > deadline {
            return r.body;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn texts(examples: &Value) -> Vec<(&str, &str, &str)> {
    let list = examples.as_array().unwrap().iter();
    list.map(|e| {
        (
            e["touchpoint"].as_str().unwrap_or(""),
            e["customer_id"].as_str().unwrap(),
            e["text"].as_str().unwrap(),
        )
    })
    .collect()
}

#[test]
fn the_comments_are_analysed_on_the_web_as_the_analysis_layer_does_and_each_role_sees_its_own() {
    let (server, at_bag_drop, at_security) = demo();
    let server = &server;
    let analyst = server.token("analyst-t@example.com", Role::Analyst, None, &[Scope::Read]);

    // The unfiltered figures are the analysis layer's.
    let (sentiment, topics, terms) =
        analysed(server, &CommentScope::default(), Compared::Promoters);
    let got = api(server, "/api/v1/text/sentiment", &analyst);
    assert!(close(&got, &sentiment), "{got}\n{sentiment}");
    let got = api(server, "/api/v1/text/topics", &analyst);
    assert!(close(&got, &topics), "{got}\n{topics}");
    let got = api(server, "/api/v1/text/terms", &analyst);
    assert!(close(&got, &terms), "{got}\n{terms}");
    let by_touchpoint: Vec<&str> = sentiment["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g["group"].as_str())
        .collect();
    let at_bag_drop_all = (sentiment["groups"].as_array().unwrap().iter())
        .find(|g| g["group"] == "bag_drop")
        .map(|g| g["comments"].as_u64().unwrap())
        .unwrap();
    assert!(
        at_bag_drop_all > ADDED as u64,
        "the demo's own comments at bag drop too"
    );
    assert!(by_touchpoint.contains(&"security"), "{by_touchpoint:?}");
    let all = sentiment["overall"]["comments"].as_u64().unwrap();
    let baggage = topics["topics"].as_array().unwrap().iter();
    let baggage = baggage.clone().find(|t| t["topic"] == "baggage").unwrap();
    assert!(
        baggage["comments"].as_u64().unwrap() >= ADDED as u64,
        "{baggage}"
    );
    let months = api(server, "/api/v1/text/sentiment?by=month", &analyst);
    assert!(months["groups"].as_array().unwrap().len() > 3, "{months}");
    assert_eq!(months["overall"]["comments"].as_u64(), Some(all));

    // Filters narrow: a touchpoint, a band, a period.
    let bag = api(
        server,
        "/api/v1/text/sentiment?touchpoint=bag_drop",
        &analyst,
    );
    assert_eq!(bag["overall"]["comments"], at_bag_drop_all, "{bag}");
    assert_eq!(bag["groups"].as_array().unwrap().len(), 1, "{bag}");
    let promoters = api(server, "/api/v1/text/sentiment?band=promoters", &analyst);
    let promoted = promoters["overall"]["comments"].as_u64().unwrap();
    assert!(promoted > 0 && promoted < all, "{promoted} of {all}");
    let last = months["groups"].as_array().unwrap().last().unwrap()["group"].clone();
    let from = last.as_str().unwrap().get(..10).unwrap().to_string();
    let recent = api(
        server,
        &format!("/api/v1/text/sentiment?from={from}"),
        &analyst,
    );
    let recent = recent["overall"]["comments"].as_u64().unwrap();
    assert!(recent > 0 && recent < all, "{recent} of {all} from {from}");

    // A topic and a tone narrow every analysis, as the analysis layer narrows them; the
    // topics still compare each topic's comments with those without it.
    let taxonomy = Taxonomy::parse(taxonomy::EXAMPLE).unwrap();
    let scope = CommentScope {
        topic: taxonomy.find("baggage"),
        tone: Some(Tone::Negative),
        ..CommentScope::default()
    };
    let (narrowed_sentiment, _, narrowed_terms) = analysed(server, &scope, Compared::Defectors);
    let narrowing = "topic=baggage&tone=negative";
    let got = api(
        server,
        &format!("/api/v1/text/sentiment?{narrowing}"),
        &analyst,
    );
    assert!(
        close(&got, &narrowed_sentiment),
        "{got}\n{narrowed_sentiment}"
    );
    let narrowed = got["overall"]["comments"].as_u64().unwrap();
    assert!(narrowed > 0 && narrowed < baggage["comments"].as_u64().unwrap());
    assert!(
        got["overall"]["mean"]["value"].as_f64().unwrap() <= -0.05,
        "{got}"
    );
    let got = api(
        server,
        &format!("/api/v1/text/terms?{narrowing}&compare=defectors"),
        &analyst,
    );
    assert!(close(&got, &narrowed_terms), "{got}\n{narrowed_terms}");
    let unnarrowed = CommentScope {
        topic: None,
        ..scope
    };
    let (_, unnarrowed, _) = analysed(server, &unnarrowed, Compared::Defectors);
    let got = api(
        server,
        &format!("/api/v1/text/topics?{narrowing}"),
        &analyst,
    );
    assert!(close(&got, &unnarrowed), "{got}\n{unnarrowed}");
    let html = page(server, &format!("/comments?{narrowing}"), &analyst);
    let mean = narrowed_sentiment["overall"]["mean"]["value"]
        .as_f64()
        .unwrap();
    assert!(
        html.contains(&format!("data-key=\"sentiment\" value=\"{mean}\"")),
        "the page's mean is the API's {mean}"
    );

    // A topic's series by period: its comments per month or quarter add up to its count.
    for period in ["month", "quarter"] {
        let got = api(
            server,
            &format!("/api/v1/text/topics?period={period}"),
            &analyst,
        );
        let row = got["topics"].as_array().unwrap().iter();
        let row = row.clone().find(|t| t["topic"] == "baggage").unwrap();
        let series = row["series"].as_array().unwrap();
        let sum: u64 = series.iter().map(|p| p["comments"].as_u64().unwrap()).sum();
        assert_eq!(sum, row["comments"].as_u64().unwrap(), "{period}");
        assert!(series.len() > 1, "{row}");
        for p in series {
            let month = &p["period"].as_str().unwrap()[5..7];
            assert!(
                period == "month" || ["01", "04", "07", "10"].contains(&month),
                "{p}"
            );
            assert!(p["comments"] == 0 || p["with"].is_object() || p["with"].is_null());
        }
    }
    let html = page(server, "/comments?topic=baggage&period=quarter", &analyst);
    for shown in [
        "Comments mentioning baggage by quarter",
        "NPS with and without baggage by quarter",
        "baggage period by period",
    ] {
        assert!(html.contains(shown), "{shown}");
    }
    assert!(html.contains("-Q"), "quarters named for people");

    // Examples: redacted, narrowed by touchpoint, topic, tone and group.
    let security = api(
        server,
        "/api/v1/text/examples?touchpoint=security&limit=50",
        &analyst,
    );
    let shown = texts(&security);
    assert_eq!(shown.len(), ADDED);
    assert!(shown.iter().all(|(tp, id, text)| *tp == "security"
        && at_security.contains(&id.to_string())
        && *text == SECURITY));
    let bags = api(
        server,
        "/api/v1/text/examples?touchpoint=bag_drop&limit=3",
        &analyst,
    );
    let shown = texts(&bags);
    assert_eq!(shown.len(), 3);
    for (_, id, text) in &shown {
        assert!(at_bag_drop.contains(&id.to_string()));
        assert!(
            text.contains("[phone]") && !text.contains("20 30 40"),
            "{text}"
        );
    }
    let topical = api(
        server,
        "/api/v1/text/examples?topic=baggage&limit=20",
        &analyst,
    );
    for e in topical.as_array().unwrap() {
        assert!(
            e["topics"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t == "baggage"),
            "{e}"
        );
    }
    assert!(!topical.as_array().unwrap().is_empty());
    let negative = api(
        server,
        "/api/v1/text/examples?tone=negative&limit=20",
        &analyst,
    );
    for e in negative.as_array().unwrap() {
        assert!(e["sentiment"].as_f64().unwrap() <= -0.05, "{e}");
    }
    let detractors = api(server, "/api/v1/text/examples?group=detractors", &analyst);
    for e in detractors.as_array().unwrap() {
        assert!(
            e["instrument"] == "nps" && e["score"].as_f64().unwrap() <= 6.0,
            "{e}"
        );
    }
    let versus = api(
        server,
        "/api/v1/text/terms?compare=touchpoint&compare_touchpoint=security&top=5",
        &analyst,
    );
    assert_eq!(versus["group_a"], "security");
    assert_eq!(versus["comments_a"], ADDED);
    assert!(versus["of_a"].as_array().unwrap().len() <= 5);

    // Bad parameters: 400 naming the parameter.
    let bad = [
        ("sentiment?by=week", "by"),
        ("sentiment?band=happy", "band"),
        ("sentiment?touchpoint=nowhere", "touchpoint"),
        ("sentiment?from=2025-13-01", "from"),
        ("topics?attribute=shoe_size&value=9", "attribute"),
        ("terms?compare=everyone", "compare"),
        ("terms?compare=touchpoint", "compare_touchpoint"),
        (
            "terms?compare=touchpoint&compare_touchpoint=moon",
            "compare_touchpoint",
        ),
        ("terms?top=0", "top"),
        ("examples?limit=101", "limit"),
        ("examples?topic=weather", "topic"),
        ("sentiment?topic=weather", "topic"),
        ("terms?tone=sarcastic", "tone"),
        ("topics?period=week", "period"),
        ("examples?tone=sarcastic", "tone"),
        ("examples?group=everyone", "group"),
    ];
    refusals(server, &analyst, "/api/v1/text/", &bad);
    // A class of bad values: any word that is not a name the parameter takes, and whole
    // numbers out of range.
    let mut runner = TestRunner::new(Config {
        cases: 32,
        ..Config::default()
    });
    let names = prop_oneof![
        Just(("sentiment", "by")),
        Just(("sentiment", "band")),
        Just(("examples", "tone")),
        Just(("examples", "group")),
        Just(("terms", "compare")),
        Just(("topics", "period")),
        Just(("sentiment", "topic")),
    ];
    let valid = [
        "touchpoint",
        "month",
        "promoters",
        "passives",
        "detractors",
        "positive",
        "neutral",
        "negative",
        "defectors",
        "stayers",
        "satisfied_defectors",
        "satisfied_stayers",
        "month",
        "quarter",
    ];
    runner
        .run(&(names, "[a-z_]{1,12}"), |((route, field), word)| {
            prop_assume!(!valid.contains(&word.as_str()) && taxonomy.find(&word).is_none());
            let r = server.api(&format!("/api/v1/text/{route}?{field}={word}"), &analyst);
            prop_assert_eq!(refused(&r), (400, field.to_string()));
            Ok(())
        })
        .unwrap();
    let counts = prop_oneof![Just(("terms", "top")), Just(("examples", "limit"))];
    runner
        .run(
            &(counts, prop_oneof![Just(0u64), 101u64..1_000_000]),
            |((route, field), n)| {
                let r = server.api(&format!("/api/v1/text/{route}?{field}={n}"), &analyst);
                prop_assert_eq!(refused(&r), (400, field.to_string()));
                Ok(())
            },
        )
        .unwrap();

    // An owner (the airport operator, security) reads only security's comments, by id.
    let owner = server.token(
        "security-t@example.com",
        Role::Owner,
        Some("airport_security"),
        &[Scope::Read],
    );
    let theirs = api(server, "/api/v1/text/sentiment", &owner);
    assert_eq!(theirs["overall"]["comments"], ADDED, "{theirs}");
    let groups = theirs["groups"].as_array().unwrap();
    assert!(groups.iter().all(|g| g["group"] == "security"), "{theirs}");
    let seen = api(server, "/api/v1/text/examples?limit=100", &owner);
    let seen = texts(&seen);
    assert_eq!(seen.len(), ADDED);
    assert!(
        seen.iter()
            .all(|(tp, id, _)| *tp == "security" && at_security.contains(&id.to_string()))
    );
    let r = server.api("/api/v1/text/sentiment?touchpoint=bag_drop", &owner);
    assert_eq!(refused(&r), (400, "touchpoint".to_string()), "{}", r.body);
    // No figure of fewer comments than the minimum group size (20) for them: their 40
    // comments are shown, none of them positive.
    let none = api(server, "/api/v1/text/sentiment?tone=positive", &owner);
    assert_eq!(none["withheld"], true, "{none}");
    assert_eq!(none["min_group_size"], 20, "{none}");
    let theirs = computed(server, "/api/v1/text/terms?compare=defectors", &owner);
    let sides = ["comments_a", "comments_b"].map(|k| theirs.json()[k].as_u64().unwrap_or(0));
    let withheld = theirs.status == 200 && theirs.json()["withheld"] == true;
    assert!(
        theirs.status == 422 || withheld || sides.iter().all(|&n| n >= 20),
        "{}",
        theirs.body
    );
    let topics = api(server, "/api/v1/text/topics", &owner);
    assert_eq!(topics["comments"], ADDED, "{topics}");
    for t in topics["topics"].as_array().unwrap() {
        assert!(t["comments"].as_u64().unwrap() >= 20, "{t}");
        let series = t["series"].as_array().unwrap();
        assert!(
            series.iter().all(|p| p["comments"].as_u64().unwrap() >= 20),
            "{t}"
        );
    }
    let html = page(server, "/comments?tone=positive", &owner);
    assert!(
        html.contains("fewer comments than the minimum group size"),
        "{html}"
    );
    let mine = api(server, "/api/v1/text/sentiment?tone=negative", &owner);
    assert_eq!(mine["overall"]["comments"], ADDED, "{mine}");

    // A partner (NordGround: check-in and bag drop) reads only its touchpoints', customers
    // by pseudonym.
    let partner = server.token(
        "nordground-t@example.com",
        Role::Partner,
        Some("nordground"),
        &[Scope::Read],
    );
    let theirs = api(server, "/api/v1/text/sentiment", &partner);
    let mine: Vec<&str> = (theirs["groups"].as_array().unwrap().iter())
        .map(|g| g["group"].as_str().unwrap())
        .collect();
    assert!(
        mine.contains(&"bag_drop") && !mine.contains(&"security"),
        "{mine:?}"
    );
    let total = theirs["overall"]["comments"].as_u64().unwrap();
    assert!(total > at_bag_drop_all, "{theirs}");
    let seen = api(server, "/api/v1/text/examples?limit=100", &partner);
    let seen = texts(&seen);
    assert_eq!(seen.len() as u64, total.min(100));
    for (tp, id, text) in &seen {
        assert!(mine.contains(tp), "{tp}");
        assert!(
            id.starts_with("c-") && !at_bag_drop.contains(&id.to_string()),
            "{id}"
        );
        assert!(!text.contains("20 30 40"));
    }
    let html = page(server, "/comments", &partner);
    assert!(html.contains("call me on [phone]"), "{html}");
    assert!(
        !html.contains("Security staff"),
        "a partner sees another owner's comments"
    );
    assert!(
        !at_bag_drop
            .iter()
            .any(|id| html.contains(&format!("customer {id}")))
    );

    // The Comments page: the taxonomy's topics, the terms, the examples, in the navigation.
    let html = page(server, "/comments", &analyst);
    assert!(html.contains("href=\"/comments\" aria-current=\"page\""));
    for shown in [
        "Topics of the comments",
        "<td>baggage</td>",
        "Written more by promoters",
        "Written more by detractors",
        "Sentiment by touchpoint",
        "Mean sentiment of the comments by month",
        "the starter taxonomy",
    ] {
        assert!(html.contains(shown), "{shown}");
    }
    let first_term = terms["of_a"][0]["term"].as_str().unwrap();
    assert!(
        html.contains(&format!("<td>{first_term}</td>")),
        "{first_term}"
    );
    let filtered = page(
        server,
        "/comments?touchpoint=security&compare=defectors",
        &analyst,
    );
    assert!(filtered.contains(SECURITY) && !filtered.contains("call me on"));
    assert!(filtered.contains("Defectors against stayers"));
    let r = server.api("/comments?tone=sarcastic", &analyst);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("tone &#39;sarcastic&#39;"), "{}", r.body);

    // The satisfaction–loyalty page: what satisfied defectors wrote.
    let html = page(server, "/link", &analyst);
    assert!(html.contains("What satisfied defectors wrote"), "{html}");
    assert!(html.contains("Their latest comments"));
    let sd = api(
        server,
        "/api/v1/text/terms?compare=satisfied_defectors",
        &analyst,
    );
    if let Some(term) = sd["of_a"][0]["term"].as_str() {
        assert!(html.contains(&format!("<td>{term}</td>")), "{term}");
    }
}

#[test]
fn demo_owners_read_their_comments_and_an_administrator_adds_a_discovered_topic() {
    let server = &Server::demo(1500);
    // The demo's owner and partner accounts (cabin crew, NordGround) read comments on
    // their own touchpoints' answers.
    for (owner, role) in [("cabin_crew", Role::Owner), ("nordground", Role::Partner)] {
        let token = server.token(
            &format!("{owner}@example.com"),
            role,
            Some(owner),
            &[Scope::Read],
        );
        let theirs = api(server, "/api/v1/text/sentiment", &token);
        assert!(
            theirs["overall"]["comments"].as_u64().unwrap() >= 20,
            "{owner}: {theirs}"
        );
        let examples = api(server, "/api/v1/text/examples", &token);
        assert!(!texts(&examples).is_empty(), "{owner}");
    }
    let analyst = server.token("analyst-d@example.com", Role::Analyst, None, &[Scope::Read]);
    let found = api(server, "/api/v1/text/discovered", &analyst);
    let topics = found["discovered"]["topics"].as_array().unwrap();
    assert!(!topics.is_empty(), "{found}");
    assert_eq!(
        found["discovered"]["promotions"].as_array().unwrap().len(),
        topics.len()
    );
    let terms: Vec<&str> = (topics[0]["terms"].as_array().unwrap().iter())
        .map(|t| t["term"].as_str().unwrap())
        .collect();
    let html = page(server, "/comments", &analyst);
    assert!(
        html.contains("Discovered topic 1") && html.contains(terms[0]),
        "{html}"
    );
    assert!(
        !html.contains("Add to the taxonomy"),
        "only administrators add topics"
    );

    // Only an administrator's session with its form token adds one; bad fields are refused.
    let shown = terms.join(", ");
    let fields = |topic: &'static str, name: &'static str| {
        [("topic", topic), ("terms", shown.as_str()), ("name", name)]
    };
    let analyst = crate::admin::Session::new(server, "ana-d@example.com", Role::Analyst, None);
    let r = analyst.post("/comments/discovered", &fields("1", "legroom"));
    assert_eq!(r.status, 403, "{}", r.body);
    let admin = crate::admin::Session::new(server, "admin-d@example.com", Role::Admin, None);
    assert!(page_of(&admin, "/comments").contains("Add to the taxonomy"));
    let r = admin.post_raw(
        "/comments/discovered",
        &crate::form(&fields("1", "legroom")),
    );
    assert_eq!(r.status, 403, "no form token: {}", r.body);
    for (topic, name, status) in [
        ("0", "legroom", 400),
        ("99", "legroom", 400),
        ("1", " ", 400),
    ] {
        let r = admin.post("/comments/discovered", &fields(topic, name));
        assert_eq!(r.status, status, "{topic} {name}: {}", r.body);
    }
    let stale = [
        ("topic", "1"),
        ("terms", "nothing, like, it"),
        ("name", "legroom"),
    ];
    assert_eq!(admin.post("/comments/discovered", &stale).status, 409);
    let r = admin.post("/comments/discovered", &fields("1", "baggage"));
    assert_eq!(r.status, 400, "a name the taxonomy has: {}", r.body);
    assert!(r.body.contains("duplicate topic"), "{}", r.body);
    assert!(
        !server.folder().root().join("taxonomy.toml").exists(),
        "nothing written"
    );

    let r = admin.post("/comments/discovered", &fields("1", "legroom"));
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/comments?topic=legroom"));
    let written = std::fs::read_to_string(server.folder().root().join("taxonomy.toml")).unwrap();
    assert!(
        written.contains("name = \"legroom\"") && written.contains(terms[0]),
        "{written}"
    );
    let audit = server.ops().recent_audit(20).unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "add_topic" && a.actor == "admin-d@example.com")
    );
    let token = server.token("analyst-e@example.com", Role::Analyst, None, &[Scope::Read]);
    let now = api(server, "/api/v1/text/topics", &token);
    let legroom = now["topics"].as_array().unwrap().iter();
    let legroom = legroom.clone().find(|t| t["topic"] == "legroom").unwrap();
    assert!(legroom["comments"].as_u64().unwrap() > 0, "{legroom}");
}

#[test]
fn over_empty_tables_the_comments_answer_rather_than_hang() {
    // The API answers (200, or 422: nothing to analyse), the page shows what is missing.
    let server = Server::initialised();
    let admin = server.token("admin-t@example.com", Role::Admin, None, &[Scope::Read]);
    let r = computed(&server, "/api/v1/text/sentiment", &admin);
    assert!([200, 422].contains(&r.status), "{}", r.body);
    let r = computed(&server, "/comments", &admin);
    assert_eq!(r.status, 200, "{}", r.body);
}
