//! The analyses behind the scorecard and the pages as of one state of the data — what a
//! page, the API and `cxray scorecard` show — computed with one set of product
//! settings, so the same question gives the same number everywhere.

use std::collections::BTreeMap;
use std::time::Instant;

use cxray_core::drivers::Options;
use serde::Serialize;

use crate::groups::Groups;
use crate::journey::{self, DriverGroup, DriverOutcome, Journey, JourneyOptions, MonthRate};
use crate::metrics::{self, LinkReport};
use crate::scorecard::{self, Scorecard};
use crate::settings::ProductSettings;
use crate::surveys::population::{Asked, Invited};
use crate::surveys::respondents::{self, WhoAnswers};
use cxray_store::decode::Columns;
use cxray_store::sql::{Restriction, Sql};
use cxray_store::{DataFolder, ErrorKind, Result, StoreError};

/// The analyses a page needs: each filtered view computes only its page's part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// The scorecard (with the link and journey figures it takes).
    Scorecard,
    Link,
    /// The journey map, weak areas, owners and their trends.
    Journey,
    Drivers,
}

impl Part {
    pub const ALL: [Part; 4] = [Part::Scorecard, Part::Link, Part::Journey, Part::Drivers];
}

/// Every analysis the pages show, as of one state of the data. A part that failed (or
/// that a filtered view did not compute) holds the reason, which the page shows instead
/// of numbers.
#[derive(Debug, Serialize)]
pub struct Snapshot {
    /// Table name → Delta version, and the last operational change, analysed.
    pub versions: BTreeMap<String, u64>,
    pub last_change: i64,
    /// When the analyses finished (RFC 3339) and how long they took.
    pub computed_at: String,
    pub seconds: f64,
    pub scorecard: std::result::Result<Scorecard, PartError>,
    pub link: std::result::Result<LinkReport, PartError>,
    pub journey: std::result::Result<Journey, PartError>,
    pub drivers: std::result::Result<Vec<DriverGroup>, PartError>,
    /// Who answers among those asked as recorded, and the NPS weighted to all of them
    /// (with the scorecard and the link, for all customers only).
    pub respondents: std::result::Result<WhoAnswers, PartError>,
    /// Each owner's failure rate by month.
    pub trends: BTreeMap<String, Vec<MonthRate>>,
    /// For a view of a restricted session, the customers it describes: those with
    /// interactions in its population and period (`None` without a restriction).
    pub customers: Option<u64>,
    /// What the filters offer.
    pub choices: Choices,
}

/// Why a part of a snapshot is missing: the kind of failure and the reason shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartError {
    pub kind: ErrorKind,
    pub message: String,
}

impl std::fmt::Display for PartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PartError {}

impl From<StoreError> for PartError {
    fn from(e: StoreError) -> Self {
        PartError {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

/// What the filters offer: the customers' segments and regions, and the columns an
/// attribute filter may name.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Choices {
    pub segments: Vec<String>,
    pub regions: Vec<String>,
    pub attributes: Vec<String>,
}

/// The data state a snapshot was computed for: table versions and the last operational
/// change.
pub type DataState = (BTreeMap<String, u64>, i64);

/// The state of the data the session reads.
pub fn data_state(sql: &Sql, folder: &DataFolder) -> Result<DataState> {
    let versions = sql
        .versions()
        .iter()
        .map(|(t, v)| (t.name().to_string(), *v))
        .collect();
    Ok((versions, folder.ops_db()?.last_data_change()?))
}

/// What a part of a view holds when the view was computed for another page.
const NOT_COMPUTED: &str = "not computed for this view";

/// Computes the analyses `parts` need (the others hold [`NOT_COMPUTED`]).
pub async fn compute(
    sql: &Sql,
    folder: &DataFolder,
    (versions, last_change): DataState,
    settings: &ProductSettings,
    parts: &[Part],
) -> Result<Snapshot> {
    let started = Instant::now();
    let stats = settings.stats;
    let ops = folder.ops_db()?;
    let journey_options = JourneyOptions::of_product(&ops, settings)?;
    let wants = |p: &[Part]| parts.iter().any(|x| p.contains(x));
    // The parts run concurrently: while one waits (the journey's first build holds the
    // others that need trips), the rest use the cores.
    let link = async {
        match wants(&[Part::Scorecard, Part::Link]) {
            true => metrics::link(sql, &settings.link_options(sql))
                .await
                .map_err(PartError::from),
            false => skipped(),
        }
    };
    let journey = async {
        let journey = match (wants(&[Part::Journey]), wants(&[Part::Scorecard])) {
            (true, _) => journey::journey(sql, &journey_options).await,
            (false, true) => journey::journey_without_handoffs(sql, &journey_options).await,
            (false, false) => return skipped(),
        };
        journey.map_err(PartError::from)
    };
    let drivers = async {
        match wants(&[Part::Drivers]) {
            true => {
                let options = Options {
                    resamples: settings.resamples,
                    level: stats.level,
                    ..Options::default()
                };
                let outcome = DriverOutcome::Defection;
                journey::drivers(sql, outcome, &journey_options, &options, None)
                    .await
                    .map_err(PartError::from)
            }
            false => skipped(),
        }
    };
    let trends = async {
        match wants(&[Part::Journey]) {
            true => journey::monthly_failure_rates(sql, &journey_options).await,
            false => Ok(BTreeMap::new()),
        }
    };
    let figures = async {
        match wants(&[Part::Scorecard]) {
            true => Some(
                scorecard::figures(sql, &stats)
                    .await
                    .map_err(PartError::from),
            ),
            false => None,
        }
    };
    let risk = async {
        match wants(&[Part::Scorecard]) {
            true => journey::risk_by_period(sql, &journey_options).await,
            false => Ok(BTreeMap::new()),
        }
    };
    let (link, journey, drivers, trends, figures, risk, customers) = futures::join!(
        timed("link", link),
        timed("journey", journey),
        timed("drivers", drivers),
        timed("trends", trends),
        timed("scorecard figures", figures),
        timed("revenue at risk by period", risk),
        customers(sql)
    );
    let trends = trends?;
    // Without it the tiles show no change; the journey's own error is in the notes.
    let risk = risk.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "revenue at risk by period");
        BTreeMap::new()
    });
    // After the others, so its memory does not add to theirs.
    let respondents = match wants(&[Part::Scorecard, Part::Link]) {
        true => {
            let invited = Invited::of_record(&ops, Asked::AsRecorded);
            timed("who answers", who_answers(sql, invited, &journey_options)).await
        }
        false => skipped(),
    };
    let scorecard = match figures {
        Some(figures) => figures.map(|f| {
            scorecard::scorecard(
                f,
                link.as_ref().map_err(|e| e.message.as_str()),
                journey.as_ref().map_err(|e| e.message.as_str()),
                risk,
            )
        }),
        None => skipped(),
    };
    Ok(Snapshot {
        versions,
        last_change,
        computed_at: chrono::Utc::now().to_rfc3339(),
        seconds: started.elapsed().as_secs_f64(),
        scorecard,
        link,
        journey,
        drivers,
        respondents,
        trends,
        customers: customers?,
        choices: choices(sql).await?,
    })
}

