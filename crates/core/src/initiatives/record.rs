//! An initiative as recorded: what was changed, by whom, where (touchpoints and units such
//! as `airport = CPH`), from when (per unit where the roll-out was staggered), at what
//! cost and with what expected effect — checked before it is stored.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::names::named_enum;

named_enum! {
    /// Where an initiative is.
    pub enum Status("status") {
        Planned = "planned",
        Running = "running",
        Done = "done",
        Stopped = "stopped",
    }
}

impl Status {
    /// The status for people.
    pub fn label(self) -> &'static str {
        match self {
            Status::Planned => "Planned",
            Status::Running => "Running",
            Status::Done => "Done",
            Status::Stopped => "Stopped",
        }
    }
}

/// Where a change applies: touchpoints (all when none) and the units — values of one
/// column of the interactions or customers, e.g. `airport` = CPH.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    pub touchpoints: Vec<String>,
    pub column: String,
    pub values: Vec<String>,
}

impl Scope {
    /// Parses `column=value,value…` (spaces around the parts ignored).
    pub fn parse(text: &str, touchpoints: Vec<String>) -> Result<Scope, RecordError> {
        let bad = || RecordError::Scope(text.to_string());
        let (column, values) = text.split_once('=').ok_or_else(bad)?;
        let values: Vec<String> = values
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        let column = column.trim().to_string();
        if column.is_empty() || values.is_empty() {
            return Err(bad());
        }
        Ok(Scope {
            touchpoints,
            column,
            values,
        })
    }
}

/// An initiative. Costs are in the data's currency: `one_off_cost` once, `running_cost`
/// a year; `expected_effect` the relative change hoped for in the outcome (−0.3: 30% fewer).
/// Serialised with its dates as ISO text.
#[derive(Debug, Clone, PartialEq)]
pub struct Initiative {
    pub name: String,
    pub owner: Option<String>,
    pub scope: Scope,
    pub start: NaiveDate,
    /// Units whose start differs from `start` (a staggered roll-out).
    pub starts: BTreeMap<String, NaiveDate>,
    pub end: Option<NaiveDate>,
    pub one_off_cost: f64,
    pub running_cost: f64,
    pub expected_effect: Option<f64>,
    pub status: Status,
    pub notes: String,
}

/// A field of an initiative that cannot be.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RecordError {
    #[error("name: must not be empty")]
    Name,
    #[error("scope '{0}': write it as column=value or column=value,value (e.g. airport=CPH)")]
    Scope(String),
    #[error("start for '{0}': not one of the scope's values")]
    StartUnit(String),
    #[error("end {end}: before the start {start}")]
    End { start: NaiveDate, end: NaiveDate },
    #[error("{field} {value}: a cost is a finite amount, 0 or more")]
    Cost { field: &'static str, value: f64 },
    #[error("expected effect {0}: a relative change above −1 (−0.3 is 30% less)")]
    Expected(f64),
}

impl RecordError {
    /// The field the error is in.
    pub fn field(&self) -> &'static str {
        match self {
            RecordError::Name => "name",
            RecordError::Scope(_) => "scope",
            RecordError::StartUnit(_) => "starts",
            RecordError::End { .. } => "end",
            RecordError::Cost { field, .. } => field,
            RecordError::Expected(_) => "expected_effect",
        }
    }
}

impl Serialize for Initiative {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Text<'a> {
            name: &'a str,
            owner: &'a Option<String>,
            scope: &'a Scope,
            start: String,
            starts: BTreeMap<&'a str, String>,
            end: Option<String>,
            one_off_cost: f64,
            running_cost: f64,
            expected_effect: Option<f64>,
            status: Status,
            notes: &'a str,
        }
        Text {
            name: &self.name,
            owner: &self.owner,
            scope: &self.scope,
            start: self.start.to_string(),
            starts: self
                .starts
                .iter()
                .map(|(u, d)| (u.as_str(), d.to_string()))
                .collect(),
            end: self.end.map(|d| d.to_string()),
            one_off_cost: self.one_off_cost,
            running_cost: self.running_cost,
            expected_effect: self.expected_effect,
            status: self.status,
            notes: &self.notes,
        }
        .serialize(s)
    }
}

