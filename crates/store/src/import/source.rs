//! Reading import files: format detection, transparent gzip, the content fingerprint,
//! and a row visitor that gives every format the same shape (a header, then rows of
//! text fields with their line numbers).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use flate2::read::MultiGzDecoder;

use cxray_core::domain::Table;

use crate::schema::{Limits, attribute_name};
use crate::{Result, StoreError};

/// A file format the importer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values (RFC 4180 quoting).
    Csv,
    /// Tab-separated values.
    Tsv,
    /// Fields separated by runs of spaces or tabs, no quoting.
    Whitespace,
    /// Apache Parquet.
    Parquet,
    /// Newline-delimited JSON objects.
    Ndjson,
}

/// Text fields of one row, by 0-based source column.
pub trait Fields {
    /// How many fields the row has.
    fn width(&self) -> usize;
    /// The field at `i`, trimmed; `None` when absent, empty or null.
    fn get(&self, i: usize) -> Option<&str>;
    /// The row as text, for the rejects file.
    fn raw(&self) -> String {
        (0..self.width())
            .map(|i| self.get(i).unwrap_or(""))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// One input file, opened for reading.
pub struct Input {
    pub path: PathBuf,
    pub format: Format,
    /// Size on disk, for progress.
    pub size: u64,
    /// Bytes of the file read so far (compressed bytes for gzip).
    pub read: Arc<AtomicU64>,
}

fn input_error(path: &Path, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Input(format!("{}: {reason}", path.display()))
}

impl Input {
    /// Opens `path`, with `format` given or detected from the name and content.
    pub fn new(path: &Path, format: Option<Format>) -> Result<Self> {
        let meta = std::fs::metadata(path).map_err(|e| input_error(path, e))?;
        if !meta.is_file() {
            return Err(input_error(path, "not a file"));
        }
        let mut input = Input {
            path: path.to_path_buf(),
            format: Format::Csv,
            size: meta.len(),
            read: Arc::new(AtomicU64::new(0)),
        };
        input.format = match format {
            Some(f) => f,
            None => input.detect()?,
        };
        Ok(input)
    }

    fn detect(&self) -> Result<Format> {
        let name = self
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        Ok(match ext {
            "csv" => Format::Csv,
            "tsv" | "tab" => Format::Tsv,
            "parquet" | "pq" => Format::Parquet,
            "ndjson" | "jsonl" | "json" => Format::Ndjson,
            _ => self.sniff()?,
        })
    }

    /// Guesses a text format from the first line: tabs, commas, else whitespace.
    fn sniff(&self) -> Result<Format> {
        let mut line = String::new();
        BufReader::new(self.open()?)
            .read_line(&mut line)
            .map_err(|e| self.error(e))?;
        Ok(if line.contains('\t') {
            Format::Tsv
        } else if line.contains(',') {
            Format::Csv
        } else {
            Format::Whitespace
        })
    }

    /// A clear error about this file.
    pub fn error(&self, reason: impl std::fmt::Display) -> StoreError {
        input_error(&self.path, reason)
    }

    /// A clear error about a place in this file: `at` is `line` or `line:column`.
    pub fn error_at(
        &self,
        at: impl std::fmt::Display,
        reason: impl std::fmt::Display,
    ) -> StoreError {
        StoreError::Input(format!("{}:{at}: {reason}", self.path.display()))
    }

    /// The file's content, decompressed if it is gzip, counting bytes read.
    pub fn open(&self) -> Result<Box<dyn Read + Send>> {
        let mut file = File::open(&self.path).map_err(|e| self.error(e))?;
        let mut magic = [0u8; 2];
        let n = file.read(&mut magic).map_err(|e| self.error(e))?;
        let file = File::open(&self.path).map_err(|e| self.error(e))?;
        self.read.store(0, Ordering::Relaxed);
        let counted = Counted {
            inner: file,
            read: self.read.clone(),
        };
        Ok(if n == 2 && magic == [0x1f, 0x8b] {
            Box::new(GzipErrors(MultiGzDecoder::new(BufReader::with_capacity(
                1 << 16,
                counted,
            ))))
        } else {
            Box::new(counted)
        })
    }

    /// The fingerprint of the file's content (decompressed): the same content gives the
    /// same fingerprint whatever the file is called or how it is compressed.
    pub fn fingerprint(&self) -> Result<String> {
        let mut hasher = blake3::Hasher::new();
        let mut reader = self.open()?;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = reader.read(&mut buf).map_err(|e| self.error(e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        Ok(hasher.finalize().to_hex().to_string())
    }
}

struct Counted {
    inner: File,
    read: Arc<AtomicU64>,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Says plainly that a gzip stream is truncated or corrupt.
struct GzipErrors<R>(R);

impl<R: Read> Read for GzipErrors<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf).map_err(|e| {
            std::io::Error::new(e.kind(), format!("truncated or corrupt gzip data ({e})"))
        })
    }
}

/// Where the names of a header are, for errors about them.
#[derive(Debug, Clone, PartialEq)]
pub enum HeaderAt {
    /// The header row's line (CSV, TSV, whitespace).
    Line(u64),
    /// NDJSON: the 1-based line where each key first appears (0: no key, an empty column).
    Keys(Vec<u64>),
    /// Parquet: the file's schema.
    Schema,
}

impl HeaderAt {
    /// The line of the 0-based column `i`'s name; `None` for a schema.
    pub fn line(&self, i: usize) -> Option<u64> {
        match self {
            HeaderAt::Line(line) => Some(*line),
            HeaderAt::Keys(lines) => Some(lines.get(i).copied().unwrap_or(0)),
            HeaderAt::Schema => None,
        }
    }

    /// The place of the 0-based column `i` in the source: `line:column` or (NDJSON)
    /// `line`; `None` for a schema.
    pub fn place(&self, i: usize) -> Option<String> {
        let line = self.line(i)?;
        Some(match self {
            HeaderAt::Line(_) => format!("{line}:{}", i + 1),
            _ => line.to_string(),
        })
    }
}

/// What [`visit`] feeds: first the first row, then every data row.
pub trait RowSink {
    /// Gets the first row's fields and where they are; returns whether it is a header (and
    /// so not data).
    fn header(&mut self, first: &[String], at: &HeaderAt) -> Result<bool>;
    /// Gets a data row's line number (1-based; for Parquet and NDJSON the row number)
    /// and fields.
    fn row(&mut self, line: u64, fields: &dyn Fields) -> Result<()>;
    /// The error that stops reading at a (1-based) line the reader refuses: an NDJSON row
    /// beyond the key limits.
    fn refuse(&mut self, line: u64, reason: String) -> StoreError;
}

/// The most keys NDJSON rows may have: in one row, and distinct in a file or batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyLimits {
    pub per_row: usize,
    pub distinct: usize,
}

impl KeyLimits {
    /// No limit: what acknowledged batches replay (and are checked) with, whatever the
    /// limits are now.
    pub const UNLIMITED: KeyLimits = KeyLimits {
        per_row: usize::MAX,
        distinct: usize::MAX,
    };

