//! Comments written from templates: what a world's `[comments]` section describes, and the
//! writer that turns a trip's experiences into a comment in its customer's language.
//!
//! A comment is about what happened on the trip: a failure (or long wait) at a touchpoint
//! a topic is `about` becomes a complaint from that topic's templates; a trip without one
//! gets praise (NPS ≥ 9) or a neutral remark, sometimes about a topic. A comment on a
//! touchpoint's answer (CSAT) is about that visit only: a complaint when it went wrong,
//! else the praise of a topic about the touchpoint (CSAT 5), else none. Complaints may come
//! with praise of another topic ("the crew was lovely but my bag never arrived"); topics
//! without experiences (`chance`) are remarked on at random; a few comments carry personal
//! data (an e-mail address, a phone number or a card number). `{word}` in a template is one
//! of the language's synonyms for it, drawn at random; some comments get a typo (two
//! letters swapped) or their casing changed. The topics of each comment are the planted
//! truth the text analyses are checked against.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::spec::{Event, Spec, WorldError};
use crate::rng::Rng;

/// The placeholders filled with personal data rather than words.
const PERSONAL: [&str; 3] = ["email_address", "phone_number", "card_number"];

/// How comments are written: languages, topics and the rates of variations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Comments {
    /// The language of customers of regions not in `regions`.
    pub language: String,
    /// The languages of each region's customers, by share (region id → language code →
    /// relative share).
    #[serde(default)]
    pub regions: BTreeMap<String, BTreeMap<String, f64>>,
    /// Probability that a response after a trip with a failure or long wait has a comment,
    /// when higher than the survey's `comment_rate` (people write when something went
    /// wrong); 0: `comment_rate`.
    #[serde(default)]
    pub bad_trip_rate: f64,
    /// Probability that an answer about a touchpoint (CSAT) has a comment about that
    /// visit; after a failure or long wait there, `bad_trip_rate` when higher. 0: none.
    #[serde(default)]
    pub touchpoint_rate: f64,
    /// Probability that a complaint also praises another topic ("… but …").
    #[serde(default)]
    pub mixed_rate: f64,
    /// Probability that a comment has a typo (two letters of a word swapped).
    #[serde(default)]
    pub typo_rate: f64,
    /// Probability that a comment is written in lower case (a tenth of them in capitals).
    #[serde(default)]
    pub casing_rate: f64,
    /// Probability that a comment carries personal data.
    #[serde(default)]
    pub personal_rate: f64,
    /// The texts of each language (code → texts).
    pub languages: BTreeMap<String, LanguageTexts>,
    pub topics: Vec<CommentTopic>,
}

/// One language's words and sentences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageTexts {
    /// Joins praise and a complaint ("but").
    pub but: String,
    /// General praise (no topic), for NPS 9–10.
    pub praise: Vec<String>,
    /// General remarks (no topic) of everyone else.
    pub neutral: Vec<String>,
    /// Sentences with `{email_address}`, `{phone_number}` or `{card_number}`.
    #[serde(default)]
    pub personal: Vec<String>,
    /// Synonyms: `{word}` in a template is one of these.
    #[serde(default)]
    pub words: BTreeMap<String, Vec<String>>,
}

/// A planted topic: the experiences its complaints are about, and its texts per language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentTopic {
    pub name: String,
    /// Experiences that bring a complaint: `"touchpoint failed"` or `"touchpoint long_wait"`.
    #[serde(default)]
    pub about: Vec<String>,
    /// Probability that any comment also remarks on the topic (whatever happened).
    #[serde(default)]
    pub chance: f64,
    /// Texts per language (code → texts).
    pub text: BTreeMap<String, TopicTexts>,
}

/// A topic's words and sentences in one language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicTexts {
    /// Words every text of the topic uses one of (after its synonyms are filled in).
    pub terms: Vec<String>,
    /// Complaints (and remarks of `chance`).
    pub complaints: Vec<String>,
    /// Praise clauses, for mixed comments and promoters.
    #[serde(default)]
    pub praise: Vec<String>,
}

