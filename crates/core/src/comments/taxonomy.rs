//! A user's taxonomy of topics, from TOML: each topic a list of terms and phrases for every
//! language (`terms`) or for one (`en`, `de`, `da`, `sv`, `es`, `fr`, `nl`), hierarchical
//! by name (`"baggage > delayed"` is a subtopic of `baggage`; a parent need not be listed).
//!
//! [`EXAMPLE`] is a file to start from.
//!
//! Patterns are normalised as comments are ([`words`]: lower case, stop words and numbers
//! dropped, Snowball stems), so `delayed` matches "delays" and a phrase matches its stems
//! in a row ("waited for bags" matches "we waited for our bags": "for" and "our" are stop
//! words, left out of both). A comment mentions a topic when one of the topic's patterns
//! matches in the comment's language, and then mentions its parents too.
//!
//! A file with an unknown key, a topic without terms, an empty or bad pattern or a topic
//! named twice is refused with the line, column and reason ([`TaxonomyError`]).

use std::collections::HashMap;
use std::ops::Range;

use rust_stemmers::Stemmer;
use serde::Serialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::language::ALL;
use super::tokens::{Word, words};
use super::{Comment, Language};

/// A taxonomy file to start from, which explains the format.
pub const EXAMPLE: &str = r#"# Topics of comments: one [[topic]] table per topic.
# name:  the topic; levels separated by ">" make subtopics (a parent need not be listed).
# terms: words and phrases in every language; en, de, da, sv, es, fr, nl: in one language.
# A word matches its inflections ("delay" matches "delayed"); a phrase matches its words
# in a row, stop words ("the", "for") left out. A comment about a subtopic is about its
# parent too.
#
# These are the topics of the demo airline's comments, in English and German; its price
# complaints are left out, for `--discover` to find.

[[topic]]
name = "baggage"
terms = ["bag", "luggage", "suitcase", "baggage"]
de = ["Gepäck", "Koffer", "Tasche"]

[[topic]]
name = "baggage > damaged"
en = ["damaged", "broken"]
de = ["beschädigt", "kaputt"]

[[topic]]
name = "delays"
en = ["delay", "delayed", "postponed", "held up", "late departure"]
de = ["Verspätung", "verspätet"]

[[topic]]
name = "phone wait"
en = ["on hold", "phone", "hotline", "call centre"]
de = ["Hotline", "Warteschleife", "Telefon"]

[[topic]]
name = "staff"
en = ["crew", "staff", "attendants"]
de = ["Personal", "Kabinenpersonal", "Bordpersonal", "Crew"]

[[topic]]
name = "food"
en = ["food", "meal", "sandwich"]
de = ["Essen", "Sandwich", "Mahlzeit"]

[[topic]]
name = "app and website"
en = ["website", "app", "web site", "booking site"]
de = ["App", "Webseite", "Website"]

[[topic]]
name = "queues"
en = ["queue", "line"]
de = ["Schlange", "Warteschlange"]

[[topic]]
name = "seat comfort"
en = ["seat", "legroom"]
de = ["Sitz", "Sitze", "Beinfreiheit"]
"#;

/// Characters of wildcards and regular expressions, refused in a pattern.
const SPECIAL: &[char] = &['*', '?', '|', '\\', '^', '$', '[', ']', '{', '}'];

/// The separator of a topic's levels in its name.
pub const LEVELS: &str = " > ";

/// A refusal of a taxonomy file: where (line and column from 1, the column in characters)
/// and why. Shown as `line:column: reason`, so `{file}:{error}` reads `file:line:column: …`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {reason}")]
pub struct TaxonomyError {
    pub line: usize,
    pub column: usize,
    pub reason: String,
}

impl TaxonomyError {
    /// The error at the start of byte range `span` of `text`.
    fn at(text: &str, span: Range<usize>, reason: impl Into<String>) -> Self {
        let mut start = span.start.min(text.len());
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let before = &text[..start];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        TaxonomyError {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
            reason: reason.into(),
        }
    }
}

/// A topic of a taxonomy, numbered by its place in [`Taxonomy::topics`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Topic {
    /// The full name, its levels joined by [`LEVELS`].
    pub name: String,
    /// The number of its parent topic.
    pub parent: Option<usize>,
    /// Whether the file lists it (a parent implied by its subtopics is not listed).
    pub declared: bool,
}

