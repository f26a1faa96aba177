//! The survey page on the real server: personal links answered, changed within the grace
//! period and committed into `responses` exactly once (across a crash between the
//! commit and its mark), bad forms refused with nothing stored, links that do not work,
//! the anonymous link's nonce and origin checks, rate limits, unsubscribing, languages.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::Utc;
use cxray_analysis::surveys::population::{Asked, Invited, InvitedBy};
use cxray_core::stats::Instrument;
use cxray_core::surveys::{ContactPolicy, InvitationRule, Link, Survey};
use cxray_server::{Limit, ServerOptions, SurveyOptions};
use cxray_store::DataFolder;
use cxray_store::decode::Columns;
use cxray_store::ingest::IngestOptions;
use cxray_store::sql::Sql;
use cxray_store::surveys::Candidate;
use proptest::prelude::*;

use crate::{Reply, Server, form};

/// Many requests allowed: the tests that are not about the limits send plenty.
const PLENTY: Limit = Limit {
    max: 100_000,
    per: Duration::from_secs(60),
};

/// Options with a grace period of `grace` seconds, answers and ingestion committed soon.
pub(crate) fn options(grace: u64) -> ServerOptions {
    ServerOptions {
        surveys: SurveyOptions {
            grace: Duration::from_secs(grace),
            commit_every: Duration::from_millis(100),
            per_address: PLENTY,
            per_link: PLENTY,
        },
        ingest: IngestOptions {
            flush_every: Duration::from_millis(100),
            ..IngestOptions::default()
        },
        ..ServerOptions::default()
    }
}

/// A survey (NPS and grade, a comment, English and German) and a personal link per
/// customer (id and language): invitation ids and tokens; and the anonymous link's id.
pub(crate) struct Setup {
    pub links: Vec<(i64, String)>,
    public_id: String,
}

pub(crate) fn setup(server: &Server, customers: &[(&str, Option<&str>)]) -> Setup {
    let ops = server.ops();
    let survey = Survey {
        name: "After check-in".into(),
        touchpoint: Some("check_in".into()),
        questions: vec![Instrument::Nps, Instrument::Grade],
        comment: true,
        languages: vec!["en".into(), "de".into()],
    };
    let stored = ops.add_survey("test", &survey).unwrap();
    let rule = InvitationRule {
        name: "after check-in".into(),
        survey: survey.name.clone(),
        touchpoint: "check_in".into(),
        delay_hours: 0.0,
        sample_rate: 1.0,
        customers: None,
        survey_cooldown_days: 0,
        touchpoint_cooldown_days: 0,
    };
    let rule = ops.add_survey_rule("test", &rule, None).unwrap();
    let policy = ContactPolicy {
        holdout_share: 0.0,
        ..ContactPolicy::default()
    };
    ops.set_contact_policy("test", &policy).unwrap();
    let key = ops.pseudonym_key().unwrap();
    let now = Utc::now().timestamp();
    let candidates: Vec<Candidate> = customers
        .iter()
        .map(|(c, language)| Candidate {
            key: format!("{c}-1"),
            customer_id: c.to_string(),
            at: now - 3_600,
            language: language.map(String::from),
        })
        .collect();
    ops.invite(&rule, &candidates, None, &key).unwrap();
    let links = ops
        .send_due(cxray_core::surveys::SurveyChannel::Link, now)
        .unwrap()
        .into_iter()
        .map(|i| {
            let link = Link {
                invitation: i.id,
                expires: i.expires_at.unwrap(),
            };
            (i.id, link.sign(&key))
        })
        .collect();
    Setup {
        links,
        public_id: stored.public_id,
    }
}

