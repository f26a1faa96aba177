//! Followed-up cases by the month they were opened and their owner: how many, how many
//! were contacted and resolved within their deadlines, how many are done — what the
//! board pack sums over its period.

use serde::Serialize;

use crate::Result;
use crate::ops::OpsDb;

/// One owner's followed-up cases opened in one month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseMonth {
    /// `2025-06`.
    pub month: String,
    pub owner: Option<String>,
    pub opened: u64,
    /// First contacted (or done without contact) by the contact deadline.
    pub contacted_in_time: u64,
    /// Resolved or closed by the resolution deadline.
    pub resolved_in_time: u64,
    /// Resolved or closed, whenever.
    pub done: u64,
}

impl OpsDb {
    /// Every month and owner with followed-up cases (held-out ones are not worked),
    /// oldest first.
    pub fn case_months(&self) -> Result<Vec<CaseMonth>> {
        let mut stmt = self.conn().prepare(
            "SELECT substr(opened_at, 1, 7), owner, count(*),
                    sum(CASE WHEN COALESCE(contacted_at, done_at) <= contact_by THEN 1 ELSE 0 END),
                    sum(CASE WHEN done_at <= resolve_by THEN 1 ELSE 0 END),
                    sum(CASE WHEN done_at IS NOT NULL THEN 1 ELSE 0 END)
             FROM cases WHERE arm = 'follow_up'
             GROUP BY 1, 2 ORDER BY 1, 2",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(CaseMonth {
                month: r.get(0)?,
                owner: r.get(1)?,
                opened: r.get(2)?,
                contacted_in_time: r.get::<_, Option<u64>>(3)?.unwrap_or(0),
                resolved_in_time: r.get::<_, Option<u64>>(4)?.unwrap_or(0),
                done: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }
}
