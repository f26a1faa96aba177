//! Web administration through its forms, as a browser would use them: each change is
//! visible to the store's operations (what the CLI reads) and audited; bad values are
//! refused next to their field and change nothing; forms need their CSRF token; only
//! admins reach any of it.

use cxray_core::access::{Role, Scope};
use cxray_core::schedule::{DeliveryStatus, Recipient, ReportCadence};
use cxray_core::targets::Headline;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::auth::{PASSWORD, add, hidden, session_cookie, sign_in_as};
use crate::{ROUTES, Reply, Server, form};

/// A signed-in browser session: its cookie and its form token.
pub struct Session<'a> {
    server: &'a Server,
    cookie: String,
    pub csrf: String,
}

impl<'a> Session<'a> {
    /// Adds a user with `role` and signs them in through the sign-in form.
    pub fn new(server: &'a Server, email: &str, role: Role, owner: Option<&str>) -> Self {
        add(server, email, role, owner);
        let cookie = session_cookie(&sign_in_as(server, email, PASSWORD, "/"));
        let token = cookie.trim_start_matches("cxray_session=");
        let csrf = server.ops().session_user(token).unwrap().unwrap().csrf;
        Session {
            server,
            cookie,
            csrf,
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        self.server.get(path, &[("Cookie", &self.cookie)])
    }

    /// Posts `fields` with the session's form token.
    pub fn post(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let mut all = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &form(&all))
    }

    pub fn post_raw(&self, path: &str, body: &str) -> Reply {
        let headers = [("Cookie", self.cookie.as_str())];
        self.server.request("POST", path, &headers, Some(body))
    }

    /// The page a change's 303 leads to, with the confirmation it set.
    pub fn follow(&self, r: &Reply) -> Reply {
        assert_eq!(r.status, 303, "{}", r.body);
        let flash = r.cookie("cxray_flash").expect("a confirmation");
        let cookie = format!("{}; cxray_flash={flash}", self.cookie);
        let to = r.header("location").unwrap();
        let page = self.server.get(to, &[("Cookie", &cookie)]);
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(
            page.set_cookie("cxray_flash")
                .unwrap()
                .contains("Max-Age=0"),
            "shown once"
        );
        page
    }
}

