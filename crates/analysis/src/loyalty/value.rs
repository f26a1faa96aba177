//! `cxray loyalty predict`: per-customer value written to the `customer_value` table.
//!
//! The calibration summary rows are read once and compressed into unique (x, t_x, T) and
//! (x, mean spend) patterns, each row keeping the index of its pattern. The transaction
//! model and Gamma-Gamma spend are fitted on the patterns; P(alive), expected transactions
//! and the CLV per unit of spend are computed once per pattern and given to every
//! customer by that index. The table is replaced in one commit that records the fits, the
//! window and the data version.

use std::sync::Arc;
use std::time::Instant;

use cxray_core::models::{
    ClvSpec, FitOptions, GammaGamma, ModelKind, PatternValue, Rfm, SpendPattern, fit_transactions,
    pattern_values,
};
use datafusion::arrow::array::{ArrayRef, AsArray, Float64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema, SchemaRef};
use datafusion::common::HashMap;
use deltalake_core::DeltaTable;
use deltalake_core::kernel::Action;
use deltalake_core::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake_core::parquet::basic::Compression;
use deltalake_core::parquet::file::properties::WriterProperties;
use deltalake_core::parquet::schema::types::ColumnPath;
use deltalake_core::protocol::{DeltaOperation, SaveMode};
use deltalake_core::writer::{DeltaWriter, RecordBatchWriter};
use serde::Serialize;

use super::fit::{FitReport, nothing_to_fit, report};
use super::history::{self, Valuer};
use super::summary::{Summaries, Window};
use cxray_store::decode::Columns;
use cxray_store::folder::DataFolder;
use cxray_store::sql::Sql;
use cxray_store::{Result, StoreError, tables};

/// The derived table's name.
pub use cxray_store::tables::CUSTOMER_VALUE;
/// Where its commit records equity at earlier month ends ([`history::valuations`]).
pub const EQUITY_AT: &str = "equity_at";

/// What to predict.
#[derive(Debug, Clone)]
pub struct PredictOptions {
    /// BG/NBD, MBG/NBD or Pareto/NBD.
    pub model: ModelKind,
    /// The calibration period (its end is the "now" of the prediction).
    pub window: Window,
    /// Horizon of expected transactions and CLV, in the window's time units.
    pub horizon: u32,
    /// Annual discount rate, applied per time unit as (1 + d)^(unit/year) − 1.
    pub discount_rate: f64,
    pub fit: FitOptions,
}

/// The outcome of a prediction.
#[derive(Debug, Clone, Serialize)]
pub struct PredictReport {
    pub transactions: FitReport,
    pub spend: FitReport,
    pub customers: u64,
    pub horizon: u32,
    pub discount_rate: f64,
    /// Σ expected transactions over the horizon.
    pub expected_transactions: f64,
    /// Σ CLV: the discounted value of every customer's expected future purchases.
    pub customer_equity: f64,
    /// The `customer_value` version written.
    pub version: u64,
    /// Summarising the transactions.
    pub summary_seconds: f64,
    /// Reading the summaries into patterns and fitting both models.
    pub fit_seconds: f64,
    /// Every customer's values, ready to write.
    pub predict_seconds: f64,
    /// Equity at the month ends before the calibration end ([`history`]).
    pub history_seconds: f64,
    /// Writing and committing `customer_value`.
    pub write_seconds: f64,
    pub seconds: f64,
}

