//! Filtered scorecards of customer groups — a segment, a region, an attribute such as a
//! tier, or several at once — assembled from partial aggregates per cell (the customers
//! sharing their segment, region and attribute values), computed once per state of the
//! data, instead of recomputed from the raw tables through semi-joins on the group's
//! customer ids. They are kept in the data folder (`derived/groups.json`, with the key of
//! the tables' versions, the customers' valuation and the settings they depend on): `demo`
//! and `loyalty predict` prepare them, so the server's first snapshot reads them back
//! instead of computing them beside itself; after other changes the server computes and
//! keeps them.
//!
//! The cells are made of segment and region, then of the customers' text attributes in
//! the order of their number of values, each taken as long as the cells stay at most
//! [`MAX_CELLS`]; an attribute that would make more (or is not text, or shares its name
//! with a column of the answers or touchpoints) is filtered by the general path.
//!
//! Every part is additive over cells, which share no customer (customer ids are unique):
//! counts, score tallies by month, customers counted by their active quarters, sums,
//! minima and maxima. So a group's figures are those its recomputation gives (sums of
//! floating-point numbers up to their order). Where they would not be, there are no
//! partials and every view takes the general path: the window definition of defection
//! (its statements and outcomes depend on each group's last purchase), a currency taken
//! from the transactions, customers listed twice, too many cells. A group the partials
//! cannot answer exactly (no interactions, purchases or respondents; retention over more
//! quarters than one integer holds; an empty value, which a missing one would match)
//! takes the general path too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::NaiveDate;
use cxray_core::stats::{Instrument, Tally};

use crate::journey::{self, JourneyOptions, MapInputs, Partial};
use crate::loyalty::epoch_date;
use crate::metrics::{self, Defection, DefectorCounts, LinkOptions, Slice};
use crate::scorecard::{
    self, Defectors, EQUITY_SUMS, EquitySums, Figures, Financial, Parts, QUARTER_SQL, QUARTERS,
    Retention12, Scorecard,
};
use crate::settings::ProductSettings;
use cxray_store::decode::Columns;
use cxray_store::sql::{Restriction, Sql, day_sql};
use cxray_store::{DataFolder, Result};
use serde::{Deserialize, Serialize};

use layout::Layout;

pub(crate) mod layout;

/// The customers' columns every cell layout starts with.
const FIRST: [&str; 2] = ["segment", "region"];
/// More cells than this and there are no partials, or no more attributes in them (their
/// size grows with the cells).
const MAX_CELLS: u64 = 256;
/// Where the partials are kept in the data folder's `derived/`.
const STORED: &str = "groups.json";
/// Bumped when the stored partials' form or meaning change, so older ones are not read.
const FORMAT: u32 = 3;

/// A cell: the values of the layout's columns (text; empty where missing).
type Cell = Vec<String>;

/// The partial aggregates of every cell, and what is the same for every group.
pub struct Groups {
    /// The customers' columns of the cells: segment, region, then attributes.
    columns: Vec<String>,
    cells: BTreeMap<Cell, CellParts>,
    shared: Shared,
}

/// What a view of any group shares with the unfiltered data.
struct Shared {
    settings: ProductSettings,
    journey: JourneyOptions,
    financials: Vec<Financial>,
    currency: Option<String>,
    owners: BTreeMap<String, (String, String)>,
    /// The first kept quarter of the cells' `bits` ([`Retention12`]).
    first_q: i64,
    /// The customers' columns an attribute filter may name.
    attributes: Vec<String>,
}

/// One cell's partial aggregates.
#[derive(Default, Serialize, Deserialize)]
struct CellParts {
    customers: u64,
    with_interactions: u64,
    /// The last purchase day and the first and last quarter index of its purchases.
    last_day: Option<i64>,
    quarters: Option<(i64, i64)>,
    /// Customers by their active quarters relative to [`Shared::first_q`].
    bits: Vec<(u64, u64)>,
    #[serde(with = "months")]
    nps: BTreeMap<NaiveDate, Tally>,
    #[serde(with = "months")]
    grade: BTreeMap<NaiveDate, Tally>,
    equity: EquitySums,
    /// Customers with a CLV.
    valued: u64,
    /// By the month of the last answer (its first day).
    link: BTreeMap<NaiveDate, DefectorCounts>,
    journey: journey::Months,
}

