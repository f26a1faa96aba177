//! Writing a simulated world into the data folder: the simulator's rows become Arrow
//! batches that stream into the Delta tables, one commit per table at the end, so the
//! memory used does not grow with the number of customers.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use cxray_core::domain::{MONEY_PRECISION, MONEY_SCALE, Table};
use cxray_core::initiatives::{Initiative, Scope};
use cxray_core::models::{FitOptions, ModelKind};
use cxray_core::stats::Settings;
use cxray_core::targets::{Headline, Period};
use cxray_core::world::records::{
    CaseRow, CommentRow, CustomerRow, FinancialRow, InteractionRow, OwnerRow, ResponseRow, Sink,
    TransactionRow,
};
use cxray_core::world::truth::{COMMENTS_FILE, InitiativeTruth};
use cxray_core::world::{Truth, World, simulate_with_rules};
use datafusion::arrow::array::{
    ArrayRef, Date32Builder, Decimal128Builder, Float64Builder, Int64Builder, RecordBatch,
    StringBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use deltalake_core::kernel::transaction::CommitProperties;
use deltalake_core::writer::{DeltaWriter, RecordBatchWriter, WriteMode};
use tokio::sync::mpsc;

use crate::board::Cadence;
use crate::loyalty::{
    PredictOptions, PredictReport, TimeUnit, Window, last_purchase_date, predict,
};
use crate::metrics::MetricRow;
use cxray_store::folder::DataFolder;
use cxray_store::ops::{OpsDb, Placement, Sla};
use cxray_store::schema::{attribute_field, field};
use cxray_store::sql::Sql;
use cxray_store::{Result, StoreError, tables};

/// Rows per batch handed to a table writer.
const BATCH_ROWS: usize = 32 * 1024;
/// Parquet files are rolled at about this size.
const FILE_BYTES: u64 = 128 << 20;

/// Simulates `world` into the folder's (empty) tables; `progress` gets the number of
/// customers done. Returns the truth, also written to `truth.json`.
pub async fn build(
    folder: &DataFolder,
    world: World,
    customers: u64,
    seed: u64,
    progress: impl Fn(u64) + Send + 'static,
) -> Result<Truth> {
    Ok(
        build_with_rules(folder, world, customers, seed, None, progress)
            .await?
            .0,
    )
}

/// [`build`] with the ids of the world's follow-up rules (see
/// [`cxray_core::world::simulate_with_rules`]); also returns the cases the programme
/// opened, for the operational database ([`crate::cases::demo::record`]).
pub async fn build_with_rules(
    folder: &DataFolder,
    world: World,
    customers: u64,
    seed: u64,
    rules: Option<Vec<i64>>,
    progress: impl Fn(u64) + Send + 'static,
) -> Result<(Truth, Vec<CaseRow>)> {
    let slas: Vec<(String, f64)> = world
        .spec()
        .touchpoints
        .iter()
        .filter_map(|t| Some((t.id.clone(), t.long_wait_seconds?)))
        .collect();
    let order = journey_order(&world);
    let (tx, mut rx) = mpsc::channel::<(Table, RecordBatch)>(8);
    let comments_path = folder.truth_path().with_file_name(COMMENTS_FILE);
    let comments = match world.spec().comments {
        Some(_) => Some(CommentTruths::create(&comments_path)?),
        None => None,
    };
    let simulation = tokio::task::spawn_blocking(move || {
        let mut sink = BatchSink::new(tx, comments);
        let ids = rules.as_deref();
        let truth = simulate_with_rules(&world, customers, seed, ids, &mut sink, progress);
        sink.flush_all();
        let written = sink.comments.take().map_or(Ok(()), CommentTruths::finish);
        (truth, std::mem::take(&mut sink.cases), written)
    });
    let mut writers = Vec::new();
    for table in Table::ALL {
        let delta = tables::open(folder, table, None).await?;
        let properties = CommitProperties::default()
            .with_metadata([("cxray.operation".to_string(), serde_json::json!("demo"))]);
        let writer = RecordBatchWriter::for_table(&delta)?
            .with_commit_properties(properties)
            .with_target_file_size(FILE_BYTES);
        writers.push((table, delta, writer));
    }
    while let Some((table, batch)) = rx.recv().await {
        let (_, _, writer) = writers
            .iter_mut()
            .find(|(t, _, _)| *t == table)
            .expect("every table has a writer");
        writer
            .write_with_mode(batch, WriteMode::MergeSchema)
            .await?;
    }
    let (truth, cases, written) = simulation
        .await
        .map_err(|e| StoreError::Input(format!("simulation failed: {e}")))?;
    written.map_err(|e| StoreError::io(&comments_path, e))?;
    for (_, mut delta, mut writer) in writers {
        writer.flush_and_commit(&mut delta).await?;
    }
    // The world's long-wait limits are the touchpoints' service levels.
    let ops = folder.ops_db()?;
    for (touchpoint, max_wait) in slas {
        let sla = Sla {
            max_wait_seconds: Some(max_wait),
            max_failure_rate: None,
        };
        ops.set_sla("demo", &touchpoint, sla)?;
    }
    for (touchpoint, position) in order {
        let placement = Placement {
            position: Some(position),
            ..Placement::default()
        };
        ops.set_placement("demo", &touchpoint, &placement)?;
    }
    if let Some(planted) = &truth.initiative {
        register(&ops, planted)?;
    }
    let path = folder.truth_path();
    std::fs::write(&path, serde_json::to_string_pretty(&truth)?)
        .map_err(|e| StoreError::io(&path, e))?;
    Ok((truth, cases))
}

/// Records the world's planted initiative (once): its site's airport, its touchpoints, its
/// date.
fn register(ops: &OpsDb, planted: &InitiativeTruth) -> Result<()> {
    if ops.initiatives()?.iter().any(|i| i.name == planted.name) {
        return Ok(());
    }
    let start = planted
        .date
        .parse()
        .map_err(|e| StoreError::Input(format!("initiative date {}: {e}", planted.date)))?;
    let touchpoints = planted
        .failure_rates
        .iter()
        .map(|r| r.touchpoint.clone())
        .collect();
    let scope = Scope {
        touchpoints,
        column: "airport".into(),
        values: vec![planted.site.clone()],
    };
    let initiative = Initiative {
        notes: "planted by the demo world; what it really did is in truth.json".into(),
        ..Initiative::new(planted.name.clone(), scope, start)
    };
    ops.add_initiative("demo", &initiative)
}

/// The world's journey order as placements' positions (1 first), stage by stage in the
/// order the world lists them, counted on across journeys so journeys keep their order.
fn journey_order(world: &World) -> Vec<(String, i64)> {
    let spec = world.spec();
    let stages = spec.stages.iter();
    let ordered = stages.flat_map(|s| spec.touchpoints.iter().filter(|t| t.stage == s.id));
    ordered.zip(1..).map(|(t, p)| (t.id.clone(), p)).collect()
}

/// Values the demo world's customers as an analyst would: MBG/NBD (the world's purchase
/// process) and Gamma-Gamma fitted by week on all purchases, P(alive) at the last purchase
/// day, CLV over 52 weeks at 10% a year, written to `customer_value`.
pub async fn value(folder: &DataFolder) -> Result<PredictReport> {
    let sql = Sql::open(folder, &BTreeMap::new()).await?;
    let opts = PredictOptions {
        model: ModelKind::MbgNbd,
        window: Window {
            unit: TimeUnit::Week,
            calibration_end: last_purchase_date(&sql).await?,
            holdout_end: None,
        },
        horizon: 52,
        discount_rate: 0.1,
        fit: FitOptions::default(),
    };
    predict(folder, &sql, &opts).await
}

fn schema(table: Table, attributes: &[&str]) -> SchemaRef {
    let mut fields: Vec<Field> = table.columns().iter().map(field).collect();
    fields.extend(attributes.iter().map(|a| attribute_field(a)));
    Arc::new(Schema::new(fields))
}

fn text(b: &mut StringBuilder, value: &str) {
    if value.is_empty() {
        b.append_null()
    } else {
        b.append_value(value)
    }
}

fn micros() -> TimestampMicrosecondBuilder {
    TimestampMicrosecondBuilder::new().with_timezone("UTC")
}

fn money() -> Decimal128Builder {
    Decimal128Builder::new()
        .with_precision_and_scale(MONEY_PRECISION, MONEY_SCALE as i8)
        .expect("valid decimal")
}

fn to_money(amount: f64) -> i128 {
    (amount * 10f64.powi(MONEY_SCALE as i32)).round() as i128
}

/// Column builders for one table's rows.
trait Rows {
    const TABLE: Table;
    const ATTRIBUTES: &'static [&'static str];
    fn len(&self) -> usize;
    fn columns(&mut self) -> Vec<ArrayRef>;
}

