//! Case notifications by e-mail end to end: an imported answer opens a case, `cxray cases
//! escalate` writes its e-mail to the owner's people, which waits in the outbox while the
//! mail server is down and reaches a real SMTP server on loopback (python3-aiosmtpd) once
//! it is back — without the customer's id.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use crate::schedules::{MailServer, free_port, report};
use crate::{cxray, demo_folder, json, run};

/// `cxray cases escalate` with the mail server at `port`.
fn escalate(data: &Path, port: u16) -> Output {
    cxray(data)
        .args(["cases", "escalate", "--json"])
        .env("CXRAY_SMTP_URL", format!("smtp://127.0.0.1:{port}"))
        .env("CXRAY_MAIL_FROM", "cx@aurora.example")
        .output()
        .unwrap()
}

#[test]
fn a_case_opened_is_mailed_to_the_owners_people_after_the_mail_server_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo_folder(dir.path(), "1000");
    let kim = [
        "user",
        "add",
        "--email",
        "kim@nordground.example",
        "--name",
        "Kim",
        "--role",
        "partner",
        "--owner",
        "nordground",
    ];
    assert!(run(&data, &kim).status.success());
    let rule = [
        "trigger",
        "add",
        "--name",
        "Bag complaints",
        "--instrument",
        "nps",
        "--score",
        "<=6",
        "--touchpoint",
        "bag_drop",
        "--holdout",
        "0",
    ];
    assert!(run(&data, &rule).status.success());
    let answers = "customer_id,at,instrument,score,touchpoint,comment\n\
        C0000001,2025-07-01T10:00:00Z,nps,2,bag_drop,bag lost at the belt\n";
    let file = dir.path().join("answers.csv");
    std::fs::write(&file, answers).unwrap();
    assert!(
        run(&data, &["import", "responses", file.to_str().unwrap()])
            .status
            .success()
    );
    let case = &json(
        &data,
        &["cases", "list", "--trigger", "Bag complaints", "--json"],
    )[0];
    assert_eq!(case["owner"], "nordground");

    // The mail server is down: the e-mail waits.
    let port = free_port();
    let out = escalate(&data, port);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let round: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(round["notified"].as_u64().unwrap() >= 1, "{round}");
    let about = format!("Case {}: Case opened", case["id"]);
    let waiting = json(&data, &["report", "outbox", "--json", "--limit", "1000"]);
    let to_kim: Vec<&serde_json::Value> = waiting
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["recipient"] == "kim@nordground.example")
        .collect();
    assert_eq!(to_kim.len(), 1, "{waiting}");
    assert_eq!(
        (&to_kim[0]["status"], to_kim[0]["case_id"] == case["id"]),
        (&"pending".into(), true)
    );
    let listed = run(&data, &["report", "outbox"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains(&about));

    // Back: every waiting e-mail goes out, Kim's with the case and without the customer.
    let server = MailServer::start(port, &dir.path().join("mail.log"));
    let sent = report(&data, port, &["send"]);
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    let n = waiting.as_array().unwrap().len();
    let messages = server.wait_for(n, Duration::from_secs(60));
    let mine: Vec<&String> = messages
        .iter()
        .filter(|m| m.contains("To: kim@nordground.example"))
        .collect();
    assert_eq!(mine.len(), 1);
    let m = mine[0].replace("=\n", "");
    let subject = format!("Subject: Case opened: case {}, Bag complaints", case["id"]);
    for part in [
        subject.as_str(),
        "bag lost at the belt",
        "bag_drop",
        "nordground",
        "From: cxray <cx@aurora.example>",
    ] {
        assert!(m.contains(part), "{part}: {m}");
    }
    assert!(!m.contains("C0000001"), "no customer id in an e-mail: {m}");
    assert_eq!(escalate(&data, port).status.code(), Some(0));
    let after = json(&data, &["report", "outbox", "--json", "--limit", "1000"]);
    assert!(
        after
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["status"] == "sent"),
        "{after}"
    );
}

/// The cases of the rule `name`.
fn rule_cases(data: &Path, name: &str) -> Vec<serde_json::Value> {
    let args = [
        "cases",
        "list",
        "--trigger",
        name,
        "--json",
        "--limit",
        "100000",
    ];
    json(data, &args).as_array().unwrap().clone()
}

