//! The data folder's taxonomy of comment topics, `taxonomy.toml` (the format of
//! `core::comments::taxonomy`): read, or the starter taxonomy when there is none; a topic
//! added to it (a discovered topic promoted), checked and audited.

use std::io::Write;

use cxray_core::comments::{Taxonomy, taxonomy};

use crate::folder::DataFolder;
use crate::ops::{OpsDb, audit};
use crate::{Result, StoreError};

/// The file's name in the data folder.
pub const FILE: &str = "taxonomy.toml";

/// The taxonomy's text, and whether it is the data folder's own (else the starter's).
pub fn read(folder: &DataFolder) -> Result<(String, bool)> {
    match std::fs::read_to_string(folder.root().join(FILE)) {
        Ok(text) => Ok((text, true)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok((taxonomy::EXAMPLE.to_string(), false))
        }
        Err(e) => Err(StoreError::io(&folder.root().join(FILE), e)),
    }
}

/// Parses a taxonomy's text, a bad one bad input naming the file, line and column.
pub fn parse(text: &str) -> Result<Taxonomy> {
    Taxonomy::parse(text).map_err(|e| StoreError::Input(format!("{FILE}:{e}")))
}

/// Adds `topic` (a `[[topic]]` table) to the data folder's taxonomy — the starter's
/// topics first when it has none — once the whole parses (a duplicate name is refused
/// under `field`); written whole (a temporary file moved into place) while holding the
/// operational database's write lock, with an audit entry by `actor`.
pub fn add_topic(
    folder: &DataFolder,
    ops: &OpsDb,
    actor: &str,
    field: &'static str,
    topic: &str,
) -> Result<Taxonomy> {
    let tx = ops.conn().write()?;
    let (text, _) = read(folder)?;
    let text = format!("{}\n\n{}", text.trim_end(), topic.trim());
    let parsed = Taxonomy::parse(&text).map_err(|e| StoreError::invalid(field, e.to_string()))?;
    let path = folder.root().join(FILE);
    let temporary = folder.root().join(format!("{FILE}.tmp"));
    let written = std::fs::File::create(&temporary).and_then(|mut file| {
        file.write_all(format!("{text}\n").as_bytes())?;
        file.sync_all()
    });
    written.map_err(|e| StoreError::io(&temporary, e))?;
    audit(&tx, actor, "add_topic", topic.trim())?;
    std::fs::rename(&temporary, &path).map_err(|e| StoreError::io(&path, e))?;
    tx.commit()?;
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_topic_is_added_to_the_starter_once_and_audited() {
        let dir = tempfile::tempdir().unwrap();
        let (folder, _) = DataFolder::create(dir.path().join("data")).unwrap();
        let ops = folder.ops_db().unwrap();
        let topic = "[[topic]]\nname = \"legroom\"\nen = [\"legroom\"]\n";
        let before = parse(taxonomy::EXAMPLE).unwrap().topics().len();
        let added = add_topic(&folder, &ops, "admin@example.com", "name", topic).unwrap();
        assert_eq!(added.topics().len(), before + 1);
        assert!(added.find("legroom").is_some());
        let (text, own) = read(&folder).unwrap();
        assert!(own && text.contains("legroom"));
        match add_topic(&folder, &ops, "admin@example.com", "name", topic) {
            Err(StoreError::Invalid { field, message }) => {
                assert_eq!(field, "name");
                assert!(message.contains("duplicate topic"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let audit = ops.recent_audit(5).unwrap();
        assert_eq!(
            audit.iter().filter(|a| a.action == "add_topic").count(),
            1,
            "{audit:?}"
        );
    }
}
