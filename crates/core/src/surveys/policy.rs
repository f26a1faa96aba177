//! The contact policy: one set of limits every invitation and reminder obeys, whatever
//! survey or channel it comes from, and the decision for each customer a rule triggers on
//! — invited, or suppressed with a reason that answers "why was this customer not asked?".

use serde::{Deserialize, Serialize};

use super::SurveyError;
use super::survey::{InvitationRule, days};
use crate::access::{PseudonymKey, keyed_uniform};

const DAY: i64 = 86_400;

/// The limits on contacting customers, shared by every survey and channel.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ContactPolicy {
    /// Days after an invitation in which the customer gets no other (any survey).
    pub global_cooldown_days: i64,
    /// The rolling window of [`ContactPolicy::max_in_window`].
    pub window_days: i64,
    /// The most invitations a customer gets within any window.
    pub max_in_window: i64,
    /// Reminders to a customer who has not answered: at most this many.
    pub reminders: i64,
    /// Days between the invitation and a reminder, and between reminders.
    pub reminder_gap_days: i64,
    /// Days after the invitation in which it can be answered.
    pub expiry_days: i64,
    /// The share of customers never asked, to measure what being asked does.
    pub holdout_share: f64,
}

impl Default for ContactPolicy {
    fn default() -> Self {
        ContactPolicy {
            global_cooldown_days: 30,
            window_days: 180,
            max_in_window: 3,
            reminders: 1,
            reminder_gap_days: 3,
            expiry_days: 14,
            holdout_share: 0.05,
        }
    }
}

impl ContactPolicy {
    /// The largest never-ask holdout share.
    pub const MAX_HOLDOUT: f64 = 0.5;

    /// Checks every limit: whole days from 0 to ten years (a window and an expiry of at
    /// least a day), at most ten reminders and a gap of a day or more when there are any,
    /// a holdout share from 0 to 0.5.
    pub fn check(&self) -> Result<(), SurveyError> {
        days("global_cooldown_days", self.global_cooldown_days)?;
        days("window_days", self.window_days)?;
        days("reminder_gap_days", self.reminder_gap_days)?;
        days("expiry_days", self.expiry_days)?;
        at_least("window_days", self.window_days, 1)?;
        at_least("max_in_window", self.max_in_window, 1)?;
        at_least("expiry_days", self.expiry_days, 1)?;
        if !(0..=10).contains(&self.reminders) {
            let why = format!("{}: from 0 to 10", self.reminders);
            return Err(SurveyError::new("reminders", why));
        }
        if self.reminders > 0 {
            at_least("reminder_gap_days", self.reminder_gap_days, 1)?;
        }
        if !(0.0..=Self::MAX_HOLDOUT).contains(&self.holdout_share) {
            let why = format!("{}: a share from 0 to 0.5", self.holdout_share);
            return Err(SurveyError::new("holdout_share", why));
        }
        Ok(())
    }

    /// When an invitation sent at `sent` expires.
    pub fn expires(&self, sent: i64) -> i64 {
        sent + self.expiry_days * DAY
    }

    /// When the next reminder of an unanswered invitation sent at `sent` is due, after
    /// `reminded` reminders the last at `last`: `None` when no more may go out before it
    /// expires.
    pub fn next_reminder(&self, sent: i64, reminded: i64, last: i64) -> Option<i64> {
        let due = last.max(sent) + self.reminder_gap_days * DAY;
        (reminded < self.reminders && due < self.expires(sent)).then_some(due)
    }
}

/// A change to the contact policy: the limits given replace the policy's, the rest stay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyChange {
    pub global_cooldown_days: Option<i64>,
    pub window_days: Option<i64>,
    pub max_in_window: Option<i64>,
    pub reminders: Option<i64>,
    pub reminder_gap_days: Option<i64>,
    pub expiry_days: Option<i64>,
    pub holdout_share: Option<f64>,
}

