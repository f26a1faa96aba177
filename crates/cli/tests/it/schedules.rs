//! Report schedules end to end: `cxray report schedule` keeps them, `cxray report send`
//! and the server queue the board pack and hand it to a real SMTP server on loopback
//! (Debian's python3-aiosmtpd); while the mail server is down nothing is lost, and the
//! waiting e-mails go out once it is back.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::server::serve_with;
use crate::{cxray, demo_folder, json, run};

/// A mail server on loopback that prints every message it receives to a file.
pub struct MailServer {
    child: Child,
    log: PathBuf,
}

impl MailServer {
    pub fn start(port: u16, log: &Path) -> Self {
        let python = match Path::new("/usr/bin/python3").exists() {
            true => "/usr/bin/python3",
            false => "python3",
        };
        let child = Command::new(python)
            .args(["-u", "-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .stdout(std::fs::File::create(log).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{python} -m aiosmtpd (Debian python3-aiosmtpd): {e}"));
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "aiosmtpd did not listen on port {port} (Debian package python3-aiosmtpd)"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        MailServer {
            child,
            log: log.to_path_buf(),
        }
    }

    /// The messages received so far, each as printed (headers and body).
    fn messages(&self) -> Vec<String> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.split("---------- MESSAGE FOLLOWS ----------")
            .skip(1)
            .map(str::to_string)
            .collect()
    }

    /// Waits until `n` messages arrived (at most `limit`).
    pub fn wait_for(&self, n: usize, limit: Duration) -> Vec<String> {
        let started = Instant::now();
        loop {
            let found = self.messages();
            if found.len() >= n && self.complete() {
                return found;
            }
            assert!(
                started.elapsed() < limit,
                "{} of {n} messages after {limit:?}",
                found.len()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Whether the last message was printed to its end.
    fn complete(&self) -> bool {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.trim_end()
            .ends_with("------------ END MESSAGE ------------")
    }
}

impl Drop for MailServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nothing listens on.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `cxray report …` with the mail server at `port`.
pub fn report(data: &Path, port: u16, args: &[&str]) -> Output {
    cxray(data)
        .arg("report")
        .args(args)
        .env("CXRAY_SMTP_URL", format!("smtp://127.0.0.1:{port}"))
        .env("CXRAY_MAIL_FROM", "cx@aurora.example")
        .output()
        .unwrap()
}

/// A 3,000-customer demo world with one schedule (`cadence`, to `recipients`).
fn demo_with_schedule(cadence: &str, recipients: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = demo_folder(dir.path(), "3000");
    let mut add = vec!["report", "schedule", "add", cadence];
    add.extend(recipients.iter().flat_map(|r| ["--to", r]));
    let added = run(&data, &add);
    assert!(added.status.success(), "{}", stderr(&added));
    (dir, data)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Checks a received pack: to whom, its subject, the summary and a PDF attached.
fn assert_pack(message: &str, to: &str, period: &str) {
    assert!(message.contains(&format!("To: {to}")), "{message}");
    assert!(
        message.contains("From: cxray <cx@aurora.example>"),
        "{message}"
    );
    let subject = format!("Subject: Customer board pack, month {period}");
    assert!(message.contains(&subject), "{message}");
    let unfolded = message.replace("=\n", "");
    assert!(
        unfolded.contains("The weak area that costs most is")
            || unfolded.contains("No touchpoint's loss of customers is measurable yet."),
        "the summary names the costliest weak area: {unfolded}"
    );
    let file = format!("filename=\"cxray-board-pack-{period}.pdf\"");
    assert!(message.contains(&file), "{message}");
    // The attachment's base64 begins with that of "%PDF-".
    assert!(message.contains("\nJVBERi0"), "a PDF is attached");
}

#[test]
fn packs_wait_in_the_outbox_while_the_mail_server_is_down_and_go_out_when_it_is_back() {
    let (dir, data) = demo_with_schedule("monthly", &["role:executive", "cfo@example.com"]);
    let before = json(&data, &["report", "schedule", "list", "--json"]);
    assert_eq!(before[0]["recipients"][0], "role:executive");
    let port = free_port();

    let down = report(&data, port, &["send", "--schedule", "1"]);
    assert_eq!(down.status.code(), Some(1), "{}", stderr(&down));
    assert!(
        stderr(&down).contains("2 e-mails not delivered"),
        "{}",
        stderr(&down)
    );
    let outbox = json(&data, &["report", "outbox", "--json"]);
    let statuses: Vec<(&str, &str, u64)> = outbox
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let r = d["recipient"].as_str().unwrap();
            (
                r,
                d["status"].as_str().unwrap(),
                d["attempts"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("executive@demo.invalid", "pending", 1),
            ("cfo@example.com", "pending", 1)
        ]
    );
    assert!(
        outbox[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("refused")
    );

    let mail = MailServer::start(port, &dir.path().join("mail.log"));
    let back = report(&data, port, &["send"]);
    assert!(back.status.success(), "{}", stderr(&back));
    let said = String::from_utf8_lossy(&back.stdout);
    assert!(
        said.contains("sent 2 e-mails; 0 wait for another try; 0 given up"),
        "{said}"
    );
    let messages = mail.wait_for(2, Duration::from_secs(30));
    assert_eq!(messages.len(), 2, "each e-mail once");
    let to = |who: &str| messages.iter().find(|m| m.contains(&format!("To: {who}")));
    assert_pack(to("cfo@example.com").unwrap(), "cfo@example.com", "2025-06");
    assert_pack(
        to("executive@demo.invalid").unwrap(),
        "executive@demo.invalid",
        "2025-06",
    );

    let outbox = json(&data, &["report", "outbox", "--json"]);
    assert!(
        outbox
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["status"] == "sent"),
        "{outbox}"
    );
    // Sent out of turn: the schedule is still due when it was.
    let after = json(&data, &["report", "schedule", "list", "--json"]);
    assert_eq!(after[0]["next_due"], before[0]["next_due"]);
    assert_eq!(after[0]["last_period"], "2025-06");
    // Nothing left to send: a second run sends nothing again.
    let idle = report(&data, port, &["send"]);
    assert!(String::from_utf8_lossy(&idle.stdout).contains("sent 0 e-mails"));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(mail.messages().len(), 2);
}

#[test]
fn schedules_and_sending_refuse_bad_input_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo_folder(dir.path(), "3000");
    let refused: [&[&str]; 6] = [
        &["add", "daily", "--to", "cfo@example.com"],
        &["add", "weekly", "--to", "role:owner"],
        &["add", "weekly", "--to", "role:boss"],
        &["add", "weekly", "--to", "cfo@"],
        &["add", "weekly"],
        &["remove", "7"],
    ];
    for args in refused {
        let out = run(&data, &[&["report", "schedule"][..], args].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
    assert_eq!(
        json(&data, &["report", "schedule", "list", "--json"]),
        Value::Array(vec![])
    );
    let no_server = run(&data, &["report", "send"]);
    assert_eq!(no_server.status.code(), Some(2));
    assert!(
        stderr(&no_server).contains("smtp_url"),
        "{}",
        stderr(&no_server)
    );
    let unknown = report(&data, free_port(), &["send", "--schedule", "7"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", stderr(&unknown));
    assert!(stderr(&unknown).contains("no report schedule 7"));
    assert_eq!(
        json(&data, &["report", "outbox", "--json"]),
        Value::Array(vec![])
    );
}

#[test]
fn the_server_sends_a_due_pack_once() {
    let (dir, data) = demo_with_schedule("weekly", &["cfo@example.com"]);
    // A week has passed: the schedule is due.
    let db = rusqlite::Connection::open(data.join("cxray.db")).unwrap();
    db.execute(
        "UPDATE report_schedules SET next_due = '2026-01-05T06:00:00Z'",
        [],
    )
    .unwrap();
    let port = free_port();
    let mail = MailServer::start(port, &dir.path().join("mail.log"));
    let config = dir.path().join("cxray.toml");
    let settings = format!(
        "smtp_url = \"smtp://127.0.0.1:{port}\"\nmail_from = \"cx@aurora.example\"\nreports_every_seconds = 1\n"
    );
    std::fs::write(&config, settings).unwrap();
    let config = config.to_str().unwrap();
    let _server = serve_with(&data, &["--config", config, "--resamples", "10"]);
    let messages = mail.wait_for(1, Duration::from_secs(600));
    assert_pack(&messages[0], "cfo@example.com", "2025-06");
    let after = json(&data, &["report", "schedule", "list", "--json"]);
    let next = after[0]["next_due"].as_str().unwrap();
    assert!(next > "2026-01-05T06:00:00Z", "moved on: {next}");
    // Due once, sent once, however many rounds pass.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(mail.messages().len(), 1);
    let outbox = json(&data, &["report", "outbox", "--json"]);
    assert_eq!(outbox[0]["status"], "sent", "{outbox}");
}