/// The stems of a pattern, in order, and the topic it marks.
#[derive(Debug, Clone, PartialEq)]
struct Pattern {
    stems: Vec<String>,
    topic: usize,
}

/// A parsed taxonomy: its topics and, per language, the patterns by their first stem.
#[derive(Debug, Clone)]
pub struct Taxonomy {
    topics: Vec<Topic>,
    patterns: Vec<HashMap<String, Vec<Pattern>>>,
}

/// The topics a comment mentions, with their parents: topic numbers in ascending order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TopicSet(Vec<usize>);

impl TopicSet {
    /// A set of the given topic numbers.
    pub fn new(mut topics: Vec<usize>) -> Self {
        topics.sort_unstable();
        topics.dedup();
        TopicSet(topics)
    }

    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().copied()
    }

    pub fn contains(&self, topic: usize) -> bool {
        self.0.binary_search(&topic).is_ok()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl Taxonomy {
    /// Parses and checks a taxonomy file's text.
    pub fn parse(text: &str) -> Result<Taxonomy, TaxonomyError> {
        let doc = DeTable::parse(text).map_err(|e| {
            TaxonomyError::at(text, e.span().unwrap_or(0..0), e.message().trim_end())
        })?;
        let mut builder = Builder::new(text);
        for (key, value) in in_order(doc.get_ref()) {
            if key.get_ref() != "topic" {
                return Err(builder.at(
                    key.span(),
                    format!(
                        "unknown key `{}`: a taxonomy is a list of [[topic]] tables",
                        key.get_ref()
                    ),
                ));
            }
            let tables = match value.get_ref() {
                DeValue::Array(items) => items.iter().map(|item| match item.get_ref() {
                    DeValue::Table(t) => Ok((item.span(), t)),
                    _ => Err(item.span()),
                }),
                _ => return Err(builder.at(value.span(), NOT_TABLES)),
            };
            for table in tables {
                let (span, table) = table.map_err(|span| builder.at(span, NOT_TABLES))?;
                builder.topic(span, table)?;
            }
        }
        if builder.topics.is_empty() {
            return Err(builder.at(0..0, "no topics: a taxonomy lists [[topic]] tables"));
        }
        Ok(Taxonomy {
            topics: builder.topics,
            patterns: builder.patterns,
        })
    }

    /// The topics, parents before their subtopics.
    pub fn topics(&self) -> &[Topic] {
        &self.topics
    }

    /// The number of the topic of this name (levels compared as [`Taxonomy::parse`] does).
    pub fn find(&self, name: &str) -> Option<usize> {
        let key = levels(name).map(|l| key(&l))?;
        self.topics.iter().position(|t| {
            levels(&t.name)
                .map(|l| self::key(&l))
                .is_some_and(|k| k == key)
        })
    }

    /// The names of a set's topics.
    pub fn names<'a>(&'a self, set: &TopicSet) -> Vec<&'a str> {
        set.iter().map(|t| self.topics[t].name.as_str()).collect()
    }

    /// The topics a comment mentions, with their parents; none when it has no language.
    pub fn mentions(&self, c: &Comment) -> TopicSet {
        c.language.map_or_else(TopicSet::default, |l| {
            self.mentions_in(l, &words(&c.text, l, &l.stemmer()))
        })
    }

    /// The topics mentioned by the words of a comment in `language` ([`words`]), with their
    /// parents.
    pub fn mentions_in(&self, language: Language, words: &[Word]) -> TopicSet {
        let patterns = &self.patterns[language as usize];
        let mut found = Vec::new();
        for (i, w) in words.iter().enumerate() {
            for p in patterns.get(&w.stem).into_iter().flatten() {
                let here = words[i..].get(..p.stems.len());
                if here.is_some_and(|ws| ws.iter().zip(&p.stems).all(|(w, s)| &w.stem == s)) {
                    let mut topic = Some(p.topic);
                    while let Some(t) = topic {
                        found.push(t);
                        topic = self.topics[t].parent;
                    }
                }
            }
        }
        TopicSet::new(found)
    }
}

const NOT_TABLES: &str = "`topic` must be [[topic]] tables, one per topic";

/// A table's entries in the order of the file.
fn in_order<'a, 'i>(
    table: &'a DeTable<'i>,
) -> Vec<(
    &'a Spanned<std::borrow::Cow<'i, str>>,
    &'a Spanned<DeValue<'i>>,
)> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    entries
}

