//! What customers write: the sentiment of the responses' comments per group, the terms
//! that distinguish two groups of them (promoters and detractors, defectors and stayers,
//! satisfied defectors and satisfied stayers as the link defines them, one touchpoint and
//! the rest), or the same over any query's `group` and `comment` columns; and their topics
//! ([`topics`]). Rows are read
//! batch by batch: memory grows with the groups and the vocabulary, not the comments.

use std::collections::BTreeMap;
use std::ops::Range;

use datafusion::arrow::array::RecordBatch;
use datafusion::prelude::{DataFrame, ident, lit};
use futures::StreamExt;
use serde::Serialize;

use cxray_core::comments::{Comment, Distinguishing, Sentiment, SentimentTally, Side, TermCounts};
use cxray_core::stats::{Instrument, Settings};
use cxray_store::decode::Columns;
use cxray_store::sql::{Sql, day_sql};
use cxray_store::{Result, StoreError};

use crate::loyalty::{epoch_day, last_purchase_date};
use crate::metrics::{group_expr, satisfied, view_frame};

mod examples;
mod scope;
mod topics;

pub use examples::{Example, ExampleFilter, MOST, examples};
pub use scope::{Band, CommentScope, Tone, narrowed};
pub use topics::{
    Concern, DiscoveredTopics, SAMPLE, TopicLeaving, TopicRow, TopicsReport, leaving, topics,
    topics_sql,
};

/// Sentiment overall and per group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SentimentReport {
    pub by: Option<String>,
    pub overall: Sentiment,
    pub groups: Vec<GroupSentiment>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupSentiment {
    pub group: Option<String>,
    #[serde(flatten)]
    pub sentiment: Sentiment,
}

/// The two groups whose comments' terms are compared.
#[derive(Debug, Clone, PartialEq)]
pub enum Groups {
    /// Respondents by what they said or did, defection in the window (days) after the answer.
    Answers(Compared, u32),
    /// Comments about one touchpoint against the rest.
    Touchpoint(String),
    /// A query's `group` column: its two values, the first in sort order as A.
    Query(String),
}

/// Groups of respondents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compared {
    /// NPS 9–10 against 0–6.
    Promoters,
    /// No purchase in the window after the answer against a purchase in it.
    Defectors,
    /// The same among the satisfied (NPS ≥ 7, CSAT ≥ 4, CES ≤ 4, grade ≥ C).
    SatisfiedDefectors,
}

/// How terms are chosen and shown.
#[derive(Debug, Clone, Copy)]
pub struct TermOptions {
    /// The prior's total as a multiple of all terms counted.
    pub prior: f64,
    pub min_count: u64,
    pub top: usize,
}

impl Default for TermOptions {
    fn default() -> Self {
        TermOptions {
            prior: 1.0,
            min_count: 5,
            top: 20,
        }
    }
}

/// The distinguishing terms with the groups' names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TermsReport {
    pub group_a: String,
    pub group_b: String,
    #[serde(flatten)]
    pub terms: Distinguishing,
}

/// The sentiment of the responses' comments, per value of `by` (a column of the responses
/// or customers, a touchpoint's journey, stage, owner or channel, or a time bucket).
pub async fn sentiment(sql: &Sql, by: Option<&str>, s: &Settings) -> Result<SentimentReport> {
    let mut columns = vec![ident("comment")];
    columns.extend(by.map(|b| group_expr(b).alias("group")));
    let df = commented(view_frame(sql, by).await?)?.select(columns)?;
    sentiment_of(df, by.map(str::to_string), s).await
}

/// The sentiment of a query's `comment` column, per value of its `group` column if it has
/// one.
pub async fn sentiment_sql(sql: &Sql, query: &str, s: &Settings) -> Result<SentimentReport> {
    let df = sql.context().sql(query).await?;
    if !df.schema().has_column_with_unqualified_name("comment") {
        return Err(StoreError::Input(
            "the query needs a column named comment".into(),
        ));
    }
    let by = df
        .schema()
        .has_column_with_unqualified_name("group")
        .then(|| "group".to_string());
    sentiment_of(df, by, s).await
}

