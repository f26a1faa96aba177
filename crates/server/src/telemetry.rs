//! Request logs, `/metrics` and `/health`: every request is logged (method, route,
//! status, milliseconds) and counted per route and status with a latency histogram,
//! exposed in the Prometheus text format with the state of the background analyses and
//! ingestion's counters. Labels take bounded values only ([`Labels`]), so no client can
//! add series.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cxray_core::domain::Table;
use cxray_store::ingest::{Stats, TableStats};
use serde_json::json;

use crate::AppState;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct Series {
    count: u64,
    seconds: f64,
    /// Requests at or under each bucket's bound (cumulative, as Prometheus wants).
    buckets: [u64; BUCKETS.len()],
}

/// The methods counted by name; any other is `other`.
static METHODS: [Method; 9] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::DELETE,
    Method::PATCH,
    Method::OPTIONS,
    Method::TRACE,
    Method::CONNECT,
];

/// A request's labels, each from a bounded set: a known method or `other`, the matched
/// route's pattern or `unmatched`, a status code with a standard name or its class
/// (`4xx`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Labels {
    method: &'static str,
    route: String,
    status: String,
}

impl Labels {
    fn new(method: &Method, route: Option<&str>, status: StatusCode) -> Self {
        let method = METHODS
            .iter()
            .find(|m| *m == method)
            .map_or("other", Method::as_str);
        let status = match status.canonical_reason() {
            Some(_) => status.as_str().to_string(),
            None => format!("{}xx", status.as_u16() / 100),
        };
        Labels {
            method,
            route: route.unwrap_or("unmatched").to_string(),
            status,
        }
    }

    /// The labels in the Prometheus text format.
    fn text(&self) -> String {
        format!(
            "method=\"{}\",route=\"{}\",status=\"{}\"",
            self.method,
            label(&self.route),
            self.status
        )
    }
}

/// Request counts and latencies by [`Labels`].
#[derive(Default)]
pub struct Telemetry {
    requests: Mutex<BTreeMap<Labels, Series>>,
}

impl Telemetry {
    fn record(&self, labels: Labels, seconds: f64) {
        let mut all = self.requests.lock().expect("telemetry lock");
        let s = all.entry(labels).or_default();
        s.count += 1;
        s.seconds += seconds;
        for (bound, n) in BUCKETS.iter().zip(&mut s.buckets) {
            *n += u64::from(seconds <= *bound);
        }
    }

