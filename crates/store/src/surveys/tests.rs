use cxray_core::stats::Instrument;
use cxray_core::surveys::{ContactPolicy, InvitationRule, Suppression, Survey, SurveyChannel};
use proptest::prelude::*;

use crate::StoreError;
use crate::ops::OpsDb;
use crate::surveys::*;

const KEY: [u8; 32] = [5; 32];
const DAY: i64 = 86_400;

pub(crate) fn survey(name: &str) -> Survey {
    Survey {
        name: name.into(),
        touchpoint: Some("check_in".into()),
        questions: vec![Instrument::Nps, Instrument::Csat],
        comment: true,
        languages: vec!["en".into(), "de".into()],
    }
}

pub(crate) fn rule(name: &str, survey: &str) -> InvitationRule {
    InvitationRule {
        name: name.into(),
        survey: survey.into(),
        touchpoint: "check_in".into(),
        delay_hours: 24.0,
        sample_rate: 1.0,
        customers: None,
        survey_cooldown_days: 60,
        touchpoint_cooldown_days: 0,
    }
}

fn candidate(customer: &str, day: i64) -> Candidate {
    Candidate {
        key: format!("{customer}-{day}"),
        customer_id: customer.into(),
        at: 1000 * DAY + day * DAY,
        language: Some("de".into()),
    }
}

/// A database with `policy`, the survey S and its rule R.
fn with_rule(policy: &ContactPolicy) -> (crate::db::testing::TestDb, OpsDb, StoredRule) {
    let (dir, db) = db();
    db.set_contact_policy("ann", policy).unwrap();
    db.add_survey("ann", &survey("S")).unwrap();
    let r = db.add_survey_rule("ann", &rule("R", "S"), None).unwrap();
    (dir, db, r)
}

fn no_holdout() -> ContactPolicy {
    ContactPolicy {
        holdout_share: 0.0,
        ..ContactPolicy::default()
    }
}

#[test]
fn surveys_and_rules_round_trip_and_names_are_unique() {
    let (_dir, db) = db();
    let added = db.add_survey("ann", &survey("After check-in")).unwrap();
    assert_eq!(added.survey, survey("After check-in"));
    assert_eq!(added.public_id.len(), 24);
    assert_eq!(db.survey("after CHECK-IN").unwrap().id, added.id);
    assert_eq!(db.survey(&added.id.to_string()).unwrap().id, added.id);
    let again = db.add_survey("ann", &survey("AFTER check-in")).unwrap_err();
    assert!(
        matches!(again, StoreError::Invalid { field: "name", .. }),
        "{again}"
    );
    let none = db.survey("Onboard").unwrap_err().to_string();
    assert!(
        none.contains("no survey named 'Onboard' (surveys: After check-in)"),
        "{none}"
    );
    let found = db.survey_by_public_id(&added.public_id).unwrap().unwrap();
    assert_eq!(found.id, added.id);

    let r = db
        .add_survey_rule("ann", &rule("next day", "After check-in"), Some(3))
        .unwrap();
    assert_eq!((r.survey_id, r.watermark), (added.id, Some(3)));
    assert_eq!(db.survey_rules().unwrap(), vec![r]);
    let orphan = db
        .add_survey_rule("ann", &rule("other", "Nope"), None)
        .unwrap_err();
    assert!(
        orphan.to_string().contains("no survey named 'Nope'"),
        "{orphan}"
    );
}

#[test]
fn the_policy_is_the_default_until_set() {
    let (_dir, db) = db();
    assert_eq!(db.contact_policy().unwrap(), ContactPolicy::default());
    let p = ContactPolicy {
        reminders: 2,
        ..ContactPolicy::default()
    };
    db.set_contact_policy("ann", &p).unwrap();
    assert_eq!(db.contact_policy().unwrap(), p);
}

