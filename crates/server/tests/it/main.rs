//! End-to-end tests of the server: the real router on loopback, a real operational
//! database, requests over plain TCP.

mod access;
mod admin;
mod auth;
mod bad_filters;
mod cases;
mod comments;
mod groups;
mod initiatives;
mod metrics;
mod survey_page;
mod surveys;
mod webhooks;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use cxray_server::ServerOptions;
use cxray_store::DataFolder;
use cxray_store::ops::OpsDb;

/// Every route pattern of the server.
pub const ROUTES: [&str; 73] = [
    "/",
    "/link",
    "/journey",
    "/areas",
    "/drivers",
    "/owners",
    "/owners/{owner}",
    "/cases",
    "/cases/effect",
    "/cases/{id}",
    "/surveys",
    "/comments",
    "/initiatives",
    "/initiatives/{id}",
    "/whatif",
    "/customers",
    "/data",
    "/admin",
    "/admin/users",
    "/admin/users/disable",
    "/admin/users/password",
    "/admin/tokens",
    "/admin/tokens/revoke",
    "/admin/targets",
    "/admin/targets/remove",
    "/admin/service-levels",
    "/admin/service-levels/remove",
    "/admin/placements",
    "/admin/placements/remove",
    "/admin/report-schedules",
    "/admin/report-schedules/remove",
    "/admin/rules",
    "/admin/rules/disable",
    "/admin/surveys",
    "/admin/surveys/rules",
    "/admin/surveys/policy",
    "/api/v1/openapi.json",
    "/api/v1/scorecard",
    "/api/v1/link",
    "/api/v1/respondents",
    "/api/v1/journey",
    "/api/v1/areas",
    "/api/v1/drivers",
    "/api/v1/owners/{owner}",
    "/api/v1/customers/{customer}",
    "/api/v1/customers/{customer}/contacts",
    "/api/v1/tables",
    "/api/v1/targets",
    "/api/v1/cases",
    "/api/v1/cases/causes",
    "/api/v1/cases/{id}",
    "/api/v1/surveys",
    "/api/v1/surveys/{id}",
    "/api/v1/surveys/{id}/rules",
    "/api/v1/survey-policy",
    "/api/v1/survey-rates",
    "/api/v1/initiatives",
    "/api/v1/initiatives/{id}",
    "/api/v1/initiatives/{id}/effect",
    "/api/v1/whatif",
    "/api/v1/text/sentiment",
    "/api/v1/text/topics",
    "/api/v1/text/terms",
    "/api/v1/text/examples",
    "/api/v1/me",
    "/api/v1/ingest/{table}",
    "/s/{token}",
    "/s/{token}/unsubscribe",
    "/s/open/{public_id}",
    "/login",
    "/logout",
    "/health",
    "/metrics",
];

/// Writes the demo airline with `customers` customers into `folder`'s fresh tables.
pub async fn airline(folder: &DataFolder, customers: u64) {
    cxray_store::tables::create_all(folder).await.unwrap();
    let world = cxray_core::world::World::airline();
    cxray_analysis::world::build(folder, world, customers, 1, |_| {})
        .await
        .unwrap();
}

