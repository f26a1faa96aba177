//! Topics the taxonomy misses, discovered in a bounded sample of the comments that mention
//! none of its topics:
//!
//! 1. **Sample** ([`Sample`]): the `capacity` comments whose ids rank lowest under a seeded
//!    hash (bottom-k sampling), so the same comments are kept whatever the order and the
//!    batches they come in, and samples of batches merge.
//! 2. **Vocabulary**: the `vocabulary` stems (of each comment's language, [`words`]) found
//!    in the most sampled comments, among those in at least `min_comments` of them.
//! 3. **Weights**: TF-IDF: a stem's count in the comment times its idf, 1 + ln((1 + n)/(1 +
//!    df)) for n comments, df of them with the stem (smoothed as scikit-learn does), each
//!    comment's weights scaled to unit length; comments without a vocabulary stem left out.
//! 4. **Topics**: non-negative matrix factorisation into k topics ([`nmf`]); a topic's
//!    terms are its largest weights in H (each stem shown as its most frequent word), its
//!    examples the comments with its largest weights in W.
//!
//! [`DiscoveredTopic::promotion`] writes a topic as a `[[topic]]` table for the taxonomy.

use std::collections::{BTreeMap, BinaryHeap, HashMap};

use serde::Serialize;

use super::language::ALL;
use super::nmf::{NmfSettings, SparseRows, nmf};
use super::tokens::{Surfaces, words};
use super::{Comment, Language, TextError};
use crate::rng::Rng;

/// A comment kept in a [`Sample`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sampled {
    /// The id it was added with.
    pub id: u64,
    /// The comment as analysed (cut and redacted).
    pub text: String,
    pub language: Language,
    #[serde(skip)]
    rank: u64,
}

impl Ord for Sampled {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.rank, self.id).cmp(&(other.rank, other.id))
    }
}

impl PartialOrd for Sampled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// A bounded sample of comments: of those added, the `capacity` whose ids rank lowest under
/// the seed. Ids identify comments (e.g. the response's row): the same ids and seed give
/// the same sample in any order and any split into batches.
#[derive(Debug, Clone)]
pub struct Sample {
    capacity: usize,
    seed: u64,
    offered: u64,
    kept: BinaryHeap<Sampled>,
}

impl Sample {
    pub fn new(capacity: usize, seed: u64) -> Self {
        Sample {
            capacity,
            seed,
            offered: 0,
            kept: BinaryHeap::new(),
        }
    }

    /// Offers a comment; one without a language is not kept (it has no words to analyse).
    pub fn add(&mut self, id: u64, c: &Comment) {
        self.offered += 1;
        let Some(language) = c.language else { return };
        let rank = Rng::stream(self.seed, id).next_u64();
        if self.kept.len() == self.capacity
            && self
                .kept
                .peek()
                .is_none_or(|top| (rank, id) >= (top.rank, top.id))
        {
            return;
        }
        self.kept.push(Sampled {
            id,
            text: c.text.to_string(),
            language,
            rank,
        });
        if self.kept.len() > self.capacity {
            self.kept.pop();
        }
    }

    /// Adds the sample of other comments (taken with the same capacity and seed).
    pub fn merge(&mut self, other: Sample) {
        self.offered += other.offered;
        for s in other.kept {
            self.kept.push(s);
            if self.kept.len() > self.capacity {
                self.kept.pop();
            }
        }
    }

    /// The comments offered, kept or not.
    pub fn offered(&self) -> u64 {
        self.offered
    }

    /// The comments kept, in the order of their rank.
    pub fn comments(&self) -> Vec<Sampled> {
        self.kept.clone().into_sorted_vec()
    }
}

/// How topics are discovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DiscoverSettings {
    /// k, the number of topics.
    pub topics: usize,
    /// The most stems analysed.
    pub vocabulary: usize,
    /// A stem in fewer sampled comments is left out.
    pub min_comments: usize,
    /// Terms and example comments listed per topic.
    pub terms: usize,
    pub examples: usize,
    pub seed: u64,
}