/// A topic name's levels, each trimmed with its whitespace collapsed; none if one is empty.
fn levels(name: &str) -> Option<Vec<String>> {
    let levels: Vec<String> = name
        .split('>')
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    levels.iter().all(|l| !l.is_empty()).then_some(levels)
}

/// The key that makes two names the same topic: the levels in lower case.
fn key(levels: &[String]) -> String {
    levels.join(LEVELS).to_lowercase()
}

/// A taxonomy being read.
struct Builder<'t> {
    text: &'t str,
    topics: Vec<Topic>,
    /// Topic numbers by [`key`], and the line each declared topic is declared on.
    numbers: HashMap<String, usize>,
    lines: HashMap<usize, usize>,
    patterns: Vec<HashMap<String, Vec<Pattern>>>,
    stemmers: Vec<Stemmer>,
}

impl<'t> Builder<'t> {
    fn new(text: &'t str) -> Self {
        Builder {
            text,
            topics: Vec::new(),
            numbers: HashMap::new(),
            lines: HashMap::new(),
            patterns: vec![HashMap::new(); ALL.len()],
            stemmers: ALL.iter().map(|l| l.stemmer()).collect(),
        }
    }

    fn at(&self, span: Range<usize>, reason: impl Into<String>) -> TaxonomyError {
        TaxonomyError::at(self.text, span, reason)
    }

    /// Reads one [[topic]] table.
    fn topic(&mut self, span: Range<usize>, table: &DeTable) -> Result<(), TaxonomyError> {
        let mut name = None;
        let mut compiled = Vec::new();
        for (key, value) in in_order(table) {
            let scope = match key.get_ref().as_ref() {
                "name" => {
                    name = Some(self.declare(value)?);
                    continue;
                }
                "terms" => ALL.to_vec(),
                code => match Language::from_code(code) {
                    Some(l) => vec![l],
                    None => return Err(self.at(key.span(), unknown_key(code))),
                },
            };
            let DeValue::Array(items) = value.get_ref() else {
                return Err(self.at(
                    value.span(),
                    format!(
                        "`{0}` is a list, e.g. {0} = [\"bag\", \"lost luggage\"]",
                        key.get_ref()
                    ),
                ));
            };
            for item in items.iter() {
                compiled.extend(self.pattern(item, &scope)?);
            }
        }
        let Some((topic, name_span)) = name else {
            return Err(self.at(span, "a topic needs a name, e.g. name = \"baggage\""));
        };
        if compiled.is_empty() {
            return Err(self.at(
                name_span,
                format!(
                    "empty topic `{}`: it needs terms (a parent need not be listed: its \
                     subtopics imply it)",
                    self.topics[topic].name
                ),
            ));
        }
        for (language, stems) in compiled {
            let bucket = self.patterns[language as usize]
                .entry(stems[0].clone())
                .or_default();
            let pattern = Pattern { stems, topic };
            if !bucket.contains(&pattern) {
                bucket.push(pattern);
            }
        }
        Ok(())
    }

    /// Declares the topic named by `value` (and its parents, when new); its number and the
    /// name's place.
    fn declare(
        &mut self,
        value: &Spanned<DeValue>,
    ) -> Result<(usize, Range<usize>), TaxonomyError> {
        let span = value.span();
        let DeValue::String(name) = value.get_ref() else {
            return Err(self.at(span, "a topic's name is a string, e.g. name = \"baggage\""));
        };
        let Some(levels) = levels(name) else {
            return Err(self.at(
                span,
                format!("empty topic name {name:?}: every level between \">\" needs a name"),
            ));
        };
        let mut parent = None;
        for depth in 1..=levels.len() {
            let key = key(&levels[..depth]);
            let number = match self.numbers.get(&key) {
                Some(&n) => n,
                None => {
                    self.topics.push(Topic {
                        name: levels[..depth].join(LEVELS),
                        parent,
                        declared: false,
                    });
                    self.numbers.insert(key, self.topics.len() - 1);
                    self.topics.len() - 1
                }
            };
            parent = Some(number);
        }
        let topic = parent.expect("a name has at least one level");
        let line = TaxonomyError::at(self.text, span.clone(), "").line;
        if let Some(first) = self.lines.insert(topic, line) {
            return Err(self.at(
                span,
                format!(
                    "duplicate topic `{}`: it is already listed on line {first}",
                    self.topics[topic].name
                ),
            ));
        }
        self.topics[topic].declared = true;
        Ok((topic, span))
    }

