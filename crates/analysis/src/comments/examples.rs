//! Example comments: the latest commented answers that meet a filter — a topic of the
//! taxonomy, a tone of sentiment, one side of a comparison of groups (satisfied
//! defectors, say) — with their text redacted as the pipeline redacts it. Rows are read
//! newest first and batch by batch until enough are found.

use chrono::NaiveDate;
use datafusion::prelude::col;
use serde::Serialize;

use cxray_core::comments::{Comment, Side, Taxonomy};
use cxray_store::Result;
use cxray_store::decode::Columns;
use cxray_store::sql::Sql;

use futures::StreamExt;

use super::{Answer, Compared, Groups, answered};
use crate::loyalty::epoch_date;
use cxray_core::stats::Instrument;

/// The most examples one request may ask for.
pub const MOST: usize = 100;

/// A tone of sentiment: VADER's compound score at least 0.05, between, at most −0.05
/// (its authors' thresholds). Only English comments have one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    Positive,
    Neutral,
    Negative,
}

impl Tone {
    pub const ALL: [Tone; 3] = [Tone::Positive, Tone::Neutral, Tone::Negative];

    /// The name the API takes.
    pub fn name(self) -> &'static str {
        match self {
            Tone::Positive => "positive",
            Tone::Neutral => "neutral",
            Tone::Negative => "negative",
        }
    }

    /// The tone's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Tone::Positive => "Positive",
            Tone::Neutral => "Neutral",
            Tone::Negative => "Negative",
        }
    }

    /// The tone of a compound score.
    pub fn of(score: f64) -> Tone {
        if score >= 0.05 {
            Tone::Positive
        } else if score <= -0.05 {
            Tone::Negative
        } else {
            Tone::Neutral
        }
    }
}

/// Which examples: those mentioning a topic (its index in the taxonomy), of a tone, of
/// one side of a comparison; at most `limit` (up to [`MOST`]).
#[derive(Debug, Clone)]
pub struct ExampleFilter<'a> {
    pub taxonomy: &'a Taxonomy,
    pub topic: Option<usize>,
    pub tone: Option<Tone>,
    pub group: Option<(&'a Groups, Side)>,
    pub limit: usize,
}

/// One comment as shown: who wrote it when, about what, the redacted text, its language,
/// sentiment and topics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Example {
    pub customer_id: String,
    pub day: NaiveDate,
    /// The touchpoint the answer is about (none for the whole trip).
    pub touchpoint: Option<String>,
    pub instrument: Option<Instrument>,
    pub score: Option<f64>,
    /// Redacted: e-mail addresses, card and phone numbers replaced by tags.
    pub text: String,
    /// ISO 639-1 code, none when not recognised.
    pub language: Option<&'static str>,
    /// VADER's compound score (English only).
    pub sentiment: Option<f64>,
    pub topics: Vec<String>,
}

/// The latest commented answers that meet `filter`, newest first.
pub async fn examples(sql: &Sql, filter: &ExampleFilter<'_>) -> Result<Vec<Example>> {
    let any = Groups::Answers(Compared::Promoters, 0);
    let groups = filter.group.map_or(&any, |(g, _)| g);
    let df = answered(sql, groups).await?.sort(vec![
        col("day").sort(false, true),
        col("customer_id").sort(true, true),
    ])?;
    let limit = filter.limit.min(MOST);
    let mut found = Vec::new();
    if limit == 0 {
        return Ok(found);
    }
    let mut stream = df.execute_stream().await?;
    while let Some(batch) = stream.next().await {
        let b = &batch?;
        let c = Columns::new(b);
        let (customer, day, instrument) =
            (c.text("customer_id")?, c.int("day")?, c.text("instrument")?);
        let (score, touchpoint) = (c.float("score")?, c.text("touchpoint")?);
        let (bought, comment) = (c.int("bought")?, c.text("comment")?);
        for r in 0..c.rows() {
            let instrument = Instrument::ALL
                .into_iter()
                .find(|i| Some(i.name()) == instrument.str(r));
            if let Some((groups, side)) = filter.group {
                let answer = Answer {
                    instrument,
                    score: score.f64(r).unwrap_or(f64::NAN),
                    touchpoint: touchpoint.str(r),
                    bought: bought.i64(r).map(|b| b != 0),
                };
                if answer.side(groups) != Some(side) {
                    continue;
                }
            }
            let (Some(text), Some(id), Some(d)) = (comment.str(r), customer.str(r), day.i64(r))
            else {
                continue;
            };
            let written = Comment::new(text);
            let sentiment = written.sentiment();
            if filter.tone.is_some() && sentiment.map(Tone::of) != filter.tone {
                continue;
            }
            let mentions = filter.taxonomy.mentions(&written);
            if filter.topic.is_some_and(|t| !mentions.contains(t)) {
                continue;
            }
            found.push(Example {
                customer_id: id.to_string(),
                day: epoch_date(d),
                touchpoint: touchpoint
                    .str(r)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string),
                instrument,
                score: score.f64(r),
                text: written.text.to_string(),
                language: written.language.map(|l| l.code()),
                sentiment,
                topics: filter
                    .taxonomy
                    .names(&mentions)
                    .into_iter()
                    .map(str::to_string)
                    .collect(),
            });
            if found.len() >= limit {
                return Ok(found);
            }
        }
    }
    Ok(found)
}
