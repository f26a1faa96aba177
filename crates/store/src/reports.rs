//! Report schedules, in the operational database. A schedule says how often the board
//! pack goes to whom; when it is due, the pack's e-mails are queued in the
//! [outbox](crate::outbox) together with the schedule's next due time (one transaction).

use crate::db::params;
use chrono::{DateTime, Utc};
use cxray_core::schedule::{Channel, Recipient, ReportCadence};
use serde::Serialize;

use crate::ops::{OpsDb, audit, parse_column, stored};
use crate::outbox::{About, Mail, insert};
use crate::{Result, StoreError};

/// A report schedule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Schedule {
    pub id: i64,
    pub cadence: ReportCadence,
    #[serde(serialize_with = "texts")]
    pub recipients: Vec<Recipient>,
    pub created_by: String,
    pub created_at: String,
    pub next_due: DateTime<Utc>,
    /// The period of the last pack queued, and when.
    pub last_period: Option<String>,
    pub last_queued_at: Option<String>,
}

impl Schedule {
    /// The recipients for people: "every Executive, cfo@example.com".
    pub fn recipients_label(&self) -> String {
        let labels: Vec<String> = self.recipients.iter().map(Recipient::label).collect();
        labels.join(", ")
    }

    /// The next due time for people: "2027-01-01 06:00 UTC".
    pub fn due_label(&self) -> String {
        self.next_due.format("%Y-%m-%d %H:%M UTC").to_string()
    }

    /// The last pack queued for people: "2025-06, queued …", or "none yet".
    pub fn last_pack_label(&self) -> String {
        match (&self.last_period, &self.last_queued_at) {
            (Some(p), Some(at)) => format!("{p}, queued {at}"),
            _ => "none yet".into(),
        }
    }
}

fn texts<S: serde::Serializer>(r: &[Recipient], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(r.iter().map(ToString::to_string))
}

impl OpsDb {
    /// Adds a schedule, first due at the cadence's next due time after `now`. Audited.
    pub fn add_schedule(
        &self,
        actor: &str,
        cadence: ReportCadence,
        recipients: &[Recipient],
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let mut recipients = recipients.to_vec();
        recipients.sort();
        recipients.dedup();
        if recipients.is_empty() {
            let message = "a schedule needs at least one recipient: an address or a role";
            return Err(StoreError::invalid("recipients", message));
        }
        let list = recipients
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>();
        let list = list.join(", ");
        let tx = self.conn().write()?;
        let id = tx.insert(
            "INSERT INTO report_schedules (cadence, recipients, created_by, created_at, next_due)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                cadence.name(),
                list,
                actor,
                stored(now),
                stored(cadence.next_due(now))
            ],
        )?;

        let detail = format!("schedule {id}: {cadence} to {list}");
        audit(&tx, actor, "add_report_schedule", &detail)?;
        tx.commit()?;
        Ok(id)
    }

    /// Removes a schedule (e-mails it queued are still delivered). Audited.
    pub fn remove_schedule(&self, actor: &str, id: i64) -> Result<()> {
        let tx = self.conn().write()?;
        let removed = tx.execute("DELETE FROM report_schedules WHERE id = ?1", params![id])?;
        if removed == 0 {
            return Err(StoreError::invalid(
                "schedule",
                format!("no report schedule {id}"),
            ));
        }
        audit(
            &tx,
            actor,
            "remove_report_schedule",
            &format!("schedule {id}"),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Every schedule, oldest first.
    pub fn schedules(&self) -> Result<Vec<Schedule>> {
        self.schedules_where("1 = 1", params![])
    }

    /// The schedule `id`.
    pub fn schedule(&self, id: i64) -> Result<Schedule> {
        let found = self.schedules_where("id = ?1", params![id])?;
        found
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::invalid("schedule", format!("no report schedule {id}")))
    }

    /// The schedules due at `now`.
    pub fn due_schedules(&self, now: DateTime<Utc>) -> Result<Vec<Schedule>> {
        self.schedules_where("next_due <= ?1", params![stored(now)])
    }

    fn schedules_where(
        &self,
        filter: &str,
        values: &[&dyn crate::db::ToValue],
    ) -> Result<Vec<Schedule>> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT id, cadence, recipients, created_by, created_at, next_due, last_period,
                    last_queued_at
             FROM report_schedules WHERE {filter} ORDER BY id"
        ))?;
        let rows = stmt.query_map(values, |r| {
            Ok(Schedule {
                id: r.get(0)?,
                cadence: parse_column(r, 1, str::parse::<ReportCadence>)?,
                recipients: parse_column(r, 2, |t| {
                    t.split(", ")
                        .map(str::parse)
                        .collect::<std::result::Result<_, _>>()
                })?,
                created_by: r.get(3)?,
                created_at: r.get(4)?,
                next_due: parse_column(r, 5, str::parse::<DateTime<Utc>>)?,
                last_period: r.get(6)?,
                last_queued_at: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The addresses of recipients: each address, and every active user of each role,
    /// without repeats (case-insensitively), sorted.
    pub fn addresses(&self, recipients: &[Recipient]) -> Result<Vec<String>> {
        let mut all = Vec::new();
        for r in recipients {
            match r {
                Recipient::Address(a) => all.push(a.clone()),
                Recipient::Role(role) => {
                    let mut stmt = self
                        .conn()
                        .prepare("SELECT email FROM users WHERE role = ?1 AND disabled = 0")?;
                    let emails = stmt.query_map(params![role.name()], |r| r.get(0))?;
                    all.extend(emails.collect::<crate::db::DbResult<Vec<String>>>()?);
                }
            }
        }
        all.sort_by_key(|a| a.to_lowercase());
        all.dedup_by_key(|a| a.to_lowercase());
        Ok(all)
    }

    /// Queues a schedule's pack of `period`, sent from `sender`, as the e-mails `mails`.
    /// A due pack also moves the schedule to its next due time — only if no one else
    /// (another server, the CLI) queued it meanwhile: `false` then, and nothing queued.
    /// A pack sent out of turn (`due` false) leaves the due time as it is.
    pub fn queue_pack(
        &self,
        schedule: &Schedule,
        (period, sender): (&str, &str),
        mails: &[Mail],
        due: bool,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let tx = self.conn().write()?;
        let next_due = match due {
            true => schedule.cadence.next_due(now),
            false => schedule.next_due,
        };
        let moved = tx.execute(
            "UPDATE report_schedules SET next_due = ?1, last_period = ?2, last_queued_at = ?3
             WHERE id = ?4 AND (?6 OR next_due = ?5)",
            params![
                stored(next_due),
                period,
                stored(now),
                schedule.id,
                stored(schedule.next_due),
                !due
            ],
        )?;
        if moved == 0 {
            return Ok(false);
        }
        let about = About::Pack {
            schedule: schedule.id,
            period,
        };
        for m in mails {
            let message = (sender, m.recipient.as_str(), m.message.as_slice());
            insert(&tx, (Channel::Mail, None), about, message, now)?;
        }
        let detail = format!(
            "schedule {}: {period} to {} recipients",
            schedule.id,
            mails.len()
        );
        audit(&tx, "scheduler", "queue_report", &detail)?;
        tx.commit()?;
        Ok(true)
    }
}

/// The tests, on each backend of the operational database.
#[cfg(test)]
mod tests {
    crate::on_each_backend!("reports/tests.rs");
}
