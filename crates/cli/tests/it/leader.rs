//! Several servers over one data folder on object storage (SeaweedFS) and one
//! PostgreSQL operational database: a session signed in on one works on the other; only
//! the leader (the lease's holder) accepts ingestion, the follower answers 503 naming it;
//! when the leader is killed the follower takes over and accepts ingestion, its
//! analyses see the new rows; the killed server comes back as a follower and commits the
//! rows it had acknowledged, once; a leader that loses its lease connection stops leading.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use cxray_store::db::Conn;
use cxray_store::db::testing::TestDb;
use serde_json::Value;

use crate::ingest::{ROWS, batch, post};
use crate::object_store::{S3Folder, Weed};
use crate::server::{Server, serve_with};
use crate::{PASSWORD, with_stdin};

/// Seconds between a follower's tries for the lease.
const LEASE: &str = "1";

/// The response to a request: status, headers (names in lower case), body.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value `Set-Cookie` gives cookie `name`.
    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k == "set-cookie")
            .find_map(|(_, v)| v.strip_prefix(&format!("{name}=")))
            .map(|v| v.split(';').next().unwrap_or_default().to_string())
    }
}

/// An HTTP/1.1 request on loopback; a form `body` is sent with its type.
fn request(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head += &format!("{k}: {v}\r\n");
    }
    if method == "POST" {
        head += "Content-Type: application/x-www-form-urlencoded\r\n";
        head += &format!("Content-Length: {}\r\n", body.len());
    }
    write!(s, "{head}\r\n{body}").unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.lines();
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_string(),
    }
}

/// Signs in through the sign-in form; the session cookie.
fn sign_in(addr: &str, email: &str) -> String {
    let form = request(addr, "GET", "/login", &[], "");
    let login = form.cookie("cxray_login").expect("the form's cookie");
    let marker = "name=\"csrf\" value=\"";
    let start = form.body.find(marker).expect("the form's token") + marker.len();
    let csrf = form.body[start..].split('"').next().unwrap();
    let body = format!(
        "email={}&password={}&csrf={csrf}&next=%2F",
        email.replace('@', "%40"),
        PASSWORD.replace(' ', "+")
    );
    let cookie = format!("cxray_login={login}");
    let signed = request(addr, "POST", "/login", &[("Cookie", &cookie)], &body);
    assert_eq!(signed.status, 303, "{}", signed.body);
    format!("cxray_session={}", signed.cookie("cxray_session").unwrap())
}

/// `/health` as JSON.
fn health(server: &Server) -> Value {
    let reply = request(&server.addr, "GET", "/health", &[], "");
    assert_eq!(reply.status, 200, "{}", reply.body);
    serde_json::from_str(&reply.body).unwrap()
}

/// Waits until `follower` names `leader` as the leader (it takes a moment to look), and
/// checks it does not lead itself; the leader's address.
fn follows(follower: &Server, leader: &Server) -> String {
    let address = format!("http://{}", leader.addr);
    let known = || health(follower)["leader"] == address.as_str();
    wait(known, "the follower knows the leader");
    assert_eq!(health(follower)["leading"], false);
    address
}

/// Waits until `server` leads; how long that took.
fn until_leading(server: &Server) -> Duration {
    let started = Instant::now();
    while health(server)["leading"] != true {
        assert!(started.elapsed() < Duration::from_secs(20), "never leads");
        std::thread::sleep(Duration::from_millis(50));
    }
    started.elapsed()
}

/// A metric's value on `server`.
fn metric(server: &Server, line: &str) -> Option<f64> {
    let reply = request(&server.addr, "GET", "/metrics", &[], "");
    reply
        .body
        .lines()
        .find_map(|l| l.strip_prefix(line)?.trim().parse().ok())
}

/// One node: the shared data folder with a state folder of its own, and the database.
struct Node {
    folder: S3Folder,
    ops: String,
}

impl Node {
    /// `args` and the database.
    fn with_ops<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        [args, &["--ops", &self.ops]].concat()
    }

    /// `args`, the database, the state folder and the config file.
    fn args(&self, args: &[&str]) -> Vec<String> {
        self.folder.args(&self.with_ops(args))
    }

    fn json(&self, args: &[&str]) -> Value {
        self.folder.json(&self.with_ops(args))
    }

    fn rows(&self, sql: &str) -> i64 {
        self.json(&["sql", "--json", sql])[0]["n"].as_i64().unwrap()
    }

    /// Serves, a follower trying for the lease every [`LEASE`] seconds, looking for new
    /// data every second.
    fn serve(&self) -> Server {
        let args = self.args(&["--lease-seconds", LEASE, "--refresh-seconds", "1"]);
        serve_with(
            self.folder.data(),
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        )
    }
}

