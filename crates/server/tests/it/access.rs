//! Access control and sign-in limits: token scopes on every page, concurrent wrong
//! passwords, and whose `X-Forwarded-For` counts.

use std::sync::Barrier;

use cxray_core::access::{Role, Scope};
use cxray_server::ServerOptions;
use cxray_store::accounts::{MAX_FAILURES_PER_ADDRESS, MAX_FAILURES_PER_EMAIL};

use crate::auth::{PASSWORD, add, audit_actions, login_form, sign_in_with};
use crate::{ROUTES, Server};

/// The routes that are not for reading data.
const NOT_READING: [&str; 9] = [
    "/api/v1/openapi.json",
    "/api/v1/ingest/{table}",
    "/s/{token}",
    "/s/{token}/unsubscribe",
    "/s/open/{public_id}",
    "/login",
    "/logout",
    "/health",
    "/metrics",
];

/// Every page and every reading API route, with an owner and a customer filled in.
fn reading_paths() -> Vec<String> {
    ROUTES
        .iter()
        .filter(|r| !NOT_READING.contains(r))
        .map(|r| {
            r.replace("{owner}", "airport")
                .replace("{customer}", "c1")
                .replace("{id}", "1")
        })
        .collect()
}

#[test]
fn a_token_without_the_read_scope_reads_no_page_and_no_api() {
    let server = Server::initialised();
    add(&server, "ada@example.com", Role::Admin, None);
    let db = server.ops();
    let token = |scopes: &[Scope]| {
        let t = db.create_api_token("test", "ada@example.com", "t", scopes);
        format!("Bearer {}", t.unwrap().token)
    };
    let (ingest, read) = (token(&[Scope::Ingest]), token(&[Scope::Read]));

    let paths = reading_paths();
    assert_eq!(paths.len(), 64, "{paths:?}");
    for path in &paths {
        let r = server.get(path, &[("Authorization", &ingest)]);
        assert_eq!(r.status, 403, "{path}: {}", r.body);
        let refusal = "this API token lacks the read scope";
        match path.starts_with("/api/") {
            true => assert_eq!(r.json()["error"], refusal),
            false => assert!(r.body.contains(refusal), "{path}: {}", r.body),
        }
        let r = server.get(path, &[("Authorization", &read)]);
        assert!(![401, 403, 303].contains(&r.status), "{path}: {r:?}");
    }
    // The public routes stay public, and the ingest token still ingests.
    for path in ["/health", "/metrics", "/api/v1/openapi.json", "/login"] {
        assert_eq!(server.get(path, &[]).status, 200, "{path}");
    }
    let auth = [("Authorization", ingest.as_str())];
    let row = r#"{"customer_id": "c1"}"#;
    let r = server.request("POST", "/api/v1/ingest/customers", &auth, Some(row));
    assert_eq!(r.status, 200, "{}", r.body);
}

/// Sends `attempts` sign-ins at once, each with its own form, and returns the statuses.
fn at_once(server: &Server, attempts: usize, email: &str, password: &str) -> Vec<u16> {
    let forms: Vec<_> = (0..attempts)
        .map(|_| login_form(server, "/"))
        .map(|(_, cookie, csrf)| (cookie, csrf))
        .collect();
    let start = Barrier::new(attempts);
    std::thread::scope(|s| {
        let sent: Vec<_> = forms
            .iter()
            .map(|(cookie, csrf)| {
                let start = &start;
                s.spawn(move || {
                    start.wait();
                    let form = (cookie.as_str(), csrf.as_str());
                    sign_in_with(server, form, (email, password), "/", &[]).status
                })
            })
            .collect();
        sent.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn concurrent_wrong_passwords_get_at_most_the_limit_of_password_checks() {
    let server = Server::start();
    add(&server, "ada@example.com", Role::Analyst, None);
    let attempts = 16;
    let statuses = at_once(&server, attempts, "ada@example.com", "not the passphrase");

    let limit = MAX_FAILURES_PER_EMAIL as usize;
    let count = |status: u16| statuses.iter().filter(|&&s| s == status).count();
    assert_eq!(count(401), limit, "{statuses:?}");
    assert_eq!(count(429), attempts - limit, "{statuses:?}");
    let actions = audit_actions(&server);
    let audited = |action: &str| actions.iter().filter(|a| *a == action).count();
    assert_eq!(audited("login_failed"), limit);
    assert_eq!(audited("login_refused"), attempts - limit);
    // The right password is refused too until the window passes.
    let (_, cookie, csrf) = login_form(&server, "/");
    let right = ("ada@example.com", PASSWORD);
    let r = sign_in_with(&server, (&cookie, &csrf), right, "/", &[]);
    assert_eq!(r.status, 429);
}

#[test]
fn an_untrusted_peer_cannot_choose_its_rate_limit_address() {
    let server = Server::start();
    for i in 0..MAX_FAILURES_PER_ADDRESS {
        let (_, cookie, csrf) = login_form(&server, "/");
        let email = format!("guess{i}@example.com");
        let forwarded = format!("203.0.113.{i}");
        let headers = [("X-Forwarded-For", forwarded.as_str())];
        let r = sign_in_with(&server, (&cookie, &csrf), (&email, "wrong"), "/", &headers);
        assert_eq!(r.status, 401, "attempt {i}");
    }
    let details: Vec<String> = server
        .ops()
        .recent_audit(100)
        .unwrap()
        .into_iter()
        .map(|e| e.detail)
        .collect();
    assert!(details.iter().all(|d| d == "from 127.0.0.1"), "{details:?}");
    let (_, cookie, csrf) = login_form(&server, "/");
    let headers = [("X-Forwarded-For", "198.51.100.1")];
    let fresh = ("someone@example.com", "wrong");
    let r = sign_in_with(&server, (&cookie, &csrf), fresh, "/", &headers);
    assert_eq!(r.status, 429, "the peer's own address is limited");
}

#[test]
fn a_trusted_proxy_names_the_client() {
    let options = ServerOptions {
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..ServerOptions::default()
    };
    let server = Server::start_with(options);
    for (forwarded, client) in [
        ("203.0.113.9", "203.0.113.9"),
        ("198.51.100.1, 203.0.113.9", "203.0.113.9"),
        ("203.0.113.9, 127.0.0.1", "203.0.113.9"),
        ("not an address", "127.0.0.1"),
    ] {
        let (_, cookie, csrf) = login_form(&server, "/");
        let headers = [("X-Forwarded-For", forwarded)];
        let attempt = ("ada@example.com", "wrong");
        let r = sign_in_with(&server, (&cookie, &csrf), attempt, "/", &headers);
        assert_eq!(r.status, 401);
        let last = &server.ops().recent_audit(1).unwrap()[0];
        assert_eq!(last.detail, format!("from {client}"), "{forwarded}");
    }
}
