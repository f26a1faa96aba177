//! Marks shared by the charts: data attributes, tooltips, points, whiskers.

use crate::data::{Estimate, bounds, known_n};
use crate::format::Format;
use crate::palette::{Colour, WHITE};
use crate::svg::{Tag, path_data, title};

/// Adds the estimate's raw numbers: `data-value`, `data-low`, `data-high`, `data-n`,
/// or with a `prefix` such as "x": `data-x`, `data-x-low`, ….
pub(crate) fn data(tag: Tag, prefix: &str, estimate: &Estimate) -> Tag {
    let key = |part: &str| match (prefix, part) {
        ("", "") => "data-value".to_string(),
        ("", part) => format!("data-{part}"),
        (prefix, "") => format!("data-{prefix}"),
        (prefix, part) => format!("data-{prefix}-{part}"),
    };
    let mut tag = tag.raw(&key(""), estimate.value);
    if let Some((low, high)) = bounds(estimate) {
        tag = tag.raw(&key("low"), low).raw(&key("high"), high);
    }
    if let Some(n) = known_n(estimate) {
        tag = tag.raw(&key("n"), n as f64);
    }
    tag
}

/// The estimate in words: "32.4 (interval 28 to 36), n = 410".
pub(crate) fn describe(estimate: &Estimate, format: &Format) -> String {
    let mut text = format.full(estimate.value);
    if let Some((low, high)) = bounds(estimate) {
        text += &format!(" (interval {} to {})", format.full(low), format.full(high));
    }
    if let Some(n) = known_n(estimate) {
        text += &format!(", n = {}", Format::Number.full(n as f64));
    }
    text
}

/// A tooltip naming `label` and the estimate.
pub(crate) fn tooltip(label: &str, estimate: &Estimate, format: &Format) -> String {
    title(&format!("{label}: {}", describe(estimate, format)))
}

/// A filled circle with a white rim; add data attributes, then wrap a tooltip.
pub(crate) fn dot(class: &str, (x, y): (f64, f64), radius: f64, fill: Colour) -> Tag {
    Tag::new("circle")
        .attr("class", class)
        .at("cx", x)
        .at("cy", y)
        .at("r", radius)
        .colour("fill", fill)
        .colour("stroke", WHITE)
        .attr("stroke-width", "1")
}

/// Which way a whisker runs.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Direction {
    Across,
    Up,
}

/// An interval whisker from `from` to `to` along `direction`, with end caps `cap` long.
pub(crate) fn whisker(
    direction: Direction,
    from: (f64, f64),
    to: (f64, f64),
    cap: f64,
    stroke: Colour,
) -> String {
    let (dx, dy) = match direction {
        Direction::Across => (0.0, cap / 2.0),
        Direction::Up => (cap / 2.0, 0.0),
    };
    let tick = |(x, y): (f64, f64)| path_data(&[(x - dx, y - dy), (x + dx, y + dy)]);
    Tag::new("path")
        .attr("class", "whisker")
        .attr(
            "d",
            &format!("{}{}{}", path_data(&[from, to]), tick(from), tick(to)),
        )
        .colour("stroke", stroke)
        .attr("stroke-width", "1.5")
        .attr("fill", "none")
        .empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_value_interval_and_n() {
        let e = Estimate::unflagged(1410, 32.41, Some((36.0, 28.0)));
        assert_eq!(
            describe(&e, &Format::Number),
            "32.4 (interval 28 to 36), n = 1,410"
        );
        let tag = data(Tag::new("circle"), "x", &e).empty();
        assert_eq!(
            tag,
            "<circle data-x=\"32.41\" data-x-low=\"28\" data-x-high=\"36\" data-x-n=\"1410\"/>"
        );
    }
}