    /// The key limits of rows for `table`: distinct keys are its columns and `limits`'
    /// attribute columns.
    pub fn new(table: Table, limits: Limits) -> Self {
        KeyLimits {
            per_row: limits.keys_per_row,
            distinct: table.columns().len() + limits.attributes,
        }
    }
}

/// Feeds every row of `input` to `sink`.
pub fn visit(input: &Input, keys: KeyLimits, sink: &mut dyn RowSink) -> Result<()> {
    match input.format {
        Format::Csv => visit_delimited(input, b',', sink),
        Format::Tsv => visit_delimited(input, b'\t', sink),
        Format::Whitespace => visit_whitespace(input, sink),
        Format::Parquet => visit_parquet(input, sink),
        Format::Ndjson => visit_ndjson(input, keys, sink),
    }
}

impl Fields for csv::StringRecord {
    fn width(&self) -> usize {
        self.len()
    }
    fn get(&self, i: usize) -> Option<&str> {
        csv::StringRecord::get(self, i)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
}

fn visit_delimited(input: &Input, delimiter: u8, sink: &mut dyn RowSink) -> Result<()> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .buffer_capacity(1 << 16)
        .from_reader(input.open()?);
    let mut record = csv::StringRecord::new();
    let mut first = true;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(e) => return Err(csv_error(input, e)),
        }
        let line = record.position().map_or(0, |p| p.line());
        if first {
            first = false;
            let names: Vec<String> = record.iter().map(|s| s.trim().to_string()).collect();
            if sink.header(&names, &HeaderAt::Line(line))? {
                continue;
            }
        }
        sink.row(line, &record)?;
    }
}

fn csv_error(input: &Input, e: csv::Error) -> StoreError {
    match e.kind() {
        csv::ErrorKind::Utf8 {
            pos: Some(pos),
            err,
        } => input.error_at(
            format_args!("{}:{}", pos.line(), err.field() + 1),
            "not valid UTF-8 text",
        ),
        csv::ErrorKind::Io(io) => input.error(io),
        _ => input.error(e),
    }
}

/// A whitespace-separated line and the byte ranges of its fields.
struct SplitLine {
    line: String,
    ranges: Vec<(usize, usize)>,
}

