//! Bad input never corrupts or blocks: colliding column names, money beyond the column's
//! precision, too many keys or attribute columns, huge refusals, bodies sent without the
//! right to send them, and idempotency keys per client — through the real binary and the
//! real server.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::ingest::{ROWS, batch, count, post, wait_for};
use crate::server::{Server, serve_with};
use crate::{add_user, initialised, json, run};

/// Writes `content` to `name` in the folder above `data`; its path.
fn file(data: &Path, name: &str, content: &str) -> String {
    let path = data.parent().unwrap().join(name);
    std::fs::write(&path, content).unwrap();
    path.display().to_string()
}

/// Asserts that `cxray import transactions FILE` fails as bad input (exit code 2) with
/// `message` on standard error.
fn assert_refused(data: &Path, path: &str, message: &str) {
    let out = run(data, &["import", "transactions", path]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(message), "{message}: {stderr}");
}

/// An initialised data folder, an analyst's ingest token, and `cxray serve ARGS` on it.
fn analyst_serving(args: &[&str]) -> (tempfile::TempDir, PathBuf, String, Server) {
    let (dir, data) = initialised();
    let token = add_user(&data, "ana@example.com", "analyst", None, "ingest");
    let server = serve_with(&data, args);
    (dir, data, token, server)
}

/// The amounts in the table, as text, in order.
fn amounts(data: &Path) -> Value {
    json(
        data,
        &[
            "sql",
            "--json",
            "SELECT CAST(amount AS VARCHAR) AS a FROM transactions ORDER BY amount",
        ],
    )
}

#[test]
fn import_refuses_columns_that_become_one_and_writes_nothing() {
    let (_dir, data) = initialised();
    let csv = file(
        &data,
        "c.csv",
        "customer_id,at,amount,Fare Class,fare_class\nc1,2025-01-01,1,Y,J\n",
    );
    let message = "1:5: 'Fare Class' and 'fare_class' both become the column 'fare_class'";
    assert_refused(&data, &csv, &format!("{csv}:{message}"));
    let ndjson = file(
        &data,
        "n.ndjson",
        "{\"customer_id\":\"c1\",\"at\":\"2025-01-01\",\"amount\":1,\"--\":\"a\"}\n\n\
         {\"customer_id\":\"c2\",\"at\":\"2025-01-01\",\"amount\":1,\"!!\":\"b\"}\n",
    );
    let message = "3: '--' and '!!' both become the column 'attribute'";
    assert_refused(&data, &ndjson, &format!("{ndjson}:{message}"));
    assert_eq!(count(&data, ROWS), 0);
}

#[test]
fn import_refuses_money_beyond_the_precision_and_keeps_the_largest_exactly() {
    let (_dir, data) = initialised();
    for (name, amount) in [
        ("wide.csv", "123456789012345"),
        ("rounded.csv", "99999999999999.99995"),
    ] {
        let path = file(
            &data,
            name,
            &format!("customer_id,at,amount\nc1,2025-01-01,1\nc2,2025-01-01,{amount}\n"),
        );
        let message = "is out of range: at most 14 digits before the decimal point";
        assert_refused(
            &data,
            &path,
            &format!("{path}:3:3: amount: '{amount}' {message}"),
        );
    }
    let ok = file(
        &data,
        "edge.csv",
        "customer_id,at,amount\nc1,2025-01-01,99999999999999.9999\nc2,2025-01-01,-99999999999999.99994\n",
    );
    assert!(
        run(&data, &["import", "transactions", &ok])
            .status
            .success()
    );
    assert_eq!(
        amounts(&data),
        json!([{"a": "-99999999999999.9999"}, {"a": "99999999999999.9999"}])
    );
}

#[test]
fn import_refuses_attribute_columns_beyond_the_limit() {
    let (_dir, data) = initialised();
    let names: Vec<String> = (0..201).map(|i| format!("extra_{i}")).collect();
    let values = vec!["x"; 201].join(",");
    let path = file(
        &data,
        "wide.csv",
        &format!(
            "customer_id,at,amount,{}\nc1,2025-01-01,1,{values}\n",
            names.join(",")
        ),
    );
    let message = "at most 200 are allowed (max_attributes)";
    assert_refused(
        &data,
        &path,
        &format!(
            "{path}: transactions would have 201 attribute columns with the 201 new ones (extra_0, extra_1, extra_10, extra_100, extra_101, …); {message}"
        ),
    );
    assert_eq!(count(&data, ROWS), 0);

    // The config file sets the limit.
    let config = file(&data, "cxray.toml", "max_attributes = 1\n");
    let two = file(
        &data,
        "two.csv",
        "customer_id,at,amount,a,b\nc1,2025-01-01,1,x,y\n",
    );
    let out = run(
        &data,
        &["--config", &config, "import", "transactions", &two],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("at most 1 are allowed"), "{stderr}");
}