#[test]
fn decisions_are_recorded_with_their_reasons_once() {
    let (_dir, db, r) = with_rule(&no_holdout());
    db.opt_out("c3", "link", 0).unwrap();
    // c1 twice within the global cooldown; c2 once; c3 opted out.
    let found = [
        candidate("c1", 0),
        candidate("c1", 10),
        candidate("c2", 5),
        candidate("c3", 1),
    ];
    let out = db.invite(&r, &found, Some(7), &KEY).unwrap();
    assert_eq!((out.events, out.invited), (4, 2));
    let reasons: Vec<(&str, usize)> = out.suppressed.into_iter().collect();
    assert_eq!(reasons, vec![("global_cooldown", 1), ("opted_out", 1)]);
    let log = db.contact_log("c1").unwrap();
    let decisions: Vec<(&str, Option<&str>)> = log
        .iter()
        .map(|e| (e.decision.as_str(), e.reason.as_deref()))
        .collect();
    assert_eq!(
        decisions,
        vec![("invited", None), ("suppressed", Some("global_cooldown"))]
    );
    assert_eq!(
        log[0].at,
        1000 * DAY + DAY,
        "invited at the interaction plus the delay"
    );
    assert_eq!(db.survey_rules().unwrap()[0].watermark, Some(7));
    // The same events again change nothing.
    let again = db.invite(&r, &found, Some(7), &KEY).unwrap();
    assert_eq!((again.invited, again.suppressed.len()), (0, 0));
    assert_eq!(db.contact_log("c1").unwrap().len(), 2);
    // Later, past the cooldowns, c1 is asked again.
    let stale = db
        .invite(&r, &[candidate("c1", 100)], Some(8), &KEY)
        .unwrap();
    assert_eq!(
        stale,
        Invited::default(),
        "a rule read before the last scan decides nothing"
    );
    let r = db.survey_rules().unwrap().remove(0);
    let later = db
        .invite(&r, &[candidate("c1", 100)], Some(8), &KEY)
        .unwrap();
    assert_eq!(later.invited, 1);
}

#[test]
fn links_go_out_when_due_and_expire() {
    let (_dir, db, r) = with_rule(&no_holdout());
    db.invite(&r, &[candidate("c1", 0), candidate("c2", 40)], None, &KEY)
        .unwrap();
    let now = 1000 * DAY + 2 * DAY;
    let sent = db.send_due(SurveyChannel::Link, now).unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].customer_id, "c1");
    assert_eq!(sent[0].expires_at, Some(now + 14 * DAY));
    assert_eq!(sent[0].language.as_deref(), Some("de"));
    assert!(
        db.send_due(SurveyChannel::Link, now).unwrap().is_empty(),
        "sent once"
    );
    assert_eq!(db.expire_invitations(now + 14 * DAY, 100).unwrap(), 0);
    assert_eq!(db.expire_invitations(now + 15 * DAY, 100).unwrap(), 1);
    let status = db.invitation(sent[0].id).unwrap().unwrap().status;
    assert_eq!(status, "expired");
    let log: Vec<String> = db
        .contact_log("c1")
        .unwrap()
        .into_iter()
        .map(|e| e.decision)
        .collect();
    assert_eq!(log, ["invited", "sent", "expired"]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// Whatever the interactions, no customer is invited twice within the global
    /// cooldown, and every event gets exactly one decision.
    #[test]
    fn no_customer_is_invited_twice_within_the_cooldown(
        events in proptest::collection::vec((0usize..5, 0i64..200), 1..60),
    ) {
        let (_dir, db, r) = with_rule(&no_holdout());
        let mut found: Vec<Candidate> = events
            .iter()
            .map(|(c, day)| candidate(&format!("c{c}"), *day))
            .collect();
        found.sort_by(|a, b| a.key.cmp(&b.key));
        found.dedup_by(|a, b| a.key == b.key);
        let out = db.invite(&r, &found, None, &KEY).unwrap();
        let suppressed: usize = out.suppressed.values().sum();
        prop_assert_eq!(out.invited + suppressed, found.len());
        for c in 0..5 {
            let mut at: Vec<i64> = db
                .contact_log(&format!("c{c}"))
                .unwrap()
                .into_iter()
                .filter(|e| e.decision == "invited")
                .map(|e| e.at)
                .collect();
            at.sort();
            prop_assert!(at.windows(2).all(|w| w[1] - w[0] >= 30 * DAY), "{:?}", at);
        }
        prop_assert!(out.suppressed.keys().all(|k| Suppression::parse(k).is_some()));
    }
}

