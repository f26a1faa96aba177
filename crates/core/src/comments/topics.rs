//! Comments counted by the taxonomy's topics as they come: per topic the comments that
//! mention it and their NPS answers. A tally is as large as the taxonomy, whatever the
//! number of comments, and tallies of batches merge into the tally of all of them. From a
//! tally: a topic's share of comments, its change from the period before, and the NPS of
//! comments with and without it.

use serde::Serialize;

use super::TopicSet;
use crate::stats::{
    Difference, Estimate, NpsCounts, Proportion, Settings, StatsError, nps, nps_difference,
    proportion_difference, share,
};

/// The comments that mention one topic (or its subtopics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TopicCount {
    pub comments: u64,
    /// The NPS answers of those comments that came with one.
    pub nps: NpsCounts,
}

/// The NPS (−100…100) of the comments that mention a topic and of the other comments with
/// an NPS answer, and the difference with − without; each none when a side has no answers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TopicNps {
    pub with: Option<Estimate>,
    pub without: Option<Estimate>,
    pub difference: Option<Difference>,
}

/// Comments counted by topic: [`TopicTally::add`] each comment's topics, [`TopicTally::merge`]
/// the tallies of batches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TopicTally {
    comments: u64,
    /// Comments that mention no topic.
    unmatched: u64,
    /// The NPS answers of all comments that came with one.
    nps: NpsCounts,
    /// By topic number.
    topics: Vec<TopicCount>,
}

impl TopicTally {
    /// Counts a comment that mentions `topics` ([`super::Taxonomy::mentions`]), with its
    /// NPS answer (0–10) if it has one; `InvalidScore` (nothing counted) for another score.
    pub fn add(&mut self, topics: &TopicSet, nps: Option<u8>) -> Result<(), StatsError> {
        let mut answer = NpsCounts::default();
        if let Some(score) = nps {
            answer.add(score)?;
        }
        self.comments += 1;
        self.unmatched += u64::from(topics.is_empty());
        self.nps.merge(&answer);
        if let Some(last) = topics.iter().last() {
            self.grow(last + 1);
        }
        for t in topics.iter() {
            let count = &mut self.topics[t];
            count.comments += 1;
            count.nps.merge(&answer);
        }
        Ok(())
    }

    /// Adds the tally of other comments.
    pub fn merge(&mut self, other: &TopicTally) {
        self.comments += other.comments;
        self.unmatched += other.unmatched;
        self.nps.merge(&other.nps);
        self.grow(other.topics.len());
        for (mine, theirs) in self.topics.iter_mut().zip(&other.topics) {
            mine.comments += theirs.comments;
            mine.nps.merge(&theirs.nps);
        }
    }

    fn grow(&mut self, topics: usize) {
        if self.topics.len() < topics {
            self.topics.resize(topics, TopicCount::default());
        }
    }

    /// The comments counted.
    pub fn comments(&self) -> u64 {
        self.comments
    }

    /// The comments that mention no topic.
    pub fn unmatched(&self) -> u64 {
        self.unmatched
    }

    /// The NPS answers of all comments that came with one.
    pub fn nps_counts(&self) -> NpsCounts {
        self.nps
    }

    /// The comments that mention topic `t` (none counted yet is zero).
    pub fn topic(&self, t: usize) -> TopicCount {
        self.topics.get(t).copied().unwrap_or_default()
    }

    /// The share (0…1) of the comments that mention topic `t`, with its Wilson interval;
    /// none before any comment is counted.
    pub fn share(&self, t: usize, s: &Settings) -> Option<Estimate> {
        share(self.topic(t).comments, self.comments, s)
    }

    /// The change of topic `t`'s share of comments from an `earlier` tally (the period
    /// before) to this one, in percentage points with Newcombe's interval
    /// ([`proportion_difference`]); none when either tally has no comments.
    pub fn share_change(
        &self,
        earlier: &TopicTally,
        t: usize,
        s: &Settings,
    ) -> Result<Option<Difference>, StatsError> {
        let share = |tally: &TopicTally| Proportion {
            successes: tally.topic(t).comments,
            n: tally.comments,
        };
        known(proportion_difference(share(self), share(earlier), s))
    }

    /// The NPS of the comments that mention topic `t` against the others' (all comments'
    /// answers less the topic's), by [`nps`] and [`nps_difference`]: each group's NPS with
    /// its adjusted-Wald interval (Rocks 2016): n' = n + 3, p' = (promoters + ¾)/n',
    /// d' = (detractors + ¾)/n', Var = (p' + d' − (p' − d')²)/n'; the difference's interval
    /// (p' − d')_with − (p' − d')_without ± z √(Var_with + Var_without), the groups being
    /// independent (a comment is in one of them), in points (× 100), with a z-test's
    /// p-value. Errors only for invalid settings.
    pub fn nps(&self, t: usize, s: &Settings) -> Result<TopicNps, StatsError> {
        let with = self.topic(t).nps;
        let all = self.nps;
        let without = NpsCounts {
            promoters: all.promoters - with.promoters,
            passives: all.passives - with.passives,
            detractors: all.detractors - with.detractors,
        };
        Ok(TopicNps {
            with: known(nps(&with, s))?,
            without: known(nps(&without, s))?,
            difference: known(nps_difference(&with, &without, s))?,
        })
    }
}