#[test]
fn ingest_refuses_colliding_keys_and_the_table_and_server_stay_usable() {
    let (_dir, data, token, mut server) = analyst_serving(&[]);
    let send = |key: &str, body: &str| {
        post(&server.addr, "transactions", &token, Some(key), body).unwrap()
    };
    let row = |id: &str, extra: &str| {
        format!("{{\"customer_id\":\"{id}\",\"at\":\"2025-03-01\",\"amount\":1{extra}}}\n")
    };
    let (status, body) = send(
        "k1",
        &(row("c1", "") + &row("c2", ",\"Fare Class\":\"Y\",\"fare_class\":\"J\"")),
    );
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["rejected"][0]["index"], 1, "{body}");
    let reason = body["rejected"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("'Fare Class' and 'fare_class'"), "{body}");
    let (status, body) = send("k2", &(row("c1", ",\"--\":1") + &row("c2", ",\"!!\":2")));
    assert_eq!(status, 400, "{body}");
    assert!(
        body["rejected"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("'--' and '!!'"),
        "{body}"
    );
    assert_eq!(send("k3", &batch("ok", 3)).0, 200);
    wait_for(&data, ROWS, 3);
    assert!(server.stop("KILL").code().is_none());
    let mut server = serve_with(&data, &[]);
    assert_eq!(
        post(
            &server.addr,
            "transactions",
            &token,
            None,
            &batch("again", 2)
        )
        .unwrap()
        .0,
        200
    );
    assert!(server.stop("TERM").success());
    assert_eq!(count(&data, ROWS), 5);
}

#[test]
fn ingest_refuses_money_beyond_the_precision_and_keeps_every_digit() {
    let (_dir, data, token, mut server) = analyst_serving(&[]);
    let row = |amount: &str| {
        format!("{{\"customer_id\":\"c\",\"at\":\"2025-03-01\",\"amount\":{amount}}}\n")
    };
    for amount in [
        "1000000000000000",
        "\"-123456789012345.5\"",
        "99999999999999.99995",
    ] {
        let (status, body) =
            post(&server.addr, "transactions", &token, None, &row(amount)).unwrap();
        assert_eq!(status, 400, "{body}");
        let reason = body["rejected"][0]["reason"].as_str().unwrap();
        assert!(
            reason.starts_with("amount: ") && reason.contains("out of range"),
            "{body}"
        );
    }
    let body = row("12345678901234.5678") + &row("\"-99999999999999.9999\"");
    assert_eq!(
        post(&server.addr, "transactions", &token, None, &body)
            .unwrap()
            .0,
        200
    );
    assert!(server.stop("TERM").success());
    assert_eq!(
        amounts(&data),
        json!([{"a": "-99999999999999.9999"}, {"a": "12345678901234.5678"}])
    );
}

/// The server's peak resident memory in MiB.
fn peak_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        / 1024
}

#[test]
fn ingest_refusal_of_a_huge_bad_body_keeps_a_bounded_list() {
    let (_dir, _data, token, server) = analyst_serving(&[]);
    // Just under 16 MiB of lines that are not JSON, and of objects that are not rows.
    let body = "x\n{}\n".repeat((16 << 20) / 5 - 1);
    let before = peak_mib(server.pid());
    let (status, reply) = post(&server.addr, "transactions", &token, None, &body).unwrap();
    let after = peak_mib(server.pid());
    assert_eq!(status, 400);
    let lines = ((16 << 20) / 5 - 1) * 2;
    assert_eq!(reply["rejected_count"], lines);
    assert_eq!(reply["rejected"].as_array().unwrap().len(), 1000);
    assert_eq!(reply["rejected"][999]["index"], 999);
    eprintln!("peak resident memory: {before} MiB before, {after} MiB after the refusal");
    assert!(after < before + 300, "{before} MiB → {after} MiB");
}

/// Sends the headers of a 16 MiB POST and no body: the status line, if the server answers
/// within five seconds.
fn answer_without_body(addr: &str, path: &str, token: &str) -> Option<String> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n",
        16 << 20
    )
    .unwrap();
    let mut status = String::new();
    BufReader::new(s).read_line(&mut status).ok()?;
    Some(status)
}

