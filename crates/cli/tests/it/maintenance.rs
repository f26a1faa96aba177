//! Housekeeping against the real binary: `vacuum` removes orphans and keeps time travel
//! within the retention, `optimize` compacts many small commits without changing a row or
//! a figure, also while the server ingests, `check` names what is broken, `backup` and
//! `restore` give the same tables and results, also when the backup is taken while the
//! server ingests.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::ingest::{ROWS, batch, count, post};
use crate::server::{Server, serve_with};
use crate::{add_user, initialised, json, run};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Imports `rows` transactions of customer `c{i}` from a CSV file named `name`.
fn import(data: &Path, name: &str, rows: usize) {
    let file = data.parent().unwrap().join(name);
    let lines: String = (0..rows)
        .map(|i| format!("c{i},2024-01-{:02},{i}.50\n", i % 28 + 1))
        .collect();
    std::fs::write(&file, format!("customer_id,at,amount\n{lines}")).unwrap();
    let out = run(
        data,
        &["import", "transactions", &file.display().to_string()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

/// The Parquet files directly in a table's folder.
fn data_files(data: &Path, table: &str) -> Vec<PathBuf> {
    let dir = data.join("tables").join(table);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    files.sort();
    files
}

/// Copies a data file of `transactions` to an orphan `name` last modified `age` ago, as
/// an import killed before its commit leaves one.
fn orphan(data: &Path, name: &str, age: Duration) -> PathBuf {
    let to = data.join("tables/transactions").join(name);
    std::fs::copy(&data_files(data, "transactions")[0], &to).unwrap();
    let file = std::fs::File::options().write(true).open(&to).unwrap();
    file.set_modified(SystemTime::now() - age).unwrap();
    to
}

fn sql(data: &Path, query: &str, as_of: &[&str]) -> Value {
    let mut args = vec!["sql", "--json", query];
    for a in as_of {
        args.extend(["--as-of", a]);
    }
    json(data, &args)
}

#[test]
fn maintenance_vacuum_removes_orphans_and_keeps_time_travel_within_the_retention() {
    let (_dir, data) = initialised();
    import(&data, "a.csv", 3);
    import(&data, "b.csv", 5);
    let day = Duration::from_secs(86_400);
    let old = orphan(&data, "part-killed-import.parquet", 10 * day);
    let new = orphan(&data, "part-running-import.parquet", Duration::ZERO);

    let done = json(&data, &["vacuum", "--json"]);
    let tx = done
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "transactions")
        .unwrap();
    assert_eq!(tx["files_deleted"], 1, "{done}");
    assert!(!old.exists() && new.exists());
    let n = "SELECT count(*) AS n FROM transactions";
    assert_eq!(sql(&data, n, &[]), serde_json::json!([{"n": 8}]));
    assert_eq!(
        sql(&data, n, &["transactions=1"]),
        serde_json::json!([{"n": 3}])
    );

    let done = json(&data, &["vacuum", "--retain-hours", "0", "--json"]);
    assert!(!new.exists(), "{done}");
    assert_eq!(data_files(&data, "transactions").len(), 2);
    assert_eq!(sql(&data, n, &[]), serde_json::json!([{"n": 8}]));
    assert_eq!(
        sql(&data, n, &["transactions=1"]),
        serde_json::json!([{"n": 3}])
    );
}

/// `cxray check`: its exit code and its problems.
fn check(data: &Path) -> (Option<i32>, Vec<Value>, String) {
    let out = run(data, &["check", "--json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let problems = report["problems"].as_array().unwrap().clone();
    (out.status.code(), problems, stderr(&out))
}

/// Whether a problem's place contains `place` and its text `text`.
fn has(problems: &[Value], place: &str, text: &str) -> bool {
    problems.iter().any(|p| {
        p["place"].as_str().unwrap().contains(place)
            && p["problem"].as_str().unwrap().contains(text)
    })
}

#[test]
fn maintenance_check_names_every_kind_of_damage() {
    let (_dir, data) = initialised();
    import(&data, "a.csv", 3);
    import(&data, "b.csv", 5);
    assert_eq!(check(&data).0, Some(0));

    let files = data_files(&data, "transactions");
    std::fs::remove_file(&files[0]).unwrap();
    let bytes = std::fs::read(&files[1]).unwrap();
    std::fs::write(&files[1], &bytes[..bytes.len() - 10]).unwrap();
    let log = data.join("tables/customers/_delta_log/00000000000000000000.json");
    std::fs::write(&log, "not a delta log").unwrap();
    let wal = data.join("wal/responses");
    std::fs::create_dir_all(&wal).unwrap();
    std::fs::write(wal.join(format!("{:020}.wal", 1)), b"torn garbage").unwrap();
    std::fs::write(wal.join(format!("{:020}.wal", 2)), b"").unwrap();
    let db = data.join("cxray.db");
    let mut bytes = std::fs::read(&db).unwrap();
    let page = 4096;
    bytes[2 * page..3 * page].fill(0xa5);
    std::fs::write(&db, bytes).unwrap();

    let (code, problems, stderr) = check(&data);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error: ")).count(),
        1,
        "{stderr}"
    );
    let name = |p: &PathBuf| p.file_name().unwrap().to_string_lossy().into_owned();
    assert!(has(&problems, &name(&files[0]), "missing"), "{problems:?}");
    assert!(
        has(&problems, &name(&files[1]), "bytes, the log says"),
        "{problems:?}"
    );
    assert!(
        has(&problems, "table customers", "not readable"),
        "{problems:?}"
    );
    assert!(
        has(&problems, "wal/responses", "corrupt write-ahead log record"),
        "{problems:?}"
    );
    assert!(has(&problems, "operational database", ""), "{problems:?}");
    assert_eq!(problems.len(), 5, "{problems:?}");
}

/// A temporary directory with a small demo world `demo` in it.
fn demo() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let out = run(&data, &["demo", "--customers", "1500", "--no-serve"]);
    assert!(out.status.success(), "{}", stderr(&out));
    (dir, data)
}

/// Every table's rows, version and files, as `cxray tables` lists them.
fn tables(data: &Path) -> Vec<(Value, Value, Value, Value)> {
    let all = json(data, &["tables", "--json"]);
    let row = |t: &Value| {
        (
            t["table"].clone(),
            t["rows"].clone(),
            t["version"].clone(),
            t["files"].clone(),
        )
    };
    all.as_array().unwrap().iter().map(row).collect()
}

#[test]
fn maintenance_backup_and_restore_give_the_same_tables_and_results() {
    let (dir, data) = demo();
    let backup = dir.path().join("backup");
    let manifest = json(&data, &["backup", &backup.display().to_string(), "--json"]);
    assert!(manifest["tables"]["customer_value"].is_u64(), "{manifest}");

    let again = run(&data, &["backup", &backup.display().to_string()]);
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    let restored = dir.path().join("restored");
    let report = json(
        &restored,
        &["restore", &backup.display().to_string(), "--json"],
    );
    assert_eq!(report["problems"], serde_json::json!([]));
    let refused = run(&data, &["restore", &backup.display().to_string()]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));

    assert_eq!(tables(&restored), tables(&data));
    let queries = [
        "SELECT segment, count(*) AS n FROM customers GROUP BY 1 ORDER BY 1",
        "SELECT CAST(sum(amount) AS VARCHAR) AS s, count(*) AS n FROM transactions",
        "SELECT touchpoint, count(*) AS n FROM interactions GROUP BY 1 ORDER BY 1",
        "SELECT CAST(sum(clv) AS VARCHAR) AS v FROM customer_value",
    ];
    for q in queries {
        assert_eq!(sql(&restored, q, &[]), sql(&data, q, &[]), "{q}");
    }
    let users = |d: &Path| json(d, &["user", "list", "--json"]);
    assert_eq!(users(&restored), users(&data));
}

/// A server on a data folder with a client sending it batches of transactions back to
/// back, each under its own idempotency key (`b0`, `b1`, …), until stopped.
struct Sending {
    server: Server,
    acked: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    client: std::thread::JoinHandle<()>,
}

impl Sending {
    /// Starts the server on `data` and the client, sending `rows` rows a batch.
    fn start(data: &Path, rows: usize) -> Sending {
        let token = add_user(data, "admin@example.com", "admin", None, "ingest");
        let server = serve_with(data, &[]);
        let (acked, stop) = (
            Arc::new(Mutex::new(Vec::new())),
            Arc::new(AtomicBool::new(false)),
        );
        let client = {
            let (addr, acked, stop) = (server.addr.clone(), acked.clone(), stop.clone());
            std::thread::spawn(move || {
                for b in 0.. {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let key = format!("b{b}");
                    let (status, reply) = post(
                        &addr,
                        "transactions",
                        &token,
                        Some(&key),
                        &batch(&key, rows),
                    )
                    .unwrap();
                    assert_eq!(status, 200, "{reply}");
                    acked.lock().unwrap().push(key);
                }
            })
        };
        Sending {
            server,
            acked,
            stop,
            client,
        }
    }

    /// The keys of the batches acknowledged so far.
    fn acked(&self) -> Vec<String> {
        self.acked.lock().unwrap().clone()
    }

    /// Stops the client, then the server (gracefully); returns the keys acknowledged.
    fn stop(self) -> Vec<String> {
        let Sending {
            mut server,
            acked,
            stop,
            client,
        } = self;
        stop.store(true, Ordering::SeqCst);
        client.join().unwrap();
        assert!(server.stop("TERM").success());
        acked.lock().unwrap().clone()
    }
}

/// The rows of each batch key (the order ids' prefix) in `transactions`.
fn rows_per_key(data: &Path) -> HashMap<String, i64> {
    let query =
        "SELECT split_part(order_id, '-', 1) AS k, count(*) AS n FROM transactions GROUP BY 1";
    sql(data, query, &[])
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["k"].as_str().unwrap().to_string(),
                r["n"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn maintenance_a_backup_under_ingestion_keeps_every_acknowledged_row() {
    let (dir, data) = initialised();
    let sending = Sending::start(&data, 100);
    while count(&data, ROWS) == 0 {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(700));
    let before = sending.acked();
    let backup = dir.path().join("backup");
    let out = run(&data, &["backup", &backup.display().to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    std::thread::sleep(Duration::from_millis(500));
    sending.stop();

    let restored = dir.path().join("restored");
    let out = run(&restored, &["restore", &backup.display().to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let in_backup_tables = count(&restored, ROWS);
    // The server commits the write-ahead log the backup holds.
    assert!(serve_with(&restored, &[]).stop("TERM").success());
    let per_key = rows_per_key(&restored);
    for key in &before {
        assert_eq!(
            per_key.get(key),
            Some(&100),
            "batch {key}, acknowledged before the backup"
        );
    }
    eprintln!(
        "{} batches acknowledged before the backup, {in_backup_tables} rows in its tables, {} after replaying its log",
        before.len(),
        count(&restored, ROWS)
    );
}

/// The tables with a customer column in a demo world.
const CUSTOMER_TABLES: [&str; 5] = [
    "customers",
    "transactions",
    "interactions",
    "responses",
    "customer_value",
];

/// The files under `dir` whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if std::fs::read(&path)
            .unwrap()
            .windows(needle.len())
            .any(|w| w == needle)
        {
            found.push(path);
        }
    }
    found
}

#[test]
fn maintenance_forget_leaves_no_trace_of_a_customer() {
    let (dir, data) = demo();
    let busiest =
        "SELECT customer_id AS id FROM responses GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1";
    let id = sql(&data, busiest, &[])[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let unique =
        format!("SELECT count(*) AS n FROM customers WHERE strpos(customer_id, '{id}') > 0");
    assert_eq!(
        sql(&data, &unique, &[]),
        serde_json::json!([{"n": 1}]),
        "{id} is in no other id"
    );

    // A row set aside by an import, and one acknowledged by the server but not committed.
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        format!("customer_id,at,amount\n{id},yesterday,1\nnew,2025-01-01,1\n"),
    )
    .unwrap();
    let args = [
        "import",
        "transactions",
        &bad.display().to_string(),
        "--skip-bad-rows",
        "1",
    ];
    assert!(run(&data, &args).status.success());
    let token = json(
        &data,
        &[
            "token",
            "add",
            "--email",
            "admin@demo.invalid",
            "--name",
            "t",
            "--scopes",
            "ingest",
            "--json",
        ],
    );
    let mut server = serve_with(&data, &[]);
    let row = format!(
        "{{\"customer_id\":\"{id}\",\"at\":\"2025-03-01T10:00:00Z\",\"amount\":7,\"order_id\":\"wal-row\"}}\n"
    );
    let (status, reply) = post(
        &server.addr,
        "transactions",
        token["token"].as_str().unwrap(),
        None,
        &row,
    )
    .unwrap();
    assert_eq!(status, 200, "{reply}");
    assert!(!server.stop("KILL").success());

    let key = cxray_store::ops::OpsDb::open(&data.join("cxray.db"))
        .unwrap()
        .pseudonym_key()
        .unwrap();
    let pseudonym = cxray_core::access::pseudonym(&key, &id);
    let before = files_containing(&data, id.as_bytes());
    assert!(
        before.iter().any(|p| p.starts_with(data.join("wal"))),
        "{before:?}"
    );
    assert!(
        before.iter().any(|p| p.starts_with(data.join("rejects"))),
        "{before:?}"
    );

    assert!(
        data.join("derived").join("journey").is_dir(),
        "the trips are prepared"
    );
    let done = json(&data, &["forget", &id, "--reason", "request 17", "--json"]);
    // The trips name customers in compressed files a byte search may miss: gone entirely.
    assert!(!data.join("derived").exists());
    for table in CUSTOMER_TABLES {
        assert!(done["rows"][table].as_u64().unwrap() > 0, "{table}: {done}");
    }
    assert_eq!(done["rejects_rewritten"], 1);
    assert_eq!(
        files_containing(&data, id.as_bytes()),
        Vec::<PathBuf>::new()
    );
    assert_eq!(
        files_containing(&data, pseudonym.as_bytes()),
        Vec::<PathBuf>::new()
    );
    for table in CUSTOMER_TABLES {
        let q = format!("SELECT count(*) AS n FROM {table} WHERE customer_id = '{id}'");
        assert_eq!(
            sql(&data, &q, &[]),
            serde_json::json!([{"n": 0}]),
            "{table}"
        );
    }
    let again = json(&data, &["forget", &id, "--json"]);
    assert!(
        again["rows"].as_object().unwrap().values().all(|n| n == 0),
        "{again}"
    );

    let audit = cxray_store::ops::OpsDb::open(&data.join("cxray.db"))
        .unwrap()
        .recent_audit(2)
        .unwrap();
    let hash = cxray_store::erased::erasure_hash(&key, &id);
    assert!(
        audit
            .iter()
            .all(|a| a.action == "forget" && a.detail.contains(&hash) && !a.detail.contains(&id)),
        "{audit:?}"
    );
    for args in [
        &["journey"][..],
        &["link"],
        &["link", "--defection", "palive"],
        &["metrics", "nps"],
        &["check"],
    ] {
        let out = run(&data, args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn maintenance_forgotten_customers_arriving_again_follow_the_rule() {
    let (dir, data) = initialised();
    import(&data, "first.csv", 3);
    assert!(run(&data, &["forget", "c1"]).status.success());
    let again = dir.path().join("again.csv");
    std::fs::write(
        &again,
        "customer_id,at,amount\nc0,2025-01-01,1\nc1,2025-01-02,2\n",
    )
    .unwrap();
    let file = again.display().to_string();
    let orders = "SELECT count(*) AS n FROM transactions";

    // Refused by default, also where bad rows could be set aside: a rejects file would
    // keep the id.
    for extra in [&[][..], &["--skip-bad-rows", "5"]] {
        let args = [&["import", "transactions", file.as_str()][..], extra].concat();
        let out = run(&data, &args);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let expected = format!("{file}:3:1: customer_id: the customer was erased");
        assert!(stderr(&out).contains(&expected), "{}", stderr(&out));
    }
    assert_eq!(count(&data, orders), 2);
    assert!(!data.join("rejects").exists());

    let token = add_user(&data, "ingest@example.com", "analyst", None, "ingest");
    let row = "{\"customer_id\":\"c1\",\"at\":\"2025-03-01T10:00:00Z\",\"amount\":7}\n";
    let body = format!("{{\"customer_id\":\"c0\",\"at\":\"2025-03-01\",\"amount\":1}}\n{row}");
    let mut server = serve_with(&data, &[]);
    let (status, reply) = post(&server.addr, "transactions", &token, None, &body).unwrap();
    assert_eq!(status, 400, "{reply}");
    assert_eq!(reply["rejected_count"], 1, "{reply}");
    assert_eq!(reply["rejected"][0]["index"], 1, "{reply}");
    let reason = reply["rejected"][0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("customer_id: the customer was erased"),
        "{reply}"
    );
    assert!(server.stop("TERM").success());
    assert_eq!(count(&data, orders), 2);

    // Accepted under the other rule.
    let mut server = serve_with(&data, &["--erased-customers", "accept"]);
    let (status, reply) = post(&server.addr, "transactions", &token, None, &body).unwrap();
    assert_eq!(status, 200, "{reply}");
    assert!(server.stop("TERM").success());
    let args = [
        "import",
        "transactions",
        &file,
        "--erased-customers",
        "accept",
    ];
    assert!(run(&data, &args).status.success());
    assert_eq!(count(&data, orders), 6);
}

/// A table's rows as CSV lines, sorted: its content whatever the files' order.
fn content(data: &Path, table: &str) -> Vec<String> {
    let out = run(data, &["sql", "--csv", &format!("SELECT * FROM {table}")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

/// One table of `cxray tables --json`.
fn table(data: &Path, name: &str) -> Value {
    let all = json(data, &["tables", "--json"]);
    all.as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == name)
        .unwrap()
        .clone()
}

#[test]
fn maintenance_optimize_after_many_small_commits_changes_no_row_and_no_figure() {
    let (dir, data) = demo();
    let touchpoints = ["check-in", "boarding", "baggage-claim"];
    for i in 0..40 {
        let file = dir.path().join(format!("answers-{i}.csv"));
        let rows: String = (0..3)
            .map(|k| {
                let tp = touchpoints[(i + k) % 3];
                let score = (i * 3 + k) % 11;
                format!(
                    "C{i}-{k},2025-0{}-1{k}T08:00:00Z,nps,{score},{tp}\n",
                    i % 6 + 1
                )
            })
            .collect();
        std::fs::write(
            &file,
            format!("customer_id,at,instrument,score,touchpoint\n{rows}"),
        )
        .unwrap();
        let out = run(&data, &["import", "responses", &file.display().to_string()]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let before = table(&data, "responses");
    assert_eq!(before["files"], 41, "{before}");
    let nps = ["metrics", "nps", "--by", "touchpoint,month", "--json"];
    let figures = json(&data, &nps);
    let event_tables = ["transactions", "interactions", "responses"];
    let rows: Vec<Vec<String>> = event_tables.iter().map(|t| content(&data, t)).collect();

    // A table that is not there: refused by name, nothing changed.
    let listing = json(&data, &["tables", "--json"]);
    let refused = run(&data, &["optimize", "orders"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    let message = stderr(&refused);
    assert!(message.contains("invalid value 'orders'"), "{message}");
    let valid = "customers, transactions, interactions, responses, owners, financials";
    assert!(message.contains(valid), "{message}");
    assert_eq!(json(&data, &["tables", "--json"]), listing);

    let done = json(&data, &["optimize", "--json"]);
    let responses = done
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["table"] == "responses")
        .unwrap();
    let version = before["version"].as_u64().unwrap();
    assert_eq!(responses["read_version"], version, "{done}");
    assert_eq!(responses["version"], version + 1, "{done}");
    assert_eq!(responses["files_removed"], 41, "{done}");
    assert_eq!(responses["files_after"], 1, "{done}");
    assert_eq!(
        responses["clustered_by"],
        serde_json::json!(["at", "touchpoint"])
    );
    let after = table(&data, "responses");
    assert_eq!(
        (&after["files"], &after["rows"], &after["checkpoint"]),
        (&Value::from(1), &before["rows"], &Value::from(version + 1))
    );
    let log = data.join("tables/responses/_delta_log");
    assert!(
        log.join(format!("{:020}.checkpoint.parquet", version + 1))
            .is_file()
    );

    assert_eq!(json(&data, &nps), figures);
    for (t, before) in event_tables.iter().zip(&rows) {
        assert_eq!(&content(&data, t), before, "{t}");
    }
    let n = "SELECT count(*) AS n FROM responses";
    let as_of = format!("responses={version}");
    assert_eq!(sql(&data, n, &[&as_of]), sql(&data, n, &[]), "time travel");
    let listed = run(&data, &["tables"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("checkpoint"));
    let out = run(&data, &["check"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn maintenance_optimize_beside_the_ingesting_server_keeps_every_acknowledged_row() {
    let (_dir, data) = initialised();
    let sending = Sending::start(&data, 10);
    let mut rewritten = 0;
    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(2500));
        let done = json(&data, &["optimize", "transactions", "--json"]);
        rewritten += done[0]["files_removed"].as_u64().unwrap();
    }
    let acked = sending.stop();
    assert!(rewritten > 1, "the server's commits were rewritten");

    let per_key = rows_per_key(&data);
    assert_eq!(per_key.len(), acked.len());
    for key in &acked {
        assert_eq!(per_key.get(key), Some(&10), "batch {key}");
    }
    let out = run(&data, &["check"]);
    assert!(out.status.success(), "{}", stderr(&out));
}
