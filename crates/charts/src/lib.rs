//! Charts for cxray's server-rendered pages, drawn as inline SVG.
//!
//! Each chart is a plain function of its data that returns one HTML `<figure>`:
//!
//! - an `<svg role="img">` (`role="group"` when it holds links, as the journey map does)
//!   named by its `<title>` (the [`Frame`]'s title), with a `<desc>` saying what the chart
//!   shows in words; text is real `<text>`, colours are set inline so
//!   the figure needs no stylesheet, and `class` attributes let page CSS restyle it;
//! - a `<figcaption>`;
//! - `<details><summary>Numbers</summary><table>…</table></details>`: the exact numbers
//!   behind the chart (label, value, low, high, n), the table view for screen readers,
//!   print and checking.
//!
//! Every mark that stands for data has a `<title>` child (a tooltip with label, value,
//! interval and n) and `data-*` attributes holding the raw numbers (`data-value`,
//! `data-low`, `data-high`, `data-n`; `data-x`/`data-y` in quadrants).
//!
//! Figures are self-contained: no JavaScript, no fonts or other assets to load, so they
//! work offline and print. Series colours are the Okabe–Ito set (safe for colour-blind
//! readers and dark enough for white paper) with dash patterns as a second cue; shading
//! uses one light-to-dark blue ramp, so lightness alone carries the value.
//!
//! All text (labels come from user data) is escaped. A number that is not finite (or
//! beyond ±10^15) never reaches the SVG: its item is left out, and the caption says
//! which. No data at all gives a figure saying "No data". The same input always gives
//! the same bytes.
//!
//! The charts: [`line()`] (series over x with interval bands and a target), [`bars()`]
//! (horizontal bars with whiskers), [`forest()`] (ratios with intervals on a log scale,
//! the line at 1 marked), [`quadrant()`] (labelled points against two
//! dividers), [`grid()`] (an r×c table of shaded counts), [`sparkline()`] (a tiny trend),
//! [`journey_map()`] (stages by owners' lanes, touchpoint cards, hand-off arrows);
//! and for HTML tables, [`heat()`] (a cell's shade) with [`heat_legend()`].

mod axis;
mod bars;
mod data;
mod escape;
mod figure;
mod forest;
mod format;
mod grid;
mod heat;
mod journey;
mod layout;
mod legend;
mod line;
mod marks;
mod palette;
mod quadrant;
mod scale;
mod series;
mod sparkline;
mod svg;
mod table;

pub use bars::{Bar, Bars, bars};
pub use escape::escape;
pub use figure::Frame;
pub use forest::{Forest, Ratio, forest};
pub use format::Format;
pub use grid::{Grid, GridCell, grid};
pub use heat::{Shade, heat, heat_legend};
pub use journey::{Card, Handover, JourneyMap, Standing, journey_map};
pub use layout::Size;
pub use line::{Line, Marker, Target, line};
pub use palette::Colour;
pub use quadrant::{Corners, Quadrant, Spot, quadrant};
pub use scale::{Scale, Ticks};
pub use series::{Point, Series, X};
pub use sparkline::{Sparkline, sparkline};