impl PolicyChange {
    /// `policy` with this change made (not checked).
    pub fn apply(&self, policy: ContactPolicy) -> ContactPolicy {
        let p = policy;
        ContactPolicy {
            global_cooldown_days: self.global_cooldown_days.unwrap_or(p.global_cooldown_days),
            window_days: self.window_days.unwrap_or(p.window_days),
            max_in_window: self.max_in_window.unwrap_or(p.max_in_window),
            reminders: self.reminders.unwrap_or(p.reminders),
            reminder_gap_days: self.reminder_gap_days.unwrap_or(p.reminder_gap_days),
            expiry_days: self.expiry_days.unwrap_or(p.expiry_days),
            holdout_share: self.holdout_share.unwrap_or(p.holdout_share),
        }
    }
}

fn at_least(field: &'static str, value: i64, min: i64) -> Result<(), SurveyError> {
    match value >= min {
        true => Ok(()),
        false => Err(SurveyError::new(field, format!("{value}: at least {min}"))),
    }
}

/// An invitation a customer had: when, to which survey, about which touchpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub at: i64,
    pub survey: i64,
    pub touchpoint: String,
}

/// Why a customer a rule triggered on was not invited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Suppression {
    OptedOut,
    Holdout,
    NotSampled,
    GlobalCooldown,
    SurveyCooldown,
    TouchpointCooldown,
    WindowLimit,
}

impl Suppression {
    pub const ALL: [Suppression; 7] = [
        Suppression::OptedOut,
        Suppression::Holdout,
        Suppression::NotSampled,
        Suppression::GlobalCooldown,
        Suppression::SurveyCooldown,
        Suppression::TouchpointCooldown,
        Suppression::WindowLimit,
    ];

    /// The reason code, as stored.
    pub fn code(self) -> &'static str {
        match self {
            Suppression::OptedOut => "opted_out",
            Suppression::Holdout => "holdout",
            Suppression::NotSampled => "not_sampled",
            Suppression::GlobalCooldown => "global_cooldown",
            Suppression::SurveyCooldown => "survey_cooldown",
            Suppression::TouchpointCooldown => "touchpoint_cooldown",
            Suppression::WindowLimit => "window_limit",
        }
    }

    /// The reason for people.
    pub fn label(self) -> &'static str {
        match self {
            Suppression::OptedOut => "Opted out of surveys",
            Suppression::Holdout => "In the never-ask holdout",
            Suppression::NotSampled => "Not drawn in the sample",
            Suppression::GlobalCooldown => "Asked recently (any survey)",
            Suppression::SurveyCooldown => "Asked this survey recently",
            Suppression::TouchpointCooldown => "Asked about this touchpoint recently",
            Suppression::WindowLimit => "Invitation limit for the period reached",
        }
    }

    /// The suppression of a stored code.
    pub fn parse(code: &str) -> Option<Suppression> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// A stored reason code in words: its label, or the code itself when unknown.
    pub fn words(code: &str) -> String {
        Self::parse(code).map_or(code.to_string(), |s| s.label().to_string())
    }
}

/// What is known of one customer a rule triggered on.
#[derive(Debug, Clone, Copy)]
pub struct Draw<'a> {
    pub customer: &'a str,
    /// The triggering event's key (one invitation per rule and event).
    pub event: &'a str,
    /// When the invitation would go out, seconds since the epoch.
    pub at: i64,
    pub survey: i64,
    pub touchpoint: &'a str,
    pub opted_out: bool,
}

/// The decision for one triggered customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Decision {
    Invite,
    Suppress(Suppression),
}

/// Whether a customer is in the never-ask holdout: a keyed hash of the customer alone, so
/// the same customers are held out of every survey.
pub fn held_out(key: &PseudonymKey, customer: &str, share: f64) -> bool {
    keyed_uniform(key, "cxray-survey-holdout", 0, &[customer.as_bytes()]) < share
}

