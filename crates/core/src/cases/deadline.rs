//! A case's service level: when the customer must be contacted and when the case must be
//! resolved, from the owner's `sla_hours` — counted in business hours when they are set.

use chrono::{DateTime, Duration, Utc};

use super::hours::BusinessHours;
/// The first-contact time of owners without `sla_hours`: two days.
pub const DEFAULT_SLA_HOURS: f64 = 48.0;
/// Resolution is due this many times the first-contact time after opening.
pub const RESOLVE_FACTOR: f64 = 3.0;

/// When a case is due: first contact and resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    pub contact_by: DateTime<Utc>,
    pub resolve_by: DateTime<Utc>,
}

impl Deadlines {
    /// The deadlines of a case opened at `opened` for an owner with `sla_hours` (else
    /// [`DEFAULT_SLA_HOURS`]): contact within the hours, resolution within
    /// [`RESOLVE_FACTOR`] times them; working hours only with `business`.
    pub fn new(
        opened: DateTime<Utc>,
        sla_hours: Option<f64>,
        business: Option<&BusinessHours>,
    ) -> Self {
        let hours = sla_hours
            .filter(|h| h.is_finite() && *h > 0.0)
            .unwrap_or(DEFAULT_SLA_HOURS);
        let after = |h: f64| match business {
            Some(b) => b.add(opened, h),
            None => opened + Duration::seconds((h * 3600.0).round() as i64),
        };
        Deadlines {
            contact_by: after(hours),
            resolve_by: after(hours * RESOLVE_FACTOR),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_follow_the_owners_hours() {
        let at: DateTime<Utc> = "2026-12-01T09:00:00Z".parse().unwrap();
        let d = Deadlines::new(at, Some(24.0), None);
        assert_eq!(d.contact_by.to_rfc3339(), "2026-12-02T09:00:00+00:00");
        assert_eq!(d.resolve_by.to_rfc3339(), "2026-12-04T09:00:00+00:00");
        let d = Deadlines::new(at, None, None);
        assert_eq!(d.contact_by.to_rfc3339(), "2026-12-03T09:00:00+00:00");
        assert_eq!(Deadlines::new(at, Some(0.0), None), d);
        // In business hours, 9 a day: opened Tuesday 10:00 in Copenhagen, contact by
        // Thursday 16:00 (7 + 9 + 8 hours), resolution by the next Friday 10:00.
        let hours: BusinessHours = "Mon-Fri 08:00-17:00 Europe/Copenhagen".parse().unwrap();
        let d = Deadlines::new(at, Some(24.0), Some(&hours));
        assert_eq!(d.contact_by.to_rfc3339(), "2026-12-03T15:00:00+00:00");
        assert_eq!(d.resolve_by.to_rfc3339(), "2026-12-11T09:00:00+00:00");
    }
}
