//! The confirmation after a change, carried across its redirect (303) in a short-lived
//! cookie for `/admin` and shown once: the page that shows it clears it. A generated
//! password or API token travels the same way, so it is shown once and never put in a
//! URL (which request logs keep).

use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};

use crate::auth::cookie;

/// The cookie's name.
const COOKIE: &str = "cxray_flash";
/// How long a confirmation waits for its page, in seconds.
const SECONDS: u64 = 120;

/// What a change did, for the page after it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flash {
    /// The user who made the change: nobody else sees it.
    pub user: i64,
    pub message: String,
    /// A generated secret, shown once: what it is and the secret.
    pub secret: Option<(String, String)>,
}

impl Flash {
    /// The `Set-Cookie` value carrying this confirmation.
    pub fn cookie(&self, secure: bool) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        let hex: String = json.iter().map(|b| format!("{b:02x}")).collect();
        cookie::set(COOKIE, &hex, "/admin", SECONDS, secure)
    }

    /// The confirmation for `user` the request carries, if any.
    pub fn take(headers: &HeaderMap, user: i64) -> Option<Flash> {
        let hex = cookie::get(headers, COOKIE)?;
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
            .collect::<Option<Vec<u8>>>()?;
        let flash: Flash = serde_json::from_slice(&bytes).ok()?;
        (flash.user == user).then_some(flash)
    }

    /// Whether the request carries a confirmation (for anyone).
    pub fn sent(headers: &HeaderMap) -> bool {
        cookie::get(headers, COOKIE).is_some()
    }

    /// The `Set-Cookie` value that removes the confirmation.
    pub fn clear(secure: bool) -> String {
        cookie::set(COOKIE, "", "/admin", 0, secure)
    }
}