/// A figure, none when there are no data to compute it from.
fn known<T>(figure: Result<T, StatsError>) -> Result<Option<T>, StatsError> {
    match figure {
        Err(StatsError::NoData) => Ok(None),
        f => f.map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comments::{Comment, Taxonomy};

    const TAXONOMY: &str = r#"
[[topic]]
name = "baggage > delayed"
terms = ["bag delayed"]

[[topic]]
name = "baggage > lost"
terms = ["lost bag"]

[[topic]]
name = "crew"
terms = ["crew", "staff"]
"#;

    const COMMENTS: [(&str, Option<u8>); 6] = [
        ("My bag was delayed by two hours at the airport.", Some(2)),
        (
            "They lost my bag and the staff did not care at all.",
            Some(0),
        ),
        (
            "The crew were wonderful and the seats comfortable.",
            Some(10),
        ),
        (
            "Lovely flight, on time, nothing to complain about.",
            Some(9),
        ),
        ("The bag was delayed again, but the crew apologised.", None),
        ("Everything was fine with the whole journey today.", Some(7)),
    ];

    fn tally(comments: &[(&str, Option<u8>)], t: &Taxonomy) -> TopicTally {
        let mut tally = TopicTally::default();
        for &(text, nps) in comments {
            tally.add(&t.mentions(&Comment::new(text)), nps).unwrap();
        }
        tally
    }

    #[test]
    fn counts_topics_with_their_parents_and_nps_answers() {
        let t = Taxonomy::parse(TAXONOMY).unwrap();
        let all = tally(&COMMENTS, &t);
        let [baggage, delayed, lost, crew] =
            ["baggage", "baggage > delayed", "baggage > lost", "crew"]
                .map(|name| all.topic(t.find(name).unwrap()));
        assert_eq!((all.comments(), all.unmatched()), (6, 2));
        assert_eq!(
            [
                baggage.comments,
                delayed.comments,
                lost.comments,
                crew.comments
            ],
            [3, 2, 1, 3]
        );
        let nps = |p, q, d| NpsCounts {
            promoters: p,
            passives: q,
            detractors: d,
        };
        assert_eq!(baggage.nps, nps(0, 0, 2));
        assert_eq!(crew.nps, nps(1, 0, 1));
        assert_eq!(all.nps_counts(), nps(2, 1, 2));
        let share = all.share(t.find("crew").unwrap(), &Settings::default());
        assert_eq!(share.map(|s| s.value), Some(0.5));
        assert_eq!(all.topic(99), TopicCount::default());
    }

    #[test]
    fn batches_merge_into_the_tally_of_all_and_bad_scores_count_nothing() {
        let t = Taxonomy::parse(TAXONOMY).unwrap();
        let mut merged = TopicTally::default();
        for batch in COMMENTS.chunks(4).rev() {
            merged.merge(&tally(batch, &t));
        }
        assert_eq!(merged, tally(&COMMENTS, &t));
        let before = merged.clone();
        assert!(merged.add(&TopicSet::new(vec![0]), Some(11)).is_err());
        assert_eq!(merged, before);
    }

    #[test]
    fn nps_with_and_without_a_topic_from_the_tally() {
        // Topic 0: 6 promoters, 2 passives, 2 detractors; the others: 2, 2, 6 (the hand
        // example of stats::compare: 40 against −40, difference 80, 0.2255 … 122.8514).
        let mut tally = TopicTally::default();
        let topic = TopicSet::new(vec![0]);
        for (set, scores) in [
            (&topic, [10, 9, 9, 10, 9, 10, 8, 7, 3, 0]),
            (&TopicSet::default(), [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]),
        ] {
            for score in scores {
                tally.add(set, Some(score)).unwrap();
            }
        }
        tally.add(&topic, None).unwrap();
        let s = Settings::default();
        let n = tally.nps(0, &s).unwrap();
        let (with, without, d) = (n.with.unwrap(), n.without.unwrap(), n.difference.unwrap());
        assert_eq!(
            (with.n, with.value, without.n, without.value),
            (10, 40.0, 10, -40.0)
        );
        assert!((d.value - 80.0).abs() < 1e-12 && (d.n_a, d.n_b) == (10, 10));
        assert!((d.low.unwrap() - 0.2255).abs() < 1e-3, "{d:?}");
        assert!((d.high.unwrap() - 122.8514).abs() < 1e-3, "{d:?}");
        let unmentioned = tally.nps(5, &s).unwrap();
        assert_eq!((unmentioned.with, unmentioned.difference), (None, None));
        assert_eq!(unmentioned.without.map(|e| e.n), Some(20));
    }

    #[test]
    fn share_change_from_the_period_before() {
        // 56 of 70 comments against 48 of 80: Newcombe's example, 20 points, 5.24 … 33.39.
        let tally = |mentions: u64, n: u64| {
            let mut t = TopicTally::default();
            for i in 0..n {
                let set = TopicSet::new(if i < mentions { vec![0] } else { vec![] });
                t.add(&set, None).unwrap();
            }
            t
        };
        let s = Settings::default();
        let d = tally(56, 70)
            .share_change(&tally(48, 80), 0, &s)
            .unwrap()
            .unwrap();
        assert!((d.value - 20.0).abs() < 1e-9, "{d:?}");
        assert!((d.low.unwrap() - 5.24).abs() < 0.01 && (d.high.unwrap() - 33.39).abs() < 0.01);
        assert_eq!(
            tally(1, 1).share_change(&TopicTally::default(), 0, &s),
            Ok(None)
        );
    }
}