impl Default for DiscoverSettings {
    fn default() -> Self {
        DiscoverSettings {
            topics: 8,
            vocabulary: 1000,
            min_comments: 2,
            terms: 10,
            examples: 5,
            seed: 1,
        }
    }
}

/// Topics discovered in a sample, the weightiest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Discovered {
    /// The comments sampled, and of them those with a vocabulary stem (analysed).
    pub sampled: usize,
    pub analysed: usize,
    /// The stems analysed.
    pub vocabulary: usize,
    pub topics: Vec<DiscoveredTopic>,
}

/// A discovered topic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiscoveredTopic {
    /// Its share of all the comments' topic weights (Σ of its column of W over Σ W).
    pub weight: f64,
    /// The analysed comments whose largest topic weight is this topic's.
    pub comments: usize,
    /// Its stems by weight in H (rows of unit length), largest first.
    pub terms: Vec<TopicTerm>,
    /// The comments with its largest weights, largest first.
    pub examples: Vec<Example>,
}

/// A term of a discovered topic: its stem's most frequent word, in the stem's language.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicTerm {
    pub term: String,
    pub language: Language,
    pub weight: f64,
}

/// An example comment of a discovered topic: its id in the sample, text and weight.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Example {
    pub id: u64,
    pub text: String,
    pub weight: f64,
}

impl DiscoveredTopic {
    /// A `[[topic]]` table that adds this topic to a taxonomy as `name`: its first `terms`
    /// terms, each under its language's code.
    pub fn promotion(&self, name: &str, terms: usize) -> String {
        let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
        let mut out = format!("[[topic]]\nname = {}\n", quote(name));
        for language in ALL {
            let listed: Vec<String> = self.terms[..terms.min(self.terms.len())]
                .iter()
                .filter(|t| t.language == language)
                .map(|t| quote(&t.term))
                .collect();
            if !listed.is_empty() {
                out += &format!("{} = [{}]\n", language.code(), listed.join(", "));
            }
        }
        out
    }
}

/// Discovers topics in a sample ([`Sample`]); `TooFewForTopics` when fewer comments or
/// stems than topics remain to analyse.
pub fn discover(sample: &Sample, s: &DiscoverSettings) -> Result<Discovered, TextError> {
    let comments = sample.comments();
    let stemmers: Vec<_> = ALL.iter().map(|l| l.stemmer()).collect();
    let mut surfaces = Surfaces::default();
    let docs: Vec<Vec<(Language, String)>> = comments
        .iter()
        .map(|c| {
            let ws = words(&c.text, c.language, &stemmers[c.language as usize]);
            surfaces.add(&ws);
            ws.into_iter().map(|w| (c.language, w.stem)).collect()
        })
        .collect();
    let vocabulary = vocabulary(&docs, s);
    let columns: HashMap<&(Language, String), usize> = vocabulary
        .iter()
        .enumerate()
        .map(|(c, (t, _))| (t, c))
        .collect();
    let n = docs.len() as f64;
    let idf: Vec<f64> = vocabulary
        .iter()
        .map(|(_, df)| ((1.0 + n) / (1.0 + *df as f64)).ln() + 1.0)
        .collect();
    let (mut rows, mut analysed) = (Vec::new(), Vec::new());
    for (i, doc) in docs.iter().enumerate() {
        let mut counts = BTreeMap::new();
        for term in doc {
            if let Some(&c) = columns.get(term) {
                *counts.entry(c).or_insert(0.0) += 1.0;
            }
        }
        let row: Vec<(usize, f64)> = counts.into_iter().map(|(c, tf)| (c, tf * idf[c])).collect();
        let length = row.iter().map(|(_, x)| x * x).sum::<f64>().sqrt();
        if length > 0.0 {
            rows.push(row.into_iter().map(|(c, x)| (c, x / length)).collect());
            analysed.push(i);
        }
    }
    let k = s.topics;
    if k == 0 || rows.len() < k || vocabulary.len() < k {
        return Err(TextError::TooFewForTopics {
            comments: rows.len(),
            terms: vocabulary.len(),
            topics: k,
        });
    }
    let v = SparseRows {
        columns: vocabulary.len(),
        rows,
    };
    let settings = NmfSettings {
        rank: k,
        seed: s.seed,
        ..NmfSettings::default()
    };
    let f = nmf(&v, &settings);
    let mut largest = vec![0; k];
    for i in 0..analysed.len() {
        let row = &f.w[i * k..(i + 1) * k];
        if row.iter().any(|&x| x > 0.0) {
            largest[descending(row)[0]] += 1;
        }
    }
    let total: f64 = f.w.iter().sum();
    let mut topics: Vec<DiscoveredTopic> = (0..k)
        .map(|j| {
            let h = f.h_row(j);
            let terms = descending(h)
                .into_iter()
                .take_while(|&c| h[c] > 0.0)
                .take(s.terms)
                .map(|c| {
                    let (language, stem) = &vocabulary[c].0;
                    TopicTerm {
                        term: surfaces.word(stem).to_string(),
                        language: *language,
                        weight: h[c],
                    }
                })
                .collect();
            let w: Vec<f64> = (0..analysed.len()).map(|i| f.w(i, j)).collect();
            let examples = descending(&w)
                .into_iter()
                .take_while(|&i| w[i] > 0.0)
                .take(s.examples)
                .map(|i| {
                    let c = &comments[analysed[i]];
                    Example {
                        id: c.id,
                        text: c.text.clone(),
                        weight: w[i],
                    }
                })
                .collect();
            DiscoveredTopic {
                weight: if total > 0.0 {
                    w.iter().sum::<f64>() / total
                } else {
                    0.0
                },
                comments: largest[j],
                terms,
                examples,
            }
        })
        .collect();
    topics.sort_by(|a, b| b.weight.total_cmp(&a.weight));
    Ok(Discovered {
        sampled: comments.len(),
        analysed: analysed.len(),
        vocabulary: vocabulary.len(),
        topics,
    })
}

