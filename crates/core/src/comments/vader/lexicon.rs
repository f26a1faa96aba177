//! The VADER lexicons (vaderSentiment 3.3.2, MIT; see `LICENSE.txt`), parsed once.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Words and emoticons with their mean valence; single-character emoji with the words that
/// describe them.
pub(super) struct Lexicon {
    pub words: HashMap<&'static str, f64>,
    pub emoji: HashMap<char, &'static str>,
}

/// The lexicons, parsed on first use.
pub(super) fn lexicon() -> &'static Lexicon {
    static LEXICON: OnceLock<Lexicon> = OnceLock::new();
    LEXICON.get_or_init(|| Lexicon {
        words: words(include_str!("vader_lexicon.txt")),
        emoji: emoji(include_str!("emoji_utf8_lexicon.txt")),
    })
}

/// `token<TAB>mean<TAB>…` per line; a later line replaces an earlier one of the same token.
fn words(file: &'static str) -> HashMap<&'static str, f64> {
    file.lines()
        .filter_map(|line| {
            let mut fields = line.trim().split('\t');
            let word = fields.next()?;
            let valence = fields.next()?.parse().ok()?;
            Some((word, valence))
        })
        .collect()
}

/// `emoji<TAB>description` per line. Text is replaced character by character, so only
/// emoji of one character are ever replaced.
fn emoji(file: &'static str) -> HashMap<char, &'static str> {
    file.lines()
        .filter_map(|line| {
            let (emoji, description) = line.trim().split_once('\t')?;
            let mut chars = emoji.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Some((c, description.split('\t').next()?)),
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_is_read() {
        let l = lexicon();
        // 7,520 lines; 14 repeat a token of an earlier line (`:-p`, `fav`, …).
        assert_eq!(l.words.len(), 7506);
        assert_eq!(l.words.get(":)"), Some(&2.0));
        assert_eq!(l.words.get("good"), Some(&1.9));
        assert_eq!(l.emoji.get(&'😁'), Some(&"beaming face with smiling eyes"));
    }
}
