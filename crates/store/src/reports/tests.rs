use cxray_core::access::Role;

use crate::accounts::NewUser;
use crate::outbox::tests::{at, mail};
use crate::reports::*;

#[test]
fn schedules_are_checked_listed_removed_and_audited() {
    let (_dir, db) = db();
    let now = at("2026-12-02T10:00:00Z");
    let e = db
        .add_schedule("ann", ReportCadence::Monthly, &[], now)
        .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Invalid {
                field: "recipients",
                ..
            }
        ),
        "{e}"
    );
    let to = [
        Recipient::Role(Role::Executive),
        "cfo@example.com".parse().unwrap(),
        Recipient::Role(Role::Executive),
    ];
    let id = db
        .add_schedule("ann", ReportCadence::Monthly, &to, now)
        .unwrap();
    let listed = db.schedules().unwrap();
    assert_eq!(listed.len(), 1);
    let s = &listed[0];
    assert_eq!(
        (s.id, s.cadence, s.created_by.as_str()),
        (id, ReportCadence::Monthly, "ann")
    );
    assert_eq!(
        s.recipients.len(),
        2,
        "repeats are dropped: {:?}",
        s.recipients
    );
    assert_eq!(s.next_due, at("2027-01-01T06:00:00Z"));
    assert_eq!(db.schedule(id).unwrap(), *s);
    assert!(
        db.due_schedules(at("2027-01-01T05:59:59Z"))
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        db.due_schedules(at("2027-01-01T06:00:00Z")).unwrap().len(),
        1
    );
    let e = db.remove_schedule("ann", id + 1).unwrap_err();
    assert!(e.to_string().contains("no report schedule"), "{e}");
    db.remove_schedule("ann", id).unwrap();
    assert!(db.schedules().unwrap().is_empty());
    let actions: Vec<String> = db
        .recent_audit(5)
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(actions, ["remove_report_schedule", "add_report_schedule"]);
}

#[test]
fn roles_resolve_to_their_active_users() {
    let (_dir, db) = db();
    let user = |email, role| NewUser {
        email,
        name: email,
        role,
        owner_id: None,
        password: "a long enough password",
    };
    db.add_user("admin", &user("Eve@example.com", Role::Executive))
        .unwrap();
    db.add_user("admin", &user("old@example.com", Role::Executive))
        .unwrap();
    db.add_user("admin", &user("ann@example.com", Role::Analyst))
        .unwrap();
    db.disable_user("admin", "old@example.com").unwrap();
    let to = [
        Recipient::Role(Role::Executive),
        "eve@example.com".parse().unwrap(),
        "board@example.org".parse().unwrap(),
    ];
    assert_eq!(
        db.addresses(&to).unwrap(),
        ["board@example.org", "eve@example.com"]
    );
}

#[test]
fn a_due_pack_is_queued_once_with_the_next_due_time() {
    let (_dir, db) = db();
    let now = at("2026-12-02T10:00:00Z");
    let to = ["a@example.com".parse().unwrap()];
    let id = db
        .add_schedule("ann", ReportCadence::Weekly, &to, now)
        .unwrap();
    let due_at = at("2026-12-07T06:00:01Z");
    let s = db.due_schedules(due_at).unwrap().remove(0);
    let mails = [mail("a@example.com"), mail("b@example.com")];
    assert!(
        db.queue_pack(&s, ("2026-12", "cx@example.com"), &mails, true, due_at)
            .unwrap()
    );
    // A second process that read the same due schedule queues nothing.
    assert!(
        !db.queue_pack(&s, ("2026-12", "cx@example.com"), &mails, true, due_at)
            .unwrap()
    );
    let after = db.schedule(id).unwrap();
    assert_eq!(after.next_due, at("2026-12-14T06:00:00Z"));
    assert_eq!(after.last_period.as_deref(), Some("2026-12"));
    let queued = db.queued(due_at, false, None).unwrap();
    assert_eq!(queued.len(), 2);
    assert_eq!(queued[0].message, mails[0].message);
    assert_eq!(queued[0].sender, "cx@example.com");
    // Out of turn: queued again, the due time unchanged.
    assert!(
        db.queue_pack(&after, ("2026-12", "cx@example.com"), &mails, false, due_at)
            .unwrap()
    );
    assert_eq!(db.schedule(id).unwrap().next_due, after.next_due);
    assert_eq!(db.queued(due_at, false, None).unwrap().len(), 4);
}
