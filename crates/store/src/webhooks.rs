//! Webhook endpoints, in the operational database: where case events and survey answers
//! are posted, signed
//! with the endpoint's secret (Standard Webhooks), which events each wants, and whether it
//! is enabled. An endpoint is disabled when a message to it is given up (every try failed
//! over about 20 hours); its waiting messages are kept and go out once it is
//! enabled again.

use crate::db::{Conn, params};
use cxray_core::webhook::{WebhookEvent, WebhookSecret};
use serde::Serialize;

use crate::accounts::random_bytes;
use crate::ops::{OpsDb, audit, now_text, parse_column};
use crate::{Result, StoreError};

/// The longest endpoint URL, in bytes.
const MAX_URL_BYTES: usize = 2000;

/// A webhook endpoint, without its secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    /// The events posted to it.
    pub events: Vec<WebhookEvent>,
    pub enabled: bool,
    /// Why it was disabled.
    pub disabled_why: Option<String>,
    pub created_by: String,
    pub created_at: String,
}

impl Webhook {
    /// The events for people: "Case opened, Survey answer received".
    pub fn events_label(&self) -> String {
        let labels: Vec<&str> = self.events.iter().map(|e| e.label()).collect();
        labels.join(", ")
    }
}

/// Checks an endpoint's URL: an absolute `http` or `https` URL with a host.
fn check_url(text: &str) -> Result<String> {
    let text = text.trim();
    let bad = |why: &str| StoreError::invalid("url", format!("webhook URL '{text}': {why}"));
    if text.len() > MAX_URL_BYTES {
        return Err(bad("too long"));
    }
    let url = url::Url::parse(text).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad("an http:// or https:// address with a host"));
    }
    Ok(url.to_string())
}

fn events_text(events: &[WebhookEvent]) -> String {
    let mut events = events.to_vec();
    if events.is_empty() {
        events = WebhookEvent::ALL.to_vec();
    }
    events.sort();
    events.dedup();
    let names: Vec<&str> = events.iter().map(|e| e.name()).collect();
    names.join(",")
}

fn webhook(r: &crate::db::Row) -> crate::db::DbResult<Webhook> {
    Ok(Webhook {
        id: r.get(0)?,
        url: r.get(1)?,
        events: parse_column(r, 2, |t| {
            t.split(',')
                .map(str::parse::<WebhookEvent>)
                .collect::<std::result::Result<Vec<_>, _>>()
        })?,
        enabled: r.get(3)?,
        disabled_why: r.get(4)?,
        created_by: r.get(5)?,
        created_at: r.get(6)?,
    })
}

const SELECT: &str =
    "SELECT id, url, events, enabled, disabled_why, created_by, created_at FROM webhooks";

impl OpsDb {
    /// Adds an endpoint for `events` (every event when none), with a new random secret,
    /// returned this once. Audited.
    pub fn add_webhook(
        &self,
        actor: &str,
        url: &str,
        events: &[WebhookEvent],
    ) -> Result<(Webhook, WebhookSecret)> {
        let url = check_url(url)?;
        let secret = WebhookSecret::new(random_bytes::<24>()?.to_vec());
        let tx = self.conn().write()?;
        let id = tx.insert(
            "INSERT INTO webhooks (url, secret, events, created_by, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![url, secret.bytes(), events_text(events), actor, now_text()],
        )?;

        audit(&tx, actor, "add_webhook", &format!("webhook {id}: {url}"))?;
        tx.commit()?;
        Ok((self.webhook(id)?, secret))
    }

    /// Every endpoint, by id.
    pub fn webhooks(&self) -> Result<Vec<Webhook>> {
        let mut stmt = self.conn().prepare(&format!("{SELECT} ORDER BY id"))?;
        let rows = stmt.query_map([], webhook)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Endpoint `id`.
    pub fn webhook(&self, id: i64) -> Result<Webhook> {
        let mut stmt = self.conn().prepare(&format!("{SELECT} WHERE id = ?1"))?;
        let found = stmt.query_map(params![id], webhook)?.next().transpose()?;
        found.ok_or_else(|| StoreError::invalid("webhook", format!("no webhook {id}")))
    }

    /// Disables (`enabled` false, with the reason) or enables an endpoint. Audited.
    pub fn set_webhook_enabled(&self, actor: &str, id: i64, enabled: bool) -> Result<Webhook> {
        self.webhook(id)?;
        let tx = self.conn().write()?;
        let why = (!enabled).then(|| format!("disabled by {actor}"));
        tx.execute(
            "UPDATE webhooks SET enabled = ?2, disabled_why = ?3 WHERE id = ?1",
            params![id, enabled, why],
        )?;
        let action = match enabled {
            true => "enable_webhook",
            false => "disable_webhook",
        };
        audit(&tx, actor, action, &format!("webhook {id}"))?;
        tx.commit()?;
        self.webhook(id)
    }
}

/// A webhook message's body: the event's type, when it happened, and what it is about.
#[derive(Serialize)]
struct Payload<'a, T> {
    r#type: &'static str,
    timestamp: &'a str,
    data: T,
}

/// The JSON body of a message telling `event` at `timestamp` about `data`.
pub(crate) fn body(event: WebhookEvent, timestamp: &str, data: impl Serialize) -> Result<Vec<u8>> {
    let payload = Payload {
        r#type: event.name(),
        timestamp,
        data,
    };
    Ok(serde_json::to_vec(&payload)?)
}

/// The enabled endpoints that want `event` (inside the caller's transaction).
pub(crate) fn subscribed(conn: &Conn, event: WebhookEvent) -> Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare("SELECT id, url, events FROM webhooks WHERE enabled = 1")?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get::<_, String>(2)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, url, events) = row?;
        if events.split(',').any(|e| e == event.name()) {
            out.push((id, url));
        }
    }
    Ok(out)
}

/// Disables endpoint `id` because its message `message` was given up (inside the
/// caller's transaction). Audited.
pub(crate) fn disable_failing(conn: &Conn, id: i64, message: i64) -> Result<()> {
    let why = format!("message {message} failed every try");
    conn.execute(
        "UPDATE webhooks SET enabled = 0, disabled_why = ?2 WHERE id = ?1 AND enabled = 1",
        params![id, why],
    )?;
    audit(
        conn,
        "outbox",
        "disable_webhook",
        &format!("webhook {id}: {why}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_stored_before_response_created_still_hold() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cxray.db");
        let conn = crate::ops::db_at_version(&path, 12);
        conn.execute(
            "INSERT INTO webhooks (url, secret, events, created_by, created_at)
             VALUES ('https://crm.example/h', X'01', 'opened,closed', 'ann', 'then')",
            [],
        )
        .unwrap();
        drop(conn);
        let db = OpsDb::open(&path).unwrap();
        let hook = db.webhooks().unwrap().remove(0);
        let want = [WebhookEvent::CaseOpened, WebhookEvent::CaseClosed];
        assert_eq!(hook.events, want);
        assert_eq!(hook.events_label(), "Case opened, Case closed");
        let wants = |e| subscribed(db.conn(), e).unwrap().len();
        assert_eq!(wants(WebhookEvent::CaseClosed), 1);
        assert_eq!(wants(WebhookEvent::ResponseCreated), 0);
        let (every, _) = db
            .add_webhook("ann", "https://crm.example/all", &[])
            .unwrap();
        assert_eq!(every.events, WebhookEvent::ALL);
    }
}
