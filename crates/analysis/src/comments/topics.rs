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
use cxray_core::drivers::Options;
use cxray_core::stats::{
    Difference, Estimate, Proportion, Settings, proportion, proportion_difference,
};
use cxray_store::decode::Columns;
use cxray_store::sql::{Sql, day_sql};
use cxray_store::{Result, StoreError};

use super::{Merge, commented, each_batch, in_parts};
use crate::board::Cadence;
use crate::journey::{
    AtRisk, JourneyOptions, MarkedTrip, MarkedTrips, TripMarks, leaving_after, mean_clv, owner_info,
};

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
    /// Leaving after the trips whose comment mentions it, when asked for ([`leaving`]).
    pub leaving: Option<TopicLeaving>,
    /// Period by period, oldest first.
    pub series: Vec<TopicPoint>,
}

/// A topic in one period: its comments, share and NPS with and without it.
#[derive(Debug, Clone, Serialize)]
pub struct TopicPoint {
    /// The period's first day (a query's `period` value).
    pub period: String,
    pub comments: u64,
    pub share: Option<Estimate>,
    #[serde(flatten)]
    pub nps: TopicNps,
}

/// A topic and leaving: the customers who mentioned it in a comment on a trip against
/// those whose comment on a trip did not, over the trips whose window after them lies
/// within the data.
#[derive(Debug, Clone, Serialize)]
pub struct TopicLeaving {
    /// The commented trips that mention it.
    pub trips: u64,
    /// Leaving (percent, Wilson) after them, and after the other commented trips.
    pub left_with: Option<Estimate>,
    pub left_without: Option<Estimate>,
    /// The odds ratio of leaving after a trip whose comment mentions the topic, against a
    /// commented trip whose comment does not, from the dropout model with its controls
    /// (the customer's past purchases and tenure through the customer-base model), n the
    /// commented trips fitted; none when it cannot be fitted.
    pub odds_ratio: Option<Estimate>,
    /// The touchpoints the topic concerns, with their owners: those where at least a fifth
    /// of its trips went wrong (or its responses were about), at least twice as often as
    /// commented trips as a whole; most concerned first.
    pub concerns: Vec<Concern>,
    /// CLV expected to be lost a year: trips mentioning it a year × the excess leaving
    /// after them (percentage points, Newcombe) × mean CLV; measurable when the excess's
    /// interval lies above zero. Needs `customer_value` (`cxray loyalty predict`).
    pub revenue_at_risk: Option<AtRisk>,
}

/// A touchpoint a topic concerns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Concern {
    pub touchpoint: String,
    pub owner: Option<String>,
    pub owner_name: Option<String>,
    /// Of the topic's trips, the fraction that went wrong at the touchpoint (or whose
    /// response was about it); and of all commented trips.
    pub share: f64,
    pub share_all: f64,
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