/// Declares a table's builders, in schema order (contract columns, then attributes).
macro_rules! rows {
    ($name:ident, $table:expr, [$($attr:literal),*], { $($field:ident: $builder:ty = $init:expr),* $(,)? }) => {
        struct $name {
            n: usize,
            $($field: $builder),*
        }

        impl Default for $name {
            fn default() -> Self {
                $name { n: 0, $($field: $init),* }
            }
        }

        impl Rows for $name {
            const TABLE: Table = $table;
            const ATTRIBUTES: &'static [&'static str] = &[$($attr),*];
            fn len(&self) -> usize {
                self.n
            }
            fn columns(&mut self) -> Vec<ArrayRef> {
                self.n = 0;
                vec![$(Arc::new(self.$field.finish()) as ArrayRef),*]
            }
        }
    };
}

rows!(Customers, Table::Customers, ["tier", "home_airport", "language"], {
    id: StringBuilder = StringBuilder::new(),
    first_seen: TimestampMicrosecondBuilder = micros(),
    segment: StringBuilder = StringBuilder::new(),
    region: StringBuilder = StringBuilder::new(),
    tier: StringBuilder = StringBuilder::new(),
    home_airport: StringBuilder = StringBuilder::new(),
    language: StringBuilder = StringBuilder::new(),
});

