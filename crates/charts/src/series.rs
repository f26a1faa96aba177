//! Series of points along x, shared by line charts and sparklines: placing x values,
//! drawing lines, interval bands and points, and the numbers table.

use crate::data::{Estimate, LeftOut, bounds, drawable, is_drawable};
use crate::format::Format;
use crate::layout::POINT;
use crate::marks::{Direction, data, dot, tooltip, whisker};
use crate::palette;
use crate::scale::Scale;
use crate::svg::{Tag, path_data, title};
use crate::table::{Entry, Table, estimate_entries, estimate_headers};

/// Where a point sits along x: a category label or a number.
#[derive(Clone, Debug, PartialEq)]
pub enum X {
    /// A category such as "2024-03"; categories keep the order they first appear in.
    Label(String),
    /// A position on a numeric axis, such as day 90.
    At(f64),
}

impl From<&str> for X {
    fn from(label: &str) -> X {
        X::Label(label.to_string())
    }
}

impl From<String> for X {
    fn from(label: String) -> X {
        X::Label(label)
    }
}

impl From<f64> for X {
    fn from(at: f64) -> X {
        X::At(at)
    }
}

/// One point of a series.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// Where along x.
    pub x: X,
    /// The value there, with its interval and n.
    pub estimate: Estimate,
}

impl Point {
    /// A point at `x`.
    pub fn new(x: impl Into<X>, estimate: impl Into<Estimate>) -> Point {
        Point {
            x: x.into(),
            estimate: estimate.into(),
        }
    }

    fn is_drawable(&self) -> bool {
        is_drawable(&self.estimate) && !matches!(self.x, X::At(at) if !drawable(at))
    }
}

/// A named series of points.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The name shown in the legend, tooltips and table.
    pub name: String,
    /// The points, in any order.
    pub points: Vec<Point>,
}

impl Series {
    /// A series called `name`.
    pub fn new(name: impl Into<String>, points: Vec<Point>) -> Series {
        Series {
            name: name.into(),
            points,
        }
    }
}

/// The series with their drawable points only (series left empty are dropped); the
/// rest are named in `left_out`.
pub(crate) fn drawable_series(
    series: &[Series],
    x_format: &Format,
    left_out: &mut LeftOut,
) -> Vec<Series> {
    let name = |s: &Series, p: &Point| match &p.x {
        X::Label(label) => format!("{} {label}", s.name),
        X::At(at) if drawable(*at) => format!("{} {}", s.name, x_format.full(*at)),
        X::At(_) => format!("{} (x not finite)", s.name),
    };
    series
        .iter()
        .map(|s| {
            let kept = left_out.keep(&s.points, Point::is_drawable, |p| name(s, p));
            Series::new(s.name.clone(), kept.into_iter().cloned().collect())
        })
        .filter(|s| !s.points.is_empty())
        .collect()
}

/// The x placement of a chart's points: numbers as they are, or labels by their order.
#[derive(Debug)]
pub(crate) struct Xs<'a> {
    format: &'a Format,
    labels: Option<Vec<String>>,
}

impl<'a> Xs<'a> {
    /// Numeric when every x is a number, else categories in order of first appearance.
    pub(crate) fn of(series: &[Series], format: &'a Format) -> Xs<'a> {
        let mut xs = Xs {
            format,
            labels: None,
        };
        let points = || series.iter().flat_map(|s| &s.points);
        if points().any(|p| matches!(p.x, X::Label(_))) {
            let mut labels: Vec<String> = Vec::new();
            for p in points() {
                let key = xs.key(&p.x);
                if !labels.contains(&key) {
                    labels.push(key);
                }
            }
            xs.labels = Some(labels);
        }
        xs
    }

    /// The categories, when x is not numeric.
    pub(crate) fn labels(&self) -> Option<&[String]> {
        self.labels.as_deref()
    }

    /// How `x` is written.
    pub(crate) fn key(&self, x: &X) -> String {
        match x {
            X::Label(label) => label.clone(),
            X::At(at) => self.format.full(*at),
        }
    }

    /// Position along x: the number, or the category's index.
    pub(crate) fn position(&self, x: &X) -> f64 {
        match (&self.labels, x) {
            (None, X::At(at)) => *at,
            (labels, x) => {
                let key = self.key(x);
                let index = labels.iter().flatten().position(|l| *l == key);
                index.unwrap_or_default() as f64
            }
        }
    }

    /// The smallest and largest position.
    pub(crate) fn extent(&self, series: &[Series]) -> (f64, f64) {
        let positions = series
            .iter()
            .flat_map(|s| &s.points)
            .map(|p| self.position(&p.x));
        crate::data::extent(positions).unwrap_or((0.0, 1.0))
    }

    /// A series' points with their positions, in x order.
    pub(crate) fn sorted<'s>(&self, series: &'s Series) -> Vec<(f64, &'s Point)> {
        let mut placed: Vec<_> = series
            .points
            .iter()
            .map(|p| (self.position(&p.x), p))
            .collect();
        placed.sort_by(|a, b| a.0.total_cmp(&b.0));
        placed
    }

