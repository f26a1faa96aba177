//! One customer's timeline: their purchases, touchpoint interactions and survey answers
//! in time order, with what the loyalty engine says of them.

use cxray_core::models::{AnyTransactionModel, Fit, Rfm, transactions_from_fit};
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use serde::Serialize;

use crate::loyalty::TimeUnit;
use cxray_store::sql::Sql;
use cxray_store::{Result, StoreError};

/// One event in a customer's timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// RFC 3339, UTC.
    pub at: String,
    /// purchase, interaction or response.
    pub kind: &'static str,
    /// The touchpoint (interactions, responses) or the order (purchases).
    pub what: Option<String>,
    /// Who owns the touchpoint (interactions).
    pub owner: Option<String>,
    /// The amount, the wait in seconds or the score.
    pub value: Option<f64>,
    /// The outcome (interactions) or instrument (responses).
    pub detail: Option<String>,
}

/// What the loyalty engine says of the customer (`customer_value`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Value {
    pub p_alive: f64,
    pub expected_transactions: f64,
    pub clv: f64,
    /// What the fit recorded with the table adds; none when the record cannot be read.
    #[serde(flatten)]
    pub forecast: Option<Forecast>,
}

/// A customer's purchase chances and lifetime value from the recorded fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Forecast {
    /// The prediction horizon, in `unit`s.
    pub horizon: u32,
    /// The fit's time unit (day, week, month).
    pub unit: String,
    /// P(exactly n purchases in the horizon | history) for n = 0, 1, …, the last entry
    /// being P(more than the others).
    pub purchases: Vec<f64>,
    /// Discounted expected residual transactions (DERT): every future purchase of the
    /// customer's lifetime, discounted continuously at the recorded annual rate; none
    /// when the valuation was made without discounting (the sum need not be finite).
    pub residual_transactions: Option<f64>,
    /// DERT times the expected spend per purchase: the residual lifetime value, with no
    /// horizon.
    pub lifetime_value: Option<f64>,
}

/// Purchase counts given their own probability before the rest are shown together.
const COUNTS_SHOWN: u32 = 4;

/// A customer's attributes, events and value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline {
    pub customer_id: String,
    pub segment: Option<String>,
    pub region: Option<String>,
    pub events: Vec<Event>,
    pub value: Option<Value>,
}

/// The customer's timeline; none when no table knows the id.
pub async fn timeline(sql: &Sql, customer_id: &str) -> Result<Option<Timeline>> {
    let id = format!("'{}'", customer_id.replace('\'', "''"));
    let query = format!(
        "SELECT at, 'purchase' AS kind, CAST(order_id AS VARCHAR) AS what, CAST(NULL AS VARCHAR) AS owner,
                CAST(amount AS DOUBLE) AS value, CAST(currency AS VARCHAR) AS detail
           FROM transactions WHERE customer_id = {id}
         UNION ALL
         SELECT at, 'interaction', CAST(touchpoint AS VARCHAR), CAST(owner AS VARCHAR),
                CAST(wait_seconds AS DOUBLE), CAST(outcome AS VARCHAR)
           FROM interactions WHERE customer_id = {id}
         UNION ALL
         SELECT at, 'response', CAST(touchpoint AS VARCHAR), CAST(NULL AS VARCHAR),
                CAST(score AS DOUBLE), CAST(instrument AS VARCHAR)
           FROM responses WHERE customer_id = {id}
         ORDER BY 1, 2"
    );
    let (_, batches) = sql.query(&query).await?;
    let mut events = Vec::new();
    for b in &batches {
        let text: Vec<_> = [0, 1, 2, 3, 5]
            .iter()
            .map(|&i| cast(b.column(i), &DataType::Utf8))
            .collect::<std::result::Result<_, _>>()?;
        let get = |i: usize, r: usize| {
            let a = text[i].as_string::<i32>();
            (!a.is_null(r)).then(|| a.value(r).to_string())
        };
        let value = b.column(4).as_primitive::<Float64Type>();
        for r in 0..b.num_rows() {
            events.push(Event {
                at: get(0, r).unwrap_or_default(),
                kind: match get(1, r).as_deref() {
                    Some("purchase") => "purchase",
                    Some("interaction") => "interaction",
                    _ => "response",
                },
                what: get(2, r),
                owner: get(3, r),
                value: (!value.is_null(r)).then(|| value.value(r)),
                detail: get(4, r),
            });
        }
    }
    let (segment, region, known) = attributes(sql, &id).await?;
    if events.is_empty() && !known {
        return Ok(None);
    }
    Ok(Some(Timeline {
        customer_id: customer_id.to_string(),
        segment,
        region,
        events,
        value: value(sql, &id).await?,
    }))
}

