//! VADER's word lists and constants (Hutto & Gilbert 2014; the values of vaderSentiment
//! 3.3.2).

/// Added to a booster's (subtracted from a dampener's) effect on the next sentiment word.
pub const BOOST: f64 = 0.293;
/// Added to the valence of a word in capitals among words that are not.
pub const CAPS: f64 = 0.733;
/// What a negation multiplies a valence by.
pub const NEGATION: f64 = -0.74;
/// Per exclamation mark (at most four) and per question mark (two or three; 0.96 for more).
pub const EXCLAMATION: f64 = 0.292;
pub const QUESTION: f64 = 0.18;
pub const MANY_QUESTIONS: f64 = 0.96;
/// The normalisation x / √(x² + α) of the summed valence into −1…1.
pub const ALPHA: f64 = 15.0;

/// Words that negate the sentiment word up to three words after them (as do words with
/// "n't").
const NEGATIONS: &[&str] = &[
    "aint",
    "arent",
    "cannot",
    "cant",
    "couldnt",
    "darent",
    "didnt",
    "doesnt",
    "ain't",
    "aren't",
    "can't",
    "couldn't",
    "daren't",
    "didn't",
    "doesn't",
    "dont",
    "hadnt",
    "hasnt",
    "havent",
    "isnt",
    "mightnt",
    "mustnt",
    "neither",
    "don't",
    "hadn't",
    "hasn't",
    "haven't",
    "isn't",
    "mightn't",
    "mustn't",
    "neednt",
    "needn't",
    "never",
    "none",
    "nope",
    "nor",
    "not",
    "nothing",
    "nowhere",
    "oughtnt",
    "shant",
    "shouldnt",
    "uhuh",
    "wasnt",
    "werent",
    "oughtn't",
    "shan't",
    "shouldn't",
    "uh-uh",
    "wasn't",
    "weren't",
    "without",
    "wont",
    "wouldnt",
    "won't",
    "wouldn't",
    "rarely",
    "seldom",
    "despite",
];

/// Degree adverbs that strengthen the next sentiment word.
const BOOSTERS: &[&str] = &[
    "absolutely",
    "amazingly",
    "awfully",
    "completely",
    "considerable",
    "considerably",
    "decidedly",
    "deeply",
    "effing",
    "enormous",
    "enormously",
    "entirely",
    "especially",
    "exceptional",
    "exceptionally",
    "extreme",
    "extremely",
    "fabulously",
    "flipping",
    "flippin",
    "frackin",
    "fracking",
    "fricking",
    "frickin",
    "frigging",
    "friggin",
    "fully",
    "fuckin",
    "fucking",
    "fuggin",
    "fugging",
    "greatly",
    "hella",
    "highly",
    "hugely",
    "incredible",
    "incredibly",
    "intensely",
    "major",
    "majorly",
    "more",
    "most",
    "particularly",
    "purely",
    "quite",
    "really",
    "remarkably",
    "so",
    "substantially",
    "thoroughly",
    "total",
    "totally",
    "tremendous",
    "tremendously",
    "uber",
    "unbelievably",
    "unusually",
    "utter",
    "utterly",
    "very",
];

/// Degree adverbs that weaken it.
const DAMPENERS: &[&str] = &[
    "almost",
    "barely",
    "hardly",
    "kinda",
    "kindof",
    "kind-of",
    "less",
    "little",
    "marginal",
    "marginally",
    "occasional",
    "occasionally",
    "partly",
    "scarce",
    "scarcely",
    "slight",
    "slightly",
    "somewhat",
    "sorta",
    "sortof",
    "sort-of",
];

/// Two-word dampeners, seen only in front of a sentiment word three words on.
pub const DAMPENER_PHRASES: [[&str; 2]; 3] = [["just", "enough"], ["kind", "of"], ["sort", "of"]];

/// Phrases with a sentiment word whose valence the phrase replaces.
pub const IDIOMS: [(&[&str], f64); 9] = [
    (&["the", "shit"], 3.0),
    (&["the", "bomb"], 3.0),
    (&["bad", "ass"], 1.5),
    (&["badass"], 1.5),
    (&["bus", "stop"], 0.0),
    (&["yeah", "right"], -2.0),
    (&["kiss", "of", "death"], -1.5),
    (&["to", "die", "for"], 3.0),
    (&["beating", "heart"], 3.5),
];

/// Whether a (lower-case) word negates.
pub fn negates(word: &str) -> bool {
    NEGATIONS.contains(&word) || word.contains("n't")
}

/// The effect of a (lower-case) degree adverb on a positive word: ±[`BOOST`], else none.
pub fn degree(word: &str) -> Option<f64> {
    if BOOSTERS.contains(&word) {
        Some(BOOST)
    } else if DAMPENERS.contains(&word) {
        Some(-BOOST)
    } else {
        None
    }
}

/// The valence an idiom of exactly these words gives.
pub fn idiom(words: &[String]) -> Option<f64> {
    IDIOMS.iter().find(|(w, _)| same(w, words)).map(|&(_, v)| v)
}

/// Whether a phrase is exactly these words.
pub fn same(phrase: &[&str], words: &[String]) -> bool {
    phrase.len() == words.len() && phrase.iter().zip(words).all(|(p, w)| p == w)
}
