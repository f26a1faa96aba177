//! Sparklines: a tiny trend without axes for scorecard tiles, its last point marked.

use crate::data::{LeftOut, extent, numbers};
use crate::figure::{Figure, Frame};
use crate::format::Format;
use crate::layout::{Margins, POINT, Plot, SPARK, Size};
use crate::scale::Scale;
use crate::series::{Marks, Painter, Point, Series, Xs, drawable_series};

/// A sparkline's data and options.
#[derive(Clone, Debug, Default)]
pub struct Sparkline {
    /// The points; the last in x order is marked.
    pub points: Vec<Point>,
    /// How values are written.
    pub format: Format,
    /// How numeric x values are written.
    pub x_format: Format,
    /// What x is, for the numbers table ("month").
    pub x_title: Option<String>,
}

/// A sparkline figure (default 160×40): the line, its interval band, and the last point.
pub fn sparkline(frame: &Frame, chart: &Sparkline) -> String {
    let size = frame.size_or(Size::new(SPARK.0, SPARK.1));
    let mut left_out = LeftOut::default();
    let trend = [Series::new(frame.title(), chart.points.clone())];
    let series = drawable_series(&trend, &chart.x_format, &mut left_out);
    let Some(trend) = series.first() else {
        return Figure::empty(frame, "sparkline", size, left_out).render();
    };
    let inset = POINT + 1.0;
    let plot = Plot::within(
        size,
        Margins {
            top: inset,
            right: inset,
            bottom: inset,
            left: inset,
        },
    );
    let xs = Xs::of(&series, &chart.x_format);
    let values = trend.points.iter().flat_map(|p| numbers(&p.estimate));
    let painter = Painter {
        xs: &xs,
        x: Scale::linear(xs.extent(&series), (plot.left, plot.right)),
        y: Scale::linear(
            extent(values).unwrap_or((0.0, 1.0)),
            (plot.bottom, plot.top),
        ),
        format: &chart.format,
    };
    let x_title = chart.x_title.as_deref().unwrap_or("x");
    Figure {
        frame,
        kind: "sparkline",
        size,
        desc: describe(trend, &xs, &chart.format),
        body: painter.draw(trend, 0, Marks::Last),
        table: xs.table(&series, x_title, "value", &chart.format),
        left_out,
    }
    .render()
}

/// The `<desc>`: span, last value, lowest and highest.
fn describe(trend: &Series, xs: &Xs, format: &Format) -> String {
    let sorted = xs.sorted(trend);
    let (first, last) = (sorted[0].1, sorted[sorted.len() - 1].1);
    let (lo, hi) = extent(trend.points.iter().map(|p| p.estimate.value)).unwrap_or_default();
    format!(
        "Trend of {} points from {} to {}; last {}; lowest {}, highest {}.",
        sorted.len(),
        xs.key(&first.x),
        xs.key(&last.x),
        format.full(last.estimate.value),
        format.full(lo),
        format.full(hi),
    )
}