async fn sentiment_of(df: DataFrame, by: Option<String>, s: &Settings) -> Result<SentimentReport> {
    let grouped = by.is_some();
    let mut tallies: Tallies = BTreeMap::new();
    each_batch(df, |b| {
        let c = Columns::new(b);
        let comment = c.text("comment")?;
        let group = if grouped {
            Some(c.text("group")?)
        } else {
            None
        };
        let part = in_parts(c.rows(), |rows, t: &mut Tallies| {
            for r in rows {
                let key = group.as_ref().and_then(|g| g.str(r).map(str::to_string));
                t.entry(key)
                    .or_default()
                    .add(&Comment::new(comment.str(r).unwrap_or_default()));
            }
        });
        tallies.absorb(part);
        Ok(())
    })
    .await?;
    let mut overall = SentimentTally::default();
    tallies.values().for_each(|t| overall.merge(t));
    let groups = if grouped {
        tallies
            .iter()
            .map(|(g, t)| {
                Ok(GroupSentiment {
                    group: g.clone(),
                    sentiment: t.sentiment(s)?,
                })
            })
            .collect::<Result<_, cxray_core::stats::StatsError>>()
            .map_err(StoreError::analysis)?
    } else {
        Vec::new()
    };
    Ok(SentimentReport {
        by,
        overall: overall.sentiment(s).map_err(StoreError::analysis)?,
        groups,
    })
}

/// The terms that distinguish the two groups' comments.
pub async fn terms(sql: &Sql, groups: &Groups, options: TermOptions) -> Result<TermsReport> {
    let mut counts = TermCounts::default();
    let (a, b) = match groups {
        Groups::Query(query) => {
            let (names, df) = query_groups(sql, query).await?;
            each_batch(df, |batch| {
                let c = Columns::new(batch);
                let (group, comment) = (c.text("group")?, c.text("comment")?);
                counts.absorb(in_parts(c.rows(), |rows, counts: &mut TermCounts| {
                    for r in rows {
                        let side = group
                            .str(r)
                            .map(|g| if g == names.0 { Side::A } else { Side::B });
                        count(counts, side, comment.str(r));
                    }
                }));
                Ok(())
            })
            .await?;
            names
        }
        _ => {
            each_batch(answered(sql, groups).await?, |batch| {
                let c = Columns::new(batch);
                let (instrument, score) = (c.text("instrument")?, c.float("score")?);
                let (touchpoint, bought, comment) =
                    (c.text("touchpoint")?, c.int("bought")?, c.text("comment")?);
                counts.absorb(in_parts(c.rows(), |rows, counts: &mut TermCounts| {
                    for r in rows {
                        let answer = Answer {
                            instrument: Instrument::ALL
                                .into_iter()
                                .find(|i| Some(i.name()) == instrument.str(r)),
                            score: score.f64(r).unwrap_or(f64::NAN),
                            touchpoint: touchpoint.str(r),
                            bought: bought.i64(r).map(|b| b != 0),
                        };
                        count(counts, answer.side(groups), comment.str(r));
                    }
                }));
                Ok(())
            })
            .await?;
            names(groups)
        }
    };
    let terms = counts
        .distinguishing(options.prior, options.min_count, options.top)
        .map_err(|e| StoreError::NoData(format!("{e}: {a} against {b}")))?;
    Ok(TermsReport {
        group_a: a,
        group_b: b,
        terms,
    })
}

/// Counts a comment of a known language into its group's terms.
fn count(counts: &mut TermCounts, side: Option<Side>, text: Option<&str>) {
    let (Some(side), Some(text)) = (side, text) else {
        return;
    };
    let comment = Comment::new(text);
    if let Some(language) = comment.language {
        counts.add(side, &comment.text, language);
    }
}

/// What a commented response said and what its customer did next.
struct Answer<'a> {
    instrument: Option<Instrument>,
    score: f64,
    touchpoint: Option<&'a str>,
    /// Bought in the window after it (none when not observed or not asked for).
    bought: Option<bool>,
}

impl Answer<'_> {
    /// The group the answer's comment belongs to, if any.
    fn side(&self, groups: &Groups) -> Option<Side> {
        let pick = |a: bool| if a { Side::A } else { Side::B };
        let nps = self.instrument == Some(Instrument::Nps);
        let said_satisfied = self.instrument.is_some_and(|i| satisfied(i, self.score));
        match groups {
            Groups::Answers(Compared::Promoters, _) if nps => {
                (self.score >= 9.0 || self.score <= 6.0).then(|| pick(self.score >= 9.0))
            }
            Groups::Answers(Compared::Defectors, _) => self.bought.map(|b| pick(!b)),
            Groups::Answers(Compared::SatisfiedDefectors, _) if said_satisfied => {
                self.bought.map(|b| pick(!b))
            }
            Groups::Touchpoint(t) => Some(pick(self.touchpoint == Some(t.as_str()))),
            _ => None,
        }
    }
}

