//! The taxonomy's topics in the comments: per topic the comments that mention it (or a
//! topic below it), its share of the comments, and the NPS of the answers whose comment
//! mentions it against the others'; and topics discovered among a sample of the comments
//! the taxonomy misses, each with the snippet that promotes it into the taxonomy. Rows are
//! read batch by batch: memory grows with the taxonomy and the sample, not the comments.

use datafusion::arrow::datatypes::DataType;
use datafusion::functions::expr_fn::date_trunc;
use datafusion::prelude::{DataFrame, cast, col, ident, lit, when};
use datafusion::scalar::ScalarValue;
use serde::Serialize;
use std::collections::BTreeMap;

use cxray_core::comments::{
    Comment, DiscoverSettings, Discovered, Sample, Taxonomy, TopicNps, TopicTally,
};
use cxray_core::stats::{Difference, Estimate, Settings};
use cxray_store::decode::Columns;
use cxray_store::sql::Sql;
use cxray_store::{Result, StoreError};

use super::{Merge, commented, each_batch, in_parts};

/// The most comments the taxonomy missed that discovery looks at: a sample the same
/// whatever the order the rows come in.
pub const SAMPLE: usize = 5_000;

/// Topics counted and discovered.
#[derive(Debug, Clone, Serialize)]
pub struct TopicsReport {
    pub comments: u64,
    /// Comments that mention no topic of the taxonomy.
    pub unmatched: u64,
    /// The last period with comments and the one before it, whose shares `change`
    /// compares (months of the answers; a query's `period` values).
    pub periods: Option<(String, String)>,
    pub topics: Vec<TopicRow>,
    /// Topics among a sample of the unmatched comments, when asked for.
    pub discovered: Option<DiscoveredTopics>,
}

/// One topic of the taxonomy in the comments.
#[derive(Debug, Clone, Serialize)]
pub struct TopicRow {
    pub topic: String,
    pub comments: u64,
    /// Of all comments, a fraction with its Wilson interval.
    pub share: Option<Estimate>,
    /// Its share in the last period minus the period before, percentage points.
    pub change: Option<Difference>,
    #[serde(flatten)]
    pub nps: TopicNps,
}

/// Discovered topics, each with the TOML table that adds it to the taxonomy.
#[derive(Debug, Clone, Serialize)]
pub struct DiscoveredTopics {
    #[serde(flatten)]
    pub discovered: Discovered,
    pub promotions: Vec<String>,
}

/// The tally and the sample of one part of the rows.
#[derive(Debug, Clone)]
struct Counted {
    tally: TopicTally,
    by_period: BTreeMap<String, TopicTally>,
    sample: Sample,
}

impl Default for Counted {
    fn default() -> Self {
        Counted {
            tally: TopicTally::default(),
            by_period: BTreeMap::new(),
            sample: Sample::new(SAMPLE, 1),
        }
    }
}

impl Merge for Counted {
    fn absorb(&mut self, other: Self) {
        self.tally.merge(&other.tally);
        for (period, tally) in other.by_period {
            self.by_period.entry(period).or_default().merge(&tally);
        }
        self.sample.merge(other.sample);
    }
}

/// The topics of the responses' comments, the NPS answers' scores beside them; with
/// `discover`, topics among the comments the taxonomy misses.
pub async fn topics(
    sql: &Sql,
    taxonomy: &Taxonomy,
    discover: Option<&DiscoverSettings>,
    s: &Settings,
) -> Result<TopicsReport> {
    let responses = sql.context().table("responses").await?;
    let nps = when(
        ident("instrument").eq(lit("nps")),
        cast(ident("score"), DataType::Float64),
    )
    .end()?;
    let month = cast(date_trunc(lit("month"), col("at")), DataType::Date32);
    let period = cast(month, DataType::Utf8).alias("period");
    let df = commented(responses)?.select(vec![ident("comment"), nps.alias("nps"), period])?;
    topics_of(df, taxonomy, discover, s).await
}

