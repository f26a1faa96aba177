//! Sizes, margins and the other layout constants, all in one place.

/// Default width of a full chart, in CSS pixels.
pub(crate) const WIDTH: u32 = 640;
/// Default height of a line or quadrant chart.
pub(crate) const HEIGHT: u32 = 320;
/// Default size of a sparkline.
pub(crate) const SPARK: (u32, u32) = (160, 40);
/// The smallest size a caller can ask for.
const MIN: (u32, u32) = (24, 12);

/// Font stack: the reader's own system fonts, nothing to download.
pub(crate) const FONT_FAMILY: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
/// Body text size.
pub(crate) const FONT: f64 = 12.0;
/// Tick and caption text size.
pub(crate) const SMALL: f64 = 11.0;
/// Average glyph width as a share of the font size, to estimate text widths.
const GLYPH: f64 = 0.6;
/// Height of one line of text.
pub(crate) const LINE: f64 = 16.0;
/// General spacing.
pub(crate) const PAD: f64 = 8.0;

/// Desired pixels between ticks on a vertical axis.
pub(crate) const Y_TICK_SPACING: f64 = 48.0;
/// Desired pixels between ticks on a horizontal axis.
pub(crate) const X_TICK_SPACING: f64 = 90.0;

/// Vertical pixels per bar in a bar chart.
pub(crate) const BAR_PITCH: f64 = 28.0;
/// Share of the pitch a bar fills.
pub(crate) const BAR_FILL: f64 = 0.64;
/// Widest share of the chart given to bar labels.
pub(crate) const LABEL_SHARE: f64 = 0.35;

/// Radius of a data point.
pub(crate) const POINT: f64 = 3.5;
/// Radius of a quadrant point without a size.
pub(crate) const DOT: f64 = 5.0;
/// Radius of the largest sized quadrant point.
pub(crate) const DOT_MAX: f64 = 18.0;
/// Radius below which sized points are not shrunk, so they stay visible.
pub(crate) const DOT_MIN: f64 = 2.0;

/// Default grid cell size.
pub(crate) const CELL: (f64, f64) = (150.0, 72.0);

/// Width and height of a chart in CSS pixels (also its `viewBox`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    width: u32,
    height: u32,
}

impl Size {
    /// A size, raised to at least 24×12.
    pub fn new(width: u32, height: u32) -> Size {
        Size {
            width: width.max(MIN.0),
            height: height.max(MIN.1),
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> f64 {
        f64::from(self.width)
    }

    /// Height in pixels.
    pub fn height(&self) -> f64 {
        f64::from(self.height)
    }
}

/// Space around the plot area.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Margins {
    pub(crate) top: f64,
    pub(crate) right: f64,
    pub(crate) bottom: f64,
    pub(crate) left: f64,
}

/// The rectangle where data are drawn.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plot {
    pub(crate) left: f64,
    pub(crate) top: f64,
    pub(crate) right: f64,
    pub(crate) bottom: f64,
}

impl Plot {
    /// The plot area of `size` inside `margins`, at least one pixel each way.
    pub(crate) fn within(size: Size, m: Margins) -> Plot {
        let left = m.left.min(size.width() - 1.0);
        let top = m.top.min(size.height() - 1.0);
        Plot {
            left,
            top,
            right: (size.width() - m.right).max(left + 1.0),
            bottom: (size.height() - m.bottom).max(top + 1.0),
        }
    }

    pub(crate) fn width(&self) -> f64 {
        self.right - self.left
    }

    pub(crate) fn height(&self) -> f64 {
        self.bottom - self.top
    }
}

/// Estimated width of `text` at `font` pixels.
pub(crate) fn text_width(text: &str, font: f64) -> f64 {
    text.chars().count() as f64 * font * GLYPH
}

/// Estimated width of the widest of `texts` at `font` pixels.
pub(crate) fn widest<'a>(texts: impl Iterator<Item = &'a str>, font: f64) -> f64 {
    texts.map(|t| text_width(t, font)).fold(0.0, f64::max)
}

/// `text` shortened with an ellipsis to fit `width` pixels at `font` pixels.
pub(crate) fn truncate(text: &str, width: f64, font: f64) -> String {
    if text_width(text, font) <= width {
        return text.to_string();
    }
    let keep = (width / (font * GLYPH)).floor().max(1.0) as usize - 1;
    let mut out: String = text.chars().take(keep).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_long_labels() {
        assert_eq!(truncate("Baggage", 100.0, 10.0), "Baggage");
        assert_eq!(truncate("Baggage handling", 36.0, 10.0), "Bagga…");
    }

    #[test]
    fn plot_never_collapses() {
        let margins = Margins {
            top: 50.0,
            right: 50.0,
            bottom: 50.0,
            left: 50.0,
        };
        let plot = Plot::within(Size::new(10, 10), margins);
        assert!(plot.width() >= 1.0 && plot.height() >= 1.0);
        assert!(plot.right <= 24.0 + 1.0);
    }
}
