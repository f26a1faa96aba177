//! Journeys and owners: every touchpoint with its owner (a team, a partner or an outside
//! party), its performance, the dropout its bad experiences cause and the customer value
//! that puts at risk; owners' totals, hand-offs between owners, and the weak-area map.

mod areas;
mod derived;
mod drivers;
mod handoffs;
mod masks;
mod money;
mod order;
mod touchpoints;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use cxray_core::stats::{
    Difference, Estimate, Instrument, Proportion, Settings, proportion, proportion_difference,
};
use datafusion::common::ScalarValue;
use serde::Serialize;

use crate::board::Cadence;
use crate::metrics::{self, Slice};
use crate::settings::ProductSettings;
use cxray_store::DataFolder;
use cxray_store::Result;
use cxray_store::decode::Columns;
use cxray_store::ops::{OpsDb, Placement, Sla};
use cxray_store::sql::Sql;

pub use areas::{Area, Quadrant, areas};
pub use derived::{TripData, load as trip_data};
pub use drivers::{
    DriverGroup, DriverOutcome, MarkedTrip, MarkedTrips, TripMarks, control_of, drivers,
    leaving_after, touchpoint_of,
};
pub use handoffs::Handoff;
use handoffs::Pair;
pub use money::{AtRisk, Total};
pub(crate) use touchpoints::Partial;

/// Options of the journey analyses.
#[derive(Debug, Clone)]
pub struct JourneyOptions {
    /// Days after a trip within which a purchase counts as staying.
    pub window_days: u32,
    /// Service levels per touchpoint (from the operational store).
    pub slas: BTreeMap<String, Sla>,
    /// Edited placements per touchpoint (from the operational store).
    pub placements: BTreeMap<String, Placement>,
    pub settings: Settings,
}

impl JourneyOptions {
    /// The product's journey options: its window and statistics settings, with the
    /// service levels and placements of the operational store.
    pub fn of_product(ops: &OpsDb, settings: &ProductSettings) -> Result<Self> {
        Ok(JourneyOptions {
            window_days: settings.window_days,
            slas: ops.slas()?,
            placements: ops.placements()?,
            settings: settings.stats,
        })
    }
}

/// Builds the trips of the data as it is now, for the product's settings, unless they
/// are built: run after the data change, so that the first analysis finds them ready.
/// Returns the seconds it took.
pub async fn prepare(folder: &DataFolder, settings: &ProductSettings) -> Result<f64> {
    let started = std::time::Instant::now();
    let sql = Sql::open(folder, &BTreeMap::new()).await?;
    let ops = folder.ops_db()?;
    derived::load(&sql, &JourneyOptions::of_product(&ops, settings)?).await?;
    Ok(started.elapsed().as_secs_f64())
}

/// One month's failure rate (percent, Wilson interval).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthRate {
    /// The month's first day.
    pub month: String,
    pub failure_rate: Estimate,
}

/// Every owner's failure rate by month (one pass over the interactions).
pub async fn monthly_failure_rates(
    sql: &Sql,
    opts: &JourneyOptions,
) -> Result<BTreeMap<String, Vec<MonthRate>>> {
    let (owner, params) = owner_sql(&opts.placements);
    let query = format!(
        "SELECT CAST(o AS VARCHAR) AS owner, CAST(CAST(m AS DATE) AS VARCHAR) AS month, n, failed FROM (
            SELECT {owner} AS o, date_trunc('month', at) AS m, count(*) AS n,
                   count(CASE WHEN outcome = 'failed' THEN 1 END) AS failed
            FROM interactions GROUP BY 1, 2)
         WHERE o IS NOT NULL ORDER BY 1, 2"
    );
    let (_, batches) = sql.query_with(&query, params).await?;
    let mut out: BTreeMap<String, Vec<MonthRate>> = BTreeMap::new();
    for b in &batches {
        let c = Columns::new(b);
        let (owner, month, n, failed) = (
            c.text("owner")?,
            c.text("month")?,
            c.int("n")?,
            c.int("failed")?,
        );
        for r in 0..c.rows() {
            let (Some(o), Some(m)) = (owner.str(r), month.str(r)) else {
                continue;
            };
            if let Some(failure_rate) = rate(failed.count(r), n.count(r), &opts.settings) {
                out.entry(o.to_string()).or_default().push(MonthRate {
                    month: m.to_string(),
                    failure_rate,
                });
            }
        }
    }
    Ok(out)
}

