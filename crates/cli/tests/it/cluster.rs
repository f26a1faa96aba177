//! The queries on an Apache DataFusion Ballista cluster (`--engine ballista://…`): a
//! scheduler and two executors (`cxray cluster …`) on loopback, over a data folder on
//! SeaweedFS. The commands and the server have the store's credentials in their config
//! file, the cluster's processes in their environment only. Every analysis, on the
//! command line and in the server's API, gives what the embedded engine gives, both
//! executors run tasks, and an unreachable scheduler is one clear line.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::api;
use crate::browser::wait_ready;
use crate::demo::read_token;
use crate::object_store::{KEY, S3Folder, SECRET, Weed, comparable, same};
use crate::schedules::free_port;
use crate::server::serve_with;

/// The analyses compared, each run with `--json`.
const ANALYSES: &[&[&str]] = &[
    &[
        "sql",
        "SELECT segment, count(*) AS n FROM customers GROUP BY segment ORDER BY segment",
    ],
    &["tables"],
    &["metrics", "nps", "--by", "touchpoint"],
    &["metrics", "grade", "--by", "quarter"],
    &[
        "compare",
        "nps",
        "--a",
        "segment = 'business'",
        "--b",
        "segment <> 'business'",
    ],
    &["journey"],
    &["areas"],
    &["owner", "nordground"],
    &["link"],
    &["drivers", "--outcome", "defection", "--resamples", "5"],
    &["scorecard"],
    &["loyalty", "fit", "--model", "bgnbd"],
    &["loyalty", "retention"],
    &["survey", "rates", "--by", "channel"],
    &["text", "sentiment"],
    &["cases", "effect"],
];

/// The API's routes compared.
const ROUTES: &[&str] = &[
    "scorecard",
    "journey",
    "areas",
    "link",
    "drivers",
    "owners/nordground",
    "text/sentiment",
];

/// A process of the cluster, killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A process of the cluster with the store's credentials in its environment.
fn spawn(s3: &S3Folder, endpoint: &str, args: &[&str], log: &Path) -> Process {
    let log = std::fs::File::create(log).unwrap();
    let child = s3
        .command(args)
        .env("AWS_ACCESS_KEY_ID", KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ALLOW_HTTP", "true")
        .env("CXRAY_LOG", "info")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    Process(child)
}

fn wait_for_port(port: u16, log: &Path) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "nothing listens on {port}: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Asserts that the approximate percentiles of waits (`wait_p50_seconds`, …; t-digests,
/// whose merged result depends on how the rows were split) agree to 1% wherever both
/// have them; [`comparable`] leaves out every key ending in `seconds`, so the rest is
/// compared exactly.
fn percentiles_close(a: &Value, b: &Value, at: &str) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                let Some(w) = y.get(k) else { continue };
                if let (true, Some(p), Some(q)) = (k.starts_with("wait_p"), v.as_f64(), w.as_f64())
                {
                    let close = (p - q).abs() <= 0.01 * p.abs().max(q.abs()).max(1.0);
                    assert!(close, "{at}.{k}: {p} and {q} differ by more than 1%");
                }
                percentiles_close(v, w, &format!("{at}.{k}"));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                percentiles_close(v, w, &format!("{at}[{i}]"));
            }
        }
        _ => {}
    }
}

/// The folders in an executor's work folder: one per job it ran tasks of.
fn jobs(work: &Path) -> usize {
    std::fs::read_dir(work).map_or(0, |d| d.count())
}

#[test]
fn every_analysis_on_a_cluster_gives_what_the_embedded_engine_gives() {
    let dir = tempfile::tempdir().unwrap();
    let weed = Weed::start(&dir.path().join("weed"));
    let s3 = weed.folder(&dir.path().join("s3"), "airline", false);
    let endpoint = weed.endpoint();
    s3.json(&["demo", "--customers", "2000", "--no-serve", "--json"]);

    let port = free_port();
    let scheduler_log = dir.path().join("scheduler.log");
    let bind = format!("127.0.0.1:{port}");
    let scheduler = spawn(
        &s3,
        &endpoint,
        &["cluster", "scheduler", "--bind", &bind],
        &scheduler_log,
    );
    wait_for_port(port, &scheduler_log);
    let executors: Vec<(Process, PathBuf)> = (0..2)
        .map(|i| {
            let (data, grpc) = (free_port(), free_port());
            let work = dir.path().join(format!("executor-{i}"));
            let log = dir.path().join(format!("executor-{i}.log"));
            let args = [
                "cluster",
                "executor",
                "--scheduler",
                &bind,
                "--port",
                &data.to_string(),
                "--grpc-port",
                &grpc.to_string(),
                "--cores",
                "1",
                "--work-dir",
                work.to_str().unwrap(),
            ];
            let process = spawn(&s3, &endpoint, &args, &log);
            wait_for_port(data, &log);
            (process, work)
        })
        .collect();

    let engine = format!("ballista://{bind}");
    // The trips, built again on the cluster: its queries' results stream back into the
    // derived data of this node.
    let embedded = s3.json(&["journey", "--json"]);
    let derived = s3.state.join("derived");
    std::fs::remove_dir_all(&derived).unwrap();
    let cluster = s3.json(&["journey", "--json", "--engine", &engine]);
    assert!(derived.join("journey").is_dir(), "no trips built");
    percentiles_close(&embedded, &cluster, "journey, built on the cluster");
    same(
        &comparable(embedded),
        &comparable(cluster),
        "journey, built on the cluster",
    );
    for analysis in ANALYSES {
        let embedded = s3.json(&[analysis, &["--json"][..]].concat());
        let cluster = s3.json(&[analysis, &["--json", "--engine", &engine][..]].concat());
        let what = analysis.join(" ");
        percentiles_close(&embedded, &cluster, &what);
        same(&comparable(embedded), &comparable(cluster), &what);
    }
    let token = s3.json(&read_token("admin@demo.invalid"))["token"]
        .as_str()
        .unwrap()
        .to_string();
    let answers = |engine: &[&str]| -> Vec<Value> {
        let args = s3.args(engine);
        let server = serve_with(
            s3.data(),
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        wait_ready(&server, &token);
        ROUTES
            .iter()
            .map(|route| {
                let path = format!("/api/v1/{route}");
                let (status, body) = api(&server.addr, &path, &token);
                assert_eq!(status, 200, "{path}: {body}");
                body
            })
            .collect()
    };
    let embedded = answers(&[]);
    let submitted = || {
        let log = std::fs::read_to_string(&scheduler_log).unwrap();
        log.matches("Job submitted").count()
    };
    let before = submitted();
    let cluster = answers(&["--engine", &engine]);
    assert!(
        submitted() > before,
        "the server sent the scheduler no query"
    );
    for ((route, e), c) in ROUTES.iter().zip(&embedded).zip(&cluster) {
        percentiles_close(e, c, route);
        same(&comparable(e.clone()), &comparable(c.clone()), route);
    }
    for (i, (_, work)) in executors.iter().enumerate() {
        assert!(
            jobs(work) > 0,
            "executor {i} ran no task: {}",
            std::fs::read_to_string(dir.path().join(format!("executor-{i}.log"))).unwrap()
        );
    }

    drop(executors);
    drop(scheduler);
    let out = s3.run(&["metrics", "nps", "--json", "--engine", &engine]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("cannot reach the scheduler of engine {engine}")),
        "{stderr}"
    );
}
