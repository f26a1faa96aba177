//! What the follow-up did for the customer.

use serde::Serialize;

use crate::names::named_enum;

use super::CaseError;

named_enum! {
    /// The kind of a follow-up's outcome.
    pub enum OutcomeKind("outcome") {
        Apology = "apology",
        /// Money or a voucher; has an amount.
        Compensation = "compensation",
        /// The problem itself was fixed.
        Fixed = "fixed",
        NoContact = "no_contact",
    }
}

impl OutcomeKind {
    /// The kind's name for people.
    pub fn label(self) -> &'static str {
        match self {
            OutcomeKind::Apology => "Apology",
            OutcomeKind::Compensation => "Compensation",
            OutcomeKind::Fixed => "Problem fixed",
            OutcomeKind::NoContact => "No contact possible",
        }
    }
}

/// A follow-up's outcome: its kind, and the amount of a compensation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Outcome {
    pub kind: OutcomeKind,
    /// The compensation's amount, in the data's currency (compensations only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
}

impl Outcome {
    /// An outcome: a compensation needs an amount above 0, other kinds take none.
    pub fn new(kind: OutcomeKind, amount: Option<f64>) -> Result<Self, CaseError> {
        match (kind, amount) {
            (OutcomeKind::Compensation, Some(a)) if a.is_finite() && a > 0.0 => {}
            (OutcomeKind::Compensation, _) => {
                return Err(CaseError::Outcome(
                    "a compensation needs an amount above 0".into(),
                ));
            }
            (_, Some(_)) => {
                return Err(CaseError::Outcome(format!(
                    "only a compensation has an amount, not '{kind}'"
                )));
            }
            (_, None) => {}
        }
        Ok(Outcome { kind, amount })
    }

    /// The outcome for people: "Compensation (50)".
    pub fn label(&self) -> String {
        match self.amount {
            Some(a) => format!("{} ({a})", self.kind.label()),
            None => self.kind.label().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn only_compensations_have_amounts() {
        let o = Outcome::new(OutcomeKind::Compensation, Some(50.0)).unwrap();
        assert_eq!(o.label(), "Compensation (50)");
        assert_eq!(
            serde_json::to_value(o).unwrap(),
            serde_json::json!({"kind": "compensation", "amount": 50.0})
        );
        assert!(Outcome::new(OutcomeKind::Compensation, None).is_err());
        assert!(Outcome::new(OutcomeKind::Apology, Some(5.0)).is_err());
        assert_eq!(
            Outcome::new(OutcomeKind::NoContact, None).unwrap().label(),
            "No contact possible"
        );
    }

    proptest! {
        #[test]
        fn amounts_are_checked(
            kind in prop::sample::select(OutcomeKind::ALL),
            amount in prop::option::of(prop_oneof![any::<f64>(), -10.0..1000.0f64]),
        ) {
            let ok = match kind {
                OutcomeKind::Compensation => amount.is_some_and(|a| a.is_finite() && a > 0.0),
                _ => amount.is_none(),
            };
            prop_assert_eq!(Outcome::new(kind, amount).is_ok(), ok);
        }
    }
}