impl SplitLine {
    fn split(&mut self) {
        self.ranges.clear();
        let bytes = self.line.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            let start = i;
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if i > start {
                self.ranges.push((start, i));
            }
        }
    }
}

impl Fields for SplitLine {
    fn width(&self) -> usize {
        self.ranges.len()
    }
    fn get(&self, i: usize) -> Option<&str> {
        self.ranges.get(i).map(|&(a, b)| &self.line[a..b])
    }
}

fn visit_whitespace(input: &Input, sink: &mut dyn RowSink) -> Result<()> {
    let mut reader = BufReader::with_capacity(1 << 16, input.open()?);
    let mut split = SplitLine {
        line: String::new(),
        ranges: Vec::new(),
    };
    let (mut line_no, mut first) = (0u64, true);
    loop {
        split.line.clear();
        let n = reader
            .read_line(&mut split.line)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::InvalidData => {
                    input.error_at(line_no + 1, "not valid UTF-8 text")
                }
                _ => input.error(e),
            })?;
        if n == 0 {
            return Ok(());
        }
        line_no += 1;
        split.split();
        if split.ranges.is_empty() {
            continue;
        }
        if first {
            first = false;
            let names: Vec<String> = (0..split.width())
                .filter_map(|i| split.get(i))
                .map(String::from)
                .collect();
            if sink.header(&names, &HeaderAt::Line(line_no))? {
                continue;
            }
        }
        sink.row(line_no, &split)?;
    }
}

/// The rows of an Arrow batch with every column cast to text.
struct BatchRows {
    columns: Vec<StringArray>,
    row: usize,
}

impl Fields for BatchRows {
    fn width(&self) -> usize {
        self.columns.len()
    }
    fn get(&self, i: usize) -> Option<&str> {
        let col = self.columns.get(i)?;
        (!col.is_null(self.row))
            .then(|| col.value(self.row).trim())
            .filter(|s| !s.is_empty())
    }
}

/// Makes the error of a bad source: the file, or a request body.
type SourceError<'a> = &'a dyn Fn(std::fmt::Arguments) -> StoreError;

fn text_columns(
    error: SourceError,
    batch: &RecordBatch,
    first_row: u64,
) -> Result<Vec<StringArray>> {
    let schema = batch.schema();
    batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(col, field)| {
            let text: ArrayRef = cast(col, &DataType::Utf8).map_err(|_| {
                error(format_args!(
                    "row {first_row}: column '{}' has type {} which cannot be read as text (flatten nested values)",
                    field.name(),
                    field.data_type()
                ))
            })?;
            Ok(text.as_any().downcast_ref::<StringArray>().expect("cast to Utf8").clone())
        })
        .collect()
}

fn visit_batches(
    error: SourceError,
    (names, at): (Vec<String>, HeaderAt),
    batches: impl Iterator<Item = Result<RecordBatch>>,
    sink: &mut dyn RowSink,
) -> Result<()> {
    sink.header(&names, &at)?;
    let mut line = 0u64;
    for batch in batches {
        let batch = batch?;
        let mut rows = BatchRows {
            columns: text_columns(error, &batch, line + 1)?,
            row: 0,
        };
        for r in 0..batch.num_rows() {
            rows.row = r;
            line += 1;
            sink.row(line, &rows)?;
        }
    }
    Ok(())
}