async fn attributes(sql: &Sql, id: &str) -> Result<(Option<String>, Option<String>, bool)> {
    let (_, batches) = sql
        .query(&format!(
            "SELECT max(CAST(segment AS VARCHAR)), max(CAST(region AS VARCHAR)), count(*)
             FROM customers WHERE customer_id = {id}"
        ))
        .await?;
    let Some(b) = batches.first().filter(|b| b.num_rows() > 0) else {
        return Ok((None, None, false));
    };
    let text = |i: usize| -> Result<Option<String>> {
        let a = cast(b.column(i), &DataType::Utf8)?;
        let a = a.as_string::<i32>();
        Ok((!a.is_null(0)).then(|| a.value(0).to_string()))
    };
    let count = cast(b.column(2), &DataType::Int64)?;
    let known = count
        .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
        .value(0)
        > 0;
    Ok((text(0)?, text(1)?, known))
}

async fn value(sql: &Sql, id: &str) -> Result<Option<Value>> {
    let Some(made_by) = sql.made_by(crate::loyalty::CUSTOMER_VALUE) else {
        return Ok(None);
    };
    let (_, batches) = sql
        .query(&format!(
            "SELECT p_alive, expected_transactions, clv, x, t_x, t, expected_spend
             FROM customer_value WHERE customer_id = {id}"
        ))
        .await?;
    let Some(b) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Ok(None);
    };
    let f = |i: usize| b.column(i).as_primitive::<Float64Type>().value(0);
    let forecast = match Valuation::recorded(made_by) {
        Ok(valuation) => Some(valuation.forecast(&Rfm::new(f(3), f(4), f(5)), f(6))),
        Err(e) => {
            tracing::warn!("customer page without purchase chances: {e}");
            None
        }
    };
    Ok(Some(Value {
        p_alive: f(0),
        expected_transactions: f(1),
        clv: f(2),
        forecast,
    }))
}

/// How `customer_value` was made, as its commit records it.
struct Valuation {
    model: AnyTransactionModel,
    horizon: u32,
    unit: TimeUnit,
    /// The annual discount rate as a continuous rate per time unit, ln(1 + d) · unit/year;
    /// none without discounting.
    delta: Option<f64>,
}

impl Valuation {
    fn recorded(made_by: &serde_json::Value) -> Result<Self> {
        let bad = |what: &str| StoreError::Input(format!("customer_value records no valid {what}"));
        let fit: Fit = serde_json::from_value(made_by["transactions"].clone())
            .map_err(|_| bad("transaction fit"))?;
        let unit: TimeUnit = made_by["window"]["unit"]
            .as_str()
            .and_then(|u| u.parse().ok())
            .ok_or_else(|| bad("time unit"))?;
        let annual = made_by["discount_rate"]
            .as_f64()
            .ok_or_else(|| bad("discount rate"))?;
        Ok(Valuation {
            model: transactions_from_fit(&fit).map_err(|_| bad("transaction fit"))?,
            horizon: made_by["horizon"]
                .as_u64()
                .and_then(|h| u32::try_from(h).ok())
                .ok_or_else(|| bad("horizon"))?,
            unit,
            delta: (annual > 0.0).then(|| annual.ln_1p() * unit.years()),
        })
    }

    /// The forecast of `customer`, whose expected spend per purchase is `spend`.
    fn forecast(&self, customer: &Rfm, spend: f64) -> Forecast {
        let horizon = self.horizon as f64;
        let mut purchases: Vec<f64> = (0..COUNTS_SHOWN)
            .map(|n| self.model.prob_n_conditional(customer, n, horizon))
            .collect();
        purchases.push((1.0 - purchases.iter().sum::<f64>()).max(0.0));
        let residual_transactions = self.delta.map(|delta| self.model.dert(customer, delta));
        Forecast {
            horizon: self.horizon,
            unit: self.unit.name().to_string(),
            purchases,
            residual_transactions,
            lifetime_value: residual_transactions.map(|dert| dert * spend),
        }
    }
}