pub(crate) fn post(
    server: &Server,
    path: &str,
    fields: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> Reply {
    server.request("POST", path, headers, Some(&form(fields)))
}

/// The rows of `responses` (as text) matching `condition`, by customer and instrument;
/// none while the table has no survey columns.
fn responses(folder: &DataFolder, condition: &str) -> Vec<BTreeMap<&'static str, String>> {
    const COLUMNS: [&str; 7] = [
        "customer_id",
        "instrument",
        "score",
        "touchpoint",
        "comment",
        "survey",
        "invitation_id",
    ];
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let batches = runtime.block_on(async {
        let sql = Sql::open(folder, &BTreeMap::new()).await.unwrap();
        let columns: Vec<String> = COLUMNS
            .iter()
            .map(|c| format!("CAST({c} AS VARCHAR) AS {c}"))
            .collect();
        let query = format!(
            "SELECT {} FROM responses WHERE {condition} ORDER BY customer_id, instrument",
            columns.join(", ")
        );
        // Before the first answer is committed the attribute columns are not there.
        sql.query(&query).await.map_or(Vec::new(), |(_, b)| b)
    });
    let mut rows = Vec::new();
    for batch in &batches {
        let c = Columns::new(batch);
        for r in 0..c.rows() {
            let row = COLUMNS
                .iter()
                .map(|name| {
                    let value = c.text(name).unwrap().str(r).unwrap_or("").to_string();
                    (*name, value)
                })
                .collect();
            rows.push(row);
        }
    }
    rows
}

/// Waits until `done` holds, for at most 30 seconds.
pub(crate) fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn lang(r: &Reply) -> &str {
    let start = r.body.find("<html lang=\"").map(|i| i + 12).unwrap_or(0);
    r.body[start..].split('"').next().unwrap_or("")
}

