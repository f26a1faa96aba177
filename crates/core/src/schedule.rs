//! Report schedules: how often the board pack goes out, to whom, when it is next due;
//! and the outbox's messages (e-mails and webhook messages): where each is, and how long
//! one that could not be delivered waits before it is tried again.

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc, Weekday};

use crate::access::{Role, is_email};
use crate::names::named_enum;

named_enum! {
    /// How often a schedule sends the board pack.
    pub enum ReportCadence("cadence") {
        /// Mondays, with the month so far.
        Weekly = "weekly",
        /// On the first of the month, with the month of the data's last day.
        Monthly = "monthly",
        /// On the first of January, April, July and October, with the quarter of the
        /// data's last day.
        Quarterly = "quarterly",
    }
}

/// The hour of day (UTC) a schedule is due, so the pack is in the inbox by the morning.
pub const DUE_HOUR: u32 = 6;

impl ReportCadence {
    /// The cadence's name for people.
    pub fn label(self) -> &'static str {
        match self {
            ReportCadence::Weekly => "Weekly",
            ReportCadence::Monthly => "Monthly",
            ReportCadence::Quarterly => "Quarterly",
        }
    }

    /// The first due time strictly after `after`: the next Monday, first of the month or
    /// first of the quarter, at [`DUE_HOUR`] UTC.
    pub fn next_due(self, after: DateTime<Utc>) -> DateTime<Utc> {
        let at_hour = |d: NaiveDate| d.and_hms_opt(DUE_HOUR, 0, 0).expect("an hour").and_utc();
        let day = after.date_naive();
        let first = |d: NaiveDate, months: u32| {
            let month0 = d.month0() / months * months;
            NaiveDate::from_ymd_opt(d.year(), month0 + 1, 1).expect("a month's first day")
        };
        let (this, step) = match self {
            ReportCadence::Weekly => {
                let back = day.weekday().days_since(Weekday::Mon);
                (day - Duration::days(back.into()), Step::Days(7))
            }
            ReportCadence::Monthly => (first(day, 1), Step::Months(1)),
            ReportCadence::Quarterly => (first(day, 3), Step::Months(3)),
        };
        let mut due = this;
        while at_hour(due) <= after {
            due = step.after(due);
        }
        at_hour(due)
    }
}

/// The distance between two due days.
enum Step {
    Days(i64),
    Months(u32),
}

impl Step {
    fn after(&self, d: NaiveDate) -> NaiveDate {
        match self {
            Step::Days(n) => d + Duration::days(*n),
            Step::Months(n) => d + Months::new(*n),
        }
    }
}

/// Who receives a schedule's pack: every active user of a role, or one address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Recipient {
    Role(Role),
    Address(String),
}

/// Why a recipient was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecipientError {
    #[error("'{0}' is neither an e-mail address (name@example.com) nor a role (role:executive)")]
    Unknown(String),
    #[error(
        "role '{0}' sees only its own touchpoints, and the board pack shows every owner's: \
         choose admin, executive or analyst"
    )]
    RestrictedRole(Role),
    #[error("{0}")]
    BadRole(String),
}

impl std::str::FromStr for Recipient {
    type Err = RecipientError;

    /// `role:executive` or an address such as `cfo@example.com`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Some(role) = s.strip_prefix("role:") {
            let role: Role = role
                .parse()
                .map_err(|e: crate::names::UnknownName| RecipientError::BadRole(e.to_string()))?;
            return match role.sees_all_owners() {
                true => Ok(Recipient::Role(role)),
                false => Err(RecipientError::RestrictedRole(role)),
            };
        }
        match is_email(s) {
            true => Ok(Recipient::Address(s.to_string())),
            false => Err(RecipientError::Unknown(s.to_string())),
        }
    }
}

impl std::fmt::Display for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Recipient::Role(r) => write!(f, "role:{r}"),
            Recipient::Address(a) => f.write_str(a),
        }
    }
}

impl Recipient {
    /// The recipient for people: "every Executive" or the address.
    pub fn label(&self) -> String {
        match self {
            Recipient::Role(r) => format!("every {}", r.label()),
            Recipient::Address(a) => a.clone(),
        }
    }
}

named_enum! {
    /// Where a message in the outbox is.
    pub enum DeliveryStatus("delivery status") {
        /// Not delivered yet: waiting for its first try or its next one.
        Pending = "pending",
        Sent = "sent",
        /// Given up: refused by the mail server, or every try failed.
        Failed = "failed",
    }
}

impl DeliveryStatus {
    /// The status's name for people.
    pub fn label(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "Waiting to be sent",
            DeliveryStatus::Sent => "Sent",
            DeliveryStatus::Failed => "Not delivered (given up)",
        }
    }
}

named_enum! {
    /// How a message of the outbox is delivered.
    pub enum Channel("channel") {
        /// To a mail server.
        Mail = "mail",
        /// Posted, signed, to a webhook endpoint.
        Webhook = "webhook",
    }
}

impl Channel {
    /// The channel's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Channel::Mail => "E-mail",
            Channel::Webhook => "Webhook",
        }
    }
}

