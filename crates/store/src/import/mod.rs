//! `cxray import`: bringing files into an event table, all or nothing.
//!
//! Every file is read twice: once to fingerprint its content (a file already imported
//! into the table is skipped), once to parse and validate it into Arrow batches that
//! stream into Parquet files of the table. Nothing becomes visible until the single Delta
//! commit at the end, which also records each file's fingerprint as a Delta application
//! transaction; a bad row (beyond `--skip-bad-rows`), an unreadable file or a crash leaves
//! the table at its previous version.

pub(crate) mod batch;
pub mod plan;
pub mod source;
mod stats;
pub mod values;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use cxray_core::domain::Table;
use cxray_core::erasure::ErasedRows;
use datafusion::arrow::array::RecordBatch;
use deltalake_core::DeltaTable;
use deltalake_core::kernel::Transaction;
use deltalake_core::kernel::transaction::CommitProperties;
use deltalake_core::writer::{DeltaWriter, RecordBatchWriter, WriteMode};
use serde::Serialize;
use tokio::sync::mpsc;

use self::batch::{BatchBuilder, RowError};
use self::plan::{Plan, PlanError, SourceColumn};
use self::source::{Fields, Format, HeaderAt, Input, KeyLimits, RowSink};
use self::stats::Stats;
use self::values::TimeParser;
use crate::erased::Erased;
use crate::folder::DataFolder;
use crate::ops::ImportRecord;
use crate::schema::{Attributes, Limits};
use crate::{Result, StoreError, tables};

/// Rows per record batch.
const BATCH_ROWS: usize = 64 * 1024;

/// How to read the files of one import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The format; detected from each file's name and first line when `None`.
    pub format: Option<Format>,
    /// Whether the first row is a header; detected when `None` (a first row that names
    /// a contract column or a mapped source column is a header).
    pub header: Option<bool>,
    /// Contract column → source column (header name or 1-based position).
    pub map: Vec<(String, SourceColumn)>,
    /// strftime format of dates and times; ISO 8601 when `None`.
    pub date_format: Option<String>,
    /// IANA time zone of local times; UTC when `None`.
    pub timezone: Option<String>,
    /// How many bad rows may be set aside (in a rejects file) before the import fails.
    pub skip_bad_rows: u64,
    /// Who imports, for the audit log.
    pub actor: String,
    /// What rows may add to the table.
    pub limits: Limits,
    /// Whether rows of erased customers are refused (failing the import) or accepted.
    pub erased_rows: ErasedRows,
}

/// Reports progress of long work: bytes read of the total, rows so far.
pub trait Progress: Send + Sync {
    fn update(&self, bytes: u64, total_bytes: u64, rows: u64);
}

/// Progress reporting that reports nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn update(&self, _: u64, _: u64, _: u64) {}
}

/// What happened to one file.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FileReport {
    pub path: String,
    pub rows: u64,
    pub rejected: u64,
    /// The same content was imported into this table before; nothing was read.
    pub duplicate: bool,
}

/// The outcome of an import.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ImportSummary {
    pub table: String,
    pub rows: u64,
    pub rejected: u64,
    pub customers: u64,
    /// Earliest and latest event time imported (RFC 3339), where the table has one.
    pub first: Option<String>,
    pub last: Option<String>,
    pub seconds: f64,
    /// The table version the import committed; `None` when nothing was imported.
    pub version: Option<u64>,
    pub files: Vec<FileReport>,
    /// Where rejected rows were written, if any were.
    pub rejects_file: Option<String>,
}

