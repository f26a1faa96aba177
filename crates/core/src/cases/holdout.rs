//! The holdout: a random but reproducible share of the customers a rule triggers on is not
//! followed up, so the follow-up's effect can be measured against them.

use crate::access::{PseudonymKey, keyed_uniform};

use super::{Arm, CaseError};

/// The share of triggered customers held out, in [0, 0.5].
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, serde::Serialize)]
#[serde(transparent)]
pub struct HoldoutShare(f64);

impl HoldoutShare {
    /// The share held out unless a rule says otherwise: 10%.
    pub const DEFAULT: HoldoutShare = HoldoutShare(0.10);
    /// The largest share: beyond half, most triggered customers would not be followed up.
    pub const MAX: f64 = 0.5;

    /// A share between 0 and [`HoldoutShare::MAX`].
    pub fn new(share: f64) -> Result<Self, CaseError> {
        match (0.0..=Self::MAX).contains(&share) {
            true => Ok(HoldoutShare(share)),
            false => Err(CaseError::Holdout(share)),
        }
    }

    /// The share, a fraction.
    pub fn get(self) -> f64 {
        self.0
    }
}

/// Who is asked: a customer triggered by a rule, routed to an owner.
#[derive(Debug, Clone, Copy)]
pub struct Draw<'a> {
    pub rule: i64,
    pub owner: &'a str,
    pub customer: &'a str,
}

impl Draw<'_> {
    /// A number in [0, 1) from the keyed BLAKE3 hash of rule, owner and customer: the
    /// same for the same key on every run, unknowable without the key, and independent
    /// between rules and owners, so every (rule, owner) stratum is split on its own.
    pub fn uniform(&self, key: &PseudonymKey) -> f64 {
        let parts = [self.owner.as_bytes(), self.customer.as_bytes()];
        keyed_uniform(key, "cxray-holdout", self.rule, &parts)
    }

    /// The arm: held out when the draw falls below the share.
    pub fn arm(&self, key: &PseudonymKey, share: HoldoutShare) -> Arm {
        match self.uniform(key) < share.get() {
            true => Arm::Holdout,
            false => Arm::FollowUp,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn shares_are_checked() {
        assert_eq!(HoldoutShare::DEFAULT.get(), 0.1);
        assert!(HoldoutShare::new(0.0).is_ok() && HoldoutShare::new(0.5).is_ok());
        assert!(HoldoutShare::new(0.6).is_err() && HoldoutShare::new(f64::NAN).is_err());
        assert!(HoldoutShare::new(-0.1).is_err());
    }

    #[test]
    fn a_zero_share_holds_nobody_out() {
        let d = Draw {
            rule: 1,
            owner: "o",
            customer: "c",
        };
        assert_eq!(
            d.arm(&[1; 32], HoldoutShare::new(0.0).unwrap()),
            Arm::FollowUp
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Over 20,000 customers the held-out share is within 4.5 standard errors of the
        /// share asked for, and each customer's arm is the same when drawn again.
        #[test]
        fn the_held_out_share_is_close_and_stable(
            key in any::<[u8; 32]>(),
            rule in 1i64..1000,
            share in 0.01f64..=0.5,
            owner in "[a-z]{1,8}",
        ) {
            let share = HoldoutShare::new(share).unwrap();
            let n = 20_000;
            let ids: Vec<String> = (0..n).map(|i| format!("C-{i}")).collect();
            let arms: Vec<Arm> = ids
                .iter()
                .map(|c| Draw { rule, owner: &owner, customer: c }.arm(&key, share))
                .collect();
            let held = arms.iter().filter(|a| **a == Arm::Holdout).count() as f64 / n as f64;
            let se = (share.get() * (1.0 - share.get()) / n as f64).sqrt();
            prop_assert!((held - share.get()).abs() < 4.5 * se, "{held} vs {}", share.get());
            for (c, a) in ids.iter().zip(&arms).take(200) {
                prop_assert_eq!(Draw { rule, owner: &owner, customer: c }.arm(&key, share), *a);
            }
        }

        /// Other rules and other keys draw independently: the arms agree about as often
        /// as two independent draws would.
        #[test]
        fn rules_and_keys_draw_independently(key in any::<[u8; 32]>(), rule in 1i64..1000) {
            let share = HoldoutShare::new(0.5).unwrap();
            let n = 4_000;
            let same = (0..n)
                .filter(|i| {
                    let c = format!("C-{i}");
                    let a = Draw { rule, owner: "o", customer: &c }.arm(&key, share);
                    let b = Draw { rule: rule + 1, owner: "o", customer: &c }.arm(&key, share);
                    a == b
                })
                .count() as f64 / n as f64;
            prop_assert!((same - 0.5).abs() < 4.5 * (0.25 / n as f64).sqrt(), "{same}");
        }
    }
}
