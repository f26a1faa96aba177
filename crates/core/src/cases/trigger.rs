//! What opens a case: a survey answer, a touchpoint experience or a change in behaviour,
//! and for which customers.

use serde::Serialize;

use crate::domain::{Table, parse_score};
use crate::names::named_enum;
use crate::stats::Instrument;

use super::CaseError;

named_enum! {
    /// The kind of event a trigger watches.
    pub enum TriggerKind("trigger kind") {
        /// A survey answer (responses).
        Survey = "survey",
        /// An experience at a touchpoint (interactions).
        Interaction = "interaction",
        /// A customer's predicted behaviour (customer_value).
        Behaviour = "behaviour",
    }
}

impl TriggerKind {
    /// The kind's name for people.
    pub fn label(self) -> &'static str {
        match self {
            TriggerKind::Survey => "Survey answer",
            TriggerKind::Interaction => "Touchpoint experience",
            TriggerKind::Behaviour => "Change in behaviour",
        }
    }
}

named_enum! {
    /// How a score is compared with a rule's score.
    pub enum Comparison("comparison") {
        AtMost = "at_most",
        AtLeast = "at_least",
        Below = "below",
        Above = "above",
        Equal = "equal",
    }
}

impl Comparison {
    /// The comparison's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Comparison::AtMost => "at most",
            Comparison::AtLeast => "at least",
            Comparison::Below => "below",
            Comparison::Above => "above",
            Comparison::Equal => "equal to",
        }
    }

    /// The mathematical symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::AtMost => "≤",
            Comparison::AtLeast => "≥",
            Comparison::Below => "<",
            Comparison::Above => ">",
            Comparison::Equal => "=",
        }
    }

    /// Whether `value` compares so with `with`.
    pub fn holds(self, value: f64, with: f64) -> bool {
        match self {
            Comparison::AtMost => value <= with,
            Comparison::AtLeast => value >= with,
            Comparison::Below => value < with,
            Comparison::Above => value > with,
            Comparison::Equal => value == with,
        }
    }

    /// The comparison a text begins with (`<=`, `≤`, `>=`, `≥`, `<`, `>`, `=`), and the
    /// rest of the text.
    fn split(text: &str) -> Option<(Comparison, &str)> {
        const SYMBOLS: &[(&str, Comparison)] = &[
            ("<=", Comparison::AtMost),
            ("≤", Comparison::AtMost),
            (">=", Comparison::AtLeast),
            ("≥", Comparison::AtLeast),
            ("<", Comparison::Below),
            (">", Comparison::Above),
            ("=", Comparison::Equal),
        ];
        SYMBOLS
            .iter()
            .find_map(|(s, c)| text.strip_prefix(s).map(|rest| (*c, rest)))
    }
}

/// A condition on a survey score: `≤ 6`, `≥ 5`, `≤ D` (grades by letter or points).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ScoreCondition {
    pub comparison: Comparison,
    pub score: f64,
}

impl ScoreCondition {
    /// Parses `<=6`, `≥ 5`, `<= D` for `instrument`: the score must be one of the
    /// instrument's, and some but not every score must meet the condition.
    pub fn parse(instrument: Instrument, text: &str) -> Result<Self, CaseError> {
        let bad = |why: String| CaseError::Condition {
            text: text.trim().to_string(),
            why,
        };
        let (comparison, score) = Comparison::split(text.trim())
            .ok_or_else(|| bad("start with <=, >=, <, > or = (e.g. <=6)".into()))?;
        let score = parse_score(instrument.name(), score).map_err(bad)?;
        let condition = ScoreCondition { comparison, score };
        let met = condition.scores_met(instrument);
        let (lo, hi) = instrument.range();
        let every = (hi - lo) as usize + 1;
        match met {
            0 => Err(bad(format!("no {} answer can meet it", instrument.name()))),
            n if n == every => Err(bad(format!("every {} answer meets it", instrument.name()))),
            _ => Ok(condition),
        }
    }

    /// Whether a score meets the condition.
    pub fn matches(&self, score: f64) -> bool {
        self.comparison.holds(score, self.score)
    }

    /// How many of the instrument's scores meet the condition.
    fn scores_met(&self, instrument: Instrument) -> usize {
        let (lo, hi) = instrument.range();
        (lo..=hi).filter(|s| self.matches(f64::from(*s))).count()
    }
}