/// What the partials are computed from: the tables' versions, how the customers were
/// valued, and the settings they depend on (not the bootstrap's resamples).
#[derive(Serialize)]
struct Key<'a> {
    format: u32,
    versions: BTreeMap<&'static str, u64>,
    customer_value: Option<&'a serde_json::Value>,
    settings: ProductSettings,
    /// The journey's window, service levels and placements.
    journey: String,
}

impl<'a> Key<'a> {
    fn new(sql: &'a Sql, settings: &ProductSettings, journey: &JourneyOptions) -> Self {
        Key {
            format: FORMAT,
            versions: sql.versions().iter().map(|(t, v)| (t.name(), *v)).collect(),
            customer_value: sql.made_by(crate::loyalty::CUSTOMER_VALUE),
            settings: ProductSettings {
                resamples: 0,
                ..*settings
            },
            journey: format!(
                "{} {:?} {:?}",
                journey.window_days, journey.slas, journey.placements
            ),
        }
    }

    fn hash(&self) -> Result<String> {
        Ok(blake3::hash(&serde_json::to_vec(self)?)
            .to_hex()
            .to_string())
    }
}

/// The partials as kept, with the key of what they were computed from.
#[derive(Serialize, Deserialize)]
struct Stored {
    key: String,
    columns: Vec<String>,
    first_q: i64,
    cells: Vec<(Cell, CellParts)>,
}

/// The stored partials at `path` if they were computed from `key` (none when missing,
/// unreadable or of other data).
fn read(path: &Path, key: &str) -> Option<Stored> {
    let text = std::fs::read(path).ok()?;
    match serde_json::from_slice::<Stored>(&text) {
        Ok(stored) => (stored.key == key).then_some(stored),
        Err(e) => {
            tracing::warn!("{}: not read, computed again: {e}", path.display());
            None
        }
    }
}

/// Keeps the partials at `path` (written beside it, then renamed into place); a failure
/// is logged: they are computed again next time.
fn store(path: &Path, key: &str, computed: &Computed) {
    #[derive(Serialize)]
    struct Writing<'a> {
        key: &'a str,
        columns: &'a [String],
        first_q: i64,
        cells: Vec<(&'a Cell, &'a CellParts)>,
    }
    let stored = Writing {
        key,
        columns: &computed.columns,
        first_q: computed.first_q,
        cells: computed.cells.iter().collect(),
    };
    let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
    let written = serde_json::to_vec(&stored)
        .map_err(std::io::Error::other)
        .and_then(|json| {
            std::fs::create_dir_all(path.parent().expect("a folder"))?;
            std::fs::write(&tmp, json)?;
            std::fs::rename(&tmp, path)
        });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        tracing::warn!("{}: partials not kept: {e}", path.display());
    }
}

/// Monthly tallies kept as (epoch day of the month's first day, tally) pairs.
mod months {
    use std::collections::BTreeMap;

