//! Customers erased with `cxray forget`: the suppression list in the operational database
//! (a keyed hash per customer, never the id) and the check that imports and ingestion make
//! against it under [`ErasedRows::Refuse`].

use std::collections::HashSet;

use crate::db::params;
use cxray_core::erasure::ErasedRows;

use crate::Result;
use crate::ops::{OpsDb, now_text};

/// Why a row of an erased customer is refused.
pub const REFUSED: &str =
    "the customer was erased: their rows are refused (erased_customers = \"accept\" takes them)";

/// The keyed hash that stands for an erased customer id.
pub fn erasure_hash(key: &[u8; 32], customer_id: &str) -> String {
    let mut hasher = blake3::Hasher::new_keyed(key);
    hasher
        .update(b"cxray forget\0")
        .update(customer_id.as_bytes());
    hasher.finalize().to_hex().to_string()
}

/// Adds the hashes to the suppression list.
pub(crate) fn suppress(db: &OpsDb, hashes: &[String]) -> Result<()> {
    let tx = db.conn().write()?;
    for hash in hashes {
        tx.execute(
            "INSERT INTO forgotten (hash, at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![hash, now_text()],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// The customers whose rows are refused: the suppression list, or none.
#[derive(Debug, Clone, Default)]
pub struct Erased {
    key: [u8; 32],
    hashes: HashSet<String>,
}

impl Erased {
    /// The customers `rule` refuses: those on the database's suppression list under
    /// [`ErasedRows::Refuse`], none under [`ErasedRows::Accept`].
    pub fn load(db: &OpsDb, rule: ErasedRows) -> Result<Erased> {
        if rule == ErasedRows::Accept {
            return Ok(Erased::default());
        }
        let hashes = db
            .conn()
            .prepare("SELECT hash FROM forgotten")?
            .query_map([], |r| r.get(0))?
            .collect::<crate::db::DbResult<HashSet<String>>>()?;
        if hashes.is_empty() {
            return Ok(Erased::default());
        }
        Ok(Erased {
            key: db.pseudonym_key()?,
            hashes,
        })
    }

    /// Whether rows of `customer_id` are refused.
    pub fn refuses(&self, customer_id: &str) -> bool {
        !self.hashes.is_empty() && self.hashes.contains(&erasure_hash(&self.key, customer_id))
    }
}

/// The tests, on each backend of the operational database.
#[cfg(test)]
mod tests {
    crate::on_each_backend!("erased/tests.rs");
}