/// Decides on one triggered customer given their invitations (`history`, any order, those
/// going out later included): opted out, held out, not sampled, then the cooldowns and the
/// window limit, in that order, so the reason recorded is the first that applies.
pub fn decide(
    policy: &ContactPolicy,
    rule: (i64, &InvitationRule),
    draw: &Draw,
    history: &[Contact],
    key: &PseudonymKey,
) -> Decision {
    let (rule_id, rule) = rule;
    // A contact within the cooldown on either side: invitations already decided on may
    // go out later than this one (another rule's, with a longer delay).
    let near = |days: i64, matches: &dyn Fn(&Contact) -> bool| {
        history
            .iter()
            .any(|c| (c.at - draw.at).abs() < days * DAY && matches(c))
    };
    let parts = [draw.customer.as_bytes(), draw.event.as_bytes()];
    let suppression = if draw.opted_out {
        Some(Suppression::OptedOut)
    } else if held_out(key, draw.customer, policy.holdout_share) {
        Some(Suppression::Holdout)
    } else if keyed_uniform(key, "cxray-survey-sample", rule_id, &parts) >= rule.sample_rate {
        Some(Suppression::NotSampled)
    } else if near(policy.global_cooldown_days, &|_| true) {
        Some(Suppression::GlobalCooldown)
    } else if near(rule.survey_cooldown_days, &|c| c.survey == draw.survey) {
        Some(Suppression::SurveyCooldown)
    } else if near(rule.touchpoint_cooldown_days, &|c| {
        c.touchpoint == draw.touchpoint
    }) {
        Some(Suppression::TouchpointCooldown)
    } else {
        let full = crowded(policy, draw.at, history);
        full.then_some(Suppression::WindowLimit)
    };
    suppression.map_or(Decision::Invite, Decision::Suppress)
}

