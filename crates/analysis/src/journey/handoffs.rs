//! Hand-offs: consecutive interactions of a customer, within two days of each other,
//! whose touchpoints have different owners; whether the receiving touchpoint fails more
//! right after one, and the share of its revenue at risk that follows each hand-off.

use cxray_core::stats::{
    Difference, Estimate, Proportion, Settings, proportion, proportion_difference,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_expr::expressions::col as physical_col;
use datafusion::physical_expr::{LexOrdering, PhysicalSortExpr};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::{ExecutionPlanProperties, Partitioning};
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use super::{AtRisk, Touchpoint};
use cxray_store::decode::Columns;
use cxray_store::ops::Placement;
use cxray_store::{Result, StoreError};

/// One kind of hand-off and how often the receiving touchpoint then failed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Handoff {
    pub from_owner: String,
    pub from_touchpoint: String,
    pub to_owner: String,
    pub to_touchpoint: String,
    pub count: u64,
    pub failures_after: u64,
    /// The receiving touchpoint's failure rate (percent) right after this hand-off, at its
    /// other interactions, and the difference (percentage points, Newcombe interval).
    pub failure_rate_after: Option<Estimate>,
    pub failure_rate_otherwise: Option<Estimate>,
    pub excess_failure: Option<Difference>,
    /// The receiving touchpoint's revenue at risk in proportion to the share of its bad
    /// experiences (failures and long waits) that are failures right after this hand-off;
    /// measurable where the touchpoint's is.
    pub revenue_at_risk: Option<AtRisk>,
}

impl Handoff {
    /// Fills the comparison with the receiving touchpoint and its share of the money.
    pub(super) fn attribute(&mut self, to: &Touchpoint, s: &Settings) {
        let after = Proportion {
            successes: self.failures_after,
            n: self.count,
        };
        let otherwise = Proportion {
            successes: to.failures.saturating_sub(self.failures_after),
            n: to.interactions.saturating_sub(self.count),
        };
        self.failure_rate_after = proportion(after, s).ok();
        self.failure_rate_otherwise = proportion(otherwise, s).ok();
        self.excess_failure = proportion_difference(after, otherwise, s).ok();
        let bad = (to.failures + to.long_waits) as f64;
        let share = if bad > 0.0 {
            self.failures_after as f64 / bad
        } else {
            0.0
        };
        self.revenue_at_risk = to.revenue_at_risk.map(|m| m.share(share));
    }
}

/// Two days, in seconds: a later interaction within this time of the one before takes it
/// over.
const WITHIN_SECONDS: i64 = 2 * 86_400;

/// Consecutive interactions of customers (in time, then touchpoint order) within two days,
/// counted by the touchpoints and the owners the interactions name: the raw material of
/// hand-offs before the edited owners of touchpoints apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Pair {
    pub from_touchpoint: String,
    pub from_owner: Option<String>,
    pub to_touchpoint: String,
    pub to_owner: Option<String>,
    pub count: u64,
    /// How many of the later interactions failed.
    pub failed: u64,
}

/// The hand-offs among `pairs`: consecutive interactions whose owners — the edited owner
/// of the touchpoint, else the interaction's — differ, most frequent first.
pub(super) fn handoffs(pairs: &[Pair], placements: &BTreeMap<String, Placement>) -> Vec<Handoff> {
    let owner = |tp: &str, own: &Option<String>| {
        let edited = placements.get(tp).and_then(|p| p.owner.clone());
        edited.or_else(|| own.clone())
    };
    let mut counts: BTreeMap<[String; 4], (u64, u64)> = BTreeMap::new();
    for p in pairs {
        let from = owner(&p.from_touchpoint, &p.from_owner);
        let to = owner(&p.to_touchpoint, &p.to_owner);
        let (Some(from), Some(to)) = (from, to) else {
            continue;
        };
        if from == to {
            continue;
        }
        let key = [from, p.from_touchpoint.clone(), to, p.to_touchpoint.clone()];
        let c = counts.entry(key).or_default();
        c.0 += p.count;
        c.1 += p.failed;
    }
    let mut out: Vec<Handoff> = counts.into_iter().map(handoff).collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| key(a).cmp(&key(b))));
    out
}

fn key(h: &Handoff) -> [&str; 4] {
    [
        &h.from_owner,
        &h.from_touchpoint,
        &h.to_owner,
        &h.to_touchpoint,
    ]
}

fn handoff(
    ([from_owner, from_touchpoint, to_owner, to_touchpoint], (n, failed)): (
        [String; 4],
        (u64, u64),
    ),
) -> Handoff {
    Handoff {
        from_owner,
        from_touchpoint,
        to_owner,
        to_touchpoint,
        count: n,
        failures_after: failed,
        failure_rate_after: None,
        failure_rate_otherwise: None,
        excess_failure: None,
        revenue_at_risk: None,
    }
}