impl std::fmt::Display for ScoreCondition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.comparison.symbol(), self.score)
    }
}

named_enum! {
    /// Which experiences at a touchpoint open a case.
    pub enum Experience("experience") {
        /// The interaction's outcome was `failed`.
        Failed = "failed",
        /// The wait was longer than the touchpoint's service level.
        OverSla = "over_sla",
        /// Either.
        Bad = "bad",
    }
}

impl Experience {
    /// The experience's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Experience::Failed => "Failed",
            Experience::OverSla => "Waited beyond the service level",
            Experience::Bad => "Failed or waited beyond the service level",
        }
    }

    /// Whether the touchpoint's service level (the longest wait) is needed.
    pub fn needs_sla(self) -> bool {
        self != Experience::Failed
    }
}

/// What opens a case.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Trigger {
    /// An answer whose score meets the condition, at the touchpoint if one is given.
    Survey {
        instrument: Instrument,
        condition: ScoreCondition,
        touchpoint: Option<String>,
    },
    /// An interaction at the touchpoint with the experience.
    Interaction {
        touchpoint: String,
        experience: Experience,
    },
    /// A customer whose P(alive) fell below the threshold between two valuations.
    Behaviour { p_alive_below: f64 },
}

impl Trigger {
    /// A behaviour trigger: the threshold must lie strictly between 0 and 1.
    pub fn behaviour(p_alive_below: f64) -> Result<Self, CaseError> {
        match p_alive_below > 0.0 && p_alive_below < 1.0 {
            true => Ok(Trigger::Behaviour { p_alive_below }),
            false => Err(CaseError::Threshold(p_alive_below)),
        }
    }

    /// The kind of event it watches.
    pub fn kind(&self) -> TriggerKind {
        match self {
            Trigger::Survey { .. } => TriggerKind::Survey,
            Trigger::Interaction { .. } => TriggerKind::Interaction,
            Trigger::Behaviour { .. } => TriggerKind::Behaviour,
        }
    }

    /// The event table it reads (behaviour reads the derived `customer_value`).
    pub fn table(&self) -> Option<Table> {
        match self {
            Trigger::Survey { .. } => Some(Table::Responses),
            Trigger::Interaction { .. } => Some(Table::Interactions),
            Trigger::Behaviour { .. } => None,
        }
    }

    /// The touchpoint it is about, if any.
    pub fn touchpoint(&self) -> Option<&str> {
        match self {
            Trigger::Survey { touchpoint, .. } => touchpoint.as_deref(),
            Trigger::Interaction { touchpoint, .. } => Some(touchpoint),
            Trigger::Behaviour { .. } => None,
        }
    }

    /// The trigger for people: "NPS ≤ 6 at check-in", "Failed at baggage".
    pub fn label(&self) -> String {
        let at = |tp: Option<&str>| tp.map(|t| format!(" at {t}")).unwrap_or_default();
        match self {
            Trigger::Survey {
                instrument,
                condition,
                touchpoint,
            } => format!(
                "{} {}{}",
                instrument.label(),
                condition,
                at(touchpoint.as_deref())
            ),
            Trigger::Interaction {
                touchpoint,
                experience,
            } => format!("{}{}", experience.label(), at(Some(touchpoint))),
            Trigger::Behaviour { p_alive_below } => {
                format!("P(alive) fell below {p_alive_below}")
            }
        }
    }
}

/// Parses an instrument by its contract name (`nps`, `csat`, `ces`, `grade`).
pub fn parse_instrument(text: &str) -> Result<Instrument, CaseError> {
    let text = text.trim();
    Instrument::ALL
        .into_iter()
        .find(|i| i.name().eq_ignore_ascii_case(text))
        .ok_or_else(|| CaseError::Instrument(text.to_string()))
}

/// Only customers whose column (of `customers`) equals the value, e.g. `segment=business`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerCondition {
    pub column: String,
    pub value: String,
}

impl std::str::FromStr for CustomerCondition {
    type Err = CaseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (column, value) = s
            .split_once('=')
            .map(|(c, v)| (c.trim(), v.trim()))
            .filter(|(c, v)| !c.is_empty() && !v.is_empty())
            .ok_or_else(|| CaseError::Customers(s.trim().to_string()))?;
        Ok(CustomerCondition {
            column: column.to_string(),
            value: value.to_string(),
        })
    }
}

