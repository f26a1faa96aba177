//! The survey page through the binary: links handed out by `cxray survey links`, answered
//! on `cxray serve` (grace period from `--survey-grace-seconds`), the answer readable with
//! `cxray sql`; an unsubscribed customer suppressed as opted out by `cxray survey scan`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use chrono::{Duration, Utc};

use crate::server::serve_with;
use crate::{initialised, json, run};

/// A data folder whose customers c1 (German) and c2 (English) had a check-in two days
/// ago, with a survey about it (NPS, grade, a comment; English and German) and their
/// personal links handed out: the folder, the links' paths by customer, and the
/// anonymous link's path.
pub struct Surveyed {
    pub _dir: tempfile::TempDir,
    pub data: PathBuf,
    pub links: Vec<(String, String)>,
    pub open: String,
}

/// A data folder whose `customers` (a CSV file's text, `customer_id` first) each had a
/// check-in two days ago, with a survey about it (NPS, grade, a comment; English, German
/// and French) whose rule invited every one of them.
pub fn invited(customers: &str) -> (tempfile::TempDir, PathBuf) {
    let (dir, data) = initialised();
    let customers_file = dir.path().join("customers.csv");
    std::fs::write(&customers_file, customers).unwrap();
    let at = (Utc::now() - Duration::days(2)).format("%Y-%m-%dT%H:%M:%SZ");
    let interactions = dir.path().join("interactions.csv");
    let mut rows = String::from("customer_id,at,touchpoint\n");
    for line in customers.lines().skip(1) {
        let id = line.split(',').next().unwrap();
        rows.push_str(&format!("{id},{at},check_in\n"));
    }
    std::fs::write(&interactions, rows).unwrap();
    let steps: [Vec<&str>; 6] = [
        vec!["import", "customers", customers_file.to_str().unwrap()],
        vec!["import", "interactions", interactions.to_str().unwrap()],
        vec![
            "survey",
            "add",
            "--name",
            "After check-in",
            "--questions",
            "nps,grade",
            "--comment",
            "--languages",
            "en,de,fr",
            "--touchpoint",
            "check_in",
        ],
        vec!["survey", "policy", "--holdout-share", "0"],
        vec![
            "survey",
            "rule",
            "add",
            "--name",
            "after check-in",
            "--survey",
            "After check-in",
            "--delay-hours",
            "0",
            "--all-history",
        ],
        vec!["survey", "scan"],
    ];
    for args in steps {
        let out = run(&data, &args);
        let why = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {why}");
    }
    (dir, data)
}

pub fn surveyed() -> Surveyed {
    let (dir, data) = invited("customer_id,language\nc1,de\nc2,en\n");
    let links = dir.path().join("links.csv");
    let args = [
        "survey",
        "links",
        "--out",
        links.to_str().unwrap(),
        "--base-url",
        "http://x",
    ];
    json(&data, &[&args[..], &["--json"]].concat());
    let links = std::fs::read_to_string(&links)
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            let path = fields[2].trim_start_matches("http://x").to_string();
            (fields[0].to_string(), path)
        })
        .collect();
    let shown = json(&data, &["survey", "show", "After check-in", "--json"]);
    let open = format!("/s/open/{}", shown["survey"]["public_id"].as_str().unwrap());
    Surveyed {
        _dir: dir,
        data,
        links,
        open,
    }
}

impl Surveyed {
    /// The personal link's path of `customer`.
    pub fn link(&self, customer: &str) -> &str {
        let found = self.links.iter().find(|(c, _)| c == customer);
        &found.unwrap_or_else(|| panic!("no link for {customer}")).1
    }
}

/// A form post: status and body.
pub fn post(addr: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, body.to_string())
}

fn rows(data: &Path, sql: &str) -> Vec<serde_json::Value> {
    json(data, &["sql", sql, "--json"])
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn an_answer_reaches_responses_and_an_unsubscribed_customer_is_not_asked_again() {
    let s = surveyed();
    let mut server = serve_with(&s.data, &["--survey-grace-seconds", "0"]);
    let (status, thanks) = post(&server.addr, s.link("c2"), "nps=7&grade=2&comment=OK");
    assert_eq!(status, 200, "{thanks}");
    assert!(thanks.contains("Thank you"), "{thanks}");
    let (status, page) = post(&server.addr, &format!("{}/unsubscribe", s.link("c1")), "");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Sie erhalten keine Umfragen mehr"), "{page}");
    // Committed within seconds; a stop commits what ingestion still holds.
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(server.stop("TERM").success());

    let sql = "SELECT customer_id, instrument, score, comment, survey, invitation_id, touchpoint \
               FROM responses ORDER BY instrument";
    let found = rows(&s.data, sql);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0]["instrument"], "grade");
    assert_eq!(found[1]["instrument"], "nps");
    assert_eq!(found[1]["score"], 7.0);
    assert_eq!(found[1]["comment"], "OK");
    for row in &found {
        assert_eq!(row["customer_id"], "c2");
        assert_eq!(row["survey"], "After check-in");
        assert_eq!(row["touchpoint"], "check_in");
        assert!(row["invitation_id"].as_str().is_some_and(|i| !i.is_empty()));
    }

    // c1 checks in again: not asked, and `survey why` says so.
    let again = s.data.parent().unwrap().join("again.csv");
    let at = Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
    std::fs::write(
        &again,
        format!("customer_id,at,touchpoint\nc1,{at},check_in\n"),
    )
    .unwrap();
    let out = run(
        &s.data,
        &["import", "interactions", again.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&s.data, &["survey", "scan"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let why = json(&s.data, &["survey", "why", "c1", "--json"]);
    let log = why.as_array().unwrap();
    let last = log.last().unwrap();
    assert_eq!(last["decision"], "suppressed", "{why}");
    assert_eq!(last["reason"], "opted_out", "{why}");
    assert!(log.iter().any(|e| e["decision"] == "opted_out"), "{why}");
}
