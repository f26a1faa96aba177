use std::time::Duration;

use cxray_core::access::{Role, Scope};

use crate::accounts::*;

const PASSWORD: &str = "correct horse battery";

fn user<'a>(email: &'a str, role: Role, owner_id: Option<&'a str>) -> NewUser<'a> {
    NewUser {
        email,
        name: "Ada Lovelace",
        role,
        owner_id,
        password: PASSWORD,
    }
}

fn input_error(e: StoreError) -> String {
    assert!(
        matches!(e, StoreError::Input(_) | StoreError::Invalid { .. }),
        "{e:?}"
    );
    e.to_string()
}

fn actions(db: &OpsDb) -> Vec<String> {
    let entries = db.recent_audit(100).unwrap();
    entries.into_iter().rev().map(|e| e.action).collect()
}

#[test]
fn users_are_validated_and_passwords_hashed_with_argon2id() {
    let (_dir, db) = db();
    let ada = db
        .add_user("test", &user(" Ada@Example.COM ", Role::Admin, None))
        .unwrap();
    assert_eq!(ada.email, "ada@example.com");
    let hash: String = db
        .conn()
        .query_row("SELECT password_hash FROM users", [], |r| r.get(0))
        .unwrap();
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    assert!(!hash.contains(PASSWORD));

    let again = db.add_user("test", &user("ADA@example.com", Role::Analyst, None));
    assert!(input_error(again.unwrap_err()).contains("already exists"));
    for bad in [
        "ada",
        "<script>@x.org",
        "' OR 1=1 --",
        "a@b",
        "a b@c.org",
        "a@.org",
    ] {
        let e = db
            .add_user("test", &user(bad, Role::Analyst, None))
            .unwrap_err();
        assert!(input_error(e).contains("not an address"), "{bad}");
    }
    let e = db.add_user("test", &user("p@x.org", Role::Partner, None));
    assert!(input_error(e.unwrap_err()).contains("needs the owner"));
    let e = db.add_user("test", &user("e@x.org", Role::Executive, Some("ops")));
    assert!(input_error(e.unwrap_err()).contains("sees every owner"));
    let short = NewUser {
        password: "short pass",
        ..user("s@x.org", Role::Analyst, None)
    };
    assert!(input_error(db.add_user("test", &short).unwrap_err()).contains("at least 12"));

    let partner = db
        .add_user("test", &user("p@x.org", Role::Partner, Some("airport")))
        .unwrap();
    assert_eq!(partner.owner_id.as_deref(), Some("airport"));
    let listed: Vec<String> = db.users().unwrap().into_iter().map(|u| u.email).collect();
    assert_eq!(listed, ["ada@example.com", "p@x.org"]);
    assert_eq!(actions(&db), ["add_user", "add_user"]);
}

#[test]
fn login_checks_the_password_and_audits() {
    let (_dir, db) = db();
    db.add_user("test", &user("ada@example.com", Role::Analyst, None))
        .unwrap();
    let ok = db.login("ADA@example.com", PASSWORD, "10.0.0.1").unwrap();
    assert_eq!(ok.email, "ada@example.com");
    let wrong = db.login("ada@example.com", "correct horse battery!", "10.0.0.1");
    assert!(matches!(wrong, Err(StoreError::BadCredentials)));
    let nobody = db.login("bob@example.com", PASSWORD, "10.0.0.1");
    assert!(matches!(nobody, Err(StoreError::BadCredentials)));
    db.disable_user("test", "ada@example.com").unwrap();
    let disabled = db.login("ada@example.com", PASSWORD, "10.0.0.1");
    assert!(matches!(disabled, Err(StoreError::BadCredentials)));
    assert_eq!(
        actions(&db),
        [
            "add_user",
            "login",
            "login_failed",
            "login_failed",
            "disable_user",
            "login_failed"
        ]
    );
    let last = &db.recent_audit(1).unwrap()[0];
    assert_eq!(
        (last.actor.as_str(), last.detail.as_str()),
        ("web:ada@example.com", "from 10.0.0.1")
    );
}