rows!(Transactions, Table::Transactions, ["airport"], {
    id: StringBuilder = StringBuilder::new(),
    at: TimestampMicrosecondBuilder = micros(),
    amount: Decimal128Builder = money(),
    order_id: StringBuilder = StringBuilder::new(),
    quantity: Int64Builder = Int64Builder::new(),
    currency: StringBuilder = StringBuilder::new(),
    airport: StringBuilder = StringBuilder::new(),
});

rows!(Interactions, Table::Interactions, ["airport", "order_id"], {
    id: StringBuilder = StringBuilder::new(),
    at: TimestampMicrosecondBuilder = micros(),
    touchpoint: StringBuilder = StringBuilder::new(),
    journey: StringBuilder = StringBuilder::new(),
    stage: StringBuilder = StringBuilder::new(),
    owner: StringBuilder = StringBuilder::new(),
    channel: StringBuilder = StringBuilder::new(),
    outcome: StringBuilder = StringBuilder::new(),
    wait_seconds: Float64Builder = Float64Builder::new(),
    airport: StringBuilder = StringBuilder::new(),
    order_id: StringBuilder = StringBuilder::new(),
});

rows!(Responses, Table::Responses, ["order_id"], {
    id: StringBuilder = StringBuilder::new(),
    at: TimestampMicrosecondBuilder = micros(),
    instrument: StringBuilder = StringBuilder::new(),
    score: Float64Builder = Float64Builder::new(),
    touchpoint: StringBuilder = StringBuilder::new(),
    comment: StringBuilder = StringBuilder::new(),
    order_id: StringBuilder = StringBuilder::new(),
});

rows!(Owners, Table::Owners, [], {
    id: StringBuilder = StringBuilder::new(),
    name: StringBuilder = StringBuilder::new(),
    kind: StringBuilder = StringBuilder::new(),
    sla_hours: Float64Builder = Float64Builder::new(),
    contact: StringBuilder = StringBuilder::new(),
});

rows!(Financials, Table::Financials, [], {
    period: Date32Builder = Date32Builder::new(),
    metric: StringBuilder = StringBuilder::new(),
    value: Float64Builder = Float64Builder::new(),
    currency: StringBuilder = StringBuilder::new(),
});

