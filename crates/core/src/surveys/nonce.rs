//! The anonymous survey form's nonce: when the form was handed out and a random part,
//! signed with the data folder's key for one anonymous link. The server takes each nonce
//! once, so every answer through an anonymous link needs a page fetched from this server
//! first — no cookie needed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::signature;
use crate::access::PseudonymKey;

/// Bytes of the signature kept: 128 bits.
const MAC_BYTES: usize = signature::BYTES;
/// Bytes of a decoded nonce: time, random part, signature.
const NONCE_BYTES: usize = 8 + 16 + MAC_BYTES;

/// A form's nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nonce {
    /// Seconds since the epoch when the form was handed out.
    pub issued: i64,
    pub random: [u8; 16],
}

/// Why a nonce is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NonceError {
    #[error("the form was not handed out by this server for this survey")]
    Forged,
    #[error("the form is too old")]
    Old,
}

impl Nonce {
    /// The nonce's text for the anonymous link `public_id`: 54 URL-safe characters.
    pub fn sign(&self, key: &PseudonymKey, public_id: &str) -> String {
        let mut bytes = Vec::with_capacity(NONCE_BYTES);
        bytes.extend_from_slice(&self.issued.to_le_bytes());
        bytes.extend_from_slice(&self.random);
        bytes.extend_from_slice(&mac(key, public_id, &bytes));
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The nonce a text carries, checked against the key, the link and the time `now`:
    /// handed out at most `max_age` seconds ago (and not in the future).
    pub fn verify(
        text: &str,
        key: &PseudonymKey,
        public_id: &str,
        now: i64,
        max_age: i64,
    ) -> Result<Nonce, NonceError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| NonceError::Forged)?;
        if bytes.len() != NONCE_BYTES {
            return Err(NonceError::Forged);
        }
        let (body, signed) = bytes.split_at(NONCE_BYTES - MAC_BYTES);
        if !signature::matches(&mac(key, public_id, body), signed) {
            return Err(NonceError::Forged);
        }
        let nonce = Nonce {
            issued: i64::from_le_bytes(body[..8].try_into().expect("8 bytes")),
            random: body[8..].try_into().expect("16 bytes"),
        };
        match (0..=max_age).contains(&(now - nonce.issued)) {
            true => Ok(nonce),
            false => Err(NonceError::Old),
        }
    }
}

fn mac(key: &PseudonymKey, public_id: &str, body: &[u8]) -> [u8; MAC_BYTES] {
    let purpose = b"cxray-survey-nonce\0";
    signature::sign(key, purpose, &[public_id.as_bytes(), b"\0", body])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KEY: PseudonymKey = [5; 32];

    #[test]
    fn a_nonce_holds_for_its_link_until_it_is_old() {
        let n = Nonce {
            issued: 1_000,
            random: [7; 16],
        };
        let text = n.sign(&KEY, "abc");
        assert_eq!(text.len(), 54);
        assert_eq!(Nonce::verify(&text, &KEY, "abc", 1_100, 100), Ok(n));
        assert_eq!(
            Nonce::verify(&text, &KEY, "abc", 1_101, 100),
            Err(NonceError::Old)
        );
        assert_eq!(
            Nonce::verify(&text, &KEY, "abc", 999, 100),
            Err(NonceError::Old)
        );
        assert_eq!(
            Nonce::verify(&text, &KEY, "abd", 1_000, 100),
            Err(NonceError::Forged)
        );
        assert_eq!(
            Nonce::verify("", &KEY, "abc", 1_000, 100),
            Err(NonceError::Forged)
        );
    }

    proptest! {
        /// Any other text is refused.
        #[test]
        fn altered_nonces_are_refused(at in 0usize..54, ch in "[A-Za-z0-9_-]") {
            let text = Nonce { issued: 0, random: [1; 16] }.sign(&KEY, "p");
            let mut chars: Vec<char> = text.chars().collect();
            let new = ch.chars().next().unwrap();
            prop_assume!(chars[at] != new);
            chars[at] = new;
            let altered: String = chars.into_iter().collect();
            prop_assert!(Nonce::verify(&altered, &KEY, "p", 0, 10).is_err());
        }
    }
}
