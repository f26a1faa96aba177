//! Data: the event tables with their versions and date ranges, and the recent imports.

use cxray_core::text::thousands;
use cxray_store::ops::ImportRecord;
use cxray_store::tables::TableInfo;

use crate::html::{escape, table};

/// The page's body.
pub fn render(infos: &[TableInfo], imports: &[ImportRecord]) -> String {
    let rows: Vec<Vec<String>> = infos
        .iter()
        .map(|i| {
            let range = match (&i.first, &i.last) {
                (Some(a), Some(b)) => format!("{} – {}", escape(day(a)), escape(day(b))),
                _ => "—".into(),
            };
            vec![
                escape(&i.table),
                format!(
                    "<data data-key=\"rows.{}\" value=\"{}\">{}</data>",
                    escape(&i.table),
                    i.rows,
                    thousands(i.rows)
                ),
                i.version.to_string(),
                range,
                escape(i.last_change.as_deref().unwrap_or("—")),
            ]
        })
        .collect();
    let import_rows: Vec<Vec<String>> = imports
        .iter()
        .map(|r| {
            vec![
                escape(&r.at),
                escape(&r.table_name),
                escape(&r.files),
                thousands(r.rows),
                thousands(r.rejected),
                r.delta_version.map_or("—".into(), |v| v.to_string()),
            ]
        })
        .collect();
    format!(
        "<div id=\"tables\">{}</div>{}<p class=\"note\">Import data with <code>cxray import TABLE FILE</code> or <code>POST /api/v1/ingest/TABLE</code>; query it with <code>cxray sql</code>.</p>",
        table(
            "Event tables in this data folder",
            &[
                ("table", false),
                ("rows", true),
                ("version", true),
                ("date range", false),
                ("last change", false)
            ],
            &rows
        ),
        table(
            "Recent imports",
            &[
                ("at", false),
                ("table", false),
                ("files", false),
                ("rows", true),
                ("rejected", true),
                ("version", true)
            ],
            &import_rows
        )
    )
}

/// The date part of an RFC 3339 time.
fn day(t: &str) -> &str {
    t.get(..10).unwrap_or(t)
}
