//! Grids: an r×c table of counts and money, each cell shaded by its share of the total
//! (such as stated satisfaction against staying or defecting).

use crate::data::{LeftOut, drawable};
use crate::escape::escape;
use crate::figure::{Figure, Frame};
use crate::format::Format;
use crate::heat::{Shade, heat};
use crate::layout::{CELL, FONT, LINE, PAD, SMALL, Size, text_width};
use crate::palette::{INK, WHITE};
use crate::svg::{Anchor, Tag, text, title};
use crate::table::{Entry, Table};

/// One cell: how many, and what they are worth.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GridCell {
    /// How many (customers, say).
    pub count: u64,
    /// Their money, if known.
    pub money: Option<f64>,
}

/// A grid's data and options; its shape is fixed by the types, R rows by C columns.
#[derive(Clone, Debug)]
pub struct Grid<const R: usize, const C: usize> {
    /// Row labels ("said satisfied", "did not").
    pub rows: [String; R],
    /// Column labels ("stayed", "defected").
    pub columns: [String; C],
    /// The cells, row by row.
    pub cells: [[GridCell; C]; R],
    /// What the rows are ("stated").
    pub row_title: String,
    /// What the columns are ("did").
    pub column_title: String,
    /// How money is written.
    pub money: Format,
}

/// A grid figure: each cell shows its count, share of the total and money, and is
/// shaded darker the larger its share.
pub fn grid<const R: usize, const C: usize>(frame: &Frame, chart: &Grid<R, C>) -> String {
    let mut left_out = LeftOut::default();
    let label_width = chart
        .rows
        .iter()
        .chain([&chart.row_title])
        .map(|l| text_width(l, FONT))
        .fold(0.0, f64::max)
        + 2.0 * PAD;
    let top = PAD + 2.0 * LINE + PAD / 2.0;
    let (cols, rows) = (C as f64, R as f64);
    let size = frame.size_or(Size::new(
        (label_width + cols * CELL.0 + PAD).ceil() as u32,
        (top + rows * CELL.1 + PAD).ceil() as u32,
    ));
    if R == 0 || C == 0 {
        return Figure::empty(frame, "grid", size, left_out).render();
    }
    let cell = (
        ((size.width() - label_width - PAD) / cols).max(1.0),
        ((size.height() - top - PAD) / rows).max(1.0),
    );
    let total: u64 = chart.cells.iter().flatten().map(|c| c.count).sum();
    let share = |c: &GridCell| (total > 0).then(|| c.count as f64 / total as f64);
    let largest = chart
        .cells
        .iter()
        .flatten()
        .filter_map(share)
        .fold(0.0, f64::max);
    let mut body = headings(chart, label_width, cell.0);
    let mut table = Table::new(
        [
            &chart.row_title,
            &chart.column_title,
            "count",
            "share",
            "money",
        ]
        .map(str::to_string)
        .to_vec(),
    );
    let mut desc = format!("Grid of {} by {}", chart.row_title, chart.column_title);
    for (r, (row, cells)) in chart.rows.iter().zip(&chart.cells).enumerate() {
        let y = top + r as f64 * cell.1;
        body += &text(
            "label",
            (label_width - PAD, y + cell.1 / 2.0),
            Anchor::End,
            INK,
        )
        .wrap(&escape(row));
        for (c, (column, item)) in chart.columns.iter().zip(cells).enumerate() {
            let money = item.money.filter(|m| drawable(*m));
            if item.money.is_some() && money.is_none() {
                left_out.push(format!("money of {row}, {column}"));
            }
            let shown = Shown {
                count: item.count,
                share: share(item),
                money,
            };
            let origin = (label_width + c as f64 * cell.0, y);
            body += &shown.draw(
                origin,
                cell,
                largest,
                &format!("{row}, {column}"),
                &chart.money,
            );
            desc += &format!(
                "; {row}, {column}: {}",
                shown.words(&chart.money).join(", ")
            );
            table.push(shown.entries(row, column, &chart.money));
        }
    }
    Figure {
        frame,
        kind: "grid",
        size,
        desc: desc + ".",
        body,
        table,
        left_out,
    }
    .render()
}

/// The row title over the labels, the column title and column labels over the cells.
fn headings<const R: usize, const C: usize>(
    chart: &Grid<R, C>,
    label_width: f64,
    cell_width: f64,
) -> String {
    let header = |t: &str, x: f64, anchor| {
        text("heading", (x, PAD + LINE / 2.0), anchor, INK)
            .attr("font-weight", "600")
            .wrap(&escape(t))
    };
    let mut out = header(&chart.row_title, label_width - PAD, Anchor::End);
    out += &header(
        &chart.column_title,
        label_width + C as f64 * cell_width / 2.0,
        Anchor::Middle,
    );
    for (c, column) in chart.columns.iter().enumerate() {
        let x = label_width + (c as f64 + 0.5) * cell_width;
        out += &text("label", (x, PAD + 1.5 * LINE), Anchor::Middle, INK).wrap(&escape(column));
    }
    out
}

/// What one cell shows.
struct Shown {
    count: u64,
    share: Option<f64>,
    money: Option<f64>,
}

impl Shown {
    /// Count, share and money, as written.
    fn words(&self, money: &Format) -> Vec<String> {
        let count = Format::Number.full(self.count as f64);
        let share = self.share.map(|s| Format::Percent.full(s));
        [Some(count), share, self.money.map(|m| money.full(m))]
            .into_iter()
            .flatten()
            .collect()
    }

    /// The shaded cell at `origin`, `(w, h)` big, with its lines of text.
    fn draw(
        &self,
        (x, y): (f64, f64),
        (w, h): (f64, f64),
        largest: f64,
        label: &str,
        money: &Format,
    ) -> String {
        let shade = self.share.map_or(Shade::NONE, |s| heat(s, 0.0, largest));
        let mut rect = Tag::new("rect")
            .attr("class", "cell")
            .at("x", x)
            .at("y", y)
            .at("width", w)
            .at("height", h)
            .colour("fill", shade.fill)
            .colour("stroke", WHITE)
            .attr("stroke-width", "2")
            .raw("data-value", self.count as f64);
        if let Some(share) = self.share {
            rect = rect.raw("data-share", share);
        }
        if let Some(m) = self.money {
            rect = rect.raw("data-money", m);
        }
        let words = self.words(money);
        let mut out = rect.wrap(&title(&format!("{label}: {}", words.join(", "))));
        let first = y + h / 2.0 - (words.len() as f64 - 1.0) * LINE / 2.0;
        for (i, word) in words.iter().enumerate() {
            let (class, font) = if i == 0 {
                ("count", FONT + 4.0)
            } else {
                ("detail", SMALL)
            };
            out += &text(
                class,
                (x + w / 2.0, first + i as f64 * LINE),
                Anchor::Middle,
                shade.ink,
            )
            .at("font-size", font)
            .wrap(&escape(word));
        }
        out
    }

    fn entries(&self, row: &str, column: &str, money: &Format) -> Vec<Entry> {
        vec![
            Entry::Text(row.to_string()),
            Entry::Text(column.to_string()),
            Entry::count(self.count),
            self.share
                .map_or(Entry::Empty, |s| Entry::number(s, &Format::Percent)),
            self.money.map_or(Entry::Empty, |m| Entry::number(m, money)),
        ]
    }
}
