//! Survey invitations by e-mail end to end: `cxray serve` with a mail server and a public
//! address e-mails each invited customer with a valid address — in their language, with
//! a working personal link and a one-click unsubscribe link — to a real SMTP server on
//! loopback (python3-aiosmtpd); the others stay for `cxray survey links`. Opening the
//! link and the mail server's accepting are counted by `cxray survey rates`; a reminder
//! goes out after the policy's gap (the round driven to a later time), never after an
//! answer.

use std::time::Duration;

use chrono::Utc;
use cxray_server::invitations::{InvitationOptions, Mailed, round};
use cxray_server::outbox;
use cxray_server::reports::{MailSettings, Mailer};
use cxray_store::DataFolder;

use crate::schedules::{MailServer, free_port};
use crate::server::serve_with;
use crate::survey_page::{invited, post};
use crate::{get, json, run};

const PUBLIC: &str = "https://survey.example";

/// The personal link's path in an e-mail (its soft line breaks undone).
fn link_in(message: &str) -> String {
    let at = message
        .find(&format!("{PUBLIC}/s/"))
        .expect("a personal link");
    let token = &message[at + PUBLIC.len() + 3..][..43];
    format!("/s/{token}")
}

/// The messages to `address` among `messages`, soft line breaks undone.
fn to(messages: &[String], address: &str) -> Vec<String> {
    messages
        .iter()
        .filter(|m| m.contains(&format!("To: {address}")))
        .map(|m| m.replace("=\n", ""))
        .collect()
}

