//! `cxray user`, `cxray token` and `cxray target`.

use crate::{initialised, json, run, with_stdin};

fn fails_with_usage(out: &std::process::Output, message: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains(message),
        "{stderr}"
    );
}

#[test]
fn users_are_added_listed_and_disabled() {
    let (_dir, data) = initialised();
    let admin = json(
        &data,
        &[
            "user",
            "add",
            "--email",
            "Ada@Example.com",
            "--name",
            "Ada",
            "--role",
            "admin",
            "--json",
        ],
    );
    assert_eq!(admin["user"]["email"], "ada@example.com");
    let password = admin["password"].as_str().unwrap();
    assert!(password.len() >= 12, "{password}");

    let args = [
        "user",
        "add",
        "--email",
        "gate@airport.example",
        "--name",
        "Gate",
        "--role",
        "partner",
        "--owner",
        "airport",
        "--password-stdin",
        "--json",
    ];
    let out = with_stdin(&data, &args, "a long enough passphrase\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let partner: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(partner["user"]["owner_id"], "airport");
    assert_eq!(partner["password"], serde_json::Value::Null);

    let short = with_stdin(&data, &args, "short\n");
    fails_with_usage(&short, "at least 12 characters");
    let base = ["user", "add", "--email", "x@example.com", "--name", "X"];
    fails_with_usage(
        &run(&data, &[&base[..], &["--role", "boss"]].concat()),
        "[possible values: admin, executive, analyst, owner, partner]",
    );
    fails_with_usage(
        &run(&data, &[&base[..], &["--role", "owner"]].concat()),
        "needs the owner",
    );
    let bad_email = [
        "user", "add", "--email", "<script>", "--name", "X", "--role", "analyst",
    ];
    fails_with_usage(&run(&data, &bad_email), "not an address");
    let again = [
        "user",
        "add",
        "--email",
        "ADA@example.com",
        "--name",
        "A",
        "--role",
        "analyst",
    ];
    fails_with_usage(&run(&data, &again), "already exists");

    json(&data, &["user", "disable", "ada@example.com", "--json"]);
    let users = json(&data, &["user", "list", "--json"]);
    let brief: Vec<(&str, bool)> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["email"].as_str().unwrap(),
                u["disabled"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        brief,
        [("ada@example.com", true), ("gate@airport.example", false)]
    );
    fails_with_usage(
        &run(&data, &["user", "disable", "nobody@example.com"]),
        "no user",
    );
}

#[test]
fn tokens_are_shown_once_and_revoked() {
    let (_dir, data) = initialised();
    json(
        &data,
        &[
            "user",
            "add",
            "--email",
            "ada@example.com",
            "--name",
            "Ada",
            "--role",
            "analyst",
            "--json",
        ],
    );
    let add = [
        "token",
        "add",
        "--email",
        "ada@example.com",
        "--name",
        "nightly",
        "--scopes",
    ];
    let token = json(&data, &[&add[..], &["ingest,read", "--json"]].concat());
    let raw = token["token"].as_str().unwrap();
    assert!(raw.starts_with("cxr_"), "{raw}");
    fails_with_usage(
        &run(&data, &[&add[..], &["write"]].concat()),
        "invalid value 'write' for '--scopes <SCOPES>'",
    );

    let listed = run(&data, &["token", "list", "--json"]);
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(!text.contains(raw), "a listing never shows the token");
    let listed: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(listed[0]["scopes"], serde_json::json!(["read", "ingest"]));

    let id = token["id"].to_string();
    json(&data, &["token", "revoke", &id, "--json"]);
    assert_eq!(
        json(&data, &["token", "list", "--json"])[0]["revoked"],
        true
    );
    fails_with_usage(&run(&data, &["token", "revoke", &id]), "no live API token");
}

#[test]
fn targets_are_set_checked_and_listed() {
    let (_dir, data) = initialised();
    json(&data, &["target", "set", "nps", "2025-q1", "-10", "--json"]);
    let targets = json(
        &data,
        &["target", "set", "retention", "2025", "0.8", "--json"],
    );
    assert_eq!(targets[0]["metric"], "nps");
    assert_eq!(targets[0]["period"], "2025-Q1");
    assert_eq!(targets[0]["value"], -10.0);
    assert_eq!(targets[1]["metric"], "retention");
    fails_with_usage(
        &run(&data, &["target", "set", "nps", "2025-13", "10"]),
        "period '2025-13'",
    );
    fails_with_usage(
        &run(&data, &["target", "set", "retention", "2025", "80"]),
        "between 0 and 1",
    );
    fails_with_usage(
        &run(&data, &["target", "set", "loyalty", "2025", "1"]),
        "[possible values: nps, csat, ces, grade, retention, satisfied_defector_share, customer_equity]",
    );
    assert_eq!(
        json(&data, &["target", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let left = json(&data, &["target", "remove", "NPS", "2025-q1", "--json"]);
    assert_eq!(left.as_array().unwrap().len(), 1);
    assert_eq!(left[0]["metric"], "retention");
    fails_with_usage(
        &run(&data, &["target", "remove", "nps", "2025-Q1"]),
        "no NPS target for 2025-Q1",
    );
}