/// Who answers among the `invited`, for all customers: a filtered view holds
/// why it is not there.
async fn who_answers(
    sql: &Sql,
    invited: Result<Invited>,
    opts: &JourneyOptions,
) -> std::result::Result<WhoAnswers, PartError> {
    if sql.restriction().is_some() {
        return company_wide_only();
    }
    Ok(respondents::who_answers(sql, opts, &invited?).await?)
}

/// What a filtered view holds for the weighted NPS.
fn company_wide_only<T>() -> std::result::Result<T, PartError> {
    Err(PartError {
        kind: ErrorKind::BadInput,
        message: "the NPS weighted to everyone asked is computed for all customers only; \
                  remove the filters to see it"
            .to_string(),
    })
}

/// Awaits a part, logging how long it took (at debug level).
async fn timed<T>(part: &'static str, work: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let done = work.await;
    let seconds = started.elapsed().as_secs_f64();
    tracing::debug!(part, seconds, "snapshot part");
    done
}

/// The customers a restricted session's analyses describe: those with interactions.
async fn customers(sql: &Sql) -> Result<Option<u64>> {
    if sql.restriction().is_none() {
        return Ok(None);
    }
    let query = "SELECT count(DISTINCT customer_id) AS n FROM interactions";
    let (_, batches) = sql.query(query).await?;
    let mut n = 0;
    for b in &batches {
        let c = Columns::new(b);
        let counts = c.int("n")?;
        n += (0..c.rows()).map(|r| counts.count(r)).sum::<u64>();
    }
    Ok(Some(n))
}

/// The filters' choices: segments, regions, and the customers' other columns.
async fn choices(sql: &Sql) -> Result<Choices> {
    Ok(Choices {
        segments: sql.distinct("customers", "segment").await?,
        regions: sql.distinct("customers", "region").await?,
        attributes: attribute_columns(sql).await?,
    })
}

/// The customers' columns an attribute filter may name: all but the id, segment and region.
pub(crate) async fn attribute_columns(sql: &Sql) -> Result<Vec<String>> {
    let df = sql.context().table("customers").await?;
    Ok(df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .filter(|n| !matches!(n.as_str(), "customer_id" | "segment" | "region"))
        .collect())
}

/// The scorecard view of a restriction by segment and/or region assembled from the
/// groups' partial aggregates, as [`compute`] gives it for the scorecard part of the
/// restricted session (the link and journey it takes from are not kept); none when the
/// groups do not answer the restriction.
pub fn from_groups(
    groups: &Groups,
    restriction: &Restriction,
    (versions, last_change): DataState,
) -> Option<Snapshot> {
    let started = Instant::now();
    let (scorecard, customers, [segments, regions]) = groups.view(restriction)?;
    Some(Snapshot {
        versions,
        last_change,
        computed_at: chrono::Utc::now().to_rfc3339(),
        seconds: started.elapsed().as_secs_f64(),
        scorecard: Ok(scorecard),
        link: skipped(),
        journey: skipped(),
        drivers: skipped(),
        respondents: company_wide_only(),
        trends: BTreeMap::new(),
        customers: Some(customers),
        choices: Choices {
            segments,
            regions,
            attributes: groups.attributes().to_vec(),
        },
    })
}

/// A part the view did not compute.
fn skipped<T>() -> std::result::Result<T, PartError> {
    Err(PartError {
        kind: ErrorKind::Internal,
        message: NOT_COMPUTED.to_string(),
    })
}
