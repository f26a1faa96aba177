//! Horizontal bar charts with interval whiskers, in the order given.

use crate::axis::{self, Axis, Fit, Side};
use crate::data::{Estimate, LeftOut, bounds, extent, is_drawable, numbers};
use crate::escape::escape;
use crate::figure::{Figure, Frame};
use crate::format::Format;
use crate::layout::{
    BAR_FILL, BAR_PITCH, FONT, HEIGHT, LABEL_SHARE, LINE, Margins, PAD, Plot, SMALL, Size, WIDTH,
    truncate, widest,
};
use crate::legend::{Key, Swatch, legend};
use crate::marks::{Direction, data, tooltip, whisker};
use crate::palette::{self, Colour, INK, MUTED};
use crate::scale::Scale;
use crate::svg::{Anchor, Tag, text, token};
use crate::table::{Entry, Table, estimate_entries, estimate_headers};

/// One bar.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    /// What the bar is ("Baggage delivery").
    pub label: String,
    /// Its length, and the whisker's span.
    pub estimate: Estimate,
    /// A group that sets its colour and a `group-…` class ("external").
    pub group: Option<String>,
}

impl Bar {
    /// A bar with no group.
    pub fn new(label: impl Into<String>, estimate: impl Into<Estimate>) -> Bar {
        Bar {
            label: label.into(),
            estimate: estimate.into(),
            group: None,
        }
    }

    /// This bar in `group`.
    pub fn in_group(self, group: impl Into<String>) -> Bar {
        Bar {
            group: Some(group.into()),
            ..self
        }
    }
}

/// A bar chart's data and options.
#[derive(Clone, Debug, Default)]
pub struct Bars {
    /// The bars, top to bottom.
    pub bars: Vec<Bar>,
    /// How values are written.
    pub format: Format,
    /// What the values are ("share of loyalty explained").
    pub value_title: Option<String>,
}

/// A horizontal bar chart figure: bars from zero, whiskers over intervals, values at
/// the ends; grouped bars are coloured by group, with a legend. Its height grows with
/// the number of bars unless the frame sets a size.
pub fn bars(frame: &Frame, chart: &Bars) -> String {
    let mut left_out = LeftOut::default();
    let bars = left_out.keep(
        &chart.bars,
        |b| is_drawable(&b.estimate),
        |b| b.label.clone(),
    );
    let groups = groups(&bars);
    let width = frame.size_or(Size::new(WIDTH, HEIGHT)).width();
    let legend = legend(&keys(&groups), (PAD, PAD), width - 2.0 * PAD);
    let titled = if chart.value_title.is_some() {
        LINE
    } else {
        0.0
    };
    let (top, bottom) = (PAD + legend.height + PAD / 2.0, LINE + PAD + titled);
    let rows = bars.len().max(1) as f64;
    let size = frame.size_or(Size::new(
        WIDTH,
        (top + rows * BAR_PITCH + bottom).ceil() as u32,
    ));
    if bars.is_empty() {
        return Figure::empty(frame, "bars", size, left_out).render();
    }
    let label_width =
        widest(bars.iter().map(|b| b.label.as_str()), FONT).min(size.width() * LABEL_SHARE);
    let values: Vec<String> = bars
        .iter()
        .map(|b| chart.format.full(b.estimate.value))
        .collect();
    let right = widest(values.iter().map(String::as_str), SMALL) + 2.0 * PAD;
    let left = label_width + 2.0 * PAD;
    let plot = Plot::within(
        size,
        Margins {
            top,
            right,
            bottom,
            left,
        },
    );
    let numbers = bars.iter().flat_map(|b| numbers(&b.estimate));
    let axis = Axis::new(
        extent(numbers.chain([0.0])).unwrap_or((0.0, 1.0)),
        Side::Bottom,
        plot.width(),
        &chart.format,
        Fit::Nice,
    );
    let scale = axis.scale(&plot);
    let pitch = plot.height() / rows;
    let mut body = legend.svg + &axis.draw(&plot);
    if let Some(t) = &chart.value_title {
        body += &axis::title(t, Side::Bottom, &plot, size);
    }
    for (i, (bar, value)) in bars.iter().zip(&values).enumerate() {
        let row = Row {
            centre: plot.top + (i as f64 + 0.5) * pitch,
            thickness: pitch * BAR_FILL,
        };
        body += &row.draw(bar, value, &scale, &groups, &chart.format);
        body += &text("label", (plot.left - PAD, row.centre), Anchor::End, INK)
            .wrap(&escape(&truncate(&bar.label, label_width, FONT)));
    }
    let value_title = chart.value_title.as_deref().unwrap_or("value");
    Figure {
        frame,
        kind: "bars",
        size,
        desc: describe(&bars, value_title, &chart.format),
        body,
        table: table(&bars, value_title, &chart.format),
        left_out,
    }
    .render()
}