/// One touchpoint: who owns it, how it performs, what its bad experiences cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Touchpoint {
    pub touchpoint: String,
    pub journey: Option<String>,
    pub stage: Option<String>,
    /// Order within the journey, where edited (touchpoints are listed in journey order).
    pub position: Option<i64>,
    pub channel: Option<String>,
    pub owner: Option<String>,
    pub owner_name: Option<String>,
    /// team, partner or external (an outside party), from the owners table.
    pub owner_kind: Option<String>,
    pub interactions: u64,
    pub failures: u64,
    /// Failed interactions, percent, Wilson interval.
    pub failure_rate: Option<Estimate>,
    pub wait_p50_seconds: Option<f64>,
    pub wait_p90_seconds: Option<f64>,
    pub sla: Sla,
    /// Visits with a wait above the service level.
    pub long_waits: u64,
    /// Whether the failure rate's interval lies above the service level (none without one).
    pub failure_sla_breached: Option<bool>,
    /// Stated satisfaction with the touchpoint.
    pub csat: Option<Estimate>,
    /// Defection (percent) after trips with a bad experience here (failure or a wait over
    /// the service level), after trips through here without one, and the excess
    /// (percentage points, Newcombe interval).
    pub dropout_after_bad: Option<Estimate>,
    pub dropout_after_ok: Option<Estimate>,
    pub excess_dropout: Option<Difference>,
    /// Bad experiences a year.
    pub bad_per_year: f64,
    /// CLV expected to be lost a year: bad experiences × excess dropout × mean CLV; n the
    /// trips through the touchpoint, flagged as the excess dropout is; measurable when the
    /// excess dropout's interval lies above zero.
    pub revenue_at_risk: Option<AtRisk>,
}

/// The counts behind one of a touchpoint's dropout percentages (`dropout_after_bad`,
/// `dropout_after_ok`): customers who left out of the trips.
pub fn leavers(dropout: &Estimate) -> Proportion {
    Proportion {
        successes: (dropout.value / 100.0 * dropout.n as f64).round() as u64,
        n: dropout.n,
    }
}

/// One owner's touchpoints and totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Owner {
    pub owner: String,
    pub name: Option<String>,
    pub kind: Option<String>,
    pub touchpoints: Vec<String>,
    pub interactions: u64,
    pub failure_rate: Option<Estimate>,
    /// The measurable losses of its touchpoints summed (see [`total_revenue_at_risk`]).
    pub revenue_at_risk: Option<Total>,
    /// The part of it that follows hand-offs from other owners (never more than it).
    pub revenue_at_risk_after_handoffs: Option<Estimate>,
}

/// The journey map: touchpoints, owners, hand-offs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Journey {
    pub window_days: u32,
    /// Mean CLV per customer used to price dropout (from `customer_value`).
    pub mean_clv: Option<f64>,
    /// The currency of the money (see [`currency`]).
    pub currency: Option<String>,
    /// In journey order (see `in_journey_order`).
    pub touchpoints: Vec<Touchpoint>,
    pub owners: Vec<Owner>,
    pub handoffs: Vec<Handoff>,
    pub notes: Vec<String>,
}

/// Builds the journey map.
pub async fn journey(sql: &Sql, opts: &JourneyOptions) -> Result<Journey> {
    map(sql, opts, true).await
}

/// The journey map without hand-offs (owners' totals leave them out): what the scorecard
/// needs, without counting the pairs of a restricted view's interactions.
pub async fn journey_without_handoffs(sql: &Sql, opts: &JourneyOptions) -> Result<Journey> {
    map(sql, opts, false).await
}

