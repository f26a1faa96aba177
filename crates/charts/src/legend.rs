//! Legends: a swatch and a name per key, wrapped onto as many rows as needed.

use crate::escape::escape;
use crate::layout::{LINE, SMALL, text_width, truncate};
use crate::palette::{Colour, INK};
use crate::svg::{Anchor, Tag, line, text};

/// Swatch length.
const SWATCH: f64 = 18.0;
/// Gap after a swatch and after a key.
const GAP: (f64, f64) = (6.0, 16.0);

/// How a key is drawn.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Swatch {
    /// A stroke with a colour and dash pattern.
    Line(Colour, &'static str),
    /// A filled square.
    Block(Colour),
}

/// One legend entry.
#[derive(Clone, Debug)]
pub(crate) struct Key {
    pub(crate) label: String,
    pub(crate) swatch: Swatch,
}

/// A drawn legend and the height it takes.
#[derive(Debug, Default)]
pub(crate) struct Legend {
    pub(crate) svg: String,
    pub(crate) height: f64,
}

/// The legend for `keys`, from (`left`, `top`), at most `width` wide.
pub(crate) fn legend(keys: &[Key], (left, top): (f64, f64), width: f64) -> Legend {
    if keys.is_empty() {
        return Legend::default();
    }
    let (mut x, mut y) = (left, top + LINE / 2.0);
    let mut items = String::new();
    for key in keys {
        let label = truncate(&key.label, width - SWATCH - GAP.0, SMALL);
        let span = SWATCH + GAP.0 + text_width(&label, SMALL) + GAP.1;
        if x > left && x + span > left + width {
            (x, y) = (left, y + LINE);
        }
        let name = text("key-label", (x + SWATCH + GAP.0, y), Anchor::Start, INK)
            .at("font-size", SMALL)
            .wrap(&escape(&label));
        items += &Tag::new("g")
            .attr("class", "key")
            .wrap(&(swatch(key.swatch, (x, y)) + &name));
        x += span;
    }
    Legend {
        svg: Tag::new("g").attr("class", "legend").wrap(&items),
        height: y - top + LINE / 2.0,
    }
}

fn swatch(swatch: Swatch, (x, y): (f64, f64)) -> String {
    match swatch {
        Swatch::Line(colour, dash) => line("swatch", (x, y), (x + SWATCH, y), colour)
            .attr("stroke-width", "2.5")
            .attr("stroke-dasharray", dash)
            .empty(),
        Swatch::Block(colour) => Tag::new("rect")
            .attr("class", "swatch")
            .at("x", x + 3.0)
            .at("y", y - 6.0)
            .at("width", 12.0)
            .at("height", 12.0)
            .colour("fill", colour)
            .empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_keys_onto_rows() {
        let key = |label: &str| Key {
            label: label.into(),
            swatch: Swatch::Block(INK),
        };
        let one = legend(&[key("Promoters")], (0.0, 0.0), 300.0);
        let many = legend(&vec![key("Promoters and friends"); 6], (0.0, 0.0), 300.0);
        assert_eq!(one.height, LINE);
        assert!(many.height >= 3.0 * LINE, "{}", many.height);
        assert_eq!(legend(&[], (0.0, 0.0), 300.0).height, 0.0);
    }
}