/// Imports `paths` into `table` of `folder` as one commit.
pub async fn import(
    folder: &DataFolder,
    table: Table,
    paths: &[PathBuf],
    options: &ImportOptions,
    progress: Arc<dyn Progress>,
) -> Result<ImportSummary> {
    let started = Instant::now();
    let time = TimeParser::new(options.date_format.as_deref(), options.timezone.as_deref())
        .map_err(StoreError::Input)?;
    let inputs = paths
        .iter()
        .map(|p| Input::new(p, options.format))
        .collect::<Result<Vec<_>>>()?;
    let mut delta = tables::open(folder, table, None).await?;
    let (fresh, mut reports, txns) = fingerprint(&delta, table, inputs).await?;
    if fresh.is_empty() {
        return Ok(summary(
            table,
            Stats::default(),
            reports,
            None,
            None,
            started,
        ));
    }
    let rejects = Rejects::new(folder, table, options.skip_bad_rows);
    let erased = Arc::new(Erased::load(&folder.ops_db()?, options.erased_rows)?);
    let attributes = tables::attributes(&delta, table, options.limits.attributes)?;
    let (tx, mut rx) = mpsc::channel::<RecordBatch>(2);
    let parse = {
        let options = options.clone();
        let progress = progress.clone();
        tokio::task::spawn_blocking(move || {
            let context = ParseContext {
                table,
                options: &options,
                time: &time,
                tx: &tx,
                erased,
            };
            parse_all(&context, &fresh, &*progress, rejects, attributes)
        })
    };
    let properties = CommitProperties::default()
        .with_application_transactions(txns)
        .with_metadata([("cxray.operation".to_string(), serde_json::json!("import"))]);
    let mut writer = RecordBatchWriter::for_table(&delta)?.with_commit_properties(properties);
    let mut write_error = None;
    while let Some(batch) = rx.recv().await {
        if let Err(e) = writer.write_with_mode(batch, WriteMode::MergeSchema).await {
            write_error = Some(e);
            break;
        }
    }
    drop(rx);
    let parsed = parse
        .await
        .map_err(|e| StoreError::Input(format!("import stopped: {e}")))?;
    let (stats, file_rows, rejects) = match (parsed, write_error) {
        (Ok(done), None) => done,
        (Err(e), _) => {
            writer.reset();
            return Err(e);
        }
        (Ok((_, _, rejects)), Some(e)) => {
            writer.reset();
            rejects.discard();
            return Err(e.into());
        }
    };
    let version = writer.flush_and_commit(&mut delta).await?;
    for (report, (rows, rejected)) in reports.iter_mut().filter(|r| !r.duplicate).zip(file_rows) {
        report.rows = rows;
        report.rejected = rejected;
    }
    let result = summary(
        table,
        stats,
        reports,
        Some(version),
        rejects.finish(),
        started,
    );
    log_import(folder, options, &result);
    Ok(result)
}

/// Splits inputs into new ones and duplicates (content already in the table, or twice
/// in this import), with the application transactions that mark the new ones.
async fn fingerprint(
    delta: &DeltaTable,
    table: Table,
    inputs: Vec<Input>,
) -> Result<(Vec<Input>, Vec<FileReport>, Vec<Transaction>)> {
    let (mut fresh, mut reports, mut txns) = (Vec::new(), Vec::new(), Vec::new());
    let mut seen = HashSet::new();
    let snapshot = delta.snapshot()?;
    for input in inputs {
        let fp = {
            let input = Input::new(&input.path, Some(input.format))?;
            tokio::task::spawn_blocking(move || input.fingerprint())
                .await
                .map_err(|e| StoreError::Input(e.to_string()))??
        };
        let app_id = format!("cxray-import-{table}-{fp}");
        let known = snapshot
            .transaction_version(delta.log_store().as_ref(), &app_id)
            .await?
            .is_some();
        let duplicate = known || !seen.insert(app_id.clone());
        reports.push(FileReport {
            path: input.path.display().to_string(),
            rows: 0,
            rejected: 0,
            duplicate,
        });
        if !duplicate {
            txns.push(Transaction::new(app_id, 1));
            fresh.push(input);
        }
    }
    Ok((fresh, reports, txns))
}

type Parsed = (Stats, Vec<(u64, u64)>, Rejects);

/// What every file of an import is parsed with.
struct ParseContext<'a> {
    table: Table,
    options: &'a ImportOptions,
    time: &'a TimeParser,
    tx: &'a mpsc::Sender<RecordBatch>,
    erased: Arc<Erased>,
}

