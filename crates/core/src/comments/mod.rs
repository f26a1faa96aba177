//! What customers write: comments analysed offline. Each comment is cut to [`MAX_BYTES`],
//! its personal data redacted ([`redact`]) before anything else sees it, its language
//! detected ([`language`]); then scored for sentiment ([`vader`], English), counted into
//! terms ([`tokens`], [`terms`]) and into the topics of a user's taxonomy ([`taxonomy`],
//! [`topics`]); topics the taxonomy misses are discovered in a sample of the comments that
//! mention none ([`discover`], [`nmf`]); [`agreement`] checks assigned topics against known
//! ones. Any text — empty, blank, binary, very long, in any script — is a comment; none
//! fails an analysis.

pub mod agreement;
pub mod discover;
pub mod language;
pub mod nmf;
pub mod redact;
pub mod sentiment;
pub mod taxonomy;
pub mod terms;
pub mod tokens;
pub mod topics;
pub mod vader;

use std::borrow::Cow;

pub use agreement::{Agreement, Confusion};
pub use discover::{
    DiscoverSettings, Discovered, DiscoveredTopic, Example, Sample, Sampled, TopicTerm, discover,
};
pub use language::Language;
pub use sentiment::{Sentiment, SentimentTally};
pub use taxonomy::{Taxonomy, TaxonomyError, Topic, TopicSet};
pub use terms::{Distinguishing, Side, Term, TermCounts};
pub use topics::{TopicCount, TopicNps, TopicTally};

/// The most of a comment analysed: longer ones are cut at the last whitespace before it.
pub const MAX_BYTES: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("one of the groups compared has no terms")]
    EmptyGroup,
    #[error(
        "too little to discover {topics} topics in: {comments} comments and {terms} terms \
         (each must be at least the number of topics)"
    )]
    TooFewForTopics {
        comments: usize,
        terms: usize,
        topics: usize,
    },
}

/// A comment ready for analysis: cut, redacted, its language detected.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment<'a> {
    pub text: Cow<'a, str>,
    pub language: Option<Language>,
}

impl<'a> Comment<'a> {
    pub fn new(raw: &'a str) -> Self {
        let text = redact::redact(cut(raw));
        let language = language::detect(&text);
        Comment { text, language }
    }

    /// The VADER compound score for English, none for other languages.
    pub fn sentiment(&self) -> Option<f64> {
        (self.language == Some(Language::English)).then(|| vader::compound(&self.text))
    }
}

/// The text up to [`MAX_BYTES`], cut at whitespace (a character boundary if it has none).
fn cut(text: &str) -> &str {
    if text.len() <= MAX_BYTES {
        return text;
    }
    let mut end = MAX_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = &text[..end];
    head.rfind(char::is_whitespace).map_or(head, |i| &head[..i])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn long_comments_are_cut_at_whitespace() {
        let long = format!("{} jane@example.com", "word ".repeat(1999));
        let c = Comment::new(&long);
        assert!(c.text.len() <= MAX_BYTES && !c.text.contains('@'));
        let unbroken = "é".repeat(MAX_BYTES);
        assert_eq!(cut(&unbroken).len(), MAX_BYTES);
    }

    #[test]
    fn english_is_scored_other_languages_are_not() {
        let en = Comment::new("The crew were friendly and helpful, thank you!");
        assert!(en.sentiment().is_some_and(|s| s > 0.5));
        let de = Comment::new("Die Crew war freundlich und hilfsbereit, danke!");
        assert_eq!(
            (de.language, de.sentiment()),
            (Some(Language::German), None)
        );
    }

    /// Text of any kind: empty, blank, control and binary characters, mixed scripts, long.
    fn any_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            "\\PC{0,40}",
            "[ \\t\\n]{0,5}",
            "[\\x00-\\x1f\\x7f]{1,5}",
            "[a-zA-Z' !?.,:)(]{0,40}",
            "[\\u{400}-\\u{4ff}\\u{4e00}-\\u{4e80}\\u{600}-\\u{6ff}]{1,10}",
            "[0-9 +@.-]{1,12}",
        ];
        prop_oneof![
            prop::collection::vec(piece, 0..20).prop_map(|p| p.concat()),
            ("[a-z !]{1,8}", 1000usize..3000).prop_map(|(s, n)| s.repeat(n)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn any_text_is_analysed(text in any_text()) {
            let c = Comment::new(&text);
            prop_assert!(c.text.len() <= MAX_BYTES);
            if let Some(s) = c.sentiment() {
                prop_assert!((-1.0..=1.0).contains(&s));
            }
            prop_assert!((-1.0..=1.0).contains(&vader::compound(&text)));
            let mut counts = TermCounts::default();
            counts.add(Side::A, &c.text, c.language.unwrap_or(Language::English));
            let mut tally = SentimentTally::default();
            tally.add(&c);
            prop_assert_eq!(tally.sentiment(&Default::default()).unwrap().comments, 1);
            let taxonomy = Taxonomy::parse("[[topic]]\nname = \"a > b\"\nterms = [\"bag\", \"lost bag\"]")
                .unwrap();
            let mut topics = TopicTally::default();
            topics.add(&taxonomy.mentions(&c), None).unwrap();
            let mut sample = Sample::new(1, 0);
            sample.add(0, &c);
            prop_assert_eq!(topics.comments() + sample.offered(), 2);
        }
    }
}
