//! VADER sentiment (Hutto & Gilbert 2014, "VADER: A Parsimonious Rule-based Model for
//! Sentiment Analysis of Social Media Text"): English words and emoticons with mean
//! valences from human raters, adjusted by rules for negation, degree adverbs, capitals,
//! "but", "least", idioms and punctuation, summed and normalised into a compound score in
//! −1…1. The rules behave as those of the reference implementation, vaderSentiment 3.3.2,
//! including its quirks (see [`but_weights`]); its compound scores are reproduced to 1e-4.

mod lexicon;
mod rules;

use lexicon::lexicon;
use rules::*;

/// The compound score of an English text: −1 (most negative) … 1 (most positive); 0 when
/// it has no sentiment word.
pub fn compound(text: &str) -> f64 {
    let text = emoji_as_words(text);
    let text = text.trim_matches(is_space);
    let words = Words::of(text);
    if words.raw.is_empty() {
        return 0.0;
    }
    let mut valences: Vec<f64> = (0..words.raw.len()).map(|i| words.valence(i)).collect();
    but_weights(&words.lower, &mut valences);
    let sum: f64 = valences.iter().sum();
    let emphasis = punctuation(text);
    normalise(match sum {
        s if s > 0.0 => s + emphasis,
        s if s < 0.0 => s - emphasis,
        s => s,
    })
}

/// Every one-character emoji of the lexicon replaced by its description, set off from a
/// preceding character by a space.
fn emoji_as_words(text: &str) -> String {
    let emoji = &lexicon().emoji;
    let mut out = String::with_capacity(text.len());
    let mut after_space = true;
    for c in text.chars() {
        match emoji.get(&c) {
            Some(description) => {
                if !after_space {
                    out.push(' ');
                }
                out.push_str(description);
                after_space = false;
            }
            None => {
                out.push(c);
                after_space = c == ' ';
            }
        }
    }
    out
}

/// Whitespace as the reference splits on: Unicode's, and the four information separators.
fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// The words of a text with their lower-case forms and whether capitals set some apart.
struct Words<'a> {
    raw: Vec<&'a str>,
    lower: Vec<String>,
    /// Some words, not all, are in capitals.
    caps_differ: bool,
}

impl<'a> Words<'a> {
    /// Whitespace-separated tokens with surrounding ASCII punctuation removed, unless that
    /// leaves two characters or fewer (emoticons such as ":)" stay whole).
    fn of(text: &'a str) -> Self {
        let raw: Vec<&str> = text
            .split(is_space)
            .filter(|t| !t.is_empty())
            .map(|t| {
                let stripped = t.trim_matches(|c: char| c.is_ascii_punctuation());
                if stripped.chars().nth(2).is_some() {
                    stripped
                } else {
                    t
                }
            })
            .collect();
        let capitals = raw.iter().filter(|w| is_upper(w)).count();
        Words {
            lower: raw.iter().map(|w| w.to_lowercase()).collect(),
            caps_differ: capitals > 0 && capitals < raw.len(),
            raw,
        }
    }

    fn lower(&self, i: usize) -> &str {
        &self.lower[i]
    }

    fn known(&self, i: usize) -> Option<f64> {
        lexicon().words.get(self.lower(i)).copied()
    }

    /// The valence of word `i` after the rules that look at its neighbours.
    fn valence(&self, i: usize) -> f64 {
        let word = self.lower(i);
        if degree(word).is_some()
            || (word == "kind" && self.lower.get(i + 1).is_some_and(|n| n == "of"))
        {
            return 0.0;
        }
        let Some(base) = self.known(i) else {
            return 0.0;
        };
        let mut v = base;
        if word == "no" && i + 1 < self.raw.len() && self.known(i + 1).is_some() {
            v = 0.0;
        }
        if self.no_before(i) {
            v = base * NEGATION;
        }
        if is_upper(self.raw[i]) && self.caps_differ {
            v += if v > 0.0 { CAPS } else { -CAPS };
        }
        for distance in 1..=3 {
            if i >= distance && self.known(i - distance).is_none() {
                v += self.degree_effect(i - distance, v) * [1.0, 0.95, 0.9][distance - 1];
                v = self.negation(v, distance, i);
                if distance == 3 {
                    v = self.idioms(v, i);
                }
            }
        }
        self.least(v, i)
    }

    /// "no" one or two words before, or three before with "or"/"nor" just before.
    fn no_before(&self, i: usize) -> bool {
        let is = |d: usize, w: &str| i >= d && self.lower(i - d) == w;
        is(1, "no") || is(2, "no") || (is(3, "no") && (is(1, "or") || is(1, "nor")))
    }

    /// What degree adverb `j` adds to a word of valence `v`, more in capitals among words
    /// that are not.
    fn degree_effect(&self, j: usize, v: f64) -> f64 {
        let Some(boost) = degree(self.lower(j)) else {
            return 0.0;
        };
        let mut s = if v < 0.0 { -boost } else { boost };
        if is_upper(self.raw[j]) && self.caps_differ {
            s += if v > 0.0 { CAPS } else { -CAPS };
        }
        s
    }

