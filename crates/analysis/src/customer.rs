//! One customer's timeline: their purchases, touchpoint interactions and survey answers
//! in time order, with what the loyalty engine says of them.

use cxray_core::models::{AnyTransactionModel, Fit, Rfm, transactions_from_fit};
use datafusion::common::ScalarValue;
use serde::Serialize;

use crate::loyalty::TimeUnit;
use cxray_store::decode::{Column, Columns};
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
    let id = || vec![ScalarValue::Utf8(Some(customer_id.to_string()))];
    let query = "SELECT at, 'purchase' AS kind, CAST(order_id AS VARCHAR) AS what, CAST(NULL AS VARCHAR) AS owner,
                CAST(amount AS DOUBLE) AS value, CAST(currency AS VARCHAR) AS detail
           FROM transactions WHERE customer_id = $1
         UNION ALL
         SELECT at, 'interaction', CAST(touchpoint AS VARCHAR), CAST(owner AS VARCHAR),
                CAST(wait_seconds AS DOUBLE), CAST(outcome AS VARCHAR)
           FROM interactions WHERE customer_id = $1
         UNION ALL
         SELECT at, 'response', CAST(touchpoint AS VARCHAR), CAST(NULL AS VARCHAR),
                CAST(score AS DOUBLE), CAST(instrument AS VARCHAR)
           FROM responses WHERE customer_id = $1
         ORDER BY 1, 2";
    let (_, batches) = sql.query_with(query, id()).await?;
    let mut events = Vec::new();
    for b in &batches {
        let c = Columns::new(b);
        let (at, kind, what) = (c.text("at")?, c.text("kind")?, c.text("what")?);
        let (owner, value, detail) = (c.text("owner")?, c.float("value")?, c.text("detail")?);
        let text = |column: &Column, r: usize| column.str(r).map(str::to_string);
        for r in 0..c.rows() {
            events.push(Event {
                at: text(&at, r).unwrap_or_default(),
                kind: match kind.str(r) {
                    Some("purchase") => "purchase",
                    Some("interaction") => "interaction",
                    _ => "response",
                },
                what: text(&what, r),
                owner: text(&owner, r),
                value: value.f64(r),
                detail: text(&detail, r),
            });
        }
    }
    let (segment, region, known) = attributes(sql, id()).await?;
    if events.is_empty() && !known {
        return Ok(None);
    }
    Ok(Some(Timeline {
        customer_id: customer_id.to_string(),
        segment,
        region,
        events,
        value: value(sql, id()).await?,
    }))
}

async fn attributes(
    sql: &Sql,
    id: Vec<ScalarValue>,
) -> Result<(Option<String>, Option<String>, bool)> {
    let (_, batches) = sql
        .query_with(
            "SELECT max(CAST(segment AS VARCHAR)) AS segment,
                    max(CAST(region AS VARCHAR)) AS region, count(*) AS n
             FROM customers WHERE customer_id = $1",
            id,
        )
        .await?;
    let Some(b) = batches.first().filter(|b| b.num_rows() > 0) else {
        return Ok((None, None, false));
    };
    let c = Columns::new(b);
    let text =
        |name: &str| -> Result<Option<String>> { Ok(c.text(name)?.str(0).map(str::to_string)) };
    let known = c.int("n")?.count(0) > 0;
    Ok((text("segment")?, text("region")?, known))
}

async fn value(sql: &Sql, id: Vec<ScalarValue>) -> Result<Option<Value>> {
    let Some(made_by) = sql.made_by(crate::loyalty::CUSTOMER_VALUE) else {
        return Ok(None);
    };
    let (_, batches) = sql
        .query_with(
            "SELECT p_alive, expected_transactions, clv, x, t_x, t, expected_spend
             FROM customer_value WHERE customer_id = $1",
            id,
        )
        .await?;
    let Some(b) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Ok(None);
    };
    let c = Columns::new(b);
    let f = |name: &str| c.float(name)?.float_at(0);
    let forecast = match Valuation::recorded(made_by) {
        Ok(valuation) => {
            let customer = Rfm::new(f("x")?, f("t_x")?, f("t")?);
            Some(valuation.forecast(&customer, f("expected_spend")?))
        }
        Err(e) => {
            tracing::warn!("customer page without purchase chances: {e}");
            None
        }
    };
    Ok(Some(Value {
        p_alive: f("p_alive")?,
        expected_transactions: f("expected_transactions")?,
        clv: f("clv")?,
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
