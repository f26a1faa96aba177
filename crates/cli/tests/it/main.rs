//! End-to-end tests of the `cxray` binary: real processes, real files, the real server
//! on loopback.

mod a11y;
mod accounts;
mod bad_input;
mod browser;
mod cases;
#[cfg(feature = "cluster")]
mod cluster;
mod commands;
mod demo;
mod effect;
mod followup;
mod ingest;
mod initiatives;
mod invitations;
mod leader;
mod maintenance;
mod names;
mod notify;
mod object_store;
mod options;
mod postgres;
mod report;
mod respondents;
mod schedules;
mod server;
mod strace;
mod survey_page;
mod surveys;
mod text;
mod views;
mod webdriver;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_cxray");

/// The binary under test, with a given data folder and no config from the environment.
pub fn cxray(data: &Path) -> Command {
    configured(Command::new(BIN), data)
}

/// `cmd` — the binary under test, or a wrapper whose arguments end with it — given the
/// data folder and no config from the environment.
pub fn configured(mut cmd: Command, data: &Path) -> Command {
    cmd.arg("--data")
        .arg(data)
        .env_remove("CXRAY_DATA")
        .env_remove("CXRAY_CONFIG")
        .env_remove("CXRAY_ENGINE")
        .env_remove("CXRAY_BIND")
        .env_remove("CXRAY_SMTP_URL")
        .env_remove("CXRAY_MAIL_FROM")
        .env_remove("CXRAY_PUBLIC_URL")
        .env_remove("CXRAY_SURVEY_EMAIL_COLUMN");
    cmd
}

/// Runs and returns the output, whatever the exit code.
pub fn run(data: &Path, args: &[&str]) -> Output {
    cxray(data).args(args).output().unwrap()
}

/// A demo world of `customers` customers built in `dir/demo` (not served), without the
/// follow-up programme's rules and cases.
pub fn demo_folder(dir: &Path, customers: &str) -> PathBuf {
    let data = demo_with_programme(dir, customers);
    // The closed loop starts empty: the tests add their own rules.
    let db = rusqlite::Connection::open(data.join("cxray.db")).unwrap();
    db.execute_batch(
        "DELETE FROM case_history; DELETE FROM case_events; DELETE FROM outbox;
         DELETE FROM cases; DELETE FROM case_rules;",
    )
    .unwrap();
    data
}

/// A demo world of `customers` as `demo` builds it, with the follow-up programme's rules
/// and cases.
pub fn demo_with_programme(dir: &Path, customers: &str) -> PathBuf {
    let data = dir.join("demo");
    let built = run(&data, &["demo", "--customers", customers, "--no-serve"]);
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    data
}

/// Runs, asserts success, and parses stdout as JSON.
pub fn json(data: &Path, args: &[&str]) -> serde_json::Value {
    let out = run(data, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// The shared CDNOW files.
pub fn cdnow(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/cdnow")
        .join(name)
}

/// A temporary directory with an initialised data folder `data` in it.
pub fn initialised() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = run(&data, &["init"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (dir, data)
}

/// Imports the CDNOW 1/10 sample (no header; id, date, amount at positions 1, 3, 5).
pub fn import_cdnow_sample(data: &Path) {
    let sample = cdnow("CDNOW_sample.txt").display().to_string();
    let args = [
        "import",
        "transactions",
        &sample,
        "--no-header",
        "--map",
        "customer_id=1,at=3,amount=5",
        "--date-format",
        "%Y%m%d",
    ];
    let out = run(data, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The password of the users tests add.
pub const PASSWORD: &str = "correct horse battery staple";

/// Adds a user with `role` (and `owner`) and returns a new API token of theirs with
/// `scopes`.
pub fn add_user(data: &Path, email: &str, role: &str, owner: Option<&str>, scopes: &str) -> String {
    let mut args = vec![
        "user", "add", "--email", email, "--name", role, "--role", role,
    ];
    if let Some(o) = owner {
        args.extend(["--owner", o]);
    }
    args.push("--password-stdin");
    let out = with_stdin(data, &args, PASSWORD);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = json(
        data,
        &[
            "token", "add", "--email", email, "--name", "tests", "--scopes", scopes, "--json",
        ],
    );
    token["token"].as_str().unwrap().to_string()
}

/// `cxray ARGS` with `input` on standard input.
pub fn with_stdin(data: &Path, args: &[&str], input: &str) -> Output {
    let mut child = cxray(data)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// An API GET with a bearer token: status (0 when the connection closed without an
/// answer) and parsed body.
pub fn api(addr: &str, path: &str, token: &str) -> (u16, serde_json::Value) {
    let (status, body) = get(addr, path, token);
    (
        status,
        serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
    )
}

/// A GET with a bearer token: status (0 when the connection closed without an answer)
/// and body.
pub fn get(addr: &str, path: &str, token: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    let _ = s.read_to_string(&mut response);
    let status = response.get(9..12).map_or(0, |s| s.parse().unwrap_or(0));
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, body.to_string())
}
