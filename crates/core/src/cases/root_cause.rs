//! Root causes: a hierarchy of paths such as `baggage > delayed > missed connection`.

use serde::Serialize;

use super::CaseError;

/// The most levels a root cause has.
pub const MAX_LEVELS: usize = 5;
/// The longest name of one level, in characters.
pub const MAX_NAME_CHARS: usize = 60;

/// A root cause: its levels, broadest first; written with ` > ` between them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RootCause(Vec<String>);

impl RootCause {
    /// The causes above this one, broadest first (`baggage`, `baggage > delayed`).
    pub fn ancestors(&self) -> Vec<RootCause> {
        (1..self.0.len())
            .map(|n| RootCause(self.0[..n].to_vec()))
            .collect()
    }

    /// Whether this cause is `other` or below it.
    pub fn is_within(&self, other: &RootCause) -> bool {
        self.0.starts_with(&other.0)
    }
}

impl std::str::FromStr for RootCause {
    type Err = CaseError;

    /// Levels separated by `>`; spaces around and repeated inside a name are dropped.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| CaseError::RootCause {
            text: s.trim().to_string(),
            why: why.to_string(),
        };
        let levels: Vec<String> = s
            .split('>')
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        if levels.iter().any(String::is_empty) {
            return Err(bad("every level needs a name (levels are separated by >)"));
        }
        if levels.len() > MAX_LEVELS {
            return Err(bad(&format!("at most {MAX_LEVELS} levels")));
        }
        if levels.iter().any(|l| l.chars().count() > MAX_NAME_CHARS) {
            return Err(bad(&format!("at most {MAX_NAME_CHARS} characters a level")));
        }
        if levels.iter().flat_map(|l| l.chars()).any(char::is_control) {
            return Err(bad("no control characters"));
        }
        Ok(RootCause(levels))
    }
}

impl std::fmt::Display for RootCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join(" > "))
    }
}

impl Serialize for RootCause {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn paths_parse_normalise_and_nest() {
        let c: RootCause = " baggage>delayed >  missed   connection".parse().unwrap();
        assert_eq!(c.to_string(), "baggage > delayed > missed connection");
        let above: Vec<String> = c.ancestors().iter().map(|a| a.to_string()).collect();
        assert_eq!(above, ["baggage", "baggage > delayed"]);
        assert!(c.is_within(&"baggage".parse().unwrap()));
        assert!(!c.is_within(&"bag".parse().unwrap()));
        for bad in ["", "a > > b", "a >", "a>b>c>d>e>f", &"x".repeat(61)] {
            assert!(bad.parse::<RootCause>().is_err(), "{bad:?}");
        }
    }

    proptest! {
        /// A valid path reads back as itself, however it is spaced.
        #[test]
        fn written_paths_read_back(
            levels in prop::collection::vec("[a-z][a-z ]{0,20}[a-z]", 1..=MAX_LEVELS),
            pad in prop::sample::select(vec!["", " ", "   "]),
        ) {
            let text = levels.join(&format!("{pad}>{pad}"));
            let c: RootCause = text.parse().unwrap();
            prop_assert_eq!(c.to_string().parse::<RootCause>().unwrap(), c.clone());
            prop_assert_eq!(c.ancestors().len(), levels.len() - 1);
        }

        /// Text with an empty level or a control character is refused.
        #[test]
        fn broken_paths_are_refused(
            level in "[a-z]{1,10}",
            bad in prop::sample::select(vec![">", " > ", "\u{7}", "\n"]),
        ) {
            let text = format!("{level}>{bad}");
            prop_assert!(text.parse::<RootCause>().is_err());
        }
    }
}