/// Parses every input into batches sent to `tx`; returns the statistics, the rows and
/// rejects per file, and the rejects file.
fn parse_all(
    context: &ParseContext,
    inputs: &[Input],
    progress: &dyn Progress,
    mut rejects: Rejects,
    mut attributes: Attributes,
) -> Result<Parsed> {
    let mut stats = Stats::default();
    let total: u64 = inputs.iter().map(|i| i.size).sum();
    let mut done = 0u64;
    let mut per_file = Vec::new();
    for input in inputs {
        let parse = FileParse {
            context,
            input,
            stats: &mut stats,
            rejects: &mut rejects,
            attributes: &mut attributes,
            progress: &|rows| {
                progress.update(done + input.read.load(Ordering::Relaxed), total, rows)
            },
            builder: None,
            rows: 0,
            rejected: 0,
        };
        let result = parse.run();
        match result {
            Ok(counts) => per_file.push(counts),
            Err(e) => {
                rejects.discard();
                return Err(e);
            }
        }
        done += input.size;
        progress.update(done, total, stats.rows);
    }
    Ok((stats, per_file, rejects))
}

/// The state of parsing one file: the plan (known after the first row), the batch being
/// filled, and the counts.
struct FileParse<'a> {
    context: &'a ParseContext<'a>,
    input: &'a Input,
    stats: &'a mut Stats,
    rejects: &'a mut Rejects,
    /// The table's attribute columns, with those of the files parsed before.
    attributes: &'a mut Attributes,
    progress: &'a dyn Fn(u64),
    builder: Option<BatchBuilder>,
    rows: u64,
    rejected: u64,
}

impl FileParse<'_> {
    /// Parses the file; returns its rows and rejected rows.
    fn run(mut self) -> Result<(u64, u64)> {
        let input = self.input;
        let keys = KeyLimits::new(self.context.table, self.context.options.limits);
        source::visit(input, keys, &mut self)?;
        let Some(mut b) = self.builder.take() else {
            return Err(input.error("empty file (no rows)"));
        };
        if self.rows + self.rejected == 0 {
            return Err(input.error("no data rows (only a header)"));
        }
        if b.len() > 0 {
            self.send(&mut b)?;
        }
        Ok((self.rows, self.rejected))
    }

    /// A plan refused: two colliding columns are named with the second one's place.
    fn plan_error(&self, e: PlanError, at: &HeaderAt) -> StoreError {
        match &e {
            PlanError::Collision { second, .. } => match at.place(*second) {
                Some(place) => self.input.error_at(place, e),
                None => self.input.error(format_args!("column {}: {e}", second + 1)),
            },
            PlanError::Mapping(_) => self.input.error(e),
        }
    }

    fn send(&mut self, builder: &mut BatchBuilder) -> Result<()> {
        let batch = builder.finish();
        self.stats.observe(self.context.table, &batch);
        (self.progress)(self.stats.rows);
        self.context
            .tx
            .blocking_send(batch)
            .map_err(|_| StoreError::Input("import stopped: the table writer failed".into()))
    }
}

impl RowSink for FileParse<'_> {
    fn header(&mut self, first: &[String], at: &HeaderAt) -> Result<bool> {
        let (table, options) = (self.context.table, self.context.options);
        let has_header = options
            .header
            .unwrap_or_else(|| Plan::looks_like_header(table, &options.map, first));
        let plan = Plan::resolve(table, &options.map, first, has_header)
            .map_err(|e| self.plan_error(e, at))?;
        let names = plan.attributes.iter().map(|(n, _)| n.as_str());
        self.attributes
            .admit(names)
            .map_err(|e| self.input.error(e))?;
        let time = self.context.time.clone();
        let builder = BatchBuilder::new(table, plan, time).refusing(self.context.erased.clone());
        self.builder = Some(builder);
        Ok(has_header)
    }

    fn refuse(&mut self, line: u64, reason: String) -> StoreError {
        self.input.error_at(line, reason)
    }

    fn row(&mut self, line: u64, fields: &dyn Fields) -> Result<()> {
        let mut b = self.builder.take().expect("header seen first");
        let result = match b.append(fields) {
            Ok(()) => {
                self.rows += 1;
                Ok(())
            }
            // Set aside, the row would keep the erased customer's id in a file.
            Err(e) if e.erased => Err(self.input.error_at(place(self.input, line, &e), e.reason)),
            Err(e) => {
                self.rejected += 1;
                self.rejects.add(self.input, line, &e, fields)
            }
        };
        let result = result.and_then(|()| {
            if b.len() >= BATCH_ROWS {
                self.send(&mut b)
            } else {
                Ok(())
            }
        });
        self.builder = Some(b);
        result
    }
}