    use chrono::NaiveDate;
    use cxray_core::stats::Tally;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        tallies: &BTreeMap<NaiveDate, Tally>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let day = |d: &NaiveDate| crate::loyalty::epoch_day(*d);
        s.collect_seq(tallies.iter().map(|(d, t)| (day(d), t)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<NaiveDate, Tally>, D::Error> {
        let pairs = Vec::<(i64, Tally)>::deserialize(d)?;
        Ok(pairs
            .into_iter()
            .map(|(e, t)| (crate::loyalty::epoch_date(e), t))
            .collect())
    }
}

impl Groups {
    /// The partial aggregates of the unrestricted session's data: read back when they are
    /// stored for this state of the data and these settings, else computed and stored;
    /// none where they could not give a group's figures exactly (see the module's
    /// documentation).
    pub async fn load(
        sql: &Sql,
        folder: &DataFolder,
        settings: &ProductSettings,
    ) -> Result<Option<Groups>> {
        let started = std::time::Instant::now();
        let link = settings.link_options(sql);
        if sql.restriction().is_some() || matches!(link.defection, Defection::Window) {
            return Ok(None);
        }
        let ops = folder.ops_db()?;
        let journey = &JourneyOptions::of_product(&ops, settings)?;
        let Some(currency) = journey::financials_currency(sql).await? else {
            return Ok(None);
        };
        let path = folder.root().join("derived").join(STORED);
        let key = Key::new(sql, settings, journey).hash()?;
        let (computed, read) = match read(&path, &key) {
            Some(stored) => (
                Computed {
                    columns: stored.columns,
                    cells: stored.cells.into_iter().collect(),
                    first_q: stored.first_q,
                },
                true,
            ),
            None => {
                let Some(computed) = compute(sql, journey, &link).await? else {
                    return Ok(None);
                };
                store(&path, &key, &computed);
                (computed, false)
            }
        };
        let Computed {
            columns,
            cells,
            first_q,
        } = computed;
        let shared = Shared {
            settings: *settings,
            journey: journey.clone(),
            financials: scorecard::financials(sql).await?,
            currency: Some(currency),
            owners: journey::owner_info(sql).await?,
            first_q,
            attributes: crate::snapshot::attribute_columns(sql).await?,
        };
        let seconds = started.elapsed().as_secs_f64();
        tracing::debug!(
            seconds,
            cells = cells.len(),
            columns = columns.join(", "),
            read,
            "partial aggregates of customer groups"
        );
        Ok(Some(Groups {
            columns,
            cells,
            shared,
        }))
    }

    /// Computes and stores the partials of the data as it is now, unless they are stored:
    /// run after the data change, so that the server's first snapshot finds them ready.
    /// Returns the seconds it took.
    pub async fn prepare(folder: &DataFolder, settings: &ProductSettings) -> Result<f64> {
        let started = std::time::Instant::now();
        let sql = Sql::open(folder, &BTreeMap::new()).await?;
        Groups::load(&sql, folder, settings).await?;
        Ok(started.elapsed().as_secs_f64())
    }

    /// The scorecard of the restriction's customers, the customers with interactions
    /// among them and their segments and regions; none unless the restriction names only
    /// columns of the cells, once each, without a period, and the partials answer it
    /// exactly.
    pub fn view(&self, r: &Restriction) -> Option<(Scorecard, u64, [Vec<String>; 2])> {
        let cells = self.matching(r)?;
        let mut sum = CellParts::default();
        for (_, parts) in &cells {
            sum.add(parts);
        }
        let (mut link, mut counts) = (DefectorCounts::default(), Partial::default());
        sum.link.values().for_each(|m| link.add(m));
        sum.journey.values().for_each(|m| counts.add(m));
        if sum.with_interactions == 0 || link.respondents == 0 {
            return None;
        }
        let s = &self.shared;
        let stats = &s.settings.stats;
        let parts = Parts {
            as_of: Some(epoch_date(sum.last_day?)),
            equity: sum.equity.equity(stats),
            equity_history: BTreeMap::new(),
            retention: self.retention(&cells)?,
            nps: sum.nps,
            grade: sum.grade,
            financials: s.financials.clone(),
            currency: s.currency.clone(),
        };
        let figures = Figures::of(parts, stats).ok()?;
        let mean_clv = (sum.valued > 0).then(|| sum.equity.clv / sum.valued as f64);
        let inputs = MapInputs {
            counts: counts.counts(),
            owners: s.owners.clone(),
            csat: BTreeMap::new(),
            mean_clv,
            currency: s.currency.clone(),
        };
        let journey = journey::without_handoffs_of(inputs, &s.journey);
        let defectors = Defectors {
            share: link.share(stats),
            by_month: sum
                .link
                .iter()
                .filter(|(_, c)| c.defectors > 0)
                .map(|(m, c)| (*m, c.satisfied()))
                .collect(),
        };
        let risk = journey::risk_of(&sum.journey, mean_clv, &s.journey);
        let card = scorecard::of_parts(figures, Ok(defectors), Ok(&journey), risk);
        let listed = cells.iter().filter(|(_, p)| p.customers > 0);
        let values = |i: usize| listed.clone().map(|(c, _)| c[i].clone()).collect();
        let (segments, regions): (BTreeSet<_>, BTreeSet<_>) = (values(0), values(1));
        let choices = [
            segments.into_iter().collect(),
            regions.into_iter().collect(),
        ];
        Some((card, sum.with_interactions, choices))
    }

    /// The customers' columns an attribute filter may name.
    pub fn attributes(&self) -> &[String] {
        &self.shared.attributes
    }

    /// The cells of a restriction by the cells' columns without a period.
    fn matching(&self, r: &Restriction) -> Option<Vec<(&Cell, &CellParts)>> {
        let wanted = wanted(r, &self.columns)?;
        let fits =
            |cell: &Cell| (wanted.iter().zip(cell)).all(|(w, value)| w.is_none_or(|w| value == w));
        Some(self.cells.iter().filter(|(c, _)| fits(c)).collect())
    }

    /// The cells' customers by their active quarters as the group's own query counts
    /// them: relative to the group's first kept quarter (none when that lies before the
    /// cells' first kept quarter).
    fn retention(&self, cells: &[(&Cell, &CellParts)]) -> Option<Retention12> {
        let spans = cells.iter().filter_map(|(_, p)| p.quarters);
        let (first, last) = spans.reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)))?;
        let first_q = first.max(last - (QUARTERS - 1));
        let shift = u32::try_from(first_q - self.shared.first_q).ok()?;
        let mut by_bits: BTreeMap<u64, u64> = BTreeMap::new();
        for (_, p) in cells {
            for &(bits, customers) in &p.bits {
                let active = bits.checked_shr(shift).unwrap_or(0);
                if active != 0 {
                    *by_bits.entry(active).or_default() += customers;
                }
            }
        }
        Some(Retention12 {
            span: (!by_bits.is_empty()).then_some((first_q, last)),
            by_bits: by_bits.into_iter().collect(),
        })
    }
}

