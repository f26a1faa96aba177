//! Erasure (`cxray forget`): every survey record of the customers goes — invitations,
//! contact decisions, answers held or kept, opt-outs.

use rusqlite::params;

use crate::Result;
use crate::ops::OpsDb;

/// The survey tables that name customers.
const TABLES: [&str; 4] = [
    "survey_answers",
    "contact_log",
    "invitations",
    "survey_opt_outs",
];

impl OpsDb {
    /// Deletes the customers' survey records (the caller then rewrites the file, see
    /// [`OpsDb::rewrite_file`]); returns how many rows went.
    pub fn forget_survey_records(&self, ids: &[String]) -> Result<usize> {
        let tx = crate::ops::write(self.conn())?;
        let mut removed = 0;
        for id in ids {
            for table in TABLES {
                let sql = format!("DELETE FROM {table} WHERE customer_id = ?1");
                removed += tx.execute(&sql, params![id])?;
            }
        }
        tx.commit()?;
        Ok(removed)
    }
}