/// The topics of the responses' comments, the NPS answers' scores beside them, by period
/// of `cadence` (the change: the last period against the one before); with `discover`,
/// topics among the comments the taxonomy misses.
pub async fn topics(
    sql: &Sql,
    taxonomy: &Taxonomy,
    discover: Option<&DiscoverSettings>,
    cadence: Cadence,
    s: &Settings,
) -> Result<TopicsReport> {
    let responses = sql.context().table("responses").await?;
    let nps = when(
        ident("instrument").eq(lit("nps")),
        cast(ident("score"), DataType::Float64),
    )
    .end()?;
    let unit = match cadence {
        Cadence::Month => "month",
        Cadence::Quarter => "quarter",
        Cadence::Year => "year",
    };
    let start = cast(date_trunc(lit(unit), col("at")), DataType::Date32);
    let period = cast(start, DataType::Utf8).alias("period");
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
                leaving: None,
                series: series(&all.by_period, t, s)?,
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

/// Topic `t` in each period of `by_period`.
fn series(
    by_period: &BTreeMap<String, TopicTally>,
    t: usize,
    s: &Settings,
) -> std::result::Result<Vec<TopicPoint>, cxray_core::stats::StatsError> {
    by_period
        .iter()
        .map(|(period, tally)| {
            Ok(TopicPoint {
                period: period.clone(),
                comments: tally.topic(t).comments,
                share: tally.share(t, s),
                nps: tally.nps(t, s)?,
            })
        })
        .collect()
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

/// The commented responses with the trip they follow: its purchase day — the day of the
/// response's order where responses carry `order_id`, else the customer's latest purchase
/// day on or before the response.
async fn commented_trips(sql: &Sql) -> Result<datafusion::prelude::DataFrame> {
    let has_order = sql
        .columns("responses")
        .await?
        .iter()
        .any(|c| c == "order_id");
    let (rday, tday) = (day_sql("at"), day_sql("t.at"));
    let order = match has_order {
        true => "order_id",
        false => "CAST(NULL AS VARCHAR) AS order_id",
    };
    let query = format!(
        "WITH c AS (SELECT customer_id, {order}, {rday} AS day, comment, touchpoint
                    FROM responses WHERE comment IS NOT NULL AND comment <> ''),
         o AS (SELECT customer_id, order_id, min({tday}) AS trip FROM transactions t
               WHERE order_id IS NOT NULL GROUP BY customer_id, order_id),
         d AS (SELECT DISTINCT customer_id, day FROM c),
         l AS (SELECT d.customer_id, d.day, max({tday}) AS latest FROM d
               JOIN transactions t ON t.customer_id = d.customer_id AND {tday} <= d.day
               GROUP BY d.customer_id, d.day)
         SELECT c.customer_id, COALESCE(o.trip, l.latest) AS trip, c.comment, c.touchpoint
         FROM c LEFT JOIN o ON o.customer_id = c.customer_id AND o.order_id = c.order_id
         LEFT JOIN l ON l.customer_id = c.customer_id AND l.day = c.day"
    );
    Ok(sql.context().sql(&query).await?)
}

/// The trips commented on, marked by the topics (the first 64) their comments mention.
#[derive(Default)]
struct Marks(TripMarks);

impl Merge for Marks {
    fn absorb(&mut self, other: Self) {
        for (customer, trips) in other.0 {
            let mine = self.0.entry(customer).or_default();
            for t in trips {
                mark(mine, t);
            }
        }
    }
}

/// Adds a commented trip to a customer's: a second comment on it adds its topics.
fn mark(trips: &mut Vec<MarkedTrip>, t: MarkedTrip) {
    match trips.iter_mut().find(|m| m.trip == t.trip) {
        Some(m) => {
            m.marks |= t.marks;
            m.about = m.about.take().or(t.about);
        }
        None => trips.push(t),
    }
}

/// The report with each topic's [`TopicLeaving`] (the first 64 topics): its comments
/// linked to the trips they follow, and those trips' outcomes from the journey (window,
/// service levels) with the dropout model bootstrapped as `options` say. Holds one entry
/// per commented trip.
pub async fn leaving(
    mut report: TopicsReport,
    sql: &Sql,
    taxonomy: &Taxonomy,
    journey: &JourneyOptions,
    options: &Options,
    s: &Settings,
) -> Result<TopicsReport> {
    let count = taxonomy.topics().len().min(64);
    let mut marks = Marks::default();
    let (mut first, mut last) = (i64::MAX, i64::MIN);
    let mut mentions = vec![0u64; count];
    each_batch(commented_trips(sql).await?, |b| {
        let c = Columns::new(b);
        let (customer, trip) = (c.text("customer_id")?, c.int("trip")?);
        let (comment, touchpoint) = (c.text("comment")?, c.text("touchpoint")?);
        for r in 0..c.rows() {
            let (Some(id), Some(day)) = (customer.str(r), trip.i64(r)) else {
                continue;
            };
            (first, last) = (first.min(day), last.max(day));
            let topics = taxonomy.mentions(&Comment::new(comment.str(r).unwrap_or_default()));
            let bits = topics
                .iter()
                .filter(|&t| t < count)
                .fold(0u64, |bits, t| bits | 1 << t);
            (0..count)
                .filter(|k| bits >> k & 1 == 1)
                .for_each(|k| mentions[k] += 1);
            let trip = MarkedTrip {
                trip: day,
                marks: bits,
                about: touchpoint.str(r).map(str::to_string),
            };
            mark(marks.0.entry(id.to_string()).or_default(), trip);
        }
        Ok(())
    })
    .await?;
    let marked = leaving_after(sql, journey, &marks.0, count, options).await?;
    let owners = owner_info(sql).await?;
    let touchpoint_owners = touchpoint_owners(sql).await?;
    let clv = mean_clv(sql).await?;
    let years = ((last - first + 1) as f64 / 365.25).max(1.0 / 365.25);
    for (k, row) in report.topics.iter_mut().enumerate().take(count) {
        let concerns = concerns(&marked, k, &touchpoint_owners, &owners);
        row.leaving = Some(topic_leaving(
            &marked,
            k,
            mentions[k] as f64 / years,
            clv,
            concerns,
            s,
        ));
    }
    Ok(report)
}

fn topic_leaving(
    m: &MarkedTrips,
    k: usize,
    per_year: f64,
    clv: Option<f64>,
    concerns: Vec<Concern>,
    s: &Settings,
) -> TopicLeaving {
    let with = Proportion {
        successes: m.with_defected[k],
        n: m.with[k],
    };
    let without = Proportion {
        successes: m.defected - m.with_defected[k],
        n: m.trips - m.with[k],
    };
    let excess = proportion_difference(with, without, s).ok();
    TopicLeaving {
        trips: m.with[k],
        left_with: proportion(with, s).ok(),
        left_without: proportion(without, s).ok(),
        odds_ratio: m.odds_ratios[k],
        concerns,
        revenue_at_risk: excess
            .zip(clv)
            .and_then(|(d, clv)| AtRisk::of_excess(&d, per_year * clv / 100.0)),
    }
}

/// The touchpoints topic `k` concerns (see [`TopicLeaving::concerns`]).
fn concerns(
    m: &MarkedTrips,
    k: usize,
    touchpoint_owners: &BTreeMap<String, String>,
    owners: &BTreeMap<String, (String, String)>,
) -> Vec<Concern> {
    let all = m.bad.len() - 1;
    let mut out: Vec<Concern> = m
        .touchpoints
        .iter()
        .enumerate()
        .filter_map(|(tp, name)| {
            let share = m.bad[k][tp] as f64 / m.with[k].max(1) as f64;
            let share_all = m.bad[all][tp] as f64 / m.trips.max(1) as f64;
            (share >= 0.2 && share >= 2.0 * share_all).then(|| {
                let owner = touchpoint_owners.get(name).cloned();
                Concern {
                    touchpoint: name.clone(),
                    owner_name: owner
                        .as_ref()
                        .and_then(|o| owners.get(o))
                        .map(|o| o.0.clone()),
                    owner,
                    share,
                    share_all,
                }
            })
        })
        .collect();
    out.sort_by(|a, b| b.share.total_cmp(&a.share));
    out
}

/// Each touchpoint's owner, from its interactions (the last in name order when several).
async fn touchpoint_owners(sql: &Sql) -> Result<BTreeMap<String, String>> {
    let (_, batches) = sql
        .query(
            "SELECT touchpoint, max(owner) AS owner FROM interactions
             WHERE owner IS NOT NULL GROUP BY touchpoint",
        )
        .await?;
    let mut out = BTreeMap::new();
    for b in &batches {
        let c = Columns::new(b);
        let (tp, owner) = (c.text("touchpoint")?, c.text("owner")?);
        for r in 0..c.rows() {
            if let (Some(t), Some(o)) = (tp.str(r), owner.str(r)) {
                out.insert(t.to_string(), o.to_string());
            }
        }
    }
    Ok(out)
}
