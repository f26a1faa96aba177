//! `cxray webhook`: the endpoints case events and survey answers are posted to; and
//! `cxray cases escalate`, which runs the server's notification round once.

use chrono::Utc;
use cxray_server::{notify, outbox};
use cxray_store::DataFolder;
use cxray_store::outbox::Delivery;
use cxray_store::webhooks::Webhook;

use crate::args::WebhookCommand;
use crate::config::Config;
use crate::output;

/// Adds, lists, disables or enables endpoints, or lists one's deliveries.
pub fn run(config: &Config, command: WebhookCommand, json: bool) -> anyhow::Result<()> {
    let ops = super::users::open(config)?;
    let actor = super::actor();
    match command {
        WebhookCommand::Add { url, events } => {
            let added = ops.add_webhook(&actor, &url, &events);
            let (hook, secret) = added.map_err(|e| super::hint(e, &[("url", "URL")]))?;
            if json {
                let shown = serde_json::json!({ "webhook": hook, "secret": secret.shown() });
                return output::json(&shown);
            }
            println!("webhook {} added: {}", hook.id, hook.url);
            println!("signing secret (shown once): {}", secret.shown());
            Ok(())
        }
        WebhookCommand::List => list(&ops.webhooks()?, json),
        WebhookCommand::Disable { id } | WebhookCommand::Enable { id } => {
            let enable = matches!(command, WebhookCommand::Enable { .. });
            let hook = ops.set_webhook_enabled(&actor, id, enable)?;
            list(&[hook], json)
        }
        WebhookCommand::Deliveries { id, limit } => {
            deliveries(&ops.webhook_deliveries(id, limit)?, json)
        }
    }
}

fn list(hooks: &[Webhook], json: bool) -> anyhow::Result<()> {
    if json {
        return output::json(&hooks);
    }
    let mut t = output::Table::new(
        &["id", "url", "events", "enabled", "created"],
        &[true, false, false, false, false],
    );
    for h in hooks {
        let enabled = match (&h.disabled_why, h.enabled) {
            (_, true) => "yes".to_string(),
            (Some(why), false) => format!("no: {why}"),
            (None, false) => "no".to_string(),
        };
        t.rows.push(vec![
            h.id.to_string(),
            h.url.clone(),
            h.events_label(),
            enabled,
            h.created_at.clone(),
        ]);
    }
    t.print()
}

/// Lists messages of the outbox: an endpoint's delivery log, or the e-mails.
pub fn deliveries(log: &[Delivery], json: bool) -> anyhow::Result<()> {
    if json {
        return output::json(&log);
    }
    let mut t = output::Table::new(
        &[
            "id",
            "about",
            "to",
            "status",
            "tries",
            "queued",
            "sent or next try",
            "last error",
        ],
        &[true, false, false, false, true, false, false, false],
    );
    for d in log {
        t.rows.push(vec![
            d.id.to_string(),
            d.about(),
            d.recipient.clone(),
            d.status.label().into(),
            d.attempts.to_string(),
            d.queued_at.clone(),
            d.when().unwrap_or_default().into(),
            d.last_error.clone().unwrap_or_default(),
        ]);
    }
    t.print()
}

/// What `cxray cases escalate` did.
#[derive(serde::Serialize)]
struct Round {
    overdue: usize,
    escalated: usize,
    /// Case events written as messages.
    notified: usize,
    delivered: outbox::Delivered,
}

/// Marks overdue cases, escalates those due, writes the waiting notifications and
/// delivers the messages due.
pub async fn escalate(config: &Config, folder: &DataFolder, json: bool) -> anyhow::Result<()> {
    let senders = outbox::senders(config.mail.as_ref()).map_err(super::usage)?;
    let now = Utc::now();
    let escalated = notify::escalate(folder, now).await?;
    let notified = notify::write(folder, senders.mail.as_ref(), now).await?;
    let delivered = outbox::deliver(folder, &senders, None, now, false).await?;
    let round = Round {
        overdue: escalated.overdue,
        escalated: escalated.escalated,
        notified,
        delivered,
    };
    if json {
        return output::json(&round);
    }
    println!(
        "{} cases newly overdue, {} escalation steps; {} notifications written",
        round.overdue, round.escalated, round.notified
    );
    let d = &round.delivered;
    println!(
        "sent {} messages; {} wait for another try; {} given up",
        d.sent, d.waiting, d.failed
    );
    d.errors
        .iter()
        .for_each(|e| eprintln!("not delivered: {e}"));
    Ok(())
}
