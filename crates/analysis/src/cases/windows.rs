//! Each case's purchases and spend in windows after its opening day and in as many days
//! before it: the cases enter the plan as a record batch (a value, never a table named in
//! the session), joined with `transactions` on the customer, summed per case and window,
//! and read back by column name.

use std::collections::HashMap;
use std::sync::Arc;

use cxray_core::domain::Table;
use cxray_store::Result;
use cxray_store::datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use cxray_store::datafusion::arrow::datatypes::{DataType, Field, Schema};
use cxray_store::datafusion::common::ScalarValue;
use cxray_store::datafusion::functions_aggregate::expr_fn::sum;
use cxray_store::datafusion::logical_expr::{JoinType, when};
use cxray_store::datafusion::prelude::{Expr, cast, col, lit};
use cxray_store::decode::Columns;
use cxray_store::sql::Sql;

/// A case as the query needs it: its id, customer and opening day (days since 1970).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Opened {
    pub id: i64,
    pub customer: String,
    pub day: i64,
}

/// A case's purchases and spend in the days before it and in the window after it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Sums {
    pub pre_purchases: u64,
    pub pre_spend: f64,
    pub purchases: u64,
    pub spend: f64,
}

/// Per case id with purchases around it: per window (in the order of `windows`, days),
/// the purchases and spend in the days `1..=w` after its opening day and `1..=w` before.
/// A purchase on the opening day itself is in neither. Cases without one are left out.
pub(super) async fn sums(
    sql: &Sql,
    cases: &[Opened],
    windows: &[u32],
) -> Result<HashMap<i64, Vec<Sums>>> {
    let (Some(longest), Some(first)) = (windows.iter().max(), cases.iter().map(|c| c.day).min())
    else {
        return Ok(HashMap::new());
    };
    let longest = i64::from(*longest);
    let ctx = sql.context();
    let opened = ctx.read_batch(batch(cases)?)?;
    let from = (first - longest) * 86_400_000_000;
    let purchases = ctx
        .table(Table::Transactions.name())
        .await?
        .filter(col("at").gt_eq(lit(ScalarValue::TimestampMicrosecond(
            Some(from),
            Some("UTC".into()),
        ))))?
        .select(vec![
            cast(col("customer_id"), DataType::Utf8).alias("customer_id"),
            cast(cast(col("at"), DataType::Date32), DataType::Int64).alias("day"),
            cast(col("amount"), DataType::Float64).alias("amount"),
        ])?;
    let offset = col("day") - col("start");
    let df = opened
        .join(
            purchases,
            JoinType::Inner,
            &["case_customer"],
            &["customer_id"],
            None,
        )?
        .select(vec![col("case_id"), offset.alias("offset"), col("amount")])?
        .filter(col("offset").between(lit(-longest), lit(longest)))?
        .aggregate(vec![col("case_id")], aggregates(windows)?)?;
    let mut out = HashMap::new();
    for b in df.collect().await? {
        decode(&Columns::new(&b), windows.len(), &mut out)?;
    }
    Ok(out)
}

fn batch(cases: &[Opened]) -> Result<RecordBatch> {
    let schema = Schema::new(vec![
        Field::new("case_id", DataType::Int64, false),
        Field::new("case_customer", DataType::Utf8, false),
        Field::new("start", DataType::Int64, false),
    ]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(cases.iter().map(|c| c.id))),
        Arc::new(StringArray::from_iter_values(
            cases.iter().map(|c| c.customer.as_str()),
        )),
        Arc::new(Int64Array::from_iter_values(cases.iter().map(|c| c.day))),
    ];
    Ok(RecordBatch::try_new(Arc::new(schema), columns)?)
}

/// Per window `i`: `pre_n_i`, `pre_spend_i`, `post_n_i`, `post_spend_i`.
fn aggregates(windows: &[u32]) -> Result<Vec<Expr>> {
    let mut out = Vec::new();
    for (i, w) in windows.iter().enumerate() {
        let w = i64::from(*w);
        let offset = || col("offset");
        let before = offset().gt_eq(lit(-w)).and(offset().lt(lit(0i64)));
        let after = offset().gt(lit(0i64)).and(offset().lt_eq(lit(w)));
        for (name, period) in [("pre", before), ("post", after)] {
            let count = when(period.clone(), lit(1i64)).otherwise(lit(0i64))?;
            let spend = when(period, col("amount")).otherwise(lit(0.0))?;
            out.push(sum(count).alias(format!("{name}_n_{i}")));
            out.push(sum(spend).alias(format!("{name}_spend_{i}")));
        }
    }
    Ok(out)
}

fn decode(c: &Columns, windows: usize, out: &mut HashMap<i64, Vec<Sums>>) -> Result<()> {
    let id = c.int("case_id")?;
    let mut columns = Vec::with_capacity(windows);
    for i in 0..windows {
        columns.push([
            c.int(&format!("pre_n_{i}"))?,
            c.float(&format!("pre_spend_{i}"))?,
            c.int(&format!("post_n_{i}"))?,
            c.float(&format!("post_spend_{i}"))?,
        ]);
    }
    for r in 0..c.rows() {
        let sums = columns
            .iter()
            .map(|[pn, ps, n, s]| Sums {
                pre_purchases: pn.count(r),
                pre_spend: ps.f64(r).unwrap_or(0.0),
                purchases: n.count(r),
                spend: s.f64(r).unwrap_or(0.0),
            })
            .collect();
        out.insert(id.int_at(r)?, sums);
    }
    Ok(())
}