/// A server on a free loopback port over a fresh data folder; stopped on drop.
pub struct Server {
    pub addr: SocketAddr,
    data: PathBuf,
    _dir: tempfile::TempDir,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(ServerOptions::default())
    }

    /// A server over empty tables (as after `cxray init`).
    pub fn initialised() -> Server {
        Server::initialised_with(ServerOptions::default())
    }

    /// A server over the demo airline with `customers` customers.
    pub fn demo(customers: u64) -> Server {
        Server::launch(ServerOptions::default(), |runtime, folder| {
            let world = cxray_core::world::World::airline();
            runtime.block_on(async {
                cxray_store::tables::create_all(folder).await.unwrap();
                let build = cxray_analysis::world::build(folder, world, customers, 1, |_| {});
                build.await.unwrap();
            });
        })
    }

    /// A server with `options`, analyses refreshed only at the start.
    pub fn start_with(options: ServerOptions) -> Server {
        Server::launch(options, |_, _| {})
    }

    /// A server over empty tables (as after `cxray init`) with `options`.
    pub fn initialised_with(options: ServerOptions) -> Server {
        Server::launch(options, |runtime, folder| {
            runtime
                .block_on(cxray_store::tables::create_all(folder))
                .unwrap();
        })
    }

    /// Stops the server at once, as a crash would (nothing flushed, no task finished), lets
    /// `meanwhile` change its data folder, and starts it again over the same folder.
    pub fn crash_and_restart(
        mut self,
        options: ServerOptions,
        meanwhile: impl FnOnce(&DataFolder),
    ) -> Server {
        self.runtime.take().unwrap().shutdown_background();
        let folder = DataFolder::open(&self.data).unwrap();
        // The stopped server's ingestion lets go of the folder's lock when its last task
        // is dropped.
        let lock = folder.wal_dir().join("LOCK");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::fs::File::open(&lock).unwrap().try_lock().is_err() {
            assert!(
                Instant::now() < deadline,
                "the stopped server holds its lock"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        meanwhile(&folder);
        let dir = std::mem::replace(&mut self._dir, tempfile::tempdir().unwrap());
        Server::launch_in(dir, options, |_, _| {})
    }

    /// The data folder the server serves.
    pub fn folder(&self) -> DataFolder {
        DataFolder::open(&self.data).unwrap()
    }

    /// A server with `options` over a fresh data folder that `fill` writes first.
    fn launch(
        options: ServerOptions,
        fill: impl FnOnce(&tokio::runtime::Runtime, &DataFolder),
    ) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let (_, _) = DataFolder::create(dir.path().join("data")).unwrap();
        Server::launch_in(dir, options, fill)
    }

    /// A server with `options` over the data folder `data` in `dir`, `fill` run first.
    fn launch_in(
        dir: tempfile::TempDir,
        options: ServerOptions,
        fill: impl FnOnce(&tokio::runtime::Runtime, &DataFolder),
    ) -> Server {
        let data = dir.path().join("data");
        let folder = DataFolder::open(&data).unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        fill(&runtime, &folder);
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let options = ServerOptions {
            refresh_every: Duration::from_secs(3600),
            ..options
        };
        let serve = cxray_server::serve(listener, folder, options, std::future::pending());
        runtime.spawn(async move {
            // A test's requests then fail with "connection refused": say why.
            if let Err(e) = serve.await {
                eprintln!("the server stopped: {e}");
            }
        });
        Server {
            addr,
            data,
            _dir: dir,
            runtime: Some(runtime),
        }
    }

    /// The operational database the server uses.
    pub fn ops(&self) -> OpsDb {
        OpsDb::open(&self.data.join("cxray.db")).unwrap()
    }

    /// Sends a request; `body` is sent as a form.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Reply {
        let mut s = TcpStream::connect(self.addr).unwrap();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.addr
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        let body = body.unwrap_or("");
        if method == "POST" {
            head.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        write!(s, "{head}\r\n{body}").unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).unwrap();
        Reply::parse(&raw)
    }

    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.request("GET", path, headers, None)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(r) = self.runtime.take() {
            r.shutdown_background();
        }
    }
}

/// A response: status, headers (names in lower case) and body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    fn parse(raw: &str) -> Reply {
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
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

    /// The first header called `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.all(name).into_iter().next()
    }

    /// Every header called `name` (lower case).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The `Set-Cookie` header for cookie `name`.
    pub fn set_cookie(&self, name: &str) -> Option<&str> {
        self.all("set-cookie")
            .into_iter()
            .find(|c| c.starts_with(&format!("{name}=")))
    }

    /// The value `Set-Cookie` gives cookie `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let c = self.set_cookie(name)?;
        Some(c[name.len() + 1..].split(';').next().unwrap().to_string())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// Asks until the analyses for `path` are computed (not 503), for at most five minutes.
pub fn computed(server: &Server, path: &str, auth: &str) -> Reply {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let r = server.get(path, &[("Authorization", auth)]);
        if r.status != 503 || Instant::now() > deadline {
            return r;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Form fields, URL-encoded.
pub fn form(fields: &[(&str, &str)]) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}