/// Customer id → value of `column` in `customer_value` (latest valuation).
fn valued(data: &Path, column: &str) -> std::collections::HashMap<String, f64> {
    let sql =
        format!("SELECT CAST(customer_id AS VARCHAR) AS id, {column} AS v FROM customer_value");
    let rows = json(data, &["sql", &sql, "--json"]);
    let rows = rows.as_array().unwrap();
    rows.iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["v"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn behaviour_rules_open_cases_when_p_alive_falls_and_clv_rules_keep_the_valuable() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo_folder(dir.path(), "1000");
    // A valuation of an earlier day is the behaviour rule's baseline.
    let early = ["loyalty", "predict", "--calibration-end", "2024-06-30"];
    assert!(run(&data, &early).status.success());
    let falling = [
        "trigger",
        "add",
        "--name",
        "Fading",
        "--p-alive-below",
        "0.5",
        "--fallback-owner",
        "customer_care",
        "--holdout",
        "0",
        "--cooldown-days",
        "0",
    ];
    assert!(run(&data, &falling).status.success());
    let before = valued(&data, "p_alive");
    let predicted = run(&data, &["loyalty", "predict"]);
    assert!(String::from_utf8_lossy(&predicted.stdout).contains("follow-up"));
    let now = valued(&data, "p_alive");
    let fading = rule_cases(&data, "Fading");
    let expected: Vec<&String> = now
        .iter()
        .filter(|(id, p)| **p < 0.5 && before.get(*id).is_some_and(|b| *b >= 0.5))
        .map(|(id, _)| id)
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(fading.len(), expected.len());
    for c in &fading {
        let id = c["customer_id"].as_str().unwrap();
        assert!(now[id] < 0.5 && before[id] >= 0.5, "{c}");
        assert_eq!(c["owner"], "customer_care");
        assert!(
            c["detail"]
                .as_str()
                .unwrap()
                .starts_with("P(alive) fell from"),
            "{c}"
        );
    }
    // The same valuation again: nobody falls, nothing opens.
    assert!(run(&data, &["loyalty", "predict"]).status.success());
    let again = rule_cases(&data, "Fading");
    assert_eq!(again.len(), fading.len());

    // Detractors among the most valuable tenth only: the threshold computed here.
    let clv = valued(&data, "clv");
    let mut sorted: Vec<f64> = clv.values().copied().collect();
    sorted.sort_by(f64::total_cmp);
    let rank = 0.9 * (sorted.len() - 1) as f64;
    let (lo, hi) = (sorted[rank.floor() as usize], sorted[rank.ceil() as usize]);
    let threshold = lo + (hi - lo) * rank.fract();
    let valuable = [
        "trigger",
        "add",
        "--name",
        "Valuable detractors",
        "--instrument",
        "nps",
        "--score",
        "<=6",
        "--since",
        "2020-01-01",
        "--min-clv-percentile",
        "90",
        "--holdout",
        "0",
        "--cooldown-days",
        "0",
        "--fallback-owner",
        "customer_care",
    ];
    let added = run(&data, &valuable);
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    assert!(run(&data, &["cases", "scan"]).status.success());
    let answers = json(
        &data,
        &[
            "sql",
            "SELECT CAST(customer_id AS VARCHAR) AS id FROM responses WHERE instrument = 'nps' AND score <= 6 AND at >= '2020-01-01'",
            "--json",
        ],
    );
    let above = answers
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            clv.get(a["id"].as_str().unwrap())
                .is_some_and(|v| *v > threshold)
        })
        .count();
    let cases = rule_cases(&data, "Valuable detractors");
    assert!(above > 0);
    assert_eq!(cases.len(), above);

    // A percentile out of range is refused, naming the flag, and adds nothing.
    let rules = json(&data, &["trigger", "list", "--json"]);
    for bad in ["100", "0", "-5", "NaN"] {
        let args = [
            "trigger",
            "add",
            "--name",
            "Bad",
            "--instrument",
            "nps",
            "--score",
            "<=6",
            "--min-clv-percentile",
            bad,
        ];
        let out = run(&data, &args);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("--min-clv-percentile"),
            "{bad}"
        );
    }
    assert_eq!(json(&data, &["trigger", "list", "--json"]), rules);
}
