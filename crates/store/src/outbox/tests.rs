use cxray_core::schedule::{MAX_ATTEMPTS, ReportCadence};

use crate::outbox::*;

pub(crate) fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

pub(crate) fn mail(to: &str) -> Mail {
    Mail {
        recipient: to.into(),
        message: format!("To: {to}\r\n\r\nthe pack").into_bytes(),
    }
}

#[test]
fn failed_tries_wait_then_give_up_and_sent_mail_drops_its_content() {
    let (_dir, db) = db();
    let mut now = at("2026-12-02T10:00:00Z");
    let to = ["a@example.com".parse().unwrap()];
    db.add_schedule("ann", ReportCadence::Weekly, &to, now)
        .unwrap();
    let s = db.schedules().unwrap().remove(0);
    let mails = [mail("a@example.com"), mail("b@example.com")];
    db.queue_pack(&s, ("2026-12", "cx@example.com"), &mails, false, now)
        .unwrap();
    let [first, second] = <[Queued; 2]>::try_from(db.queued(now, false, None).unwrap()).unwrap();
    let down = Outcome::Failed {
        error: "connection refused".into(),
        permanent: false,
    };
    assert_eq!(
        db.record_try(first.id, &down, now).unwrap(),
        DeliveryStatus::Pending
    );
    // Waiting a minute: not due before, due after; `all` tries it at once.
    assert_eq!(db.queued(now, false, None).unwrap().len(), 1);
    assert_eq!(db.queued(now, true, None).unwrap().len(), 2);
    now += chrono::Duration::minutes(1);
    assert_eq!(db.queued(now, false, None).unwrap().len(), 2);
    for _ in 1..MAX_ATTEMPTS - 1 {
        assert_eq!(
            db.record_try(first.id, &down, now).unwrap(),
            DeliveryStatus::Pending
        );
        now += chrono::Duration::hours(6);
    }
    assert_eq!(
        db.record_try(first.id, &down, now).unwrap(),
        DeliveryStatus::Failed
    );
    let refused = Outcome::Failed {
        error: "550 no such user".into(),
        permanent: true,
    };
    let e = db.record_try(first.id, &refused, now).unwrap_err();
    assert!(e.to_string().contains("no pending message"), "{e}");
    assert_eq!(
        db.record_try(second.id, &Outcome::Sent, now).unwrap(),
        DeliveryStatus::Sent
    );
    assert!(db.queued(now, true, None).unwrap().is_empty());
    let listed = db.deliveries(10).unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(
        (listed[0].status, listed[0].attempts),
        (DeliveryStatus::Sent, 1)
    );
    assert!(listed[0].sent_at.is_some() && listed[0].next_attempt.is_none());
    assert_eq!(
        (listed[1].status, listed[1].attempts),
        (DeliveryStatus::Failed, MAX_ATTEMPTS)
    );
    assert_eq!(listed[1].last_error.as_deref(), Some("connection refused"));
    let content: Vec<u8> = db
        .conn()
        .query_row(
            "SELECT message FROM outbox WHERE id = ?1",
            params![second.id],
            |r| r.get(0),
        )
        .unwrap();
    assert!(content.is_empty(), "a sent e-mail's content is dropped");
    let audit = db.recent_audit(1).unwrap().remove(0);
    assert_eq!(audit.action, "report_not_delivered");
    assert!(audit.detail.contains("a@example.com"), "{}", audit.detail);
}

#[test]
fn a_refused_message_is_given_up_at_once() {
    let (_dir, db) = db();
    let now = at("2026-12-02T10:00:00Z");
    let to = ["a@example.com".parse().unwrap()];
    db.add_schedule("ann", ReportCadence::Weekly, &to, now)
        .unwrap();
    let s = db.schedules().unwrap().remove(0);
    db.queue_pack(
        &s,
        ("2026-12", "cx@example.com"),
        &[mail("a@example.com")],
        false,
        now,
    )
    .unwrap();
    let id = db.queued(now, true, None).unwrap()[0].id;
    let refused = Outcome::Failed {
        error: "550 no such user".into(),
        permanent: true,
    };
    assert_eq!(
        db.record_try(id, &refused, now).unwrap(),
        DeliveryStatus::Failed
    );
}
