//! Users and access, in the operational database: users with argon2id password hashes,
//! sign-in with rate limiting, sessions, API tokens, and the data folder's pseudonym key.
//! Every change and every sign-in is audited.

mod login;
mod secret;
mod sessions;
mod tokens;

use crate::db::{OptionalExtension, Row, params};
use argon2::Argon2;
use argon2::password_hash::PasswordHasher;
use cxray_core::access::Role;
use serde::Serialize;

use crate::ops::{OpsDb, audit, now_text, parse_column};
use crate::{Result, StoreError};

pub use login::{MAX_FAILURES_PER_ADDRESS, MAX_FAILURES_PER_EMAIL, RATE_WINDOW_MINUTES};
pub(crate) use secret::random_bytes;
pub use secret::{generate_password, random_token};
pub use sessions::{NewSession, SessionUser};
pub use tokens::{NewToken, TOKEN_PREFIX, TokenInfo, TokenUser};

/// The shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest password accepted, in bytes.
const MAX_PASSWORD_BYTES: usize = 1024;
/// The longest email address accepted (RFC 5321's path limit).
use cxray_core::access::MAX_EMAIL_BYTES;

/// A user, without the password hash.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct User {
    pub id: i64,
    /// Lower case.
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The owner (owners.owner_id) an owner or partner belongs to.
    pub owner_id: Option<String>,
    pub created_at: String,
    pub disabled: bool,
}

/// A user to add.
#[derive(Debug, Clone, Copy)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    /// Required for owners and partners, refused for the other roles.
    pub owner_id: Option<&'a str>,
    pub password: &'a str,
}

/// The columns [`user_row`] reads, from `users`.
const USER_COLUMNS: &str = "users.id, users.email, users.name, users.role, users.owner_id, users.created_at, users.disabled";

impl OpsDb {
    /// Adds a user with an argon2id hash of the password, with an audit entry.
    pub fn add_user(&self, actor: &str, new: &NewUser) -> Result<User> {
        let email = check_email(new.email)?;
        let name = check_name(new.name)?;
        let owner = check_owner(new.role, new.owner_id)?;
        check_password(new.password)?;
        let hash = hash_password(new.password)?;
        let tx = self.conn().write()?;
        if user_by_email(&tx, &email)?.is_some() {
            return Err(StoreError::invalid(
                "email",
                format!("email {email}: a user with it already exists"),
            ));
        }
        tx.execute(
            "INSERT INTO users (email, name, role, owner_id, password_hash, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![email, name, new.role.name(), owner, hash, now_text()],
        )?;
        let detail = match owner {
            Some(o) => format!("{email} as {} of {o}", new.role),
            None => format!("{email} as {}", new.role),
        };
        audit(&tx, actor, "add_user", &detail)?;
        let user = user_by_email(&tx, &email)?.expect("just inserted");
        tx.commit()?;
        Ok(user)
    }

    /// Every user, by email.
    pub fn users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY email");
        let mut stmt = self.conn().prepare(&sql)?;
        let rows = stmt.query_map([], user_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Replaces a user's password; their sessions end. Audited.
    pub fn set_password(&self, actor: &str, email: &str, password: &str) -> Result<User> {
        check_password(password)?;
        let hash = hash_password(password)?;
        let tx = self.conn().write()?;
        let user = known_user(&tx, email)?;
        tx.execute(
            "UPDATE users SET password_hash = ?2 WHERE id = ?1",
            params![user.id, hash],
        )?;
        tx.execute("DELETE FROM sessions WHERE user_id = ?1", params![user.id])?;
        audit(&tx, actor, "set_password", &user.email)?;
        tx.commit()?;
        Ok(user)
    }

    /// Disables a user: their sessions end and their API tokens stop working. Audited.
    pub fn disable_user(&self, actor: &str, email: &str) -> Result<User> {
        let tx = self.conn().write()?;
        let user = known_user(&tx, email)?;
        tx.execute(
            "UPDATE users SET disabled = 1 WHERE id = ?1",
            params![user.id],
        )?;
        tx.execute("DELETE FROM sessions WHERE user_id = ?1", params![user.id])?;
        audit(&tx, actor, "disable_user", &user.email)?;
        tx.commit()?;
        Ok(User {
            disabled: true,
            ..user
        })
    }
}

/// The user with this email (any case), if any.
fn user_by_email(conn: &crate::db::Conn, email: &str) -> Result<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = ?1");
    Ok(conn
        .query_row(&sql, params![email.trim()], user_row)
        .optional()?)
}

/// The user with this email, or an input error naming it.
fn known_user(conn: &crate::db::Conn, email: &str) -> Result<User> {
    user_by_email(conn, email)?
        .ok_or_else(|| StoreError::invalid("email", format!("no user {}", email.trim())))
}

/// A [`User`] from a row that starts with [`USER_COLUMNS`].
fn user_row(r: &Row) -> crate::db::DbResult<User> {
    Ok(User {
        id: r.get(0)?,
        email: r.get(1)?,
        name: r.get(2)?,
        role: parse_column(r, 3, str::parse::<Role>)?,
        owner_id: r.get(4)?,
        created_at: r.get(5)?,
        disabled: r.get(6)?,
    })
}

/// An email address, trimmed and in lower case: one `@`, a dotted domain, no spaces,
/// quotes or markup.
fn check_email(text: &str) -> Result<String> {
    let email = text.trim().to_lowercase();
    let ok = cxray_core::access::is_email(&email);
    if ok {
        Ok(email)
    } else {
        Err(StoreError::invalid(
            "email",
            format!(
                "email '{}': not an address like name@example.com",
                text.trim()
            ),
        ))
    }
}

/// A display name: trimmed, 1 to 200 characters, no control characters.
fn check_name(text: &str) -> Result<&str> {
    let name = text.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(StoreError::invalid(
            "name",
            "name: 1 to 200 characters, no control characters",
        ));
    }
    Ok(name)
}

/// The owner of an owner or partner; none for the other roles.
fn check_owner(role: Role, owner: Option<&str>) -> Result<Option<&str>> {
    match (role.needs_owner(), owner.map(str::trim)) {
        (true, Some(o)) if !o.is_empty() => Ok(Some(o)),
        (true, _) => Err(StoreError::invalid(
            "owner",
            format!("role {role}: needs the owner (owners.owner_id) the user belongs to"),
        )),
        (false, None) => Ok(None),
        (false, Some(_)) => Err(StoreError::invalid(
            "owner",
            format!("role {role}: sees every owner; only owners and partners belong to one"),
        )),
    }
}

fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(StoreError::invalid(
            "password",
            format!(
                "password: at least {MIN_PASSWORD_CHARS} characters (and at most {MAX_PASSWORD_BYTES} bytes)"
            ),
        ));
    }
    Ok(())
}

/// An argon2id hash (default parameters, random salt) in PHC form.
fn hash_password(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Crypto(format!("password hash: {e}")))
}

/// Now in seconds since 1970, for the columns that are compared.
fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The tests, on each backend of the operational database.
#[cfg(test)]
mod tests {
    crate::on_each_backend!("accounts/tests.rs");
}
