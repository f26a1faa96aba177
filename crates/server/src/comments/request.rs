//! What a request asks of the comments, as the API's query or the page's form sends it:
//! each value checked into the library's types, a refusal naming its parameter.

use std::collections::BTreeSet;

use cxray_analysis::board::Cadence;
use cxray_analysis::comments::{Band, MOST, Tone};
use cxray_core::comments::{Side, Taxonomy};
use cxray_store::{Result, StoreError};
use serde::Deserialize;

use super::Comparison;

/// Distinguishing terms shown per group when the request does not say.
pub const TOP: usize = 20;
/// Example comments shown when the request does not say.
pub const EXAMPLES: usize = 10;

/// `?touchpoint=…&band=…&topic=…&tone=…&by=…&period=…&compare=…&compare_touchpoint=…&top=…&group=…&limit=…`
/// (the period and customers are [`crate::filters::Filters`]); every value as text, so a
/// bad one is refused naming its parameter.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Asked {
    pub touchpoint: Option<String>,
    pub band: Option<String>,
    pub by: Option<String>,
    pub period: Option<String>,
    pub compare: Option<String>,
    pub compare_touchpoint: Option<String>,
    pub top: Option<String>,
    pub topic: Option<String>,
    pub tone: Option<String>,
    pub group: Option<String>,
    pub limit: Option<String>,
}

/// The periods the topics' series take: name, cadence, name for people.
pub const PERIODS: [(&str, Cadence, &str); 2] = [
    ("month", Cadence::Month, "By month"),
    ("quarter", Cadence::Quarter, "By quarter"),
];

/// What sentiment is grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum By {
    Touchpoint,
    Month,
}

impl By {
    /// The grouping the analysis takes (`cxray text sentiment --by`).
    pub fn name(self) -> &'static str {
        match self {
            By::Touchpoint => "touchpoint",
            By::Month => "month",
        }
    }
}

/// One side of a comparison: the examples of promoters, of satisfied defectors, …
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Group {
    pub comparison: Comparison,
    /// The comparison's first group (A), else its second.
    pub first: bool,
}

impl Group {
    /// Every group the API takes: name, comparison, side, name for people.
    pub const ALL: [(&'static str, Comparison, bool, &'static str); 6] = [
        ("promoters", Comparison::Promoters, true, "Promoters"),
        ("detractors", Comparison::Promoters, false, "Detractors"),
        ("defectors", Comparison::Defectors, true, "Defectors"),
        ("stayers", Comparison::Defectors, false, "Stayers"),
        (
            "satisfied_defectors",
            Comparison::SatisfiedDefectors,
            true,
            "Satisfied defectors",
        ),
        (
            "satisfied_stayers",
            Comparison::SatisfiedDefectors,
            false,
            "Satisfied stayers",
        ),
    ];

    pub fn side(&self) -> Side {
        if self.first { Side::A } else { Side::B }
    }
}

/// A text value that is empty counts as not given.
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// `v` as one of `names`, or a refusal naming `field` and listing them.
fn one_of<T: Clone>(field: &'static str, v: &str, names: &[(&str, T)]) -> Result<T> {
    names
        .iter()
        .find(|(n, _)| *n == v)
        .map(|(_, t)| t.clone())
        .ok_or_else(|| {
            let known: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
            StoreError::invalid(field, format!("{field} '{v}': one of {}", known.join(", ")))
        })
}

/// A whole number from 1 to `most`, `default` when not given.
fn count(field: &'static str, v: &Option<String>, default: usize, most: usize) -> Result<usize> {
    let Some(text) = given(v) else {
        return Ok(default);
    };
    match text.parse::<usize>() {
        Ok(n) if (1..=most).contains(&n) => Ok(n),
        _ => Err(StoreError::invalid(
            field,
            format!("{field} '{text}': a whole number from 1 to {most}"),
        )),
    }
}

/// A touchpoint among `known` (those the reader may see).
fn touchpoint(field: &'static str, v: &str, known: &BTreeSet<String>) -> Result<String> {
    if known.contains(v) {
        return Ok(v.to_string());
    }
    let list: Vec<&str> = known.iter().map(String::as_str).collect();
    Err(StoreError::invalid(
        field,
        format!(
            "{field} '{v}': not a touchpoint you may see ({})",
            if list.is_empty() {
                "none".to_string()
            } else {
                list.join(", ")
            }
        ),
    ))
}

impl Asked {
    /// The touchpoint chosen, one of `known`.
    pub fn touchpoint(&self, known: &BTreeSet<String>) -> Result<Option<String>> {
        given(&self.touchpoint)
            .map(|t| touchpoint("touchpoint", t, known))
            .transpose()
    }

    pub fn band(&self) -> Result<Option<Band>> {
        let names = Band::ALL.map(|b| (b.name(), b));
        given(&self.band)
            .map(|b| one_of("band", b, &names))
            .transpose()
    }

    /// What sentiment is grouped by (touchpoint when not given).
    pub fn by(&self) -> Result<By> {
        let names = [
            (By::Touchpoint.name(), By::Touchpoint),
            ("month", By::Month),
        ];
        given(&self.by).map_or(Ok(By::Touchpoint), |b| one_of("by", b, &names))
    }