async fn map(sql: &Sql, opts: &JourneyOptions, with_handoffs: bool) -> Result<Journey> {
    let data = timed("trips", derived::load(sql, opts)).await?;
    let counts = timed("counts", touchpoints::counts(sql, &data)).await?;
    let owners = owner_info(sql).await?;
    let csat = timed("csat", csat_by_touchpoint(sql, &opts.settings)).await?;
    let mean_clv = mean_clv(sql).await?;
    let currency = currency(sql).await?;
    let pairs = match with_handoffs {
        true => Some(timed("hand-offs", data.pairs(sql)).await?),
        false => None,
    };
    let inputs = MapInputs {
        counts,
        owners,
        csat,
        mean_clv,
        currency,
    };
    Ok(assemble(inputs, pairs, opts))
}

/// What the journey map is made of, besides the hand-offs.
pub(crate) struct MapInputs {
    pub counts: Vec<touchpoints::Counts>,
    /// owner_id → (name, kind).
    pub owners: BTreeMap<String, (String, String)>,
    pub csat: BTreeMap<String, Estimate>,
    pub mean_clv: Option<f64>,
    pub currency: Option<String>,
}

/// The journey map of its inputs, without hand-offs.
pub(crate) fn without_handoffs_of(m: MapInputs, opts: &JourneyOptions) -> Journey {
    assemble(m, None, opts)
}

/// The journey map of its inputs, with the hand-offs of `pairs` (none: not computed).
fn assemble(m: MapInputs, pairs: Option<Vec<Pair>>, opts: &JourneyOptions) -> Journey {
    let mut notes = Vec::new();
    if m.mean_clv.is_none() {
        notes.push(
            "no customer_value table: revenue at risk is empty (run cxray loyalty predict)".into(),
        );
    }
    let mut touchpoints: Vec<Touchpoint> = m
        .counts
        .into_iter()
        .map(|c| {
            let sla = opts.slas.get(&c.touchpoint).copied().unwrap_or_default();
            let placement = opts.placements.get(&c.touchpoint);
            let placed = place(c, placement);
            touchpoint(placed, sla, &m.owners, &m.csat, m.mean_clv, &opts.settings)
        })
        .collect();
    if pairs.is_none() {
        notes.push("hand-offs are not computed for this view".into());
    }
    in_journey_order(
        &mut touchpoints,
        &pairs.as_deref().map(order::steps).unwrap_or_default(),
    );
    let mut handoffs = pairs.map_or(Vec::new(), |p| handoffs::handoffs(&p, &opts.placements));
    for h in &mut handoffs {
        if let Some(to) = touchpoints.iter().find(|t| t.touchpoint == h.to_touchpoint) {
            h.attribute(to, &opts.settings);
        }
    }
    Journey {
        window_days: opts.window_days,
        mean_clv: m.mean_clv,
        currency: m.currency,
        owners: owner_totals(&touchpoints, &handoffs, &m.owners, &opts.settings),
        handoffs,
        touchpoints,
        notes,
    }
}

/// Per group of customers (see [`touchpoints::monthly_partials`]): the touchpoint counts
/// of every month their journey maps are made of, from the trips of the unrestricted
/// session.
pub(crate) async fn partials(
    sql: &Sql,
    opts: &JourneyOptions,
    customers: &str,
    by: &[&str],
) -> Result<BTreeMap<Vec<String>, Months>> {
    let data = derived::load(sql, opts).await?;
    touchpoints::monthly_partials(sql, &data, Some((customers, by))).await
}

/// Touchpoint counts by month, keyed by the month's first day.
pub(crate) type Months = BTreeMap<NaiveDate, Partial>;

/// Revenue at risk a year by period, each cadence's periods keyed by their first day.
pub type RiskByPeriod = BTreeMap<Cadence, BTreeMap<NaiveDate, Estimate>>;

/// Revenue at risk a year in every period whose trips' outcomes are known ([`risk_of`]).
pub async fn risk_by_period(sql: &Sql, opts: &JourneyOptions) -> Result<RiskByPeriod> {
    let data = derived::load(sql, opts).await?;
    let mut all = timed("months", touchpoints::monthly_partials(sql, &data, None)).await?;
    let months = all.remove(&Vec::new()).unwrap_or_default();
    Ok(risk_of(&months, mean_clv(sql).await?, opts))
}

