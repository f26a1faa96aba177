//! `cxray survey`: surveys and invitation rules refused when wrong, the rules evaluated
//! on the demo world's interactions under the contact policy (every decision logged, the
//! limits held), again after an import, and the personal links handed out.

use std::collections::BTreeMap;
use std::path::Path;

use cxray_core::surveys::Link;

use crate::{demo_folder, json, run};

const DAY: i64 = 86_400;

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn ops(data: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(data.join("cxray.db")).unwrap()
}

/// Invitation times by customer, from the operational database.
fn invited(data: &Path) -> BTreeMap<String, Vec<i64>> {
    let db = ops(data);
    let mut stmt = db
        .prepare("SELECT customer_id, send_at FROM invitations ORDER BY send_at")
        .unwrap();
    let mut out: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .unwrap();
    for row in rows {
        let (customer, at) = row.unwrap();
        out.entry(customer).or_default().push(at);
    }
    out
}

#[test]
fn bad_surveys_and_rules_are_refused_naming_the_flag_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo_folder(dir.path(), "1000");
    let base = ["survey", "add", "--name", "S", "--questions"];
    let cases: [(&[&str], &str); 4] = [
        (
            &["nps", "--touchpoint", "nowhere"],
            "unknown touchpoint 'nowhere'",
        ),
        (&["nps,nps"], "NPS is asked twice (--questions)"),
        (
            &["stars"],
            "unknown instrument 'stars' (instruments: nps, csat, ces, grade) (--questions)",
        ),
        (&["nps", "--languages", "en,xx"], "no texts for 'xx'"),
    ];
    for (rest, message) in cases {
        let out = run(&data, &[&base[..], rest].concat());
        assert_eq!(out.status.code(), Some(2), "{rest:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{rest:?}: {}", stderr(&out));
    }
    let surveys = json(&data, &["survey", "list", "--json"]);
    let names: Vec<&str> = surveys
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["After check-in", "Onboard"],
        "the demo's surveys only"
    );
    let add = [
        "survey",
        "add",
        "--name",
        "S",
        "--questions",
        "nps",
        "--touchpoint",
        "check_in",
    ];
    assert!(run(&data, &add).status.success());
    let rule = ["survey", "rule", "add", "--name", "R", "--survey", "S"];
    let bad: [(&[&str], &str); 5] = [
        (&["--survey-cooldown-days", "-3"], "--survey-cooldown-days"),
        (&["--sample-rate", "0"], "--sample-rate"),
        (&["--delay-hours", "-1"], "--delay-hours"),
        (
            &["--customers", "shoe_size=9"],
            "customers have no column 'shoe_size'",
        ),
        (&["--touchpoint", "moon"], "unknown touchpoint 'moon'"),
    ];
    for (rest, message) in bad {
        let out = run(&data, &[&rule[..], rest].concat());
        assert_eq!(out.status.code(), Some(2), "{rest:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{rest:?}: {}", stderr(&out));
    }
    let policy = run(&data, &["survey", "policy", "--global-cooldown-days", "-1"]);
    assert_eq!(policy.status.code(), Some(2), "{}", stderr(&policy));
    assert!(
        stderr(&policy).contains("--global-cooldown-days"),
        "{}",
        stderr(&policy)
    );
    let rules = json(&data, &["survey", "rule", "list", "--json"]);
    assert_eq!(rules.as_array().unwrap().len(), 2, "the demo's rules only");
    let p = json(&data, &["survey", "policy", "--json"]);
    assert_eq!(p["global_cooldown_days"], 30, "the policy is unchanged");
}

