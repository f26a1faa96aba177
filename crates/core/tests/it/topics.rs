//! Topics end to end, as `cxray text topics` runs them: comments in batches through a
//! taxonomy into tallies, the unmatched ones sampled; topics discovered in the sample and
//! promoted into the taxonomy; precision and recall against the planted topics.

use cxray_core::comments::{
    Agreement, Comment, DiscoverSettings, Sample, Taxonomy, TopicTally, discover,
};
use cxray_core::rng::Rng;
use cxray_core::stats::Settings;

/// The taxonomy the comments are counted with: it knows baggage and crew, not wifi or food.
const EXAMPLE: &str = include_str!("../data/comments/small_taxonomy.toml");

/// A planted topic: its name, words in English and German (none: English only) and the
/// NPS answers of its comments.
struct Theme {
    name: &'static str,
    en: &'static [&'static str],
    de: &'static [&'static str],
    scores: [u8; 3],
}

const THEMES: [Theme; 4] = [
    Theme {
        name: "baggage",
        en: &["bag", "bags", "luggage", "suitcase"],
        de: &["Gepäck", "Koffer"],
        scores: [0, 3, 6],
    },
    Theme {
        name: "service > crew",
        en: &["crew", "staff", "attendants"],
        de: &[],
        scores: [9, 10, 10],
    },
    Theme {
        name: "wifi",
        en: &["wifi", "internet", "connection", "signal"],
        de: &[],
        scores: [5, 7, 8],
    },
    Theme {
        name: "food",
        en: &["meal", "sandwich", "coffee", "snacks"],
        de: &[],
        scores: [6, 8, 9],
    },
];

const NOISE: [&str; 8] = [
    "today", "really", "trip", "again", "honestly", "morning", "airport", "journey",
];

/// 1,000 comments of one planted topic each (a quarter of the baggage ones in German), with
/// their NPS answers.
fn comments() -> Vec<(String, &'static str, u8)> {
    let mut rng = Rng::new(11);
    (0..1000)
        .map(|i| {
            let Theme {
                name,
                en,
                de,
                scores,
            } = THEMES[i % 4];
            let mut pick = |words: &[&'static str]| words[rng.below(words.len() as u64) as usize];
            let noise = pick(&NOISE);
            let score = scores[i % 3];
            let text = match (de.is_empty(), i % 16) {
                (false, 0..4) => format!(
                    "Das {} war wieder ein Problem, wir haben sehr lange gewartet ({noise}).",
                    pick(de)
                ),
                _ => format!(
                    "The {} was a problem again {noise}, and then the {} as well.",
                    pick(en),
                    pick(en)
                ),
            };
            (text, name, score)
        })
        .collect()
}

/// The tally, the sample of unmatched comments and the agreement with the planted topics,
/// counted in batches and merged.
fn run(taxonomy: &Taxonomy, comments: &[(String, &str, u8)]) -> (TopicTally, Sample, Agreement) {
    let (mut tally, mut sample, mut agreement) = (
        TopicTally::default(),
        Sample::new(400, 5),
        Agreement::default(),
    );
    for (b, batch) in comments.chunks(300).enumerate() {
        let (mut t, mut s, mut a) = (
            TopicTally::default(),
            Sample::new(400, 5),
            Agreement::default(),
        );
        for (i, (text, planted, score)) in batch.iter().enumerate() {
            let c = Comment::new(text);
            let topics = taxonomy.mentions(&c);
            t.add(&topics, Some(*score)).unwrap();
            if topics.is_empty() {
                s.add((b * 300 + i) as u64, &c);
            }
            // The planted topic with its parents, as the taxonomy assigns them.
            let known: Vec<&str> = match planted.split_once(" > ") {
                Some((parent, _)) => vec![parent, planted],
                None => vec![planted],
            };
            a.add(&taxonomy.names(&topics), &known);
        }
        tally.merge(&t);
        sample.merge(s);
        agreement.merge(&a);
    }
    (tally, sample, agreement)
}

fn precision_recall(a: &Agreement, topic: &str) -> (f64, f64) {
    let s = Settings::default();
    let c = a.topic(topic);
    (c.precision(&s).unwrap().value, c.recall(&s).unwrap().value)
}

#[test]
fn taxonomy_topics_their_nps_and_discovered_topics_promoted() {
    let comments = comments();
    let taxonomy = Taxonomy::parse(EXAMPLE).unwrap();
    let (tally, sample, agreement) = run(&taxonomy, &comments);
    assert_eq!((tally.comments(), tally.unmatched()), (1000, 500));
    for topic in ["baggage", "service", "service > crew"] {
        let (p, r) = precision_recall(&agreement, topic);
        assert!(p == 1.0 && r == 1.0, "{topic}: precision {p}, recall {r}");
    }
    // Baggage comments come with detractors, crew comments with promoters.
    let s = Settings::default();
    let baggage = tally.nps(taxonomy.find("baggage").unwrap(), &s).unwrap();
    let d = baggage.difference.unwrap();
    assert!(
        d.high.unwrap() < 0.0 && baggage.with.unwrap().value == -100.0,
        "{d:?}"
    );
    let crew = tally.nps(taxonomy.find("service").unwrap(), &s).unwrap();
    assert!(crew.difference.unwrap().low.unwrap() > 0.0);

    // What the taxonomy misses: wifi and food.
    assert_eq!(sample.offered(), 500);
    let settings = DiscoverSettings {
        topics: 2,
        ..DiscoverSettings::default()
    };
    let found = discover(&sample, &settings).unwrap();
    assert_eq!(found, discover(&sample, &settings).unwrap());
    let mut promoted = EXAMPLE.to_string();
    for topic in &found.topics {
        let top = topic.terms[0].term.as_str();
        let name = ["wifi", "food"]
            .into_iter()
            .find(|&n| THEMES.iter().any(|t| t.name == n && t.en.contains(&top)))
            .unwrap_or_else(|| panic!("{:?}", topic.terms));
        promoted += &format!("\n{}", topic.promotion(name, 4));
    }
    let taxonomy = Taxonomy::parse(&promoted).unwrap();
    let (tally, _, agreement) = run(&taxonomy, &comments);
    assert_eq!(tally.unmatched(), 0);
    for topic in ["baggage", "service > crew", "wifi", "food"] {
        let (p, r) = precision_recall(&agreement, topic);
        assert!(p == 1.0 && r == 1.0, "{topic}: precision {p}, recall {r}");
    }
    let all = agreement.overall();
    assert_eq!((all.false_alarms, all.misses), (0, 0));
}