fn names(groups: &Groups) -> (String, String) {
    let (a, b) = match groups {
        Groups::Answers(Compared::Promoters, _) => ("promoters", "detractors"),
        Groups::Answers(Compared::Defectors, _) => ("defectors", "stayers"),
        Groups::Answers(Compared::SatisfiedDefectors, _) => {
            ("satisfied defectors", "satisfied stayers")
        }
        Groups::Touchpoint(t) => return (t.clone(), "other touchpoints".into()),
        Groups::Query(_) => ("", ""),
    };
    (a.into(), b.into())
}

/// A query's rows and its `group` column's two values, in sort order.
async fn query_groups(sql: &Sql, query: &str) -> Result<((String, String), DataFrame)> {
    let df = sql.context().sql(query).await?;
    let df = df.select(vec![ident("group"), ident("comment")])?;
    let distinct = df.clone().select(vec![ident("group")])?.distinct()?;
    let mut values = Vec::new();
    for b in distinct.limit(0, Some(3))?.collect().await? {
        let c = Columns::new(&b);
        let group = c.text("group")?;
        values.extend((0..c.rows()).filter_map(|r| group.str(r).map(str::to_string)));
    }
    values.sort();
    match <[String; 2]>::try_from(values) {
        Ok([a, b]) => Ok(((a, b), df)),
        Err(v) => Err(StoreError::Input(format!(
            "the query's group column has {} values: terms compare exactly two",
            if v.len() > 2 {
                "more than two".to_string()
            } else {
                v.len().to_string()
            }
        ))),
    }
}

/// Each commented response: instrument, score, touchpoint, comment, and `bought`: whether
/// the customer bought in the window after it (null when the data ends before the window
/// does, or when the groups need no window).
async fn answered(sql: &Sql, groups: &Groups) -> Result<DataFrame> {
    let base = format!(
        "SELECT customer_id, instrument, CAST(score AS DOUBLE) AS score, touchpoint, comment, \
         {day} AS day FROM responses WHERE comment IS NOT NULL AND comment <> ''",
        day = day_sql("at")
    );
    let query = match groups {
        Groups::Answers(Compared::Defectors | Compared::SatisfiedDefectors, window_days) => {
            let end = epoch_day(last_purchase_date(sql).await?);
            let t_day = day_sql("t.at");
            format!(
                "WITH r AS ({base}),
                 d AS (SELECT DISTINCT customer_id, day FROM r),
                 b AS (SELECT DISTINCT d.customer_id, d.day FROM d
                       JOIN transactions t ON t.customer_id = d.customer_id
                       WHERE {t_day} > d.day AND {t_day} <= d.day + {window_days})
                 SELECT r.*, CASE WHEN r.day + {window_days} > {end} THEN NULL
                                  ELSE b.customer_id IS NOT NULL END AS bought
                 FROM r LEFT JOIN b ON b.customer_id = r.customer_id AND b.day = r.day"
            )
        }
        _ => format!("SELECT *, CAST(NULL AS BOOLEAN) AS bought FROM ({base})"),
    };
    Ok(sql.context().sql(&query).await?)
}

/// Responses with a comment that is not empty.
fn commented(view: DataFrame) -> Result<DataFrame> {
    Ok(view.filter(
        ident("comment")
            .is_not_null()
            .and(ident("comment").not_eq(lit(""))),
    )?)
}

/// Sentiment tallies per group.
type Tallies = BTreeMap<Option<String>, SentimentTally>;

/// Rows `0..rows` split among the cores, each part counted into an accumulator of its
/// own by `count`; the parts merged in row order.
fn in_parts<A: Default + Send + Merge>(
    rows: usize,
    count: impl Fn(Range<usize>, &mut A) + Sync,
) -> A {
    let parts = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, rows.max(1));
    let size = rows.div_ceil(parts);
    let counted: Vec<A> = std::thread::scope(|s| {
        let count = &count;
        let handles: Vec<_> = (0..parts)
            .map(|k| {
                s.spawn(move || {
                    let mut a = A::default();
                    count(k * size..((k + 1) * size).min(rows), &mut a);
                    a
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut all = A::default();
    counted.into_iter().for_each(|a| all.absorb(a));
    all
}

/// Accumulators that take in another's counts.
trait Merge {
    fn absorb(&mut self, other: Self);
}

impl Merge for TermCounts {
    fn absorb(&mut self, other: Self) {
        self.merge(other);
    }
}

impl Merge for Tallies {
    fn absorb(&mut self, other: Self) {
        for (key, t) in other {
            self.entry(key).or_default().merge(&t);
        }
    }
}

/// Calls `f` on every batch of the frame's result as it is computed.
async fn each_batch(df: DataFrame, mut f: impl FnMut(&RecordBatch) -> Result<()>) -> Result<()> {
    let mut stream = df.execute_stream().await?;
    while let Some(batch) = stream.next().await {
        f(&batch?)?;
    }
    Ok(())
}
