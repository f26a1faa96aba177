//! Line charts: named series over time or another x, with interval bands and a target.

use crate::axis::{self, Axis, Fit, Side};
use crate::data::{LeftOut, drawable, extent, numbers};
use crate::escape::escape;
use crate::figure::{Figure, Frame};
use crate::format::Format;
use crate::layout::{HEIGHT, LINE, Margins, PAD, Plot, SMALL, Size, WIDTH};
use crate::legend::{Key, Swatch, legend};
use crate::palette::{self, INK};
use crate::scale::Scale;
use crate::series::{Marks, Painter, Series, X, Xs, drawable_series};
use crate::svg::{Anchor, line as rule, text, title};

/// Dash pattern of a target line.
const TARGET_DASH: &str = "5 4";

/// A labelled horizontal reference line, such as a target.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// Where it is on the y axis.
    pub value: f64,
    /// What it is, such as "Target 40".
    pub label: String,
}

impl Target {
    /// A reference line at `value`.
    pub fn new(value: f64, label: impl Into<String>) -> Target {
        Target {
            value,
            label: label.into(),
        }
    }
}

/// A labelled vertical line at a point along x, such as the start of a change.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    /// Where it is along x: a category of the points, or a number.
    pub at: X,
    /// What it is, such as "Start, 2024-09-02".
    pub label: String,
}

impl Marker {
    /// A marker at `at`.
    pub fn new(at: impl Into<X>, label: impl Into<String>) -> Marker {
        Marker {
            at: at.into(),
            label: label.into(),
        }
    }
}

/// A line chart's data and options.
#[derive(Clone, Debug, Default)]
pub struct Line {
    /// The lines, each with its colour and dash pattern; several get a legend.
    pub series: Vec<Series>,
    /// How y values are written.
    pub format: Format,
    /// How numeric x values are written.
    pub x_format: Format,
    /// What x is ("month", "days since first purchase").
    pub x_title: Option<String>,
    /// What y is ("NPS", "share still buying").
    pub y_title: Option<String>,
    /// An optional reference line.
    pub target: Option<Target>,
    /// An optional vertical line, drawn when its x is among the points' (or within their
    /// span, on a numeric axis).
    pub marker: Option<Marker>,
    /// A span the y axis covers at least, such as (0, 1) for shares (ignored unless finite).
    pub y_span: Option<(f64, f64)>,
}

/// A line chart figure: one line per series, a shaded band where points have
/// intervals, every point marked with its numbers.
pub fn line(frame: &Frame, chart: &Line) -> String {
    let size = frame.size_or(Size::new(WIDTH, HEIGHT));
    let mut left_out = LeftOut::default();
    let series = drawable_series(&chart.series, &chart.x_format, &mut left_out);
    let target = match &chart.target {
        Some(t) if !drawable(t.value) => {
            left_out.push(format!("target {}", t.label));
            None
        }
        target => target.as_ref(),
    };
    if series.is_empty() {
        return Figure::empty(frame, "line", size, left_out).render();
    }
    let xs = Xs::of(&series, &chart.x_format);
    let keys = if series.len() > 1 {
        keys(&series, target)
    } else {
        Vec::new()
    };
    let legend = legend(&keys, (PAD, PAD), size.width() - 2.0 * PAD);
    let titled = |t: &Option<String>| if t.is_some() { LINE } else { 0.0 };
    let (top, bottom) = (
        PAD + legend.height + PAD,
        LINE + PAD + titled(&chart.x_title),
    );
    let y_axis = Axis::new(
        y_extent(&series, target, chart.y_span),
        Side::Left,
        size.height() - top - bottom,
        &chart.format,
        Fit::Nice,
    );
    let left = PAD + titled(&chart.y_title) + y_axis.label_width() + PAD;
    let plot = Plot::within(
        size,
        Margins {
            top,
            right: 3.0 * PAD,
            bottom,
            left,
        },
    );
    let (x, x_axis) = x_axis(&xs, &series, &chart.x_format, &plot);
    let painter = Painter {
        xs: &xs,
        x,
        y: y_axis.scale(&plot),
        format: &chart.format,
    };
    let mut body = legend.svg + &y_axis.draw(&plot) + &x_axis;
    body += &axis_titles(chart, &plot, size);
    if let Some(t) = target {
        body += &target_line(t, &painter.y, &plot, &chart.format);
    }
    let marker = chart.marker.as_ref().filter(|m| placed(m, &xs, &series));
    if let Some(m) = chart.marker.as_ref().filter(|_| marker.is_none()) {
        left_out.push(format!("marker {} (outside the points)", m.label));
    }
    if let Some(m) = marker {
        body += &marker_line(m, painter.x.map(xs.position(&m.at)), &plot);
    }
    for (i, s) in series.iter().enumerate() {
        body += &painter.draw(s, i, Marks::All);
    }
    let x_title = chart.x_title.as_deref().unwrap_or("x");
    let value_title = chart.y_title.as_deref().unwrap_or("value");
    Figure {
        frame,
        kind: "line",
        size,
        desc: describe(
            &series,
            &xs,
            x_title,
            &y_axis,
            (target, marker),
            &chart.format,
        ),
        body,
        table: xs.table(&series, x_title, value_title, &chart.format),
        left_out,
    }
    .render()
}