/// Where one bar goes.
struct Row {
    centre: f64,
    thickness: f64,
}

impl Row {
    /// The bar, its whisker and its value label.
    fn draw(
        &self,
        bar: &Bar,
        value: &str,
        scale: &Scale,
        groups: &[&str],
        format: &Format,
    ) -> String {
        let (zero, end) = (scale.map(0.0), scale.map(bar.estimate.value));
        let (colour, class) = style(bar, groups);
        let label = bar.label.clone()
            + &bar
                .group
                .as_ref()
                .map_or(String::new(), |g| format!(" ({g})"));
        let rect = Tag::new("rect")
            .attr("class", &class)
            .at("x", zero.min(end))
            .at("y", self.centre - self.thickness / 2.0)
            .at("width", (end - zero).abs())
            .at("height", self.thickness)
            .colour("fill", colour);
        let mut out = data(rect, "", &bar.estimate).wrap(&tooltip(&label, &bar.estimate, format));
        let (mut left, mut right) = (end, end);
        if let Some((low, high)) = bounds(&bar.estimate) {
            let (from, to) = (scale.map(low), scale.map(high));
            out += &whisker(
                Direction::Across,
                (from, self.centre),
                (to, self.centre),
                self.thickness * 0.6,
                INK,
            );
            (left, right) = (from.min(end), to.max(end));
        }
        let (x, anchor) = if bar.estimate.value < 0.0 {
            (left - 4.0, Anchor::End)
        } else {
            (right + 4.0, Anchor::Start)
        };
        out += &text("value", (x, self.centre), anchor, MUTED)
            .at("font-size", SMALL)
            .wrap(&escape(value));
        out
    }
}

/// The distinct groups, in order of first appearance.
fn groups<'a>(bars: &[&'a Bar]) -> Vec<&'a str> {
    let mut groups: Vec<&str> = Vec::new();
    for group in bars.iter().filter_map(|b| b.group.as_deref()) {
        if !groups.contains(&group) {
            groups.push(group);
        }
    }
    groups
}

/// A bar's colour and class: the first series colour, or its group's.
fn style(bar: &Bar, groups: &[&str]) -> (Colour, String) {
    let index = bar
        .group
        .as_deref()
        .and_then(|g| groups.iter().position(|x| *x == g));
    match (index, bar.group.as_deref()) {
        (Some(i), Some(group)) => {
            let name = match token(group) {
                t if t.is_empty() => i.to_string(),
                t => t,
            };
            (palette::series(i + 1).0, format!("bar group-{name}"))
        }
        _ => (palette::series(0).0, "bar".into()),
    }
}

fn keys(groups: &[&str]) -> Vec<Key> {
    groups
        .iter()
        .enumerate()
        .map(|(i, g)| Key {
            label: g.to_string(),
            swatch: Swatch::Block(palette::series(i + 1).0),
        })
        .collect()
}

/// The `<desc>`: how many bars, the largest and smallest.
fn describe(bars: &[&Bar], value_title: &str, format: &Format) -> String {
    let by_value = |a: &&&Bar, b: &&&Bar| a.estimate.value.total_cmp(&b.estimate.value);
    let (Some(max), Some(min)) = (bars.iter().max_by(by_value), bars.iter().min_by(by_value))
    else {
        return String::new();
    };
    format!(
        "Bar chart of {value_title} for {} items; highest {} at {}, lowest {} at {}.",
        bars.len(),
        max.label,
        format.full(max.estimate.value),
        min.label,
        format.full(min.estimate.value),
    )
}

fn table(bars: &[&Bar], value_title: &str, format: &Format) -> Table {
    let mut headers = vec!["item".to_string()];
    headers.extend(estimate_headers(value_title, ""));
    headers.push("group".into());
    let mut table = Table::new(headers);
    for bar in bars {
        let mut row = vec![Entry::Text(bar.label.clone())];
        row.extend(estimate_entries(&bar.estimate, format));
        row.push(bar.group.clone().map_or(Entry::Empty, Entry::Text));
        table.push(row);
    }
    table
}