impl Comments {
    /// The topic's planted effect on leaving: the largest `dropout_beta` of the effects of
    /// the experiences it is about (0 without one).
    pub fn dropout_beta(&self, spec: &Spec, topic: usize) -> f64 {
        let about = &self.topics[topic].about;
        spec.effects
            .iter()
            .filter(|e| {
                about
                    .iter()
                    .any(|a| *a == format!("{} {}", e.touchpoint, e.event.name()))
            })
            .map(|e| e.dropout_beta)
            .fold(0.0, f64::max)
    }

    pub(crate) fn validate(&self, spec: &Spec) -> Result<(), WorldError> {
        let invalid = |field: String, message: String| WorldError::Invalid { field, message };
        let known = |field: String, code: &str| {
            if self.languages.contains_key(code) {
                Ok(())
            } else {
                Err(invalid(field, format!("unknown language '{code}'")))
            }
        };
        known("comments.language".into(), &self.language)?;
        for (region, shares) in &self.regions {
            let field = format!("comments.regions.{region}");
            if !spec.regions.iter().any(|r| r.id == *region) {
                return Err(invalid(field, format!("unknown region '{region}'")));
            }
            for (code, share) in shares {
                known(format!("{field}.{code}"), code)?;
                if !(share.is_finite() && *share >= 0.0) {
                    return Err(invalid(
                        format!("{field}.{code}"),
                        format!("must be 0 or more, got {share}"),
                    ));
                }
            }
            if shares.values().sum::<f64>() <= 0.0 {
                return Err(invalid(field, "shares must not all be zero".into()));
            }
        }
        for (f, v) in [
            ("bad_trip_rate", self.bad_trip_rate),
            ("touchpoint_rate", self.touchpoint_rate),
            ("mixed_rate", self.mixed_rate),
            ("typo_rate", self.typo_rate),
            ("casing_rate", self.casing_rate),
            ("personal_rate", self.personal_rate),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(invalid(
                    format!("comments.{f}"),
                    format!("must be between 0 and 1, got {v}"),
                ));
            }
        }
        if self.topics.len() > 32 {
            return Err(invalid(
                "comments.topics".into(),
                "at most 32 topics".into(),
            ));
        }
        for (code, texts) in &self.languages {
            let field = |f: &str| format!("comments.languages.{code}.{f}");
            if texts.praise.is_empty() || texts.neutral.is_empty() {
                return Err(invalid(
                    field("praise"),
                    "praise and neutral need a sentence each".into(),
                ));
            }
            for (f, list) in [
                ("praise", &texts.praise),
                ("neutral", &texts.neutral),
                ("personal", &texts.personal),
            ] {
                placeholders(&field(f), list, texts)?;
            }
        }
        for (i, topic) in self.topics.iter().enumerate() {
            let field = |f: &str| format!("comments.topics[{i}].{f}");
            if topic.name.trim().is_empty() {
                return Err(invalid(field("name"), "must not be empty".into()));
            }
            if !(0.0..=1.0).contains(&topic.chance) {
                return Err(invalid(
                    field("chance"),
                    format!("must be between 0 and 1, got {}", topic.chance),
                ));
            }
            for (j, about) in topic.about.iter().enumerate() {
                if experience(spec, about).is_none() {
                    return Err(invalid(
                        field(&format!("about[{j}]")),
                        format!(
                            "'{about}' is not 'touchpoint failed' or 'touchpoint long_wait' of a known touchpoint"
                        ),
                    ));
                }
            }
            for code in self.languages.keys() {
                let Some(t) = topic.text.get(code) else {
                    return Err(invalid(field("text"), format!("has no texts in '{code}'")));
                };
                if t.complaints.is_empty() || t.terms.is_empty() {
                    return Err(invalid(
                        field(&format!("text.{code}")),
                        "needs terms and complaints".into(),
                    ));
                }
                let texts = &self.languages[code];
                placeholders(&field(&format!("text.{code}")), &t.complaints, texts)?;
                placeholders(&field(&format!("text.{code}")), &t.praise, texts)?;
            }
            for code in topic.text.keys() {
                known(field(&format!("text.{code}")), code)?;
            }
        }
        Ok(())
    }
}