/// Whether an invitation at `at` would put more than the policy's limit into some window
/// of its length: among the contacts within a window's length on either side.
fn crowded(policy: &ContactPolicy, at: i64, history: &[Contact]) -> bool {
    let span = policy.window_days * DAY;
    let mut times: Vec<i64> = history
        .iter()
        .map(|c| c.at)
        .filter(|t| (t - at).abs() < span)
        .chain([at])
        .collect();
    times.sort_unstable();
    let most = (0..times.len())
        .map(|i| {
            times[i..]
                .iter()
                .take_while(|t| **t < times[i] + span)
                .count()
        })
        .max()
        .unwrap_or(0);
    most as i64 > policy.max_in_window
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surveys::survey::tests::rule;
    use proptest::prelude::*;

    const KEY: PseudonymKey = [7; 32];

    fn everyone() -> InvitationRule {
        InvitationRule {
            sample_rate: 1.0,
            ..rule()
        }
    }

    fn open() -> ContactPolicy {
        ContactPolicy {
            holdout_share: 0.0,
            ..ContactPolicy::default()
        }
    }

    fn draw(at: i64) -> Draw<'static> {
        Draw {
            customer: "c1",
            event: "e1",
            at,
            survey: 1,
            touchpoint: "check_in",
            opted_out: false,
        }
    }

    fn contact(days_ago: i64, survey: i64, touchpoint: &str) -> Contact {
        Contact {
            at: 1000 * DAY - days_ago * DAY,
            survey,
            touchpoint: touchpoint.into(),
        }
    }

    #[test]
    fn a_change_replaces_the_limits_given_and_keeps_the_rest() {
        let change: PolicyChange =
            serde_json::from_str(r#"{"reminders": 0, "holdout_share": 0.1}"#).unwrap();
        let changed = change.apply(ContactPolicy::default());
        let want = ContactPolicy {
            reminders: 0,
            holdout_share: 0.1,
            ..ContactPolicy::default()
        };
        assert_eq!(changed, want);
        assert!(serde_json::from_str::<PolicyChange>(r#"{"cooldown": 3}"#).is_err());
        assert_eq!(Suppression::words("holdout"), "In the never-ask holdout");
        assert_eq!(Suppression::words("mystery"), "mystery");
    }

    #[test]
    fn the_first_reason_that_applies_is_recorded() {
        let (p, r, now) = (open(), everyone(), 1000 * DAY);
        let d = |history: &[Contact]| decide(&p, (1, &r), &draw(now), history, &KEY);
        assert_eq!(d(&[]), Decision::Invite);
        let s = Decision::Suppress;
        assert_eq!(
            d(&[contact(29, 2, "bag_drop")]),
            s(Suppression::GlobalCooldown)
        );
        assert_eq!(d(&[contact(31, 2, "bag_drop")]), Decision::Invite);
        assert_eq!(
            d(&[contact(59, 1, "bag_drop")]),
            s(Suppression::SurveyCooldown)
        );
        assert_eq!(d(&[contact(31, 2, "check_in")]), Decision::Invite);
        let three = [
            contact(40, 2, "a"),
            contact(90, 3, "b"),
            contact(179, 4, "c"),
        ];
        assert_eq!(d(&three), s(Suppression::WindowLimit));
        assert_eq!(d(&three[..2]), Decision::Invite);
        let opted = Draw {
            opted_out: true,
            ..draw(now)
        };
        assert_eq!(
            decide(&p, (1, &r), &opted, &[], &KEY),
            s(Suppression::OptedOut)
        );
        let strict = InvitationRule {
            touchpoint_cooldown_days: 40,
            ..everyone()
        };
        let d2 = decide(
            &p,
            (1, &strict),
            &draw(now),
            &[contact(35, 2, "check_in")],
            &KEY,
        );
        assert_eq!(d2, s(Suppression::TouchpointCooldown));
    }

    #[test]
    fn the_sample_and_the_holdout_take_their_shares() {
        let (r, n) = (rule(), 20_000);
        let policy = ContactPolicy {
            holdout_share: 0.1,
            ..open()
        };
        let customers: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
        let mut counts = std::collections::BTreeMap::new();
        for c in &customers {
            let d = Draw {
                customer: c,
                ..draw(1000 * DAY)
            };
            *counts
                .entry(decide(&policy, (1, &r), &d, &[], &KEY))
                .or_insert(0) += 1;
        }
        let share = |d: Decision| counts.get(&d).copied().unwrap_or(0) as f64 / n as f64;
        assert!((share(Decision::Suppress(Suppression::Holdout)) - 0.1).abs() < 0.01);
        assert!((share(Decision::Invite) - 0.45).abs() < 0.015, "{counts:?}");
        // The same customers are held out whatever the survey.
        let again = Draw {
            customer: &customers[0],
            survey: 9,
            ..draw(0)
        };
        let first = Draw {
            customer: &customers[0],
            ..draw(0)
        };
        let held = |d: &Draw| {
            decide(&policy, (1, &r), d, &[], &KEY) == Decision::Suppress(Suppression::Holdout)
        };
        assert_eq!(held(&again), held(&first));
    }

    #[test]
    fn reminders_stop_at_the_limit_and_before_expiry() {
        let p = ContactPolicy {
            reminders: 2,
            reminder_gap_days: 5,
            expiry_days: 14,
            ..open()
        };
        assert_eq!(p.next_reminder(0, 0, 0), Some(5 * DAY));
        assert_eq!(p.next_reminder(0, 1, 5 * DAY), Some(10 * DAY));
        assert_eq!(p.next_reminder(0, 2, 10 * DAY), None);
        let short = ContactPolicy {
            expiry_days: 5,
            ..p
        };
        assert_eq!(short.next_reminder(0, 0, 0), None);
        assert_eq!(
            Suppression::parse("window_limit"),
            Some(Suppression::WindowLimit)
        );
        assert!(
            Suppression::ALL
                .iter()
                .all(|s| Suppression::parse(s.code()) == Some(*s))
        );
    }

    proptest! {
        /// A policy with any negative number of days is refused, naming the field.
        #[test]
        fn negative_limits_are_refused(field in 0usize..6, value in -3650i64..0) {
            let mut p = ContactPolicy::default();
            let slot = [
                &mut p.global_cooldown_days, &mut p.window_days, &mut p.max_in_window,
                &mut p.reminders, &mut p.reminder_gap_days, &mut p.expiry_days,
            ];
            *slot.into_iter().nth(field).unwrap() = value;
            prop_assert!(p.check().is_err());
        }
    }
}