/// HTML text back to plain text.
fn unescape(html: &str) -> String {
    html.replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The text between `start` and `end` in `html`, unescaped.
fn between(html: &str, start: &str, end: &str) -> Option<String> {
    let from = html.find(start)? + start.len();
    let len = html[from..].find(end)?;
    Some(unescape(&html[from..from + len]))
}

/// The refusal shown next to form field `field`.
pub fn field_error(html: &str, field: &str) -> Option<String> {
    between(
        html,
        &format!("id=\"{field}-error\" role=\"alert\">"),
        "</strong>",
    )
}

/// The secret a confirmation shows once.
fn secret(html: &str) -> Option<String> {
    between(html, "<code class=\"secret\">", "</code>")
}

/// The newest audit entry: actor, action, detail.
fn last_audit(server: &Server) -> (String, String, String) {
    let e = server.ops().recent_audit(1).unwrap().remove(0);
    (e.actor, e.action, e.detail)
}

pub fn audit_count(server: &Server) -> usize {
    server.ops().recent_audit(10_000).unwrap().len()
}

const ADMIN: &str = "admin@example.com";
const ACTOR: &str = "web:admin@example.com";

#[test]
fn an_admin_adds_disables_and_resets_users_through_the_forms() {
    let server = Server::initialised();
    let admin = Session::new(&server, ADMIN, Role::Admin, None);
    let page = admin.get("/admin/users");
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(hidden(&page.body, "csrf"), admin.csrf);
    assert!(page.body.contains("Administrator") && !page.body.contains(">admin<"));

    let fields = [
        ("email", "Pat@Example.com"),
        ("name", "Pat Partner"),
        ("role", "partner"),
        ("owner", "nordground"),
    ];
    let shown = admin.follow(&admin.post("/admin/users", &fields));
    let password = secret(&shown.body).expect("the generated password");
    assert!(
        shown
            .body
            .contains("Added pat@example.com as Partner (outside company).")
    );
    assert_eq!(
        last_audit(&server),
        (
            ACTOR.into(),
            "add_user".into(),
            "pat@example.com as partner of nordground".into()
        )
    );
    let pat = server
        .ops()
        .login("pat@example.com", &password, "127.0.0.1");
    assert_eq!(pat.unwrap().owner_id.as_deref(), Some("nordground"));
    let again = admin.get("/admin/users");
    assert_eq!(secret(&again.body), None, "a password is shown once");
    assert!(
        again
            .body
            .contains("Partner (outside company) of nordground")
    );

    let reset = admin.post("/admin/users/password", &[("email", "pat@example.com")]);
    let new_password = secret(&admin.follow(&reset).body).unwrap();
    assert_ne!(new_password, password);
    assert_eq!(last_audit(&server).1, "set_password");
    let ops = server.ops();
    assert!(
        ops.login("pat@example.com", &password, "127.0.0.1")
            .is_err()
    );
    assert!(
        ops.login("pat@example.com", &new_password, "127.0.0.1")
            .is_ok()
    );

    let disabled = admin.post("/admin/users/disable", &[("email", "pat@example.com")]);
    assert!(
        admin
            .follow(&disabled)
            .body
            .contains("Disabled pat@example.com")
    );
    let users = server.ops().users().unwrap();
    assert!(
        users
            .iter()
            .find(|u| u.email == "pat@example.com")
            .unwrap()
            .disabled
    );
    assert_eq!(last_audit(&server).1, "disable_user");
}

#[test]
fn bad_users_are_refused_next_to_the_field_and_change_nothing() {
    let server = Server::initialised();
    let admin = Session::new(&server, ADMIN, Role::Admin, None);
    let before = (server.ops().users().unwrap(), audit_count(&server));
    let cases = [
        (
            "email",
            [
                ("email", "not-an-address"),
                ("name", "X"),
                ("role", "analyst"),
                ("owner", ""),
            ],
        ),
        (
            "name",
            [
                ("email", "x@example.com"),
                ("name", " "),
                ("role", "analyst"),
                ("owner", ""),
            ],
        ),
        (
            "owner",
            [
                ("email", "x@example.com"),
                ("name", "X"),
                ("role", "owner"),
                ("owner", ""),
            ],
        ),
        (
            "owner",
            [
                ("email", "x@example.com"),
                ("name", "X"),
                ("role", "executive"),
                ("owner", "crew"),
            ],
        ),
        (
            "role",
            [
                ("email", "x@example.com"),
                ("name", "X"),
                ("role", "boss"),
                ("owner", ""),
            ],
        ),
        (
            "email",
            [
                ("email", ADMIN),
                ("name", "X"),
                ("role", "analyst"),
                ("owner", ""),
            ],
        ),
    ];
    for (field, fields) in cases {
        let r = admin.post("/admin/users", &fields);
        assert_eq!(r.status, 400, "{field}: {}", r.body);
        let message = field_error(&r.body, field).unwrap_or_else(|| panic!("{field}: {}", r.body));
        assert!(message.contains(field), "{field}: {message}");
        assert_eq!(secret(&r.body), None);
        // What was typed stays in the form.
        let typed = format!("value=\"{}\"", fields[0].1);
        assert!(r.body.contains(&typed), "{field}: {}", r.body);
    }
    let unknown = admin.post("/admin/users/disable", &[("email", "nobody@example.com")]);
    assert_eq!(unknown.status, 400);
    assert!(
        unknown.body.contains("no user nobody@example.com"),
        "{}",
        unknown.body
    );
    assert_eq!(
        (server.ops().users().unwrap(), audit_count(&server)),
        before
    );
}

#[test]
fn an_admin_creates_and_revokes_api_tokens_through_the_forms() {
    let server = Server::initialised();
    let admin = Session::new(&server, ADMIN, Role::Admin, None);
    add(&server, "feed@example.com", Role::Analyst, None);
    let fields = [
        ("email", "feed@example.com"),
        ("name", "nightly feed"),
        ("scopes", "ingest"),
        ("scopes", "read"),
    ];
    let shown = admin.follow(&admin.post("/admin/tokens", &fields));
    let token = secret(&shown.body).expect("the token");
    assert!(
        shown
            .body
            .contains("Read figures and data; Send data (ingestion)")
    );
    let found = server
        .ops()
        .token_user(&token)
        .unwrap()
        .expect("a live token");
    assert_eq!(found.user.email, "feed@example.com");
    assert_eq!(found.scopes, [Scope::Read, Scope::Ingest]);
    let bearer = format!("Bearer {token}");
    assert_eq!(
        server
            .get("/api/v1/me", &[("Authorization", &bearer)])
            .status,
        200
    );
    let (actor, action, detail) = last_audit(&server);
    assert_eq!((actor.as_str(), action.as_str()), (ACTOR, "add_token"));
    assert!(
        detail.ends_with("'nightly feed' for feed@example.com (read,ingest)"),
        "{detail}"
    );
    assert_eq!(secret(&admin.get("/admin/tokens").body), None, "shown once");

    let before = (server.ops().api_tokens().unwrap(), audit_count(&server));
    for (field, fields) in [
        ("scopes", vec![("email", "feed@example.com"), ("name", "x")]),
        (
            "scopes",
            vec![
                ("email", "feed@example.com"),
                ("name", "x"),
                ("scopes", "write"),
            ],
        ),
        (
            "name",
            vec![
                ("email", "feed@example.com"),
                ("name", " "),
                ("scopes", "read"),
            ],
        ),
        (
            "email",
            vec![
                ("email", "nobody@example.com"),
                ("name", "x"),
                ("scopes", "read"),
            ],
        ),
    ] {
        let r = admin.post("/admin/tokens", &fields);
        assert_eq!(r.status, 400, "{field}: {}", r.body);
        assert!(field_error(&r.body, field).is_some(), "{field}: {}", r.body);
    }
    assert_eq!(
        (server.ops().api_tokens().unwrap(), audit_count(&server)),
        before
    );

    let id = found.id.to_string();
    let revoked = admin.post("/admin/tokens/revoke", &[("id", &id)]);
    assert!(
        admin
            .follow(&revoked)
            .body
            .contains(&format!("Revoked token {id}."))
    );
    assert!(server.ops().token_user(&token).unwrap().is_none());
    assert_eq!(
        server
            .get("/api/v1/me", &[("Authorization", &bearer)])
            .status,
        401
    );
    assert_eq!(
        last_audit(&server),
        (ACTOR.into(), "revoke_token".into(), id.clone())
    );
    let twice = admin.post("/admin/tokens/revoke", &[("id", &id)]);
    assert_eq!(twice.status, 400);
    assert!(twice.body.contains(&format!("no live API token {id}")));
}

#[test]
fn an_admin_sets_and_removes_targets_through_the_forms() {
    let server = Server::initialised();
    let admin = Session::new(&server, ADMIN, Role::Admin, None);
    let set = [("metric", "nps"), ("period", "2025-q1"), ("value", "35")];
    let shown = admin.follow(&admin.post("/admin/targets", &set));
    assert!(
        shown.body.contains("NPS target for 2025-Q1 set to 35."),
        "{}",
        shown.body
    );
    let targets = server.ops().targets().unwrap();
    let brief: Vec<_> = targets
        .iter()
        .map(|t| (t.metric, t.period.as_str(), t.value))
        .collect();
    assert_eq!(brief, [(Headline::Nps, "2025-Q1", 35.0)]);
    assert_eq!(targets[0].set_by, ACTOR);
    assert_eq!(
        last_audit(&server),
        (ACTOR.into(), "set_target".into(), "nps 2025-Q1: 35".into())
    );
    let bad_period = admin.post(
        "/admin/targets",
        &[("metric", "nps"), ("period", "Q1"), ("value", "1")],
    );
    assert_eq!(bad_period.status, 400);
    assert!(
        field_error(&bad_period.body, "period")
            .unwrap()
            .starts_with("period 'Q1'")
    );

    let which = [("metric", "nps"), ("period", "2025-Q1")];
    let removed = admin.post("/admin/targets/remove", &which);
    assert!(
        admin
            .follow(&removed)
            .body
            .contains("NPS target for 2025-Q1 removed.")
    );
    assert!(server.ops().targets().unwrap().is_empty());
    assert_eq!(
        last_audit(&server),
        (ACTOR.into(), "remove_target".into(), "nps 2025-Q1".into())
    );
}

/// Values no metric's target may take: outside its range, not finite, or not a number.
fn out_of_range() -> impl Strategy<Value = (Headline, String)> {
    let metric = prop::sample::select(Headline::ALL.to_vec());
    (metric, any::<f64>(), "[a-z,%][a-z ,%]{0,5}", 0..3u8).prop_filter_map(
        "inside the range",
        |(metric, x, word, kind)| {
            let (lo, hi) = metric.range();
            match kind {
                0 => (!(lo..=hi).contains(&x)).then(|| (metric, x.to_string())),
                1 => Some((
                    metric,
                    ["NaN", "inf", "-inf"][(x.abs() as usize) % 3].into(),
                )),
                _ => word
                    .trim()
                    .parse::<f64>()
                    .is_err()
                    .then_some((metric, word)),
            }
        },
    )
}

#[test]
fn target_values_out_of_range_are_refused_next_to_the_value_and_change_nothing() {
    let server = Server::initialised();
    let admin = Session::new(&server, ADMIN, Role::Admin, None);
    let kept = [
        ("metric", "retention"),
        ("period", "2025"),
        ("value", "0.7"),
    ];
    assert_eq!(admin.post("/admin/targets", &kept).status, 303);
    let before = (server.ops().targets().unwrap(), audit_count(&server));
    let mut runner = TestRunner::new(Config::with_cases(48));
    runner
        .run(&out_of_range(), |(metric, value)| {
            let fields = [
                ("metric", metric.name()),
                ("period", "2025"),
                ("value", &value),
            ];
            let r = admin.post("/admin/targets", &fields);
            prop_assert_eq!(r.status, 400, "{} {}: {}", metric, value, &r.body);
            let message = field_error(&r.body, "value").unwrap_or_default();
            let parsed = value.trim().parse::<f64>();
            let expected = match parsed {
                Ok(v) => metric.check(v).unwrap_err(),
                Err(_) => format!("target '{}': not a number", value.trim()),
            };
            prop_assert_eq!(message, expected);
            prop_assert_eq!(
                &(server.ops().targets().unwrap(), audit_count(&server)),
                &before
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn an_admin_sets_and_removes_service_levels_and_placements_through_the_forms() {
    let server = Server::demo(300);
    let admin = Session::new(&server, ADMIN, Role::Admin, None);
    let page = admin.get("/admin/service-levels");
    assert!(
        page.body.contains("<option value=\"refund\""),
        "{}",
        page.body
    );
    let sla = [
        ("touchpoint", "refund"),
        ("max_wait_seconds", "600"),
        ("max_failure_rate", "0.1"),
    ];
    let shown = admin.follow(&admin.post("/admin/service-levels", &sla));
    assert!(shown.body.contains("Service levels of refund set."));
    let refund = server.ops().slas().unwrap()["refund"];
    assert_eq!(
        (refund.max_wait_seconds, refund.max_failure_rate),
        (Some(600.0), Some(0.1))
    );
    let (actor, action, _) = last_audit(&server);
    assert_eq!((actor.as_str(), action.as_str()), (ACTOR, "set_sla"));

    let before = (server.ops().slas().unwrap(), audit_count(&server));
    for (field, value) in [
        (
            "max_failure_rate",
            [
                ("touchpoint", "refund"),
                ("max_wait_seconds", ""),
                ("max_failure_rate", "2"),
            ],
        ),
        (
            "max_wait_seconds",
            [
                ("touchpoint", "refund"),
                ("max_wait_seconds", "-1"),
                ("max_failure_rate", ""),
            ],
        ),
        (
            "max_wait_seconds",
            [
                ("touchpoint", "refund"),
                ("max_wait_seconds", "soon"),
                ("max_failure_rate", ""),
            ],
        ),
        (
            "touchpoint",
            [
                ("touchpoint", "nowhere"),
                ("max_wait_seconds", "1"),
                ("max_failure_rate", ""),
            ],
        ),
    ] {
        let r = admin.post("/admin/service-levels", &value);
        assert_eq!(r.status, 400, "{field}: {}", r.body);
        assert!(field_error(&r.body, field).is_some(), "{field}: {}", r.body);
    }
    assert_eq!((server.ops().slas().unwrap(), audit_count(&server)), before);
    let removed = admin.post("/admin/service-levels/remove", &[("touchpoint", "refund")]);
    assert!(
        admin
            .follow(&removed)
            .body
            .contains("Service levels of refund removed.")
    );
    assert!(!server.ops().slas().unwrap().contains_key("refund"));
    assert_eq!(
        last_audit(&server),
        (ACTOR.into(), "remove_sla".into(), "refund".into())
    );

    let place = [
        ("touchpoint", "security"),
        ("journey", ""),
        ("stage", ""),
        ("position", "1"),
        ("owner", "nordground"),
    ];
    let shown = admin.follow(&admin.post("/admin/placements", &place));
    assert!(shown.body.contains("Placement of security set."));
    let security = &server.ops().placements().unwrap()["security"];
    assert_eq!(
        (security.position, security.owner.as_deref()),
        (Some(1), Some("nordground"))
    );
    assert_eq!(security.journey, None);
    assert_eq!(last_audit(&server).1, "set_placement");
    // A row's Edit button fills the form with the touchpoint's placement.
    let list = admin.get("/admin/placements");
    assert!(
        list.body
            .contains("<form method=\"get\" action=\"/admin/placements\"")
    );
    let edit = admin.get("/admin/placements?touchpoint=security");
    assert!(edit.body.contains("<option value=\"security\" selected>"));
    assert!(
        edit.body
            .contains("id=\"position\" name=\"position\" value=\"1\"")
    );
    assert!(
        edit.body
            .contains("id=\"owner\" name=\"owner\" value=\"nordground\"")
    );

    let before = (server.ops().placements().unwrap(), audit_count(&server));
    for (field, position, owner) in [
        ("position", "0", ""),
        ("owner", "", "nobody"),
        ("position", "first", ""),
    ] {
        let fields = [
            ("touchpoint", "security"),
            ("position", position),
            ("owner", owner),
        ];
        let r = admin.post("/admin/placements", &fields);
        assert_eq!(r.status, 400, "{field}: {}", r.body);
        assert!(field_error(&r.body, field).is_some(), "{field}: {}", r.body);
    }
    assert_eq!(
        (server.ops().placements().unwrap(), audit_count(&server)),
        before
    );
    let removed = admin.post("/admin/placements/remove", &[("touchpoint", "security")]);
    assert!(
        admin
            .follow(&removed)
            .body
            .contains("Placement of security removed")
    );
    let placements = server.ops().placements().unwrap();
    assert!(!placements.contains_key("security"), "{placements:?}");
    assert_eq!(last_audit(&server).0, ACTOR);
}

#[test]
fn an_admin_adds_and_removes_report_schedules_and_sees_the_outbox() {
    let server = Server::initialised();
    let admin = Session::new(&server, ADMIN, Role::Admin, None);
    let page = admin.get("/admin/report-schedules");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("No mail server is set"), "{}", page.body);
    assert!(page.body.contains(">Quarterly<") && page.body.contains("> Executive</label>"));
    assert!(
        !page.body.contains("value=\"owner\""),
        "roles that see one owner are not offered"
    );

    let fields = [
        ("cadence", "monthly"),
        ("roles", "executive"),
        ("roles", "analyst"),
        ("addresses", "cfo@example.com, Board@Example.com"),
    ];
    let shown = admin.follow(&admin.post("/admin/report-schedules", &fields));
    assert!(
        shown.body.contains("Schedule 1 added: Monthly, first due"),
        "{}",
        shown.body
    );
    let (actor, action, _) = last_audit(&server);
    assert_eq!(
        (actor.as_str(), action.as_str()),
        (ACTOR, "add_report_schedule")
    );
    let schedules = server.ops().schedules().unwrap();
    let [s] = &schedules[..] else {
        panic!("{schedules:?}")
    };
    assert_eq!(s.cadence, ReportCadence::Monthly);
    let mut expected: Vec<Recipient> = [
        "role:analyst",
        "role:executive",
        "Board@Example.com",
        "cfo@example.com",
    ]
    .iter()
    .map(|r| r.parse().unwrap())
    .collect();
    expected.sort();
    assert_eq!(s.recipients, expected);
    assert!(shown.body.contains("every Executive"), "{}", shown.body);

    // A queued e-mail the mail server refused once shows as waiting, with the reason.
    let ops = server.ops();
    let mail = cxray_store::outbox::Mail {
        recipient: "cfo@example.com".into(),
        message: b"Subject: pack".to_vec(),
    };
    let now = chrono::Utc::now();
    assert!(
        ops.queue_pack(s, ("2025-06", "cx@example.com"), &[mail], false, now)
            .unwrap()
    );
    let id = ops.queued(now, true, None).unwrap()[0].id;
    let failed = cxray_store::outbox::Outcome::Failed {
        error: "451 <try later>".into(),
        permanent: false,
    };
    assert_eq!(
        ops.record_try(id, &failed, now).unwrap(),
        DeliveryStatus::Pending
    );
    let page = admin.get("/admin/report-schedules");
    assert!(page.body.contains("Waiting to be sent"), "{}", page.body);
    assert!(
        page.body.contains("451 &lt;try later&gt;"),
        "escaped: {}",
        page.body
    );

    let removed = admin.post("/admin/report-schedules/remove", &[("id", "1")]);
    assert!(admin.follow(&removed).body.contains("Schedule 1 removed."));
    assert_eq!(last_audit(&server).1, "remove_report_schedule");
    assert!(server.ops().schedules().unwrap().is_empty());
    let again = admin.post("/admin/report-schedules/remove", &[("id", "1")]);
    assert_eq!(again.status, 400);
    assert!(
        again.body.contains("no report schedule 1"),
        "{}",
        again.body
    );
}

#[test]
fn bad_report_schedules_are_refused_next_to_the_field_and_change_nothing() {
    let server = Server::initialised();
    let admin = Session::new(&server, ADMIN, Role::Admin, None);
    let before = audit_count(&server);
    let cases: [(&str, Vec<(&str, &str)>); 6] = [
        (
            "cadence",
            vec![("cadence", "daily"), ("roles", "executive")],
        ),
        ("cadence", vec![("roles", "executive")]),
        ("roles", vec![("cadence", "weekly"), ("roles", "owner")]),
        ("roles", vec![("cadence", "weekly"), ("roles", "boss")]),
        (
            "addresses",
            vec![("cadence", "weekly"), ("addresses", "cfo@, x")],
        ),
        ("addresses", vec![("cadence", "weekly"), ("addresses", " ")]),
    ];
    for (field, fields) in cases {
        let r = admin.post("/admin/report-schedules", &fields);
        assert_eq!(r.status, 400, "{fields:?}: {}", r.body);
        let message = field_error(&r.body, field).unwrap_or_else(|| panic!("{field}: {}", r.body));
        assert!(!message.is_empty(), "{fields:?}");
    }
    assert!(server.ops().schedules().unwrap().is_empty());
    assert_eq!(audit_count(&server), before);
}

/// Every administration route, and a form it would accept from an admin.
fn admin_routes() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    let forms: [(&str, Vec<(&str, &str)>); 19] = [
        ("/admin", vec![]),
        (
            "/admin/users",
            vec![
                ("email", "new@example.com"),
                ("name", "New"),
                ("role", "analyst"),
            ],
        ),
        (
            "/admin/users/disable",
            vec![("email", "victim@example.com")],
        ),
        (
            "/admin/users/password",
            vec![("email", "victim@example.com")],
        ),
        (
            "/admin/tokens",
            vec![
                ("email", "victim@example.com"),
                ("name", "t"),
                ("scopes", "read"),
            ],
        ),
        ("/admin/tokens/revoke", vec![("id", "1")]),
        (
            "/admin/targets",
            vec![("metric", "nps"), ("period", "2025"), ("value", "10")],
        ),
        (
            "/admin/targets/remove",
            vec![("metric", "nps"), ("period", "2024")],
        ),
        (
            "/admin/service-levels",
            vec![("touchpoint", "refund"), ("max_wait_seconds", "1")],
        ),
        ("/admin/service-levels/remove", vec![("touchpoint", "old")]),
        (
            "/admin/placements",
            vec![("touchpoint", "refund"), ("position", "1")],
        ),
        ("/admin/placements/remove", vec![("touchpoint", "old")]),
        (
            "/admin/report-schedules",
            vec![("cadence", "weekly"), ("roles", "executive")],
        ),
        ("/admin/report-schedules/remove", vec![("id", "1")]),
        (
            "/admin/rules",
            vec![
                ("name", "New rule"),
                ("kind", "survey"),
                ("instrument", "nps"),
                ("score", "<=6"),
            ],
        ),
        ("/admin/rules/disable", vec![("id", "1")]),
        (
            "/admin/surveys",
            vec![("name", "New survey"), ("questions", "nps")],
        ),
        (
            "/admin/surveys/rules",
            vec![("rule_survey", "1"), ("rule_name", "New rule")],
        ),
        ("/admin/surveys/policy", vec![("reminders", "0")]),
    ];
    let listed: Vec<&str> = ROUTES
        .iter()
        .copied()
        .filter(|r| r.starts_with("/admin"))
        .collect();
    assert_eq!(forms.iter().map(|(p, _)| *p).collect::<Vec<_>>(), listed);
    forms.to_vec()
}

/// Sets up what the refused changes would act on: a user, a token, a target, a service
/// level, a placement and a report schedule.
fn victims(server: &Server) {
    add(server, "victim@example.com", Role::Analyst, None);
    let ops = server.ops();
    ops.create_api_token("test", "victim@example.com", "t", &[Scope::Read])
        .unwrap();
    let period = "2024".parse().unwrap();
    ops.set_target("test", Headline::Nps, &period, 5.0).unwrap();
    ops.set_sla("test", "old", cxray_store::ops::Sla::default())
        .unwrap();
    let p = cxray_store::ops::Placement {
        position: Some(2),
        ..Default::default()
    };
    ops.set_placement("test", "old", &p).unwrap();
    let to = ["cfo@example.com".parse().unwrap()];
    ops.add_schedule("test", ReportCadence::Monthly, &to, chrono::Utc::now())
        .unwrap();
}

#[test]
fn forms_without_their_csrf_token_are_refused_and_change_nothing() {
    let server = Server::initialised();
    let admin = Session::new(&server, ADMIN, Role::Admin, None);
    victims(&server);
    let before = audit_count(&server);
    for (path, fields) in admin_routes().into_iter().skip(1) {
        for csrf in [
            None,
            Some(""),
            Some("0123abcd"),
            Some(&*admin.csrf.to_uppercase()),
        ] {
            let mut all = fields.clone();
            all.extend(csrf.map(|c| ("csrf", c)));
            let r = admin.post_raw(path, &form(&all));
            assert_eq!(r.status, 403, "{path} {csrf:?}: {}", r.body);
            assert!(r.body.contains("security token"), "{path}: {}", r.body);
        }
    }
    assert_eq!(audit_count(&server), before);
}

#[test]
fn only_admins_in_a_session_reach_the_administration() {
    let server = Server::initialised();
    victims(&server);
    let others = [
        Session::new(&server, "exec@example.com", Role::Executive, None),
        Session::new(
            &server,
            "owner@example.com",
            Role::Owner,
            Some("cabin_crew"),
        ),
        Session::new(
            &server,
            "partner@example.com",
            Role::Partner,
            Some("nordground"),
        ),
    ];
    let before = audit_count(&server);
    for session in &others {
        let nav = session.get("/journey");
        assert!(!nav.body.contains("href=\"/admin\""), "no admin navigation");
        for (path, fields) in admin_routes() {
            let page = session.get(path);
            // The pages refuse; the change routes take only posts.
            let expected = if path.matches('/').count() <= 2 {
                403
            } else {
                405
            };
            assert_eq!(page.status, expected, "GET {path}: {}", page.body);
            if path != "/admin" {
                let r = session.post(path, &fields);
                assert_eq!(r.status, 403, "POST {path}: {}", r.body);
                assert!(r.body.contains("role may not do this"), "{}", r.body);
            }
        }
    }
    // An admin's API token reads the pages but changes nothing: changes need a session.
    add(&server, ADMIN, Role::Admin, None);
    let token = server
        .ops()
        .create_api_token("test", ADMIN, "t", &[Scope::Read])
        .unwrap();
    let bearer = format!("Bearer {}", token.token);
    let auth = [("Authorization", bearer.as_str())];
    assert_eq!(server.get("/admin/users", &auth).status, 200);
    let body = form(&[
        ("email", "new@example.com"),
        ("name", "N"),
        ("role", "analyst"),
    ]);
    let r = server.request("POST", "/admin/users", &auth, Some(&body));
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(
        audit_count(&server),
        before + 2,
        "only adding the admin and the token"
    );
    // Without a session: to the sign-in page.
    let r = server.get("/admin/users", &[]);
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/login?next=/admin/users"));
    let admin = Session::new(&server, "root@example.com", Role::Admin, None);
    assert!(admin.get("/journey").body.contains("href=\"/admin\""));
}
