//! Quadrant charts: labelled points against two dividing lines, such as the weak-area
//! map of importance against performance.

use crate::axis::{self, Axis, Fit, Side};
use crate::data::{Estimate, LeftOut, bounds, drawable, extent, is_drawable, numbers};
use crate::escape::escape;
use crate::figure::{Figure, Frame};
use crate::format::Format;
use crate::layout::{
    DOT, DOT_MAX, DOT_MIN, HEIGHT, LINE, Margins, PAD, Plot, SMALL, Size, WIDTH, text_width,
};
use crate::marks::{Direction, data, describe as words, dot, whisker};
use crate::palette::{self, AXIS, INK, MUTED};
use crate::scale::Scale;
use crate::svg::{Anchor, line, text, title};
use crate::table::{Entry, Table, estimate_entries, estimate_headers};

/// One labelled point.
#[derive(Clone, Debug, PartialEq)]
pub struct Spot {
    /// What it is ("Baggage").
    pub label: String,
    /// Across: performance, say.
    pub x: Estimate,
    /// Up: importance, say.
    pub y: Estimate,
    /// Sets the point's area (such as money at stake); zero or more.
    pub size: Option<f64>,
}

impl Spot {
    /// A point of the default radius.
    pub fn new(label: impl Into<String>, x: impl Into<Estimate>, y: impl Into<Estimate>) -> Spot {
        Spot {
            label: label.into(),
            x: x.into(),
            y: y.into(),
            size: None,
        }
    }

    /// This point with its area proportional to `size`.
    pub fn sized(self, size: f64) -> Spot {
        Spot {
            size: Some(size),
            ..self
        }
    }

    fn is_drawable(&self) -> bool {
        let size = self.size.is_none_or(|s| drawable(s) && s >= 0.0);
        is_drawable(&self.x) && is_drawable(&self.y) && size
    }
}

/// Captions of the four quadrants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Corners {
    /// Low x, high y.
    pub top_left: String,
    /// High x, high y.
    pub top_right: String,
    /// Low x, low y.
    pub bottom_left: String,
    /// High x, low y.
    pub bottom_right: String,
}

impl Corners {
    /// The importance (up) against performance (across) map: "Fix first", "Keep up",
    /// "Low priority", "Possible overkill".
    pub fn priorities() -> Corners {
        Corners {
            top_left: "Fix first".into(),
            top_right: "Keep up".into(),
            bottom_left: "Low priority".into(),
            bottom_right: "Possible overkill".into(),
        }
    }

    /// The caption of the quadrant a point (`high_x`, `high_y`) falls in.
    fn of(&self, high_x: bool, high_y: bool) -> &str {
        match (high_x, high_y) {
            (false, true) => &self.top_left,
            (true, true) => &self.top_right,
            (false, false) => &self.bottom_left,
            (true, false) => &self.bottom_right,
        }
    }
}

/// A quadrant chart's data and options.
#[derive(Clone, Debug)]
pub struct Quadrant {
    /// The points.
    pub spots: Vec<Spot>,
    /// Where the dividing lines cross: (x, y).
    pub split: (f64, f64),
    /// The quadrants' captions.
    pub corners: Corners,
    /// What x is.
    pub x_title: String,
    /// What y is.
    pub y_title: String,
    /// What size is ("revenue at risk").
    pub size_title: String,
    /// How x values are written.
    pub x_format: Format,
    /// How y values are written.
    pub y_format: Format,
    /// How sizes are written.
    pub size_format: Format,
}

impl Quadrant {
    /// Performance across, importance up, split at `split`, captioned by
    /// [`Corners::priorities`]; change the other fields as needed.
    pub fn new(spots: Vec<Spot>, split: (f64, f64)) -> Quadrant {
        Quadrant {
            spots,
            split,
            corners: Corners::priorities(),
            x_title: "performance".into(),
            y_title: "importance".into(),
            size_title: "size".into(),
            x_format: Format::Number,
            y_format: Format::Number,
            size_format: Format::Number,
        }
    }
}

