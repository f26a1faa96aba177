//! Sentiment of groups of comments: how many there are, how many could be scored, and
//! the mean compound score with its t interval.

use serde::Serialize;

use super::Comment;
use crate::stats::{Estimate, Running, Scale, Settings, StatsError, mean};

/// Comments of one group, summarised as they come.
#[derive(Debug, Clone, Copy, Default)]
pub struct SentimentTally {
    comments: u64,
    /// In a language without a sentiment lexicon, or of no language recognised.
    other_language: u64,
    unknown_language: u64,
    scores: Running,
}

/// The sentiment of a group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sentiment {
    pub comments: u64,
    pub scored: u64,
    /// Not scored: in a language without a lexicon, or of no language recognised.
    pub other_language: u64,
    pub unknown_language: u64,
    /// The mean compound score (−1…1) with its interval; none when nothing was scored.
    pub mean: Option<Estimate>,
}

impl SentimentTally {
    pub fn add(&mut self, c: &Comment) {
        self.comments += 1;
        match (c.language, c.sentiment()) {
            (_, Some(score)) => self.scores.push(score),
            (None, None) => self.unknown_language += 1,
            (Some(_), None) => self.other_language += 1,
        }
    }

    pub fn merge(&mut self, o: &SentimentTally) {
        self.comments += o.comments;
        self.other_language += o.other_language;
        self.unknown_language += o.unknown_language;
        self.scores.merge(&o.scores);
    }

    pub fn sentiment(&self, s: &Settings) -> Result<Sentiment, StatsError> {
        let summary = self.scores.summary();
        let mean = match mean(&summary, Scale::Sentiment, s) {
            Err(StatsError::NoData) => None,
            m => Some(m?),
        };
        Ok(Sentiment {
            comments: self.comments,
            scored: summary.n,
            other_language: self.other_language,
            unknown_language: self.unknown_language,
            mean,
        })
    }
}
