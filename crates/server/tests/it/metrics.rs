//! `/metrics` under arbitrary requests: no client can add series.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::{ROUTES, Server};

/// The method labels: the standard methods and `other`.
const METHODS: [&str; 10] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "other",
];

/// The `(method, route, status)` labels of every request series.
fn series(server: &Server) -> Vec<(String, String, String)> {
    let r = server.get("/metrics", &[]);
    assert_eq!(r.status, 200);
    let prefix = "cxray_http_requests_total{";
    r.body
        .lines()
        .filter_map(|l| l.strip_prefix(prefix)?.rsplit_once("} "))
        .map(|(labels, _)| {
            let value = |name: &str| {
                let start = labels.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                labels[start..].split('"').next().unwrap().to_string()
            };
            (value("method"), value("route"), value("status"))
        })
        .collect()
}

fn bounded((method, route, status): &(String, String, String)) -> bool {
    let status_ok =
        status.len() == 3 && (status.bytes().all(|b| b.is_ascii_digit()) || status.ends_with("xx"));
    let route_ok = route == "unmatched" || ROUTES.contains(&route.as_str());
    METHODS.contains(&method.as_str()) && route_ok && status_ok
}

#[test]
fn arbitrary_methods_and_paths_add_no_series() {
    let server = Server::start();
    // Any token is a method to HTTP; CONNECT asks for a tunnel instead.
    let method = "[!#$%&'*+.^_`|~0-9A-Za-z-]{1,16}".prop_filter("no tunnel", |m| m != "CONNECT");
    let path = "(/|/owners/|/api/v1/customers/|/api/v1/ingest/|/login/|/metrics)[A-Za-z0-9._~-]{0,12}(/[A-Za-z0-9._~-]{0,8})?";
    let mut runner = TestRunner::new(Config {
        cases: 200,
        ..Config::default()
    });
    runner
        .run(&(method, path), |(method, path)| {
            let r = server.request(&method, &path, &[], None);
            prop_assert!(r.status >= 200, "{method} {path}: {}", r.status);
            let all = series(&server);
            let odd: Vec<_> = all.iter().filter(|s| !bounded(s)).collect();
            prop_assert!(odd.is_empty(), "{method} {path}: {odd:?}");
            Ok(())
        })
        .unwrap();
    let all = series(&server);
    assert!(all.len() < 60, "{} series: {all:?}", all.len());
}