#[test]
fn a_personal_link_is_answered_changed_and_committed_once() {
    let server = Server::initialised_with(options(3));
    let s = setup(&server, &[("c1", Some("de")), ("c2", None)]);
    let (id, token) = s.links[0].clone();
    let path = format!("/s/{token}");
    let ops = server.ops();
    let asked = Invited::of_record(&ops, Asked::AsRecorded).unwrap();
    assert_eq!(
        asked.by(),
        InvitedBy::EveryTrip,
        "no answer came through yet"
    );

    let page = server.get(&path, &[("Accept-Language", "en")]);
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(lang(&page), "de", "the invitation's language first");
    for shown in [
        "Wie wahrscheinlich ist es",
        "0 = Überhaupt nicht wahrscheinlich",
        "10 = Äußerst wahrscheinlich",
        "Viel besser",
        "Viel schlechter",
        "<fieldset id=\"q-nps\"",
        "<legend>",
        "name=\"comment\"",
        &format!("href=\"/s/{token}/unsubscribe\""),
    ] {
        assert!(page.body.contains(shown), "{shown}: {}", page.body);
    }
    assert!(page.body.len() < 30 * 1024, "{} bytes", page.body.len());
    assert!(page.set_cookie("").is_none() && page.all("set-cookie").is_empty());
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert!(!page.body.contains("<script") && !page.body.contains("http"));
    let opened = |id| server.ops().invitation(id).unwrap().unwrap().opened_at;
    let first = opened(id).expect("the first showing is recorded");
    std::thread::sleep(Duration::from_millis(1100));
    server.get(&path, &[]);
    assert_eq!(opened(id), Some(first), "opened once");
    assert_eq!(opened(s.links[1].0), None, "not shown");

    let answer = [("nps", "3"), ("grade", "1"), ("comment", "Slow queue")];
    let thanks = post(&server, &path, &answer, &[]);
    assert_eq!(thanks.status, 200, "{}", thanks.body);
    assert!(thanks.body.contains("Vielen Dank"), "{}", thanks.body);
    let held = ops.invitation_answer(id).unwrap().unwrap();
    assert_eq!(
        held.scores,
        vec![(Instrument::Nps, 3), (Instrument::Grade, 1)]
    );
    assert_eq!(ops.invitation(id).unwrap().unwrap().status, "responded");
    let log = ops.contact_log("c1").unwrap();
    assert!(log.iter().any(|e| e.decision == "responded"), "{log:?}");

    // Changed within the grace period: the held answer is replaced, and shown.
    let changed = [("nps", "9"), ("grade", "4"), ("comment", "Fine after all")];
    assert_eq!(post(&server, &path, &changed, &[]).status, 200);
    let again = ops.invitation_answer(id).unwrap().unwrap();
    assert_eq!(again.id, held.id);
    assert_eq!(
        again.scores,
        vec![(Instrument::Nps, 9), (Instrument::Grade, 4)]
    );
    let page = server.get(&path, &[]);
    assert!(
        page.body.contains("value=\"9\" required checked"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(">Fine after all</textarea>"),
        "{}",
        page.body
    );

    // After the grace period: committed once, with the invitation's id.
    eventually("the answer committed", || {
        ops.invitation_answer(id)
            .unwrap()
            .unwrap()
            .committed_at
            .is_some()
    });
    // From now on the invitations sent are who was asked.
    let asked = Invited::of_record(&ops, Asked::AsRecorded).unwrap();
    assert_eq!(asked.by(), InvitedBy::Invitations);
    let condition = format!("invitation_id = '{id}'");
    eventually("the rows readable", || {
        responses(&server.folder(), &condition).len() == 2
    });
    let rows = responses(&server.folder(), &condition);
    assert_eq!(rows[0]["instrument"], "grade");
    assert_eq!(rows[0]["score"], "4.0");
    assert_eq!(rows[0]["comment"], "");
    assert_eq!(rows[1]["instrument"], "nps");
    assert_eq!(rows[1]["score"], "9.0");
    assert_eq!(rows[1]["comment"], "Fine after all");
    for row in &rows {
        assert_eq!(row["customer_id"], "c1");
        assert_eq!(row["touchpoint"], "check_in");
        assert_eq!(row["survey"], "After check-in");
    }
    let late = post(&server, &path, &answer, &[]);
    assert_eq!(late.status, 409);
    assert!(late.body.contains("bereits beantwortet"), "{}", late.body);
    let page = server.get(&path, &[]);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("bereits beantwortet") && !page.body.contains("<form"));

    // A crash after the commit but before its mark: sent again at the start, not
    // written twice.
    let server = server.crash_and_restart(options(3), |folder| {
        let db = rusqlite::Connection::open(folder.ops_db_path()).unwrap();
        let sql = "UPDATE survey_answers SET committed_at = NULL WHERE invitation_id = ?1";
        assert_eq!(db.execute(sql, [id]).unwrap(), 1);
    });
    let ops = server.ops();
    eventually("the answer committed again", || {
        ops.invitation_answer(id)
            .unwrap()
            .unwrap()
            .committed_at
            .is_some()
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(responses(&server.folder(), &condition).len(), 2, "once");
    assert_eq!(responses(&server.folder(), "true").len(), 2);
}

/// A field's value in a bad form: valid, missing, or one of the ways it can be wrong.
#[derive(Debug, Clone)]
enum Value {
    Valid(u8),
    Missing,
    Bad(String),
}

fn value(hi: u8) -> impl Strategy<Value = Value> {
    prop_oneof![
        (0..=hi).prop_map(Value::Valid),
        Just(Value::Missing),
        (hi as i64 + 1..1_000i64).prop_map(|v| Value::Bad(v.to_string())),
        (-1_000i64..0).prop_map(|v| Value::Bad(v.to_string())),
        "[a-zA-Z .,;=+&%-]{1,12}".prop_map(Value::Bad),
        (0..=hi).prop_map(|v| Value::Bad(format!("{v}.5"))),
    ]
}

/// A form with an out-of-range, non-numeric or missing score, an oversize comment or a
/// field the form does not have is refused with 400, the problem next to its question,
/// and nothing stored.
#[test]
fn bad_forms_are_refused_and_store_nothing() {
    let server = Server::initialised_with(options(60));
    let s = setup(&server, &[("c1", None)]);
    let (id, token) = &s.links[0];
    let forms = (
        value(10),
        value(4),
        any::<bool>(),
        proptest::option::of("[a-z]{1,8}"),
    );
    let config = ProptestConfig {
        cases: 48,
        ..ProptestConfig::default()
    };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let checked = runner.run(&forms, |(nps, grade, long, stray)| {
        let bad = |v: &Value| !matches!(v, Value::Valid(_));
        let stray = stray.filter(|s| !["nps", "grade", "comment"].contains(&s.as_str()));
        prop_assume!(bad(&nps) || bad(&grade) || long || stray.is_some());
        let mut fields: Vec<(String, String)> = Vec::new();
        for (name, v) in [("nps", &nps), ("grade", &grade)] {
            match v {
                Value::Valid(s) => fields.push((name.into(), s.to_string())),
                Value::Missing => {}
                Value::Bad(text) => fields.push((name.into(), text.clone())),
            }
        }
        let comment = if long {
            "é".repeat(2_001)
        } else {
            "fine".into()
        };
        fields.push(("comment".into(), comment));
        if let Some(x) = &stray {
            fields.push((x.clone(), "1".into()));
        }
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let r = post(&server, &format!("/s/{token}"), &pairs, &[]);
        prop_assert_eq!(r.status, 400, "{}", r.body);
        prop_assert!(r.body.contains("role=\"alert\""));
        for (name, v) in [("nps", &nps), ("grade", &grade)] {
            let marked = r.body.contains(&format!("id=\"{name}-error\""));
            prop_assert_eq!(marked, bad(v), "{}: {}", name, r.body);
            if let Value::Missing = v {
                prop_assert!(r.body.contains("Please answer this question."));
            }
        }
        prop_assert_eq!(r.body.contains("id=\"comment-error\""), long);
        prop_assert!(server.ops().invitation_answer(*id).unwrap().is_none());
        let status = server.ops().invitation(*id).unwrap().unwrap().status;
        prop_assert_eq!(status, "sent");
        Ok(())
    });
    checked.unwrap();
}

#[test]
fn a_form_larger_than_the_limit_is_refused_with_a_page() {
    let server = Server::initialised_with(options(60));
    let s = setup(&server, &[("c1", None)]);
    let big = "x".repeat(40 * 1024);
    let r = post(
        &server,
        &format!("/s/{}", s.links[0].1),
        &[("comment", &big)],
        &[],
    );
    assert_eq!(r.status, 413);
    assert!(r.body.contains("<html lang=\"en\""), "{}", r.body);
    assert!(
        server
            .ops()
            .invitation_answer(s.links[0].0)
            .unwrap()
            .is_none()
    );
}

#[test]
fn links_that_do_not_work_get_a_page_in_the_respondents_language() {
    let server = Server::initialised_with(options(60));
    let s = setup(&server, &[("c1", None), ("c2", None)]);
    let key = server.ops().pseudonym_key().unwrap();
    let (_, token) = &s.links[0];
    let mut altered: Vec<char> = token.chars().collect();
    altered[5] = if altered[5] == 'A' { 'B' } else { 'A' };
    let altered: String = altered.into_iter().collect();
    let expired = Link {
        invitation: s.links[0].0,
        expires: Utc::now().timestamp() - 10,
    }
    .sign(&key);
    let unknown = Link {
        invitation: 9_999,
        expires: Utc::now().timestamp() + 3_600,
    }
    .sign(&key);
    let german = [("Accept-Language", "de-CH, de;q=0.9, en;q=0.5")];
    let cases = [
        ("not-a-link", 404, "Dieser Link funktioniert nicht"),
        (altered.as_str(), 404, "Dieser Link funktioniert nicht"),
        (expired.as_str(), 410, "Diese Umfrage ist beendet"),
        (unknown.as_str(), 404, "Dieser Link funktioniert nicht"),
    ];
    for (link, status, text) in cases {
        for method in ["GET", "POST"] {
            let r = server.request(method, &format!("/s/{link}"), &german, Some("nps=9"));
            assert_eq!(r.status, status, "{method} {link}: {}", r.body);
            assert!(r.body.contains(text), "{method} {link}: {}", r.body);
            assert_eq!(lang(&r), "de");
            assert!(!r.body.contains("<form"), "{}", r.body);
        }
    }
    let r = server.get("/s/open/nothing-here", &[]);
    assert_eq!(r.status, 404);
    assert!(r.body.contains("This link does not work"), "{}", r.body);

    // An invitation expired by the contact policy is closed, in the survey's language
    // the browser prefers.
    server
        .ops()
        .expire_invitations(Utc::now().timestamp() + 400 * 86_400, 100)
        .unwrap();
    let r = server.get(&format!("/s/{}", s.links[1].1), &german);
    assert_eq!(r.status, 410);
    assert!(r.body.contains("Diese Umfrage ist beendet"), "{}", r.body);
}

#[test]
fn the_language_is_the_invitations_else_the_browsers_else_the_surveys_first() {
    let server = Server::initialised_with(options(60));
    let s = setup(&server, &[("c1", None), ("c2", Some("en"))]);
    let page = |i: usize, accept: &str| {
        let r = server.get(
            &format!("/s/{}", s.links[i].1),
            &[("Accept-Language", accept)],
        );
        assert_eq!(r.status, 200);
        lang(&r).to_string()
    };
    assert_eq!(page(0, "de-AT, en;q=0.5"), "de");
    assert_eq!(
        page(0, "fr, es;q=0.8"),
        "en",
        "neither offered: the survey's first"
    );
    assert_eq!(page(1, "de"), "en", "the invitation's language first");
    let open = server.get(
        &format!("/s/open/{}", s.public_id),
        &[("Accept-Language", "de")],
    );
    assert_eq!(lang(&open), "de");
    assert!(open.body.contains("Wie wahrscheinlich"), "{}", open.body);
}

/// The anonymous form's hidden nonce.
fn nonce(page: &Reply) -> String {
    let start = page.body.find("name=\"nonce\" value=\"").unwrap() + 20;
    page.body[start..].split('"').next().unwrap().to_string()
}

#[test]
fn the_anonymous_link_takes_an_answer_per_page_and_only_from_this_site() {
    let server = Server::initialised_with(options(0));
    let s = setup(&server, &[]);
    let path = format!("/s/open/{}", s.public_id);
    let page = server.get(&path, &[]);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(!page.body.contains("unsubscribe"));
    let n = nonce(&page);
    let answer = |n: &str| {
        vec![
            ("nonce", n.to_string()),
            ("nps", "10".into()),
            ("grade", "3".into()),
        ]
    };
    let send = |fields: Vec<(&str, String)>, headers: &[(&str, &str)]| {
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        post(&server, &path, &pairs, headers)
    };
    let same_site = [("Sec-Fetch-Site", "same-origin")];

    let cross = send(answer(&n), &[("Sec-Fetch-Site", "cross-site")]);
    assert_eq!(cross.status, 403, "{}", cross.body);
    let origin = format!("http://{}", server.addr);
    let foreign = send(answer(&n), &[("Origin", "https://elsewhere.example")]);
    assert_eq!(foreign.status, 403);
    let ok = send(answer(&n), &[("Origin", origin.as_str())]);
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(ok.body.contains("Thank you"), "{}", ok.body);

    // The same page's nonce again, none, a forged one: the form again, nothing stored.
    let replay = send(answer(&n), &same_site);
    assert_eq!(replay.status, 400);
    assert!(
        replay.body.contains("This form has expired"),
        "{}",
        replay.body
    );
    assert!(
        replay.body.contains("value=\"10\" required checked"),
        "answers kept"
    );
    assert_ne!(nonce(&replay), n, "a fresh nonce to send it with");
    let none = send(
        vec![("nps", "10".into()), ("grade", "3".into())],
        &same_site,
    );
    assert_eq!(none.status, 400);
    let forged = send(answer("AAAA"), &same_site);
    assert_eq!(forged.status, 400);
    let second = send(answer(&nonce(&server.get(&path, &[]))), &same_site);
    assert_eq!(second.status, 200);

    eventually("both answers in responses", || {
        responses(&server.folder(), "customer_id LIKE 'anonymous-%'").len() == 4
    });
    let rows = responses(&server.folder(), "true");
    assert_eq!(rows.len(), 4, "{rows:?}");
    for row in &rows {
        assert!(row["customer_id"].starts_with("anonymous-"), "{row:?}");
        assert_eq!(row["touchpoint"], "check_in");
        assert_eq!(row["invitation_id"], "");
    }
    assert_ne!(rows[0]["customer_id"], rows[2]["customer_id"]);
}

#[test]
fn answers_beyond_the_rate_limits_are_refused() {
    let limited = ServerOptions {
        surveys: SurveyOptions {
            per_link: Limit {
                max: 3,
                per: Duration::from_secs(3_600),
            },
            per_address: Limit {
                max: 5,
                per: Duration::from_secs(3_600),
            },
            ..options(60).surveys
        },
        ..options(60)
    };
    let server = Server::initialised_with(limited);
    let s = setup(&server, &[("c1", None), ("c2", None)]);
    let answer = [("nps", "8"), ("grade", "2")];
    let first = format!("/s/{}", s.links[0].1);
    for _ in 0..3 {
        assert_eq!(post(&server, &first, &answer, &[]).status, 200);
    }
    let r = post(&server, &first, &answer, &[]);
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains("Too many attempts"), "{}", r.body);
    assert!(r.header("retry-after").is_some());
    // The address has one answer left, then it is refused for every link.
    let second = format!("/s/{}", s.links[1].1);
    assert_eq!(post(&server, &second, &answer, &[]).status, 200);
    assert_eq!(post(&server, &second, &answer, &[]).status, 429);
    // Reading the page is not limited.
    assert_eq!(server.get(&second, &[]).status, 200);
}

#[test]
fn unsubscribing_records_the_opt_out_and_later_invitations_are_suppressed() {
    let server = Server::initialised_with(options(60));
    let s = setup(&server, &[("c1", Some("de")), ("c2", None)]);
    let path = format!("/s/{}/unsubscribe", s.links[0].1);
    let page = server.get(&path, &[]);
    assert_eq!(page.status, 200);
    assert_eq!(lang(&page), "de");
    assert!(
        page.body.contains("Keine Umfragen mehr senden</button>"),
        "{}",
        page.body
    );
    let cross = post(&server, &path, &[], &[("Sec-Fetch-Site", "cross-site")]);
    assert_eq!(cross.status, 403);
    let done = post(&server, &path, &[], &[("Sec-Fetch-Site", "same-origin")]);
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        done.body.contains("Sie erhalten keine Umfragen mehr"),
        "{}",
        done.body
    );
    let ops = server.ops();
    let log = ops.contact_log("c1").unwrap();
    let opted = log.iter().find(|e| e.decision == "opted_out").unwrap();
    assert_eq!(opted.reason.as_deref(), Some("link"));

    // A mail program's one-click unsubscribe (RFC 8058): a POST from its own server.
    let one_click = format!("/s/{}/unsubscribe", s.links[1].1);
    let body = "List-Unsubscribe=One-Click";
    let done = server.request("POST", &one_click, &[], Some(body));
    assert_eq!(done.status, 200, "{}", done.body);
    let log = ops.contact_log("c2").unwrap();
    assert!(log.iter().any(|e| e.decision == "opted_out"), "{log:?}");

    // The next interaction's invitation is suppressed as opted out.
    let rule = ops.survey_rules().unwrap().remove(0);
    let key = ops.pseudonym_key().unwrap();
    let next = Candidate {
        key: "c1-2".into(),
        customer_id: "c1".into(),
        at: Utc::now().timestamp(),
        language: None,
    };
    let decided = ops.invite(&rule, &[next], None, &key).unwrap();
    assert_eq!(decided.invited, 0);
    assert_eq!(decided.suppressed.get("opted_out"), Some(&1), "{decided:?}");
}

#[test]
fn the_page_is_served_well_within_50_ms() {
    let server = Server::initialised_with(options(60));
    let s = setup(&server, &[("c1", None)]);
    let path = format!("/s/{}", s.links[0].1);
    let open = format!("/s/open/{}", s.public_id);
    let mut times: Vec<Duration> = (0..100)
        .map(|i| {
            let started = Instant::now();
            let r = server.get(if i % 2 == 0 { &path } else { &open }, &[]);
            assert_eq!(r.status, 200);
            started.elapsed()
        })
        .collect();
    times.sort();
    let p95 = times[94];
    eprintln!(
        "survey page, 100 sequential requests over loopback: median {:?}, p95 {p95:?}",
        times[50]
    );
    assert!(p95 < Duration::from_millis(50), "p95 {p95:?}");
}