    /// A pattern's stems in each language of `scope`; refused if no word remains in one.
    fn pattern(
        &self,
        value: &Spanned<DeValue>,
        scope: &[Language],
    ) -> Result<Vec<(Language, Vec<String>)>, TaxonomyError> {
        let DeValue::String(p) = value.get_ref() else {
            return Err(self.at(value.span(), "a pattern is a string, e.g. \"lost bag\""));
        };
        if p.trim().is_empty() {
            return Err(self.at(value.span(), "empty pattern"));
        }
        if let Some(c) = p.chars().find(|c| SPECIAL.contains(c)) {
            return Err(self.at(
                value.span(),
                format!(
                    "bad pattern {p:?}: `{c}` — patterns are words and phrases, not wildcards or \
                     regular expressions (a word matches its inflections: \"delay\" matches \
                     \"delayed\")"
                ),
            ));
        }
        let mut compiled = Vec::with_capacity(scope.len());
        for &l in scope {
            let ws = words(p, l, &self.stemmers[l as usize]);
            if ws.is_empty() {
                let only = match scope.len() {
                    1 => String::new(),
                    _ => " (list it under the codes of the languages it is a word in)".into(),
                };
                return Err(self.at(
                    value.span(),
                    format!(
                        "bad pattern {p:?}: no words remain in {} once stop words and numbers \
                         are dropped{only}",
                        l.label()
                    ),
                ));
            }
            compiled.push((l, ws.into_iter().map(|w| w.stem).collect()));
        }
        Ok(compiled)
    }
}

