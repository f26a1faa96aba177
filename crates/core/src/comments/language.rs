//! The languages comments are analysed in: detected per comment (trigram statistics of
//! whatlang, limited to these languages), each with its Snowball stemmer and stop words
//! (the Snowball lists as NLTK ships them).

use std::collections::HashSet;
use std::sync::OnceLock;

use rust_stemmers::{Algorithm, Stemmer};
use serde::Serialize;
use unicode_segmentation::UnicodeSegmentation;
use whatlang::{Detector, Lang};

/// A language with a stemmer and stop words. Sentiment has a lexicon for English only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    English,
    German,
    Danish,
    Swedish,
    Spanish,
    French,
    Dutch,
}

/// Every language, in a fixed order (`language as usize` is its index).
pub const ALL: [Language; 7] = [
    Language::English,
    Language::German,
    Language::Danish,
    Language::Swedish,
    Language::Spanish,
    Language::French,
    Language::Dutch,
];

impl Language {
    /// The language's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Language::English => "English",
            Language::German => "German",
            Language::Danish => "Danish",
            Language::Swedish => "Swedish",
            Language::Spanish => "Spanish",
            Language::French => "French",
            Language::Dutch => "Dutch",
        }
    }

    /// The language of an ISO 639-1 code (`en`, `de`, …).
    pub fn from_code(code: &str) -> Option<Language> {
        ALL.into_iter().find(|l| l.code() == code)
    }

    /// ISO 639-1 code.
    pub fn code(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::German => "de",
            Language::Danish => "da",
            Language::Swedish => "sv",
            Language::Spanish => "es",
            Language::French => "fr",
            Language::Dutch => "nl",
        }
    }

    fn lang(self) -> Lang {
        match self {
            Language::English => Lang::Eng,
            Language::German => Lang::Deu,
            Language::Danish => Lang::Dan,
            Language::Swedish => Lang::Swe,
            Language::Spanish => Lang::Spa,
            Language::French => Lang::Fra,
            Language::Dutch => Lang::Nld,
        }
    }

    fn algorithm(self) -> Algorithm {
        match self {
            Language::English => Algorithm::English,
            Language::German => Algorithm::German,
            Language::Danish => Algorithm::Danish,
            Language::Swedish => Algorithm::Swedish,
            Language::Spanish => Algorithm::Spanish,
            Language::French => Algorithm::French,
            Language::Dutch => Algorithm::Dutch,
        }
    }

    /// The Snowball stemmer of the language.
    pub fn stemmer(self) -> Stemmer {
        Stemmer::create(self.algorithm())
    }

    /// Whether a lower-case word is one of the language's stop words.
    pub fn is_stop_word(self, word: &str) -> bool {
        static LISTS: OnceLock<Vec<HashSet<&'static str>>> = OnceLock::new();
        let lists = LISTS.get_or_init(|| {
            ALL.iter()
                .map(|l| {
                    stop_words::lookup(l.code())
                        .unwrap_or_default()
                        .iter()
                        .copied()
                        .collect()
                })
                .collect()
        });
        lists[self as usize].contains(word)
    }
}

/// The language of a text among [`Language`]'s, or none when it has too few letters to
/// tell or is in another script.
pub fn detect(text: &str) -> Option<Language> {
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    let detector =
        DETECTOR.get_or_init(|| Detector::with_allowlist(ALL.iter().map(|l| l.lang()).collect()));
    let info = detector.detect(text)?;
    let guess = ALL.into_iter().find(|l| l.lang() == info.lang());
    match info.is_reliable() {
        true => guess,
        // Too few letters for the trigrams to tell: the stop words the text uses, when
        // one language's lead.
        false => by_stop_words(text).or(guess),
    }
}

/// The language whose stop words `text` uses most, when exactly one does.
fn by_stop_words(text: &str) -> Option<Language> {
    let words: Vec<String> = text.unicode_words().map(str::to_lowercase).collect();
    let used = |l: Language| words.iter().filter(|w| l.is_stop_word(w)).count();
    let counts: Vec<(Language, usize)> = ALL.iter().map(|&l| (l, used(l))).collect();
    let most = counts.iter().map(|(_, n)| *n).max().filter(|n| *n > 0)?;
    let mut leaders = counts.iter().filter(|(_, n)| *n == most);
    match (leaders.next(), leaders.next()) {
        (Some((l, _)), None) => Some(*l),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_comments_the_trigrams_cannot_tell_go_by_their_stop_words() {
        // Taken for another language by the trigrams alone before.
        assert_eq!(
            detect("Delayed bag again, nobody answered"),
            Some(Language::English)
        );
        assert_eq!(by_stop_words("bag delayed"), None);
        // Stop words of two languages in a tie: no lead.
        assert_eq!(by_stop_words("die the"), None);
        assert_eq!(by_stop_words("und die Lounge"), Some(Language::German));
    }

    #[test]
    fn detects_the_languages_of_typical_comments() {
        let cases = [
            (
                "The flight was delayed and nobody told us why.",
                Language::English,
            ),
            (
                "Der Flug hatte Verspätung und niemand hat uns informiert.",
                Language::German,
            ),
            (
                "Flyet var forsinket, og ingen fortalte os hvorfor.",
                Language::Danish,
            ),
            (
                "Flyget var försenat och ingen berättade varför.",
                Language::Swedish,
            ),
            (
                "El vuelo se retrasó y nadie nos dijo por qué.",
                Language::Spanish,
            ),
            (
                "Le vol était en retard et personne ne nous a dit pourquoi.",
                Language::French,
            ),
            (
                "De vlucht was vertraagd en niemand vertelde ons waarom.",
                Language::Dutch,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(detect(text), Some(want), "{text}");
        }
    }

    #[test]
    fn no_language_without_letters_or_in_another_script() {
        for text in [
            "",
            "   ",
            "12345 !!!",
            "\u{0}\u{7}",
            "Рейс задержали на три часа",
        ] {
            assert_eq!(detect(text), None, "{text:?}");
        }
    }

    #[test]
    fn every_language_has_stop_words() {
        for l in ALL {
            assert!(
                stop_words::lookup(l.code()).is_some_and(|w| w.len() > 50),
                "{l:?}"
            );
        }
        assert!(Language::English.is_stop_word("the") && !Language::English.is_stop_word("delay"));
        assert!(Language::German.is_stop_word("und") && Language::Danish.is_stop_word("og"));
    }
}