/// Revenue at risk a year by period: each period's journey map from the counts of its
/// months, its measurable losses summed (zero where none is measurable); periods where
/// none is priced (no trip's outcome known yet) are left out.
pub(crate) fn risk_of(
    months: &Months,
    mean_clv: Option<f64>,
    opts: &JourneyOptions,
) -> RiskByPeriod {
    let total = |p: Partial| {
        let inputs = MapInputs {
            counts: p.counts(),
            owners: BTreeMap::new(),
            csat: BTreeMap::new(),
            mean_clv,
            currency: None,
        };
        total_revenue_at_risk(&without_handoffs_of(inputs, opts)).map(|t| t.estimate)
    };
    let of_cadence = |c: Cadence| {
        let mut periods: Months = BTreeMap::new();
        for (month, p) in months {
            periods.entry(c.start(*month)).or_default().add(p);
        }
        let totals = periods.into_iter();
        let totals = totals.filter_map(|(start, p)| Some((start, total(p)?)));
        (c, totals.collect())
    };
    Cadence::ALL.into_iter().map(of_cadence).collect()
}

/// Sorts touchpoints in journey order: journeys and stages in the order their first
/// touchpoint comes, each touchpoint by its edited position, else by the order customers
/// reach it (`steps`, from consecutive interactions); names where nothing else decides.
fn in_journey_order(touchpoints: &mut [Touchpoint], steps: &BTreeMap<String, usize>) {
    let rank = |t: &Touchpoint| {
        let step = steps.get(&t.touchpoint).copied().unwrap_or(usize::MAX);
        (t.position.unwrap_or(i64::MAX), step)
    };
    type Place = (Option<String>, Option<String>);
    let mut first: BTreeMap<Place, (i64, usize)> = BTreeMap::new();
    for t in touchpoints.iter() {
        for key in [
            (t.journey.clone(), None),
            (t.journey.clone(), t.stage.clone()),
        ] {
            let at = first.entry(key).or_insert(rank(t));
            *at = (*at).min(rank(t));
        }
    }
    let key = |t: &Touchpoint| {
        let at = |stage: Option<&String>| first[&(t.journey.clone(), stage.cloned())];
        let journey = (at(None), t.journey.clone());
        (journey, at(t.stage.as_ref()), rank(t), t.touchpoint.clone())
    };
    touchpoints.sort_by_cached_key(key);
}

/// Awaits one step of an analysis, logging (at debug level) how long it took.
pub(super) async fn timed<T>(step: &'static str, work: impl Future<Output = T>) -> T {
    let started = std::time::Instant::now();
    let out = work.await;
    tracing::debug!(
        step,
        seconds = started.elapsed().as_secs_f64(),
        "journey step"
    );
    out
}

/// The counts with the edited placement's journey, stage, owner and position.
fn place(mut c: touchpoints::Counts, p: Option<&Placement>) -> (touchpoints::Counts, Option<i64>) {
    let Some(p) = p else { return (c, None) };
    c.journey = p.journey.clone().or(c.journey);
    c.stage = p.stage.clone().or(c.stage);
    c.owner = p.owner.clone().or(c.owner);
    (c, p.position)
}

/// The owner of an interaction's touchpoint in SQL: the edited owner, else the imported;
/// with the parameters (`$1`, `$2`, …: touchpoint, owner, …) it refers to.
pub(super) fn owner_sql(placements: &BTreeMap<String, Placement>) -> (String, Vec<ScalarValue>) {
    let mut params = Params::default();
    let edited = placements.iter().filter_map(|(tp, p)| {
        let owner = p.owner.clone()?;
        Some((tp.as_str(), ScalarValue::Utf8(Some(owner))))
    });
    let sql = by_touchpoint(&mut params, "touchpoint", edited, "owner");
    (sql, params.0)
}

/// Query parameters, numbered as they are added.
#[derive(Default)]
pub(super) struct Params(pub Vec<ScalarValue>);

