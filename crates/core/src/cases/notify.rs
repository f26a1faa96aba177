//! What a case tells people, and when: the events notified (opened, overdue, escalated,
//! closed) and the escalation of an overdue case — first to its owner's lead, then to the
//! administrators.

use chrono::{DateTime, Utc};

use crate::names::named_enum;

use super::CaseStatus;

named_enum! {
    /// Something that happened to a followed-up case that people are told about.
    pub enum CaseEvent("case event") {
        Opened = "opened",
        /// A deadline passed: first contact or resolution.
        Overdue = "overdue",
        /// Still overdue, passed up to the owner's lead or the administrators.
        Escalated = "escalated",
        /// Resolved or closed.
        Closed = "closed",
    }
}

impl CaseEvent {
    /// The event's name for people.
    pub fn label(self) -> &'static str {
        match self {
            CaseEvent::Opened => "Case opened",
            CaseEvent::Overdue => "Case overdue",
            CaseEvent::Escalated => "Case escalated",
            CaseEvent::Closed => "Case closed",
        }
    }
}

named_enum! {
    /// How far an overdue case has been passed up.
    pub enum Escalation("escalation") {
        /// To the owner's lead (the administrators where the owner has none).
        Lead = "lead",
        /// To the administrators.
        Admins = "admins",
    }
}

impl Escalation {
    /// The level's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Escalation::Lead => "the owner's lead",
            Escalation::Admins => "the administrators",
        }
    }
}

/// What a case's deadlines say about it at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lateness {
    pub status: CaseStatus,
    pub opened: DateTime<Utc>,
    pub contact_by: DateTime<Utc>,
    pub resolve_by: DateTime<Utc>,
}

impl Lateness {
    /// Since when the case is overdue at `now`: its first-contact deadline while it is
    /// open, else its resolution deadline while it is not done; none when it is on time.
    pub fn late_since(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let missed = |d: DateTime<Utc>| Some(d).filter(|d| *d < now);
        match self.status {
            CaseStatus::Open => missed(self.contact_by).or_else(|| missed(self.resolve_by)),
            CaseStatus::Contacted => missed(self.resolve_by),
            CaseStatus::Resolved | CaseStatus::Closed => None,
        }
    }

    /// The escalations due at `now`, in order: to the lead once the case has been
    /// overdue for as long as its owner's time to first contact, to the administrators
    /// after twice that.
    pub fn escalations(&self, now: DateTime<Utc>) -> Vec<Escalation> {
        let Some(since) = self.late_since(now) else {
            return Vec::new();
        };
        let step = self.contact_by - self.opened;
        [(1, Escalation::Lead), (2, Escalation::Admins)]
            .into_iter()
            .filter(|(n, _)| now >= since + step * *n)
            .map(|(_, level)| level)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use proptest::prelude::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn case(status: CaseStatus) -> Lateness {
        Lateness {
            status,
            opened: at("2026-12-01T09:00:00Z"),
            contact_by: at("2026-12-02T09:00:00Z"),
            resolve_by: at("2026-12-04T09:00:00Z"),
        }
    }

    #[test]
    fn a_case_is_late_from_the_deadline_its_status_missed() {
        let open = case(CaseStatus::Open);
        assert_eq!(open.late_since(at("2026-12-02T09:00:00Z")), None);
        assert_eq!(
            open.late_since(at("2026-12-02T09:00:01Z")),
            Some(open.contact_by)
        );
        let contacted = case(CaseStatus::Contacted);
        assert_eq!(contacted.late_since(at("2026-12-03T09:00:00Z")), None);
        assert_eq!(
            contacted.late_since(at("2026-12-05T00:00:00Z")),
            Some(contacted.resolve_by)
        );
        assert_eq!(
            case(CaseStatus::Closed).late_since(at("2027-01-01T00:00:00Z")),
            None
        );
    }

    #[test]
    fn escalation_goes_to_the_lead_after_one_more_contact_time_then_to_admins() {
        let open = case(CaseStatus::Open);
        assert!(open.escalations(at("2026-12-03T08:59:59Z")).is_empty());
        assert_eq!(
            open.escalations(at("2026-12-03T09:00:00Z")),
            [Escalation::Lead]
        );
        assert_eq!(
            open.escalations(at("2026-12-04T09:00:00Z")),
            [Escalation::Lead, Escalation::Admins]
        );
    }

    proptest! {
        /// Escalations only come to late cases, in order, and never recede with time.
        #[test]
        fn escalations_grow_with_time(
            hours in 1i64..200,
            after in 0i64..2000,
            later in 0i64..2000,
            status in prop::sample::select(CaseStatus::ALL),
        ) {
            let opened = at("2026-12-01T00:00:00Z");
            let c = Lateness {
                status,
                opened,
                contact_by: opened + Duration::hours(hours),
                resolve_by: opened + Duration::hours(3 * hours),
            };
            let now = opened + Duration::hours(after);
            let first = c.escalations(now);
            let second = c.escalations(now + Duration::hours(later));
            prop_assert!(first.len() <= second.len());
            prop_assert_eq!(&second[..first.len()], &first[..]);
            prop_assert!(first.is_empty() || c.late_since(now).is_some());
            prop_assert!(!status.is_done() || second.is_empty());
        }
    }
}
