//! Per-customer summaries of `transactions` in a time unit, as SQL.
//!
//! Purchases on the same (UTC) day are one transaction with their amounts summed; the
//! first purchase is not a repeat. For each customer whose first purchase is on or before
//! the calibration end: x (repeat purchase days), t_x (first to last purchase), T (first
//! purchase to the calibration end), the mean spend of the repeat purchases, and the
//! purchase days and spend in the holdout period (after the calibration end, up to the
//! holdout end). The summaries are computed once per command, kept in memory and handed
//! as a [`Summaries`] value to the analyses that read them.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use cxray_store::decode::Columns;
use cxray_store::sql::{Sql, day_sql};
use cxray_store::{Result, StoreError};

/// The unit time is measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    Day,
    Week,
    /// A twelfth of a Julian year (30.4375 days).
    Month,
}

impl TimeUnit {
    /// The unit's name, as on the command line.
    pub fn name(self) -> &'static str {
        match self {
            TimeUnit::Day => "day",
            TimeUnit::Week => "week",
            TimeUnit::Month => "month",
        }
    }

    /// The unit's length in days.
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Day => 1.0,
            TimeUnit::Week => 7.0,
            TimeUnit::Month => 365.25 / 12.0,
        }
    }

    /// The unit's length in Julian years.
    pub fn years(self) -> f64 {
        self.days() / 365.25
    }
}

impl std::str::FromStr for TimeUnit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "day" => Ok(TimeUnit::Day),
            "week" => Ok(TimeUnit::Week),
            "month" => Ok(TimeUnit::Month),
            _ => Err(format!(
                "unknown time unit '{s}' (expected day, week or month)"
            )),
        }
    }
}

/// The calibration (and optionally holdout) period of an analysis.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Window {
    pub unit: TimeUnit,
    /// Last day of the calibration period (inclusive).
    pub calibration_end: NaiveDate,
    /// Last day of the holdout period (inclusive); none without a holdout.
    pub holdout_end: Option<NaiveDate>,
}

/// Days since the Unix epoch.
pub fn epoch_day(date: NaiveDate) -> i64 {
    date.signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid"))
        .num_days()
}

/// The date of a number of days since the Unix epoch ([`epoch_day`]'s inverse).
pub fn epoch_date(day: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid") + chrono::TimeDelta::days(day)
}

/// The first day of the month holding a number of days since the Unix epoch.
pub fn epoch_month(day: i64) -> NaiveDate {
    epoch_date(day).with_day(1).expect("a month's first day")
}

impl Window {
    /// Checks that the holdout, if any, ends after the calibration.
    pub fn validate(&self) -> Result<()> {
        match self.holdout_end {
            Some(h) if h <= self.calibration_end => Err(StoreError::Input(format!(
                "the holdout end ({h}) must be after the calibration end ({})",
                self.calibration_end
            ))),
            _ => Ok(()),
        }
    }

    /// Length of the holdout period in units (0 without one).
    pub fn holdout_length(&self) -> f64 {
        self.holdout_end.map_or(0.0, |h| {
            (epoch_day(h) - epoch_day(self.calibration_end)) as f64 / self.unit.days()
        })
    }

    /// Computes the window's summaries once, in memory: `days` (purchase days with their
    /// amounts, up to the last day of the window) and `summary` (one row per customer).
    pub async fn summarise(&self, sql: &Sql) -> Result<Summaries> {
        let cal = epoch_day(self.calibration_end);
        let last = self.holdout_end.map_or(cal, epoch_day);
        let days = format!(
            "SELECT customer_id, day, sum(amount) AS amount
             FROM (SELECT customer_id, {day} AS day,
                          CAST(amount AS DOUBLE) AS amount
                   FROM transactions)
             WHERE day <= {last}
             GROUP BY customer_id, day",
            day = day_sql("at"),
        );
        let with_days = sql
            .with_table("days", sql.materialise(&days).await?)
            .await?;
        let summary = with_days.materialise(&self.summary_sql(cal)).await?;
        Ok(Summaries {
            window: *self,
            scope: with_days.with_table("summary", summary).await?,
        })
    }

    fn summary_sql(&self, cal: i64) -> String {
        let unit = self.unit.days();
        format!(
            "WITH cal AS (
                SELECT customer_id, min(day) AS first_day, max(day) AS last_day,
                       count(*) AS n_days, sum(amount) AS total
                FROM days WHERE day <= {cal} GROUP BY customer_id
            ),
            first_amount AS (
                SELECT days.customer_id, days.amount
                FROM days JOIN cal ON days.customer_id = cal.customer_id AND days.day = cal.first_day
            ),
            hold AS (
                SELECT customer_id, count(*) AS n_days, sum(amount) AS spend
                FROM days WHERE day > {cal} GROUP BY customer_id
            )
            SELECT cal.customer_id,
                   CAST(cal.n_days - 1 AS DOUBLE) AS x,
                   CAST(cal.last_day - cal.first_day AS DOUBLE) / {unit} AS t_x,
                   CAST({cal} - cal.first_day AS DOUBLE) / {unit} AS t,
                   CASE WHEN cal.n_days > 1
                        THEN (cal.total - first_amount.amount) / CAST(cal.n_days - 1 AS DOUBLE) END AS mean_spend,
                   cal.first_day,
                   CAST(COALESCE(hold.n_days, 0) AS DOUBLE) AS holdout_x,
                   COALESCE(hold.spend, 0.0) AS holdout_spend
            FROM cal
            JOIN first_amount ON cal.customer_id = first_amount.customer_id
            LEFT JOIN hold ON cal.customer_id = hold.customer_id"
        )
    }
}

/// The summaries of one window, computed once by [`Window::summarise`] and handed to
/// every analysis that reads them: a value, not tables shared by name, so no analysis
/// depends on another having run first.
pub struct Summaries {
    window: Window,
    /// A private copy of the session the summaries were computed in, with `days` and
    /// `summary` registered: the names are this value's own.
    scope: Sql,
}

impl Summaries {
    /// The window the summaries are of.
    pub fn window(&self) -> &Window {
        &self.window
    }

    /// The session's tables together with `days` and `summary`, for the queries over
    /// the summaries.
    pub(crate) fn sql(&self) -> &Sql {
        &self.scope
    }
}

/// The day of the latest purchase in `transactions` (UTC), the natural calibration end.
pub async fn last_purchase_date(sql: &Sql) -> Result<NaiveDate> {
    let (_, batches) = sql
        .query(&format!(
            "SELECT max({}) AS last_day FROM transactions",
            day_sql("at")
        ))
        .await?;
    let mut day = None;
    for b in &batches {
        let c = Columns::new(b);
        let last = c.int("last_day")?;
        day = day.or((0..c.rows()).find_map(|r| last.i64(r)));
    }
    let day =
        day.ok_or_else(|| StoreError::NoData("transactions is empty: import some first".into()))?;
    Ok(epoch_date(day))
}