/// How many times a message is tried before it is given up as failed.
pub const MAX_ATTEMPTS: u32 = 12;

/// How long to wait after the `attempts`-th failed try: a minute, doubling, at most six
/// hours (twelve tries span about 20 hours); `None` once [`MAX_ATTEMPTS`] failed.
pub fn retry_after(attempts: u32) -> Option<Duration> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let minutes = 1i64 << attempts.saturating_sub(1).min(20);
    Some(Duration::minutes(minutes.min(6 * 60)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn due_times_are_the_next_monday_first_of_month_or_quarter_morning() {
        let wed = at("2026-12-02T10:00:00Z");
        let due = |c: ReportCadence, t| c.next_due(t).to_rfc3339();
        assert_eq!(due(ReportCadence::Weekly, wed), "2026-12-07T06:00:00+00:00");
        assert_eq!(
            due(ReportCadence::Monthly, wed),
            "2027-01-01T06:00:00+00:00"
        );
        assert_eq!(
            due(ReportCadence::Quarterly, wed),
            "2027-01-01T06:00:00+00:00"
        );
        // Early on a due day: that day; at the due time itself: the next one.
        let monday = at("2026-12-07T05:59:59Z");
        assert_eq!(
            due(ReportCadence::Weekly, monday),
            "2026-12-07T06:00:00+00:00"
        );
        let on_time = at("2026-12-07T06:00:00Z");
        assert_eq!(
            due(ReportCadence::Weekly, on_time),
            "2026-12-14T06:00:00+00:00"
        );
        let april = at("2027-04-01T06:00:00Z");
        assert_eq!(
            due(ReportCadence::Quarterly, april),
            "2027-07-01T06:00:00+00:00"
        );
    }

    proptest! {
        #[test]
        fn the_next_due_time_is_after_and_within_one_period(
            secs in 0i64..4_000_000_000,
            c in prop::sample::select(ReportCadence::ALL),
        ) {
            let after = DateTime::from_timestamp(secs, 0).unwrap();
            let due = c.next_due(after);
            prop_assert!(due > after);
            let longest = match c {
                ReportCadence::Weekly => Duration::days(7),
                ReportCadence::Monthly => Duration::days(31),
                ReportCadence::Quarterly => Duration::days(92),
            };
            prop_assert!(due - after <= longest);
            prop_assert_eq!(due.time(), chrono::NaiveTime::from_hms_opt(DUE_HOUR, 0, 0).unwrap());
            match c {
                ReportCadence::Weekly => prop_assert_eq!(due.weekday(), Weekday::Mon),
                ReportCadence::Monthly => prop_assert_eq!(due.day(), 1),
                ReportCadence::Quarterly => prop_assert!(due.day() == 1 && due.month0() % 3 == 0),
            }
        }

        /// Text with a space, a separator or bracket, or without a dotted domain is
        /// refused as an address.
        #[test]
        fn text_that_is_not_one_plain_address_is_refused(
            local in "[a-z0-9._+-]{1,20}",
            domain in "[a-z0-9-]{1,10}\\.[a-z]{2,6}",
            bad in prop::sample::select(vec![" ", ",", ";", "<", ">", "\"", "(", "@", "\n"]),
            at_local in any::<bool>(),
        ) {
            let good = format!("{local}@{domain}");
            prop_assert_eq!(good.parse::<Recipient>(), Ok(Recipient::Address(good.clone())));
            let broken = match at_local {
                true => format!("{local}{bad}x@{domain}"),
                false => format!("{local}@x{bad}{domain}"),
            };
            prop_assert!(broken.parse::<Recipient>().is_err(), "{broken:?} accepted");
            let no_domain = format!("{local}@{}", domain.replace('.', ""));
            prop_assert!(no_domain.parse::<Recipient>().is_err());
        }
    }

    #[test]
    fn roles_that_see_every_owner_may_receive_the_pack() {
        let r = |s: &str| s.parse::<Recipient>();
        assert_eq!(r("role:executive"), Ok(Recipient::Role(Role::Executive)));
        assert_eq!(r(" role:Admin "), Ok(Recipient::Role(Role::Admin)));
        assert_eq!(
            r("role:partner"),
            Err(RecipientError::RestrictedRole(Role::Partner))
        );
        assert!(matches!(r("role:board"), Err(RecipientError::BadRole(_))));
        let shown = r("role:owner").unwrap_err().to_string();
        assert!(shown.contains("only its own touchpoints"), "{shown}");
        assert_eq!(
            Recipient::Role(Role::Executive).to_string(),
            "role:executive"
        );
        assert_eq!(Recipient::Role(Role::Executive).label(), "every Executive");
    }

    #[test]
    fn retries_wait_longer_each_time_then_stop() {
        let waits: Vec<i64> = (1..=MAX_ATTEMPTS)
            .map_while(retry_after)
            .map(|d| d.num_minutes())
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 360, 360]);
        assert_eq!(retry_after(MAX_ATTEMPTS), None);
    }
}