/// The touchpoint index and event of `"touchpoint event"`.
fn experience(spec: &Spec, about: &str) -> Option<(usize, Event)> {
    let (tp, event) = about.split_once(' ')?;
    let event = match event.trim() {
        "failed" => Event::Failed,
        "long_wait" => Event::LongWait,
        _ => return None,
    };
    Some((spec.touchpoints.iter().position(|t| t.id == tp)?, event))
}

/// Refuses a template whose `{name}` is neither a word of the language nor personal data.
fn placeholders(field: &str, list: &[String], texts: &LanguageTexts) -> Result<(), WorldError> {
    for template in list {
        for name in names(template) {
            if !texts.words.contains_key(name) && !PERSONAL.contains(&name) {
                return Err(WorldError::Invalid {
                    field: field.to_string(),
                    message: format!("'{{{name}}}' in '{template}' is not a word of the language"),
                });
            }
        }
    }
    Ok(())
}

/// The `{name}`s of a template.
fn names(template: &str) -> impl Iterator<Item = &str> {
    template
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
}

/// What the writer knows of one trip's touchpoint experience.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Experience {
    pub touchpoint: usize,
    pub failed: bool,
    pub long_wait: bool,
}

/// A comment written, with its planted truth.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub text: String,
    /// The language code.
    pub language: String,
    /// The topics it mentions, by index, ascending.
    pub topics: Vec<usize>,
    /// The personal data it carries, as written.
    pub personal: Option<String>,
}

/// Writes comments for one world.
#[derive(Debug, Clone)]
pub(crate) struct Writer<'a> {
    spec: &'a Comments,
    /// Per topic, the (touchpoint, event) experiences it is about.
    about: Vec<Vec<(usize, Event)>>,
    /// Per region index, its customers' languages and their shares.
    region_languages: Vec<(Vec<&'a str>, Vec<f64>)>,
}

impl<'a> Writer<'a> {
    pub fn new(world: &'a Spec, spec: &'a Comments) -> Self {
        Writer {
            spec,
            about: spec
                .topics
                .iter()
                .map(|t| {
                    t.about
                        .iter()
                        .filter_map(|a| experience(world, a))
                        .collect()
                })
                .collect(),
            region_languages: world
                .regions
                .iter()
                .map(|r| match spec.regions.get(&r.id) {
                    Some(shares) => (
                        shares.keys().map(String::as_str).collect(),
                        shares.values().copied().collect(),
                    ),
                    None => (vec![spec.language.as_str()], vec![1.0]),
                })
                .collect(),
        }
    }

    /// The probability that a response has a comment, after a bad trip or not.
    pub fn comment_rate(&self, world: &Spec, bad: bool) -> f64 {
        self.rate(world.survey.comment_rate, bad)
    }

    /// The probability that an answer about a touchpoint has a comment, after a bad visit
    /// there or not.
    pub fn touchpoint_rate(&self, bad: bool) -> f64 {
        match self.spec.touchpoint_rate > 0.0 {
            true => self.rate(self.spec.touchpoint_rate, bad),
            false => 0.0,
        }
    }

    fn rate(&self, rate: f64, bad: bool) -> f64 {
        match bad {
            true => rate.max(self.spec.bad_trip_rate),
            false => rate,
        }
    }

