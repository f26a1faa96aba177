//! The data folder: where a cxray installation keeps its tables and state.
//!
//! Layout: `cxray.json` (format marker), `tables/<name>/` (one Delta table per event
//! table), `cxray.db` (the operational SQLite database), `rejects/` (rows set aside by
//! `--skip-bad-rows`), `wal/` (the ingestion API's write-ahead log), and for a demo world
//! `truth.json`. Lock files keep one process at a time where that matters.
//!
//! On object storage (`s3://bucket/prefix`, `gs://…`, `az://…`) the location holds
//! `cxray.json` and `tables/`; everything else — the operational database, the
//! write-ahead log, `rejects/`, `derived/`, the taxonomy — lives in a local **state
//! folder** on the node, which records the location it belongs to (`location.json`).

use std::collections::HashMap;
use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cxray_core::domain::Table;
use deltalake_core::DeltaTable;
use futures::TryStreamExt;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::db::OpsLocation;
use crate::engine::Engine;
use crate::error::StorageError;
use crate::ops::OpsDb;
use crate::{Result, StoreError, storage};

/// The layout version this build writes and reads.
pub const FORMAT: u32 = 1;
const MARKER: &str = "cxray.json";

#[derive(Debug, Serialize, Deserialize)]
struct Marker {
    format: u32,
    written_by: String,
}

/// Where a data folder's Delta tables are: a local folder, or a location on object
/// storage (see [`storage::SCHEMES`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Local(PathBuf),
    Remote(Url),
}

impl Location {
    /// Reads the data folder setting: a URL of object storage (`s3://bucket/prefix`), a
    /// `file://` URL, or a local path.
    pub fn parse(text: &str) -> Result<Location> {
        let Some((scheme, _)) = text.split_once("://") else {
            return Ok(Location::Local(text.into()));
        };
        let bad = |reason: String| StorageError::BadUrl {
            url: text.to_string(),
            reason,
        };
        if scheme.is_empty() || !scheme.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Ok(Location::Local(text.into()));
        }
        let mut url = Url::parse(text).map_err(|e| bad(format!("not a URL ({e})")))?;
        if url.scheme() == "file" {
            let path = url
                .to_file_path()
                .map_err(|_| bad("not a local path".into()))?;
            return Ok(Location::Local(path));
        }
        if !storage::SCHEMES.contains(&url.scheme()) {
            return Err(bad(format!(
                "unknown scheme {}: a local folder, or s3://bucket/prefix, gs://bucket/prefix, \
                 az://container/prefix",
                url.scheme()
            ))
            .into());
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(bad("no bucket: write s3://bucket/prefix".into()).into());
        }
        if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
            return Err(bad(
                "no query, fragment or credentials in the URL: credentials come from the \
                 environment or the config's [object_store]"
                    .into(),
            )
            .into());
        }
        // Checked on the text: parsing the URL resolves them away.
        if text.split('/').any(|s| s == "." || s == "..") {
            return Err(bad("no . or .. in the prefix".into()).into());
        }
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(Location::Remote(url))
    }

    /// The location as the user writes it.
    pub fn display(&self) -> String {
        match self {
            Location::Local(p) => p.display().to_string(),
            Location::Remote(u) => u.as_str().trim_end_matches('/').to_string(),
        }
    }

    /// The local state folder used for a location on object storage when none is
    /// configured: `$XDG_STATE_HOME/cxray/<scheme>/<bucket>/<prefix>` (else
    /// `~/.local/state/…`, else `./cxray-state/…`).
    pub fn default_state(url: &Url) -> PathBuf {
        let base = std::env::var_os("XDG_STATE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|v| !v.is_empty())
                    .map(|h| PathBuf::from(h).join(".local").join("state"))
            })
            .map(|b| b.join("cxray"))
            .unwrap_or_else(|| PathBuf::from("cxray-state"));
        let mut dir = base.join(url.scheme()).join(url.host_str().unwrap_or("_"));
        for segment in url.path().split('/').filter(|s| !s.is_empty()) {
            dir.push(segment);
        }
        dir
    }
}

