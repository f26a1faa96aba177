//! The appender: one thread that writes validated batches to the write-ahead log, with
//! group commit — it takes every request waiting, writes them, syncs each table's log
//! once, remembers their idempotency keys, and only then hands the batches to the
//! committers and acknowledges them. It also admits the attribute columns batches add
//! (in order, so concurrent batches cannot together pass a table's limit). When writing a
//! group fails, the group's records are cut off the log again, so the batches refused
//! (503) are not committed at the next start.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use cxray_core::domain::Table;
use tokio::sync::{mpsc, oneshot};

use super::commit::Pending;
use super::keys::{self, Key, KeyRecord};
use super::validate::Validated;
use super::wal::Segment;
use super::{Ack, Client, Counters, IngestError, index};
use crate::ops::OpsDb;
use crate::schema::Attributes;
use crate::{Result, StoreError};

/// The most requests written under one sync.
const MAX_GROUP: usize = 1024;

/// A validated request waiting to be written.
pub(crate) struct Append {
    pub table: Table,
    pub key: Option<String>,
    pub client: Client,
    pub body: Vec<u8>,
    pub validated: Validated,
    pub reply: oneshot::Sender<Result<Ack, IngestError>>,
}

/// What became of a request.
enum Outcome {
    Written(u64),
    Duplicate(u64),
    KeyReused,
    /// Beyond a limit: why.
    Refused(String),
}

pub(crate) struct Appender {
    pub wal: PathBuf,
    pub segments: [Option<Segment>; 6],
    /// Each table's next sequence number.
    pub next_seq: [u64; 6],
    /// The operational database, without a sync per transaction: the keys it gets are
    /// in the synced log until a commit's full sync covers them (see `commit`).
    pub db: OpsDb,
    pub committers: Vec<mpsc::Sender<Pending>>,
    pub counters: Arc<Counters>,
    /// Each table's attribute columns, with those of the batches written.
    pub attributes: Vec<Attributes>,
    /// Why writing failed; once it has, every request is refused until a restart.
    pub broken: Option<String>,
}

impl Appender {
    /// Writes what `rx` brings until every sender is gone.
    pub fn run(mut self, rx: std::sync::mpsc::Receiver<Append>) {
        while let Ok(first) = rx.recv() {
            let mut group = vec![first];
            group.extend(rx.try_iter().take(MAX_GROUP - 1));
            self.write_group(group);
        }
    }

    fn write_group(&mut self, group: Vec<Append>) {
        if self.broken.is_none() {
            match self.write(&group) {
                Ok(outcomes) => return self.deliver(group, outcomes),
                Err(e) => {
                    tracing::error!("ingestion stopped: the write-ahead log failed: {e}");
                    self.broken = Some(e.to_string());
                }
            }
        }
        let reason = self.broken.clone().unwrap_or_default();
        for a in group {
            let _ = a.reply.send(Err(IngestError::Broken(reason.clone())));
        }
    }

    /// Writes a group, or (failing) cuts what it wrote off the log again.
    fn write(&mut self, group: &[Append]) -> Result<Vec<Outcome>> {
        let sizes: Vec<u64> = self
            .segments
            .iter()
            .map(|s| s.as_ref().map_or(0, Segment::size))
            .collect();
        let result = self.write_all(group);
        if result.is_err() {
            self.undo(&sizes);
        }
        result
    }

    fn write_all(&mut self, group: &[Append]) -> Result<Vec<Outcome>> {
        let mut fresh: HashMap<Key, KeyRecord> = HashMap::new();
        let mut touched = [false; 6];
        let mut outcomes = Vec::with_capacity(group.len());
        for a in group {
            let record = KeyRecord {
                rows: a.validated.batch.num_rows() as u64,
                hash: a.validated.hash.clone(),
            };
            let id = a
                .key
                .as_deref()
                .map(|key| (a.table, a.client.id.as_str(), key));
            if let Some(id) = id {
                let known = match fresh.get(&id) {
                    Some(k) => Some(k.clone()),
                    None => keys::find(self.db.conn(), id.0, &a.client, id.2)?,
                };
                if let Some(k) = known {
                    outcomes.push(match k.hash == record.hash {
                        true => Outcome::Duplicate(k.rows),
                        false => Outcome::KeyReused,
                    });
                    continue;
                }
            }
            let schema = a.validated.batch.schema();
            let names = schema.fields().iter().map(|f| f.name().as_str());
            if let Err(reason) = self.attributes[index(a.table)].admit(names) {
                outcomes.push(Outcome::Refused(reason));
                continue;
            }
            if let Some(id) = id {
                fresh.insert(id, record);
            }
            let i = index(a.table);
            let seq = self.next_seq[i];
            self.next_seq[i] += 1;
            let segment = self.segment(a.table, seq)?;
            if let Err(e) = segment.append(seq, a.key.as_deref(), &a.client, &a.body) {
                return Err(StoreError::io(&self.wal, e));
            }
            touched[i] = true;
            outcomes.push(Outcome::Written(seq));
        }
        for (i, slot) in self.segments.iter().enumerate() {
            if let (true, Some(segment)) = (touched[i], slot.as_ref()) {
                segment.sync().map_err(|e| StoreError::io(&self.wal, e))?;
                self.counters.synced();
            }
        }
        if !fresh.is_empty() {
            keys::remember(self.db.conn(), fresh.iter().map(|(k, r)| (*k, r)))?;
        }
        for slot in &mut self.segments {
            if slot.as_ref().is_some_and(Segment::is_full) {
                *slot = None;
            }
        }
        Ok(outcomes)
    }

    /// Cuts every open segment back to its size before a failed group, so none of the
    /// group's batches is replayed; says so in the log when that fails too.
    fn undo(&mut self, sizes: &[u64]) {
        for (slot, size) in self.segments.iter_mut().zip(sizes) {
            if let Some(segment) = slot
                && let Err(e) = segment.truncate(*size)
            {
                tracing::error!(
                    "ingestion: cannot cut a failed group off the write-ahead log ({e}): \
                     batches refused with 503 may be committed at the next start"
                );
            }
        }
    }

    /// The table's open segment, or a new one starting at `seq`.
    fn segment(&mut self, table: Table, seq: u64) -> Result<&mut Segment> {
        let slot = &mut self.segments[index(table)];
        if slot.is_none() {
            *slot = Some(Segment::create(&self.wal.join(table.name()), seq)?);
        }
        Ok(slot.as_mut().expect("segment just opened"))
    }

    /// Hands written batches to their committers and answers every request.
    fn deliver(&mut self, group: Vec<Append>, outcomes: Vec<Outcome>) {
        for (a, outcome) in group.into_iter().zip(outcomes) {
            let rows = a.validated.batch.num_rows() as u64;
            let answer = match outcome {
                Outcome::Written(seq) => {
                    let pending = Pending {
                        seq,
                        batch: a.validated.batch,
                        actor: a.client.actor,
                    };
                    if self.committers[index(a.table)]
                        .blocking_send(pending)
                        .is_err()
                    {
                        tracing::warn!("{}: committer stopped; the log keeps the rows", a.table);
                    }
                    self.counters.accepted(a.table, rows);
                    Ok(Ack {
                        accepted: rows,
                        duplicate: false,
                    })
                }
                Outcome::Duplicate(rows) => Ok(Ack {
                    accepted: rows,
                    duplicate: true,
                }),
                Outcome::KeyReused => Err(IngestError::KeyReused),
                Outcome::Refused(reason) => Err(IngestError::Limit(reason)),
            };
            let _ = a.reply.send(answer);
        }
    }
}
