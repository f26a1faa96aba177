//! The design of a panel — treated and untreated units, start dates, periods before the
//! first start — which estimator it calls for, and when it cannot support a claim.

use serde::{Deserialize, Serialize};

use super::panel::Panel;

/// How an effect is estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Estimator {
    /// Two-way fixed effects, one start date.
    DifferenceInDifferences,
    /// Sun & Abraham's event study for start dates that differ between units.
    Staggered,
    /// A convex combination of untreated units matching the treated ones before the start.
    SyntheticControl,
    /// Units assigned at random, compared with CUPED.
    RandomizedPilot,
}

impl Estimator {
    /// The estimator's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Estimator::DifferenceInDifferences => {
                "difference-in-differences (unit and period fixed effects)"
            }
            Estimator::Staggered => "staggered difference-in-differences (Sun & Abraham)",
            Estimator::SyntheticControl => "synthetic control",
            Estimator::RandomizedPilot => "randomized pilot (CUPED)",
        }
    }
}

/// The minimum a design needs before a claim is made.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    /// Periods before the first start (2: the reference period and one to test trends on).
    pub min_pre_periods: usize,
    /// Periods before the start a synthetic control is fitted on.
    pub min_synthetic_pre_periods: usize,
    /// Units in all (the clusters of the standard errors).
    pub min_units: usize,
    /// Untreated units a synthetic control is made of (19: with fewer placebos no rank
    /// reaches the 5% level, so there is no 95% interval).
    pub min_donors: usize,
    /// Treated units up to which a synthetic control is preferred.
    pub max_synthetic_treated: usize,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            min_pre_periods: 2,
            min_synthetic_pre_periods: 5,
            min_units: 4,
            min_donors: 19,
            max_synthetic_treated: 2,
        }
    }
}

/// What a panel offers: its units and periods, the treated and untreated units, the
/// distinct start dates and the periods before the first start and from it on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Design {
    pub units: usize,
    pub periods: usize,
    pub treated_units: usize,
    pub untreated_units: usize,
    pub starts: usize,
    pub pre_periods: usize,
    pub post_periods: usize,
}

/// Why a design cannot support a claim.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Refusal {
    /// No unit's treatment starts within the data.
    NoTreatedUnit,
    /// No untreated unit to compare with.
    NoControl,
    ShortPrePeriod {
        periods: usize,
        needed: usize,
    },
    TooFewUnits {
        units: usize,
        needed: usize,
    },
    TooFewDonors {
        donors: usize,
        needed: usize,
    },
    /// The treated path lies outside every donor's in most pre-periods.
    NoComparableControl {
        outside: usize,
        pre_periods: usize,
    },
    /// Synthetic control and pilots compare one start date.
    SeveralStarts {
        starts: usize,
    },
    /// The unit and period effects (and the event study's leads) explain every treated
    /// observation, e.g. no untreated unit is observed in the treated periods.
    Unidentified,
    /// No more observations than coefficients and period effects to estimate.
    TooFewObservations {
        observations: usize,
        parameters: usize,
    },
}

impl Refusal {
    /// The reason for people.
    pub fn label(&self) -> String {
        match self {
            Refusal::NoTreatedUnit => "no unit is treated within the data".into(),
            Refusal::NoControl => "no comparable control: every unit is treated".into(),
            Refusal::ShortPrePeriod { periods, needed } => format!(
                "pre-period too short: {periods} period(s) before the start, {needed} needed"
            ),
            Refusal::TooFewUnits { units, needed } => {
                format!("too few units: {units}, at least {needed} needed")
            }
            Refusal::TooFewDonors { donors, needed } => format!(
                "too few untreated units with every period to build a synthetic control: \
                 {donors}, at least {needed} needed"
            ),
            Refusal::NoComparableControl {
                outside,
                pre_periods,
            } => format!(
                "no comparable control: before the start the treated units lie above or below \
                 every untreated unit in {outside} of {pre_periods} periods"
            ),
            Refusal::SeveralStarts { starts } => format!(
                "the treatment starts at {starts} different periods: this estimator compares \
                 one start"
            ),
            Refusal::Unidentified => "the effect cannot be estimated: the unit and period \
                effects explain every treated observation (no untreated unit is observed \
                beside the treated ones after the start)"
                .into(),
            Refusal::TooFewObservations {
                observations,
                parameters,
            } => format!(
                "too few observations: {observations} for {parameters} coefficients and \
                 period effects"
            ),
        }
    }
}

impl Design {
    /// The design of `panel`.
    pub fn of(panel: &Panel) -> Design {
        let starts = panel.cohorts();
        let pre = starts.first().copied().unwrap_or(panel.periods().len());
        Design {
            units: panel.units().len(),
            periods: panel.periods().len(),
            treated_units: panel.treated_units().len(),
            untreated_units: panel.untreated_units().len(),
            starts: starts.len(),
            pre_periods: pre,
            post_periods: panel.periods().len() - pre,
        }
    }

    /// The estimator for this design and why: a randomized pilot when the units were
    /// assigned at random, Sun & Abraham for several starts, a synthetic control for few
    /// treated units with enough untreated ones and pre-periods, else two-way fixed effects.
    pub fn choose(&self, randomized: bool, rules: &Rules) -> (Estimator, String) {
        let (t, u) = (self.treated_units, self.untreated_units);
        if randomized {
            return (
                Estimator::RandomizedPilot,
                format!(
                    "units were assigned at random ({t} treated, {u} not): their means after \
                     the start compared, adjusted for their means before (CUPED)"
                ),
            );
        }
        if self.starts > 1 {
            return (
                Estimator::Staggered,
                format!(
                    "the treatment starts at {} different periods: each start's effects \
                     estimated apart and averaged (Sun & Abraham), valid when effects differ \
                     between starts, unlike plain two-way fixed effects",
                    self.starts
                ),
            );
        }
        if t <= rules.max_synthetic_treated
            && u >= rules.min_donors
            && self.pre_periods >= rules.min_synthetic_pre_periods
        {
            return (
                Estimator::SyntheticControl,
                format!(
                    "{t} treated unit(s), {u} untreated ones and {} periods before the start: \
                     a weighted combination of untreated units that tracked the treated \
                     ones before the start",
                    self.pre_periods
                ),
            );
        }
        (
            Estimator::DifferenceInDifferences,
            format!(
                "{t} treated and {u} untreated units with one start: the change in the \
                 treated units against the change in the untreated ones (unit and period \
                 fixed effects, standard errors clustered by unit)"
            ),
        )
    }

    /// Why `estimator` cannot support a claim on this design, if it cannot.
    pub fn refusal(&self, estimator: Estimator, rules: &Rules) -> Option<Refusal> {
        use Estimator::*;
        let synthetic = estimator == SyntheticControl;
        let needed = if synthetic {
            rules.min_synthetic_pre_periods
        } else {
            rules.min_pre_periods
        };
        let controls = self.untreated_units > 0 || (estimator == Staggered && self.starts > 1);
        if self.treated_units == 0 {
            Some(Refusal::NoTreatedUnit)
        } else if !controls {
            Some(Refusal::NoControl)
        } else if self.starts > 1 && matches!(estimator, SyntheticControl | RandomizedPilot) {
            Some(Refusal::SeveralStarts {
                starts: self.starts,
            })
        } else if self.pre_periods < needed {
            Some(Refusal::ShortPrePeriod {
                periods: self.pre_periods,
                needed,
            })
        } else if !synthetic && self.units < rules.min_units {
            Some(Refusal::TooFewUnits {
                units: self.units,
                needed: rules.min_units,
            })
        } else {
            None
        }
    }
}
