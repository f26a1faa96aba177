//! Browser sessions: a random token in a cookie, stored only as its hash, with the CSRF
//! token of the session's forms.

use std::time::Duration;

use crate::db::{OptionalExtension, params};

use super::secret::{random_token, token_hash};
use super::{USER_COLUMNS, User, now_secs, user_row};
use crate::Result;
use crate::ops::OpsDb;

/// How stale `last_seen` may get before a request updates it (saves a write per request).
const TOUCH_SECONDS: i64 = 60;

/// A new session's secrets, shown once: the cookie's token and the forms' CSRF token.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub csrf: String,
}

/// The user of a live session and the session's CSRF token.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub user: User,
    pub csrf: String,
}

impl OpsDb {
    /// Starts a session for a user that ends after `lifetime`; forgets ended sessions.
    pub fn create_session(&self, user_id: i64, lifetime: Duration) -> Result<NewSession> {
        let session = NewSession {
            token: random_token()?,
            csrf: random_token()?,
        };
        let now = now_secs();
        let expires = now.saturating_add(i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX));
        let tx = self.conn().write()?;
        tx.execute("DELETE FROM sessions WHERE expires_at <= ?1", params![now])?;
        tx.execute(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at, last_seen)
             VALUES (?1, ?2, ?3, ?4, ?5, ?4)",
            params![token_hash(&session.token), user_id, session.csrf, now, expires],
        )?;
        tx.commit()?;
        Ok(session)
    }

    /// The enabled user of the live session with this token, if any; notes the visit.
    pub fn session_user(&self, token: &str) -> Result<Option<SessionUser>> {
        let hash = token_hash(token);
        let now = now_secs();
        let sql = format!(
            "SELECT {USER_COLUMNS}, sessions.csrf_token FROM sessions
             JOIN users ON users.id = sessions.user_id
             WHERE sessions.token_hash = ?1 AND sessions.expires_at > ?2 AND users.disabled = 0"
        );
        let found = self
            .conn()
            .query_row(&sql, params![hash, now], |r| {
                Ok(SessionUser {
                    user: user_row(r)?,
                    csrf: r.get(7)?,
                })
            })
            .optional()?;
        if found.is_some() {
            self.conn().execute(
                "UPDATE sessions SET last_seen = ?2 WHERE token_hash = ?1 AND last_seen < ?3",
                params![hash, now, now - TOUCH_SECONDS],
            )?;
        }
        Ok(found)
    }

    /// Ends the session with this token (signing out).
    pub fn delete_session(&self, token: &str) -> Result<()> {
        self.conn().execute(
            "DELETE FROM sessions WHERE token_hash = ?1",
            params![token_hash(token)],
        )?;
        Ok(())
    }
}
