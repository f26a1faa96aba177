//! Personal survey links: the invitation's id and expiry, signed with the data folder's
//! key, in URL-safe base64. Nothing is stored to check one, and a link whose bytes were
//! changed or whose time is up is told apart from one that was never a link.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::signature;
use crate::access::PseudonymKey;

/// Bytes of the signature kept: 128 bits.
const MAC_BYTES: usize = signature::BYTES;
/// Bytes of a decoded link: id, expiry, signature.
const LINK_BYTES: usize = 8 + 8 + MAC_BYTES;

/// What a personal link carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    pub invitation: i64,
    /// Seconds since the epoch after which the link no longer takes answers.
    pub expires: i64,
}

/// Why a link is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("this is not a survey link")]
    Malformed,
    #[error("this survey link has been altered")]
    Tampered,
    #[error("this survey link has expired")]
    Expired,
}

impl Link {
    /// The link's text: 43 URL-safe characters.
    pub fn sign(&self, key: &PseudonymKey) -> String {
        let mut bytes = Vec::with_capacity(LINK_BYTES);
        bytes.extend_from_slice(&self.invitation.to_le_bytes());
        bytes.extend_from_slice(&self.expires.to_le_bytes());
        bytes.extend_from_slice(&mac(key, &bytes));
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The link a text carries, checked against the key and the time `now`.
    pub fn verify(text: &str, key: &PseudonymKey, now: i64) -> Result<Link, LinkError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| LinkError::Malformed)?;
        if bytes.len() != LINK_BYTES {
            return Err(LinkError::Malformed);
        }
        let (body, signed) = bytes.split_at(16);
        if !signature::matches(&mac(key, body), signed) {
            return Err(LinkError::Tampered);
        }
        let word = |i: usize| i64::from_le_bytes(body[i..i + 8].try_into().expect("8 bytes"));
        let link = Link {
            invitation: word(0),
            expires: word(8),
        };
        match now <= link.expires {
            true => Ok(link),
            false => Err(LinkError::Expired),
        }
    }
}

fn mac(key: &PseudonymKey, body: &[u8]) -> [u8; MAC_BYTES] {
    signature::sign(key, b"cxray-survey-link\0", &[body])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KEY: PseudonymKey = [3; 32];

    #[test]
    fn a_link_round_trips_until_it_expires() {
        let link = Link {
            invitation: 42,
            expires: 1_000,
        };
        let text = link.sign(&KEY);
        assert_eq!(text.len(), 43);
        assert_eq!(Link::verify(&text, &KEY, 1_000), Ok(link));
        assert_eq!(Link::verify(&text, &KEY, 1_001), Err(LinkError::Expired));
        assert_eq!(Link::verify(&text, &[4; 32], 0), Err(LinkError::Tampered));
        assert_eq!(
            Link::verify("not a link", &KEY, 0),
            Err(LinkError::Malformed)
        );
    }

    proptest! {
        /// Changing any character of a link makes it refused, never accepted for another
        /// invitation.
        #[test]
        fn any_altered_link_is_refused(id in 0i64..1_000_000, at in 0usize..43, ch in "[A-Za-z0-9_-]") {
            let text = Link { invitation: id, expires: i64::MAX }.sign(&KEY);
            let mut chars: Vec<char> = text.chars().collect();
            let new = ch.chars().next().unwrap();
            prop_assume!(chars[at] != new);
            chars[at] = new;
            let altered: String = chars.into_iter().collect();
            prop_assert!(Link::verify(&altered, &KEY, 0).is_err());
        }
    }
}
