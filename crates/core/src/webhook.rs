//! Webhooks: the events endpoints subscribe to, and signatures the Standard Webhooks way —
//! the secret shown as `whsec_` and its base64, each message signed with HMAC-SHA256 over
//! `{id}.{timestamp}.{body}`, the signature sent as `v1,` and its base64.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::cases::CaseEvent;
use crate::names::named_enum;

named_enum! {
    /// What a webhook message tells: a case event, or a survey answer in `responses`.
    /// The name is the message's `type`.
    pub enum WebhookEvent("webhook event") {
        CaseOpened = "case.opened",
        CaseOverdue = "case.overdue",
        CaseEscalated = "case.escalated",
        CaseClosed = "case.closed",
        /// A survey answer committed into `responses`.
        ResponseCreated = "response.created",
    }
}

impl WebhookEvent {
    /// The event's name for people.
    pub fn label(self) -> &'static str {
        match self {
            WebhookEvent::CaseOpened => CaseEvent::Opened.label(),
            WebhookEvent::CaseOverdue => CaseEvent::Overdue.label(),
            WebhookEvent::CaseEscalated => CaseEvent::Escalated.label(),
            WebhookEvent::CaseClosed => CaseEvent::Closed.label(),
            WebhookEvent::ResponseCreated => "Survey answer received",
        }
    }
}

impl From<CaseEvent> for WebhookEvent {
    fn from(event: CaseEvent) -> Self {
        match event {
            CaseEvent::Opened => WebhookEvent::CaseOpened,
            CaseEvent::Overdue => WebhookEvent::CaseOverdue,
            CaseEvent::Escalated => WebhookEvent::CaseEscalated,
            CaseEvent::Closed => WebhookEvent::CaseClosed,
        }
    }
}

/// The prefix of a secret as shown.
const PREFIX: &str = "whsec_";

/// An endpoint's signing secret.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

/// A secret as shown that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a webhook secret is whsec_ followed by base64 (as `cxray webhook add` shows it)")]
pub struct BadSecret;

impl WebhookSecret {
    pub fn new(bytes: Vec<u8>) -> Self {
        WebhookSecret(bytes)
    }

    /// The secret's bytes, as stored.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The secret as shown to the receiver's developer: `whsec_` and base64.
    pub fn shown(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(&self.0))
    }

    /// The secret from how it is shown.
    pub fn parse(shown: &str) -> Result<Self, BadSecret> {
        let text = shown.trim().strip_prefix(PREFIX).ok_or(BadSecret)?;
        let bytes = STANDARD.decode(text).map_err(|_| BadSecret)?;
        match bytes.is_empty() {
            true => Err(BadSecret),
            false => Ok(WebhookSecret(bytes)),
        }
    }

    /// The `webhook-signature` header of a message: `v1,` and the base64 of
    /// HMAC-SHA256(secret, `{id}.{timestamp}.{body}`).
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_case_event_is_a_webhook_event_named_by_its_type() {
        let types: Vec<&str> = CaseEvent::ALL
            .iter()
            .map(|e| WebhookEvent::from(*e).name())
            .collect();
        assert_eq!(
            types,
            [
                "case.opened",
                "case.overdue",
                "case.escalated",
                "case.closed"
            ]
        );
        assert_eq!(
            "Response.Created".parse::<WebhookEvent>(),
            Ok(WebhookEvent::ResponseCreated)
        );
        assert!(WebhookEvent::ALL.iter().all(|e| !e.label().is_empty()));
    }

    /// The example of the Standard Webhooks specification's reference libraries.
    #[test]
    fn the_specifications_example_signs_alike() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn hmac_sha256_matches_rfc_4231() {
        // Test case 2: key "Jefe", data "what do ya want for nothing?".
        let secret = WebhookSecret::new(b"Jefe".to_vec());
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.bytes()).unwrap();
        mac.update(b"what do ya want for nothing?");
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    proptest! {
        /// A secret reads back as itself; text that is not `whsec_` and base64 is refused.
        #[test]
        fn secrets_read_back_and_junk_is_refused(
            bytes in prop::collection::vec(any::<u8>(), 1..64),
            junk in "[!#$%&*.:;?@_~-]{1,8}",
        ) {
            let s = WebhookSecret::new(bytes);
            prop_assert_eq!(WebhookSecret::parse(&s.shown()).unwrap(), s.clone());
            let spoilt = format!("{}{junk}", s.shown());
            prop_assert!(WebhookSecret::parse(&spoilt).is_err());
            prop_assert!(WebhookSecret::parse(&s.shown()[PREFIX.len()..]).is_err());
            prop_assert!(WebhookSecret::parse(PREFIX).is_err());
        }
    }
}