/// An opened, existing data folder of a format this build understands.
#[derive(Debug, Clone)]
pub struct DataFolder {
    /// The local folder: the whole data folder, or the state folder of one on object
    /// storage.
    root: PathBuf,
    /// The folder URL of the Delta tables (`…/tables/`).
    tables: Url,
    remote: Option<Arc<Remote>>,
    /// The operational database on PostgreSQL, by its URL; else SQLite in `root`.
    postgres: Option<Arc<str>>,
    /// The node's id, kept in its state folder (a data folder on object storage only: a
    /// local folder has one node).
    node: Option<Arc<str>>,
    /// Where the queries over the tables run.
    engine: Engine,
}

#[derive(Debug)]
struct Remote {
    /// The data folder's URL (ending in `/`).
    url: Url,
    /// The object stores' options (from the config file).
    options: HashMap<String, String>,
}

/// The state folder's record of the location it belongs to, and the id of the node it is
/// the state of (several servers may share the location, each with its own state).
#[derive(Debug, Serialize, Deserialize)]
struct StateRecord {
    location: String,
    #[serde(default)]
    node: Option<String>,
}

const STATE_RECORD: &str = "location.json";

impl DataFolder {
    /// Opens an existing data folder, refusing a missing one or one written by a newer
    /// version of cxray.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root = absolute(root.into())?;
        let marker_path = root.join(MARKER);
        if !root.is_dir() {
            return Err(StoreError::Folder(format!(
                "data folder {} does not exist: create it with `cxray init` or `cxray demo`",
                root.display()
            )));
        }
        let text = std::fs::read_to_string(&marker_path).map_err(|_| {
            StoreError::Folder(format!(
                "{} is not a cxray data folder (no {MARKER}): create one with `cxray init`",
                root.display()
            ))
        })?;
        check_marker(&text, &marker_path.display().to_string())?;
        Ok(Self::local(root))
    }

    fn local(root: PathBuf) -> Self {
        let tables = Url::from_directory_path(root.join("tables")).expect("absolute path");
        DataFolder {
            root,
            tables,
            remote: None,
            postgres: None,
            engine: Engine::Embedded,
            node: None,
        }
    }

    /// Creates the folder layout if it is not there yet (the tables and the operational
    /// database are created by [`crate::tables::create_all`] and [`crate::ops::OpsDb`]).
    /// Returns the folder and whether it was newly created.
    pub fn create(root: impl Into<PathBuf>) -> Result<(Self, bool)> {
        let root = absolute(root.into())?;
        if root.join(MARKER).exists() {
            return Ok((DataFolder::open(root)?, false));
        }
        if root.is_dir()
            && std::fs::read_dir(&root)
                .map_err(|e| StoreError::io(&root, e))?
                .next()
                .is_some()
        {
            return Err(StoreError::Folder(format!(
                "{} exists and is not empty, but is not a cxray data folder: choose another data folder",
                root.display()
            )));
        }
        std::fs::create_dir_all(root.join("tables")).map_err(|e| StoreError::io(&root, e))?;
        let path = root.join(MARKER);
        std::fs::write(&path, marker_text()?).map_err(|e| StoreError::io(&path, e))?;
        Ok((Self::local(root), true))
    }

    /// Opens the data folder at `location`; one on object storage keeps its local state
    /// in `state` (see [`Location::default_state`]), with the object stores' `options`.
    /// Nothing is created.
    pub fn open_at(
        location: &Location,
        state: Option<&Path>,
        options: &HashMap<String, String>,
    ) -> Result<Self> {
        match location {
            Location::Local(root) => Self::open(root),
            Location::Remote(url) => Self::remote(url, state, options, false).map(|(f, _)| f),
        }
    }

    /// Creates the data folder at `location` if it is not there yet (see
    /// [`DataFolder::create`], [`DataFolder::open_at`]).
    pub fn create_at(
        location: &Location,
        state: Option<&Path>,
        options: &HashMap<String, String>,
    ) -> Result<(Self, bool)> {
        match location {
            Location::Local(root) => Self::create(root),
            Location::Remote(url) => Self::remote(url, state, options, true),
        }
    }

    fn remote(
        url: &Url,
        state: Option<&Path>,
        options: &HashMap<String, String>,
        create: bool,
    ) -> Result<(Self, bool)> {
        storage::register();
        let created = probe(url, options, create)?;
        let root = absolute(state.map_or_else(|| Location::default_state(url), Path::to_path_buf))?;
        let shown = Location::Remote(url.clone()).display();
        let record_path = root.join(STATE_RECORD);
        let record = match std::fs::read_to_string(&record_path) {
            Ok(text) => {
                let record: StateRecord = serde_json::from_str(&text)
                    .map_err(|e| StoreError::Folder(format!("{}: {e}", record_path.display())))?;
                if record.location != shown {
                    return Err(StoreError::Folder(format!(
                        "state folder {} belongs to the data folder {}, not {shown}: choose \
                         another state folder",
                        root.display(),
                        record.location
                    )));
                }
                record
            }
            Err(_) => {
                let non_empty = root.is_dir()
                    && std::fs::read_dir(&root)
                        .map_err(|e| StoreError::io(&root, e))?
                        .next()
                        .is_some();
                if non_empty {
                    return Err(StoreError::Folder(format!(
                        "state folder {} exists and is not empty, but is not the state of a \
                         data folder: choose another state folder",
                        root.display()
                    )));
                }
                std::fs::create_dir_all(&root).map_err(|e| StoreError::io(&root, e))?;
                StateRecord {
                    location: shown,
                    node: None,
                }
            }
        };
        let node = with_node(record, &record_path)?;
        let tables = url.join("tables/").expect("a folder URL");
        let remote = Remote {
            url: url.clone(),
            options: options.clone(),
        };
        let folder = DataFolder {
            root,
            tables,
            remote: Some(Arc::new(remote)),
            postgres: None,
            engine: Engine::Embedded,
            node: Some(node.into()),
        };
        Ok((folder, created))
    }

    /// The local folder: the data folder itself, or the state folder of a data folder
    /// on object storage (the operational database, the write-ahead log, `rejects/`,
    /// `derived/`).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The data folder as the user names it: the local path or the object store URL.
    pub fn location(&self) -> String {
        match &self.remote {
            Some(r) => Location::Remote(r.url.clone()).display(),
            None => self.root.display().to_string(),
        }
    }

    /// The id of this node among the servers sharing a data folder on object storage
    /// (none for a local folder).
    pub fn node(&self) -> Option<&str> {
        self.node.as_deref()
    }

    /// The object store URL when the tables are on object storage.
    pub fn remote_url(&self) -> Option<&Url> {
        self.remote.as_ref().map(|r| &r.url)
    }

    /// Refuses `what`, which copies the SQLite file of the operational database, when
    /// that is on PostgreSQL.
    pub fn sqlite_only(&self, what: &'static str) -> Result<()> {
        match &self.postgres {
            Some(_) => Err(StoreError::Input(format!(
                "{what} copies the operational database's SQLite file, but it is on \
                 PostgreSQL ({}): back that database up with pg_dump",
                self.ops_location()
            ))),
            None => Ok(()),
        }
    }

    /// Refuses `what` on a data folder on object storage.
    pub fn local_only(&self, what: &'static str) -> Result<()> {
        match &self.remote {
            Some(_) => Err(StorageError::Unsupported {
                what,
                url: self.location(),
            }
            .into()),
            None => Ok(()),
        }
    }

    /// Where a table's Delta files live on the local disk (a local data folder only;
    /// see [`DataFolder::table_url`]).
    pub fn table_dir(&self, table: Table) -> PathBuf {
        self.named_table_dir(table.name())
    }

    /// The folder URL of the Delta tables (`…/tables/`).
    pub fn tables_url(&self) -> &Url {
        &self.tables
    }

    /// The table's location as a URL, for Delta Lake.
    pub fn table_url(&self, table: Table) -> Url {
        self.named_table_url(table.name())
    }

    /// The location of the Delta table called `name` (event tables and tables cxray
    /// derives from them, such as `customer_value`).
    pub fn named_table_url(&self, name: &str) -> Url {
        self.tables.join(&format!("{name}/")).expect("a table name")
    }

    /// Where the Delta files of the table called `name` live on the local disk (a local
    /// data folder only).
    pub fn named_table_dir(&self, name: &str) -> PathBuf {
        self.root.join("tables").join(name)
    }

    /// The Delta table at `url` with this folder's object store options, not loaded.
    pub fn delta_at(&self, url: Url) -> Result<DeltaTable> {
        Ok(deltalake_core::DeltaTableBuilder::from_url(url)?
            .with_storage_options(self.store_options())
            .build()?)
    }

    /// Whether the Delta table called `name` exists (has a log).
    pub async fn has_table(&self, name: &str) -> Result<bool> {
        match &self.remote {
            None => Ok(self.named_table_dir(name).join("_delta_log").is_dir()),
            Some(_) => {
                let t = self.delta_at(self.named_table_url(name))?;
                Ok(t.log_store().is_delta_table_location().await?)
            }
        }
    }

    /// The operational database file.
    pub fn ops_db_path(&self) -> PathBuf {
        self.root.join("cxray.db")
    }

    /// The folder with its operational database on PostgreSQL at `url` (a
    /// `postgres://` URL) instead of SQLite in the folder.
    pub fn with_postgres(mut self, url: &str) -> Self {
        self.postgres = Some(url.into());
        self
    }

    /// The folder with its queries run by `engine`.
    pub fn with_engine(mut self, engine: Engine) -> Self {
        self.engine = engine;
        self
    }

    /// Where the queries over the tables run.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The object store options of a data folder on object storage (from the config).
    pub(crate) fn store_options(&self) -> HashMap<String, String> {
        self.remote
            .as_ref()
            .map(|r| r.options.clone())
            .unwrap_or_default()
    }

    /// Where the operational database is: PostgreSQL if set, else [`Self::ops_db_path`].
    pub fn ops_location(&self) -> OpsLocation {
        match &self.postgres {
            Some(url) => OpsLocation::Postgres(url.to_string()),
            None => OpsLocation::Sqlite(self.ops_db_path()),
        }
    }

    /// A connection to the operational database, migrated.
    pub fn ops_db(&self) -> Result<OpsDb> {
        OpsDb::at(&self.ops_location())
    }

    /// Where rows set aside by `--skip-bad-rows` are written.
    pub fn rejects_dir(&self) -> PathBuf {
        self.root.join("rejects")
    }

    /// The ingestion API's write-ahead log: one folder of segments per table.
    pub fn wal_dir(&self) -> PathBuf {
        self.root.join("wal")
    }

    /// The demo world's truth file.
    pub fn truth_path(&self) -> PathBuf {
        self.root.join("truth.json")
    }
}

