//! Axes: value axes with nice ticks and grid lines, category labels, axis titles.

use crate::escape::escape;
use crate::format::Format;
use crate::layout::{LINE, PAD, Plot, SMALL, Size, X_TICK_SPACING, Y_TICK_SPACING, text_width};
use crate::palette::{AXIS, INK, MUTED, RULE};
use crate::scale::Scale;
use crate::svg::{Anchor, Tag, coord, line, text};

/// Which edge of the plot an axis runs along.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Left,
    Bottom,
}

/// How an axis's domain meets the data.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Fit {
    /// Widened to whole ticks (values measured from a round number).
    Nice,
    /// Exactly the data's extent, ticks inside it (such as days 30 to 360).
    Exact,
}

/// A value axis: its domain, tick values and tick labels.
#[derive(Clone, Debug)]
pub(crate) struct Axis {
    side: Side,
    domain: (f64, f64),
    ticks: Vec<f64>,
    labels: Vec<String>,
}

impl Axis {
    /// An axis over `extent`, `length` pixels long, labelled by `format`.
    pub(crate) fn new(
        extent: (f64, f64),
        side: Side,
        length: f64,
        format: &Format,
        fit: Fit,
    ) -> Axis {
        let spacing = if side == Side::Left {
            Y_TICK_SPACING
        } else {
            X_TICK_SPACING
        };
        let count = (length / spacing).round().max(1.0) as usize;
        let scale = Scale::linear(extent, (0.0, 1.0));
        let (domain, ticks) = match fit {
            Fit::Nice => {
                let (nice, ticks) = scale.nice(count);
                (nice.domain(), ticks)
            }
            Fit::Exact => (scale.domain(), scale.ticks(count)),
        };
        let values = ticks.values();
        let labels = format.ticks(&values, ticks.exponent());
        Axis {
            side,
            domain,
            ticks: values,
            labels,
        }
    }

    /// Width of the widest tick label.
    pub(crate) fn label_width(&self) -> f64 {
        self.labels
            .iter()
            .map(|l| text_width(l, SMALL))
            .fold(0.0, f64::max)
    }

    /// The domain, widened to whole ticks when nice.
    pub(crate) fn domain(&self) -> (f64, f64) {
        self.domain
    }

    /// The scale from the domain onto the plot's edge.
    pub(crate) fn scale(&self, plot: &Plot) -> Scale {
        let range = match self.side {
            Side::Left => (plot.bottom, plot.top),
            Side::Bottom => (plot.left, plot.right),
        };
        Scale::linear(self.domain, range)
    }

    /// Grid lines across the plot and tick labels outside it.
    pub(crate) fn draw(&self, plot: &Plot) -> String {
        let scale = self.scale(plot);
        let mut out = String::new();
        for (&value, label) in self.ticks.iter().zip(&self.labels) {
            let at = scale.map(value);
            let (from, to, spot, anchor) = match self.side {
                Side::Left => (
                    (plot.left, at),
                    (plot.right, at),
                    (plot.left - PAD, at),
                    Anchor::End,
                ),
                Side::Bottom => (
                    (at, plot.top),
                    (at, plot.bottom),
                    below(plot, at),
                    Anchor::Middle,
                ),
            };
            let (class, stroke) = if value == 0.0 {
                ("grid zero", AXIS)
            } else {
                ("grid", RULE)
            };
            out += &line(class, from, to, stroke)
                .raw("data-tick", value)
                .empty();
            out += &tick_label(spot, anchor, label);
        }
        let class = if self.side == Side::Left {
            "axis axis-y"
        } else {
            "axis axis-x"
        };
        Tag::new("g").attr("class", class).wrap(&out)
    }
}

/// An axis title: rotated along the left edge of the chart, or centred along its bottom.
pub(crate) fn title(label: &str, side: Side, plot: &Plot, size: Size) -> String {
    let tag = match side {
        Side::Left => {
            let spot = (LINE / 2.0 + 2.0, (plot.top + plot.bottom) / 2.0);
            let turn = format!("rotate(-90 {} {})", coord(spot.0), coord(spot.1));
            text("axis-title", spot, Anchor::Middle, INK).attr("transform", &turn)
        }
        Side::Bottom => text(
            "axis-title",
            (
                (plot.left + plot.right) / 2.0,
                size.height() - LINE / 2.0 - 2.0,
            ),
            Anchor::Middle,
            INK,
        ),
    };
    tag.wrap(&escape(label))
}

/// Category labels under the plot at `xs`, every k-th one when they would collide.
pub(crate) fn categories(labels: &[String], xs: &[f64], plot: &Plot) -> String {
    let widest = labels
        .iter()
        .map(|l| text_width(l, SMALL))
        .fold(0.0, f64::max)
        + PAD;
    let every = thinning(labels.len(), widest, plot.width());
    let mut out = String::new();
    for (label, &x) in labels.iter().zip(xs).step_by(every) {
        out += &line("tick-mark", (x, plot.bottom), (x, plot.bottom + 4.0), AXIS).empty();
        out += &tick_label(below(plot, x), Anchor::Middle, label);
    }
    Tag::new("g").attr("class", "axis axis-x").wrap(&out)
}

/// Where a tick label under the plot at `x` sits.
pub(crate) fn below(plot: &Plot, x: f64) -> (f64, f64) {
    (x, plot.bottom + LINE / 2.0 + 2.0)
}

/// A tick's label at `spot`.
pub(crate) fn tick_label(spot: (f64, f64), anchor: Anchor, label: &str) -> String {
    text("tick", spot, anchor, MUTED)
        .at("font-size", SMALL)
        .wrap(&escape(label))
}

/// Show every how-many-th of `count` labels `width` wide in `room` pixels.
fn thinning(count: usize, width: f64, room: f64) -> usize {
    if count <= 1 {
        return 1;
    }
    let fits = (room / width).floor().max(1.0) as usize;
    count.div_ceil(fits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crowded_labels_are_thinned() {
        assert_eq!(thinning(12, 40.0, 600.0), 1);
        assert_eq!(thinning(36, 40.0, 600.0), 3);
        assert_eq!(thinning(36, 40.0, 10.0), 36);
        assert_eq!(thinning(0, 40.0, 600.0), 1);
    }

    #[test]
    fn nice_axis_starts_and_ends_on_ticks() {
        let axis = Axis::new((3.0, 97.0), Side::Left, 240.0, &Format::Number, Fit::Nice);
        assert_eq!(axis.domain(), (0.0, 100.0));
        assert_eq!(axis.labels, ["0", "20", "40", "60", "80", "100"]);
    }
}
