//! One customer's timeline: their purchases, touchpoint interactions and survey answers
//! in time order, with what the loyalty engine says of them.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use serde::Serialize;

use crate::Result;
use crate::sql::Sql;

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
}

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
    if sql.made_by(crate::loyalty::CUSTOMER_VALUE).is_none() {
        return Ok(None);
    }
    let (_, batches) = sql
        .query(&format!(
            "SELECT p_alive, expected_transactions, clv FROM customer_value WHERE customer_id = {id}"
        ))
        .await?;
    Ok(batches.iter().find(|b| b.num_rows() > 0).map(|b| {
        let f = |i: usize| b.column(i).as_primitive::<Float64Type>().value(0);
        Value {
            p_alive: f(0),
            expected_transactions: f(1),
            clv: f(2),
        }
    }))
}
