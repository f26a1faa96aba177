//! P(alive) around the cases: the valuations of the customers (`customer_value`'s versions,
//! each as of the end of the data it valued), so a case's change in P(alive) is the last
//! valuation as of its opening day or before against the first as of its window's end or
//! after.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use cxray_store::Result;
use cxray_store::datafusion::arrow::datatypes::DataType;
use cxray_store::datafusion::prelude::{DataFrame, cast, col};
use cxray_store::decode::Columns;
use cxray_store::sql::{Sql, of_customers};

use crate::loyalty::CUSTOMER_VALUE;

/// P(alive) per customer, per valuation day (the valued data's end).
#[derive(Debug, Default)]
pub(super) struct Valuations {
    by_day: BTreeMap<NaiveDate, HashMap<String, f64>>,
}

impl Valuations {
    /// The valuations of the customers in `ids` (a frame with `customer_id`): per day
    /// valued, the latest version made for it. None read unless there are two days.
    pub async fn load(sql: &Sql, ids: &DataFrame) -> Result<Self> {
        let mut latest: BTreeMap<NaiveDate, u64> = BTreeMap::new();
        for (version, made_by) in sql.derived_history(CUSTOMER_VALUE).await? {
            let end = made_by["window"]["calibration_end"].as_str();
            if let Some(day) = end.and_then(|d| d.parse().ok()) {
                latest.insert(day, version);
            }
        }
        let mut by_day = BTreeMap::new();
        if latest.len() < 2 {
            return Ok(Valuations { by_day });
        }
        for (day, version) in latest {
            match read(sql, version, ids.clone()).await {
                Ok(values) => _ = by_day.insert(day, values),
                Err(e) => tracing::warn!(version, "valuation not readable, left out: {e}"),
            }
        }
        Ok(Valuations { by_day })
    }

    /// The customer's P(alive) at the first valuation on or after `to` less at the last
    /// on or before `from`, where both value the customer.
    pub fn change(&self, customer: &str, from: NaiveDate, to: NaiveDate) -> Option<f64> {
        let (_, before) = self.by_day.range(..=from).next_back()?;
        let (_, after) = self.by_day.range(to..).next()?;
        Some(after.get(customer)? - before.get(customer)?)
    }
}

async fn read(sql: &Sql, version: u64, ids: DataFrame) -> Result<HashMap<String, f64>> {
    let values = sql.derived_at(CUSTOMER_VALUE, version).await?;
    per_customer(values, "p_alive", ids).await
}

/// A number column of `values` (a frame with `customer_id`) per customer in `ids`.
pub(super) async fn per_customer(
    values: DataFrame,
    column: &str,
    ids: DataFrame,
) -> Result<HashMap<String, f64>> {
    let values = values.select(vec![
        cast(col("customer_id"), DataType::Utf8).alias("customer_id"),
        col(column).alias("value"),
    ])?;
    let mut out = HashMap::new();
    for b in of_customers(values, ids)?.collect().await? {
        let c = Columns::new(&b);
        let (id, value) = (c.text("customer_id")?, c.float("value")?);
        for r in 0..c.rows() {
            if let (Some(i), Some(v)) = (id.str(r), value.f64(r)) {
                out.insert(i.to_string(), v);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_needs_a_valuation_before_and_one_after() {
        let day = |m, d| NaiveDate::from_ymd_opt(2024, m, d).unwrap();
        let valued = |p: f64| HashMap::from([("C1".to_string(), p)]);
        let v = Valuations {
            by_day: BTreeMap::from([
                (day(1, 31), valued(0.9)),
                (day(3, 31), valued(0.7)),
                (day(6, 30), valued(0.4)),
            ]),
        };
        // Opened on 1 February, window to 1 May: 31 January against 30 June.
        let change = v.change("C1", day(2, 1), day(5, 1)).unwrap();
        assert!((change - (0.4 - 0.9)).abs() < 1e-12);
        // On the valuation days themselves: 31 March against 30 June.
        let change = v.change("C1", day(3, 31), day(6, 30)).unwrap();
        assert!((change - (0.4 - 0.7)).abs() < 1e-12);
        assert_eq!(v.change("C1", day(1, 30), day(5, 1)), None);
        assert_eq!(v.change("C1", day(2, 1), day(7, 1)), None);
        assert_eq!(v.change("C2", day(2, 1), day(5, 1)), None);
    }
}
