//! The numbers table: the exact figures behind a chart, as an HTML table.

use crate::data::{Estimate, bounds, known_n};
use crate::escape::escape;
use crate::format::Format;
use crate::svg::Tag;

/// One table cell.
#[derive(Clone, Debug)]
pub(crate) enum Entry {
    /// Nothing known; shown as a dash.
    Empty,
    /// Text, such as a label.
    Text(String),
    /// A number as written, with the raw value in `data-value`.
    Number { text: String, raw: f64 },
}

impl Entry {
    /// `value` written by `format`.
    pub(crate) fn number(value: f64, format: &Format) -> Entry {
        Entry::Number {
            text: format.full(value),
            raw: value,
        }
    }

    /// A count.
    pub(crate) fn count(n: u64) -> Entry {
        Entry::number(n as f64, &Format::Number)
    }

    fn render(&self, header: bool) -> String {
        let cell = |tag: Tag| {
            if header {
                tag.attr("scope", "row")
            } else {
                tag
            }
        };
        let name = if header { "th" } else { "td" };
        match self {
            Entry::Empty => Tag::new("td").wrap("—"),
            Entry::Text(text) => cell(Tag::new(name)).wrap(&escape(text)),
            Entry::Number { text, raw } => cell(Tag::new(name))
                .attr("class", "num")
                .raw("data-value", *raw)
                .wrap(&escape(text)),
        }
    }
}

/// Cells for an estimate: value, low, high and n.
pub(crate) fn estimate_entries(estimate: &Estimate, format: &Format) -> [Entry; 4] {
    let bounds = bounds(estimate);
    let bound = |pick: fn((f64, f64)) -> f64| {
        bounds.map_or(Entry::Empty, |b| Entry::number(pick(b), format))
    };
    [
        Entry::number(estimate.value, format),
        bound(|b| b.0),
        bound(|b| b.1),
        known_n(estimate).map_or(Entry::Empty, Entry::count),
    ]
}

/// Headers for [`estimate_entries`]: `name`, then low, high and n, each after `prefix`.
pub(crate) fn estimate_headers(name: &str, prefix: &str) -> [String; 4] {
    [
        name.to_string(),
        format!("{prefix}low"),
        format!("{prefix}high"),
        format!("{prefix}n"),
    ]
}

/// Rows of cells under column headers; the first cell of a row is its header.
#[derive(Debug, Default)]
pub(crate) struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<Entry>>,
}

impl Table {
    pub(crate) fn new(headers: Vec<String>) -> Table {
        Table {
            headers,
            rows: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, row: Vec<Entry>) {
        self.rows.push(row);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The HTML table, leaving out columns with nothing in them.
    pub(crate) fn render(&self) -> String {
        let shown: Vec<usize> = (0..self.headers.len())
            .filter(|&c| {
                c == 0
                    || self
                        .rows
                        .iter()
                        .any(|r| !matches!(r.get(c), None | Some(Entry::Empty)))
            })
            .collect();
        let head: String = shown
            .iter()
            .map(|&c| {
                Tag::new("th")
                    .attr("scope", "col")
                    .wrap(&escape(&self.headers[c]))
            })
            .collect();
        let body: String = self
            .rows
            .iter()
            .map(|row| {
                let cells: String = shown
                    .iter()
                    .map(|&c| row.get(c).unwrap_or(&Entry::Empty).render(c == 0))
                    .collect();
                Tag::new("tr").wrap(&cells)
            })
            .collect();
        Tag::new("table").wrap(&format!(
            "<thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_columns_are_left_out() {
        let mut table = Table::new(vec!["month".into(), "NPS".into(), "low".into()]);
        table.push(vec![
            Entry::Text("Jan".into()),
            Entry::number(32.0, &Format::Number),
            Entry::Empty,
        ]);
        let html = table.render();
        assert!(!html.contains(">low<"), "{html}");
        assert!(
            html.contains("<th scope=\"row\">Jan</th><td class=\"num\" data-value=\"32\">32</td>")
        );
    }
}
