//! Signing in: the password check and the rate limit on failures.

use std::sync::LazyLock;

use crate::db::{OptionalExtension, params};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use super::{MAX_EMAIL_BYTES, USER_COLUMNS, User, now_secs, user_row};
use crate::ops::{OpsDb, audit};
use crate::{Result, StoreError};

/// Failed sign-ins for one email within [`RATE_WINDOW_MINUTES`] after which it is refused.
pub const MAX_FAILURES_PER_EMAIL: u64 = 5;
/// Failed sign-ins from one address within [`RATE_WINDOW_MINUTES`] after which it is refused.
pub const MAX_FAILURES_PER_ADDRESS: u64 = 20;
/// How long failed sign-ins count.
pub const RATE_WINDOW_MINUTES: u64 = 15;

/// A hash to verify against when the email is unknown, so that the answer takes as long
/// as for a known user and does not tell who has an account.
static DECOY_HASH: LazyLock<String> = LazyLock::new(|| {
    Argon2::default()
        .hash_password_with_salt(b"not anyone's password", b"cxray-decoy-salt")
        .expect("a 16-byte salt is valid")
        .to_string()
});

impl OpsDb {
    /// Signs in: the user whose email and password these are, unless failures for the
    /// email or from `address` hit the rate limit. Successes, failures and refusals are
    /// audited with the address.
    pub fn login(&self, email: &str, password: &str, address: &str) -> Result<User> {
        let email: String = email
            .trim()
            .to_lowercase()
            .chars()
            .take(MAX_EMAIL_BYTES)
            .collect();
        let actor = format!("web:{email}");
        let from = format!("from {address}");
        if !self.claim_attempt(&email, address)? {
            audit(self.conn(), &actor, "login_refused", &from)?;
            return Err(StoreError::RateLimited {
                minutes: RATE_WINDOW_MINUTES,
            });
        }
        let user = self.verify_password(&email, password)?;
        let tx = self.conn().write()?;
        match &user {
            Some(_) => {
                tx.execute(
                    "DELETE FROM login_failures WHERE email = ?1",
                    params![email],
                )?;
                audit(&tx, &actor, "login", &from)?;
            }
            None => audit(&tx, &actor, "login_failed", &from)?,
        }
        tx.commit()?;
        user.ok_or(StoreError::BadCredentials)
    }

    /// Records an attempt as a failure before its password is checked (a success deletes
    /// it), unless the failures within the window already reach the limit for the email
    /// or the address; forgets older failures. One `BEGIN IMMEDIATE` transaction, so
    /// concurrent attempts are counted one after another and at most the limit of them
    /// cost a password hash. Whether the attempt may go on.
    fn claim_attempt(&self, email: &str, address: &str) -> Result<bool> {
        let now = now_secs();
        let since = now - RATE_WINDOW_MINUTES as i64 * 60;
        let tx = self.conn().write()?;
        tx.execute("DELETE FROM login_failures WHERE at <= ?1", params![since])?;
        let count = |column: &str, value: &str| -> Result<u64> {
            let sql = format!("SELECT count(*) FROM login_failures WHERE {column} = ?1");
            Ok(tx.query_row(&sql, params![value], |r| r.get(0))?)
        };
        if count("email", email)? >= MAX_FAILURES_PER_EMAIL
            || count("address", address)? >= MAX_FAILURES_PER_ADDRESS
        {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO login_failures (at, email, address) VALUES (?1, ?2, ?3)",
            params![now, email, address],
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// The enabled user with this email and password. Always computes one argon2 hash,
    /// whether the user exists or not; the comparison is argon2's, in constant time.
    fn verify_password(&self, email: &str, password: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = ?1");
        let found = self
            .conn()
            .query_row(&sql, params![email], |r| {
                Ok((user_row(r)?, r.get::<_, String>(7)?))
            })
            .optional()?;
        let hash = found
            .as_ref()
            .map_or(DECOY_HASH.as_str(), |(_, h)| h.as_str());
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), hash)
            .is_ok();
        Ok(found
            .map(|(user, _)| user)
            .filter(|user| matches && !user.disabled))
    }
}