/// The node id of a state folder's `record`, given one (and the record written) if it
/// has none yet.
fn with_node(mut record: StateRecord, path: &Path) -> Result<String> {
    if let Some(node) = &record.node {
        return Ok(node.clone());
    }
    let bytes = crate::accounts::random_bytes::<6>()?;
    let node: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    record.node = Some(node.clone());
    // Written aside and moved into place, so the record is never seen half written.
    let aside = path.with_extension("json.new");
    std::fs::write(&aside, serde_json::to_string_pretty(&record)?)
        .and_then(|()| std::fs::rename(&aside, path))
        .map_err(|e| StoreError::io(path, e))?;
    Ok(node)
}

fn marker_text() -> Result<String> {
    let marker = Marker {
        format: FORMAT,
        written_by: env!("CARGO_PKG_VERSION").into(),
    };
    Ok(serde_json::to_string_pretty(&marker)?)
}

/// Refuses a marker written by a newer cxray.
fn check_marker(text: &str, place: &str) -> Result<()> {
    let marker: Marker =
        serde_json::from_str(text).map_err(|e| StoreError::Folder(format!("{place}: {e}")))?;
    if marker.format > FORMAT {
        return Err(StoreError::Folder(format!(
            "data folder {place} was written by cxray {} (format {}); this cxray {} reads format {FORMAT}: upgrade cxray",
            marker.written_by,
            marker.format,
            env!("CARGO_PKG_VERSION"),
        )));
    }
    Ok(())
}