/// A quadrant chart figure: points with interval whiskers both ways, areas by size,
/// dashed dividers and the four captions.
pub fn quadrant(frame: &Frame, chart: &Quadrant) -> String {
    let size = frame.size_or(Size::new(WIDTH, HEIGHT));
    let mut left_out = LeftOut::default();
    let spots = left_out.keep(&chart.spots, Spot::is_drawable, |s| s.label.clone());
    let split = Some(chart.split).filter(|(x, y)| drawable(*x) && drawable(*y));
    if split.is_none() {
        left_out.push("the dividing lines".into());
    }
    if spots.is_empty() {
        return Figure::empty(frame, "quadrant", size, left_out).render();
    }
    let (top, bottom) = (2.0 * PAD, 2.0 * LINE + PAD);
    let numbers = |pick: fn(&Spot) -> &Estimate, at: Option<f64>| {
        let values = spots.iter().flat_map(|s| numbers(pick(s)));
        extent(values.chain(at)).unwrap_or((0.0, 1.0))
    };
    let y_extent = numbers(|s| &s.y, split.map(|s| s.1));
    let y_axis = Axis::new(
        y_extent,
        Side::Left,
        size.height() - top - bottom,
        &chart.y_format,
        Fit::Nice,
    );
    let left = PAD + LINE + y_axis.label_width() + PAD;
    let plot = Plot::within(
        size,
        Margins {
            top,
            right: 3.0 * PAD,
            bottom,
            left,
        },
    );
    let x_extent = numbers(|s| &s.x, split.map(|s| s.0));
    let x_axis = Axis::new(
        x_extent,
        Side::Bottom,
        plot.width(),
        &chart.x_format,
        Fit::Nice,
    );
    let (x, y) = (x_axis.scale(&plot), y_axis.scale(&plot));
    let mut body = y_axis.draw(&plot) + &x_axis.draw(&plot);
    body += &axis::title(&chart.x_title, Side::Bottom, &plot, size);
    body += &axis::title(&chart.y_title, Side::Left, &plot, size);
    if let Some(split) = split {
        body += &dividers(split, &x, &y, &plot);
    }
    body += &corners(&chart.corners, &plot);
    let radius = radii(&spots);
    let mut order: Vec<usize> = (0..spots.len()).collect();
    order.sort_by(|&a, &b| radius[b].total_cmp(&radius[a]));
    for i in order {
        body += &spot(spots[i], radius[i], (&x, &y), &plot, chart);
    }
    let quadrants: Vec<Option<&str>> = spots
        .iter()
        .map(|s| quadrant_of(s, split, &chart.corners))
        .collect();
    Figure {
        frame,
        kind: "quadrant",
        size,
        desc: describe(&spots, &quadrants, chart),
        body,
        table: table(&spots, &quadrants, chart),
        left_out,
    }
    .render()
}

/// Radii with areas proportional to sizes (never under the minimum), or the default.
fn radii(spots: &[&Spot]) -> Vec<f64> {
    let largest = spots.iter().filter_map(|s| s.size).fold(0.0, f64::max);
    spots
        .iter()
        .map(|s| match s.size {
            None => DOT,
            Some(size) if largest > 0.0 => (DOT_MAX * (size / largest).sqrt()).max(DOT_MIN),
            Some(_) => DOT_MIN,
        })
        .collect()
}

fn quadrant_of<'a>(
    spot: &Spot,
    split: Option<(f64, f64)>,
    corners: &'a Corners,
) -> Option<&'a str> {
    split.map(|(x, y)| corners.of(spot.x.value >= x, spot.y.value >= y))
}

fn dividers((at_x, at_y): (f64, f64), x: &Scale, y: &Scale, plot: &Plot) -> String {
    let (px, py) = (x.map(at_x), y.map(at_y));
    let divider = |from, to, value| {
        line("divider", from, to, AXIS)
            .attr("stroke-width", "1.5")
            .attr("stroke-dasharray", "4 3")
            .raw("data-value", value)
            .empty()
    };
    divider((px, plot.top), (px, plot.bottom), at_x)
        + &divider((plot.left, py), (plot.right, py), at_y)
}