    /// The periods of the topics' series (months when not given).
    pub fn period(&self) -> Result<Cadence> {
        let names = PERIODS.map(|(name, cadence, _)| (name, cadence));
        given(&self.period).map_or(Ok(Cadence::Month), |p| one_of("period", p, &names))
    }

    /// The groups whose terms are compared (promoters and detractors when not given); one
    /// touchpoint against the rest needs `compare_touchpoint`, one of `known`.
    pub fn comparison(&self, known: &BTreeSet<String>) -> Result<Comparison> {
        let names = [
            ("promoters", Some(Comparison::Promoters)),
            ("defectors", Some(Comparison::Defectors)),
            ("satisfied_defectors", Some(Comparison::SatisfiedDefectors)),
            ("touchpoint", None),
        ];
        let chosen = match given(&self.compare) {
            Some(c) => one_of("compare", c, &names)?,
            None => Some(Comparison::Promoters),
        };
        match (chosen, given(&self.compare_touchpoint)) {
            (Some(c), _) => Ok(c),
            (None, Some(t)) => Ok(Comparison::Touchpoint(touchpoint(
                "compare_touchpoint",
                t,
                known,
            )?)),
            (None, None) => Err(StoreError::invalid(
                "compare_touchpoint",
                "compare=touchpoint needs compare_touchpoint: the touchpoint compared with the rest",
            )),
        }
    }

    pub fn top(&self) -> Result<usize> {
        count("top", &self.top, TOP, 100)
    }

    /// The topic chosen, by its name in `taxonomy`: its index.
    pub fn topic(&self, taxonomy: &Taxonomy) -> Result<Option<usize>> {
        let Some(name) = given(&self.topic) else {
            return Ok(None);
        };
        taxonomy.find(name).map(Some).ok_or_else(|| {
            let names: Vec<&str> = taxonomy.topics().iter().map(|t| t.name.as_str()).collect();
            StoreError::invalid(
                "topic",
                format!("topic '{name}': one of {}", names.join(", ")),
            )
        })
    }

    pub fn tone(&self) -> Result<Option<Tone>> {
        let names = Tone::ALL.map(|t| (t.name(), t));
        given(&self.tone)
            .map(|t| one_of("tone", t, &names))
            .transpose()
    }

    /// The group whose examples are shown, if one is chosen.
    pub fn group(&self) -> Result<Option<Group>> {
        let names = Group::ALL.map(|(n, comparison, first, _)| (n, Group { comparison, first }));
        given(&self.group)
            .map(|g| one_of("group", g, &names))
            .transpose()
    }

    pub fn limit(&self) -> Result<usize> {
        count("limit", &self.limit, EXAMPLES, MOST)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(f: impl FnOnce(&mut Asked)) -> Asked {
        let mut a = Asked::default();
        f(&mut a);
        a
    }

    fn field(r: Result<impl std::fmt::Debug>) -> &'static str {
        match r {
            Err(StoreError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn values_are_checked_and_refusals_name_their_parameter() {
        let known: BTreeSet<String> = ["bag_drop".to_string()].into();
        let a = asked(|a| {
            a.compare = Some("touchpoint".into());
            a.compare_touchpoint = Some(" bag_drop ".into());
            a.band = Some("detractors".into());
            a.by = Some("month".into());
            a.period = Some("quarter".into());
            a.group = Some("satisfied_stayers".into());
        });
        assert_eq!(
            a.comparison(&known).unwrap(),
            Comparison::Touchpoint("bag_drop".into())
        );
        assert_eq!(a.band().unwrap(), Some(Band::Detractors));
        assert_eq!(a.by().unwrap(), By::Month);
        assert_eq!(a.period().unwrap(), Cadence::Quarter);
        assert_eq!(Asked::default().period().unwrap(), Cadence::Month);
        let g = a.group().unwrap().unwrap();
        assert_eq!(g.comparison, Comparison::SatisfiedDefectors);
        assert_eq!(g.side(), Side::B);
        assert_eq!(Asked::default().top().unwrap(), TOP);
        assert_eq!(Asked::default().limit().unwrap(), EXAMPLES);

        let no_touchpoint = asked(|a| a.compare = Some("touchpoint".into()));
        assert_eq!(
            field(no_touchpoint.comparison(&known)),
            "compare_touchpoint"
        );
        let other = asked(|a| a.touchpoint = Some("security".into()));
        assert_eq!(field(other.touchpoint(&known)), "touchpoint");
        assert_eq!(field(asked(|a| a.top = Some("0".into())).top()), "top");
        assert_eq!(
            field(asked(|a| a.limit = Some("101".into())).limit()),
            "limit"
        );
        assert_eq!(
            field(asked(|a| a.tone = Some("happy".into())).tone()),
            "tone"
        );
        assert_eq!(field(asked(|a| a.by = Some("week".into())).by()), "by");
        let weekly = asked(|a| a.period = Some("week".into()));
        assert_eq!(field(weekly.period()), "period");
    }
}
