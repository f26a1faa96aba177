//! Heat shading for HTML table cells (such as the journey map), and its legend.

use crate::data::drawable;
use crate::escape::escape;
use crate::figure::svg;
use crate::format::Format;
use crate::layout::{SMALL, Size};
use crate::palette::{Colour, MUTED, WHITE, ink_on, ramp};
use crate::svg::{Anchor, Tag, text};

/// Steps drawn in the legend.
const STEPS: usize = 10;
/// Legend layout: step width and height, and the margin.
const STEP: (f64, f64, f64) = (20.0, 12.0, 10.0);

/// A cell's background and the text colour that reads on it (at least 4.5:1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shade {
    /// Background.
    pub fill: Colour,
    /// Text.
    pub ink: Colour,
}

impl Shade {
    /// The shade of a cell with no value: white, muted text.
    pub const NONE: Shade = Shade {
        fill: WHITE,
        ink: MUTED,
    };

    /// An inline CSS declaration: `background-color:#…;color:#…`.
    pub fn style(&self) -> String {
        format!("background-color:{};color:{}", self.fill, self.ink)
    }
}

/// The shade of `value` on a light-to-dark blue ramp from `lo` to `hi` (pass `hi`
/// below `lo` to darken low values). Values outside are clamped; a value that is not
/// finite gets [`Shade::NONE`], an empty range the middle shade.
pub fn heat(value: f64, lo: f64, hi: f64) -> Shade {
    if !drawable(value) {
        return Shade::NONE;
    }
    let t = (value - lo) / (hi - lo);
    let fill = ramp(if t.is_finite() { t } else { 0.5 });
    Shade {
        fill,
        ink: ink_on(fill),
    }
}

/// A small legend SVG for [`heat`]: the ramp from `lo` to `hi`, with both ends labelled.
pub fn heat_legend(title: &str, lo: f64, hi: f64, format: &Format) -> String {
    let (w, h, m) = STEP;
    let size = Size::new(
        (2.0 * m + STEPS as f64 * w) as u32,
        (2.0 * m + h + SMALL) as u32,
    );
    let label = |v: f64, fallback: &str| {
        if drawable(v) {
            format.full(v)
        } else {
            fallback.to_string()
        }
    };
    let (low, high) = (label(lo, "lower"), label(hi, "higher"));
    let mut body: String = (0..STEPS)
        .map(|i| {
            Tag::new("rect")
                .at("x", m + i as f64 * w)
                .at("y", m / 2.0)
                .at("width", w)
                .at("height", h)
                .colour("fill", ramp((i as f64 + 0.5) / STEPS as f64))
                .empty()
        })
        .collect();
    let y = m / 2.0 + h + SMALL / 2.0 + 3.0;
    for (spot, anchor, value) in [
        (m, Anchor::Start, &low),
        (size.width() - m, Anchor::End, &high),
    ] {
        body += &text("tick", (spot, y), anchor, MUTED)
            .at("font-size", SMALL)
            .wrap(&escape(value));
    }
    let desc = format!("Lighter is lower ({low}), darker is higher ({high}).");
    svg(size, None, "cx-svg cx-heat-legend", title, &desc, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shades_darken_with_value() {
        let (a, b) = (heat(0.2, 0.0, 1.0), heat(0.8, 0.0, 1.0));
        assert!(a.fill.contrast(WHITE) < b.fill.contrast(WHITE));
        assert_eq!(heat(5.0, 0.0, 1.0), heat(1.0, 0.0, 1.0));
        assert_eq!(heat(0.2, 1.0, 0.0), heat(0.8, 0.0, 1.0));
    }

    #[test]
    fn odd_input_still_shades() {
        assert_eq!(heat(f64::NAN, 0.0, 1.0), Shade::NONE);
        assert_eq!(heat(3.0, 3.0, 3.0).fill, ramp(0.5));
        assert_eq!(
            Shade::NONE.style(),
            "background-color:#ffffff;color:#57606a"
        );
    }
}