/// The stems in the most comments (at least `min_comments`), at most `vocabulary` of
/// them, with their document frequencies; ties in stem order.
fn vocabulary(
    docs: &[Vec<(Language, String)>],
    s: &DiscoverSettings,
) -> Vec<((Language, String), usize)> {
    let mut df: HashMap<&(Language, String), usize> = HashMap::new();
    for doc in docs {
        let mut seen: Vec<&(Language, String)> = doc.iter().collect();
        seen.sort_unstable();
        seen.dedup();
        for term in seen {
            *df.entry(term).or_default() += 1;
        }
    }
    let mut terms: Vec<((Language, String), usize)> = df
        .into_iter()
        .filter(|&(_, d)| d >= s.min_comments.max(1))
        .map(|(t, d)| (t.clone(), d))
        .collect();
    terms.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    terms.truncate(s.vocabulary);
    terms
}

/// The indices of `values`, largest value first (ties: the lower index first).
fn descending(values: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comments::Taxonomy;

    /// Planted themes: words and their variants (synonyms, inflections).
    const THEMES: [&[&str]; 4] = [
        &[
            "wifi",
            "internet",
            "connection",
            "signal",
            "network",
            "online",
        ],
        &[
            "meal",
            "meals",
            "food",
            "sandwich",
            "coffee",
            "snack",
            "breakfast",
        ],
        &[
            "seat", "seats", "legroom", "knees", "recline", "cramped", "armrest",
        ],
        &[
            "queue", "queues", "counter", "desk", "agent", "kiosk", "passport",
        ],
    ];
    /// Words of every theme.
    const NOISE: [&str; 12] = [
        "flight",
        "today",
        "really",
        "trip",
        "time",
        "again",
        "service",
        "airline",
        "experience",
        "terrible",
        "great",
        "honestly",
    ];

    /// English frames for a comment's words.
    const FRAMES: [fn([&str; 5]) -> String; 3] = [
        |[a, b, c, x, y]| {
            format!("The {a} was {x} and the {b} with the {c} on this {y}, as usual.")
        },
        |[a, b, c, x, y]| format!("Why is the {a} always so {x}? I had {b} and {c} problems {y}."),
        |[a, b, c, x, y]| format!("{x} {y} - but the {a}, the {b} and then the {c} were not good."),
    ];

    /// 400 comments, 100 a theme, each three theme words and two noise words in an English
    /// frame, and 60 of noise only; with each comment's planted theme.
    fn corpus() -> Vec<(String, Option<usize>)> {
        let mut rng = Rng::new(7);
        (0..460)
            .map(|i| {
                let theme = (i < 400).then_some(i % THEMES.len());
                let mut pick =
                    |words: &[&'static str]| words[rng.below(words.len() as u64) as usize];
                let [a, b, c] = [0; 3].map(|_| pick(theme.map_or(&NOISE[..], |t| THEMES[t])));
                let [x, y] = [0; 2].map(|_| pick(&NOISE));
                (FRAMES[i % 3]([a, b, c, x, y]), theme)
            })
            .collect()
    }

    fn sample(comments: &[(String, Option<usize>)], capacity: usize) -> Sample {
        let mut sample = Sample::new(capacity, 3);
        for (id, (text, _)) in comments.iter().enumerate() {
            sample.add(id as u64, &Comment::new(text));
        }
        sample
    }

    fn theme_of(word: &str) -> Option<usize> {
        THEMES.iter().position(|t| t.contains(&word))
    }

    /// Four topics discovered in a sample of 300 of the comments.
    fn four_topics(corpus: &[(String, Option<usize>)]) -> Discovered {
        let s = DiscoverSettings {
            topics: 4,
            ..DiscoverSettings::default()
        };
        discover(&sample(corpus, 300), &s).unwrap()
    }

    #[test]
    fn planted_themes_are_recovered_deterministically() {
        let corpus = corpus();
        let found = four_topics(&corpus);
        assert_eq!((found.sampled, found.topics.len()), (300, 4));
        let mut themes = Vec::new();
        for topic in &found.topics {
            let top: Vec<Option<usize>> =
                topic.terms[..5].iter().map(|t| theme_of(&t.term)).collect();
            let theme = top[0].expect("the top term is a theme's");
            let agree = top.iter().filter(|&&t| t == Some(theme)).count();
            assert!(agree >= 4, "{:?}", topic.terms);
            assert!(
                topic
                    .examples
                    .iter()
                    .all(|e| corpus[e.id as usize].1 == Some(theme))
            );
            assert!((50..=110).contains(&topic.comments), "{}", topic.comments);
            themes.push(theme);
        }
        themes.sort_unstable();
        assert_eq!(themes, [0, 1, 2, 3]);
        assert_eq!(found, four_topics(&corpus));
    }

    #[test]
    fn samples_do_not_depend_on_order_or_batches() {
        let corpus = corpus();
        let all = sample(&corpus, 50);
        let mut merged = Sample::new(50, 3);
        for (b, batch) in corpus.chunks(70).enumerate().rev() {
            let mut part = Sample::new(50, 3);
            for (i, (text, _)) in batch.iter().enumerate().rev() {
                part.add((b * 70 + i) as u64, &Comment::new(text));
            }
            merged.merge(part);
        }
        assert_eq!(merged.comments(), all.comments());
        assert_eq!((merged.offered(), all.comments().len()), (460, 50));
    }

    #[test]
    fn a_promoted_topic_parses_and_matches_its_examples() {
        let corpus = corpus();
        let found = four_topics(&corpus);
        let topic = &found.topics[0];
        let snippet = topic.promotion("new \"one\"", 5);
        assert!(snippet.starts_with("[[topic]]\nname = "), "{snippet}");
        let existing = "[[topic]]\nname = \"old\"\nterms = [\"bag\"]\n\n";
        let t = Taxonomy::parse(&format!("{existing}{snippet}")).unwrap();
        let promoted = t.find("new \"one\"").unwrap();
        for e in &topic.examples {
            assert!(
                t.mentions(&Comment::new(&e.text)).contains(promoted),
                "{e:?}"
            );
        }
    }

    #[test]
    fn too_few_comments_for_the_topics_asked_is_an_error() {
        let few = sample(&corpus()[..3], 10);
        assert!(matches!(
            discover(&few, &DiscoverSettings::default()),
            Err(TextError::TooFewForTopics { topics: 8, .. })
        ));
    }
}
