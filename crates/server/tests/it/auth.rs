//! Signing in and out, sessions, CSRF, API tokens and their scopes, and hostile input.

use std::time::Duration;

use cxray_core::access::{Role, Scope};
use cxray_store::accounts::NewUser;

use cxray_server::ServerOptions;

use crate::{Reply, Server, form};

pub const PASSWORD: &str = "a long enough passphrase";

pub fn add(server: &Server, email: &str, role: Role, owner_id: Option<&str>) {
    let user = NewUser {
        email,
        name: "Ada Lovelace",
        role,
        owner_id,
        password: PASSWORD,
    };
    server.ops().add_user("test", &user).unwrap();
}

/// The sign-in form's token and its cookie, as a browser would get them.
pub fn login_form(server: &Server, next: &str) -> (Reply, String, String) {
    let page = server.get(&format!("/login?next={next}"), &[]);
    assert_eq!(page.status, 200, "{}", page.body);
    let cookie = page.cookie("cxray_login").expect("form cookie");
    let csrf = hidden(&page.body, "csrf");
    (page, cookie, csrf)
}

/// The value of the hidden form field `name`.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("{html}")) + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

/// Posts the sign-in form with a valid form token.
pub fn sign_in_as(server: &Server, email: &str, password: &str, next: &str) -> Reply {
    let (_, cookie, csrf) = login_form(server, "/");
    sign_in_with(server, (&cookie, &csrf), (email, password), next, &[])
}

/// Posts the sign-in form with its form token and cookie, and extra headers.
pub fn sign_in_with(
    server: &Server,
    (cookie, csrf): (&str, &str),
    (email, password): (&str, &str),
    next: &str,
    headers: &[(&str, &str)],
) -> Reply {
    let body = form(&[
        ("email", email),
        ("password", password),
        ("csrf", csrf),
        ("next", next),
    ]);
    let cookie = format!("cxray_login={cookie}");
    let mut all = vec![("Cookie", cookie.as_str())];
    all.extend_from_slice(headers);
    server.request("POST", "/login", &all, Some(&body))
}

pub fn session_cookie(reply: &Reply) -> String {
    assert_eq!(reply.status, 303, "{}", reply.body);
    format!("cxray_session={}", reply.cookie("cxray_session").unwrap())
}

pub fn audit_actions(server: &Server) -> Vec<String> {
    let entries = server.ops().recent_audit(100).unwrap();
    entries.into_iter().rev().map(|e| e.action).collect()
}

#[test]
fn a_wrong_password_is_refused_and_audited_the_right_one_signs_in() {
    let server = Server::start();
    add(&server, "ada@example.com", Role::Analyst, None);

    let wrong = sign_in_as(&server, "ada@example.com", "not the passphrase", "/");
    assert_eq!(wrong.status, 401);
    assert!(
        wrong.body.contains("Wrong email or password."),
        "{}",
        wrong.body
    );
    assert!(wrong.set_cookie("cxray_session").is_none());
    let last = &server.ops().recent_audit(1).unwrap()[0];
    assert_eq!(
        (
            last.actor.as_str(),
            last.action.as_str(),
            last.detail.as_str()
        ),
        ("web:ada@example.com", "login_failed", "from 127.0.0.1")
    );

    let right = sign_in_as(&server, "Ada@Example.com", PASSWORD, "/");
    assert_eq!(right.status, 303);
    assert_eq!(right.header("location"), Some("/"));
    let set = right.set_cookie("cxray_session").unwrap();
    assert!(
        set.contains("; HttpOnly") && set.contains("; SameSite=Strict"),
        "{set}"
    );
    assert!(set.contains("; Path=/;"), "{set}");
    assert!(!set.contains("Secure"), "plain http on loopback: {set}");
    assert_eq!(
        audit_actions(&server),
        ["add_user", "login_failed", "login"]
    );

    let me = server.get("/api/v1/me", &[("Cookie", &session_cookie(&right))]);
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json()["email"], "ada@example.com");
    assert_eq!(me.json()["role"], "analyst");
}

