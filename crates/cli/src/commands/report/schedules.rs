//! `cxray report schedule|send|outbox`: the schedules that e-mail the board pack, sending
//! what is due, and the outbox's record.

use chrono::Utc;
use cxray_core::schedule::Channel;
use cxray_server::outbox::{self, Delivered};
use cxray_server::reports::{self, QueuedPack};
use cxray_store::reports::Schedule;
use serde::Serialize;

use crate::args::{ReportCommand, ScheduleCommand};
use crate::commands::{actor, folder, usage, users};
use crate::config::Config;
use crate::output;

/// Runs one of the schedules' commands.
pub async fn run(config: &Config, command: ReportCommand, json: bool) -> anyhow::Result<()> {
    match command {
        ReportCommand::Schedule(c) => schedule(config, c, json),
        ReportCommand::Send { schedule, chromium } => send(config, schedule, &chromium, json).await,
        ReportCommand::Outbox { limit } => {
            super::super::webhook::deliveries(&users::open(config)?.deliveries(limit)?, json)
        }
    }
}

/// Adds or removes a schedule, then lists them all.
fn schedule(config: &Config, command: ScheduleCommand, json: bool) -> anyhow::Result<()> {
    let ops = users::open(config)?;
    match command {
        ScheduleCommand::Add {
            cadence,
            recipients,
        } => {
            ops.add_schedule(&actor(), cadence, &recipients, Utc::now())?;
        }
        ScheduleCommand::Remove { id } => ops.remove_schedule(&actor(), id)?,
        ScheduleCommand::List => {}
    }
    let schedules = ops.schedules()?;
    if json {
        return output::json(&schedules);
    }
    if config.mail.is_none() && !schedules.is_empty() {
        eprintln!(
            "note: no mail server is set (smtp_url and mail_from in the config file, or \
             CXRAY_SMTP_URL and CXRAY_MAIL_FROM), so no pack is sent"
        );
    }
    schedules_table(&schedules).print()
}

fn schedules_table(schedules: &[Schedule]) -> output::Table {
    let mut t = output::Table::new(
        &[
            "id",
            "cadence",
            "recipients",
            "next due",
            "last pack",
            "set by",
        ],
        &[true, false, false, false, false, false],
    );
    for s in schedules {
        t.rows.push(vec![
            s.id.to_string(),
            s.cadence.label().into(),
            s.recipients_label(),
            s.due_label(),
            s.last_pack_label(),
            s.created_by.clone(),
        ]);
    }
    t
}

/// What `send` did.
#[derive(Serialize)]
struct Sent {
    queued: Vec<QueuedPack>,
    delivered: Delivered,
}

/// Queues the due packs (or schedule `id`'s, out of turn) and hands every waiting e-mail
/// to the mail server. An error when an e-mail was not accepted.
async fn send(
    config: &Config,
    id: Option<i64>,
    chromium: &crate::args::ChromiumArg,
    json: bool,
) -> anyhow::Result<()> {
    let settings = config.mail.as_ref().ok_or_else(|| {
        usage(
            "no mail server: set smtp_url and mail_from in the config file, or \
             CXRAY_SMTP_URL and CXRAY_MAIL_FROM",
        )
    })?;
    let senders = outbox::senders(Some(settings)).map_err(usage)?;
    let mailer = senders.mail.as_ref().expect("a mail server");
    let folder = folder(config)?;
    let (schedules, due) = match id {
        Some(id) => (vec![users::open(config)?.schedule(id)?], false),
        None => (reports::due(&folder, Utc::now()).await?, true),
    };
    let mut queued = Vec::new();
    if !schedules.is_empty() {
        let snap = super::board_snapshot(config).await?;
        let chromium = super::chromium(config, chromium)?;
        queued = reports::queue(&folder, (&snap, &chromium), mailer, &schedules, due).await?;
    }
    let now = Utc::now();
    let delivered = outbox::deliver(&folder, &senders, Some(Channel::Mail), now, true).await?;
    let undelivered = delivered.waiting + delivered.failed;
    let sent = Sent { queued, delivered };
    match json {
        true => output::json(&sent)?,
        false => print_sent(&sent),
    }
    match undelivered {
        0 => Ok(()),
        n => Err(anyhow::anyhow!(
            "{n} e-mails not delivered: {}",
            sent.delivered.errors.join("; ")
        )),
    }
}

fn print_sent(sent: &Sent) {
    for q in &sent.queued {
        println!(
            "queued the pack of {} for schedule {} to {} recipients",
            q.period, q.schedule, q.recipients
        );
    }
    let d = &sent.delivered;
    println!(
        "sent {} e-mails; {} wait for another try; {} given up",
        d.sent, d.waiting, d.failed
    );
}
