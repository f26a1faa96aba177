//! `cxray loyalty predict`: per-customer value written to the `customer_value` table.
//!
//! The transaction model and Gamma-Gamma spend are fitted on the calibration summaries;
//! P(alive), expected transactions and the CLV per unit of spend are computed once per
//! distinct (x, t_x, T) pattern and then joined to every customer as their rows stream
//! out of the summary query, so memory grows with patterns, not customers. The table is
//! replaced in one commit that records the fits, the window and the data version.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use cxray_core::models::{
    ClvSpec, FitOptions, GammaGamma, ModelKind, Rfm, clv, transactions_from_fit,
};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema, SchemaRef};
use deltalake_core::DeltaTable;
use deltalake_core::kernel::Action;
use deltalake_core::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake_core::protocol::{DeltaOperation, SaveMode};
use deltalake_core::writer::{DeltaWriter, RecordBatchWriter};
use futures::StreamExt;
use serde::Serialize;

use super::fit::{FitReport, fit_summarised};
use super::summary::Window;
use crate::folder::DataFolder;
use crate::sql::Sql;
use crate::{Result, StoreError, tables};

/// The derived table's name.
pub const CUSTOMER_VALUE: &str = "customer_value";

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
    pub seconds: f64,
}

/// P(alive), expected transactions, and CLV per unit of spend.
type PatternValue = (f64, f64, f64);

fn key(x: f64, t_x: f64, t: f64) -> (u64, u64, u64) {
    (x.to_bits(), t_x.to_bits(), t.to_bits())
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
    window.materialize(sql).await?;
    let transactions = fit_summarised(sql, opts.model, &window, None, &opts.fit).await?;
    let spend = fit_summarised(sql, ModelKind::GammaGamma, &window, None, &opts.fit).await?;
    let model =
        transactions_from_fit(&transactions.fit).map_err(|e| StoreError::Input(e.to_string()))?;
    let gg = GammaGamma::from_fit(&spend.fit).map_err(|e| StoreError::Input(e.to_string()))?;
    let spec = ClvSpec {
        period_length: 1.0,
        periods: opts.horizon,
        discount_rate: (1.0 + opts.discount_rate).powf(window.unit.days() / 365.25) - 1.0,
    };
    let values = pattern_values(
        &*model,
        &super::fit::patterns(sql, &window).await?.0,
        opts.horizon as f64,
        &spec,
    );

    let mut table = open_or_create(folder).await?;
    let mut writer = RecordBatchWriter::for_table(&table)?;
    let query = "SELECT customer_id, x, t_x, t, mean_spend FROM summary";
    let mut stream = sql.context().sql(query).await?.execute_stream().await?;
    let (mut customers, mut equity, mut expected) = (0u64, 0.0, 0.0);
    let model_name = opts.model.to_string();
    while let Some(batch) = stream.next().await {
        let out = value_batch(&batch?, &values, &gg, &model_name)?;
        customers += out.num_rows() as u64;
        equity += sum(&out, "clv");
        expected += sum(&out, "expected_transactions");
        writer.write(out).await?;
    }
    let report_fits = serde_json::json!({
        "transactions": &transactions, "spend": &spend, "horizon": opts.horizon,
        "discount_rate": opts.discount_rate, "window": window,
    });
    let version = replace(&mut table, &mut writer, report_fits).await?;
    Ok(PredictReport {
        transactions,
        spend,
        customers,
        horizon: opts.horizon,
        discount_rate: opts.discount_rate,
        expected_transactions: expected,
        customer_equity: equity,
        version,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The per-pattern quantities, computed once per distinct pattern.
fn pattern_values(
    model: &(dyn cxray_core::models::TransactionModel + Send + Sync),
    patterns: &[Rfm],
    horizon: f64,
    spec: &ClvSpec,
) -> HashMap<(u64, u64, u64), PatternValue> {
    patterns
        .iter()
        .map(|p| {
            let value = (
                model.p_alive(p),
                model.expected_conditional(p, horizon),
                clv(model, p, 1.0, spec),
            );
            (key(p.x, p.t_x, p.t), value)
        })
        .collect()
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

/// One batch of `customer_value` rows from a batch of summary rows.
fn value_batch(
    batch: &RecordBatch,
    values: &HashMap<(u64, u64, u64), PatternValue>,
    gg: &GammaGamma,
    model: &str,
) -> Result<RecordBatch> {
    let col = |i: usize| batch.column(i).as_primitive::<Float64Type>();
    let (x, t_x, t, mean) = (col(1), col(2), col(3), col(4));
    let n = batch.num_rows();
    let mut out: [Vec<f64>; 4] = std::array::from_fn(|_| Vec::with_capacity(n));
    for r in 0..n {
        let (p_alive, expected, clv_per_spend) = values[&key(x.value(r), t_x.value(r), t.value(r))];
        let spend = if x.value(r) > 0.0 && !mean.is_null(r) {
            gg.conditional_expected_spend(x.value(r), mean.value(r))
        } else {
            gg.expected_spend()
        };
        for (column, v) in out
            .iter_mut()
            .zip([p_alive, expected, spend, clv_per_spend * spend])
        {
            column.push(v);
        }
    }
    let [p_alive, expected, spend, value] = out;
    let ids = cast_utf8(batch.column(0))?;
    let columns: Vec<ArrayRef> = vec![
        ids,
        batch.column(1).clone(),
        batch.column(2).clone(),
        batch.column(3).clone(),
        Arc::new(Float64Array::from(p_alive)),
        Arc::new(Float64Array::from(expected)),
        Arc::new(Float64Array::from(spend)),
        Arc::new(Float64Array::from(value)),
        Arc::new(StringArray::from(vec![model; n])),
    ];
    Ok(RecordBatch::try_new(output_schema(), columns)?)
}

fn cast_utf8(array: &ArrayRef) -> Result<ArrayRef> {
    Ok(datafusion::arrow::compute::cast(array, &DataType::Utf8)?)
}

fn sum(batch: &RecordBatch, column: &str) -> f64 {
    let col = batch
        .column_by_name(column)
        .expect("output column")
        .as_primitive::<Float64Type>();
    col.values().iter().sum()
}

async fn open_or_create(folder: &DataFolder) -> Result<DeltaTable> {
    match tables::open_derived(folder, CUSTOMER_VALUE).await? {
        Some(t) => Ok(t),
        None => {
            tables::create(
                &folder.named_table_dir(CUSTOMER_VALUE),
                CUSTOMER_VALUE,
                &output_schema(),
            )
            .await
        }
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