/// A [`Sink`] that fills the builders and sends full batches to the table writers.
struct BatchSink {
    tx: mpsc::Sender<(Table, RecordBatch)>,
    customers: Customers,
    transactions: Transactions,
    interactions: Interactions,
    responses: Responses,
    owners: Owners,
    financials: Financials,
    /// The follow-up programme's cases, kept for the operational database.
    cases: Vec<CaseRow>,
    /// The comments' truth file, when the world writes comments from templates.
    comments: Option<CommentTruths>,
}

/// Each comment's truth, a line at a time into [`COMMENTS_FILE`] (the first write error
/// kept and reported at the end).
struct CommentTruths {
    out: std::io::BufWriter<std::fs::File>,
    error: Option<std::io::Error>,
}

impl CommentTruths {
    fn create(path: &std::path::Path) -> Result<Self> {
        use std::io::Write;
        let file = std::fs::File::create(path).map_err(|e| StoreError::io(path, e))?;
        let mut out = std::io::BufWriter::new(file);
        writeln!(out, "order_id\ttouchpoint\tlanguage\ttopics\tpersonal")
            .map_err(|e| StoreError::io(path, e))?;
        Ok(CommentTruths { out, error: None })
    }

    fn write(&mut self, r: &CommentRow) {
        use std::io::Write;
        if self.error.is_some() {
            return;
        }
        let line = writeln!(
            self.out,
            "{}\t{}\t{}\t{}\t{}",
            r.order_id,
            r.touchpoint,
            r.language,
            r.topics.join("|"),
            r.personal.as_deref().unwrap_or("")
        );
        self.error = line.err();
    }

    fn finish(mut self) -> std::io::Result<()> {
        use std::io::Write;
        match self.error.take() {
            Some(e) => Err(e),
            None => self.out.flush(),
        }
    }
}

impl BatchSink {
    fn new(tx: mpsc::Sender<(Table, RecordBatch)>, comments: Option<CommentTruths>) -> Self {
        BatchSink {
            tx,
            comments,
            customers: Customers::default(),
            transactions: Transactions::default(),
            interactions: Interactions::default(),
            responses: Responses::default(),
            owners: Owners::default(),
            financials: Financials::default(),
            cases: Vec::new(),
        }
    }

    /// Sends the rows of `rows` as a batch if there are at least `min` of them.
    fn send<R: Rows>(tx: &mpsc::Sender<(Table, RecordBatch)>, rows: &mut R, min: usize) {
        if rows.len() == 0 || rows.len() < min {
            return;
        }
        let batch = RecordBatch::try_new(schema(R::TABLE, R::ATTRIBUTES), rows.columns())
            .expect("columns match the schema");
        // A closed channel means the writer failed; its error is reported by `build`.
        let _ = tx.blocking_send((R::TABLE, batch));
    }

    fn flush_all(&mut self) {
        Self::send(&self.tx, &mut self.customers, 0);
        Self::send(&self.tx, &mut self.transactions, 0);
        Self::send(&self.tx, &mut self.interactions, 0);
        Self::send(&self.tx, &mut self.responses, 0);
        Self::send(&self.tx, &mut self.owners, 0);
        Self::send(&self.tx, &mut self.financials, 0);
    }
}

impl Sink for BatchSink {
    fn case(&mut self, row: CaseRow) {
        self.cases.push(row);
    }
    fn customer(&mut self, r: CustomerRow) {
        let b = &mut self.customers;
        b.id.append_value(&r.customer_id);
        b.first_seen.append_value(r.first_seen);
        text(&mut b.segment, &r.segment);
        text(&mut b.region, &r.region);
        text(&mut b.tier, &r.tier);
        text(&mut b.home_airport, &r.home_airport);
        text(&mut b.language, &r.language);
        b.n += 1;
        Self::send(&self.tx, b, BATCH_ROWS);
    }

