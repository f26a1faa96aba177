//! Report schedules: the list, adding one (a cadence, roles and addresses), removing
//! one, and the outbox's recent e-mails with their delivery status.

use axum::response::Response;
use chrono::Utc;
use cxray_core::access::Role;
use cxray_core::schedule::{Recipient, ReportCadence};
use cxray_store::StoreError;
use cxray_store::outbox::Delivery;
use cxray_store::reports::Schedule;
use serde::Deserialize;

use super::form::{Field, button, form};
use super::{
    Change, Ctx, Done, Numbered, Section, Shown, answer, compose, from_pairs, listing, posted,
};
use crate::html::escape;

pub struct Schedules;

/// The form adding a schedule (its roles are check boxes of one name, hence read from
/// the pairs).
#[derive(Default, Deserialize)]
#[serde(from = "Vec<(String, String)>")]
pub struct Entered {
    csrf: String,
    cadence: String,
    roles: Vec<String>,
    addresses: String,
}

from_pairs!(Entered { csrf, cadence, addresses; roles });

posted!(Entered);

impl Entered {
    /// The cadence and recipients entered, or a refusal naming the field.
    fn schedule(&self) -> Result<(ReportCadence, Vec<Recipient>), StoreError> {
        let cadence: ReportCadence = self.cadence.parse().map_err(|_| {
            StoreError::invalid("cadence", "cadence: choose weekly, monthly or quarterly")
        })?;
        let parse = |field: &'static str, text: String| {
            text.parse::<Recipient>()
                .map_err(|e| StoreError::invalid(field, format!("{field}: {e}")))
        };
        let roles = self
            .roles
            .iter()
            .map(|r| parse("roles", format!("role:{r}")));
        let addresses = self
            .addresses
            .split([',', ';', '\n', ' '])
            .filter(|a| !a.trim().is_empty())
            .map(|a| parse("addresses", a.to_string()));
        let recipients = roles.chain(addresses).collect::<Result<Vec<_>, _>>()?;
        if recipients.is_empty() {
            let message = "recipients: choose a role or enter an address";
            return Err(StoreError::invalid("addresses", message));
        }
        Ok((cadence, recipients))
    }
}

impl Section for Schedules {
    const PATH: &'static str = "/admin/report-schedules";
    const TITLE: &'static str = "Report schedules";
    type Entered = Entered;

    async fn body(ctx: &Ctx, shown: Shown<'_, Entered>) -> Result<String, StoreError> {
        let listed = crate::ops(&ctx.state, |db| Ok((db.schedules()?, db.deliveries(50)?)));
        let (schedules, deliveries) = listed.await?;
        let csrf = &ctx.user.csrf;
        let rows: Vec<Vec<String>> = schedules.iter().map(|s| row(s, csrf)).collect();
        let headers = [
            ("Id", true),
            ("Cadence", false),
            ("Recipients", false),
            ("Next due", false),
            ("Last pack", false),
            ("Set by", false),
            ("Actions", false),
        ];
        let mut list = mail_note(ctx.state.mails_reports);
        list += &listing("Schedules of the board pack", &headers, &rows);
        list += &outbox(&deliveries);
        Ok(compose(shown.problem, list, add_form(csrf, shown)))
    }
}

/// Says when the packs are not sent because no mail server is set.
fn mail_note(mails: bool) -> String {
    match mails {
        true => "<p class=\"note\">Packs go out at 06:00 UTC on the due day: weekly on Mondays, monthly on the 1st, quarterly on the first day of a quarter. E-mails the mail server did not take are tried again for about 20 hours.</p>".into(),
        false => "<p class=\"note\"><strong>No mail server is set</strong>, so no pack is sent: set <code>smtp_url</code> and <code>mail_from</code> in the config file (or <code>CXRAY_SMTP_URL</code> and <code>CXRAY_MAIL_FROM</code>) and restart the server.</p>".into(),
    }
}

fn row(s: &Schedule, csrf: &str) -> Vec<String> {
    let id = s.id.to_string();
    let what = format!("schedule {id}");
    vec![
        id.clone(),
        s.cadence.label().into(),
        escape(&s.recipients_label()),
        s.due_label(),
        escape(&s.last_pack_label()),
        escape(&s.created_by),
        button(
            "/admin/report-schedules/remove",
            Some(csrf),
            &[("id", &id)],
            ("Remove", &what),
        ),
    ]
}

/// The outbox's most recent e-mails.
fn outbox(deliveries: &[Delivery]) -> String {
    let rows: Vec<Vec<String>> = deliveries
        .iter()
        .map(|d| {
            vec![
                escape(&d.about()),
                escape(&d.recipient),
                d.status.label().into(),
                d.attempts.to_string(),
                escape(&d.queued_at),
                escape(d.when().unwrap_or("—")),
                escape(d.last_error.as_deref().unwrap_or("—")),
            ]
        })
        .collect();
    let headers = [
        ("About", false),
        ("Recipient", false),
        ("Status", false),
        ("Tries", true),
        ("Queued", false),
        ("Sent, or next try", false),
        ("Last error", false),
    ];
    listing("Recent e-mails of the outbox", &headers, &rows)
}

fn add_form(
    csrf: &str,
    Shown {
        entered: e,
        problem,
    }: Shown<'_, Entered>,
) -> String {
    let cadences: Vec<(&str, &str)> = ReportCadence::ALL
        .iter()
        .map(|c| (c.name(), c.label()))
        .collect();
    let roles: Vec<(&str, &str)> = Role::ALL
        .iter()
        .filter(|r| r.sees_all_owners())
        .map(|r| (r.name(), r.label()))
        .collect();
    let fields = [
        Field::new("cadence", "Cadence", &e.cadence).select(&cadences, problem),
        Field::new("roles", "Every active user of these roles", "")
            .checkboxes(&roles, &e.roles, problem),
        Field::new("addresses", "Addresses", &e.addresses)
            .hint("e-mail addresses, separated by commas")
            .input("text", problem, &[]),
    ]
    .concat();
    form(
        Schedules::PATH,
        csrf,
        "Add a schedule",
        &fields,
        "Add schedule",
    )
}

/// `POST /admin/report-schedules`: adds a schedule.
pub async fn add(Change { ctx, form: e }: Change<Entered>) -> Response {
    let actor = ctx.user.actor();
    let entered = e.schedule();
    let done = crate::ops(&ctx.state, move |db| {
        let (cadence, recipients) = entered?;
        let id = db.add_schedule(&actor, cadence, &recipients, Utc::now())?;
        let due = db.schedule(id)?.due_label();
        Ok(Done::said(format!(
            "Schedule {id} added: {}, first due {due}.",
            cadence.label()
        )))
    })
    .await;
    answer::<Schedules>(&ctx, done, Some(&e)).await
}

/// `POST /admin/report-schedules/remove`: removes a schedule.
pub async fn remove(Change { ctx, form: e }: Change<Numbered>) -> Response {
    let actor = ctx.user.actor();
    let done = crate::ops(&ctx.state, move |db| {
        let id = e.id.parse().map_err(|_| {
            StoreError::invalid("schedule", format!("no report schedule '{}'", e.id))
        })?;
        db.remove_schedule(&actor, id)?;
        Ok(Done::said(format!("Schedule {id} removed.")))
    })
    .await;
    answer::<Schedules>(&ctx, done, None).await
}