#[test]
fn invitations_are_mailed_opened_delivered_reminded_and_unsubscribed() {
    let customers = "customer_id,email,language\n\
        c1,ana@example.com,de\n\
        c2,not an address,en\n\
        c3,,en\n\
        c4,bo@example.com,fr\n";
    let (dir, data) = invited(customers);
    let port = free_port();
    let mail = MailServer::start(port, &dir.path().join("mail.log"));
    let config = dir.path().join("cxray.toml");
    let settings = format!(
        "smtp_url = \"smtp://127.0.0.1:{port}\"\nmail_from = \"cx@aurora.example\"\n\
         reports_every_seconds = 1\npublic_url = \"{PUBLIC}/\"\n"
    );
    std::fs::write(&config, settings).unwrap();
    let config = config.to_str().unwrap();
    let server = serve_with(&data, &["--config", config, "--survey-grace-seconds", "0"]);

    // Two valid addresses: two e-mails, each in its customer's language.
    let messages = mail.wait_for(2, Duration::from_secs(120));
    assert_eq!(messages.len(), 2);
    let ana = to(&messages, "ana@example.com").remove(0);
    let bo = to(&messages, "bo@example.com").remove(0);
    for part in [
        "Subject: Wie war Ihre Reise?",
        "Wir m", // möchten, encoded
        "From: cxray <cx@aurora.example>",
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
    ] {
        assert!(ana.contains(part), "{part}: {ana}");
    }
    assert!(bo.contains("Nous aimerions conna"), "in French: {bo}");
    let (ana_link, bo_link) = (link_in(&ana), link_in(&bo));
    let unsubscribe = format!("List-Unsubscribe: <{PUBLIC}{bo_link}/unsubscribe>");
    assert!(bo.contains(&unsubscribe), "{bo}");
    assert!(
        bo.contains(&format!("{PUBLIC}{bo_link}/unsubscribe\n")),
        "in the body: {bo}"
    );

    // The link works: Ana's page in German, counted as opened.
    let (status, page) = get(&server.addr, &ana_link, "");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<html lang=\"de\""), "{page}");
    let email = || {
        let rates = json(&data, &["survey", "rates", "--by", "channel", "--json"]);
        let rows = rates.as_array().unwrap().clone();
        rows.into_iter().find(|r| r["group"] == "email").unwrap()
    };
    let started = std::time::Instant::now();
    while email()["delivered"] != 2 {
        assert!(started.elapsed() < Duration::from_secs(30), "{}", email());
        std::thread::sleep(Duration::from_millis(250));
    }
    let e = email();
    assert_eq!((&e["emailed"], &e["opened"]), (&2.into(), &1.into()), "{e}");
    assert_eq!(e["delivery_rate"]["value"], 1.0, "{e}");
    let shown = run(&data, &["survey", "rates", "--by", "channel"]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown.contains("E-mail") && shown.contains("delivered, %"),
        "{shown}"
    );
    let outbox = String::from_utf8_lossy(&run(&data, &["report", "outbox"]).stdout).to_string();
    assert!(outbox.contains("Survey invitation"), "{outbox}");

    // The customers without a valid address are left for the link export, which with
    // e-mail on hands out only theirs.
    let file = dir.path().join("links.csv");
    let out = [
        "--config",
        config,
        "survey",
        "links",
        "--out",
        file.to_str().unwrap(),
        "--base-url",
        PUBLIC,
    ];
    assert!(run(&data, &out).status.success());
    let exported = std::fs::read_to_string(&file).unwrap();
    let ids: Vec<&str> = exported.lines().skip(1).map(|l| &l[..2]).collect();
    assert_eq!(ids, ["c2", "c3"]);

    // Ana answers; four days later only Bo is reminded, once, in French.
    let (status, _) = post(&server.addr, &ana_link, "nps=9&grade=4&comment=");
    assert_eq!(status, 200);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let folder = DataFolder::open(&data).unwrap();
    let settings = MailSettings {
        smtp_url: format!("smtp://127.0.0.1:{port}"),
        from: "cx@aurora.example".into(),
    };
    let mailer = Mailer::new(&settings).unwrap();
    let options = InvitationOptions {
        public_url: Some(PUBLIC.into()),
        ..InvitationOptions::default()
    };
    let day = 86_400;
    let at = |days: i64| {
        let now = Utc::now().timestamp() + days * day;
        runtime
            .block_on(round(&folder, Some(&mailer), &options, now))
            .unwrap()
    };
    assert_eq!(at(2).reminded, 0, "not before the gap");
    assert_eq!(
        at(4),
        Mailed {
            reminded: 1,
            ..Mailed::default()
        }
    );
    assert_eq!(at(4).reminded, 0);
    assert_eq!(at(9).reminded, 0, "one reminder by the policy");
    let senders = outbox::senders(Some(&settings)).unwrap();
    let now = Utc::now();
    let sent = runtime.block_on(outbox::deliver(&folder, &senders, None, now, true));
    assert_eq!(sent.unwrap().sent, 1);
    let messages = mail.wait_for(3, Duration::from_secs(60));
    assert_eq!(
        to(&messages, "ana@example.com").len(),
        1,
        "an answer stops reminders"
    );
    let reminder = to(&messages, "bo@example.com").remove(1);
    assert!(reminder.contains("Un rappel"), "{reminder}");
    assert_eq!(link_in(&reminder), bo_link, "the same personal link");

    // Bo's mail program unsubscribes in one click.
    let one_click = format!("{bo_link}/unsubscribe");
    let (status, _) = post(&server.addr, &one_click, "List-Unsubscribe=One-Click");
    assert_eq!(status, 200);
    let why = json(&data, &["survey", "why", "c4", "--json"]);
    let decisions: Vec<&str> = why
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["decision"].as_str().unwrap())
        .collect();
    assert_eq!(decisions, ["invited", "sent", "reminded", "opted_out"]);
}

/// A backlog beyond one batch goes in one round, batch after batch: 1,234 invitations due
/// whose customers have no valid address are all set aside for the link export at once.
#[test]
fn a_backlog_is_worked_through_batch_after_batch_in_one_round() {
    let mut customers = String::from("customer_id,email,language\n");
    for i in 0..1_234 {
        customers.push_str(&format!("c{i},not an address {i},en\n"));
    }
    let (_dir, data) = invited(&customers);
    let folder = DataFolder::open(&data).unwrap();
    let settings = MailSettings {
        smtp_url: format!("smtp://127.0.0.1:{}", free_port()),
        from: "cx@aurora.example".into(),
    };
    let mailer = Mailer::new(&settings).unwrap();
    let options = InvitationOptions {
        public_url: Some(PUBLIC.into()),
        ..InvitationOptions::default()
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let now = Utc::now().timestamp();
    let first = runtime.block_on(round(&folder, Some(&mailer), &options, now));
    assert_eq!(first.unwrap().without_address, 1_234);
    let again = runtime.block_on(round(&folder, Some(&mailer), &options, now));
    assert_eq!(again.unwrap(), Mailed::default(), "nothing left");
}
