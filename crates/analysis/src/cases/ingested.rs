//! A rule's matches among ingested rows, as the ingestion found them while it took the
//! rows (the rule's condition evaluated on each batch, the matches kept by customer): the
//! customers the rule does not cover are left out and those in its cooldown only counted,
//! without looking at their rows; only the rest's rows are decoded. The customers a rule
//! covers are kept between evaluations while the customers and their valuations stay
//! the same.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use cxray_core::domain::Table;
use cxray_store::Result;
use cxray_store::cases::{Candidate, Rule};
use cxray_store::datafusion::arrow::array::{RecordBatch, UInt32Array};
use cxray_store::datafusion::arrow::compute::take_record_batch;
use cxray_store::datafusion::prelude::{DataFrame, Expr};
use cxray_store::decode::Columns;
use cxray_store::ingest::Matched;
use cxray_store::sql::Sql;
use cxray_store::tables::CUSTOMER_VALUE;

use super::matches::decoded;
use super::valued::above_clv;

/// The customers a rule covers.
#[derive(Clone)]
enum Covered {
    All,
    Only(Arc<HashSet<String>>),
}

impl Covered {
    fn covers(&self, customer: &str) -> bool {
        match self {
            Covered::All => true,
            Covered::Only(ids) => ids.contains(customer),
        }
    }
}

/// What a rule's customers depend on: its conditions on customers' columns (column,
/// value) and its CLV percentile (as bits).
type Narrowing = (Vec<(String, String)>, Option<u64>);

/// The customers each kind of rule covers (none: no valuation for a CLV percentile), as
/// of the customers' version and valuation they were read at.
#[derive(Default)]
pub struct Coverage {
    read_at: Option<(Option<u64>, Option<serde_json::Value>)>,
    covered: BTreeMap<Narrowing, Option<Covered>>,
}

impl Coverage {
    /// The customers `rule` covers in the session; none when it asks for a CLV
    /// percentile and customers are not valued.
    async fn of(&mut self, sql: &Sql, rule: &Rule) -> Result<Option<Covered>> {
        let read_at = Some((
            sql.versions().get(&Table::Customers).copied(),
            sql.made_by(CUSTOMER_VALUE).cloned(),
        ));
        if self.read_at != read_at {
            (self.read_at, self.covered) = (read_at, BTreeMap::new());
        }
        let equal: Vec<(String, String)> = rule
            .customers
            .iter()
            .map(|c| (c.column.clone(), c.value.clone()))
            .collect();
        let key = (equal, rule.clv_percentile.map(f64::to_bits));
        if let Some(covered) = self.covered.get(&key) {
            return Ok(covered.clone());
        }
        let covered = covered(sql, &key.0, rule.clv_percentile).await?;
        self.covered.insert(key, covered.clone());
        Ok(covered)
    }
}

/// The customers whose columns equal the values and (with a percentile) whose CLV is
/// above it; none when customers are not valued for a percentile.
async fn covered(
    sql: &Sql,
    equal: &[(String, String)],
    percentile: Option<f64>,
) -> Result<Option<Covered>> {
    let mut sets = Vec::new();
    if let Some(ids) = sql.customer_ids(equal).await? {
        sets.push(ids);
    }
    if let Some(p) = percentile {
        match above_clv(sql, p).await? {
            Some(ids) => sets.push(ids),
            None => return Ok(None),
        }
    }
    let mut out: Option<HashSet<String>> = None;
    for df in sets {
        let ids = ids(df).await?;
        out = Some(match out {
            Some(before) => before.intersection(&ids).cloned().collect(),
            None => ids,
        });
    }
    Ok(Some(
        out.map_or(Covered::All, |ids| Covered::Only(Arc::new(ids))),
    ))
}

async fn ids(df: DataFrame) -> Result<HashSet<String>> {
    let mut out = HashSet::new();
    for b in df.collect().await? {
        let c = Columns::new(&b);
        let id = c.text("customer_id")?;
        out.extend((0..c.rows()).filter_map(|r| id.str(r)).map(str::to_string));
    }
    Ok(out)
}

/// The events the ingestion found matching the rule's `condition` since its watermark,
/// as the matches of the rows read back find them; none unless every commit since is held with them.
pub(super) async fn matches(
    sql: &Sql,
    rule: &Rule,
    condition: &Expr,
    cooling: &HashSet<String>,
    coverage: &mut Coverage,
) -> Result<Option<(Vec<Candidate>, usize)>> {
    let table = rule.trigger.table().expect("rules with a source table");
    let Some(commits) = sql.matched_since(table, rule.watermark, condition) else {
        return Ok(None);
    };
    let Some(covered) = coverage.of(sql, rule).await? else {
        return Ok(Some((Vec::new(), 0)));
    };
    let (rows, skipped) = picked(&commits, &covered, cooling)?;
    if rows.is_empty() {
        return Ok(Some((Vec::new(), skipped)));
    }
    let Some(df) = sql.ingested_rows(table, &rows).await? else {
        return Ok(None);
    };
    let (found, _) = decoded(df, table, &HashSet::new()).await?;
    Ok(Some((found, skipped)))
}

/// The matching rows of covered customers not cooling down, and how many matching rows
/// covered customers cooling down have.
fn picked(
    commits: &[Matched],
    covered: &Covered,
    cooling: &HashSet<String>,
) -> Result<(Vec<RecordBatch>, usize)> {
    let (mut rows, mut skipped) = (Vec::new(), 0);
    for commit in commits {
        let mut by_batch: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for (customer, positions) in commit.by_customer.iter() {
            if !covered.covers(customer) {
                continue;
            }
            if cooling.contains(customer) {
                skipped += positions.len();
                continue;
            }
            for &(batch, row) in positions {
                by_batch.entry(batch).or_default().push(row);
            }
        }
        for (batch, mut at) in by_batch {
            at.sort_unstable();
            let indices = UInt32Array::from(at);
            rows.push(take_record_batch(
                &commit.batches[batch as usize],
                &indices,
            )?);
        }
    }
    Ok((rows, skipped))
}
