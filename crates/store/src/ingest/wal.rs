//! The write-ahead log of one table: segment files `<first sequence number>.wal` of
//! checksummed records, each one acknowledged batch (its sequence number, idempotency
//! key, actor, client and NDJSON body).
//!
//! A record is its payload's length (u32, little-endian), the first 16 bytes of the
//! payload's BLAKE3 hash, and the payload: a JSON header line, then the body. Records are
//! synced before they are acknowledged, so only the end of the newest segment can be
//! torn (a crash while writing); reading cuts it off there.

use std::borrow::Cow;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Client;
use crate::{Result, StoreError};

/// Segments are closed when they grow beyond this; closed segments are removed once
/// every record in them is committed.
pub(crate) const SEGMENT_BYTES: u64 = 64 << 20;

const CHECKSUM: usize = 16;

/// One acknowledged batch.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Record {
    pub seq: u64,
    pub key: Option<String>,
    pub client: Client,
    pub body: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct Header<'a> {
    seq: u64,
    #[serde(borrow)]
    key: Option<Cow<'a, str>>,
    #[serde(borrow)]
    actor: Cow<'a, str>,
    /// Absent in records of versions whose keys were per actor.
    #[serde(borrow, default)]
    client: Option<Cow<'a, str>>,
}

/// A record's bytes.
fn encode(seq: u64, key: Option<&str>, client: &Client, body: &[u8]) -> Vec<u8> {
    let header = Header {
        seq,
        key: key.map(Cow::Borrowed),
        actor: Cow::Borrowed(&client.actor),
        client: Some(Cow::Borrowed(&client.id)),
    };
    let mut payload = serde_json::to_vec(&header).expect("header serialises");
    payload.push(b'\n');
    payload.extend_from_slice(body);
    let mut out = Vec::with_capacity(4 + CHECKSUM + payload.len());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&blake3::hash(&payload).as_bytes()[..CHECKSUM]);
    out.extend_from_slice(&payload);
    out
}

impl Record {
    /// The record at the start of `bytes` and its length, or `None` when it is
    /// incomplete or its checksum does not match.
    fn decode(bytes: &[u8]) -> Option<(Record, usize)> {
        let len = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
        let end = 4 + CHECKSUM + len;
        let payload = bytes.get(4 + CHECKSUM..end)?;
        if blake3::hash(payload).as_bytes()[..CHECKSUM] != bytes[4..4 + CHECKSUM] {
            return None;
        }
        let newline = payload.iter().position(|b| *b == b'\n')?;
        let header: Header = serde_json::from_slice(&payload[..newline]).ok()?;
        let client = Client {
            id: header
                .client
                .unwrap_or_else(|| header.actor.clone())
                .into_owned(),
            actor: header.actor.into_owned(),
        };
        let record = Record {
            seq: header.seq,
            key: header.key.map(Cow::into_owned),
            client,
            body: payload[newline + 1..].to_vec(),
        };
        Some((record, end))
    }
}

/// The segment being appended to.
pub(crate) struct Segment {
    file: File,
    size: u64,
}

impl Segment {
    /// Creates the segment whose first record will be `first_seq`, and makes its
    /// directory entry durable (and the directory's own, when it is new).
    pub fn create(dir: &Path, first_seq: u64) -> Result<Segment> {
        create_dir_durably(dir)?;
        let path = dir.join(format!("{first_seq:020}.wal"));
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .map_err(|e| StoreError::io(&path, e))?;
        sync_dir(dir)?;
        Ok(Segment { file, size: 0 })
    }

    /// Writes a record (not yet synced).
    pub fn append(
        &mut self,
        seq: u64,
        key: Option<&str>,
        client: &Client,
        body: &[u8],
    ) -> std::io::Result<()> {
        let bytes = encode(seq, key, client, body);
        self.file.write_all(&bytes)?;
        self.size += bytes.len() as u64;
        Ok(())
    }

    /// Makes every record appended so far durable.
    pub fn sync(&self) -> std::io::Result<()> {
        self.file.sync_data()
    }

    /// Whether the segment should be closed.
    pub fn is_full(&self) -> bool {
        self.size >= SEGMENT_BYTES
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Cuts the segment back to `size` bytes, durably: records written since are gone.
    pub fn truncate(&mut self, size: u64) -> std::io::Result<()> {
        self.file.set_len(size)?;
        self.file.sync_data()?;
        self.size = size;
        Ok(())
    }
}

/// Creates `dir` and the directories above it that are missing, syncing each parent so
/// the new entries survive a crash.
pub(crate) fn create_dir_durably(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dir_durably(parent)?;
    }
    match std::fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(StoreError::io(dir, e)),
    }
    match dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => sync_dir(parent),
        None => Ok(()),
    }
}

/// The segments in `dir`, oldest first, with their first sequence numbers.
fn segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::io(dir, e)),
    };
    let mut found = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| StoreError::io(dir, e))?.path();
        let first = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".wal"))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(first) = first {
            found.push((first, path));
        }
    }
    found.sort();
    Ok(found)
}