impl Params {
    /// Adds a value and returns its placeholder.
    pub fn add(&mut self, value: ScalarValue) -> String {
        self.0.push(value);
        format!("${}", self.0.len())
    }
}

/// `CASE <column> WHEN … THEN … END` over the touchpoints that have a value (`ELSE` the
/// fallback), as parameters; the fallback alone when none has.
pub(super) fn by_touchpoint<'a>(
    params: &mut Params,
    column: &str,
    values: impl Iterator<Item = (&'a str, ScalarValue)>,
    fallback: &str,
) -> String {
    let arms: String = values
        .map(|(tp, v)| {
            let tp = params.add(ScalarValue::Utf8(Some(tp.to_string())));
            format!(" WHEN {tp} THEN {}", params.add(v))
        })
        .collect();
    match arms.is_empty() {
        true => fallback.to_string(),
        false => format!("CASE {column}{arms} ELSE {fallback} END"),
    }
}

fn touchpoint(
    (c, position): (touchpoints::Counts, Option<i64>),
    sla: Sla,
    owners: &BTreeMap<String, (String, String)>,
    csat: &BTreeMap<String, Estimate>,
    mean_clv: Option<f64>,
    s: &Settings,
) -> Touchpoint {
    let failure_rate = rate(c.failures, c.interactions, s);
    let years = ((c.last_day - c.first_day + 1) as f64 / 365.25).max(1.0 / 365.25);
    let bad = Proportion {
        successes: c.bad_defected,
        n: c.bad_trips,
    };
    let ok = Proportion {
        successes: c.ok_defected,
        n: c.ok_trips,
    };
    let excess = proportion_difference(bad, ok, s).ok();
    // Bad experiences a year: failures plus long waits, counted once per visit.
    let bad_share = c.bad_trips as f64 / (c.bad_trips + c.ok_trips).max(1) as f64;
    let bad_per_year = bad_share * c.interactions as f64 / years;
    let owner = c.owner.as_ref().and_then(|o| owners.get(o));
    Touchpoint {
        failure_sla_breached: sla
            .max_failure_rate
            .zip(failure_rate)
            .and_then(|(max, r)| r.low.map(|low| low > max * 100.0)),
        revenue_at_risk: excess
            .zip(mean_clv)
            .and_then(|(d, clv)| AtRisk::of_excess(&d, bad_per_year * clv / 100.0)),
        csat: csat.get(&c.touchpoint).copied(),
        dropout_after_bad: proportion(bad, s).ok(),
        dropout_after_ok: proportion(ok, s).ok(),
        excess_dropout: excess,
        bad_per_year,
        owner_name: owner.map(|o| o.0.clone()),
        owner_kind: owner.map(|o| o.1.clone()),
        touchpoint: c.touchpoint,
        journey: c.journey,
        stage: c.stage,
        position,
        channel: c.channel,
        owner: c.owner,
        interactions: c.interactions,
        failures: c.failures,
        failure_rate,
        wait_p50_seconds: c.wait_p50,
        wait_p90_seconds: c.wait_p90,
        sla,
        long_waits: c.long_waits,
    }
}

fn rate(successes: u64, n: u64, s: &Settings) -> Option<Estimate> {
    proportion(Proportion { successes, n }, s).ok()
}