/// Counts the pairs of the interactions `ctx` reads.
///
/// The interactions are hash-partitioned by customer and sorted within each partition
/// (DataFusion, spilling beyond the memory pool); each partition is then read in order,
/// in parallel, and its pairs counted — a `lag` window over millions of customers costs
/// several times more.
pub(super) async fn pairs(ctx: &SessionContext) -> Result<Vec<Pair>> {
    let query = "SELECT customer_id, at, CAST(touchpoint AS VARCHAR) AS touchpoint,
                        CAST(owner AS VARCHAR) AS owner,
                        CASE WHEN outcome = 'failed' THEN 1 ELSE 0 END AS failed
                 FROM interactions";
    let plan = sorted_by_customer(ctx.sql(query).await?.create_physical_plan().await?, ctx)?;
    let tasks: Vec<_> = (0..plan.output_partitioning().partition_count())
        .map(|p| {
            let stream = plan.execute(p, ctx.task_ctx());
            tokio::spawn(async move { count_partition(stream?).await })
        })
        .collect();
    let mut counts: BTreeMap<PairKey, (u64, u64)> = BTreeMap::new();
    for task in tasks {
        let part = task
            .await
            .map_err(|e| StoreError::Input(format!("counting hand-offs stopped: {e}")))??;
        for (key, (n, failed)) in part {
            let c = counts.entry(key).or_default();
            c.0 += n;
            c.1 += failed;
        }
    }
    Ok(counts
        .into_iter()
        .map(
            |((from_touchpoint, from_owner, to_touchpoint, to_owner), (count, failed))| Pair {
                from_touchpoint,
                from_owner,
                to_touchpoint,
                to_owner,
                count,
                failed,
            },
        )
        .collect())
}

/// From touchpoint, from owner, to touchpoint, to owner.
type PairKey = (String, Option<String>, String, Option<String>);

/// `input` hash-partitioned by `customer_id` and sorted within each partition by
/// customer, time and touchpoint.
fn sorted_by_customer(
    input: Arc<dyn ExecutionPlan>,
    ctx: &SessionContext,
) -> Result<Arc<dyn ExecutionPlan>> {
    let schema = input.schema();
    let partitions = ctx.copied_config().target_partitions();
    let customer = physical_col("customer_id", &schema)?;
    let hashed = RepartitionExec::try_new(input, Partitioning::Hash(vec![customer], partitions))?;
    let order = ["customer_id", "at", "touchpoint"]
        .iter()
        .map(|c| Ok(PhysicalSortExpr::new_default(physical_col(c, &schema)?)))
        .collect::<Result<Vec<_>>>()?;
    let order = LexOrdering::new(order).expect("a non-empty ordering");
    let sort = SortExec::new(order, Arc::new(hashed)).with_preserve_partitioning(true);
    Ok(Arc::new(sort))
}

/// The previous interaction of the customer being read.
struct Previous {
    customer: String,
    second: i64,
    touchpoint: u32,
    owner: Option<u32>,
}

/// Touchpoint and owner names as small numbers, while a partition is read.
#[derive(Default)]
struct Names(HashMap<String, u32>, Vec<String>);

impl Names {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(id) = self.0.get(name) {
            return *id;
        }
        let id = self.1.len() as u32;
        self.0.insert(name.to_string(), id);
        self.1.push(name.to_string());
        id
    }

    fn name(&self, id: u32) -> String {
        self.1[id as usize].clone()
    }
}

/// The pairs of one partition, read in customer order, with their counts and failures.
async fn count_partition(
    mut stream: SendableRecordBatchStream,
) -> Result<Vec<(PairKey, (u64, u64))>> {
    let mut names = Names::default();
    let mut counts: HashMap<[Option<u32>; 4], (u64, u64)> = HashMap::new();
    let mut prev: Option<Previous> = None;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let c = Columns::new(&batch);
        let (customer, at, tp) = (c.text("customer_id")?, c.int("at")?, c.text("touchpoint")?);
        let (owner, failed) = (c.text("owner")?, c.int("failed")?);
        for r in 0..c.rows() {
            let (Some(id), Some(micros), Some(touchpoint)) =
                (customer.str(r), at.i64(r), tp.str(r))
            else {
                continue;
            };
            let now = Previous {
                customer: String::new(),
                second: micros / 1_000_000,
                touchpoint: names.id(touchpoint),
                owner: owner.str(r).map(|o| names.id(o)),
            };
            let same = prev.as_ref().is_some_and(|p| p.customer == id);
            if let (true, Some(p)) = (same, &prev)
                && now.second - p.second <= WITHIN_SECONDS
            {
                let key = [Some(p.touchpoint), p.owner, Some(now.touchpoint), now.owner];
                let c = counts.entry(key).or_default();
                c.0 += 1;
                c.1 += failed.count(r);
            }
            prev = Some(match (same, prev.take()) {
                (true, Some(p)) => Previous {
                    customer: p.customer,
                    ..now
                },
                _ => Previous {
                    customer: id.to_string(),
                    ..now
                },
            });
        }
    }
    let name = |id: Option<u32>| id.map(|id| names.name(id));
    Ok(counts
        .into_iter()
        .map(|([a, b, c, d], n)| {
            (
                (
                    name(a).unwrap_or_default(),
                    name(b),
                    name(c).unwrap_or_default(),
                    name(d),
                ),
                n,
            )
        })
        .collect())
}