#[test]
fn a_replay_sends_reminds_answers_and_expires_in_time() {
    let policy = ContactPolicy {
        reminders: 2,
        reminder_gap_days: 3,
        ..no_holdout()
    };
    let (_dir, db, r) = with_rule(&policy);
    let found = [
        candidate("c1", 0),
        candidate("c2", 0),
        candidate("c3", 0),
        candidate("c4", 90),
    ];
    db.invite(&r, &found, None, &KEY).unwrap();
    let sent = 1000 * DAY + DAY;
    // c1 answers at once, c2 after the first reminder, c3 never; c4 is due after the end.
    let answered = std::collections::HashMap::from([
        ("c1".to_string(), vec![sent - DAY, sent + 3600]),
        ("c2".to_string(), vec![sent + 4 * DAY]),
    ]);
    let end = 1000 * DAY + 60 * DAY;
    let out = db
        .replay_invitations(end, SurveyChannel::Email, &answered)
        .unwrap();
    assert_eq!(
        out,
        Replayed {
            sent: 3,
            responded: 2,
            reminded: 3,
            expired: 1
        }
    );
    let steps = |c: &str| -> Vec<(i64, String)> {
        db.contact_log(c)
            .unwrap()
            .into_iter()
            .skip(1)
            .map(|e| (e.at - sent, e.decision))
            .collect()
    };
    let s = |d: i64, what: &str| (d, what.to_string());
    assert_eq!(steps("c1"), vec![s(0, "sent"), s(3600, "responded")]);
    assert_eq!(
        steps("c2"),
        vec![
            s(0, "sent"),
            s(3 * DAY, "reminded"),
            s(4 * DAY, "responded")
        ]
    );
    let c3 = vec![
        s(0, "sent"),
        s(3 * DAY, "reminded"),
        s(6 * DAY, "reminded"),
        s(14 * DAY, "expired"),
    ];
    assert_eq!(steps("c3"), c3);
    assert_eq!(steps("c4"), vec![]);
    assert_eq!(
        db.send_due(SurveyChannel::Email, end).unwrap().len(),
        0,
        "c4 is still pending, due later"
    );
}

#[test]
fn an_erased_customer_leaves_no_survey_record() {
    let (_dir, db, r) = with_rule(&no_holdout());
    db.invite(
        &r,
        &[candidate("c1", 0), candidate("c1", 5), candidate("c2", 0)],
        None,
        &KEY,
    )
    .unwrap();
    db.opt_out("c1", "link", 0).unwrap();
    let rows = |id: &str| -> i64 {
        ["contact_log", "invitations", "survey_opt_outs"]
            .iter()
            .map(|t| {
                let sql = format!("SELECT COUNT(*) FROM {t} WHERE customer_id = ?1");
                db.conn()
                    .query_row(&sql, [id], |r| r.get::<_, i64>(0))
                    .unwrap()
            })
            .sum()
    };
    assert_eq!((rows("c1"), rows("c2")), (5, 2));
    assert_eq!(db.forget_survey_records(&["c1".into()]).unwrap(), 5);
    assert_eq!((rows("c1"), rows("c2")), (0, 2));
}

#[test]
fn reach_counts_the_invitations_sent_by_group() {
    let policy = ContactPolicy {
        reminders: 1,
        ..no_holdout()
    };
    let (_dir, db, r) = with_rule(&policy);
    let found = [
        candidate("c1", 0),
        candidate("c2", 0),
        candidate("c3", 0),
        candidate("c1", 70),
    ];
    db.invite(&r, &found, None, &KEY).unwrap();
    let sent = 1000 * DAY + DAY;
    let answered = std::collections::HashMap::from([
        ("c1".to_string(), vec![sent + 7200]),
        ("c2".to_string(), vec![sent + 4 * DAY]),
    ]);
    db.replay_invitations(1000 * DAY + 100 * DAY, SurveyChannel::Email, &answered)
        .unwrap();
    let by_survey = db.reach(RateGroup::Survey, &Ownership::default()).unwrap();
    let want = Reach {
        group: "S".into(),
        sent: 4,
        responded: 2,
        reminded: 3,
        expired: 2,
        customers: 3,
        median_hours_to_respond: Some(96.0),
        // Answered through their pages, which were therefore opened.
        opened: 2,
        ..Reach::default()
    };
    assert_eq!(by_survey, vec![want]);
    let weeks = db.reach(RateGroup::Week, &Ownership::default()).unwrap();
    assert_eq!(weeks.iter().map(|w| w.sent).sum::<u64>(), 4);
    assert_eq!(weeks.len(), 2, "{weeks:?}");
    let owned = |only: Option<&str>| Ownership {
        owners: [("check_in".to_string(), "Ground".to_string())].into(),
        only: only.map(String::from),
    };
    let by_owner = db.reach(RateGroup::Owner, &owned(None)).unwrap();
    assert_eq!(
        (by_owner[0].group.as_str(), by_owner[0].sent),
        ("Ground", 4)
    );
    assert!(
        db.reach(RateGroup::Owner, &owned(Some("Air")))
            .unwrap()
            .is_empty()
    );
    let theirs = db.reach(RateGroup::Survey, &owned(Some("Ground"))).unwrap();
    assert_eq!(theirs[0].sent, 4);
    let unowned = db.reach(RateGroup::Owner, &Ownership::default()).unwrap();
    assert_eq!(unowned[0].group, NO_OWNER);
}