#[test]
fn x_forwarded_proto_counts_only_from_a_trusted_proxy() {
    let proxy = vec!["127.0.0.1".parse().unwrap()];
    for (trusted_proxies, secure) in [(vec![], false), (proxy, true)] {
        let options = ServerOptions {
            trusted_proxies,
            ..ServerOptions::default()
        };
        let server = Server::start_with(options);
        add(&server, "ada@example.com", Role::Analyst, None);
        let https = [("X-Forwarded-Proto", "https")];
        let page = server.get("/login", &https);
        let (cookie, csrf) = (
            page.cookie("cxray_login").unwrap(),
            hidden(&page.body, "csrf"),
        );
        let attempt = ("ada@example.com", PASSWORD);
        let signed_in = sign_in_with(&server, (&cookie, &csrf), attempt, "/", &https);
        for set in [
            page.set_cookie("cxray_login").unwrap(),
            signed_in.set_cookie("cxray_session").unwrap(),
        ] {
            assert_eq!(set.ends_with("; Secure"), secure, "{set}");
        }
    }
}

#[test]
fn sign_in_is_rate_limited_after_repeated_failures() {
    let server = Server::start();
    add(&server, "ada@example.com", Role::Analyst, None);
    for _ in 0..5 {
        let r = sign_in_as(&server, "ada@example.com", "guess guess guess", "/");
        assert_eq!(r.status, 401);
    }
    let limited = sign_in_as(&server, "ada@example.com", PASSWORD, "/");
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert_eq!(limited.header("retry-after"), Some("900"));
    assert!(
        limited.body.contains("Too many failed sign-ins"),
        "{}",
        limited.body
    );
    assert!(limited.set_cookie("cxray_session").is_none());
    assert_eq!(audit_actions(&server).last().unwrap(), "login_refused");
}

#[test]
fn an_expired_session_leads_to_sign_in() {
    let server = Server::start();
    add(&server, "ada@example.com", Role::Admin, None);
    let db = server.ops();
    let id = db.users().unwrap()[0].id;
    let expired = db.create_session(id, Duration::ZERO).unwrap();
    let live = db.create_session(id, Duration::from_secs(60)).unwrap();

    let cookie = format!("cxray_session={}", expired.token);
    let page = server.get("/", &[("Cookie", &cookie)]);
    assert_eq!(page.status, 303);
    assert_eq!(page.header("location"), Some("/login?next=/"));
    let api = server.get("/api/v1/me", &[("Cookie", &cookie)]);
    assert_eq!(api.status, 401);
    assert!(api.json()["error"].as_str().unwrap().contains("sign in"));

    let cookie = format!("cxray_session={}", live.token);
    assert_eq!(server.get("/api/v1/me", &[("Cookie", &cookie)]).status, 200);
    assert_eq!(server.get("/api/v1/me", &[]).status, 401);
}

#[test]
fn form_posts_need_their_csrf_token() {
    let server = Server::start();
    add(&server, "ada@example.com", Role::Analyst, None);
    let cookie = session_cookie(&sign_in_as(&server, "ada@example.com", PASSWORD, "/"));
    let token = cookie.trim_start_matches("cxray_session=");
    let csrf = server.ops().session_user(token).unwrap().unwrap().csrf;
    let headers = [("Cookie", cookie.as_str())];

    for body in ["", "csrf=", "csrf=0123abcd"] {
        let r = server.request("POST", "/logout", &headers, Some(body));
        assert_eq!(r.status, 403, "{body}: {}", r.body);
        assert!(r.body.contains("security token"), "{}", r.body);
    }
    assert_eq!(
        server.get("/api/v1/me", &headers).status,
        200,
        "still signed in"
    );

    let out = server.request("POST", "/logout", &headers, Some(&form(&[("csrf", &csrf)])));
    assert_eq!(out.status, 303);
    assert_eq!(out.header("location"), Some("/login"));
    assert!(
        out.set_cookie("cxray_session")
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(server.get("/api/v1/me", &headers).status, 401, "signed out");

    // The sign-in form itself: its token must match the form's cookie.
    let (_, login_cookie, login_csrf) = login_form(&server, "/");
    let fields = [
        ("email", "ada@example.com"),
        ("password", PASSWORD),
        ("csrf", login_csrf.as_str()),
    ];
    let no_cookie = server.request("POST", "/login", &[], Some(&form(&fields)));
    assert_eq!(no_cookie.status, 403);
    let other = format!("cxray_login={}", "f".repeat(login_cookie.len()));
    let mismatch = server.request(
        "POST",
        "/login",
        &[("Cookie", &other)],
        Some(&form(&fields)),
    );
    assert_eq!(mismatch.status, 403);
    assert!(mismatch.set_cookie("cxray_session").is_none());
}

#[test]
fn api_tokens_need_the_right_scope() {
    let server = Server::start();
    add(&server, "ada@example.com", Role::Analyst, None);
    let db = server.ops();
    let ingest = db
        .create_api_token("test", "ada@example.com", "loader", &[Scope::Ingest])
        .unwrap();
    let read = db
        .create_api_token("test", "ada@example.com", "reader", &[Scope::Read])
        .unwrap();
    let bearer = |t: &str| format!("Bearer {t}");

    let r = server.get("/api/v1/me", &[("Authorization", &bearer(&ingest.token))]);
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"], "this API token lacks the read scope");

    let r = server.get("/api/v1/me", &[("Authorization", &bearer(&read.token))]);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["scopes"], serde_json::json!(["read"]));

    db.revoke_api_token("test", read.id).unwrap();
    let r = server.get("/api/v1/me", &[("Authorization", &bearer(&read.token))]);
    assert_eq!(r.status, 401);
    let r = server.get("/api/v1/me", &[("Authorization", "Bearer cxr_forged")]);
    assert_eq!(r.status, 401);
}

