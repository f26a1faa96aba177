//! Which queries of a cluster session run on the cluster.

use std::sync::Arc;

use ballista_core::planner::BallistaQueryPlanner;
use datafusion::catalog::Session;
use datafusion::common::Result;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::listing::ListingTable;
use datafusion::datasource::source_as_provider;
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{DefaultPhysicalPlanner, PhysicalPlanner};
use datafusion_proto::protobuf::LogicalPlanNode;

/// Plans a query for the cluster when every table it reads is a list of the data folder's
/// files, which the executors read themselves; a query that also reads rows held in this
/// process (an intermediate kept in memory or on its disk, rows just ingested), changes
/// or describes the session, or reads no table, runs here.
pub(crate) struct Planner {
    pub(crate) cluster: BallistaQueryPlanner<LogicalPlanNode>,
    pub(crate) here: DefaultPhysicalPlanner,
    /// The URL of the data folder's tables (`…/tables/`).
    pub(crate) tables: String,
}

impl std::fmt::Debug for Planner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Planner")
            .field("cluster", &self.cluster)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl QueryPlanner for Planner {
    async fn create_physical_plan(
        &self,
        plan: &LogicalPlan,
        session: &dyn Session,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let on_cluster = on_cluster(plan, &self.tables)?;
        tracing::debug!(on_cluster, "query planned");
        if on_cluster {
            self.cluster.create_physical_plan(plan, session).await
        } else {
            self.here.create_physical_plan(plan, session).await
        }
    }
}

/// Whether `plan` is a query that reads files under `tables` only.
fn on_cluster(plan: &LogicalPlan, tables: &str) -> Result<bool> {
    if matches!(
        plan,
        LogicalPlan::Ddl(_)
            | LogicalPlan::Dml(_)
            | LogicalPlan::Copy(_)
            | LogicalPlan::Explain(_)
            | LogicalPlan::Analyze(_)
            | LogicalPlan::Statement(_)
            | LogicalPlan::DescribeTable(_)
    ) {
        return Ok(false);
    }
    let (mut files, mut other) = (0usize, 0usize);
    plan.apply_with_subqueries(|node| {
        match node {
            LogicalPlan::TableScan(scan) => {
                let provider = source_as_provider(&scan.source).ok();
                let listing = provider
                    .as_ref()
                    .and_then(|p| p.downcast_ref::<ListingTable>());
                match listing {
                    Some(t)
                        if t.table_paths()
                            .iter()
                            .all(|p| p.as_str().starts_with(tables)) =>
                    {
                        files += 1
                    }
                    _ => other += 1,
                }
            }
            LogicalPlan::Extension(_) => other += 1,
            _ => {}
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(files > 0 && other == 0)
}