    /// The request series in the Prometheus text format.
    fn render(&self, out: &mut String) {
        let all = self.requests.lock().expect("telemetry lock");
        out.push_str("# HELP cxray_http_requests_total Requests served.\n# TYPE cxray_http_requests_total counter\n");
        for (labels, s) in all.iter() {
            let labels = labels.text();
            let _ = writeln!(out, "cxray_http_requests_total{{{labels}}} {}", s.count);
        }
        out.push_str("# HELP cxray_http_request_seconds Time to answer a request.\n# TYPE cxray_http_request_seconds histogram\n");
        for (labels, s) in all.iter() {
            let labels = labels.text();
            for (bound, n) in BUCKETS.iter().zip(&s.buckets) {
                let _ = writeln!(
                    out,
                    "cxray_http_request_seconds_bucket{{{labels},le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "cxray_http_request_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "cxray_http_request_seconds_sum{{{labels}}} {}",
                s.seconds
            );
            let _ = writeln!(
                out,
                "cxray_http_request_seconds_count{{{labels}}} {}",
                s.count
            );
        }
    }
}

/// A label value with `\` and `"` escaped.
fn label(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Middleware: logs and counts each request under its [`Labels`] (the route's pattern,
/// not its path, so ids do not multiply the series).
pub async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    let seconds = started.elapsed().as_secs_f64();
    let labels = Labels::new(
        &method,
        route.as_ref().map(MatchedPath::as_str),
        response.status(),
    );
    let Labels {
        method,
        route,
        status,
    } = &labels;
    tracing::info!(target: "cxray::http", %method, %route, %status, ms = seconds * 1000.0, "request");
    state.telemetry.record(labels, seconds);
    response
}

/// `GET /metrics`: request series and the background analyses' state (public, like
/// `/health`: no customer data).
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut out = String::new();
    state.telemetry.render(&mut out);
    if let Some(s) = state.snapshots.latest() {
        out.push_str("# HELP cxray_analyses_seconds Time the latest analyses took.\n# TYPE cxray_analyses_seconds gauge\n");
        let _ = writeln!(out, "cxray_analyses_seconds {}", s.seconds);
        out.push_str("# HELP cxray_table_version Delta version of each table analysed.\n# TYPE cxray_table_version gauge\n");
        for (table, version) in &s.versions {
            let _ = writeln!(
                out,
                "cxray_table_version{{table=\"{}\"}} {version}",
                label(table)
            );
        }
    }
    render_ingest(&state.ingest.stats(), &mut out);
    let _ = writeln!(
        out,
        "# HELP cxray_analyses_ready Whether analyses are ready.\n# TYPE cxray_analyses_ready gauge\ncxray_analyses_ready {}",
        u8::from(state.snapshots.latest().is_some())
    );
    let _ = writeln!(
        out,
        "# HELP cxray_leader Whether this server leads: accepts ingestion, writes in the background.\n# TYPE cxray_leader gauge\ncxray_leader {}",
        u8::from(state.leadership.leading())
    );
    (
        [("content-type", "text/plain; version=0.0.4; charset=utf-8")],
        out,
    )
}

/// Ingestion's counters in the Prometheus text format.
fn render_ingest(stats: &Stats, out: &mut String) {
    type Get = fn(&TableStats) -> u64;
    let series: [(&str, &str, Get); 4] = [
        (
            "cxray_ingest_rows_total",
            "Rows acknowledged by the ingestion API.",
            |s| s.rows,
        ),
        (
            "cxray_ingest_rejected_rows_total",
            "Invalid rows refused by the ingestion API.",
            |s| s.rejected_rows,
        ),
        (
            "cxray_ingest_commits_total",
            "Delta commits of ingested rows.",
            |s| s.commits,
        ),
        (
            "cxray_ingest_committed_rows_total",
            "Ingested rows committed to the tables.",
            |s| s.committed_rows,
        ),
    ];
    for (name, help, get) in series {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for (table, s) in &stats.tables {
            let _ = writeln!(out, "{name}{{table=\"{table}\"}} {}", get(s));
        }
    }
    let _ = writeln!(
        out,
        "# HELP cxray_ingest_wal_syncs_total Syncs of the ingestion write-ahead log.\n# TYPE cxray_ingest_wal_syncs_total counter\ncxray_ingest_wal_syncs_total {}",
        stats.wal_syncs
    );
}

/// `GET /health`: 200 with the version when the data folder's tables can be read, and
/// whether this server leads (accepts ingestion) and which does (its address).
pub async fn health(State(state): State<AppState>) -> Response {
    match cxray_store::tables::open(&state.folder, Table::Transactions, None).await {
        Ok(_) => Json(json!({
            "status": "ok",
            "version": env!("CARGO_PKG_VERSION"),
            "analyses_ready": state.snapshots.latest().is_some(),
            "leading": state.leadership.leading(),
            "leader": state.leadership.leader(),
        }))
        .into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "error": e.to_string()})),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative() {
        let t = Telemetry::default();
        let get = || Labels::new(&Method::GET, Some("/"), StatusCode::OK);
        t.record(get(), 0.003);
        t.record(get(), 0.2);
        let mut out = String::new();
        t.render(&mut out);
        assert!(
            out.contains("cxray_http_requests_total{method=\"GET\",route=\"/\",status=\"200\"} 2")
        );
        assert!(out.contains("le=\"0.005\"} 1"));
        assert!(out.contains("le=\"0.25\"} 2"));
        assert!(out.contains("le=\"+Inf\"} 2"));
    }

    #[test]
    fn labels_are_bounded() {
        let odd = Method::from_bytes(b"BREW").unwrap();
        let status = StatusCode::from_u16(599).unwrap();
        let l = Labels::new(&odd, None, status);
        assert_eq!(
            l.text(),
            "method=\"other\",route=\"unmatched\",status=\"5xx\""
        );
        let l = Labels::new(
            &Method::DELETE,
            Some("/owners/{owner}"),
            StatusCode::NOT_FOUND,
        );
        assert_eq!(
            l.text(),
            "method=\"DELETE\",route=\"/owners/{owner}\",status=\"404\""
        );
    }
}