/// Checks the data folder at `url` on object storage — reachable, the bucket there, a
/// cxray data folder — with short retries; with `create`, writes its marker when the
/// location is empty. Returns whether it created the folder. Runs on a thread of its
/// own, so it can be called from synchronous code and from within a runtime alike.
fn probe(url: &Url, options: &HashMap<String, String>, create: bool) -> Result<bool> {
    let (url, options) = (url.clone(), options.clone());
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| StoreError::io(Path::new("tokio runtime"), e))?;
                runtime.block_on(probe_async(&url, &options, create))
            })
            .join()
            .unwrap_or_else(|_| {
                Err(StoreError::Folder(
                    "checking the object store panicked".into(),
                ))
            })
    })
}

async fn probe_async(url: &Url, options: &HashMap<String, String>, create: bool) -> Result<bool> {
    let shown = Location::Remote(url.clone()).display();
    let (store, prefix) =
        storage::build(url, options, storage::probe_retry()).map_err(|e| StorageError::BadUrl {
            url: shown.clone(),
            reason: e.to_string(),
        })?;
    let marker = prefix.clone().join(MARKER);
    let classify = |e: object_store::Error| -> StoreError {
        match e {
            e if refused(&e) => StorageError::Credentials {
                url: shown.clone(),
                source: e,
            }
            .into(),
            e if no_bucket(&e) => StorageError::NoBucket {
                url: shown.clone(),
                bucket: url.host_str().unwrap_or_default().to_string(),
            }
            .into(),
            e => StorageError::Unreachable {
                url: shown.clone(),
                source: e,
            }
            .into(),
        }
    };
    // Listing first: it tells a missing bucket from a missing marker.
    let first = store
        .list(Some(&prefix))
        .try_next()
        .await
        .map_err(classify)?;
    match store.get(&marker).await {
        Ok(found) => {
            let bytes = found.bytes().await.map_err(classify)?;
            check_marker(
                &String::from_utf8_lossy(&bytes),
                &format!("{shown}/{MARKER}"),
            )?;
            Ok(false)
        }
        Err(object_store::Error::NotFound { .. }) if first.is_none() && create => {
            let put = PutOptions {
                mode: PutMode::Create,
                ..Default::default()
            };
            match store.put_opts(&marker, marker_text()?.into(), put).await {
                Ok(_) | Err(object_store::Error::AlreadyExists { .. }) => Ok(true),
                Err(e) => Err(classify(e)),
            }
        }
        Err(object_store::Error::NotFound { .. }) if first.is_none() => {
            Err(StoreError::Folder(format!(
                "data folder {shown} does not exist: create it with `cxray init` or `cxray demo`"
            )))
        }
        Err(object_store::Error::NotFound { .. }) => Err(StoreError::Folder(format!(
            "{shown} is not empty, but is not a cxray data folder (no {MARKER}): choose another \
             data folder"
        ))),
        Err(e) => Err(classify(e)),
    }
}

/// Whether the store refused the credentials (S3 answers 403 with a code; object_store
/// reports some of those as generic errors).
fn refused(e: &object_store::Error) -> bool {
    let text = format!("{e:?}");
    matches!(
        e,
        object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. }
    ) || [
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "AccessDenied",
        "403 Forbidden",
    ]
    .iter()
    .any(|code| text.contains(code))
}

/// Whether the store said the bucket does not exist.
fn no_bucket(e: &object_store::Error) -> bool {
    let text = format!("{e:?}");
    text.contains("NoSuchBucket") || text.contains("ContainerNotFound")
}

fn absolute(path: PathBuf) -> Result<PathBuf> {
    std::path::absolute(&path).map_err(|e| StoreError::io(&path, e))
}

/// Takes the exclusive lock of the file at `path` (created when missing), held until the
/// file is dropped; `held` is the error when another process holds it.
pub(crate) fn lock(path: &Path, held: impl FnOnce() -> StoreError) -> Result<File> {
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| StoreError::io(path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(held()),
        Err(TryLockError::Error(e)) => Err(StoreError::io(path, e)),
    }
}