#[test]
fn ingest_checks_token_role_table_and_key_before_reading_the_body() {
    let (_dir, data) = initialised();
    let reader = add_user(&data, "ana@example.com", "analyst", None, "read");
    let watcher = add_user(&data, "exec@example.com", "executive", None, "ingest");
    let writer = add_user(&data, "admin@example.com", "admin", None, "ingest");
    let server = serve_with(&data, &[]);
    let started = Instant::now();
    for (path, token, status) in [
        ("/api/v1/ingest/transactions", "cxr_nope", "401"),
        ("/api/v1/ingest/transactions", reader.as_str(), "403"),
        ("/api/v1/ingest/transactions", watcher.as_str(), "403"),
        ("/api/v1/ingest/nope", writer.as_str(), "404"),
    ] {
        let line = answer_without_body(&server.addr, path, token);
        assert!(
            line.as_deref().is_some_and(|l| l.contains(status)),
            "{path} {status}: {line:?}"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn ingest_limits_keys_per_row_and_attribute_columns() {
    let args = ["--max-attributes", "3", "--max-keys-per-row", "6"];
    let (_dir, data, token, mut server) = analyst_serving(&args);
    let send = |body: &str| post(&server.addr, "transactions", &token, None, body).unwrap();
    let row = |extra: &str| {
        format!("{{\"customer_id\":\"c\",\"at\":\"2025-03-01\",\"amount\":1{extra}}}\n")
    };

    let (status, body) = send(&(row(",\"a\":1") + &row(",\"a\":1,\"b\":1,\"c\":1,\"d\":1")));
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["rejected"][0]["index"], 1);
    assert!(
        body["rejected"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("at most 6 (keys_per_row)"),
        "{body}"
    );

    let (status, body) = send(&(row(",\"a\":1,\"b\":1") + &row(",\"c\":1,\"d\":1")));
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("at most 3 are allowed"),
        "{body}"
    );

    assert_eq!(send(&row(",\"a\":1,\"b\":1")).0, 200);
    let (status, body) = send(&row(",\"c\":1,\"d\":1"));
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("4 attribute columns"),
        "{body}"
    );
    assert_eq!(send(&row(",\"c\":1,\"b\":2")).0, 200);
    assert!(server.stop("TERM").success());
    let columns = json(
        &data,
        &[
            "sql",
            "--json",
            "SELECT a, b, c FROM transactions ORDER BY c",
        ],
    );
    assert_eq!(
        columns,
        json!([{"a": null, "b": "2", "c": "1"}, {"a": "1", "b": "1", "c": null}])
    );
}

#[test]
fn ingest_idempotency_keys_are_per_token() {
    let (_dir, data) = initialised();
    let ana = add_user(&data, "ana@example.com", "analyst", None, "ingest");
    let bob = add_user(&data, "bob@example.com", "admin", None, "ingest");
    let args = [
        "token",
        "add",
        "--email",
        "ana@example.com",
        "--name",
        "second",
        "--scopes",
        "ingest",
        "--json",
    ];
    let ana2 = json(&data, &args)["token"].as_str().unwrap().to_string();
    let mut server = serve_with(&data, &[]);
    let send = |token: &str, body: &str| {
        post(&server.addr, "transactions", token, Some("same"), body).unwrap()
    };
    let (a, b, c) = (batch("ana", 2), batch("bob", 3), batch("ana2", 1));
    assert_eq!(send(&ana, &a).1["duplicate"], false);
    let (status, reply) = send(&bob, &b);
    assert_eq!(
        (status, &reply["accepted"], &reply["duplicate"]),
        (200, &json!(3), &json!(false)),
        "{reply}"
    );
    // Another token of the same user has keys of its own.
    let (status, reply) = send(&ana2, &c);
    assert_eq!(
        (status, &reply["accepted"], &reply["duplicate"]),
        (200, &json!(1), &json!(false)),
        "{reply}"
    );
    assert_eq!(send(&ana, &a).1["duplicate"], true);
    assert_eq!(send(&ana, &b).0, 422);
    assert_eq!(send(&ana2, &a).0, 422);
    assert!(server.stop("KILL").code().is_none());
    let mut server = serve_with(&data, &[]);
    for (token, body, rows) in [(&bob, &b, 3), (&ana2, &c, 1)] {
        let (status, reply) =
            post(&server.addr, "transactions", token, Some("same"), body).unwrap();
        assert_eq!(
            (status, &reply["accepted"], &reply["duplicate"]),
            (200, &json!(rows), &json!(true)),
            "{reply}"
        );
    }
    assert!(server.stop("TERM").success());
    assert_eq!(count(&data, ROWS), 6);
}

#[test]
fn an_engine_that_is_not_one_is_refused_naming_where_it_was_set() {
    let (_dir, data) = initialised();
    let cases = [
        (
            Some("http://host:1"),
            None,
            "--engine: 'http://host:1' is not an engine",
        ),
        (
            None,
            Some("ballista://"),
            "CXRAY_ENGINE: 'ballista://' names no host",
        ),
        (
            Some("ballista://h:1/x"),
            None,
            "--engine: 'ballista://h:1/x' has more than",
        ),
    ];
    for (flag, env, message) in cases {
        let mut cmd = crate::cxray(&data);
        cmd.args(["metrics", "nps"]);
        if let Some(engine) = flag {
            cmd.args(["--engine", engine]);
        }
        if let Some(engine) = env {
            cmd.env("CXRAY_ENGINE", engine);
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(message), "{message}: {stderr}");
    }
}