/// What the y axis must cover: values, intervals, the target and the requested span.
fn y_extent(series: &[Series], target: Option<&Target>, span: Option<(f64, f64)>) -> (f64, f64) {
    let numbers = series
        .iter()
        .flat_map(|s| &s.points)
        .flat_map(|p| numbers(&p.estimate));
    let span = span
        .into_iter()
        .flat_map(|(a, b)| [a, b])
        .filter(|v| drawable(*v));
    extent(numbers.chain(target.map(|t| t.value)).chain(span)).unwrap_or((0.0, 1.0))
}

/// The x scale and axis: category labels, or nice ticks inside the numbers' extent.
fn x_axis(xs: &Xs, series: &[Series], format: &Format, plot: &Plot) -> (Scale, String) {
    match xs.labels() {
        Some(labels) => {
            let scale = Scale::linear((-0.5, labels.len() as f64 - 0.5), (plot.left, plot.right));
            let at: Vec<f64> = (0..labels.len()).map(|i| scale.map(i as f64)).collect();
            (scale, axis::categories(labels, &at, plot))
        }
        None => {
            let axis = Axis::new(
                xs.extent(series),
                Side::Bottom,
                plot.width(),
                format,
                Fit::Exact,
            );
            (axis.scale(plot), axis.draw(plot))
        }
    }
}

fn axis_titles(chart: &Line, plot: &Plot, size: Size) -> String {
    let x = chart
        .x_title
        .as_deref()
        .map(|t| axis::title(t, Side::Bottom, plot, size));
    let y = chart
        .y_title
        .as_deref()
        .map(|t| axis::title(t, Side::Left, plot, size));
    x.into_iter().chain(y).collect()
}

/// Legend keys: each series, then the target.
fn keys(series: &[Series], target: Option<&Target>) -> Vec<Key> {
    let lines = series.iter().enumerate().map(|(i, s)| {
        let (colour, dash) = palette::series(i);
        Key {
            label: s.name.clone(),
            swatch: Swatch::Line(colour, dash),
        }
    });
    let target = target.map(|t| Key {
        label: t.label.clone(),
        swatch: Swatch::Line(INK, TARGET_DASH),
    });
    lines.chain(target).collect()
}

fn target_line(target: &Target, y: &Scale, plot: &Plot, format: &Format) -> String {
    let at = y.map(target.value);
    let tip = format!("{}: {}", target.label, format.full(target.value));
    let line = rule("target", (plot.left, at), (plot.right, at), INK)
        .attr("stroke-width", "1.5")
        .attr("stroke-dasharray", TARGET_DASH)
        .raw("data-value", target.value)
        .wrap(&title(&tip));
    let label = text(
        "target-label",
        (plot.right - 2.0, at - LINE / 2.0),
        Anchor::End,
        INK,
    )
    .at("font-size", SMALL)
    .wrap(&escape(&target.label));
    line + &label
}

/// Whether the marker's x is one of the categories, or within the numbers' span.
fn placed(marker: &Marker, xs: &Xs, series: &[Series]) -> bool {
    match (xs.labels(), &marker.at) {
        (Some(labels), at) => labels.contains(&xs.key(at)),
        (None, X::At(at)) => {
            let (lo, hi) = xs.extent(series);
            (lo..=hi).contains(at)
        }
        (None, X::Label(_)) => false,
    }
}

fn marker_line(marker: &Marker, at: f64, plot: &Plot) -> String {
    let line = rule("marker", (at, plot.top), (at, plot.bottom), INK)
        .attr("stroke-width", "1.5")
        .attr("stroke-dasharray", TARGET_DASH)
        .wrap(&title(&marker.label));
    let label = text(
        "marker-label",
        (at + 3.0, plot.top + LINE / 2.0),
        Anchor::Start,
        INK,
    )
    .at("font-size", SMALL)
    .wrap(&escape(&marker.label));
    line + &label
}

/// The `<desc>`: what is drawn against what, over which span.
fn describe(
    series: &[Series],
    xs: &Xs,
    x_title: &str,
    y: &Axis,
    (target, marker): (Option<&Target>, Option<&Marker>),
    format: &Format,
) -> String {
    let names: Vec<&str> = series.iter().map(|s| s.name.as_str()).collect();
    let points: usize = series.iter().map(|s| s.points.len()).sum();
    let (first, last) = match xs.labels() {
        Some(labels) => (labels[0].clone(), labels[labels.len() - 1].clone()),
        None => {
            let (lo, hi) = xs.extent(series);
            (xs.key(&X::At(lo)), xs.key(&X::At(hi)))
        }
    };
    let (lo, hi) = y.domain();
    let target = target.map_or(String::new(), |t| {
        format!("; {} at {}", t.label, format.full(t.value))
    });
    let marker = marker.map_or(String::new(), |m| {
        format!("; a vertical line at {}: {}", xs.key(&m.at), m.label)
    });
    format!(
        "Line chart of {} by {x_title}: {points} points from {first} to {last}; y axis from {} to {}{target}{marker}.",
        names.join(", "),
        format.full(lo),
        format.full(hi),
    )
}