/// The topics of a query's `comment` column, with its `nps` column (0–10) and its `period`
/// column (any values, ordered as text) if it has them.
pub async fn topics_sql(
    sql: &Sql,
    query: &str,
    taxonomy: &Taxonomy,
    discover: Option<&DiscoverSettings>,
    s: &Settings,
) -> Result<TopicsReport> {
    let df = sql.context().sql(query).await?;
    let schema = df.schema();
    if !schema.has_column_with_unqualified_name("comment") {
        return Err(StoreError::Input(
            "the query needs a column named comment".into(),
        ));
    }
    let nps = match schema.has_column_with_unqualified_name("nps") {
        true => cast(ident("nps"), DataType::Float64),
        false => lit(ScalarValue::Float64(None)),
    };
    let period = match schema.has_column_with_unqualified_name("period") {
        true => cast(ident("period"), DataType::Utf8),
        false => lit(ScalarValue::Utf8(None)),
    };
    let df = df.select(vec![
        ident("comment"),
        nps.alias("nps"),
        period.alias("period"),
    ])?;
    topics_of(df, taxonomy, discover, s).await
}

async fn topics_of(
    df: DataFrame,
    taxonomy: &Taxonomy,
    discover: Option<&DiscoverSettings>,
    s: &Settings,
) -> Result<TopicsReport> {
    let mut all = Counted::default();
    each_batch(df, |b| {
        let c = Columns::new(b);
        let (comment, nps, period) = (c.text("comment")?, c.float("nps")?, c.text("period")?);
        let part = in_parts(c.rows(), |rows, counted: &mut Counted| {
            for r in rows {
                let Some(text) = comment.str(r) else { continue };
                let comment = Comment::new(text);
                let topics = taxonomy.mentions(&comment);
                let score = nps
                    .f64(r)
                    .filter(|v| (0.0..=10.0).contains(v))
                    .map(|v| v as u8);
                // A score outside 0–10 is counted without its answer.
                let _ = counted.tally.add(&topics, score);
                if let Some(p) = period.str(r) {
                    let _ = counted
                        .by_period
                        .entry(p.to_string())
                        .or_default()
                        .add(&topics, score);
                }
                if topics.is_empty() {
                    counted.sample.add(id(text), &comment);
                }
            }
        });
        all.absorb(part);
        Ok(())
    })
    .await?;
    let mut last_two = all.by_period.iter().rev().take(2);
    let (last, before) = (last_two.next(), last_two.next());
    let rows = (0..taxonomy.topics().len())
        .map(|t| {
            let change = match (last, before) {
                (Some((_, now)), Some((_, then))) => now.share_change(then, t, s)?,
                _ => None,
            };
            Ok(TopicRow {
                topic: taxonomy.topics()[t].name.clone(),
                comments: all.tally.topic(t).comments,
                share: all.tally.share(t, s),
                change,
                nps: all.tally.nps(t, s)?,
            })
        })
        .collect::<std::result::Result<Vec<_>, cxray_core::stats::StatsError>>()
        .map_err(StoreError::analysis)?;
    let discovered = discover
        .map(|settings| discovered(&all.sample, settings))
        .transpose()?;
    Ok(TopicsReport {
        comments: all.tally.comments(),
        unmatched: all.tally.unmatched(),
        periods: last
            .zip(before)
            .map(|((l, _), (b, _))| (l.clone(), b.clone())),
        topics: rows,
        discovered,
    })
}

/// A comment's sampling id: from its text, so the sample does not depend on row order.
fn id(text: &str) -> u64 {
    let hash = blake3::hash(text.as_bytes());
    u64::from_le_bytes(hash.as_bytes()[..8].try_into().expect("8 bytes"))
}

fn discovered(sample: &Sample, settings: &DiscoverSettings) -> Result<DiscoveredTopics> {
    let found = cxray_core::comments::discover(sample, settings)
        .map_err(|e| StoreError::NoData(e.to_string()))?;
    let promotions = found
        .topics
        .iter()
        .enumerate()
        .map(|(i, t)| t.promotion(&format!("discovered {}", i + 1), settings.terms))
        .collect();
    Ok(DiscoveredTopics {
        discovered: found,
        promotions,
    })
}
