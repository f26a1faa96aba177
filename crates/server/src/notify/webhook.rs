//! Posting webhook messages, signed the Standard Webhooks way: headers `webhook-id` (the
//! same on every try), `webhook-timestamp` (seconds, of this try) and `webhook-signature`.
//! Any 2xx answer delivers the message; anything else is tried again later.

use std::time::Duration;

use chrono::Utc;
use cxray_store::outbox::{Outcome, Queued};

use super::NotifyError;

/// How long a receiver may take to answer.
const TIMEOUT: Duration = Duration::from_secs(15);

/// The client that posts webhook messages.
pub struct Hooks {
    client: reqwest::Client,
}

impl Hooks {
    pub fn new() -> Result<Self, NotifyError> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(NotifyError::Client)?;
        Ok(Hooks { client })
    }

    /// Posts a queued webhook message: delivered, or why not.
    pub async fn send(&self, q: &Queued) -> Outcome {
        let Some(secret) = &q.secret else {
            let error = "no endpoint secret for a webhook message".into();
            return Outcome::Failed {
                error,
                permanent: true,
            };
        };
        let (id, timestamp) = (q.message_id(), Utc::now().timestamp());
        let signature = secret.sign(&id, timestamp, &q.message);
        let sent = self
            .client
            .post(&q.recipient)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(q.message.clone())
            .send()
            .await;
        let error = match sent {
            Ok(r) if r.status().is_success() => return Outcome::Sent,
            Ok(r) => format!("the receiver answered {}", r.status()),
            Err(e) => format!("not reached: {}", e.without_url()),
        };
        Outcome::Failed {
            error,
            permanent: false,
        }
    }
}
