//! `cxray demo` as a new user meets it: the accounts it prints sign in and each sees what
//! its role allows; no page and no command's text shows a program identifier.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::browser::{sign_in, wait_ready};
use crate::server::serve_with;
use crate::webdriver::Browser;
use crate::{api, json, run};

/// A demo world of `customers` in a new folder, and what `demo` printed.
pub fn demo(customers: &str) -> (tempfile::TempDir, std::path::PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let out = run(&data, &["demo", "--customers", customers, "--no-serve"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    (dir, data, String::from_utf8(out.stdout).unwrap())
}

/// A printed account: role, the owner it belongs to, email and password.
#[derive(Debug)]
struct Account {
    role: String,
    owner: Option<String>,
    email: String,
    password: String,
}

/// The accounts in `demo`'s output: lines "  ROLE[ of OWNER]: EMAIL with password P".
fn accounts(printed: &str) -> Vec<Account> {
    printed
        .lines()
        .filter_map(|line| {
            let (who, rest) = line.trim().split_once(": ")?;
            let (email, password) = rest.split_once(" with password ")?;
            let (role, owner) = match who.split_once(" of ") {
                Some((r, o)) => (r, Some(o.to_string())),
                None => (who, None),
            };
            Some(Account {
                role: role.into(),
                owner,
                email: email.into(),
                password: password.into(),
            })
        })
        .collect()
}

/// A read token of the user `email`.
pub fn token(data: &Path, email: &str) -> String {
    json(data, &read_token(email))["token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The arguments that make a read token of `email`'s, printed as JSON.
pub fn read_token(email: &str) -> [&str; 9] {
    [
        "token", "add", "--email", email, "--name", "t", "--scopes", "read", "--json",
    ]
}

/// The owners of `kind` in the data.
fn owners_of_kind(data: &Path, kind: &str) -> Vec<String> {
    let query = format!("SELECT owner_id FROM owners WHERE kind = '{kind}'");
    let rows = json(data, &["sql", &query, "--json"]);
    let rows = rows.as_array().unwrap().iter();
    rows.map(|r| r["owner_id"].as_str().unwrap().to_string())
        .collect()
}

/// The touchpoints of `owner` in the admin's journey.
fn touchpoints_of(journey: &Value, owner: &str) -> Vec<String> {
    let all = journey["touchpoints"].as_array().unwrap().iter();
    all.filter(|t| t["owner"] == owner)
        .map(|t| t["touchpoint"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_printed_demo_accounts_sign_in_and_see_what_their_role_allows() {
    let (_dir, data, printed) = demo("1500");
    let accounts = accounts(&printed);
    let roles: Vec<&str> = accounts.iter().map(|a| a.role.as_str()).collect();
    assert_eq!(
        roles,
        ["admin", "executive", "owner", "partner"],
        "{printed}"
    );
    assert!(accounts.iter().all(|a| a.password.len() >= 12));
    let (owner, partner) = (&accounts[2], &accounts[3]);
    let owner_id = owner.owner.clone().unwrap();
    let partner_id = partner.owner.clone().unwrap();
    assert!(owners_of_kind(&data, "team").contains(&owner_id));
    assert!(owners_of_kind(&data, "partner").contains(&partner_id));

    let server = serve_with(&data, &["--resamples", "5"]);
    let admin = token(&data, &accounts[0].email);
    wait_ready(&server, &admin);
    let (_, journey) = api(&server.addr, "/api/v1/journey", &admin);
    let base = format!("http://{}", server.addr);
    let browser = Browser::start();
    for account in &accounts {
        sign_in(&browser, &base, &account.email, &account.password);
        browser.open(&format!("{base}/journey"));
        let shown: Vec<String> = browser
            .figures()
            .into_iter()
            .filter_map(|(key, _)| Some(key.split_once('.')?.1.to_string()))
            .collect();
        assert!(!shown.is_empty(), "{}: no touchpoint shown", account.role);
        if let Some(own) = &account.owner {
            let allowed = touchpoints_of(&journey, own);
            assert!(
                shown.iter().all(|tp| allowed.contains(tp)),
                "{}: shown {shown:?}, own {allowed:?}",
                account.role
            );
            browser.open(&format!("{base}/"));
            assert!(
                browser.title().starts_with("Not allowed"),
                "{}",
                account.role
            );
        } else {
            let everyone: BTreeSet<String> = journey["touchpoints"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["touchpoint"].as_str().unwrap().to_string())
                .collect();
            let shown: BTreeSet<String> = shown.into_iter().collect();
            assert_eq!(shown, everyone, "{}", account.role);
            browser.open(&format!("{base}/"));
            assert!(!browser.title().starts_with("Not allowed"));
        }
        browser.click("form[action='/logout'] button[type=submit]");
        browser.wait_until_left("/");
    }
    // The partner: its own touchpoints in the API too, and no customer id anywhere.
    let partner_token = token(&data, &partner.email);
    let (_, mine) = api(&server.addr, "/api/v1/journey", &partner_token);
    let owners: Vec<&Value> = mine["touchpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["owner"])
        .collect();
    assert!(!owners.is_empty() && owners.iter().all(|o| **o == partner_id));
    let some = json(
        &data,
        &["sql", "SELECT customer_id FROM customers LIMIT 1", "--json"],
    );
    let customer = some[0]["customer_id"].as_str().unwrap();
    let path = format!("/api/v1/customers/{customer}");
    assert_eq!(api(&server.addr, &path, &partner_token).0, 403);
    sign_in(&browser, &base, &partner.email, &partner.password);
    let pages = [
        "/journey",
        "/areas",
        "/owners",
        &format!("/owners/{partner_id}"),
    ];
    for page in pages {
        browser.open(&format!("{base}{page}"));
        let text = browser.text();
        let ids = text
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| {
                w.len() > 1 && w.starts_with('C') && w[1..].bytes().all(|b| b.is_ascii_digit())
            });
        assert_eq!(ids.count(), 0, "{page}: {text}");
    }
    browser.open(&format!("{base}/customers?id={customer}"));
    assert!(browser.title().starts_with("Not allowed"));
}

#[test]
fn a_world_without_partners_gets_no_partner_account() {
    let airline = Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/src/world/airline.toml");
    let text = std::fs::read_to_string(airline).unwrap();
    assert!(text.contains("kind = \"partner\""));
    let dir = tempfile::tempdir().unwrap();
    let world = dir.path().join("teams.toml");
    std::fs::write(
        &world,
        text.replace("kind = \"partner\"", "kind = \"team\""),
    )
    .unwrap();
    let args = [
        "demo",
        "--world",
        world.to_str().unwrap(),
        "--customers",
        "300",
    ];
    let built = json(
        &dir.path().join("demo"),
        &[&args[..], &["--no-serve", "--json"]].concat(),
    );
    let accounts = built["sign_in"]["accounts"].as_array().unwrap();
    let roles: Vec<&str> = accounts
        .iter()
        .map(|a| a["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["admin", "executive", "owner"]);
}