impl std::fmt::Display for CustomerCondition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.column, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_usual_follow_up_conditions_parse() {
        let c = |i, t| ScoreCondition::parse(i, t);
        assert_eq!(
            c(Instrument::Nps, "<=6").unwrap(),
            ScoreCondition {
                comparison: Comparison::AtMost,
                score: 6.0
            }
        );
        assert_eq!(c(Instrument::Csat, " ≤ 2").unwrap().score, 2.0);
        assert_eq!(
            c(Instrument::Ces, ">=5").unwrap().comparison,
            Comparison::AtLeast
        );
        assert_eq!(c(Instrument::Grade, "<= d").unwrap().score, 1.0);
        assert_eq!(c(Instrument::Nps, "<=6").unwrap().to_string(), "≤ 6");
    }

    #[test]
    fn conditions_that_meet_no_or_every_answer_are_refused() {
        let e = |i, t| ScoreCondition::parse(i, t).unwrap_err().to_string();
        assert!(e(Instrument::Nps, "<0").contains("no nps answer"));
        assert!(e(Instrument::Nps, "<=10").contains("every nps answer"));
        assert!(e(Instrument::Nps, "<=11").contains("out of range"));
        assert!(e(Instrument::Nps, "6").contains("start with"));
        assert!(e(Instrument::Csat, "<=2.5").contains("whole number"));
    }

    #[test]
    fn triggers_name_themselves_for_people() {
        let t = Trigger::Survey {
            instrument: Instrument::Nps,
            condition: ScoreCondition::parse(Instrument::Nps, "<=6").unwrap(),
            touchpoint: Some("check-in".into()),
        };
        assert_eq!(t.label(), "NPS ≤ 6 at check-in");
        assert_eq!(
            (t.kind(), t.table()),
            (TriggerKind::Survey, Some(Table::Responses))
        );
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(json["kind"], "survey");
        assert_eq!(json["condition"]["comparison"], "at_most");
        let i = Trigger::Interaction {
            touchpoint: "baggage".into(),
            experience: Experience::Failed,
        };
        assert_eq!(i.label(), "Failed at baggage");
        assert!(Trigger::behaviour(1.0).is_err() && Trigger::behaviour(0.0).is_err());
        assert_eq!(Trigger::behaviour(0.3).unwrap().table(), None);
        assert!(parse_instrument("NPS").is_ok());
        let e = parse_instrument("stars").unwrap_err().to_string();
        assert!(e.contains("nps, csat, ces, grade"), "{e}");
    }

    #[test]
    fn customer_conditions_are_column_equals_value() {
        let c: CustomerCondition = " segment = business ".parse().unwrap();
        assert_eq!(c.to_string(), "segment=business");
        assert!("segment".parse::<CustomerCondition>().is_err());
        assert!("=x".parse::<CustomerCondition>().is_err());
    }

    proptest! {
        /// A parsed condition meets some but not every score of its instrument, agrees
        /// with its comparison on each, and reads back as itself.
        #[test]
        fn parsed_conditions_are_consistent(
            i in prop::sample::select(Instrument::ALL.to_vec()),
            symbol in prop::sample::select(vec!["<=", "≤", ">=", "≥", "<", ">", "="]),
            score in 0u8..=11,
            space in prop::sample::select(vec!["", " ", "  "]),
        ) {
            let text = format!("{space}{symbol}{space}{score}");
            let (lo, hi) = i.range();
            match ScoreCondition::parse(i, &text) {
                Ok(c) => {
                    let met: Vec<bool> = (lo..=hi).map(|s| c.matches(f64::from(s))).collect();
                    prop_assert!(met.contains(&true) && met.contains(&false));
                    prop_assert_eq!(c.score, f64::from(score));
                    let again = format!("{}{}", symbol, c.score);
                    prop_assert_eq!(ScoreCondition::parse(i, &again).unwrap(), c);
                }
                Err(_) => {
                    let in_range = (lo..=hi).contains(&score);
                    let c = ScoreCondition {
                        comparison: Comparison::split(symbol).unwrap().0,
                        score: f64::from(score),
                    };
                    let met = (lo..=hi).filter(|s| c.matches(f64::from(*s))).count();
                    prop_assert!(!in_range || met == 0 || met == (hi - lo) as usize + 1);
                }
            }
        }
    }
}
