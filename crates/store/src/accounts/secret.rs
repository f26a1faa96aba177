//! Secrets from the system's random source: tokens, generated passwords, the pseudonym
//! key; and the hash under which tokens are stored.

use crate::db::params;
use cxray_core::access::PseudonymKey;

use crate::ops::OpsDb;
use crate::{Result, StoreError};

/// Characters of generated passwords: 32 (5 bits each), without look-alikes (i l o u).
const PASSWORD_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// `N` bytes from the operating system's random source.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|e| StoreError::Crypto(format!("system random source: {e}")))?;
    Ok(bytes)
}

/// 32 random bytes in hex: a session, CSRF or API token.
pub fn random_token() -> Result<String> {
    Ok(random_bytes::<32>()?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// How a token is stored: its BLAKE3 hash in hex. Tokens are 256 random bits, so a fast
/// hash is enough; the database alone does not give anyone a working token.
pub(super) fn token_hash(token: &str) -> String {
    blake3::hash(token.as_bytes()).to_hex().to_string()
}

/// A strong random password: 20 characters (100 bits) in groups of four, e.g.
/// `k3vd-9q2m-x7rt-0bnw-c4hz`.
pub fn generate_password() -> Result<String> {
    let bytes = random_bytes::<20>()?;
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| PASSWORD_ALPHABET[usize::from(b & 31)] as char)
        .collect();
    Ok(chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

impl OpsDb {
    /// The data folder's secret key of customer pseudonyms (see
    /// [`cxray_core::access::pseudonym`]), made at random on first use.
    pub fn pseudonym_key(&self) -> Result<PseudonymKey> {
        self.conn().execute(
            "INSERT INTO secrets (name, value) VALUES ('pseudonym_key', ?1) ON CONFLICT DO NOTHING",
            params![random_bytes::<32>()?],
        )?;
        let key: Vec<u8> = self.conn().query_row(
            "SELECT value FROM secrets WHERE name = 'pseudonym_key'",
            [],
            |r| r.get(0),
        )?;
        key.try_into().map_err(|_| {
            StoreError::Folder(
                "the pseudonym key in the operational database is not 32 bytes".into(),
            )
        })
    }

    /// Replaces the data folder's secret key with `key`: for the demo world only, whose
    /// holdout draws the simulation made with a key from its seed (pseudonyms, signed
    /// links and draws made with the old key change with it).
    pub fn set_pseudonym_key(&self, key: &PseudonymKey) -> Result<()> {
        self.conn().execute(
            "INSERT INTO secrets (name, value) VALUES ('pseudonym_key', ?1)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            params![key.as_slice()],
        )?;
        Ok(())
    }
}