/// Per owner: touchpoints, pooled failure rate, summed measurable revenue at risk and its
/// part after hand-offs into its touchpoints.
fn owner_totals(
    touchpoints: &[Touchpoint],
    handoffs: &[Handoff],
    owners: &BTreeMap<String, (String, String)>,
    s: &Settings,
) -> Vec<Owner> {
    let mut by_owner: BTreeMap<String, Vec<&Touchpoint>> = BTreeMap::new();
    for t in touchpoints {
        by_owner
            .entry(t.owner.clone().unwrap_or_default())
            .or_default()
            .push(t);
    }
    by_owner
        .into_iter()
        .map(|(owner, tps)| {
            let interactions: u64 = tps.iter().map(|t| t.interactions).sum();
            let failures: u64 = tps.iter().map(|t| t.failures).sum();
            let info = owners.get(&owner);
            let names: Vec<String> = tps.iter().map(|t| t.touchpoint.clone()).collect();
            let revenue_at_risk = money::total(tps.iter().map(|t| t.revenue_at_risk));
            let after = handoffs
                .iter()
                .filter(|h| names.contains(&h.to_touchpoint))
                .filter_map(|h| h.revenue_at_risk);
            Owner {
                name: info.map(|i| i.0.clone()),
                kind: info.map(|i| i.1.clone()),
                touchpoints: names.clone(),
                interactions,
                failure_rate: rate(failures, interactions, s),
                revenue_at_risk_after_handoffs: revenue_at_risk
                    .as_ref()
                    .filter(|_| !handoffs.is_empty())
                    .map(|whole| money::part(whole, after)),
                revenue_at_risk,
                owner,
            }
        })
        .collect()
}

/// The measurable revenue at risk summed over the touchpoints (none if none is priced).
pub fn total_revenue_at_risk(j: &Journey) -> Option<Total> {
    money::total(j.touchpoints.iter().map(|t| t.revenue_at_risk))
}

/// owner_id → (name, kind) from the owners table.
pub(crate) async fn owner_info(sql: &Sql) -> Result<BTreeMap<String, (String, String)>> {
    let (_, batches) = sql.query("SELECT owner_id, name, kind FROM owners").await?;
    let mut out = BTreeMap::new();
    for b in &batches {
        let c = Columns::new(b);
        let (id, name, kind) = (c.text("owner_id")?, c.text("name")?, c.text("kind")?);
        for r in 0..c.rows() {
            let text =
                |col: &cxray_store::decode::Column| col.str(r).unwrap_or_default().to_string();
            out.insert(text(&id), (text(&name), text(&kind)));
        }
    }
    Ok(out)
}

async fn csat_by_touchpoint(sql: &Sql, s: &Settings) -> Result<BTreeMap<String, Estimate>> {
    let slice = Slice {
        by: vec!["touchpoint".into()],
        ..Slice::default()
    };
    Ok(metrics::metric(sql, Instrument::Csat, &slice, s)
        .await?
        .into_iter()
        .filter_map(|row| Some((row.group["touchpoint"].clone()?, row.estimate)))
        .collect())
}

/// Mean CLV per valued customer, if `customer_value` exists.
pub(crate) async fn mean_clv(sql: &Sql) -> Result<Option<f64>> {
    if sql.made_by(crate::loyalty::CUSTOMER_VALUE).is_none() {
        return Ok(None);
    }
    let (_, batches) = sql
        .query("SELECT avg(clv) AS mean_clv FROM customer_value")
        .await?;
    match batches.iter().find(|b| b.num_rows() > 0) {
        Some(b) => Ok(Columns::new(b).float("mean_clv")?.f64(0)),
        None => Ok(None),
    }
}

/// The data's currency: the financials', else the first the transactions name (none
/// where neither names one).
pub async fn currency(sql: &Sql) -> Result<Option<String>> {
    if let Some(c) = financials_currency(sql).await? {
        return Ok(Some(c));
    }
    let query = "SELECT CAST(currency AS VARCHAR) AS currency FROM transactions
         WHERE currency IS NOT NULL LIMIT 1";
    first_text(sql, query).await
}

/// The currency the financials name, if any: the data's currency whatever its customers.
pub(crate) async fn financials_currency(sql: &Sql) -> Result<Option<String>> {
    let query = "SELECT max(CAST(currency AS VARCHAR)) AS currency FROM financials";
    first_text(sql, query).await
}

/// The `currency` of the query's first row.
async fn first_text(sql: &Sql, query: &str) -> Result<Option<String>> {
    let (_, batches) = sql.query(query).await?;
    for b in batches.iter().filter(|b| b.num_rows() > 0) {
        if let Some(c) = Columns::new(b).text("currency")?.str(0) {
            return Ok(Some(c.to_string()));
        }
    }
    Ok(None)
}
