//! Writing elements: tags with escaped attributes, coordinates, paths and text.

use crate::escape::escape;
use crate::format::trim_zeros;
use crate::palette::Colour;
use std::fmt::Write;

/// An element under construction; attribute values are escaped as they are added.
pub(crate) struct Tag {
    name: &'static str,
    attrs: String,
}

impl Tag {
    pub(crate) fn new(name: &'static str) -> Tag {
        Tag {
            name,
            attrs: String::new(),
        }
    }

    /// Adds a text attribute.
    pub(crate) fn attr(mut self, name: &str, value: &str) -> Tag {
        let _ = write!(self.attrs, " {name}=\"{}\"", escape(value));
        self
    }

    /// Adds a coordinate or length, rounded to hundredths of a pixel.
    pub(crate) fn at(self, name: &str, value: f64) -> Tag {
        self.attr(name, &coord(value))
    }

    /// Adds a raw number at full precision (for `data-*` attributes).
    pub(crate) fn raw(self, name: &str, value: f64) -> Tag {
        self.attr(name, &value.to_string())
    }

    /// Adds a colour.
    pub(crate) fn colour(self, name: &str, colour: Colour) -> Tag {
        self.attr(name, &colour.to_string())
    }

    /// A white outline behind text, so it stays legible over lines and points.
    pub(crate) fn halo(self) -> Tag {
        self.attr("paint-order", "stroke")
            .attr("stroke", "#ffffff")
            .attr("stroke-width", "3")
            .attr("stroke-linejoin", "round")
    }

    /// The element with no content.
    pub(crate) fn empty(self) -> String {
        format!("<{}{}/>", self.name, self.attrs)
    }

    /// The element around `inner`, which must already be markup or escaped text.
    pub(crate) fn wrap(self, inner: &str) -> String {
        format!("<{0}{1}>{inner}</{0}>", self.name, self.attrs)
    }
}

/// A coordinate: at most two decimals, no trailing zeros, no "-0".
pub(crate) fn coord(value: f64) -> String {
    let text = trim_zeros(format!("{value:.2}"));
    if text == "-0" { "0".into() } else { text }
}

/// A `<title>` (tooltip and accessible name) holding `text`.
pub(crate) fn title(text: &str) -> String {
    Tag::new("title").wrap(&escape(text))
}

/// Where a text's anchor point is.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Anchor {
    Start,
    Middle,
    End,
}

/// A `<text>` element at (`x`, `y`), vertically centred on `y`; add attributes, then
/// `wrap(&escape(..))`.
pub(crate) fn text(class: &str, (x, y): (f64, f64), anchor: Anchor, fill: Colour) -> Tag {
    let anchor = match anchor {
        Anchor::Start => "start",
        Anchor::Middle => "middle",
        Anchor::End => "end",
    };
    Tag::new("text")
        .attr("class", class)
        .at("x", x)
        .at("y", y)
        .attr("dy", "0.35em")
        .attr("text-anchor", anchor)
        .colour("fill", fill)
}

/// A straight line.
pub(crate) fn line(class: &str, (x1, y1): (f64, f64), (x2, y2): (f64, f64), stroke: Colour) -> Tag {
    Tag::new("line")
        .attr("class", class)
        .at("x1", x1)
        .at("y1", y1)
        .at("x2", x2)
        .at("y2", y2)
        .colour("stroke", stroke)
}

/// Path data through `points`: `M x,y L x,y …`.
pub(crate) fn path_data(points: &[(f64, f64)]) -> String {
    let mut d = String::new();
    for (i, &(x, y)) in points.iter().enumerate() {
        let _ = write!(
            d,
            "{}{},{}",
            if i == 0 { "M" } else { "L" },
            coord(x),
            coord(y)
        );
    }
    d
}

/// A class or id token from user text: lower-case ASCII letters and digits joined by
/// hyphens; empty when nothing usable is left.
pub(crate) fn token(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_escaped() {
        let tag = Tag::new("g").attr("data-label", "\"><script>").empty();
        assert_eq!(tag, "<g data-label=\"&quot;&gt;&lt;script&gt;\"/>");
    }

    #[test]
    fn coordinates_are_short() {
        assert_eq!(coord(12.0), "12");
        assert_eq!(coord(12.3456), "12.35");
        assert_eq!(coord(-0.001), "0");
        assert_eq!(path_data(&[(0.0, 1.5), (2.0, 3.0)]), "M0,1.5L2,3");
    }

    #[test]
    fn tokens_are_safe_class_names() {
        assert_eq!(token("External partner!"), "external-partner");
        assert_eq!(token(" \"x y\" "), "x-y");
        assert_eq!(token("外部"), "");
    }
}
