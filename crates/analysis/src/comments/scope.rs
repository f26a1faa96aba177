//! Which comments an analysis reads: a session whose `responses` are narrowed to answers
//! about some touchpoints (an owner's, or one chosen), to a band of scores and to comments
//! that mention a topic or have a tone, so that [`super::sentiment`], [`super::terms`],
//! [`super::topics`] and [`super::examples`] run unchanged on the narrower set. Touchpoints
//! and band enter the plan as literals; a topic or tone is judged on each comment's text,
//! so the commented answers that meet it are read once and kept in memory.

use std::collections::BTreeSet;
use std::sync::Arc;

use datafusion::arrow::array::BooleanArray;
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::DataType;
use datafusion::datasource::MemTable;
use datafusion::prelude::{Expr, cast, ident, lit};
use futures::StreamExt;
use serde::Serialize;

use cxray_core::comments::{Comment, Taxonomy};
use cxray_core::domain::Table;
use cxray_store::Result;
use cxray_store::decode::Columns;
use cxray_store::sql::Sql;

use super::{Merge, commented, in_parts};

/// A band of scores: the NPS groups of the answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// NPS 9–10.
    Promoters,
    /// NPS 7–8.
    Passives,
    /// NPS 0–6.
    Detractors,
}

impl Band {
    pub const ALL: [Band; 3] = [Band::Promoters, Band::Passives, Band::Detractors];

    /// The name the API takes.
    pub fn name(self) -> &'static str {
        match self {
            Band::Promoters => "promoters",
            Band::Passives => "passives",
            Band::Detractors => "detractors",
        }
    }

    /// The band's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Band::Promoters => "Promoters (NPS 9–10)",
            Band::Passives => "Passives (NPS 7–8)",
            Band::Detractors => "Detractors (NPS 0–6)",
        }
    }

    /// Its lowest and highest NPS score.
    fn scores(self) -> (f64, f64) {
        match self {
            Band::Promoters => (9.0, 10.0),
            Band::Passives => (7.0, 8.0),
            Band::Detractors => (0.0, 6.0),
        }
    }
}

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

/// The comments an analysis reads: of every touchpoint (none listed) or of those listed
/// only (an answer about no touchpoint then is left out), of any score or of one band,
/// mentioning a topic of the taxonomy (its index) or any, of a tone or any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CommentScope {
    pub touchpoints: Option<BTreeSet<String>>,
    pub band: Option<Band>,
    pub topic: Option<usize>,
    pub tone: Option<Tone>,
}

impl CommentScope {
    /// Whether the scope reads every comment.
    pub fn is_all(&self) -> bool {
        *self == CommentScope::default()
    }

    /// Whether a comment's text meets the topic and tone.
    fn meets(&self, comment: &Comment, taxonomy: &Taxonomy) -> bool {
        self.tone
            .is_none_or(|t| comment.sentiment().map(Tone::of) == Some(t))
            && self
                .topic
                .is_none_or(|t| taxonomy.mentions(comment).contains(t))
    }

    fn predicate(&self) -> Option<Expr> {
        let touchpoints = self.touchpoints.as_ref().map(|tps| match tps.is_empty() {
            true => lit(false),
            false => ident("touchpoint").in_list(tps.iter().map(lit).collect(), false),
        });
        let band = self.band.map(|b| {
            let (low, high) = b.scores();
            let score = cast(ident("score"), DataType::Float64);
            ident("instrument")
                .eq(lit("nps"))
                .and(score.clone().gt_eq(lit(low)))
                .and(score.lt_eq(lit(high)))
        });
        [touchpoints, band].into_iter().flatten().reduce(Expr::and)
    }
}

/// A private copy of the session whose `responses` hold only the scope's answers (the
/// session itself when the scope reads every comment); topics by `taxonomy`. With a topic
/// or tone, only the commented answers that meet it, held in memory.
pub async fn narrowed(sql: &Sql, scope: &CommentScope, taxonomy: &Taxonomy) -> Result<Option<Sql>> {
    if scope.is_all() {
        return Ok(None);
    }
    let name = Table::Responses.name();
    let mut responses = sql.context().table(name).await?;
    if let Some(predicate) = scope.predicate() {
        responses = responses.filter(predicate)?;
    }
    if scope.topic.is_none() && scope.tone.is_none() {
        return Ok(Some(sql.with_table(name, responses.into_view()).await?));
    }
    let responses = commented(responses)?;
    let schema = Arc::new(responses.schema().as_arrow().clone());
    let mut kept = Vec::new();
    let mut stream = responses.execute_stream().await?;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let comment = Columns::new(&batch).text("comment")?;
        let Mask(mask) = in_parts(batch.num_rows(), |rows, mask: &mut Mask| {
            for r in rows {
                let text = comment.str(r).unwrap_or_default();
                mask.0.push(scope.meets(&Comment::new(text), taxonomy));
            }
        });
        kept.push(filter_record_batch(&batch, &BooleanArray::from(mask))?);
    }
    let table = MemTable::try_new(schema, vec![kept])?;
    Ok(Some(sql.with_table(name, Arc::new(table)).await?))
}

/// Which rows of a batch are kept, in row order (parts absorbed in order).
#[derive(Default)]
struct Mask(Vec<bool>);

impl Merge for Mask {
    fn absorb(&mut self, other: Self) {
        self.0.extend(other.0);
    }
}