fn visit_parquet(input: &Input, sink: &mut dyn RowSink) -> Result<()> {
    let file = File::open(&input.path).map_err(|e| input.error(e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| input.error(format_args!("not a readable Parquet file ({e})")))?;
    let names = builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let reader = builder
        .with_batch_size(8192)
        .build()
        .map_err(|e| input.error(e))?;
    input.read.store(input.size, Ordering::Relaxed);
    let batches = reader.map(|b| b.map_err(|e| input.error(e)));
    visit_batches(
        &|m| input.error(m),
        (names, HeaderAt::Schema),
        batches,
        sink,
    )
}

fn visit_ndjson(input: &Input, keys: KeyLimits, sink: &mut dyn RowSink) -> Result<()> {
    let error = |m: std::fmt::Arguments| input.error(m);
    let infer = BufReader::new(input.open()?);
    let read = BufReader::new(input.open()?);
    visit_json_objects(infer, read, &[], keys, &error, sink)
}

/// Feeds NDJSON `text` (objects with flat values, one per line) to `sink`, exactly as
/// the rows of an NDJSON file: the header names every key in order of first appearance,
/// then those of `columns` that no key names, as empty columns.
pub fn visit_ndjson_text(
    text: &[u8],
    columns: &[&str],
    keys: KeyLimits,
    sink: &mut dyn RowSink,
) -> Result<()> {
    let error = |m: std::fmt::Arguments| StoreError::Input(m.to_string());
    visit_json_objects(text, text, columns, keys, &error, sink)
}

/// Whether an NDJSON line holds nothing but JSON whitespace.
pub fn is_blank(line: &[u8]) -> bool {
    line.iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// The NDJSON visitor: infers the schema from `infer`, strictly one object per non-blank
/// line within the key limits; adds `columns`; then reads `read` in Arrow batches, every
/// flat value as its text (numbers exactly as written), so row `n` is the `n`th
/// non-blank line.
fn visit_json_objects(
    infer: impl BufRead,
    read: impl BufRead,
    columns: &[&str],
    keys: KeyLimits,
    error: SourceError,
    sink: &mut dyn RowSink,
) -> Result<()> {
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::arrow::error::ArrowError;
    use datafusion::arrow::json::reader::{ReaderBuilder, infer_json_schema_from_iterator};
    let invalid = |e: ArrowError| error(format_args!("not valid NDJSON ({e})"));
    let mut lines = KeyLines::new(infer, keys);
    let inferred = infer_json_schema_from_iterator(&mut lines);
    if let Some((line, reason)) = lines.refused.take() {
        return Err(sink.refuse(line, reason));
    }
    let schema = inferred.map_err(invalid)?;
    let known: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| attribute_name(f.name()))
        .collect();
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| as_text(f)).collect();
    fields.extend(
        columns
            .iter()
            .filter(|c| !known.iter().any(|k| k == *c))
            .map(|c| Field::new(*c, DataType::Utf8, true)),
    );
    let at = fields
        .iter()
        .map(|f| lines.first_seen.get(f.name()).copied().unwrap_or(0))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let names = schema.fields().iter().map(|f| f.name().clone()).collect();
    let reader = ReaderBuilder::new(schema)
        .with_batch_size(8192)
        .with_coerce_primitive(true)
        .build(read)
        .map_err(invalid)?;
    let batches = reader.map(|b| b.map_err(invalid));
    visit_batches(error, (names, HeaderAt::Keys(at)), batches, sink)
}

/// A flat field read as text (nested ones stay, to be refused by name).
fn as_text(field: &datafusion::arrow::datatypes::Field) -> datafusion::arrow::datatypes::Field {
    if field.data_type().is_nested() {
        field.clone()
    } else {
        field.clone().with_data_type(DataType::Utf8)
    }
}

/// The values of NDJSON lines for schema inference, one per non-blank line (a line that
/// is not exactly one JSON value is an error), with the line where each key first
/// appears; a row beyond the key limits stops it, as `refused`.
struct KeyLines<R> {
    read: R,
    line: u64,
    keys: KeyLimits,
    first_seen: HashMap<String, u64>,
    refused: Option<(u64, String)>,
}

impl<R: BufRead> KeyLines<R> {
    fn new(read: R, keys: KeyLimits) -> Self {
        KeyLines {
            read,
            line: 0,
            keys,
            first_seen: HashMap::new(),
            refused: None,
        }
    }

    /// Notes the keys of the object on the current line, or why they are too many.
    fn observe(
        &mut self,
        object: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), String> {
        if object.len() > self.keys.per_row {
            return Err(format!(
                "{} keys: a row may have at most {} (keys_per_row)",
                object.len(),
                self.keys.per_row
            ));
        }
        for key in object.keys() {
            if self.first_seen.contains_key(key) {
                continue;
            }
            if self.first_seen.len() >= self.keys.distinct {
                return Err(format!(
                    "key '{key}': more than {} distinct keys, beyond the table's columns and \
                     the attribute columns it may have (max_attributes)",
                    self.keys.distinct
                ));
            }
            self.first_seen.insert(key.clone(), self.line);
        }
        Ok(())
    }
}

impl<R: BufRead> Iterator for KeyLines<R> {
    type Item = std::result::Result<serde_json::Value, datafusion::arrow::error::ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        use datafusion::arrow::error::ArrowError;
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match self.read.read_until(b'\n', &mut buf) {
                Ok(0) => return None,
                Ok(_) => self.line += 1,
                Err(e) => return Some(Err(ArrowError::ExternalError(Box::new(e)))),
            }
            if is_blank(&buf) {
                continue;
            }
            let line = self.line;
            let value: serde_json::Value = match serde_json::from_slice(&buf) {
                Ok(v) => v,
                Err(e) => return Some(Err(ArrowError::JsonError(format!("line {line}: {e}")))),
            };
            if let Some(Err(reason)) = value.as_object().map(|o| self.observe(o)) {
                self.refused = Some((line, reason.clone()));
                return Some(Err(ArrowError::JsonError(reason)));
            }
            return Some(Ok(value));
        }
    }
}
