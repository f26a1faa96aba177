//! Erasure (`cxray forget`): every survey record of the customers goes — their
//! invitations' e-mails and their answers' webhook messages in the outbox, invitations,
//! contact decisions, answers held or kept, opt-outs.

use crate::db::params;

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
        let tx = self.conn().write()?;
        let mut removed = 0;
        for id in ids {
            removed += tx.execute(
                "DELETE FROM outbox WHERE invitation_id IN
                    (SELECT id FROM invitations WHERE customer_id = ?1)",
                params![id],
            )?;
            removed += tx.execute(
                "DELETE FROM outbox WHERE answer_id IN
                    (SELECT id FROM survey_answers WHERE customer_id = ?1)",
                params![id],
            )?;
            for table in TABLES {
                let sql = format!("DELETE FROM {table} WHERE customer_id = ?1");
                removed += tx.execute(&sql, params![id])?;
            }
        }
        tx.commit()?;
        Ok(removed)
    }
}