/// The rows set aside under `--skip-bad-rows`, written to a CSV file in the data
/// folder's `rejects/`; the row beyond the allowance fails the import.
struct Rejects {
    path: PathBuf,
    allowed: u64,
    count: u64,
    writer: Option<csv::Writer<std::fs::File>>,
}

impl Rejects {
    fn new(folder: &DataFolder, table: Table, allowed: u64) -> Self {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        Rejects {
            path: folder.rejects_dir().join(format!("{table}-{stamp}.csv")),
            allowed,
            count: 0,
            writer: None,
        }
    }

    fn add(&mut self, input: &Input, line: u64, e: &RowError, fields: &dyn Fields) -> Result<()> {
        let at = place(input, line, e);
        self.count += 1;
        if self.count > self.allowed {
            let hint = if self.allowed == 0 {
                String::new()
            } else {
                format!(" (more than {} bad rows)", self.allowed)
            };
            return Err(input.error_at(at, format_args!("{}{hint}", e.reason)));
        }
        let writer = match &mut self.writer {
            Some(w) => w,
            None => self.writer.insert(self.create()?),
        };
        let column = e.column.map(|c| c.to_string()).unwrap_or_default();
        writer
            .write_record([
                &input.path.display().to_string(),
                &line.to_string(),
                &column,
                &e.reason,
                &fields.raw(),
            ])
            .map_err(|err| StoreError::Input(format!("{}: {err}", self.path.display())))
    }

    fn create(&self) -> Result<csv::Writer<std::fs::File>> {
        let dir = self.path.parent().expect("rejects dir");
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
        let mut w = csv::Writer::from_path(&self.path)
            .map_err(|e| StoreError::Input(format!("{}: {e}", self.path.display())))?;
        w.write_record(["file", "line", "column", "reason", "row"])
            .map_err(|e| StoreError::Input(format!("{}: {e}", self.path.display())))?;
        Ok(w)
    }

    /// Flushes the file; its path if any row was set aside.
    fn finish(mut self) -> Option<String> {
        let mut w = self.writer.take()?;
        w.flush().ok()?;
        Some(self.path.display().to_string())
    }

    /// Removes the file: the import failed, so nothing of it stays.
    fn discard(mut self) {
        if self.writer.take().is_some() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Where a rejected row is: `line:column`, or the line of NDJSON, whose fields have no
/// stable position (the reason names the field).
fn place(input: &Input, line: u64, e: &RowError) -> String {
    match e.column {
        Some(c) if input.format != Format::Ndjson => format!("{line}:{c}"),
        _ => line.to_string(),
    }
}

fn summary(
    table: Table,
    stats: Stats,
    files: Vec<FileReport>,
    version: Option<u64>,
    rejects_file: Option<String>,
    started: Instant,
) -> ImportSummary {
    ImportSummary {
        table: table.name().into(),
        rows: stats.rows,
        rejected: files.iter().map(|f| f.rejected).sum(),
        customers: stats.customers.len() as u64,
        first: stats.first(),
        last: stats.last(),
        seconds: started.elapsed().as_secs_f64(),
        version,
        files,
        rejects_file,
    }
}

/// Logs a committed import in the operational database. The data is already committed,
/// so a failure here is reported but does not fail the import.
fn log_import(folder: &DataFolder, options: &ImportOptions, s: &ImportSummary) {
    let record = ImportRecord {
        at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        table_name: s.table.clone(),
        files: s
            .files
            .iter()
            .filter(|f| !f.duplicate)
            .map(|f| file_name(&f.path))
            .collect::<Vec<_>>()
            .join(", "),
        rows: s.rows,
        rejected: s.rejected,
        delta_version: s.version.map(|v| v as i64),
        seconds: s.seconds,
    };
    if let Err(e) = folder
        .ops_db()
        .and_then(|db| db.record_import(&options.actor, &record))
    {
        tracing::warn!("import committed, but logging it failed: {e}");
    }
}

fn file_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map_or_else(|| path.to_string(), |n| n.to_string_lossy().into_owned())
}
