//! Recovery at startup: the batches in a table's write-ahead log beyond the position its
//! Delta log holds are validated again and committed, once; then the log is removed. A
//! batch that can never be committed (acknowledged by an older version that let it
//! through) is set aside in `rejects/` rather than blocking the table and the server.

use std::sync::Arc;

use cxray_core::domain::Table;

use super::IngestOptions;
use super::commit::{Committer, Pending};
use super::keys::{self, KeyRecord};
use super::validate::{count_rows, validate};
use super::{Counters, RecentCommits, wal};
use crate::folder::DataFolder;
use crate::import::source::KeyLimits;
use crate::{Result, StoreError};

/// Recovers `table`; returns the sequence number its next batch gets.
pub(crate) async fn recover(
    folder: &DataFolder,
    table: Table,
    options: IngestOptions,
    counters: &Arc<Counters>,
    recent: &Arc<RecentCommits>,
) -> Result<u64> {
    let dir = folder.wal_dir().join(table.name());
    let records = wal::read(&dir)?;
    let mut committer = Committer::new(
        folder.clone(),
        table,
        options,
        counters.clone(),
        recent.clone(),
    );
    let exists = folder.has_table(table.name()).await?;
    let committed = match exists || !records.is_empty() {
        true => committer.committed().await?,
        false => 0,
    };
    let Some(last) = records.last().map(|r| r.seq) else {
        wal::remove_committed(&dir, committed, true)?;
        return Ok(committed + 1);
    };
    let known: Vec<(&str, &str, KeyRecord)> = records
        .iter()
        .filter_map(|r| {
            let key = r.key.as_deref()?;
            let rows = count_rows(&r.body);
            let hash = blake3::hash(&r.body).to_hex().to_string();
            Some((r.client.id.as_str(), key, KeyRecord { rows, hash }))
        })
        .collect();
    let db = folder.ops_db()?;
    keys::remember(
        db.conn(),
        known.iter().map(|(a, k, r)| ((table, *a, *k), r)),
    )?;
    drop(db);
    if records[0].seq <= committed {
        committer.adopt().await?;
    }
    let mut replayed = 0;
    for r in records.into_iter().filter(|r| r.seq > committed) {
        // Acknowledged rows: erased customers among them were accepted then.
        let batch = match validate(table, &r.body, KeyLimits::UNLIMITED, &Arc::default()) {
            Ok(v) => v.batch,
            Err(e) => {
                set_aside(folder, table, &r, &e)?;
                continue;
            }
        };
        replayed += batch.num_rows();
        let pending = Pending {
            seq: r.seq,
            batch,
            actor: r.client.actor,
        };
        committer.push(pending).await;
    }
    committer.commit().await?;
    committer.remove_log(true);
    if replayed > 0 {
        tracing::info!("ingestion: replayed {replayed} acknowledged rows into {table}");
    }
    Ok(committed.max(last) + 1)
}

/// Writes a batch that cannot be committed to `rejects/ingest-<table>-<seq>.ndjson`.
fn set_aside(
    folder: &DataFolder,
    table: Table,
    record: &wal::Record,
    e: &super::IngestError,
) -> Result<()> {
    let dir = folder.rejects_dir();
    std::fs::create_dir_all(&dir).map_err(|err| StoreError::io(&dir, err))?;
    let path = dir.join(format!("ingest-{table}-{:020}.ndjson", record.seq));
    std::fs::write(&path, &record.body).map_err(|err| StoreError::io(&path, err))?;
    tracing::error!(
        "write-ahead log of {table}, batch {}: {e}; it can never be committed: set aside in {}",
        record.seq,
        path.display()
    );
    Ok(())
}
