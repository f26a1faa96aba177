//! Where a case is: open → contacted → resolved or closed, and reopened.

use crate::names::named_enum;

use super::CaseError;

named_enum! {
    /// A case's status.
    pub enum CaseStatus("status") {
        /// Opened, nobody has reached the customer yet.
        Open = "open",
        /// The customer was contacted.
        Contacted = "contacted",
        /// The customer's problem was dealt with.
        Resolved = "resolved",
        /// Closed without a resolution (no contact possible, a duplicate, …).
        Closed = "closed",
    }
}

impl CaseStatus {
    /// The status's name for people.
    pub fn label(self) -> &'static str {
        match self {
            CaseStatus::Open => "Open",
            CaseStatus::Contacted => "Customer contacted",
            CaseStatus::Resolved => "Resolved",
            CaseStatus::Closed => "Closed",
        }
    }

    /// The statuses a case in this one may move to (resolved and closed cases reopen).
    pub fn next(self) -> &'static [CaseStatus] {
        use CaseStatus::*;
        match self {
            Open => &[Contacted, Resolved, Closed],
            Contacted => &[Resolved, Closed],
            Resolved | Closed => &[Open],
        }
    }

    /// Whether the case is finished (resolved or closed).
    pub fn is_done(self) -> bool {
        matches!(self, CaseStatus::Resolved | CaseStatus::Closed)
    }

    /// The status after moving to `to`, or an error naming the allowed ones.
    pub fn to(self, to: CaseStatus) -> Result<CaseStatus, CaseError> {
        match self.next().contains(&to) {
            true => Ok(to),
            false => Err(CaseError::Transition {
                from: self,
                to,
                allowed: self.next(),
            }),
        }
    }
}

named_enum! {
    /// Whether a case is followed up or held out to measure what following up changes.
    pub enum Arm("arm") {
        FollowUp = "follow_up",
        /// Recorded but not routed, worked or notified.
        Holdout = "holdout",
    }
}

impl Arm {
    /// The arm's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Arm::FollowUp => "Followed up",
            Arm::Holdout => "Held out (not followed up)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cases_move_forward_and_reopen() {
        use CaseStatus::*;
        assert_eq!(Open.to(Contacted), Ok(Contacted));
        assert_eq!(Contacted.to(Resolved), Ok(Resolved));
        assert_eq!(Resolved.to(Open), Ok(Open));
        assert_eq!(Open.to(Closed), Ok(Closed));
        let e = Resolved.to(Contacted).unwrap_err().to_string();
        assert_eq!(
            e,
            "a resolved case cannot become contacted (it can become: open)"
        );
        assert!(Contacted.to(Open).is_err());
        assert_eq!(Arm::Holdout.label(), "Held out (not followed up)");
    }

    proptest! {
        /// A move succeeds exactly when the target is listed, and from any status every
        /// other is reachable in at most three moves.
        #[test]
        fn transitions_follow_the_listed_moves(
            from in prop::sample::select(CaseStatus::ALL),
            to in prop::sample::select(CaseStatus::ALL),
        ) {
            prop_assert_eq!(from.to(to).is_ok(), from.next().contains(&to));
            prop_assert!(from.to(from).is_err());
            let mut seen = vec![from];
            for _ in 0..3 {
                let more: Vec<CaseStatus> = seen.iter().flat_map(|s| s.next()).copied().collect();
                seen.extend(more);
            }
            prop_assert!(seen.contains(&to));
        }
    }
}