/// Fits, predicts every customer and replaces `customer_value`.
pub async fn predict(
    folder: &DataFolder,
    sql: &Sql,
    opts: &PredictOptions,
) -> Result<PredictReport> {
    let started = Instant::now();
    if !matches!(
        opts.model,
        ModelKind::BgNbd | ModelKind::MbgNbd | ModelKind::ParetoNbd
    ) {
        return Err(StoreError::Input(format!(
            "predict needs a transaction model (bgnbd, mbgnbd or pnbd), not {}",
            opts.model
        )));
    }
    let window = Window {
        holdout_end: None,
        ..opts.window
    };
    let summaries = window.summarise(sql).await?;
    let summary_seconds = started.elapsed().as_secs_f64();

    let fits_started = Instant::now();
    let customers = Customers::read(&summaries).await?;
    let fit_started = Instant::now();
    let (model, fit) = fit_transactions(opts.model, &customers.patterns, &opts.fit)
        .map_err(StoreError::analysis)?;
    let transactions = report(sql, fit, Some(&window), fit_started);
    let fit_started = Instant::now();
    let (gg, fit) = GammaGamma::fit(&customers.spend, &opts.fit)
        .map_err(|e| StoreError::analysis(e).within(ModelKind::GammaGamma))?;
    let spend = report(sql, fit, Some(&window), fit_started);
    let fit_seconds = fits_started.elapsed().as_secs_f64();

    let predict_started = Instant::now();
    let spec = ClvSpec {
        period_length: 1.0,
        periods: opts.horizon,
        discount_rate: (1.0 + opts.discount_rate).powf(window.unit.years()) - 1.0,
    };
    let values = pattern_values(&*model, &customers.patterns, opts.horizon as f64, &spec);
    let outputs = customers.value_batches(&values, &gg, &opts.model.to_string())?;
    let (equity, expected) = outputs.iter().fold((0.0, 0.0), |(e, x), b| {
        (e + sum(b, "clv"), x + sum(b, "expected_transactions"))
    });
    let predict_seconds = predict_started.elapsed().as_secs_f64();

    let history_started = Instant::now();
    let valuer = Valuer {
        model: &*model,
        spend: &gg,
        horizon: opts.horizon as f64,
        spec,
    };
    let equity_at = history::valuations(&summaries, &valuer).await?;
    let history_seconds = history_started.elapsed().as_secs_f64();

    let write_started = Instant::now();
    let mut table = open_or_create(folder).await?;
    let mut writer =
        RecordBatchWriter::for_table(&table)?.with_writer_properties(parquet_settings());
    for out in outputs {
        writer.write(out).await?;
    }
    let mut report_fits = serde_json::json!({
        "transactions": &transactions, "spend": &spend, "horizon": opts.horizon,
        "discount_rate": opts.discount_rate, "window": window,
    });
    report_fits[EQUITY_AT] = serde_json::to_value(&equity_at)?;
    let version = replace(&mut table, &mut writer, report_fits).await?;
    Ok(PredictReport {
        transactions,
        spend,
        customers: customers.pattern.len() as u64,
        horizon: opts.horizon,
        discount_rate: opts.discount_rate,
        expected_transactions: expected,
        customer_equity: equity,
        version,
        summary_seconds,
        fit_seconds,
        predict_seconds,
        history_seconds,
        write_seconds: write_started.elapsed().as_secs_f64(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Every customer's summary row, and the unique patterns the customers share.
struct Customers {
    /// Rows of customer_id, x, t_x, t, mean_spend.
    batches: Vec<RecordBatch>,
    /// Each row's index into `patterns`, batch after batch.
    pattern: Vec<u32>,
    /// Unique (x, t_x, T) patterns, weighted by their customers.
    patterns: Vec<Rfm>,
    /// Unique (x, mean spend) patterns of customers with positive repeat spend.
    spend: Vec<SpendPattern>,
}

impl Customers {
    /// Reads the summaries and compresses them.
    async fn read(summaries: &Summaries) -> Result<Self> {
        let (_, batches) = summaries
            .sql()
            .query("SELECT customer_id, x, t_x, t, mean_spend FROM summary")
            .await?;
        let mut rfm_index: HashMap<(u64, u64, u64), u32> = HashMap::default();
        let mut spend_index: HashMap<(u64, u64), usize> = HashMap::default();
        let (mut patterns, mut spend, mut pattern) = (Vec::new(), Vec::new(), Vec::new());
        for batch in &batches {
            let c = Columns::new(batch);
            let (x, t_x, t) = (c.float("x")?, c.float("t_x")?, c.float("t")?);
            let mean = c.float("mean_spend")?;
            for r in 0..c.rows() {
                let (x, t_x, t) = (x.float_at(r)?, t_x.float_at(r)?, t.float_at(r)?);
                let i = *rfm_index
                    .entry((x.to_bits(), t_x.to_bits(), t.to_bits()))
                    .or_insert_with(|| {
                        patterns.push(Rfm {
                            x,
                            t_x,
                            t,
                            weight: 0.0,
                        });
                        (patterns.len() - 1) as u32
                    });
                patterns[i as usize].weight += 1.0;
                pattern.push(i);
                if let Some(mean_spend) = mean.f64(r).filter(|&m| x > 0.0 && m > 0.0) {
                    let j = *spend_index
                        .entry((x.to_bits(), mean_spend.to_bits()))
                        .or_insert_with(|| {
                            spend.push(SpendPattern {
                                x,
                                mean_spend,
                                weight: 0.0,
                            });
                            spend.len() - 1
                        });
                    spend[j].weight += 1.0;
                }
            }
        }
        if patterns.is_empty() {
            return Err(nothing_to_fit(summaries.window()));
        }
        Ok(Customers {
            batches,
            pattern,
            patterns,
            spend,
        })
    }

    /// The `customer_value` rows: each customer's pattern values and expected spend, the
    /// first and second half of the batches on two threads.
    fn value_batches(
        &self,
        values: &[PatternValue],
        gg: &GammaGamma,
        model: &str,
    ) -> Result<Vec<RecordBatch>> {
        let mut offset = 0;
        let work: Vec<(&RecordBatch, &[u32])> = self
            .batches
            .iter()
            .map(|batch| {
                let rows = &self.pattern[offset..offset + batch.num_rows()];
                offset += batch.num_rows();
                (batch, rows)
            })
            .collect();
        let (first, second) = work.split_at(work.len() / 2);
        let make = |part: &[(&RecordBatch, &[u32])]| -> Result<Vec<RecordBatch>> {
            part.iter()
                .map(|(batch, rows)| value_batch(batch, rows, values, gg, model))
                .collect()
        };
        let (first, second) = std::thread::scope(|scope| {
            let second = scope.spawn(|| make(second));
            (make(first), second.join().expect("value thread"))
        });
        let mut out = first?;
        out.extend(second?);
        Ok(out)
    }
}

fn output_schema() -> SchemaRef {
    let f = |name: &str| Field::new(name, DataType::Float64, false);
    Arc::new(Schema::new(vec![
        Field::new("customer_id", DataType::Utf8, false),
        f("x"),
        f("t_x"),
        f("t"),
        f("p_alive"),
        f("expected_transactions"),
        f("expected_spend"),
        f("clv"),
        Field::new("model", DataType::Utf8, false),
    ]))
}

/// One batch of `customer_value` rows from a batch of summary rows and their patterns.
fn value_batch(
    batch: &RecordBatch,
    patterns: &[u32],
    values: &[PatternValue],
    gg: &GammaGamma,
    model: &str,
) -> Result<RecordBatch> {
    let c = Columns::new(batch);
    let (x, t_x, t, mean) = (
        c.float("x")?,
        c.float("t_x")?,
        c.float("t")?,
        c.float("mean_spend")?,
    );
    let n = c.rows();
    let mut out: [Vec<f64>; 4] = std::array::from_fn(|_| Vec::with_capacity(n));
    for (r, &p) in patterns.iter().enumerate() {
        let value = values[p as usize];
        let spend = match (x.float_at(r)?, mean.f64(r)) {
            (x, Some(mean)) if x > 0.0 => gg.conditional_expected_spend(x, mean),
            _ => gg.expected_spend(),
        };
        for (column, v) in out.iter_mut().zip([
            value.p_alive,
            value.expected,
            spend,
            value.clv_per_spend * spend,
        ]) {
            column.push(v);
        }
    }
    let [p_alive, expected, spend, value] = out;
    let columns: Vec<ArrayRef> = vec![
        c.text("customer_id")?.array().clone(),
        x.array().clone(),
        t_x.array().clone(),
        t.array().clone(),
        Arc::new(Float64Array::from(p_alive)),
        Arc::new(Float64Array::from(expected)),
        Arc::new(Float64Array::from(spend)),
        Arc::new(Float64Array::from(value)),
        Arc::new(StringArray::from(vec![model; n])),
    ];
    Ok(RecordBatch::try_new(output_schema(), columns)?)
}

fn sum(batch: &RecordBatch, column: &str) -> f64 {
    let col = batch
        .column_by_name(column)
        .expect("output column")
        .as_primitive::<Float64Type>();
    col.values().iter().sum()
}

/// Snappy as the writer's default, dictionaries only for the `model` column: ids and
/// values are nearly all distinct, and dictionary attempts on them cost most of the write.
fn parquet_settings() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_dictionary_enabled(false)
        .set_column_dictionary_enabled(ColumnPath::from("model"), true)
        .build()
}

async fn open_or_create(folder: &DataFolder) -> Result<DeltaTable> {
    match tables::open_derived(folder, CUSTOMER_VALUE).await? {
        Some(t) => Ok(t),
        None => tables::create(folder, CUSTOMER_VALUE, &output_schema()).await,
    }
}

/// Commits the written files as the table's whole content (removing the previous
/// files), recording how the values were made.
async fn replace(
    table: &mut DeltaTable,
    writer: &mut RecordBatchWriter,
    made_by: serde_json::Value,
) -> Result<u64> {
    let snapshot = table.snapshot()?;
    let mut actions: Vec<Action> = writer.flush().await?.into_iter().map(Action::Add).collect();
    actions.extend(
        snapshot
            .log_data()
            .iter()
            .map(|f| Action::Remove(f.remove_action(true))),
    );
    let properties = CommitProperties::default().with_metadata([
        (
            "cxray.operation".to_string(),
            serde_json::json!("loyalty predict"),
        ),
        ("cxray.made_by".to_string(), made_by),
    ]);
    let operation = DeltaOperation::Write {
        mode: SaveMode::Overwrite,
        partition_by: None,
        predicate: None,
    };
    let finalized = CommitBuilder::from(properties)
        .with_actions(actions)
        .build(Some(snapshot), table.log_store(), operation)
        .await?;
    Ok(finalized.version())
}