/// An e-mail to `to`, as the server would queue it.
fn mail(to: &str) -> crate::outbox::Mail {
    crate::outbox::Mail {
        recipient: to.into(),
        message: format!("To: {to}\r\n\r\nhello").into_bytes(),
    }
}

/// The decisions logged about a customer, in order.
fn decisions(db: &OpsDb, customer: &str) -> Vec<String> {
    let log = db.contact_log(customer).unwrap();
    log.into_iter().map(|e| e.decision).collect()
}

#[test]
fn invitations_are_emailed_once_and_reminded_until_answered_or_opted_out() {
    let policy = ContactPolicy {
        reminders: 2,
        reminder_gap_days: 3,
        ..no_holdout()
    };
    let (_dir, db, r) = with_rule(&policy);
    let found = [candidate("c1", 0), candidate("c2", 0), candidate("c3", 0)];
    db.invite(&r, &found, None, &KEY).unwrap();
    let now = 1000 * DAY + 2 * DAY;
    let due = db.due_for_email(now, 10).unwrap();
    assert_eq!(due.len(), 3);
    assert!(db.due_for_email(now, 2).unwrap().len() == 2, "bounded");
    let id = |c: &str| due.iter().find(|i| i.customer_id == c).unwrap().id;
    let mails = [
        (id("c1"), mail("a@x.example")),
        (id("c2"), mail("b@x.example")),
    ];
    let sent = db.email_invitations(("cx@example.com", &mails), &[id("c3")], &policy, now);
    assert_eq!(sent.unwrap(), 2);
    assert!(db.due_for_email(now, 10).unwrap().is_empty());
    let again = db.email_invitations(("cx@example.com", &mails), &[], &policy, now);
    assert_eq!(again.unwrap(), 0, "an invitation is e-mailed once");
    let c1 = db.invitation(id("c1")).unwrap().unwrap();
    assert_eq!(
        (c1.status.as_str(), c1.expires_at),
        ("sent", Some(now + 14 * DAY))
    );
    assert_eq!(db.invitation(id("c3")).unwrap().unwrap().status, "pending");
    let left = db.send_unaddressed(now).unwrap();
    assert_eq!(left.len(), 1, "no address: left for the link export");
    assert_eq!(left[0].customer_id, "c3");
    assert_eq!(decisions(&db, "c1"), ["invited", "sent"]);
    let queued = db.deliveries(10).unwrap();
    let about: Vec<String> = queued.iter().map(|d| d.about()).collect();
    let want = [id("c2"), id("c1")].map(|i| format!("Survey invitation {i}"));
    assert_eq!(about, want);

    // c1 answers; c2 does not, and is reminded after the gap, twice.
    let answer = cxray_core::surveys::Answer {
        scores: vec![(Instrument::Nps, 9), (Instrument::Csat, 4)],
        comment: String::new(),
    };
    db.hold_answer(id("c1"), "de", &answer, now + DAY, 60)
        .unwrap();
    assert!(db.due_reminders(now + 3 * DAY - 1, 10).unwrap().is_empty());
    let due = db.due_reminders(now + 3 * DAY, 10).unwrap();
    assert_eq!(due.iter().map(|i| i.id).collect::<Vec<_>>(), [id("c2")]);
    let reminder = [(id("c2"), mail("b@x.example"))];
    let remind = |at: i64| db.remind(("cx@example.com", &reminder), &[], at).unwrap();
    assert_eq!(remind(now + 3 * DAY), 1);
    assert_eq!(remind(now + 3 * DAY), 0, "not again before the gap");
    assert!(db.due_reminders(now + 6 * DAY - 1, 10).unwrap().is_empty());
    assert_eq!(db.due_reminders(now + 6 * DAY, 10).unwrap().len(), 1);
    assert_eq!(remind(now + 6 * DAY), 1);
    assert!(
        db.due_reminders(now + 13 * DAY, 10).unwrap().is_empty(),
        "two at most"
    );
    assert_eq!(
        decisions(&db, "c2"),
        ["invited", "sent", "reminded", "reminded"]
    );
    assert_eq!(decisions(&db, "c1"), ["invited", "sent", "responded"]);
    let about = db.deliveries(1).unwrap().remove(0).about();
    assert_eq!(about, format!("Survey reminder {}", id("c2")));
    assert_eq!(
        db.expire_invitations(now + 15 * DAY, 10).unwrap(),
        2,
        "c2 and c3"
    );
}

