//! Case events posted to a real HTTP receiver on loopback: signed the Standard Webhooks
//! way (checked by an independent HMAC, Python's), a message the receiver refused is
//! tried again after its wait and delivered once, and an endpoint that keeps failing is
//! disabled without losing its waiting messages; a committed survey answer is posted
//! once as `response.created`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Duration, Utc};
use cxray_core::cases::{HoldoutShare, ScoreCondition, Trigger};
use cxray_core::schedule::{DeliveryStatus, MAX_ATTEMPTS};
use cxray_core::stats::Instrument;
use cxray_core::webhook::WebhookEvent;
use cxray_server::{notify, outbox};
use cxray_store::DataFolder;
use cxray_store::cases::{Candidate, NewRule, Opening};
use cxray_store::ops::OpsDb;

use crate::survey_page;

/// What the receiver was sent: the headers that sign it, and the body.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: Vec<u8>,
}

/// An HTTP receiver answering every post with `status`.
struct Receiver {
    addr: SocketAddr,
    status: Arc<AtomicU16>,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(status: u16) -> Receiver {
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let status = Arc::new(AtomicU16::new(status));
        let (g, s) = (Arc::clone(&got), Arc::clone(&status));
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let header = |n: &str| headers[n].to_str().unwrap().to_string();
                g.lock().unwrap().push(Received {
                    id: header("webhook-id"),
                    timestamp: header("webhook-timestamp"),
                    signature: header("webhook-signature"),
                    body: body.to_vec(),
                });
                let code = StatusCode::from_u16(s.load(Ordering::SeqCst)).unwrap();
                async move { code }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { addr, status, got }
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

/// The signature Python's own HMAC-SHA256 gives a message, for the secret as shown.
fn python_signature(secret: &str, r: &Received) -> String {
    let script = "import base64, hashlib, hmac, sys\n\
                  key = base64.b64decode(sys.argv[1].removeprefix('whsec_'))\n\
                  signed = f'{sys.argv[2]}.{sys.argv[3]}.'.encode() + sys.stdin.buffer.read()\n\
                  print('v1,' + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode())";
    let mut child = std::process::Command::new("python3")
        .args(["-c", script, secret, &r.id, &r.timestamp])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&r.body).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A data folder with the rule "Detractors" (nobody held out).
fn folder() -> (tempfile::TempDir, DataFolder, OpsDb) {
    let dir = tempfile::tempdir().unwrap();
    let (folder, _) = DataFolder::create(dir.path().join("data")).unwrap();
    let ops = OpsDb::open(&folder.ops_db_path()).unwrap();
    let rule = NewRule {
        name: "Detractors".into(),
        trigger: Trigger::Survey {
            instrument: Instrument::Nps,
            condition: ScoreCondition::parse(Instrument::Nps, "<=6").unwrap(),
            touchpoint: None,
        },
        customers: Vec::new(),
        clv_percentile: None,
        fallback_owner: None,
        cooldown_days: 0,
        holdout: HoldoutShare::new(0.0).unwrap(),
        since: None,
        watermark: None,
    };
    ops.add_rule("ann", &rule).unwrap();
    (dir, folder, ops)
}

/// Opens a case for `customer`'s answer at `now`.
fn open_case(ops: &OpsDb, customer: &str, now: DateTime<Utc>) {
    let rule = ops.rule("Detractors").unwrap();
    let key = ops.pseudonym_key().unwrap();
    let hours = BTreeMap::new();
    let opening = Opening {
        actor: "scan",
        sla_hours: &hours,
        key: &key,
        now,
    };
    let candidate = Candidate {
        key: format!("event of {customer}"),
        customer_id: customer.into(),
        at: now,
        touchpoint: Some("check-in".into()),
        detail: "nps 2: \"the queue was endless\"".into(),
        owner: Some("airport".into()),
    };
    let opened = ops.open_cases(&opening, &rule, &[candidate], None).unwrap();
    assert_eq!(opened.opened, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_message_is_signed_tried_again_after_its_wait_and_delivered_once() {
    let receiver = Receiver::start(500).await;
    let (_dir, folder, ops) = folder();
    let (hook, secret) = ops.add_webhook("ann", &receiver.url(), &[]).unwrap();
    let now = Utc::now();
    open_case(&ops, "C-1", now);
    assert_eq!(notify::write(&folder, None, now).await.unwrap(), 1);
    assert_eq!(notify::write(&folder, None, now).await.unwrap(), 0);
    let senders = outbox::senders(None).unwrap();
    let first = outbox::deliver(&folder, &senders, None, now, false)
        .await
        .unwrap();
    assert_eq!((first.sent, first.waiting), (0, 1));
    assert!(first.errors[0].contains("500"), "{:?}", first.errors);
    // Not again before its wait is over; then the receiver takes it.
    receiver.status.store(200, Ordering::SeqCst);
    let early = outbox::deliver(&folder, &senders, None, now + Duration::seconds(30), false);
    assert_eq!(early.await.unwrap(), outbox::Delivered::default());
    let later = now + Duration::minutes(2);
    let second = outbox::deliver(&folder, &senders, None, later, false)
        .await
        .unwrap();
    assert_eq!((second.sent, second.waiting), (1, 0));
    let after = outbox::deliver(&folder, &senders, None, later, true)
        .await
        .unwrap();
    assert_eq!(after, outbox::Delivered::default(), "delivered once");

    let got = receiver.received();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].id, got[1].id, "one message id on every try");
    assert_eq!(got[0].body, got[1].body);
    for r in &got {
        assert_eq!(r.signature, python_signature(&secret.shown(), r));
        let sent_at: i64 = r.timestamp.parse().unwrap();
        assert!((sent_at - Utc::now().timestamp()).abs() < 60);
    }
    let body: serde_json::Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(body["type"], "case.opened");
    let case = &body["data"]["case"];
    assert_eq!(
        (&case["customer_id"], &case["owner"]),
        (&"C-1".into(), &"airport".into())
    );
    assert_eq!(case["status"], "open");
    let log = ops.webhook_deliveries(hook.id, 10).unwrap();
    assert_eq!((log[0].status, log[0].attempts), (DeliveryStatus::Sent, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_that_keeps_failing_is_disabled_and_loses_nothing() {
    let receiver = Receiver::start(503).await;
    let (_dir, folder, ops) = folder();
    let (hook, _) = ops.add_webhook("ann", &receiver.url(), &[]).unwrap();
    let now = Utc::now();
    open_case(&ops, "C-1", now);
    notify::write(&folder, None, now).await.unwrap();
    let senders = outbox::senders(None).unwrap();
    let round = || outbox::deliver(&folder, &senders, None, now, true);
    for _ in 1..MAX_ATTEMPTS {
        assert_eq!(round().await.unwrap().waiting, 1);
    }
    open_case(&ops, "C-2", now);
    notify::write(&folder, None, now).await.unwrap();
    let last = round().await.unwrap();
    assert_eq!((last.failed, last.waiting), (1, 1));
    let disabled = ops.webhook(hook.id).unwrap();
    assert!(
        !disabled.enabled,
        "disabled after every try of a message failed"
    );
    let tried = receiver.received().len();
    assert_eq!(round().await.unwrap(), outbox::Delivered::default());
    assert_eq!(
        receiver.received().len(),
        tried,
        "nothing posted while disabled"
    );

    receiver.status.store(204, Ordering::SeqCst);
    ops.set_webhook_enabled("ann", hook.id, true).unwrap();
    assert_eq!(
        round().await.unwrap().sent,
        1,
        "the waiting message goes out"
    );
    let body: serde_json::Value =
        serde_json::from_slice(&receiver.received().last().unwrap().body).unwrap();
    assert_eq!(body["data"]["case"]["customer_id"], "C-2");
}

/// A survey answer through a personal link, committed into `responses`, is posted as
/// `response.created` — signed, once — to the endpoint that wants it, and to no other.
#[test]
fn a_committed_survey_answer_is_posted_once_as_response_created() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let receiver = runtime.block_on(Receiver::start(200));
    let server = crate::Server::initialised_with(survey_page::options(1));
    let s = survey_page::setup(&server, &[("C-7", Some("de"))]);
    let ops = server.ops();
    let wanted = [WebhookEvent::ResponseCreated];
    let (hook, secret) = ops.add_webhook("ann", &receiver.url(), &wanted).unwrap();
    let cases_only = [WebhookEvent::CaseOpened];
    let (other, _) = ops
        .add_webhook("ann", &receiver.url(), &cases_only)
        .unwrap();
    let (id, token) = s.links[0].clone();
    let answer = [("nps", "9"), ("grade", "4"), ("comment", "Quick")];
    let path = format!("/s/{token}");
    assert_eq!(survey_page::post(&server, &path, &answer, &[]).status, 200);
    survey_page::eventually("the answer committed", || {
        ops.invitation_answer(id)
            .unwrap()
            .unwrap()
            .committed_at
            .is_some()
    });
    // The commit task keeps running: still one message.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let queued = ops.webhook_deliveries(hook.id, 10).unwrap();
    assert_eq!(queued.len(), 1, "{queued:?}");
    let held = ops.invitation_answer(id).unwrap().unwrap();
    assert_eq!(queued[0].about(), format!("Survey answer {}", held.id));
    assert!(ops.webhook_deliveries(other.id, 10).unwrap().is_empty());

    let senders = outbox::senders(None).unwrap();
    let folder = server.folder();
    let deliver = || runtime.block_on(outbox::deliver(&folder, &senders, None, Utc::now(), true));
    assert_eq!(deliver().unwrap().sent, 1);
    assert_eq!(deliver().unwrap(), outbox::Delivered::default());
    let got = receiver.received();
    assert_eq!(got.len(), 1, "posted once");
    assert_eq!(got[0].signature, python_signature(&secret.shown(), &got[0]));
    let body: serde_json::Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(body["type"], "response.created");
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'), "{body}");
    let data = &body["data"];
    let want = serde_json::json!({
        "answer_id": held.id,
        "survey_id": held.survey_id,
        "survey": "After check-in",
        "touchpoint": "check_in",
        "customer_id": "C-7",
        "invitation_id": id,
        "language": "de",
        "scores": {"nps": 9, "grade": 4},
        "comment": "Quick",
    });
    assert_eq!(data, &want);
}
