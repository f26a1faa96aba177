//! The business hours cases' service levels count in: none (every hour counts) until set,
//! one setting for every owner, audited.

use crate::db::{Conn, OptionalExtension, params};
use cxray_core::cases::hours::BusinessHours;

use crate::ops::{OpsDb, audit, now_text};
use crate::{Result, StoreError};

impl OpsDb {
    /// The business hours set, if any.
    pub fn business_hours(&self) -> Result<Option<BusinessHours>> {
        business_hours(self.conn())
    }

    /// Sets the business hours (`None`: every hour counts again), for cases opened from
    /// now on.
    pub fn set_business_hours(&self, actor: &str, hours: Option<&BusinessHours>) -> Result<()> {
        let tx = self.conn().write()?;
        match hours {
            Some(h) => tx.execute(
                "INSERT INTO business_hours (id, spec, set_by, set_at) VALUES (1, ?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE
                 SET spec = excluded.spec, set_by = excluded.set_by, set_at = excluded.set_at",
                params![h.to_string(), actor, now_text()],
            )?,
            None => tx.execute("DELETE FROM business_hours", [])?,
        };
        let detail = hours.map_or("every hour".into(), ToString::to_string);
        audit(&tx, actor, "set_business_hours", &detail)?;
        tx.commit()?;
        Ok(())
    }
}

/// The business hours as stored.
pub(super) fn business_hours(conn: &Conn) -> Result<Option<BusinessHours>> {
    let spec: Option<String> = conn
        .query_row("SELECT spec FROM business_hours WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?;
    spec.map(|s| {
        s.parse().map_err(|e: cxray_core::cases::hours::BadHours| {
            StoreError::Input(format!("stored business hours: {e}"))
        })
    })
    .transpose()
}
