//! `cxray loyalty retention`: the share of each acquisition cohort still active in each
//! later period.
//!
//! A customer's cohort is the period of their first purchase. Non-contractual: a customer
//! is active in a period when they purchased in it. Contractual (each purchase a renewal):
//! a customer is retained in a period when their last purchase is in it or later.

use serde::Serialize;

use cxray_store::Result;
use cxray_store::decode::Columns;
use cxray_store::sql::Sql;

/// The length of a cohort (and of a period after it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cohort {
    Month,
    Quarter,
    Year,
}

impl Cohort {
    fn months(self) -> i64 {
        match self {
            Cohort::Month => 1,
            Cohort::Quarter => 3,
            Cohort::Year => 12,
        }
    }
}

/// One cohort in one period after acquisition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetentionRow {
    /// The cohort's first day, `YYYY-MM-DD`.
    pub cohort: String,
    /// Periods since acquisition (0 is the acquisition period).
    pub period: i64,
    pub customers: u64,
    pub active: u64,
    pub share: f64,
}

/// Retention curves of every cohort, up to the last period with data.
pub async fn retention(sql: &Sql, cohort: Cohort, contractual: bool) -> Result<Vec<RetentionRow>> {
    let months = cohort.months();
    // Month number (year * 12 + month - 1) of every purchase, then per customer.
    let query = format!(
        "WITH m AS (
            SELECT customer_id, CAST(date_part('year', at) * 12 + date_part('month', at) - 1 AS BIGINT) / {months} AS p
            FROM transactions
         ),
         c AS (SELECT customer_id, min(p) AS cohort, max(p) AS last FROM m GROUP BY customer_id),
         active AS (
            SELECT c.cohort, m.p - c.cohort AS period, count(DISTINCT m.customer_id) AS n
            FROM m JOIN c ON m.customer_id = c.customer_id GROUP BY 1, 2
         ),
         lasts AS (SELECT cohort, last - cohort AS period, count(*) AS n FROM c GROUP BY 1, 2)
         SELECT cohort, period, n, 0 AS kind FROM active
         UNION ALL SELECT cohort, period, n, 1 AS kind FROM lasts"
    );
    let (_, batches) = sql.query(&query).await?;
    let mut facts: Vec<(i64, i64, u64, bool)> = Vec::new();
    for b in &batches {
        let c = Columns::new(b);
        let (cohort, period) = (c.int("cohort")?, c.int("period")?);
        let (n, kind) = (c.int("n")?, c.int("kind")?);
        for r in 0..c.rows() {
            facts.push((
                cohort.int_at(r)?,
                period.int_at(r)?,
                n.count(r),
                kind.int_at(r)? == 1,
            ));
        }
    }
    Ok(curves(&facts, months, contractual))
}

/// Builds the curves from (cohort, period, customers, is-last-purchase-count) facts.
fn curves(facts: &[(i64, i64, u64, bool)], months: i64, contractual: bool) -> Vec<RetentionRow> {
    let Some(last) = facts.iter().map(|f| f.0 + f.1).max() else {
        return Vec::new();
    };
    let mut cohorts: Vec<i64> = facts.iter().map(|f| f.0).collect();
    cohorts.sort_unstable();
    cohorts.dedup();
    let mut rows = Vec::new();
    for c in cohorts {
        let count = |period: i64, last_kind: bool| -> u64 {
            facts
                .iter()
                .filter(|f| f.0 == c && f.1 == period && f.3 == last_kind)
                .map(|f| f.2)
                .sum()
        };
        let size = count(0, false);
        for period in 0..=(last - c) {
            let active = if contractual {
                (period..=(last - c)).map(|p| count(p, true)).sum()
            } else {
                count(period, false)
            };
            rows.push(RetentionRow {
                cohort: cohort_label(c * months),
                period,
                customers: size,
                active,
                share: if size > 0 {
                    active as f64 / size as f64
                } else {
                    0.0
                },
            });
        }
    }
    rows
}

fn cohort_label(month_number: i64) -> String {
    format!(
        "{:04}-{:02}-01",
        month_number.div_euclid(12),
        month_number.rem_euclid(12) + 1
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_count_activity_or_survival() {
        // Cohort 0 (Jan 2000 as month 24000): 10 customers; 4 active in period 1, 2 in period 2.
        // Last purchases: 5 in period 0, 3 in period 1, 2 in period 2.
        let c = 24_000;
        let facts = [
            (c, 0, 10, false),
            (c, 1, 4, false),
            (c, 2, 2, false),
            (c, 0, 5, true),
            (c, 1, 3, true),
            (c, 2, 2, true),
        ];
        let active: Vec<u64> = curves(&facts, 1, false).iter().map(|r| r.active).collect();
        assert_eq!(active, [10, 4, 2]);
        let retained: Vec<u64> = curves(&facts, 1, true).iter().map(|r| r.active).collect();
        assert_eq!(retained, [10, 5, 2]);
        assert_eq!(curves(&facts, 1, false)[0].cohort, "2000-01-01");
        assert_eq!(cohort_label(24_000 / 3 * 3 + 3), "2000-04-01");
    }
}
