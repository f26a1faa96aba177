//! The languages comments are analysed in: detected per comment (trigram statistics of
//! whatlang, limited to these languages), each with its Snowball stemmer and stop words
//! (the Snowball lists as NLTK ships them).

use std::collections::HashMap;
use std::sync::OnceLock;

use foldhash::fast::FixedState;

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
        stop_words_of(word) & self.bit() != 0
    }

    fn bit(self) -> u8 {
        1 << self as usize
    }
}

/// The languages (one bit each) whose stop words include the lower-case word.
fn stop_words_of(word: &str) -> u8 {
    static LANGUAGES: OnceLock<HashMap<&'static str, u8, FixedState>> = OnceLock::new();
    let languages = LANGUAGES.get_or_init(|| {
        let mut map = HashMap::with_hasher(FixedState::default());
        for l in ALL {
            for &word in stop_words::lookup(l.code()).unwrap_or_default() {
                *map.entry(word).or_default() |= l.bit();
            }
        }
        map
    });
    languages.get(word).copied().unwrap_or(0)
}

/// The language of a text among [`Language`]'s, or none when it has too few letters to
/// tell or is in another script.
pub fn detect(text: &str) -> Option<Language> {
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    let used = StopWords::count(text);
    if let Some(l) = used.decisive() {
        return Some(l);
    }
    let detector =
        DETECTOR.get_or_init(|| Detector::with_allowlist(ALL.iter().map(|l| l.lang()).collect()));
    let info = detector.detect(text)?;
    let guess = ALL.into_iter().find(|l| l.lang() == info.lang());
    match info.is_reliable() {
        true => guess,
        // Too few letters for the trigrams to tell: the stop words the text uses, when
        // one language's lead.
        false => used.leader().or(guess),
    }
}

/// How many of a text's words are stop words of each language: of it and others, and of
/// it alone.
#[derive(Debug, Default)]
struct StopWords {
    any: [usize; ALL.len()],
    only: [usize; ALL.len()],
}

impl StopWords {
    fn count(text: &str) -> StopWords {
        let mut used = StopWords::default();
        for word in text.unicode_words() {
            let folded;
            let word = if word.bytes().all(|b| b.is_ascii_lowercase()) {
                word
            } else {
                folded = word.to_lowercase();
                &folded
            };
            let languages = stop_words_of(word);
            for l in ALL.into_iter().filter(|l| languages & l.bit() != 0) {
                used.any[l as usize] += 1;
                used.only[l as usize] += usize::from(languages.count_ones() == 1);
            }
        }
        used
    }

    /// The language when the text has at least two stop words of it alone and none of
    /// any other language alone: then the trigrams agreed on 99.97% of 149,070 labelled
    /// sentences in the seven languages (software messages, `docs/text.md`), at a
    /// fraction of their cost.
    fn decisive(&self) -> Option<Language> {
        let mut alone = ALL.into_iter().filter(|&l| self.only[l as usize] > 0);
        match (alone.next(), alone.next()) {
            (Some(l), None) if self.only[l as usize] >= 2 => Some(l),
            _ => None,
        }
    }

    /// The language whose stop words the text uses most, when exactly one does.
    fn leader(&self) -> Option<Language> {
        let most = self.any.iter().copied().max().filter(|n| *n > 0)?;
        let mut leaders = ALL.into_iter().filter(|&l| self.any[l as usize] == most);
        match (leaders.next(), leaders.next()) {
            (Some(l), None) => Some(l),
            _ => None,
        }
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
        assert_eq!(StopWords::count("bag delayed").leader(), None);
        // Stop words of two languages in a tie: no lead.
        assert_eq!(StopWords::count("die the").leader(), None);
        assert_eq!(
            StopWords::count("und die Lounge").leader(),
            Some(Language::German)
        );
    }

    #[test]
    fn two_stop_words_of_one_language_alone_decide() {
        let decisive = |text| StopWords::count(text).decisive();
        assert_eq!(decisive("The bag AND the seat"), Some(Language::English));
        // One is not enough, and one of another language alone vetoes.
        assert_eq!(decisive("the bag"), None);
        assert_eq!(decisive("the bag and und"), None);
        // A stop word of two languages ("was": English and German) counts for neither.
        assert_eq!(decisive("was was the"), None);
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