#[test]
fn failures_are_rate_limited_per_email_and_per_address() {
    let (_dir, db) = db();
    db.add_user("test", &user("ada@example.com", Role::Analyst, None))
        .unwrap();
    for _ in 0..MAX_FAILURES_PER_EMAIL {
        let e = db.login("ada@example.com", "wrong password!", "10.0.0.1");
        assert!(matches!(e, Err(StoreError::BadCredentials)));
    }
    // Even the right password is refused now, without being checked.
    let limited = db
        .login("ada@example.com", PASSWORD, "10.0.0.2")
        .unwrap_err();
    assert!(matches!(limited, StoreError::RateLimited { minutes: 15 }));
    assert_eq!(
        limited.to_string(),
        "too many failed sign-ins: try again in 15 minutes"
    );
    assert_eq!(actions(&db).last().unwrap(), "login_refused");

    // Failures from one address across many emails.
    db.add_user("test", &user("bob@example.com", Role::Analyst, None))
        .unwrap();
    let before = MAX_FAILURES_PER_EMAIL;
    for i in before..MAX_FAILURES_PER_ADDRESS {
        let _ = db.login(
            &format!("guess{i}@example.com"),
            "wrong password!",
            "10.0.0.1",
        );
    }
    let e = db.login("bob@example.com", PASSWORD, "10.0.0.1");
    assert!(matches!(e, Err(StoreError::RateLimited { .. })));
    assert!(db.login("bob@example.com", PASSWORD, "10.0.0.3").is_ok());

    // Failures older than the window no longer count.
    db.conn()
        .execute("UPDATE login_failures SET at = at - 15 * 60", [])
        .unwrap();
    assert!(db.login("ada@example.com", PASSWORD, "10.0.0.1").is_ok());
}

#[test]
fn sessions_live_until_they_expire_or_end() {
    let (_dir, db) = db();
    let ada = db
        .add_user("test", &user("ada@example.com", Role::Owner, Some("crew")))
        .unwrap();
    let s = db
        .create_session(ada.id, Duration::from_secs(3600))
        .unwrap();
    assert_eq!((s.token.len(), s.csrf.len()), (64, 64));
    assert_ne!(s.token, s.csrf);
    let found = db.session_user(&s.token).unwrap().unwrap();
    assert_eq!(found.user, ada);
    assert_eq!(found.csrf, s.csrf);
    let stored: String = db
        .conn()
        .query_row("SELECT token_hash FROM sessions", [], |r| r.get(0))
        .unwrap();
    assert_ne!(stored, s.token, "only the hash is stored");
    assert!(db.session_user(&s.csrf).unwrap().is_none());

    let expired = db.create_session(ada.id, Duration::ZERO).unwrap();
    assert!(db.session_user(&expired.token).unwrap().is_none());

    db.delete_session(&s.token).unwrap();
    assert!(db.session_user(&s.token).unwrap().is_none());

    let s = db
        .create_session(ada.id, Duration::from_secs(3600))
        .unwrap();
    db.set_password("test", "ada@example.com", "another long passphrase")
        .unwrap();
    assert!(db.session_user(&s.token).unwrap().is_none());
    assert!(db.login("ada@example.com", PASSWORD, "10.0.0.1").is_err());
    assert!(
        db.login("ada@example.com", "another long passphrase", "10.0.0.1")
            .is_ok()
    );

    let s = db
        .create_session(ada.id, Duration::from_secs(3600))
        .unwrap();
    db.disable_user("test", "ada@example.com").unwrap();
    assert!(db.session_user(&s.token).unwrap().is_none());
}

#[test]
fn api_tokens_carry_scopes_and_can_be_revoked() {
    let (_dir, db) = db();
    db.add_user("test", &user("ada@example.com", Role::Analyst, None))
        .unwrap();
    let t = db
        .create_api_token(
            "test",
            "ada@example.com",
            "nightly import",
            &[Scope::Ingest],
        )
        .unwrap();
    assert!(
        t.token.starts_with("cxr_") && t.token.len() == 68,
        "{}",
        t.token
    );
    let found = db.token_user(&t.token).unwrap().unwrap();
    assert_eq!(found.user.email, "ada@example.com");
    assert_eq!(found.scopes, [Scope::Ingest]);
    assert!(db.token_user(&t.token[4..]).unwrap().is_none());
    assert!(db.token_user("cxr_nope").unwrap().is_none());
    let listed = db.api_tokens().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].name.as_str(), listed[0].revoked),
        ("nightly import", false)
    );

    let nobody = db.create_api_token("test", "bob@example.com", "x", &[Scope::Read]);
    assert!(input_error(nobody.unwrap_err()).contains("no user bob@example.com"));
    let none = db.create_api_token("test", "ada@example.com", "x", &[]);
    assert!(input_error(none.unwrap_err()).contains("at least one"));

    db.revoke_api_token("test", t.id).unwrap();
    assert!(db.token_user(&t.token).unwrap().is_none());
    assert!(db.api_tokens().unwrap()[0].revoked);
    assert!(input_error(db.revoke_api_token("test", t.id).unwrap_err()).contains("no live"));
    assert_eq!(actions(&db), ["add_user", "add_token", "revoke_token"]);
}

#[test]
fn the_pseudonym_key_is_made_once_and_kept() {
    let (database, db) = db();
    let key = db.pseudonym_key().unwrap();
    assert_eq!(database.open().pseudonym_key().unwrap(), key);
    assert_ne!(key, [0u8; 32]);
}

#[test]
fn generated_passwords_are_long_and_different() {
    let a = generate_password().unwrap();
    assert_eq!(a.len(), 24);
    assert!(a.chars().count() >= MIN_PASSWORD_CHARS);
    assert_ne!(a, generate_password().unwrap());
}