    /// The language of a customer of region `region` (by index), drawn from `rng` when
    /// the region has several.
    pub fn language(&self, region: usize, rng: &mut Rng) -> &'a str {
        let (codes, shares) = &self.region_languages[region];
        match codes.len() {
            1 => codes[0],
            _ => codes[rng.weighted(shares)],
        }
    }

    /// A comment in `language` on a trip with these experiences and NPS answer.
    pub fn write(
        &self,
        rng: &mut Rng,
        language: &str,
        nps: f64,
        experiences: &[Experience],
    ) -> Written {
        self.compose(rng, language, nps >= 9.0, experiences, None)
    }

    /// A comment in `language` on the answer about one touchpoint's visit, `praise` when
    /// the answer is the best; none when there is nothing to say about the touchpoint (no
    /// complaint, and no praise of a topic about it).
    pub fn write_at(
        &self,
        rng: &mut Rng,
        language: &str,
        praise: bool,
        visit: Experience,
    ) -> Option<Written> {
        let tp = visit.touchpoint;
        let complaint = self.complained(&[visit]).next().is_some();
        let praised = (0..self.spec.topics.len()).any(|t| {
            self.about[t].iter().any(|&(x, _)| x == tp)
                && !self.spec.topics[t].text[language].praise.is_empty()
        });
        (complaint || praise && praised)
            .then(|| self.compose(rng, language, praise, &[visit], Some(tp)))
    }

    /// The topics complained about after `experiences`: those about one of them.
    fn complained<'e>(&'e self, experiences: &'e [Experience]) -> impl Iterator<Item = usize> + 'e {
        (0..self.spec.topics.len()).filter(move |&t| {
            experiences.iter().any(|x| {
                self.about[t].iter().any(|&(tp, event)| {
                    x.touchpoint == tp
                        && match event {
                            Event::Failed => x.failed,
                            Event::LongWait => x.long_wait,
                        }
                })
            })
        })
    }

    /// A comment about `experiences`, praising when `praise` and nothing went wrong; about
    /// the whole trip (mixed feelings and remarks on other topics possible), or about
    /// touchpoint `at` only (the topics it praises are about it).
    fn compose(
        &self,
        rng: &mut Rng,
        language: &str,
        praise: bool,
        experiences: &[Experience],
        at: Option<usize>,
    ) -> Written {
        let texts = &self.spec.languages[language];
        let topic_text = |t: usize| &self.spec.topics[t].text[language];
        let complained: Vec<usize> = self.complained(experiences).collect();
        let mut topics = Vec::new();
        let mut sentences = Vec::new();
        let concerns = |t: usize| at.is_none_or(|tp| self.about[t].iter().any(|&(x, _)| x == tp));
        let praised = |rng: &mut Rng, except: Option<usize>| {
            let options: Vec<usize> = (0..self.spec.topics.len())
                .filter(|&t| Some(t) != except && !topic_text(t).praise.is_empty())
                .filter(|&t| concerns(t))
                .collect();
            (!options.is_empty()).then(|| options[pick(rng, options.len())])
        };
        if let Some(&main) = complained.get(pick(rng, complained.len().max(1))) {
            let complaint = draw(rng, &topic_text(main).complaints, texts);
            topics.push(main);
            let mixed = |rng: &mut Rng| at.is_none() && rng.bernoulli(self.spec.mixed_rate);
            match praised(rng, Some(main)).filter(|_| mixed(rng)) {
                Some(p) => {
                    let praise = draw(rng, &topic_text(p).praise, texts);
                    topics.push(p);
                    sentences.push(format!("{praise} {} {complaint}", texts.but));
                }
                None => sentences.push(complaint),
            }
        } else if praise {
            // About a touchpoint, always a topic's praise (there is one: `write_at`).
            match praised(rng, None).filter(|_| at.is_some() || rng.bernoulli(0.5)) {
                Some(p) => {
                    sentences.push(draw(rng, &topic_text(p).praise, texts));
                    topics.push(p);
                }
                None => sentences.push(draw(rng, &texts.praise, texts)),
            }
        } else {
            sentences.push(draw(rng, &texts.neutral, texts));
        }
        for (t, topic) in self.spec.topics.iter().enumerate() {
            let remarked = at.is_none() && topic.chance > 0.0 && !topics.contains(&t);
            if remarked && rng.bernoulli(topic.chance) {
                sentences.push(draw(rng, &topic_text(t).complaints, texts));
                topics.push(t);
            }
        }
        let mut personal = None;
        if !texts.personal.is_empty() && rng.bernoulli(self.spec.personal_rate) {
            let template = one(rng, &texts.personal);
            let data = match names(template).find(|n| PERSONAL.contains(n)) {
                Some("email_address") => email(rng),
                Some("phone_number") => phone(rng),
                _ => card(rng),
            };
            let filled = fill(rng, template, texts);
            sentences.push(
                PERSONAL
                    .iter()
                    .fold(filled, |s, p| s.replace(&format!("{{{p}}}"), &data)),
            );
            personal = Some(data);
        }
        let mut text = sentences
            .iter()
            .map(|s| sentence(s))
            .collect::<Vec<_>>()
            .join(" ");
        if rng.bernoulli(self.spec.typo_rate) {
            text = typo(rng, &text, personal.as_deref());
        }
        if rng.bernoulli(self.spec.casing_rate) {
            text = if rng.bernoulli(0.1) {
                text.to_uppercase()
            } else {
                text.to_lowercase()
            };
        }
        topics.sort_unstable();
        Written {
            text,
            language: language.to_string(),
            topics,
            personal,
        }
    }
}

