//! The ingestion API against a real `cxray serve`: validation, acknowledgement, rows
//! visible to `cxray sql` after the commit, idempotent re-sends, the flush on SIGTERM, no
//! acknowledged row lost or doubled when the server is killed with SIGKILL under load, and
//! (under strace) every directory of the write-ahead log synced into its parent.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::server::{serve_with, serve_wrapped};
use crate::strace::{Trace, traced};
use crate::{BIN, add_user, initialised, json};

/// POSTs an NDJSON batch to `/api/v1/ingest/{table}`: the status and JSON body, or the
/// error when the server cannot be reached or goes away.
pub(crate) fn post(
    addr: &str,
    table: &str,
    token: &str,
    key: Option<&str>,
    body: &str,
) -> std::io::Result<(u16, Value)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let key = key.map_or(String::new(), |k| format!("Idempotency-Key: {k}\r\n"));
    write!(
        s,
        "POST /api/v1/ingest/{table} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n{key}Content-Type: application/x-ndjson\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    s.read_to_string(&mut response)?;
    let status = response
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no response: {response:?}")))?;
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    Ok((status, serde_json::from_str(body).unwrap_or(Value::Null)))
}

/// The status of a POST of a body one byte over the 16 MiB limit.
fn too_large(addr: &str, token: &str) -> u16 {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let body = vec![b' '; (16 << 20) + 1];
    write!(
        s,
        "POST /api/v1/ingest/transactions HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(&body).unwrap();
    let mut status = String::new();
    BufReader::new(s).read_line(&mut status).unwrap();
    status[9..12].parse().unwrap()
}

/// `rows` transactions with order ids `{prefix}-{i}`.
pub(crate) fn batch(prefix: &str, rows: usize) -> String {
    (0..rows)
        .map(|i| {
            format!(
                "{{\"customer_id\":\"c{}\",\"at\":\"2025-03-01T10:{:02}:00Z\",\"amount\":{}.25,\"order_id\":\"{prefix}-{i}\"}}\n",
                i % 97,
                i % 60,
                i % 50
            )
        })
        .collect()
}

pub(crate) fn count(data: &Path, sql: &str) -> i64 {
    json(data, &["sql", "--json", sql])[0]["n"]
        .as_i64()
        .unwrap()
}

/// Waits until `sql` counts `n`.
pub(crate) fn wait_for(data: &Path, sql: &str, n: i64) {
    let started = Instant::now();
    while count(data, sql) != n {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{sql} never {n}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub(crate) const ROWS: &str = "SELECT count(*) AS n FROM transactions";

#[test]
fn batches_are_validated_acknowledged_committed_and_not_repeated() {
    let (_dir, data) = initialised();
    let token = add_user(&data, "ana@example.com", "analyst", None, "ingest");
    let watcher = add_user(&data, "exec@example.com", "executive", None, "read,ingest");
    let mut server = serve_with(&data, &[]);
    let addr = server.addr.clone();
    let send = |key, body: &str| post(&addr, "transactions", &token, key, body).unwrap();

    assert_eq!(
        post(&addr, "transactions", "cxr_nope", None, "{}")
            .unwrap()
            .0,
        401
    );
    let (status, body) = post(&addr, "transactions", &watcher, None, &batch("w", 1)).unwrap();
    assert_eq!(status, 403, "{body}");

    let bad = format!(
        "{}{}\nnot json\n",
        batch("x", 1),
        "{\"customer_id\":\"c\",\"at\":\"2025-03-01\",\"amount\":\"lots\"}"
    );
    let (status, body) = send(None, &bad);
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["rejected_count"], 2);
    assert_eq!(body["rejected"][0]["index"], 1);
    assert!(
        body["rejected"][0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("amount: ")
    );
    assert_eq!(body["rejected"][1]["index"], 2);
    assert!(
        body["rejected"][1]["reason"]
            .as_str()
            .unwrap()
            .starts_with("not a JSON object")
    );

    let (status, body) = send(Some("k1"), &batch("a", 3));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accepted"], 3);
    assert_eq!(
        (&body["idempotency_key"], &body["duplicate"]),
        (&"k1".into(), &false.into())
    );
    let (status, body) = send(Some("k1"), &batch("a", 3));
    assert_eq!(
        (status, &body["accepted"], &body["duplicate"]),
        (200, &3.into(), &true.into())
    );
    assert_eq!(send(Some("k1"), &batch("b", 3)).0, 422);
    let (status, body) = post(&addr, "nope", &token, None, "{}").unwrap();
    assert_eq!(
        (status, body["tables"].as_array().map(Vec::len)),
        (404, Some(6))
    );
    assert_eq!(
        post(&addr, "customer_value", &token, None, "{}").unwrap().0,
        400
    );
    assert_eq!(too_large(&addr, &token), 413);

    wait_for(&data, ROWS, 3);
    let ids = json(
        &data,
        &[
            "sql",
            "--json",
            "SELECT order_id FROM transactions ORDER BY 1",
        ],
    );
    assert_eq!(
        ids,
        serde_json::json!([{"order_id": "a-0"}, {"order_id": "a-1"}, {"order_id": "a-2"}])
    );

    // Acknowledged, then committed on a graceful stop before the flush interval.
    assert_eq!(send(Some("k2"), &batch("c", 2)).0, 200);
    assert!(server.stop("TERM").success());
    assert_eq!(count(&data, ROWS), 5);
    let log = data.join("wal/transactions");
    assert_eq!(
        std::fs::read_dir(log).unwrap().count(),
        0,
        "the log is removed"
    );
}

/// The cases a rule has opened, by customer, with the detail of each.
fn cases_by_customer(data: &Path) -> Vec<(String, String)> {
    let cases = json(data, &["cases", "list", "--json", "--limit", "1000"]);
    let mut out: Vec<(String, String)> = cases
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["customer_id"].as_str().unwrap().into(),
                c["detail"].as_str().unwrap().into(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Waits until the rules have opened `n` cases.
fn wait_for_cases(data: &Path, n: usize) -> Vec<(String, String)> {
    let started = Instant::now();
    loop {
        let cases = cases_by_customer(data);
        if cases.len() >= n {
            return cases;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{cases:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// One NDJSON answer.
fn answer(customer: &str, minute: u32, score: u32) -> String {
    format!(
        "{{\"customer_id\":\"{customer}\",\"at\":\"2025-03-01T10:{minute:02}:00Z\",\"instrument\":\"nps\",\"score\":{score},\"comment\":\"said {score}\"}}\n"
    )
}

#[test]
fn each_ingestion_commit_opens_the_cases_its_rows_call_for_once() {
    let (_dir, data) = initialised();
    let limits = ["--cooldown-days", "30", "--holdout", "0"];
    let rule = [&crate::cases::DETRACTORS[..10], &limits].concat();
    assert!(crate::run(&data, &rule).status.success());
    let token = add_user(&data, "ana@example.com", "analyst", None, "ingest");
    let mut server = serve_with(&data, &[]);
    let send = |key, body: &str| post(&server.addr, "responses", &token, Some(key), body).unwrap();

    // A detractor twice (one case, for the earlier answer), a promoter, a passive's 6.
    let first = [
        answer("c1", 1, 3),
        answer("c1", 2, 2),
        answer("c2", 3, 10),
        answer("c3", 4, 6),
    ];
    assert_eq!(send("a", &first.concat()).0, 200);
    let cases = wait_for_cases(&data, 2);
    let said = |c: &str, d: &str| (c.to_string(), d.to_string());
    assert_eq!(
        cases,
        [
            said("c1", "nps 3: \"said 3\""),
            said("c3", "nps 6: \"said 6\"")
        ]
    );

    // The next commit: c1 is in the cooldown, c4 is new.
    assert_eq!(
        send("b", &[answer("c1", 5, 0), answer("c4", 6, 1)].concat()).0,
        200
    );
    let cases = wait_for_cases(&data, 3);
    assert_eq!(cases[2], said("c4", "nps 1: \"said 1\""));
    assert!(server.stop("TERM").success());
    assert_eq!(cases_by_customer(&data).len(), 3);

    // Evaluated to the latest version: a scan from the files finds nothing new.
    let scan = json(&data, &["cases", "scan", "--json"]);
    assert_eq!(scan[0]["opened"], 0, "{scan}");
    assert_eq!(scan[0]["events"], 0, "{scan}");
}

/// Sends batches of 100 rows until `until`, each under its own idempotency key and
/// re-sent until acknowledged, to whatever address `addr` holds; counts them in `acked`.
pub(crate) fn client(
    id: usize,
    addr: Arc<Mutex<String>>,
    token: String,
    until: Instant,
    acked: Arc<AtomicUsize>,
) {
    for b in 0.. {
        if Instant::now() >= until {
            return;
        }
        let key = format!("t{id}-b{b}");
        let body = batch(&key, 100);
        let started = Instant::now();
        loop {
            let to = addr.lock().unwrap().clone();
            match post(&to, "transactions", &token, Some(&key), &body) {
                Ok((200, _)) => break,
                Ok((status, reply)) => assert_eq!(status, 503, "{reply}"),
                Err(_) => {}
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{key} never acknowledged"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        acked.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn no_acknowledged_row_is_lost_or_doubled_by_sigkill() {
    let (_dir, data) = initialised();
    let token = add_user(&data, "admin@example.com", "admin", None, "ingest");
    let mut server = serve_with(&data, &[]);
    let addr = Arc::new(Mutex::new(server.addr.clone()));
    let acked = Arc::new(AtomicUsize::new(0));
    let until = Instant::now() + Duration::from_secs(6);
    let clients: Vec<_> = (0..4)
        .map(|id| {
            let (addr, token, acked) = (addr.clone(), token.clone(), acked.clone());
            std::thread::spawn(move || client(id, addr, token, until, acked))
        })
        .collect();
    std::thread::sleep(Duration::from_secs(3));
    let acked_before = acked.load(Ordering::SeqCst) as i64 * 100;
    assert!(!server.stop("KILL").success());
    let committed_before = count(&data, ROWS);
    assert!(
        committed_before < acked_before,
        "{committed_before} of {acked_before} acknowledged rows were committed when killed"
    );
    server = serve_with(&data, &[]);
    *addr.lock().unwrap() = server.addr.clone();
    for c in clients {
        c.join().unwrap();
    }
    assert!(server.stop("TERM").success());

    let rows = acked.load(Ordering::SeqCst) as i64 * 100;
    assert_eq!(count(&data, ROWS), rows, "every acknowledged row, once");
    let distinct = "SELECT count(DISTINCT order_id) AS n FROM transactions";
    assert_eq!(count(&data, distinct), rows);
}

/// Issue 14: a new directory's entry is durable only once its parent directory is
/// fsynced. The real server runs under `strace -f`; a first batch into a table without a
/// log creates `wal/transactions` (and at startup `wal/` itself), and each must be
/// followed by an fsync of its parent.
#[test]
fn new_log_directories_are_synced_into_their_parents() {
    let (dir, data) = initialised();
    let token = add_user(&data, "ana@example.com", "analyst", None, "ingest");
    let out = dir.path().join("strace.out");
    let mut wrapper = traced(&out, BIN);
    wrapper.current_dir(dir.path());
    let mut server = serve_wrapped(wrapper, &data, &[]);
    let log = data.join("wal/transactions");
    assert!(!log.exists(), "the table's log is new");
    let (status, body) = post(&server.addr, "transactions", &token, None, &batch("a", 3)).unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(server.stop("TERM").success());
    assert_eq!(count(&data, ROWS), 3);

    let trace = Trace::read(&out, dir.path());
    let wal = data.join("wal");
    let created = trace.created_under(&wal);
    assert!(
        created.contains(&log.as_path()),
        "no mkdir of {} traced; created under {}: {created:?}",
        log.display(),
        wal.display()
    );
    let unsynced = trace.unsynced_parents(&wal);
    assert!(
        unsynced.is_empty(),
        "created without a later fsync of their parent directory: {unsynced:?}"
    );
}
