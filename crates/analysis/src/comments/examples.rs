//! Example comments: the latest commented answers (of the session, narrowed by
//! [`super::narrowed`] to a topic or tone) that meet a filter — one side of a comparison
//! of groups (satisfied defectors, say) — with their text redacted as the pipeline
//! redacts it. Rows are read newest first and batch by batch until enough are found.

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

/// Which examples: those of one side of a comparison, or all; at most `limit` (up to
/// [`MOST`]); each with its topics in `taxonomy`.
#[derive(Debug, Clone)]
pub struct ExampleFilter<'a> {
    pub taxonomy: &'a Taxonomy,
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
            let mentions = filter.taxonomy.mentions(&written);
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