#[test]
fn a_customer_opted_out_or_without_an_address_is_not_reminded() {
    let (_dir, db, r) = with_rule(&no_holdout());
    db.invite(&r, &[candidate("c1", 0), candidate("c2", 0)], None, &KEY)
        .unwrap();
    let now = 1000 * DAY + 2 * DAY;
    let ids: Vec<i64> = db
        .due_for_email(now, 10)
        .unwrap()
        .iter()
        .map(|i| i.id)
        .collect();
    let mails: Vec<_> = ids.iter().map(|id| (*id, mail("a@x.example"))).collect();
    let policy = db.contact_policy().unwrap();
    db.email_invitations(("cx@example.com", &mails), &[], &policy, now)
        .unwrap();
    db.opt_out("c1", "link", now + DAY).unwrap();
    let later = now + 3 * DAY;
    assert_eq!(db.due_reminders(later, 10).unwrap().len(), 2);
    let reminded = db.remind(("cx@example.com", &mails[..1]), &ids[1..], later);
    assert_eq!(reminded.unwrap(), 0);
    assert!(db.due_reminders(later + 30 * DAY, 10).unwrap().is_empty());
    assert_eq!(decisions(&db, "c1"), ["invited", "sent", "opted_out"]);
    assert_eq!(decisions(&db, "c2"), ["invited", "sent"]);
}

#[test]
fn reach_counts_e_mails_delivered_and_pages_opened() {
    let (_dir, db, r) = with_rule(&no_holdout());
    let found = [candidate("c1", 0), candidate("c2", 0), candidate("c3", 0)];
    db.invite(&r, &found, None, &KEY).unwrap();
    let now = 1000 * DAY + 2 * DAY;
    let due = db.due_for_email(now, 10).unwrap();
    let mails: Vec<_> = due[..2]
        .iter()
        .map(|i| (i.id, mail("a@x.example")))
        .collect();
    let policy = db.contact_policy().unwrap();
    db.email_invitations(("cx@example.com", &mails), &[], &policy, now)
        .unwrap();
    db.send_due(SurveyChannel::Link, now).unwrap();
    let queued = db.queued(chrono::Utc::now(), true, None).unwrap();
    let at = chrono::Utc::now();
    db.record_try(queued[0].id, &crate::outbox::Outcome::Sent, at)
        .unwrap();
    db.mark_opened(due[0].id, now + 60).unwrap();
    db.mark_opened(due[0].id, now + 120).unwrap();
    db.mark_opened(due[2].id, now + 60).unwrap();
    let opened = db.invitation(due[0].id).unwrap().unwrap().opened_at;
    assert_eq!(opened, Some(now + 60), "the first opening");
    let reach = db.reach(RateGroup::Channel, &Ownership::default()).unwrap();
    let email = reach.iter().find(|g| g.group == "email").unwrap();
    assert_eq!(
        (email.sent, email.emailed, email.delivered, email.opened),
        (2, 2, 1, 1)
    );
    let link = reach.iter().find(|g| g.group == "link").unwrap();
    assert_eq!(
        (link.sent, link.emailed, link.delivered, link.opened),
        (1, 0, 0, 1)
    );
    // Erasure takes the customer's e-mails with their invitations.
    let customer = due[0].customer_id.clone();
    db.forget_survey_records(&[customer]).unwrap();
    assert_eq!(db.deliveries(10).unwrap().len(), 1);
}