fn corners(c: &Corners, plot: &Plot) -> String {
    let (l, r, t, b) = (
        plot.left + PAD,
        plot.right - PAD,
        plot.top + LINE / 2.0,
        plot.bottom - LINE / 2.0,
    );
    [
        (&c.top_left, (l, t), Anchor::Start),
        (&c.top_right, (r, t), Anchor::End),
    ]
    .into_iter()
    .chain([
        (&c.bottom_left, (l, b), Anchor::Start),
        (&c.bottom_right, (r, b), Anchor::End),
    ])
    .map(|(caption, spot, anchor)| {
        text("corner", spot, anchor, MUTED)
            .attr("font-weight", "600")
            .wrap(&escape(caption))
    })
    .collect()
}

/// A point: whiskers, circle (with its numbers) and label.
fn spot(s: &Spot, radius: f64, (x, y): (&Scale, &Scale), plot: &Plot, chart: &Quadrant) -> String {
    let (cx, cy) = (x.map(s.x.value), y.map(s.y.value));
    let (colour, _) = palette::series(0);
    let mut out = String::new();
    if let Some((low, high)) = bounds(&s.x) {
        out += &whisker(
            Direction::Across,
            (x.map(low), cy),
            (x.map(high), cy),
            6.0,
            INK,
        );
    }
    if let Some((low, high)) = bounds(&s.y) {
        out += &whisker(Direction::Up, (cx, y.map(low)), (cx, y.map(high)), 6.0, INK);
    }
    let mut circle = dot("spot", (cx, cy), radius, colour).attr("fill-opacity", "0.75");
    circle = data(data(circle, "x", &s.x), "y", &s.y);
    if let Some(size) = s.size {
        circle = circle.raw("data-size", size);
    }
    out += &circle.wrap(&title(&tip(s, chart)));
    let room = text_width(&s.label, SMALL) + radius + 4.0;
    let (dx, anchor) = if cx + room > plot.right {
        (-(radius + 3.0), Anchor::End)
    } else {
        (radius + 3.0, Anchor::Start)
    };
    out += &text("label", (cx + dx, cy), anchor, INK)
        .at("font-size", SMALL)
        .halo()
        .wrap(&escape(&s.label));
    out
}

/// The tooltip: both estimates and the size.
fn tip(s: &Spot, chart: &Quadrant) -> String {
    let size = s.size.map_or(String::new(), |v| {
        format!("; {} {}", chart.size_title, chart.size_format.full(v))
    });
    format!(
        "{}: {} {}; {} {}{size}",
        s.label,
        chart.x_title,
        words(&s.x, &chart.x_format),
        chart.y_title,
        words(&s.y, &chart.y_format),
    )
}

/// The `<desc>`: the axes, and which points fall in which quadrant.
fn describe(spots: &[&Spot], quadrants: &[Option<&str>], chart: &Quadrant) -> String {
    let mut desc = format!(
        "Quadrant chart of {} items, {} across and {} up",
        spots.len(),
        chart.x_title,
        chart.y_title
    );
    let c = &chart.corners;
    for corner in [&c.top_left, &c.top_right, &c.bottom_left, &c.bottom_right] {
        let members: Vec<&str> = spots
            .iter()
            .zip(quadrants)
            .filter(|(_, q)| **q == Some(corner.as_str()))
            .map(|(s, _)| s.label.as_str())
            .collect();
        if !members.is_empty() {
            desc += &format!(". {corner}: {}", members.join(", "));
        }
    }
    desc + "."
}

fn table(spots: &[&Spot], quadrants: &[Option<&str>], chart: &Quadrant) -> Table {
    let mut headers = vec!["item".to_string()];
    headers.extend(estimate_headers(
        &chart.x_title,
        &format!("{} ", chart.x_title),
    ));
    headers.extend(estimate_headers(
        &chart.y_title,
        &format!("{} ", chart.y_title),
    ));
    headers.extend([chart.size_title.clone(), "quadrant".into()]);
    let mut table = Table::new(headers);
    for (s, quadrant) in spots.iter().zip(quadrants) {
        let mut row = vec![Entry::Text(s.label.clone())];
        row.extend(estimate_entries(&s.x, &chart.x_format));
        row.extend(estimate_entries(&s.y, &chart.y_format));
        row.push(
            s.size
                .map_or(Entry::Empty, |v| Entry::number(v, &chart.size_format)),
        );
        row.push(quadrant.map_or(Entry::Empty, |q| Entry::Text(q.to_string())));
        table.push(row);
    }
    table
}