/// Every cell's partial aggregates, with the cells' columns and the first kept quarter of
/// their retention bits.
struct Computed {
    columns: Vec<String>,
    cells: BTreeMap<Cell, CellParts>,
    first_q: i64,
}

/// Every cell's partial aggregates; none where customers are listed twice or segment and
/// region alone make too many cells.
async fn compute(
    sql: &Sql,
    journey: &JourneyOptions,
    link: &LinkOptions,
) -> Result<Option<Computed>> {
    let Some(columns) = layout::columns(sql).await? else {
        return Ok(None);
    };
    let layout = Layout::of(&columns);
    let (customers, keys) = (&layout.customers, &layout.key_refs());
    // One after the other: each joins every customer's cell, and side by side their hash
    // tables outgrow the memory pool at 10M customers.
    let Some(defectors) = metrics::defectors_by(sql, link, customers, keys).await? else {
        return Ok(None);
    };
    let (mut cells, first_q) = purchases(sql, &layout).await?;
    for (cell, counts) in defectors {
        cells.entry(cell).or_default().link = counts;
    }
    for (cell, partial) in journey::partials(sql, journey, customers, keys).await? {
        cells.entry(cell).or_default().journey = partial;
    }
    for (cell, (all, with)) in self::customers(sql, &layout).await? {
        let parts = cells.entry(cell).or_default();
        (parts.customers, parts.with_interactions) = (all, with);
    }
    for ((cell, nps), tallies) in tallies(sql, &columns).await? {
        match nps {
            true => cells.entry(cell).or_default().nps = tallies,
            false => cells.entry(cell).or_default().grade = tallies,
        }
    }
    for (cell, (sums, valued)) in equity(sql, &layout).await? {
        let parts = cells.entry(cell).or_default();
        (parts.equity, parts.valued) = (sums, valued);
    }
    Ok(Some(Computed {
        columns,
        cells,
        first_q,
    }))
}