impl Initiative {
    /// A running initiative from `start` over `scope`, without owner, costs, expected
    /// effect, end or notes.
    pub fn new(name: impl Into<String>, scope: Scope, start: NaiveDate) -> Initiative {
        Initiative {
            name: name.into(),
            owner: None,
            scope,
            start,
            starts: BTreeMap::new(),
            end: None,
            one_off_cost: 0.0,
            running_cost: 0.0,
            expected_effect: None,
            status: Status::Running,
            notes: String::new(),
        }
    }

    /// Checks the fields that need no data: a name, per-unit starts of scoped units, an
    /// end not before any start, costs, the expected effect.
    pub fn check(&self) -> Result<(), RecordError> {
        if self.name.trim().is_empty() {
            return Err(RecordError::Name);
        }
        if let Some(unit) = self.starts.keys().find(|u| !self.scope.values.contains(u)) {
            return Err(RecordError::StartUnit(unit.clone()));
        }
        let latest = self
            .starts
            .values()
            .copied()
            .fold(self.start, NaiveDate::max);
        if let Some(end) = self.end.filter(|&e| e < latest) {
            return Err(RecordError::End { start: latest, end });
        }
        for (field, value) in [
            ("one_off_cost", self.one_off_cost),
            ("running_cost", self.running_cost),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(RecordError::Cost { field, value });
            }
        }
        match self.expected_effect {
            Some(e) if !(e.is_finite() && e > -1.0) => Err(RecordError::Expected(e)),
            _ => Ok(()),
        }
    }

    /// The start of `unit`: its own, else the initiative's (none outside the scope).
    pub fn start_of(&self, unit: &str) -> Option<NaiveDate> {
        self.scope
            .values
            .iter()
            .any(|v| v == unit)
            .then(|| self.starts.get(unit).copied().unwrap_or(self.start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn example() -> Initiative {
        let scope = Scope::parse("airport = CPH, OSL", vec!["bag_drop".into()]).unwrap();
        Initiative {
            owner: Some("ground".into()),
            starts: BTreeMap::from([("OSL".to_string(), date("2024-10-01"))]),
            one_off_cost: 50_000.0,
            expected_effect: Some(-0.3),
            ..Initiative::new("Bag fix", scope, date("2024-09-01"))
        }
    }

    #[test]
    fn scope_and_starts() {
        let i = example();
        assert_eq!(
            (i.scope.column.as_str(), i.scope.values.len()),
            ("airport", 2)
        );
        assert_eq!(i.start_of("OSL"), Some(date("2024-10-01")));
        assert_eq!(i.start_of("CPH"), Some(date("2024-09-01")));
        assert_eq!(i.start_of("ARN"), None);
        assert!(i.check().is_ok());
        assert_eq!(
            Scope::parse("airport", vec![]).unwrap_err().to_string(),
            "scope 'airport': write it as column=value or column=value,value (e.g. airport=CPH)"
        );
        assert!(Scope::parse("=CPH", vec![]).is_err() && Scope::parse("a= ,", vec![]).is_err());
        assert_eq!("RUNNING".parse::<Status>(), Ok(Status::Running));
    }

    #[test]
    fn bad_fields_are_named() {
        let field = |i: Initiative| i.check().unwrap_err().field();
        assert_eq!(
            field(Initiative {
                name: " ".into(),
                ..example()
            }),
            "name"
        );
        let mut i = example();
        i.starts.insert("HEL".into(), date("2024-09-01"));
        assert_eq!(field(i), "starts");
        let early = Initiative {
            end: Some(date("2024-09-15")),
            ..example()
        };
        assert_eq!(
            early.check().unwrap_err().to_string(),
            "end 2024-09-15: before the start 2024-10-01"
        );
        assert_eq!(
            field(Initiative {
                expected_effect: Some(-1.0),
                ..example()
            }),
            "expected_effect"
        );
    }

    proptest! {
        /// Every cost that is negative or not finite is refused, naming its field.
        #[test]
        fn bad_costs_are_refused(
            cost in prop_oneof![-1e9..-1e-9f64, Just(f64::NAN), Just(f64::INFINITY)],
            running in any::<bool>(),
        ) {
            let mut i = example();
            let field = if running { &mut i.running_cost } else { &mut i.one_off_cost };
            *field = cost;
            let want = if running { "running_cost" } else { "one_off_cost" };
            prop_assert_eq!(i.check().unwrap_err().field(), want);
        }
    }
}
