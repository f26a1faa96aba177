//! The operational database on PostgreSQL (`--ops`): a world built on it answers every
//! command and API route as the same world on SQLite does, and a database that cannot be
//! reached, or refuses the user, is one line naming it, with nothing created.

use std::path::Path;

use cxray_store::db::testing::TestDb;
use serde_json::Value;

use super::browser::wait_for;
use super::ingest::{batch, post};
use super::object_store;
use super::schedules::free_port;
use super::server::serve_with;
use super::{api, demo_with_programme, json, run};

/// The commands that read the operational database, compared across backends.
const COMMANDS: &[&[&str]] = &[
    &["cases", "list", "--json"],
    &["cases", "causes", "--json"],
    &["cases", "costs", "--json"],
    &["cases", "effect", "--json"],
    &["trigger", "list", "--json"],
    &["survey", "list", "--json"],
    &["survey", "rates", "--json"],
    &["initiative", "list", "--json"],
    &["user", "list", "--json"],
    &["scorecard", "--json"],
];

/// The API routes compared across backends, as the administrator.
const ROUTES: &[&str] = &[
    "/api/v1/cases",
    "/api/v1/cases/causes",
    "/api/v1/surveys",
    "/api/v1/initiatives",
    "/api/v1/journey",
    "/api/v1/targets",
    "/api/v1/owners/cabin_crew",
    "/api/v1/respondents",
];

#[test]
fn a_demo_world_on_postgresql_answers_as_the_same_world_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDb::postgres();
    let url = database.postgres_url();
    let lite = demo_with_programme(&dir.path().join("lite"), "1500");
    let pg = dir.path().join("pg");
    let built = run(
        &pg,
        &["demo", "--customers", "1500", "--no-serve", "--ops", url],
    );
    assert!(built.status.success(), "{}", stderr(&built));
    assert!(
        !pg.join("cxray.db").exists(),
        "no SQLite file beside PostgreSQL"
    );
    for args in COMMANDS {
        let on_pg = [*args, &["--ops", url]].concat();
        same(&json(&lite, args), &json(&pg, &on_pg), &args.join(" "));
    }
    let admin = |data: &Path, extra: &[&str]| {
        let args = [
            &[
                "token",
                "add",
                "--email",
                "admin@demo.invalid",
                "--name",
                "t",
            ][..],
            &["--scopes", "read,ingest", "--json"],
            extra,
        ]
        .concat();
        json(data, &args)["token"].as_str().unwrap().to_string()
    };
    let (lite_token, pg_token) = (admin(&lite, &[]), admin(&pg, &["--ops", url]));
    let lite_server = serve_with(&lite, &[]);
    let pg_server = serve_with(&pg, &["--ops", url]);
    for route in ROUTES {
        wait_for(&lite_server, &lite_token, route);
        wait_for(&pg_server, &pg_token, route);
        let (a, b) = (
            api(&lite_server.addr, route, &lite_token),
            api(&pg_server.addr, route, &pg_token),
        );
        assert_eq!((a.0, b.0), (200, 200), "{route}");
        same(&a.1, &b.1, route);
    }
    // An ingested batch's idempotency key is kept in PostgreSQL: the same batch sent
    // again, before and after a restart, is a duplicate.
    let send = |addr: &str| post(addr, "transactions", &pg_token, Some("k1"), &batch("pg", 3));
    let first = send(&pg_server.addr).unwrap();
    assert_eq!((first.0, &first.1["duplicate"]), (200, &false.into()));
    assert_eq!(send(&pg_server.addr).unwrap().1["duplicate"], true);
    drop(pg_server);
    let again = serve_with(&pg, &["--ops", url]);
    assert_eq!(send(&again.addr).unwrap().1["duplicate"], true);
}

#[test]
fn an_unreachable_or_refusing_database_is_one_line_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDb::postgres();
    let url = database.postgres_url();
    let port = url.rsplit_once(':').unwrap().1.split('/').next().unwrap();
    let data = dir.path().join("data");
    let closed = format!("postgres://cxray@127.0.0.1:{}/x", free_port());
    let stranger = format!("postgres://nobody:secret@127.0.0.1:{port}/x");
    for (ops, says) in [
        (closed.as_str(), "Connection refused"),
        (stranger.as_str(), "role \"nobody\" does not exist"),
    ] {
        let out = run(&data, &["init", "--ops", ops]);
        assert_eq!(out.status.code(), Some(1), "{ops}");
        let message = stderr(&out);
        assert_eq!(message.trim().lines().count(), 1, "{message}");
        assert!(
            message.contains("cannot connect to postgres://"),
            "{message}"
        );
        assert!(message.contains(says), "{message}");
        assert!(
            !message.contains("secret"),
            "the password is shown: {message}"
        );
        assert!(!data.exists(), "{ops}: the data folder was created");
    }
    let unusable = format!("{url}?sslmode=verify");
    for ops in ["mysql://x", unusable.as_str()] {
        let out = run(&data, &["init", "--ops", ops]);
        assert_eq!(out.status.code(), Some(2), "{ops}");
        assert!(stderr(&out).contains("--ops"), "{}", stderr(&out));
        assert!(!data.exists(), "{ops}: the data folder was created");
    }
    assert!(stderr(&run(&data, &["init", "--ops", &unusable])).contains("sslmode 'verify'"));
}

/// Equal, but for what each build makes anew (times from its clock, random public ids)
/// and numbers to 1e-9 (two model fits sum in their own order).
fn same(a: &Value, b: &Value, what: &str) {
    object_store::same(&comparable(a.clone()), &comparable(b.clone()), what);
}

fn comparable(v: Value) -> Value {
    match v {
        Value::Object(m) => m
            .into_iter()
            .filter(|(k, _)| !ANEW.contains(&k.as_str()))
            .map(|(k, v)| (k, comparable(v)))
            .collect(),
        Value::Array(a) => a.into_iter().map(comparable).collect(),
        v => v,
    }
}

/// The fields each build makes anew.
const ANEW: &[&str] = &[
    "created_at",
    "set_at",
    "added_at",
    "updated_at",
    "at",
    "public_id",
    "anonymous_link",
];

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