#[test]
fn two_servers_share_sessions_and_one_leads_ingestion_until_it_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let weed = Weed::start(&dir.path().join("weed"));
    let database = TestDb::postgres();
    let node = |name: &str| Node {
        folder: weed.folder(&dir.path().join(name), "shop", false),
        ops: database.postgres_url().to_string(),
    };
    let (a, b) = (node("a"), node("b"));
    a.json(&["demo", "--customers", "2000", "--no-serve", "--json"]);
    let add = a.args(&[
        "user",
        "add",
        "--email",
        "ana@example.com",
        "--name",
        "Ana",
        "--role",
        "analyst",
        "--password-stdin",
    ]);
    let add: Vec<&str> = add.iter().map(String::as_str).collect();
    let added = with_stdin(a.folder.data(), &add, PASSWORD);
    assert!(added.status.success(), "{added:?}");
    let token = a.json(&[
        "token",
        "add",
        "--email",
        "ana@example.com",
        "--name",
        "t",
        "--scopes",
        "read,ingest",
        "--json",
    ])["token"]
        .as_str()
        .unwrap()
        .to_string();
    let before = a.rows(ROWS);

    let mut first = a.serve();
    until_leading(&first);
    let second = b.serve();
    let leader = follows(&second, &first);
    assert_eq!(metric(&first, "cxray_leader"), Some(1.0));
    assert_eq!(metric(&second, "cxray_leader"), Some(0.0));

    // A session begun on one server is good on the other: sessions live in PostgreSQL.
    let session = sign_in(&first.addr, "ana@example.com");
    let on_second = request(
        &second.addr,
        "GET",
        "/api/v1/tables",
        &[("Cookie", &session)],
        "",
    );
    assert_eq!(on_second.status, 200, "{}", on_second.body);

    // The leader accepts ingestion; the follower names it.
    let send = |server: &Server, key: &str| {
        post(
            &server.addr,
            "transactions",
            &token,
            Some(key),
            &batch(key, 50),
        )
        .unwrap()
    };
    assert_eq!(send(&first, "k1").0, 200);
    let refused = request(
        &second.addr,
        "POST",
        "/api/v1/ingest/transactions",
        &[("Authorization", &format!("Bearer {token}"))],
        &batch("k9", 1),
    );
    assert_eq!(refused.status, 503, "{}", refused.body);
    let body: Value = serde_json::from_str(&refused.body).unwrap();
    assert_eq!(body["leader"], leader.as_str(), "{body}");
    assert_eq!(refused.header("cxray-leader"), Some(leader.as_str()));
    assert!(refused.header("retry-after").is_some());

    // The follower's analyses see the leader's commit.
    wait(|| a.rows(ROWS) == before + 50, "the leader's commit");
    let tables = a.json(&["tables", "--json"]);
    let version = tables
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "transactions")
        .and_then(|t| t["version"].as_f64())
        .expect("the transactions table's version");
    let on_follower = "cxray_table_version{table=\"transactions\"}";
    wait(
        || metric(&second, on_follower) == Some(version),
        "the follower's snapshot of the new version",
    );

    // A batch acknowledged, then the leader killed before committing it: its rows wait in
    // the leader's write-ahead log.
    assert_eq!(send(&first, "k2").0, 200);
    assert!(!first.stop("KILL").success());
    let takeover = until_leading(&second);
    eprintln!("the follower led {takeover:?} after the leader was killed");
    assert!(takeover < Duration::from_secs(10), "{takeover:?}");
    // More batches than the killed server's log holds: its position is its own.
    for key in ["k3", "k4", "k5"] {
        assert_eq!(send(&second, key).0, 200);
    }
    // Not the killed server's batch, which waits in its log.
    wait(|| a.rows(ROWS) == before + 200, "the new leader's commit");

    // The killed server comes back as a follower and commits what it acknowledged, once.
    let first = a.serve();
    follows(&first, &second);
    assert_eq!(a.rows(ROWS), before + 250);
    let distinct =
        "SELECT count(DISTINCT order_id) AS n FROM transactions WHERE order_id LIKE 'k%'";
    assert_eq!(a.rows(distinct), 250);
    let again = send(&second, "k2");
    assert_eq!((again.0, &again.1["duplicate"]), (200, &true.into()));

    // The leader whose lease connection the database ends stops leading; the other leads.
    let (admin, ended_at) = (Conn::open(database.location()).unwrap(), Instant::now());
    let ended: i64 = admin
        .query_row(
            "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_locks
             WHERE locktype = 'advisory' AND objsubid = 1 AND objid = 7166902122 % 4294967296",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(ended, 1);
    wait(
        || health(&second)["leading"] == false,
        "the old leader stops",
    );
    let stopped = ended_at.elapsed();
    let led = stopped + until_leading(&first);
    eprintln!("the leader stopped {stopped:?} after its connection ended, the other led {led:?}");
    assert_eq!(send(&first, "k6").0, 200);
}

/// Waits up to two minutes (a debug build's analyses) for `done`.
fn wait(mut done: impl FnMut() -> bool, what: &str) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "never: {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
