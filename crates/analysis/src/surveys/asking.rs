//! What being asked does (the mere-measurement effect): the customers held out of every
//! survey against the others a rule triggered on — asked or not, by intention to treat,
//! since only the holdout is drawn at random (customers with more trips are likelier to
//! be sent an invitation at all) — on buying again within a window after their first
//! trigger, with Newcombe's interval for the difference. Customers whose window reaches
//! past the last purchase in the data are left out (censored).

use std::sync::Arc;

use cxray_core::domain::Table;
use cxray_core::stats::{Difference, Estimate, Proportion, Settings, proportion_difference, share};
use cxray_store::datafusion::arrow::array::{BooleanArray, Int64Array, RecordBatch, StringArray};
use cxray_store::datafusion::arrow::datatypes::{DataType, Field, Schema};
use cxray_store::datafusion::functions_aggregate::expr_fn::{count_distinct, max};
use cxray_store::datafusion::prelude::{cast, col};
use cxray_store::decode::Columns;
use cxray_store::ops::OpsDb;
use cxray_store::sql::Sql;
use cxray_store::{Result, StoreError};
use serde::Serialize;

const DAY_US: i64 = 86_400_000_000;

/// Buying again after being asked, against never being asked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AskingEffect {
    pub window_days: u32,
    /// Share of the customers open to being asked who bought within the window.
    pub asked: Estimate,
    /// Share of the never-ask holdout who bought within the window.
    pub held_out: Estimate,
    /// Asked − held out, in percentage points.
    pub difference: Difference,
    /// Decisions left out because their window reaches past the data.
    pub censored: u64,
}

/// The effect of being asked on buying again within `window_days`.
pub async fn asking_effect(sql: &Sql, ops: &OpsDb, window_days: u32) -> Result<AskingEffect> {
    let window = i64::from(window_days) * DAY_US;
    let end = last_purchase(sql).await?;
    let contacts = ops.first_contacts()?;
    let kept: Vec<&(String, i64, bool)> = contacts
        .iter()
        .filter(|(_, at, _)| at * 1_000_000 + window <= end)
        .collect();
    let censored = (contacts.len() - kept.len()) as u64;
    let arm = |held: bool| kept.iter().filter(|c| c.2 == held).count() as u64;
    let (n_asked, n_held) = (arm(false), arm(true));
    let bought = bought(sql, &kept, window).await?;
    let asked = Proportion {
        successes: bought.0,
        n: n_asked,
    };
    let held = Proportion {
        successes: bought.1,
        n: n_held,
    };
    let settings = Settings::default();
    let none = || {
        StoreError::NoData(
            "no customer was both held out and asked long enough before the data end".into(),
        )
    };
    Ok(AskingEffect {
        window_days,
        asked: share(asked.successes, asked.n, &settings).ok_or_else(none)?,
        held_out: share(held.successes, held.n, &settings).ok_or_else(none)?,
        difference: proportion_difference(asked, held, &settings).map_err(StoreError::analysis)?,
        censored,
    })
}

/// The last purchase's time, microseconds since the epoch.
async fn last_purchase(sql: &Sql) -> Result<i64> {
    let df = sql
        .context()
        .table(Table::Transactions.name())
        .await?
        .aggregate(
            vec![],
            vec![max(cast(col("at"), DataType::Int64)).alias("end_us")],
        )?;
    let batches = df.collect().await?;
    let end = batches
        .first()
        .map(|b| Columns::new(b).int("end_us").and_then(|c| c.int_at(0)))
        .transpose()?;
    end.ok_or_else(|| StoreError::NoData("no purchases".into()))
}

/// Customers who bought within the window after their decision: (asked, held out).
async fn bought(sql: &Sql, kept: &[&(String, i64, bool)], window: i64) -> Result<(u64, u64)> {
    let schema = Schema::new(vec![
        Field::new("contact_id", DataType::Utf8, false),
        Field::new("from_us", DataType::Int64, false),
        Field::new("held", DataType::Boolean, false),
    ]);
    let batch = RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(StringArray::from_iter_values(
                kept.iter().map(|c| c.0.as_str()),
            )),
            Arc::new(Int64Array::from_iter_values(
                kept.iter().map(|c| c.1 * 1_000_000),
            )),
            Arc::new(BooleanArray::from_iter(kept.iter().map(|c| Some(c.2)))),
        ],
    )?;
    let contacts = sql.context().read_batch(batch)?;
    let purchases = sql
        .context()
        .table(Table::Transactions.name())
        .await?
        .select(vec![
            col("customer_id"),
            cast(col("at"), DataType::Int64).alias("at_us"),
        ])?;
    let at = col("at_us");
    let within = at
        .clone()
        .gt(col("from_us"))
        .and(at.lt_eq(col("from_us") + cxray_store::datafusion::prelude::lit(window)));
    let df = contacts
        .join(
            purchases,
            cxray_store::datafusion::common::JoinType::Inner,
            &["contact_id"],
            &["customer_id"],
            None,
        )?
        .filter(within)?
        .aggregate(
            vec![col("held")],
            vec![count_distinct(col("contact_id")).alias("bought")],
        )?;
    let (mut asked, mut held) = (0, 0);
    for batch in df.collect().await? {
        let c = Columns::new(&batch);
        let flags = batch
            .column_by_name("held")
            .and_then(|a| a.as_any().downcast_ref::<BooleanArray>().cloned())
            .ok_or_else(|| StoreError::Input("held: not a flag".into()))?;
        let n = c.int("bought")?;
        for r in 0..c.rows() {
            match flags.value(r) {
                true => held += n.int_at(r)? as u64,
                false => asked += n.int_at(r)? as u64,
            }
        }
    }
    Ok((asked, held))
}
