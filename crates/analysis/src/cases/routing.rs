//! Who gets a case: the touchpoint's owner as the journey sees it — the edited placement's
//! owner, else the owner the interaction names, else the owner the touchpoint's
//! interactions name — and that owner's `sla_hours`.

use std::collections::{BTreeMap, BTreeSet};

use cxray_core::domain::Table;
use cxray_store::Result;
use cxray_store::cases::Candidate;
use cxray_store::datafusion::functions_aggregate::expr_fn::max;
use cxray_store::datafusion::prelude::{col, lit};
use cxray_store::decode::Columns;
use cxray_store::ops::OpsDb;
use cxray_store::sql::Sql;

pub(super) struct Routing {
    /// Touchpoint → the owner an edit gave it.
    placed: BTreeMap<String, String>,
    /// Owner → hours to first contact.
    pub sla_hours: BTreeMap<String, f64>,
}

impl Routing {
    pub async fn load(sql: &Sql, ops: &OpsDb) -> Result<Self> {
        let placed = ops
            .placements()?
            .into_iter()
            .filter_map(|(tp, p)| p.owner.map(|o| (tp, o)))
            .collect();
        let (_, batches) = sql
            .query("SELECT owner_id, sla_hours FROM owners WHERE sla_hours IS NOT NULL")
            .await?;
        let mut sla_hours = BTreeMap::new();
        for b in &batches {
            let c = Columns::new(b);
            let (owner, hours) = (c.text("owner_id")?, c.float("sla_hours")?);
            for r in 0..c.rows() {
                if let (Some(o), Some(h)) = (owner.str(r), hours.f64(r)) {
                    sla_hours.insert(o.to_string(), h);
                }
            }
        }
        Ok(Routing { placed, sla_hours })
    }

    /// The candidates with their touchpoints' owners.
    pub async fn route(&self, sql: &Sql, found: Vec<Candidate>) -> Result<Vec<Candidate>> {
        let unknown: BTreeSet<&str> = found
            .iter()
            .filter(|c| c.owner.is_none())
            .filter_map(|c| c.touchpoint.as_deref())
            .filter(|tp| !self.placed.contains_key(*tp))
            .collect();
        let imported = imported_owners(sql, Some(&unknown)).await?;
        Ok(found
            .into_iter()
            .map(|c| {
                let tp = c.touchpoint.as_deref().unwrap_or_default();
                let owner = self
                    .placed
                    .get(tp)
                    .cloned()
                    .or(c.owner.clone())
                    .or_else(|| imported.get(tp).cloned());
                Candidate { owner, ..c }
            })
            .collect())
    }
}

/// The owner of every touchpoint that has one, as the journey sees it: the edited
/// placement's, else the one its interactions name.
pub async fn touchpoint_owners(sql: &Sql, ops: &OpsDb) -> Result<BTreeMap<String, String>> {
    let mut owners = imported_owners(sql, None).await?;
    let placed = ops.placements()?.into_iter();
    owners.extend(placed.filter_map(|(tp, p)| p.owner.map(|o| (tp, o))));
    Ok(owners)
}

/// The owner the interactions name for each touchpoint (the greatest, as the journey
/// takes it), read only for the touchpoints asked (all when none are listed).
async fn imported_owners(
    sql: &Sql,
    touchpoints: Option<&BTreeSet<&str>>,
) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    if touchpoints.is_some_and(BTreeSet::is_empty) {
        return Ok(out);
    }
    let mut df = sql.context().table(Table::Interactions.name()).await?;
    if let Some(tps) = touchpoints {
        let listed = tps.iter().map(|tp| lit(*tp)).collect();
        df = df.filter(col("touchpoint").in_list(listed, false))?;
    }
    let df = df.aggregate(
        vec![col("touchpoint")],
        vec![max(col("owner")).alias("owner")],
    )?;
    for b in df.collect().await? {
        let c = Columns::new(&b);
        let (tp, owner) = (c.text("touchpoint")?, c.text("owner")?);
        for r in 0..c.rows() {
            if let (Some(t), Some(o)) = (tp.str(r), owner.str(r)) {
                out.insert(t.to_string(), o.to_string());
            }
        }
    }
    Ok(out)
}