#[test]
fn invitations_follow_the_contact_policy_and_every_decision_is_logged() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo_folder(dir.path(), "2000");
    let add = [
        "survey",
        "add",
        "--name",
        "After boarding",
        "--questions",
        "nps,csat",
        "--comment",
        "--languages",
        "en,de",
        "--touchpoint",
        "check_in",
    ];
    assert!(run(&data, &add).status.success());
    let p = json(&data, &["survey", "policy", "--json"]);
    assert_eq!(p["holdout_share"], 0.05);
    let rule = [
        "survey",
        "rule",
        "add",
        "--name",
        "next day",
        "--survey",
        "after boarding",
        "--sample-rate",
        "0.7",
        "--all-history",
    ];
    assert!(run(&data, &rule).status.success());
    let scans = json(&data, &["survey", "scan", "--json"]);
    let scan = &scans[2];
    assert_eq!(
        scans[0]["events"], 0,
        "the demo's rules have seen every interaction"
    );
    let count = json(
        &data,
        &[
            "sql",
            "SELECT count(*) AS n FROM interactions WHERE touchpoint = 'check_in'",
            "--json",
        ],
    );
    let events = scan["events"].as_u64().unwrap();
    assert_eq!(events, count[0]["n"].as_u64().unwrap());
    let suppressed: BTreeMap<String, u64> =
        serde_json::from_value(scan["suppressed"].clone()).unwrap();
    assert_eq!(
        scan["invited"].as_u64().unwrap() + suppressed.values().sum::<u64>(),
        events
    );
    for reason in ["holdout", "not_sampled", "global_cooldown"] {
        assert!(
            suppressed.get(reason).is_some_and(|n| *n > 0),
            "{reason}: {suppressed:?}"
        );
    }

    // The limits hold for every customer.
    let invitations = invited(&data);
    for (customer, at) in &invitations {
        assert!(
            at.windows(2).all(|w| w[1] - w[0] >= 30 * DAY),
            "{customer}: {at:?}"
        );
        for (i, t) in at.iter().enumerate() {
            let in_window = at[..=i].iter().filter(|s| **s > t - 180 * DAY).count();
            assert!(in_window <= 3, "{customer}: {at:?}");
        }
    }
    // The holdout is by customer: the held out are never invited, and are about 5%.
    let db = ops(&data);
    let held: Vec<String> = db
        .prepare("SELECT DISTINCT customer_id FROM contact_log WHERE reason = 'holdout'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(held.iter().all(|c| !invitations.contains_key(c)));
    let triggered: i64 = db
        .query_row(
            "SELECT COUNT(DISTINCT customer_id) FROM contact_log",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let share = held.len() as f64 / triggered as f64;
    assert!((0.02..0.08).contains(&share), "{share}");

    // Why: a suppressed customer's log names the reason for people.
    let why = run(&data, &["survey", "why", &held[0]]);
    let text = String::from_utf8_lossy(&why.stdout);
    assert!(text.contains("In the never-ask holdout"), "{text}");

    // Scanning again finds nothing new; the show lists the counts.
    let again = json(&data, &["survey", "scan", "--json"]);
    assert_eq!(again[0]["events"], 0);
    let shown = json(&data, &["survey", "show", "After boarding", "--json"]);
    assert_eq!(
        shown["counts"]["invitations"]["pending"].as_u64().unwrap(),
        scan["invited"].as_u64().unwrap()
    );

    // An imported interaction invites its customer (not held out, past every cooldown).
    let customer = invitations
        .keys()
        .find(|c| !held.contains(c))
        .unwrap()
        .clone();
    let file = dir.path().join("new.csv");
    std::fs::write(
        &file,
        format!("customer_id,at,touchpoint,outcome\n{customer},2031-06-01T10:00:00Z,check_in,ok\n"),
    )
    .unwrap();
    let sample_all = [
        "survey",
        "rule",
        "add",
        "--name",
        "everyone",
        "--survey",
        "after boarding",
        "--sample-rate",
        "1",
    ];
    assert!(run(&data, &sample_all).status.success());
    let out = run(&data, &["import", "interactions", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("survey invitation"), "{printed}");
    // One of the two rules invites (the other then finds the customer asked recently).
    let log = json(&data, &["survey", "why", &customer, "--json"]);
    let due = 1_938_074_400 + DAY;
    let new: Vec<&serde_json::Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["at"] == due)
        .collect();
    let decisions: Vec<&str> = new
        .iter()
        .map(|e| e["decision"].as_str().unwrap())
        .collect();
    assert!(decisions.contains(&"invited"), "{log}");

    // The due invitations go out as signed links, once.
    let links = dir.path().join("links.csv");
    let out = run(
        &data,
        &[
            "survey",
            "links",
            "--out",
            links.to_str().unwrap(),
            "--base-url",
            "https://cx.example/",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let key: Vec<u8> = db
        .query_row(
            "SELECT value FROM secrets WHERE name = 'pseudonym_key'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let key: [u8; 32] = key.try_into().unwrap();
    let mut rows = csv::Reader::from_path(&links).unwrap();
    let mut n = 0;
    for row in rows.records() {
        let row = row.unwrap();
        let token = row[2].strip_prefix("https://cx.example/s/").unwrap();
        let link = Link::verify(token, &key, chrono::Utc::now().timestamp()).unwrap();
        let owner: String = db
            .query_row(
                "SELECT customer_id FROM invitations WHERE id = ?1",
                [link.invitation],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(owner, &row[0]);
        n += 1;
    }
    let pending: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM invitations WHERE status = 'pending'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        n > 0 && pending == 1,
        "{n} sent, {pending} pending (the one due in 2031)"
    );
    let again = run(
        &data,
        &["survey", "links", "--out", links.to_str().unwrap()],
    );
    assert!(String::from_utf8_lossy(&again.stdout).starts_with("0 personal links"));

    // Who answers: every trip until an answer comes through an invitation (the demo's
    // answers are imported), the invitations sent when asked for.
    let recorded = json(&data, &["survey", "respondents", "--json"]);
    assert_eq!(recorded["invited_by"], "every_trip");
    let sent = json(&data, &["survey", "respondents", "--sent", "--json"]);
    assert_eq!(sent["invited_by"], "invitations");
    let invited = sent["invited"].as_u64().unwrap();
    let all_sent: u64 = db
        .query_row(
            "SELECT COUNT(*) FROM invitations WHERE sent_at IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        invited > 0 && invited <= all_sent,
        "{invited} asked of {all_sent} sent"
    );
    let every = json(&data, &["survey", "respondents", "--every-trip", "--json"]);
    assert_eq!(every["invited_by"], "every_trip");
    assert!(every["invited"].as_u64().unwrap() > invited);

    // Response rates: every invitation sent is counted once, in its survey, its week and
    // its touchpoint's owner.
    let by_survey = json(&data, &["survey", "rates", "--json"]);
    let by_week = json(&data, &["survey", "rates", "--by", "week", "--json"]);
    let by_owner = json(&data, &["survey", "rates", "--by", "owner", "--json"]);
    assert!(
        by_owner
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["group"] != "No owner"),
        "the demo's touchpoints all have owners: {by_owner}"
    );
    for groups in [&by_survey, &by_week, &by_owner] {
        let sent: u64 = groups
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["sent"].as_u64().unwrap())
            .sum();
        assert_eq!(sent, all_sent);
    }
    for g in by_survey.as_array().unwrap() {
        let (answered, sent) = (
            g["responded"].as_f64().unwrap(),
            g["sent"].as_f64().unwrap(),
        );
        let rate = &g["response_rate"];
        assert!(
            (rate["value"].as_f64().unwrap() - answered / sent).abs() < 1e-12,
            "{g}"
        );
        assert!(
            rate["low"].as_f64().unwrap() <= rate["value"].as_f64().unwrap()
                && rate["value"].as_f64().unwrap() < rate["high"].as_f64().unwrap(),
            "{g}"
        );
        assert!(g["customers"].as_u64().unwrap() <= g["sent"].as_u64().unwrap());
    }

    // What being asked does: both arms measured, the difference their rates'.
    let effect = json(&data, &["survey", "holdout", "--json"]);
    let (asked, held) = (&effect["asked"], &effect["held_out"]);
    assert!(
        asked["n"].as_u64().unwrap() > held["n"].as_u64().unwrap(),
        "{effect}"
    );
    assert!(held["n"].as_u64().unwrap() > 0, "{effect}");
    let d = effect["difference"]["value"].as_f64().unwrap();
    let rates = asked["value"].as_f64().unwrap() - held["value"].as_f64().unwrap();
    assert!((d - 100.0 * rates).abs() < 1e-9, "{effect}");
}