    /// The numbers table: series (when several), x, value, low, high, n.
    pub(crate) fn table(
        &self,
        series: &[Series],
        x_title: &str,
        value_title: &str,
        format: &Format,
    ) -> Table {
        let several = series.len() > 1;
        let mut headers = several
            .then(|| "series".to_string())
            .into_iter()
            .collect::<Vec<_>>();
        headers.push(x_title.to_string());
        headers.extend(estimate_headers(value_title, ""));
        let mut table = Table::new(headers);
        for s in series {
            for (_, p) in self.sorted(s) {
                let mut row = several
                    .then(|| Entry::Text(s.name.clone()))
                    .into_iter()
                    .collect::<Vec<_>>();
                row.push(match p.x {
                    X::At(at) if self.labels.is_none() => Entry::number(at, self.format),
                    _ => Entry::Text(self.key(&p.x)),
                });
                row.extend(estimate_entries(&p.estimate, format));
                table.push(row);
            }
        }
        table
    }
}

/// Which points of a series get a marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Marks {
    All,
    Last,
}

/// Draws series onto scales.
#[derive(Debug)]
pub(crate) struct Painter<'a> {
    pub(crate) xs: &'a Xs<'a>,
    pub(crate) x: Scale,
    pub(crate) y: Scale,
    pub(crate) format: &'a Format,
}

impl Painter<'_> {
    /// The `index`th series: interval band, line, markers.
    pub(crate) fn draw(&self, series: &Series, index: usize, marks: Marks) -> String {
        let (colour, dash) = palette::series(index);
        let placed: Vec<(f64, &Point)> = self
            .xs
            .sorted(series)
            .into_iter()
            .map(|(at, p)| (self.x.map(at), p))
            .collect();
        let mut out = self.bands(&placed, colour);
        if placed.len() > 1 {
            let points: Vec<_> = placed
                .iter()
                .map(|&(x, p)| (x, self.y.map(p.estimate.value)))
                .collect();
            out += &Tag::new("path")
                .attr("class", "line")
                .attr("d", &path_data(&points))
                .attr("fill", "none")
                .colour("stroke", colour)
                .attr("stroke-width", "2")
                .attr("stroke-dasharray", dash)
                .attr("stroke-linejoin", "round")
                .wrap(&title(&series.name));
        }
        let shown = if marks == Marks::Last {
            placed.len() - 1
        } else {
            0
        };
        for &(x, p) in &placed[shown..] {
            out += &self.marker(&series.name, x, p, colour);
        }
        Tag::new("g")
            .attr("class", &format!("series series-{index}"))
            .attr("data-series", &series.name)
            .wrap(&out)
    }

    /// Shaded bands over runs of points with intervals; a whisker for a lone one.
    fn bands(&self, placed: &[(f64, &Point)], colour: palette::Colour) -> String {
        let mut out = String::new();
        for run in placed.split(|(_, p)| bounds(&p.estimate).is_none()) {
            let bounds: Vec<(f64, f64, f64)> = run
                .iter()
                .filter_map(|&(x, p)| bounds(&p.estimate).map(|(low, high)| (x, low, high)))
                .collect();
            match bounds.as_slice() {
                [] => {}
                [(x, low, high)] => {
                    out += &whisker(
                        Direction::Up,
                        (*x, self.y.map(*low)),
                        (*x, self.y.map(*high)),
                        8.0,
                        colour,
                    );
                }
                _ => {
                    let upper = bounds.iter().map(|&(x, _, high)| (x, self.y.map(high)));
                    let lower = bounds.iter().rev().map(|&(x, low, _)| (x, self.y.map(low)));
                    let outline: Vec<_> = upper.chain(lower).collect();
                    out += &Tag::new("path")
                        .attr("class", "band")
                        .attr("d", &format!("{}Z", path_data(&outline)))
                        .colour("fill", colour)
                        .attr("fill-opacity", "0.18")
                        .attr("stroke", "none")
                        .empty();
                }
            }
        }
        out
    }

    fn marker(&self, name: &str, x: f64, point: &Point, colour: palette::Colour) -> String {
        let tag = dot(
            "point",
            (x, self.y.map(point.estimate.value)),
            POINT,
            colour,
        );
        let tag = match point.x {
            X::At(at) if self.xs.labels.is_none() => tag.raw("data-x", at),
            _ => tag.attr("data-x", &self.xs.key(&point.x)),
        };
        let label = format!("{name}, {}", self.xs.key(&point.x));
        data(tag, "", &point.estimate).wrap(&tooltip(&label, &point.estimate, self.format))
    }
}