    /// Negation by the word `distance` before `i`; "never so/this" strengthens instead,
    /// "without doubt" leaves the valence.
    fn negation(&self, v: f64, distance: usize, i: usize) -> f64 {
        let w = |d: usize| self.lower(i - d);
        let so_this = |d: usize| w(d) == "so" || w(d) == "this";
        match distance {
            1 if negates(w(1)) => v * NEGATION,
            2 if w(2) == "never" && so_this(1) => v * 1.25,
            2 if w(2) == "without" && w(1) == "doubt" => v,
            2 if negates(w(2)) => v * NEGATION,
            3 if (w(3) == "never" && so_this(2)) || so_this(1) => v * 1.25,
            3 if w(3) == "without" && (w(2) == "doubt" || w(1) == "doubt") => v,
            3 if negates(w(3)) => v * NEGATION,
            _ => v,
        }
    }

    /// Idioms ending at, spanning or starting at word `i` (≥ 3) replace its valence;
    /// two-word dampeners before it weaken it.
    fn idioms(&self, mut v: f64, i: usize) -> f64 {
        let l = &self.lower;
        let before = [
            &l[i - 1..=i],
            &l[i - 2..=i],
            &l[i - 2..i],
            &l[i - 3..i],
            &l[i - 3..i - 1],
        ];
        if let Some(value) = before.into_iter().find_map(idiom) {
            v = value;
        }
        for end in [i + 2, i + 3] {
            if let Some(value) = l.get(i..end).and_then(idiom) {
                v = value;
            }
        }
        for pair in [&l[i - 3..i - 1], &l[i - 2..i]] {
            if DAMPENER_PHRASES.iter().any(|p| same(p, pair)) {
                v -= BOOST;
            }
        }
        v
    }

    /// "least" just before negates, unless it is "at least" or "very least".
    fn least(&self, v: f64, i: usize) -> f64 {
        if i == 0 || self.lower(i - 1) != "least" || self.known(i - 1).is_some() {
            return v;
        }
        match i.checked_sub(2).map(|j| self.lower(j)) {
            Some("at" | "very") => v,
            _ => v * NEGATION,
        }
    }
}

/// After the first "but", valences weigh 1.5 times, before it half. As in the reference,
/// each value is looked up by its first occurrence: a valence repeated before and after
/// "but" changes its first occurrence every time it comes round.
fn but_weights(lower: &[String], valences: &mut [f64]) {
    let Some(but) = lower.iter().position(|w| w == "but") else {
        return;
    };
    for k in 0..valences.len() {
        let value = valences[k];
        let first = valences.iter().position(|&v| v == value).unwrap_or(k);
        if first < but {
            valences[first] = value * 0.5;
        } else if first > but {
            valences[first] = value * 1.5;
        }
    }
}

/// The emphasis of exclamation marks (up to four) and of two or more question marks.
fn punctuation(text: &str) -> f64 {
    let exclamations = text.matches('!').count().min(4);
    let questions = text.matches('?').count();
    let q = match questions {
        0 | 1 => 0.0,
        2 | 3 => questions as f64 * QUESTION,
        _ => MANY_QUESTIONS,
    };
    exclamations as f64 * EXCLAMATION + q
}

/// x / √(x² + α), within −1…1.
fn normalise(sum: f64) -> f64 {
    (sum / (sum * sum + ALPHA).sqrt()).clamp(-1.0, 1.0)
}

/// Whether a word has a cased letter and no lower-case or title-case one.
fn is_upper(word: &str) -> bool {
    let mut cased = false;
    for c in word.chars() {
        if c.is_lowercase() || is_titlecase(c) {
            return false;
        }
        cased |= c.is_uppercase();
    }
    cased
}

/// Unicode's title-case letters (general category Lt).
fn is_titlecase(c: char) -> bool {
    matches!(c, '\u{1c5}' | '\u{1c8}' | '\u{1cb}' | '\u{1f2}' | '\u{1f88}'..='\u{1f8f}'
        | '\u{1f98}'..='\u{1f9f}' | '\u{1fa8}'..='\u{1faf}' | '\u{1fbc}' | '\u{1fcc}' | '\u{1ffc}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_sentiment_word_scores_zero() {
        for text in ["", "   ", "the flight", "12345", "\u{0}\u{1}"] {
            assert_eq!(compound(text), 0.0, "{text:?}");
        }
    }

    #[test]
    fn one_word_is_its_normalised_valence() {
        // "good" has valence 1.9 in the lexicon: 1.9 / √(1.9² + 15) = 0.4404.
        let expected = 1.9 / (1.9f64 * 1.9 + 15.0).sqrt();
        assert!((compound("good") - expected).abs() < 1e-12);
        assert!((compound("good!") - normalise(1.9 + EXCLAMATION)).abs() < 1e-12);
    }

    #[test]
    fn capitals_stand_out_only_among_other_words() {
        assert_eq!(compound("GOOD"), compound("good"));
        assert!(compound("GOOD flight") > compound("good flight"));
    }

    #[test]
    fn title_case_is_not_upper_case() {
        assert!(is_upper("GOOD") && !is_upper("Good") && !is_upper("ǅ") && !is_upper("12"));
    }
}
