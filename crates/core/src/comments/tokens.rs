//! Words as terms: Unicode word boundaries (UAX #29), lower case (the apostrophe ’ as '),
//! stop words and numbers dropped, Snowball stems; n-grams of the words that remain.

use std::collections::HashMap;

use rust_stemmers::Stemmer;
use unicode_segmentation::UnicodeSegmentation;

use super::Language;
use super::redact::{CARD, EMAIL, PHONE};

/// A word of a comment: as written (lower case) and its stem.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub surface: String,
    pub stem: String,
}

/// The words of a comment that can be terms, in order.
pub fn words(text: &str, language: Language, stemmer: &Stemmer) -> Vec<Word> {
    text.unicode_word_indices()
        .filter(|&(i, w)| !is_tag(text, i, w))
        .map(|(_, w)| fold(w))
        .filter(|w| w.chars().any(char::is_alphabetic) && !language.is_stop_word(w))
        .map(|surface| Word {
            stem: stemmer.stem(&surface).into_owned(),
            surface,
        })
        .collect()
}

/// Lower case, with the typographic apostrophe as the ASCII one.
fn fold(word: &str) -> String {
    word.to_lowercase().replace('’', "'")
}

/// Whether the word at byte `i` is the word of a redaction tag.
fn is_tag(text: &str, i: usize, word: &str) -> bool {
    let around = text.get(i.saturating_sub(1)..i + word.len() + 1);
    around.is_some_and(|tag| [EMAIL, PHONE, CARD].contains(&tag))
}

/// The n-grams of 1 to `longest` words, each as its stems joined by spaces.
pub fn ngrams(words: &[Word], longest: usize) -> impl Iterator<Item = String> + '_ {
    (1..=longest).flat_map(move |n| {
        words.windows(n).map(|w| {
            let stems: Vec<&str> = w.iter().map(|w| w.stem.as_str()).collect();
            stems.join(" ")
        })
    })
}

/// How often each stem was written as which word, to show stems as people wrote them.
#[derive(Debug, Clone, Default)]
pub struct Surfaces(HashMap<String, HashMap<String, u64>>);

impl Surfaces {
    /// Counts the words of a comment.
    pub fn add(&mut self, words: &[Word]) {
        for w in words {
            let forms = self.0.entry(w.stem.clone()).or_default();
            *forms.entry(w.surface.clone()).or_default() += 1;
        }
    }

    /// Adds another's counts.
    pub fn merge(&mut self, other: Surfaces) {
        for (stem, forms) in other.0 {
            let mine = self.0.entry(stem).or_default();
            for (form, n) in forms {
                *mine.entry(form).or_default() += n;
            }
        }
    }

    /// The word a stem was written as most often (ties: the first in order); the stem
    /// itself if it was never counted.
    pub fn word<'a>(&'a self, stem: &'a str) -> &'a str {
        self.0
            .get(stem)
            .and_then(|forms| {
                forms
                    .iter()
                    .max_by(|x, y| x.1.cmp(y.1).then_with(|| y.0.cmp(x.0)))
            })
            .map_or(stem, |(form, _)| form)
    }

    /// An n-gram of stems (joined by spaces) as the most frequent word of each stem.
    pub fn shown(&self, gram: &str) -> String {
        gram.split(' ')
            .map(|s| self.word(s))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn surfaces(text: &str, l: Language) -> Vec<String> {
        words(text, l, &l.stemmer())
            .into_iter()
            .map(|w| w.surface)
            .collect()
    }

    #[test]
    fn words_are_folded_without_stop_words_numbers_or_tags() {
        assert_eq!(
            surfaces(
                "The CREW didn’t help; 3 hours at Gate B12, mail [email] or [phone]!",
                Language::English
            ),
            ["crew", "help", "hours", "gate", "b12", "mail"]
        );
        assert_eq!(
            surfaces("Der Flug war sehr verspätet", Language::German),
            ["flug", "verspätet"]
        );
    }

    #[test]
    fn stems_join_inflections() {
        let l = Language::English;
        let w = words("delayed delays delaying", l, &l.stemmer());
        assert!(w.iter().all(|w| w.stem == "delay"), "{w:?}");
    }

    #[test]
    fn ngrams_of_one_to_three_words() {
        let l = Language::English;
        let w = words("lost bag never returned", l, &l.stemmer());
        let grams: Vec<String> = ngrams(&w, 3).collect();
        assert_eq!(
            grams,
            [
                "lost",
                "bag",
                "never",
                "return",
                "lost bag",
                "bag never",
                "never return",
                "lost bag never",
                "bag never return"
            ]
        );
    }
}