#[test]
fn a_partner_is_tied_to_their_owner() {
    let server = Server::start();
    add(
        &server,
        "gate@airport.example",
        Role::Partner,
        Some("airport"),
    );
    let cookie = session_cookie(&sign_in_as(&server, "gate@airport.example", PASSWORD, "/"));
    let me = server.get("/api/v1/me", &[("Cookie", &cookie)]).json();
    assert_eq!(me["role"], "partner");
    assert_eq!(me["owner_id"], "airport");
    assert_eq!(me["scopes"], serde_json::Value::Null);
}

#[test]
fn script_and_sql_in_the_sign_in_form_are_refused_and_escaped() {
    let server = Server::start();
    add(&server, "ada@example.com", Role::Admin, None);
    for (attempt, echoed) in [
        (
            "<script>alert(1)</script>",
            "&lt;script&gt;alert(1)&lt;/script&gt;",
        ),
        ("' OR 1=1 --", "&#39; OR 1=1 --"),
        ("ada@example.com' --", "ada@example.com&#39; --"),
    ] {
        let r = sign_in_as(&server, attempt, "' OR '1'='1", "/");
        assert_eq!(r.status, 401, "{attempt}");
        assert!(
            r.body.contains(&format!("value=\"{echoed}\"")),
            "{}",
            r.body
        );
        assert!(!r.body.contains(attempt), "{attempt} echoed unescaped");
        assert!(r.set_cookie("cxray_session").is_none());
    }
    // The attempts were stored as plain text, and nothing else changed.
    let db = server.ops();
    assert_eq!(db.users().unwrap().len(), 1);
    let actors: Vec<String> = db
        .recent_audit(3)
        .unwrap()
        .into_iter()
        .map(|e| e.actor)
        .collect();
    assert_eq!(actors[2], "web:<script>alert(1)</script>");
    assert_eq!(
        sign_in_as(&server, "ada@example.com", PASSWORD, "/").status,
        303
    );
}

#[test]
fn sign_in_never_leads_off_site() {
    let server = Server::start();
    add(&server, "ada@example.com", Role::Admin, None);
    let (page, _, _) = login_form(&server, "//evil.example");
    assert_eq!(hidden(&page.body, "next"), "/");
    for (next, to) in [
        ("//evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/journey?x=1", "/journey?x=1"),
    ] {
        let r = sign_in_as(&server, "ada@example.com", PASSWORD, next);
        assert_eq!(r.header("location"), Some(to), "{next}");
    }
}

#[test]
fn every_response_has_the_security_headers() {
    let server = Server::start();
    for path in ["/login", "/", "/api/v1/me"] {
        let r = server.get(path, &[]);
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(r.header("referrer-policy"), Some("same-origin"), "{path}");
    }
}