/// An index below `n` (0 when `n` is 0).
fn pick(rng: &mut Rng, n: usize) -> usize {
    rng.below(n.max(1) as u64) as usize
}

fn one<'s>(rng: &mut Rng, list: &'s [String]) -> &'s str {
    &list[pick(rng, list.len())]
}

/// One of `list`'s templates, filled.
fn draw(rng: &mut Rng, list: &[String], texts: &LanguageTexts) -> String {
    let template = one(rng, list);
    fill(rng, template, texts)
}

/// The template with each `{word}` a synonym of it (personal data placeholders kept).
fn fill(rng: &mut Rng, template: &str, texts: &LanguageTexts) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        out.push_str(&rest[..open]);
        let name = &rest[open + 1..open + close];
        match texts.words.get(name) {
            Some(words) if !words.is_empty() => out.push_str(one(rng, words)),
            _ => out.push_str(&rest[open..=open + close]),
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// A sentence: its first letter in capitals, ending in a stop when it has no ending.
fn sentence(text: &str) -> String {
    let text = text.trim();
    let mut chars = text.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// Two neighbouring letters of one word of four or more letters swapped (not inside the
/// personal data).
fn typo(rng: &mut Rng, text: &str, personal: Option<&str>) -> String {
    let words: Vec<(usize, &str)> = text
        .split(' ')
        .scan(0, |at, w| {
            let start = *at;
            *at += w.len() + 1;
            Some((start, w))
        })
        .filter(|(_, w)| {
            w.chars().count() >= 4
                && w.chars().all(char::is_alphabetic)
                && personal.is_none_or(|p| !p.contains(w))
        })
        .collect();
    if words.is_empty() {
        return text.to_string();
    }
    let (start, word) = words[pick(rng, words.len())];
    let mut chars: Vec<char> = word.chars().collect();
    let i = 1 + pick(rng, chars.len() - 2);
    chars.swap(i, i + 1);
    let swapped: String = chars.into_iter().collect();
    format!("{}{swapped}{}", &text[..start], &text[start + word.len()..])
}

fn digits(rng: &mut Rng, n: usize) -> Vec<u32> {
    (0..n).map(|_| rng.below(10) as u32).collect()
}

fn email(rng: &mut Rng) -> String {
    const NAMES: [&str; 6] = ["anna", "lars", "jonas", "maria", "erik", "sofie"];
    let name = NAMES[pick(rng, NAMES.len())];
    format!("{name}.{}@example.com", 10 + rng.below(90))
}

/// A mobile number, `+46 70 123 45 67`.
fn phone(rng: &mut Rng) -> String {
    let d: String = digits(rng, 7).iter().map(|d| d.to_string()).collect();
    format!("+46 70 {} {} {}", &d[..3], &d[3..5], &d[5..])
}

/// A 16-digit card number passing the Luhn check, in groups of four.
fn card(rng: &mut Rng) -> String {
    let mut d = vec![4];
    d.extend(digits(rng, 14));
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            if i % 2 == 0 {
                (2 * x) % 9 + 9 * u32::from(x == 9)
            } else {
                x
            }
        })
        .sum();
    d.push((10 - sum % 10) % 10);
    let s: String = d.iter().map(|x| x.to_string()).collect();
    format!("{} {} {} {}", &s[..4], &s[4..8], &s[8..12], &s[12..])
}