    fn transaction(&mut self, r: TransactionRow) {
        let b = &mut self.transactions;
        b.id.append_value(&r.customer_id);
        b.at.append_value(r.at);
        b.amount.append_value(to_money(r.amount));
        text(&mut b.order_id, &r.order_id);
        b.quantity.append_value(r.quantity);
        text(&mut b.currency, &r.currency);
        text(&mut b.airport, &r.airport);
        b.n += 1;
        Self::send(&self.tx, b, BATCH_ROWS);
    }

    fn interaction(&mut self, r: InteractionRow) {
        let b = &mut self.interactions;
        b.id.append_value(&r.customer_id);
        b.at.append_value(r.at);
        b.touchpoint.append_value(&r.touchpoint);
        text(&mut b.journey, &r.journey);
        text(&mut b.stage, &r.stage);
        text(&mut b.owner, &r.owner);
        text(&mut b.channel, &r.channel);
        text(&mut b.outcome, &r.outcome);
        b.wait_seconds.append_value(r.wait_seconds);
        text(&mut b.airport, &r.airport);
        text(&mut b.order_id, &r.order_id);
        b.n += 1;
        Self::send(&self.tx, b, BATCH_ROWS);
    }

    fn response(&mut self, r: ResponseRow) {
        let b = &mut self.responses;
        b.id.append_value(&r.customer_id);
        b.at.append_value(r.at);
        b.instrument.append_value(&r.instrument);
        b.score.append_value(r.score);
        text(&mut b.touchpoint, &r.touchpoint);
        text(&mut b.comment, &r.comment);
        text(&mut b.order_id, &r.order_id);
        b.n += 1;
        Self::send(&self.tx, b, BATCH_ROWS);
    }

    fn owner(&mut self, r: OwnerRow) {
        let b = &mut self.owners;
        b.id.append_value(&r.owner_id);
        b.name.append_value(&r.name);
        b.kind.append_value(&r.kind);
        b.sla_hours.append_option(r.sla_hours);
        text(&mut b.contact, &r.contact);
        b.n += 1;
        Self::send(&self.tx, b, BATCH_ROWS);
    }

    fn comment(&mut self, r: CommentRow) {
        if let Some(c) = &mut self.comments {
            c.write(&r);
        }
    }

    fn financial(&mut self, r: FinancialRow) {
        let b = &mut self.financials;
        b.period.append_value(r.period);
        b.metric.append_value(&r.metric);
        b.value.append_value(r.value);
        text(&mut b.currency, &r.currency);
        b.n += 1;
        Self::send(&self.tx, b, BATCH_ROWS);
    }
}

/// Targets for the demo world's latest quarter, set from its own figures so the
/// scorecard shows each status at any size: NPS met (below its interval), the grade
/// point average missed (above its interval), retention undecided (at its estimate).
pub async fn targets(folder: &DataFolder) -> Result<Vec<(Headline, Period, f64)>> {
    let sql = Sql::open(folder, &BTreeMap::new()).await?;
    let figures = crate::scorecard::figures(&sql, &Settings::default()).await?;
    let (nps, grade, retention) = figures.latest();
    let quarter = |day: Option<NaiveDate>| -> Option<Period> {
        let q = Cadence::Quarter;
        q.name(q.start(day?)).parse().ok()
    };
    let of_row = |row: &MetricRow| {
        let day = row
            .group
            .get("quarter")?
            .as_deref()?
            .get(..10)?
            .parse()
            .ok();
        Some((quarter(day)?, row.estimate))
    };
    let mut out = Vec::new();
    if let Some((period, e)) = nps.and_then(of_row) {
        out.push((
            Headline::Nps,
            period,
            (e.low.unwrap_or(e.value) - 5.0).floor().max(-100.0),
        ));
    }
    if let Some((period, e)) = grade.and_then(of_row) {
        let above = (e.high.unwrap_or(e.value) + 0.2).min(4.0);
        out.push((Headline::Grade, period, (above * 10.0).ceil() / 10.0));
    }
    if let Some(r) = retention
        && let Some(period) = quarter(Some(r.quarter_end))
    {
        let at = (r.retained.value * 1000.0).round() / 1000.0;
        out.push((Headline::Retention, period, at));
    }
    Ok(out)
}
