//! API tokens: `cxr_` and 256 random bits, stored only as their hash, with scopes.

use crate::db::{OptionalExtension, params};
use cxray_core::access::{Scope, parse_scopes, scopes_text};
use serde::Serialize;

use super::secret::{random_token, token_hash};
use super::{USER_COLUMNS, User, known_user, user_row};
use crate::ops::{OpsDb, audit, now_text, parse_column};
use crate::{Result, StoreError};

/// What every API token starts with, so that leaked tokens are easy to recognise.
pub const TOKEN_PREFIX: &str = "cxr_";

/// A new token, shown once.
#[derive(Debug, Clone, Serialize)]
pub struct NewToken {
    pub id: i64,
    pub token: String,
}

/// A token as listed: never the token itself.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    /// The email of the user the token acts as.
    pub email: String,
    pub scopes: Vec<Scope>,
    pub created_at: String,
    pub revoked: bool,
}

/// The enabled user a live token acts as, and what the token may do.
#[derive(Debug, Clone)]
pub struct TokenUser {
    /// The token's id.
    pub id: i64,
    pub user: User,
    pub scopes: Vec<Scope>,
}

impl OpsDb {
    /// Creates a token acting as the user with `email`, with at least one scope. Audited.
    pub fn create_api_token(
        &self,
        actor: &str,
        email: &str,
        name: &str,
        scopes: &[Scope],
    ) -> Result<NewToken> {
        let name = name.trim();
        if name.is_empty() || name.chars().any(char::is_control) {
            return Err(StoreError::invalid(
                "name",
                "token name: some text, say what it is for",
            ));
        }
        if scopes.is_empty() {
            return Err(StoreError::invalid(
                "scopes",
                "token scopes: at least one of read, ingest",
            ));
        }
        let token = format!("{TOKEN_PREFIX}{}", random_token()?);
        let tx = self.conn().write()?;
        let user = known_user(&tx, email)?;
        let id = tx.insert(
            "INSERT INTO api_tokens (name, token_hash, scopes, user_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                name,
                token_hash(&token),
                scopes_text(scopes),
                user.id,
                now_text()
            ],
        )?;

        let detail = format!("{id} '{name}' for {} ({})", user.email, scopes_text(scopes));
        audit(&tx, actor, "add_token", &detail)?;
        tx.commit()?;
        Ok(NewToken { id, token })
    }

    /// Every token, oldest first.
    pub fn api_tokens(&self) -> Result<Vec<TokenInfo>> {
        let mut stmt = self.conn().prepare(
            "SELECT api_tokens.id, api_tokens.name, users.email, api_tokens.scopes,
                    api_tokens.created_at, api_tokens.revoked
             FROM api_tokens JOIN users ON users.id = api_tokens.user_id ORDER BY api_tokens.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(TokenInfo {
                id: r.get(0)?,
                name: r.get(1)?,
                email: r.get(2)?,
                scopes: parse_column(r, 3, parse_scopes)?,
                created_at: r.get(4)?,
                revoked: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The user and scopes of a live token (not revoked, its user enabled), if any.
    pub fn token_user(&self, token: &str) -> Result<Option<TokenUser>> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let sql = format!(
            "SELECT {USER_COLUMNS}, api_tokens.scopes, api_tokens.id FROM api_tokens
             JOIN users ON users.id = api_tokens.user_id
             WHERE api_tokens.token_hash = ?1 AND api_tokens.revoked = 0 AND users.disabled = 0"
        );
        Ok(self
            .conn()
            .query_row(&sql, params![token_hash(token)], |r| {
                Ok(TokenUser {
                    id: r.get(8)?,
                    user: user_row(r)?,
                    scopes: parse_column(r, 7, parse_scopes)?,
                })
            })
            .optional()?)
    }

    /// Revokes a token by id. Audited.
    pub fn revoke_api_token(&self, actor: &str, id: i64) -> Result<()> {
        let tx = self.conn().write()?;
        let changed = tx.execute(
            "UPDATE api_tokens SET revoked = 1 WHERE id = ?1 AND revoked = 0",
            params![id],
        )?;
        if changed == 0 {
            return Err(StoreError::Input(format!("no live API token {id}")));
        }
        audit(&tx, actor, "revoke_token", &id.to_string())?;
        tx.commit()?;
        Ok(())
    }
}