/// Every record in `dir`, in order. A torn end of the newest segment is cut off; a bad
/// record anywhere else is an error.
pub(crate) fn read(dir: &Path) -> Result<Vec<Record>> {
    let (records, torn) = inspect(dir)?;
    if let Some((path, valid)) = torn {
        cut(&path, valid)?;
    }
    Ok(records)
}

/// The newest segment and the length of its good records, when its end is torn.
pub(crate) type Torn = Option<(PathBuf, u64)>;

/// Every record in `dir`, in order, changing nothing, and where the log is torn. A bad
/// record anywhere but the newest segment's end is an error.
pub(crate) fn inspect(dir: &Path) -> Result<(Vec<Record>, Torn)> {
    let all = segments(dir)?;
    let (mut records, mut torn) = (Vec::new(), None);
    for (i, (_, path)) in all.iter().enumerate() {
        let (mut found, valid, size) = read_segment(path)?;
        records.append(&mut found);
        if valid < size {
            if i + 1 < all.len() {
                return Err(StoreError::Folder(format!(
                    "{}: corrupt write-ahead log record at byte {valid}",
                    path.display()
                )));
            }
            torn = Some((path.clone(), valid as u64));
        }
    }
    Ok((records, torn))
}

/// The records of a segment up to the first bad one, the bytes they fill, and the
/// file's size.
fn read_segment(path: &Path) -> Result<(Vec<Record>, usize, usize)> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| StoreError::io(path, e))?;
    let (mut records, mut at) = (Vec::new(), 0);
    while let Some((record, len)) = Record::decode(&bytes[at..]) {
        records.push(record);
        at += len;
    }
    Ok((records, at, bytes.len()))
}

/// Cuts a torn record off the end of a segment.
fn cut(path: &Path, len: u64) -> Result<()> {
    tracing::warn!(
        "{}: cutting off an incomplete record at byte {len} (never acknowledged)",
        path.display()
    );
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| StoreError::io(path, e))?;
    file.set_len(len)
        .and_then(|()| file.sync_all())
        .map_err(|e| StoreError::io(path, e))
}

/// Removes the segments whose records are all at or before `position`, except the newest
/// unless `newest_too` (it may still be appended to).
pub(crate) fn remove_committed(dir: &Path, position: u64, newest_too: bool) -> Result<()> {
    let all = segments(dir)?;
    for (i, (_, path)) in all.iter().enumerate() {
        let done = match all.get(i + 1) {
            Some((next_first, _)) => *next_first <= position + 1,
            None => {
                newest_too
                    && read_segment(path)?
                        .0
                        .last()
                        .is_none_or(|r| r.seq <= position)
            }
        };
        if done {
            std::fs::remove_file(path).map_err(|e| StoreError::io(path, e))?;
        }
    }
    sync_dir(dir)
}

/// Makes a folder's entries (files created, renamed or removed) durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    match File::open(dir).and_then(|d| d.sync_all()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StoreError::io(dir, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn append(s: &mut Segment, r: &Record) {
        s.append(r.seq, r.key.as_deref(), &r.client, &r.body)
            .unwrap();
    }

    fn record(seq: u64) -> Record {
        Record {
            seq,
            key: Some(format!("k{seq}")),
            client: Client {
                actor: "web:a@example.com".into(),
                id: "token:1".into(),
            },
            body: format!("{{\"n\":{seq}}}\n").into_bytes(),
        }
    }

    #[test]
    fn records_round_trip_and_a_torn_end_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Segment::create(dir.path(), 1).unwrap();
        for seq in 1..=3 {
            append(&mut s, &record(seq));
        }
        s.sync().unwrap();
        let path = dir.path().join(format!("{:020}.wal", 1));
        let whole = std::fs::metadata(&path).unwrap().len();
        let r = record(4);
        let mut torn = encode(r.seq, r.key.as_deref(), &r.client, &r.body);
        torn.truncate(torn.len() - 3);
        s.file.write_all(&torn).unwrap();
        assert_eq!(
            read(dir.path()).unwrap(),
            vec![record(1), record(2), record(3)]
        );
        assert_eq!(std::fs::metadata(&path).unwrap().len(), whole);
    }

    #[test]
    fn a_bad_record_before_the_newest_segment_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Segment::create(dir.path(), 1).unwrap();
        append(&mut s, &record(1));
        s.file.write_all(b"garbage").unwrap();
        Segment::create(dir.path(), 2).unwrap();
        let e = read(dir.path()).unwrap_err().to_string();
        assert!(e.contains("corrupt write-ahead log record at byte"), "{e}");
    }

    #[test]
    fn committed_segments_are_removed_but_the_newest_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        for first in [1, 3, 5] {
            let mut s = Segment::create(dir.path(), first).unwrap();
            append(&mut s, &record(first));
            append(&mut s, &record(first + 1));
        }
        remove_committed(dir.path(), 4, false).unwrap();
        let left: Vec<u64> = segments(dir.path()).unwrap().iter().map(|s| s.0).collect();
        assert_eq!(left, [5]);
        remove_committed(dir.path(), 5, true).unwrap();
        assert_eq!(segments(dir.path()).unwrap().len(), 1);
        remove_committed(dir.path(), 6, true).unwrap();
        assert!(segments(dir.path()).unwrap().is_empty());
    }
}