/// The customers' columns the partials answer filters on (see the module's
/// documentation); none where there are no partials of any group.
pub async fn cell_columns(sql: &Sql) -> Result<Option<Vec<String>>> {
    layout::columns(sql).await
}

/// Whether partials may answer the restriction: customers' columns equal to values,
/// without a period (whether they do depends on the cells' columns and the data, see
/// [`Groups::view`]).
pub fn may_answer(r: &Restriction) -> bool {
    r.from.is_none() && r.to.is_none() && !r.customers.is_empty()
}

/// The value a restriction wants of each of the cells' columns (any where it names none),
/// if it names nothing else, each column once, and no empty value.
fn wanted<'a>(r: &'a Restriction, columns: &[String]) -> Option<Vec<Option<&'a str>>> {
    if !may_answer(r) {
        return None;
    }
    let mut wanted: Vec<Option<&str>> = vec![None; columns.len()];
    for (column, value) in &r.customers {
        let i = columns.iter().position(|c| c == column)?;
        if value.is_empty() || wanted[i].replace(value).is_some() {
            return None;
        }
    }
    Some(wanted)
}

impl CellParts {
    /// Adds another cell's parts (the bits are combined by [`Groups::retention`]).
    fn add(&mut self, o: &CellParts) {
        self.customers += o.customers;
        self.with_interactions += o.with_interactions;
        self.last_day = self.last_day.max(o.last_day);
        for (mine, theirs) in [(&mut self.nps, &o.nps), (&mut self.grade, &o.grade)] {
            for (month, tally) in theirs {
                match mine.get_mut(month) {
                    Some(t) => t.merge(tally).expect("tallies of one instrument"),
                    None => {
                        mine.insert(*month, tally.clone());
                    }
                }
            }
        }
        self.equity.add(&o.equity);
        self.valued += o.valued;
        for (month, counts) in &o.link {
            self.link.entry(*month).or_default().add(counts);
        }
        for (month, partial) in &o.journey {
            self.journey.entry(*month).or_default().add(partial);
        }
    }
}

/// The cell of row `r` of a result grouped by the layout's keys.
fn cell(c: &Columns, layout: &Layout, r: usize) -> Result<Cell> {
    (layout.keys.iter())
        .map(|key| Ok(c.text(key)?.str(r).unwrap_or_default().to_string()))
        .collect()
}

/// The cells' last purchase day, quarters and customers by their active quarters (see
/// `scorecard::retention`), with the first kept quarter of all purchases: each customer's
/// purchases aggregated once, then the customers counted by their cell and bits.
async fn purchases(sql: &Sql, layout: &Layout) -> Result<(BTreeMap<Cell, CellParts>, i64)> {
    let mut cells: BTreeMap<Cell, CellParts> = BTreeMap::new();
    let Some((first, _)) = scorecard::quarter_span(sql).await? else {
        return Ok((cells, 0));
    };
    let query = format!(
        "WITH per AS (
            SELECT customer_id, max(day) AS last_day, min(q) AS first_q, max(q) AS last_q,
                   bit_or(CASE WHEN q >= {first} THEN CAST(1 AS BIGINT) << (q - {first})
                               ELSE CAST(0 AS BIGINT) END) AS active
            FROM (SELECT customer_id, {day} AS day, {QUARTER_SQL} AS q FROM transactions)
            GROUP BY customer_id)
         SELECT {keys}, active, CAST(count(*) AS BIGINT) AS customers,
                max(last_day) AS last_day, min(first_q) AS first_q, max(last_q) AS last_q
         FROM per JOIN ({customers}) c ON c.cid = per.customer_id
         GROUP BY {keys}, active",
        day = day_sql("at"),
        keys = layout.keys.join(", "),
        customers = layout.customers,
    );
    for b in &sql.query(&query).await?.1 {
        let c = Columns::new(b);
        let (active, customers) = (c.int("active")?, c.int("customers")?);
        let (last, first_q, last_q) = (c.int("last_day")?, c.int("first_q")?, c.int("last_q")?);
        for r in 0..c.rows() {
            let parts = cells.entry(cell(&c, layout, r)?).or_default();
            parts.last_day = parts.last_day.max(last.i64(r));
            let span = (first_q.int_at(r)?, last_q.int_at(r)?);
            parts.quarters = Some(match parts.quarters {
                Some((a, z)) => (a.min(span.0), z.max(span.1)),
                None => span,
            });
            let active = active.int_at(r)? as u64;
            if active != 0 {
                parts.bits.push((active, customers.count(r)));
            }
        }
    }
    Ok((cells, first))
}

