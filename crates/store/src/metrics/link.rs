//! The satisfaction–loyalty link: what respondents said against what they then did.
//!
//! Defection from the data (`window`): each customer's last answer to the instrument that
//! is at least `window_days` before the end of the data is their statement; they defected
//! when they made no purchase in the `window_days` after it. Satisfied means NPS ≥ 7,
//! CSAT ≥ 4, CES ≤ 4 or grade ≥ C. The behavioural predictor is the days since their
//! previous purchase at the time of the answer (longer means likelier to leave).

use std::collections::BTreeMap;

use cxray_core::stats::{
    Difference, Estimate, Instrument, Proportion, Settings, auc, auc_difference, proportion,
};
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use serde::Serialize;

use crate::sql::Sql;
use crate::{Result, StoreError};

/// The link in one group of respondents.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    /// The group's value of the `--by` column (none without `--by`).
    pub group: Option<String>,
    pub respondents: u64,
    pub defectors: u64,
    /// Of the defectors, the share whose last answer was satisfied (a fraction).
    pub satisfied_defector_share: Share,
    /// Defection rate of the satisfied and of the dissatisfied (fractions).
    pub defection_if_satisfied: Option<Share>,
    pub defection_if_dissatisfied: Option<Share>,
    /// How well each predicts defection: the stated score, and the days since the
    /// previous purchase (AUC, 0.5 is chance), and behaviour minus stated.
    pub auc_stated: Option<Estimate>,
    pub auc_behaviour: Option<Estimate>,
    pub auc_behaviour_minus_stated: Option<Difference>,
}

/// A proportion as a fraction with its Wilson interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Share {
    pub value: f64,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub n: u64,
    pub small_sample: bool,
}

fn share(successes: u64, n: u64, s: &Settings) -> Option<Share> {
    let e = proportion(Proportion { successes, n }, s).ok()?;
    Some(Share {
        value: e.value / 100.0,
        low: e.low.map(|v| v / 100.0),
        high: e.high.map(|v| v / 100.0),
        n,
        small_sample: e.small_sample,
    })
}

fn satisfied(instrument: Instrument, score: f64) -> bool {
    match instrument {
        Instrument::Nps => score >= 7.0,
        Instrument::Csat => score >= 4.0,
        Instrument::Ces => score <= 4.0,
        Instrument::Grade => score >= 2.0,
    }
}

/// One respondent: group, score, defected, days since the previous purchase.
type Respondent = (Option<String>, f64, bool, f64);

/// The link overall (`by` none) or per value of a customer column.
pub async fn link(
    sql: &Sql,
    instrument: Instrument,
    window_days: u32,
    by: Option<&str>,
    s: &Settings,
) -> Result<Vec<Link>> {
    let mut groups: BTreeMap<Option<String>, Vec<Respondent>> = BTreeMap::new();
    for r in respondents(sql, instrument, window_days, by).await? {
        groups.entry(r.0.clone()).or_default().push(r);
    }
    if groups.is_empty() {
        return Err(StoreError::Input(format!(
            "no {} answers at least {window_days} days before the last purchase in the data: nothing to link",
            instrument.name()
        )));
    }
    Ok(groups
        .into_iter()
        .map(|(group, rs)| summarise(group, instrument, &rs, s))
        .collect())
}