fn unknown_key(key: &str) -> String {
    let codes: Vec<&str> = ALL.iter().map(|l| l.code()).collect();
    format!(
        "unknown key `{key}`: a topic has `name`, `terms` (for every language) and terms for \
         one language under its code ({})",
        codes.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A small taxonomy with a subtopic, shared and English-only terms.
    const SMALL: &str = include_str!("../../tests/data/comments/small_taxonomy.toml");

    fn taxonomy() -> Taxonomy {
        Taxonomy::parse(SMALL).unwrap()
    }

    #[test]
    fn the_example_covers_the_demo_airlines_topics_in_english_and_german() {
        let t = Taxonomy::parse(EXAMPLE).unwrap();
        assert_eq!(
            names(&t, "My suitcase was damaged and the crew wasn't helpful."),
            ["baggage", "baggage > damaged", "staff"]
        );
        assert_eq!(
            names(&t, "Mein Koffer kam nicht, und das Essen war kalt."),
            ["baggage", "food"]
        );
        assert_eq!(
            names(&t, "Vierzig Minuten in der Warteschleife, dann Verspätung."),
            ["delays", "phone wait"]
        );
        assert!(names(&t, "Way too expensive, still waiting for my refund.").is_empty());
    }

    fn names(t: &Taxonomy, text: &str) -> Vec<String> {
        let set = t.mentions(&Comment::new(text));
        t.names(&set).into_iter().map(String::from).collect()
    }

    fn refusal(text: &str) -> TaxonomyError {
        Taxonomy::parse(text).unwrap_err()
    }

    #[test]
    fn topics_in_order_with_implied_parents() {
        let t = taxonomy();
        let listed: Vec<(&str, Option<usize>, bool)> = t
            .topics()
            .iter()
            .map(|t| (t.name.as_str(), t.parent, t.declared))
            .collect();
        assert_eq!(
            listed,
            [
                ("baggage", None, true),
                ("baggage > delayed", Some(0), true),
                ("service", None, false),
                ("service > crew", Some(2), true),
            ]
        );
        assert_eq!(t.find("Baggage>delayed"), Some(1));
        assert_eq!(t.find("food"), None);
    }

    #[test]
    fn comments_mention_topics_by_stems_and_phrases_with_parents() {
        let t = taxonomy();
        assert_eq!(names(&t, "The suitcases were lost, awful."), ["baggage"]);
        assert_eq!(
            names(&t, "My bag was delayed and the crew was rude."),
            ["baggage", "baggage > delayed", "service", "service > crew"]
        );
        assert_eq!(
            names(&t, "We waited for our bags for an hour."),
            ["baggage", "baggage > delayed"]
        );
        assert_eq!(
            names(
                &t,
                "We had a really friendly crew on this flight, thank you."
            ),
            ["service", "service > crew"]
        );
        assert_eq!(
            names(&t, "Das Gepäck war verspätet und der Koffer kaputt."),
            ["baggage", "baggage > delayed"]
        );
        // English-only terms do not match German comments; no language, no topics.
        assert!(names(&t, "Die Crew war sehr freundlich und hilfsbereit.").is_empty());
        assert!(names(&t, "").is_empty() && names(&t, "12345 !!!").is_empty());
    }

    #[test]
    fn refusals_name_the_place_and_the_reason() {
        let cases: [(&str, usize, usize, &str); 12] = [
            (
                "[[topic]]\nname = \"a\"\ntrems = [\"x\"]\n",
                3,
                1,
                "unknown key `trems`",
            ),
            (
                "[[topic]]\nname = \"a\"\nit = [\"x\"]\n",
                3,
                1,
                "unknown key `it`",
            ),
            ("title = \"x\"\n", 1, 1, "unknown key `title`"),
            ("[[topic]]\nname = \"a\"\n", 2, 8, "empty topic `a`"),
            ("[[topic]]\nname = \"a\"\nterms = []\n", 2, 8, "empty topic"),
            (
                "[[topic]]\nname = \"a\"\nterms = [\"bag\", \" \"]\n",
                3,
                17,
                "empty pattern",
            ),
            (
                "[[topic]]\nname = \"a\"\nterms = [\"the\"]\n",
                3,
                10,
                "bad pattern \"the\"",
            ),
            (
                "[[topic]]\nname = \"a\"\nterms = [\"dela*\"]\n",
                3,
                10,
                "bad pattern",
            ),
            (
                "[[topic]]\nname = \"a > \"\nterms = [\"x\"]\n",
                2,
                8,
                "empty topic name",
            ),
            (
                "[[topic]]\nname = \"a\"\nterms = [\"x\"]\n[[topic]]\nname = \"A\"\nen = [\"y\"]\n",
                5,
                8,
                "duplicate topic `a`: it is already listed on line 2",
            ),
            ("[[topic]]\nterms = [\"x\"]\n", 1, 1, "needs a name"),
            (
                "[[topic]]\nname = \"a\"\nterms = [\"x\"\n",
                3,
                13,
                "unclosed array",
            ),
        ];
        for (text, line, column, reason) in cases {
            let e = refusal(text);
            assert_eq!((e.line, e.column), (line, column), "{text:?}: {e}");
            assert!(e.reason.contains(reason), "{text:?}: {e}");
            assert!(e.to_string().starts_with(&format!("{line}:{column}: ")));
        }
        assert!(refusal("").reason.contains("no topics"));
    }

    /// A change to the example file: bytes cut out, text put in, a line doubled or dropped.
    fn mutation() -> impl Strategy<Value = String> {
        let len = EXAMPLE.len();
        let snippet = prop_oneof![
            "[\\[\\]=\"',> \\n#a-z*.{}]{1,6}",
            Just("name = \"baggage\"\n".to_string()),
            Just("[[topic]]\n".to_string()),
            Just("terms = [\"the\"]\n".to_string()),
            "\\PC{1,4}",
        ];
        let edit = prop_oneof![
            (0..len, 1..8usize).prop_map(|(at, n)| (at, n, String::new())),
            (0..len, snippet).prop_map(|(at, s)| (at, 0, s)),
        ];
        prop::collection::vec(edit, 1..4).prop_map(|edits| {
            let mut text = EXAMPLE.to_string();
            for (at, cut, put) in edits {
                let mut at = at.min(text.len());
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                let mut end = (at + cut).min(text.len());
                while !text.is_char_boundary(end) {
                    end += 1;
                }
                text.replace_range(at..end, &put);
            }
            text
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]
        #[test]
        fn a_mutated_file_parses_or_is_refused_at_a_place_in_it(text in mutation()) {
            match Taxonomy::parse(&text) {
                Ok(t) => {
                    prop_assert!(!t.topics().is_empty());
                    t.mentions(&Comment::new("my bag was delayed"));
                }
                Err(e) => {
                    let lines = text.split('\n').count();
                    prop_assert!((1..=lines).contains(&e.line), "{e} of {lines} lines");
                    let width = text.split('\n').nth(e.line - 1).unwrap().chars().count();
                    prop_assert!((1..=width + 1).contains(&e.column), "{e}");
                    prop_assert!(!e.reason.is_empty());
                }
            }
        }
    }
}