/// Each cell's customers, and those of them with interactions.
async fn customers(sql: &Sql, layout: &Layout) -> Result<BTreeMap<Cell, (u64, u64)>> {
    let query = format!(
        "SELECT {keys}, CAST(count(*) AS BIGINT) AS customers,
                CAST(count(i.customer_id) AS BIGINT) AS with_interactions
         FROM ({customers}) c
         LEFT JOIN (SELECT DISTINCT customer_id FROM interactions) i ON i.customer_id = c.cid
         GROUP BY {keys}",
        keys = layout.keys.join(", "),
        customers = layout.customers,
    );
    let mut out = BTreeMap::new();
    for b in &sql.query(&query).await?.1 {
        let c = Columns::new(b);
        let (all, with) = (c.int("customers")?, c.int("with_interactions")?);
        for r in 0..c.rows() {
            out.insert(cell(&c, layout, r)?, (all.count(r), with.count(r)));
        }
    }
    Ok(out)
}

/// Each cell's NPS (`true`) and grade tallies by month (as `metrics::monthly_tallies`).
async fn tallies(
    sql: &Sql,
    columns: &[String],
) -> Result<BTreeMap<(Cell, bool), BTreeMap<NaiveDate, Tally>>> {
    let slice = Slice {
        by: columns.iter().cloned().chain(["month".into()]).collect(),
        ..Slice::default()
    };
    let mut out: BTreeMap<(Cell, bool), BTreeMap<NaiveDate, Tally>> = BTreeMap::new();
    for instrument in [Instrument::Nps, Instrument::Grade] {
        for (group, tally) in metrics::grouped_tallies(sql, instrument, &slice).await? {
            let Some((Some(month), values)) = group.split_last() else {
                continue;
            };
            let Some(month) = month.get(..10).and_then(|m| m.parse().ok()) else {
                continue;
            };
            let cell = values.iter().map(|v| v.clone().unwrap_or_default());
            let key = (cell.collect(), instrument == Instrument::Nps);
            out.entry(key).or_default().insert(month, tally);
        }
    }
    Ok(out)
}

/// Each cell's sums of `customer_value` and its customers with a CLV (none without it).
async fn equity(sql: &Sql, layout: &Layout) -> Result<BTreeMap<Cell, (EquitySums, u64)>> {
    let mut out = BTreeMap::new();
    if sql.made_by(crate::loyalty::CUSTOMER_VALUE).is_none() {
        return Ok(out);
    }
    let query = format!(
        "SELECT {keys}, {EQUITY_SUMS}, CAST(count(clv) AS BIGINT) AS valued
         FROM customer_value JOIN ({customers}) c ON c.cid = customer_value.customer_id
         GROUP BY {keys}",
        keys = layout.keys.join(", "),
        customers = layout.customers,
    );
    for b in &sql.query(&query).await?.1 {
        let c = Columns::new(b);
        let valued = c.int("valued")?;
        for r in 0..c.rows() {
            out.insert(
                cell(&c, layout, r)?,
                (EquitySums::read(&c, r)?, valued.count(r)),
            );
        }
    }
    Ok(out)
}