fn summarise(
    group: Option<String>,
    instrument: Instrument,
    rs: &[Respondent],
    s: &Settings,
) -> Link {
    let defected: Vec<bool> = rs.iter().map(|r| r.2).collect();
    let is_satisfied: Vec<bool> = rs.iter().map(|r| satisfied(instrument, r.1)).collect();
    let count = |f: &dyn Fn(usize) -> bool| (0..rs.len()).filter(|&i| f(i)).count() as u64;
    let defectors = count(&|i| defected[i]);
    let satisfied_defectors = count(&|i| defected[i] && is_satisfied[i]);
    let n_satisfied = count(&|i| is_satisfied[i]);
    // Lower stated scores should mean more defection (CES: higher is worse).
    let stated: Vec<f64> = rs
        .iter()
        .map(|r| {
            if instrument == Instrument::Ces {
                r.1
            } else {
                -r.1
            }
        })
        .collect();
    let behaviour: Vec<f64> = rs.iter().map(|r| r.3).collect();
    Link {
        group,
        respondents: rs.len() as u64,
        defectors,
        satisfied_defector_share: share(satisfied_defectors, defectors, s).unwrap_or(Share {
            value: 0.0,
            low: None,
            high: None,
            n: 0,
            small_sample: true,
        }),
        defection_if_satisfied: share(count(&|i| defected[i] && is_satisfied[i]), n_satisfied, s),
        defection_if_dissatisfied: share(
            count(&|i| defected[i] && !is_satisfied[i]),
            rs.len() as u64 - n_satisfied,
            s,
        ),
        auc_stated: auc(&stated, &defected, s).ok(),
        auc_behaviour: auc(&behaviour, &defected, s).ok(),
        auc_behaviour_minus_stated: auc_difference(&behaviour, &stated, &defected, s).ok(),
    }
}

async fn respondents(
    sql: &Sql,
    instrument: Instrument,
    window: u32,
    by: Option<&str>,
) -> Result<Vec<Respondent>> {
    let group = match by {
        Some(col) => {
            let known = super::slice_columns(sql).await?;
            if !known.iter().any(|k| k == col) {
                return Err(StoreError::Input(format!(
                    "--by: unknown column '{col}' (columns: {})",
                    known.join(", ")
                )));
            }
            format!("CAST(v.\"{col}\" AS VARCHAR)")
        }
        None => "CAST(NULL AS VARCHAR)".into(),
    };
    let day = |col: &str| format!("CAST(floor(to_unixtime({col}) / 86400.0) AS BIGINT)");
    let query = format!(
        "WITH v AS ({view}),
         tx AS (SELECT customer_id, {tx_day} AS day FROM transactions),
         data_end AS (SELECT max(day) AS day FROM tx),
         answers AS (
            SELECT v.*, {r_day} AS day, row_number() OVER (PARTITION BY v.customer_id ORDER BY v.at DESC) AS k
            FROM v, data_end WHERE v.instrument = '{name}' AND {r_day} <= data_end.day - {window}
         ),
         last AS (SELECT * FROM answers WHERE k = 1),
         after AS (
            SELECT last.customer_id, count(tx.day) AS later FROM last
            LEFT JOIN tx ON tx.customer_id = last.customer_id AND tx.day > last.day AND tx.day <= last.day + {window}
            GROUP BY last.customer_id
         ),
         before AS (
            SELECT last.customer_id, max(tx.day) AS previous FROM last
            LEFT JOIN tx ON tx.customer_id = last.customer_id AND tx.day <= last.day
            GROUP BY last.customer_id
         )
         SELECT {group_last} AS g, last.score, CAST(after.later AS BIGINT) AS later,
                CAST(last.day - COALESCE(before.previous, last.day - 3650) AS DOUBLE) AS since
         FROM last JOIN after ON last.customer_id = after.customer_id
                   JOIN before ON last.customer_id = before.customer_id",
        view = super::view::view_sql(sql).await?,
        tx_day = day("at"),
        r_day = day("v.at"),
        name = instrument.name(),
        group_last = group.replace("v.", "last."),
    );
    let (_, batches) = sql.query(&query).await?;
    let mut out = Vec::new();
    for b in &batches {
        let g = cast(b.column(0), &DataType::Utf8)?;
        let g = g.as_string::<i32>();
        let (score, later, since) = (
            b.column(1).as_primitive::<Float64Type>(),
            b.column(2).as_primitive::<Int64Type>(),
            b.column(3).as_primitive::<Float64Type>(),
        );
        for r in 0..b.num_rows() {
            let group = (!g.is_null(r)).then(|| g.value(r).to_string());
            out.push((group, score.value(r), later.value(r) == 0, since.value(r)));
        }
    }
    Ok(out)
}
