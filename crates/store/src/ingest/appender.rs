//! The appender: one thread that writes validated batches to the write-ahead log, with
//! group commit — it takes every request waiting, writes them, syncs each table's log
//! once, remembers their idempotency keys, and only then hands the batches to the
//! committers and acknowledges them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use cxray_core::domain::Table;
use tokio::sync::{mpsc, oneshot};

use super::commit::Pending;
use super::keys::{self, KeyRecord};
use super::validate::Validated;
use super::wal::Segment;
use super::{Ack, Counters, IngestError, index};
use crate::ops::OpsDb;
use crate::{Result, StoreError};

/// The most requests written under one sync.
const MAX_GROUP: usize = 1024;

/// A validated request waiting to be written.
pub(crate) struct Append {
    pub table: Table,
    pub key: Option<String>,
    pub actor: String,
    pub body: Vec<u8>,
    pub validated: Validated,
    pub reply: oneshot::Sender<Result<Ack, IngestError>>,
}

/// What became of a request.
enum Outcome {
    Written(u64),
    Duplicate(u64),
    KeyReused,
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

    fn write(&mut self, group: &[Append]) -> Result<Vec<Outcome>> {
        let mut fresh: HashMap<(Table, &str), KeyRecord> = HashMap::new();
        let mut touched = [false; 6];
        let mut outcomes = Vec::with_capacity(group.len());
        for a in group {
            let record = KeyRecord {
                rows: a.validated.batch.num_rows() as u64,
                hash: a.validated.hash.clone(),
            };
            if let Some(key) = a.key.as_deref() {
                let known = match fresh.get(&(a.table, key)) {
                    Some(k) => Some(k.clone()),
                    None => keys::find(self.db.conn(), a.table, key)?,
                };
                if let Some(k) = known {
                    outcomes.push(match k.hash == record.hash {
                        true => Outcome::Duplicate(k.rows),
                        false => Outcome::KeyReused,
                    });
                    continue;
                }
                fresh.insert((a.table, key), record);
            }
            let i = index(a.table);
            let seq = self.next_seq[i];
            self.next_seq[i] += 1;
            let segment = self.segment(a.table, seq)?;
            if let Err(e) = segment.append(seq, a.key.as_deref(), &a.actor, &a.body) {
                return Err(StoreError::io(&self.wal, e));
            }
            touched[i] = true;
            outcomes.push(Outcome::Written(seq));
        }
        for (i, slot) in self.segments.iter_mut().enumerate() {
            if let (true, Some(segment)) = (touched[i], slot.as_ref()) {
                segment.sync().map_err(|e| StoreError::io(&self.wal, e))?;
                self.counters.synced();
                if segment.is_full() {
                    *slot = None;
                }
            }
        }
        if !fresh.is_empty() {
            keys::remember(self.db.conn(), fresh.iter().map(|((t, k), r)| (*t, *k, r)))?;
        }
        Ok(outcomes)
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
                        actor: a.actor,
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
            };
            let _ = a.reply.send(answer);
        }
    }
}
