//! The closed loop's rules: what opens a follow-up case ([`trigger`]), where a case is
//! ([`status`]), why it happened ([`root_cause`]), what the follow-up did ([`outcome`]),
//! when it is due ([`deadline`]), what people are told and when it escalates ([`notify`]),
//! who is held out to measure it ([`holdout`]) and what
//! following up changed ([`effect`]).

pub mod deadline;
pub mod effect;
pub mod holdout;
pub mod hours;
pub mod notify;
pub mod outcome;
pub mod root_cause;
pub mod status;
pub mod trigger;

pub use deadline::Deadlines;
pub use holdout::{Draw, HoldoutShare};
pub use notify::{CaseEvent, Escalation, Lateness};
pub use outcome::{Outcome, OutcomeKind};
pub use root_cause::RootCause;
pub use status::{Arm, CaseStatus};
pub use trigger::{
    Comparison, CustomerCondition, Experience, ScoreCondition, Trigger, TriggerKind,
};

use crate::domain::Table;
use crate::stats::Instrument;

/// A rule or a case change that cannot be.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CaseError {
    #[error("score condition '{text}': {why}")]
    Condition { text: String, why: String },
    #[error("unknown instrument '{0}' (instruments: {names})", names = instrument_names())]
    Instrument(String),
    #[error("P(alive) threshold {0}: a probability between 0 and 1, both excluded")]
    Threshold(f64),
    #[error("customer condition '{0}': write it as column=value (e.g. segment=business)")]
    Customers(String),
    #[error("holdout share {0}: a fraction from 0 to {max}", max = HoldoutShare::MAX)]
    Holdout(f64),
    #[error("root cause '{text}': {why}")]
    RootCause { text: String, why: String },
    #[error("outcome: {0}")]
    Outcome(String),
    #[error("a {from} case cannot become {to} (it can become: {})", names(allowed))]
    Transition {
        from: CaseStatus,
        to: CaseStatus,
        allowed: &'static [CaseStatus],
    },
}

fn instrument_names() -> String {
    let names: Vec<&str> = Instrument::ALL.iter().map(|i| i.name()).collect();
    names.join(", ")
}

fn names(statuses: &[CaseStatus]) -> String {
    let names: Vec<&str> = statuses.iter().map(|s| s.name()).collect();
    names.join(", ")
}

/// The key of a source event: the BLAKE3 hash of its table and identifying fields (for an
/// answer: customer, time, instrument, touchpoint). The same event imported twice, from
/// any file, has the same key, so it opens a case only once.
pub fn event_key(table: Table, fields: &[&str]) -> String {
    let mut h = blake3::Hasher::new();
    h.update(table.name().as_bytes());
    for f in fields {
        h.update(&(f.len() as u64).to_le_bytes());
        h.update(f.as_bytes());
    }
    h.finalize().to_hex()[..32].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_keys_depend_on_every_field_and_its_bounds() {
        let k = |t, f: &[&str]| event_key(t, f);
        let a = k(Table::Responses, &["C-1", "2025-01-01T00:00:00Z", "nps"]);
        assert_eq!(a.len(), 32);
        assert_eq!(
            a,
            k(Table::Responses, &["C-1", "2025-01-01T00:00:00Z", "nps"])
        );
        assert_ne!(
            a,
            k(Table::Interactions, &["C-1", "2025-01-01T00:00:00Z", "nps"])
        );
        assert_ne!(
            k(Table::Responses, &["ab", "c"]),
            k(Table::Responses, &["a", "bc"])
        );
    }
}
