//! Forest charts: ratios (such as odds ratios) with their intervals on a log scale and a
//! marked line at 1, or differences (such as percentage points) on a linear scale and a
//! marked line at 0 — one row per item in the order given, the line meaning no difference.

use cxray_core::text::significant;

use crate::axis;
use crate::data::{Estimate, LeftOut, bounds, extent, is_drawable, numbers};
use crate::escape::escape;
use crate::figure::{Figure, Frame};
use crate::format::{Format, trim_zeros};
use crate::layout::{
    BAR_PITCH, FONT, LABEL_SHARE, LINE, Margins, PAD, Plot, SMALL, Size, WIDTH, truncate, widest,
};
use crate::marks::{Direction, data, tooltip, whisker};
use crate::palette::{self, INK, MUTED, RULE};
use crate::scale::Scale;
use crate::svg::{Anchor, Tag, line, text};
use crate::table::{Entry, Table, estimate_entries, estimate_headers};

/// The smallest and largest ratio the axis reaches; intervals beyond it end at its edge
/// (the numbers table and tooltips keep their true bounds).
const REACH: (f64, f64) = (1e-3, 1e3);

/// Significant digits of the ratios written.
const DIGITS: u32 = 3;

/// Side of a ratio's square marker.
const MARKER: f64 = 9.0;

/// One row: what the ratio is of, and the ratio with its interval.
#[derive(Clone, Debug, PartialEq)]
pub struct Ratio {
    /// What the ratio is of ("Baggage delivery").
    pub label: String,
    pub estimate: Estimate,
}

impl Ratio {
    pub fn new(label: impl Into<String>, estimate: impl Into<Estimate>) -> Ratio {
        Ratio {
            label: label.into(),
            estimate: estimate.into(),
        }
    }
}

/// A forest chart's data.
#[derive(Clone, Debug, Default)]
pub struct Forest {
    /// The rows, top to bottom; a ratio that is not positive and finite (a difference
    /// that is not finite) is left out.
    pub ratios: Vec<Ratio>,
    /// What the ratios are ("odds ratio of leaving").
    pub value_title: String,
    /// What the line (a ratio of 1, a difference of 0) means ("no difference").
    pub reference: String,
    /// Differences on a linear scale (the line at 0) rather than ratios on a log scale.
    pub differences: bool,
}

impl Forest {
    /// The value of no difference: 1 for ratios, 0 for differences.
    fn none(&self) -> f64 {
        if self.differences { 0.0 } else { 1.0 }
    }
}

/// A forest chart figure: each ratio a square with its interval as a whisker on a log
/// scale, the line at 1 marked, values with intervals at the right. Its height grows
/// with the rows unless the frame sets a size.
pub fn forest(frame: &Frame, chart: &Forest) -> String {
    let mut left_out = LeftOut::default();
    let ratios = left_out.keep(
        &chart.ratios,
        |r| is_drawable(&r.estimate) && (chart.differences || r.estimate.value > 0.0),
        |r| r.label.clone(),
    );
    let (top, bottom) = (PAD + LINE, LINE + PAD + LINE);
    let rows = ratios.len().max(1) as f64;
    let size = frame.size_or(Size::new(
        WIDTH,
        (top + rows * BAR_PITCH + bottom).ceil() as u32,
    ));
    if ratios.is_empty() {
        return Figure::empty(frame, "forest", size, left_out).render();
    }
    let values: Vec<String> = ratios
        .iter()
        .map(|r| written(&r.estimate, chart.differences))
        .collect();
    let label_width =
        widest(ratios.iter().map(|r| r.label.as_str()), FONT).min(size.width() * LABEL_SHARE);
    let plot = Plot::within(
        size,
        Margins {
            top,
            right: widest(values.iter().map(String::as_str), SMALL) + 2.0 * PAD,
            bottom,
            left: label_width + 2.0 * PAD,
        },
    );
    let numbers = ratios.iter().flat_map(|r| numbers(&r.estimate));
    let extent = extent(numbers.chain([chart.none()])).unwrap_or((1.0, 1.0));
    let axis = match chart.differences {
        true => Axis::linear(extent, &plot),
        false => Axis::Log(LogAxis::new(extent, &plot)),
    };
    let mut body = axis.draw(&plot) + &reference(&axis, &plot, chart);
    body += &crate::axis::title(&chart.value_title, crate::axis::Side::Bottom, &plot, size);
    let pitch = plot.height() / rows;
    for (i, (ratio, value)) in ratios.iter().zip(&values).enumerate() {
        let centre = plot.top + (i as f64 + 0.5) * pitch;
        body += &row(ratio, &axis, centre, pitch);
        body += &text("label", (plot.left - PAD, centre), Anchor::End, INK)
            .wrap(&escape(&truncate(&ratio.label, label_width, FONT)));
        body += &text("value", (plot.right + PAD, centre), Anchor::Start, MUTED)
            .at("font-size", SMALL)
            .wrap(&escape(value));
    }
    Figure {
        frame,
        kind: "forest",
        size,
        desc: describe(&ratios, chart),
        body,
        table: table(&ratios, &chart.value_title),
        left_out,
    }
    .render()
}

/// How a ratio is written beside its row: three significant digits (so no positive bound
/// reads as 0), a bound beyond the axis as "< 0.001" or "> 1,000" like its whisker (the
/// tooltip and the numbers table give it in full); a difference's bounds as they are.
fn written(estimate: &Estimate, difference: bool) -> String {
    let value = significant(estimate.value, DIGITS);
    let bound = |b: f64| match difference {
        true => significant(b, DIGITS),
        false => beyond_axis(b),
    };
    match bounds(estimate) {
        Some((low, high)) => format!("{value} ({} – {})", bound(low), bound(high)),
        None => value,
    }
}

/// A bound as the axis shows it.
fn beyond_axis(bound: f64) -> String {
    let edge = |e: f64| trim_zeros(significant(e, DIGITS));
    if bound < REACH.0 {
        format!("< {}", edge(REACH.0))
    } else if bound > REACH.1 {
        format!("> {}", edge(REACH.1))
    } else {
        significant(bound, DIGITS)
    }
}

fn format() -> Format {
    Format::Custom(|v| significant(v, DIGITS))
}

/// The horizontal axis: log for ratios, linear for differences.
enum Axis {
    Log(LogAxis),
    Linear { scale: Scale, ticks: Vec<f64> },
}

impl Axis {
    /// A linear axis over `extent` widened to nice ticks.
    fn linear(extent: (f64, f64), plot: &Plot) -> Axis {
        let (scale, ticks) = Scale::linear(extent, (plot.left, plot.right)).nice(5);
        Axis::Linear {
            scale,
            ticks: ticks.values(),
        }
    }

    fn map(&self, value: f64) -> f64 {
        match self {
            Axis::Log(a) => a.map(value),
            Axis::Linear { scale, .. } => scale.map(value),
        }
    }

    fn draw(&self, plot: &Plot) -> String {
        match self {
            Axis::Log(a) => a.draw(plot),
            Axis::Linear { ticks, .. } => grid(ticks, plot, |t| self.map(t)),
        }
    }
}

/// Grid lines and tick labels at `ticks`, placed by `map`.
fn grid(ticks: &[f64], plot: &Plot, map: impl Fn(f64) -> f64) -> String {
    let mut out = String::new();
    for &tick in ticks {
        let x = map(tick);
        out += &line("grid", (x, plot.top), (x, plot.bottom), RULE)
            .raw("data-tick", tick)
            .empty();
        let label = trim_zeros(significant(tick, DIGITS));
        out += &axis::tick_label(axis::below(plot, x), Anchor::Middle, &label);
    }
    Tag::new("g").attr("class", "axis axis-x").wrap(&out)
}

/// A horizontal log axis: its domain (powers of ten times 1, 2 or 5) and ticks.
struct LogAxis {
    scale: Scale,
    ticks: Vec<f64>,
}

impl LogAxis {
    /// An axis over `extent` (clamped to [`REACH`]) across the plot.
    fn new((low, high): (f64, f64), plot: &Plot) -> LogAxis {
        let clamp = |v: f64| v.clamp(REACH.0, REACH.1);
        let candidates = candidates(clamp(low), clamp(high));
        let from = candidates
            .iter()
            .copied()
            .filter(|&c| c <= clamp(low) * (1.0 + 1e-9))
            .fold(REACH.0, f64::max);
        let to = candidates
            .iter()
            .copied()
            .filter(|&c| c >= clamp(high) * (1.0 - 1e-9))
            .fold(REACH.1, f64::min);
        let mut ticks: Vec<f64> = candidates
            .into_iter()
            .filter(|&c| (from..=to).contains(&c))
            .collect();
        if ticks.len() > 9 {
            ticks.retain(|&t| (t.log10() - t.log10().round()).abs() < 1e-9);
        }
        let scale = Scale::linear((from.log10(), to.log10()), (plot.left, plot.right));
        LogAxis { scale, ticks }
    }

    /// The pixel of `ratio`, at the axis's end when beyond it.
    fn map(&self, ratio: f64) -> f64 {
        let (lo, hi) = self.scale.domain();
        self.scale
            .map(ratio.max(f64::MIN_POSITIVE).log10().clamp(lo, hi))
    }

    /// Grid lines and tick labels.
    fn draw(&self, plot: &Plot) -> String {
        grid(&self.ticks, plot, |t| self.map(t))
    }
}

/// Multiples 1, 2 and 5 of the powers of ten from below `low` to above `high`.
fn candidates(low: f64, high: f64) -> Vec<f64> {
    let (first, last) = (low.log10().floor() as i32, high.log10().ceil() as i32);
    (first..=last)
        .flat_map(|k| [1.0, 2.0, 5.0].map(|m| times_power_of_ten(m, k)))
        .collect()
}

/// `m` × 10^`k`, the double nearest its decimal value (0.001, not 0.0010000000000000002).
fn times_power_of_ten(m: f64, k: i32) -> f64 {
    if k >= 0 {
        m * 10_f64.powi(k)
    } else {
        m / 10_f64.powi(-k)
    }
}

/// The line of no difference, dashed, with what it means above the plot.
fn reference(axis: &Axis, plot: &Plot, chart: &Forest) -> String {
    let none = chart.none();
    let x = axis.map(none);
    let rule = line("reference", (x, plot.top - 4.0), (x, plot.bottom), INK)
        .attr("stroke-width", "1.5")
        .attr("stroke-dasharray", "4 3")
        .empty();
    let label = match chart.reference.as_str() {
        "" => format!("{none}"),
        m => format!("{none} = {m}"),
    };
    rule + &text(
        "reference-label",
        (x, plot.top - LINE / 2.0 - 2.0),
        Anchor::Middle,
        INK,
    )
    .at("font-size", SMALL)
    .wrap(&escape(&label))
}

/// A ratio's whisker and square marker.
fn row(ratio: &Ratio, axis: &Axis, centre: f64, pitch: f64) -> String {
    let mut out = String::new();
    if let Some((low, high)) = bounds(&ratio.estimate) {
        let (from, to) = ((axis.map(low), centre), (axis.map(high), centre));
        out += &whisker(Direction::Across, from, to, pitch * 0.4, INK);
    }
    let x = axis.map(ratio.estimate.value);
    let square = Tag::new("rect")
        .attr("class", "ratio")
        .at("x", x - MARKER / 2.0)
        .at("y", centre - MARKER / 2.0)
        .at("width", MARKER)
        .at("height", MARKER)
        .colour("fill", palette::series(0).0);
    out + &data(square, "", &ratio.estimate).wrap(&tooltip(
        &ratio.label,
        &ratio.estimate,
        &format(),
    ))
}

/// The `<desc>`: how many ratios, the highest and lowest, how many intervals exclude 1.
fn describe(ratios: &[&Ratio], chart: &Forest) -> String {
    let by_value = |a: &&&Ratio, b: &&&Ratio| a.estimate.value.total_cmp(&b.estimate.value);
    let (Some(max), Some(min)) = (
        ratios.iter().max_by(by_value),
        ratios.iter().min_by(by_value),
    ) else {
        return String::new();
    };
    let none = chart.none();
    let clear = ratios
        .iter()
        .filter(|r| bounds(&r.estimate).is_some_and(|(lo, hi)| lo > none || hi < none))
        .count();
    let scale = if chart.differences { "linear" } else { "log" };
    let written = |e: &Estimate| written(e, chart.differences);
    format!(
        "Forest chart of {} for {} items on a {scale} scale, {none} meaning {}; highest {} at {}, \
         lowest {} at {}; {clear} of the intervals exclude {none}.",
        chart.value_title,
        ratios.len(),
        if chart.reference.is_empty() {
            "no difference"
        } else {
            &chart.reference
        },
        max.label,
        written(&max.estimate),
        min.label,
        written(&min.estimate),
    )
}

fn table(ratios: &[&Ratio], value_title: &str) -> Table {
    let mut headers = vec!["item".to_string()];
    headers.extend(estimate_headers(value_title, ""));
    let mut table = Table::new(headers);
    for ratio in ratios {
        let mut row = vec![Entry::Text(ratio.label.clone())];
        row.extend(estimate_entries(&ratio.estimate, &format()));
        table.push(row);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticks(low: f64, high: f64) -> (Vec<f64>, (f64, f64)) {
        let plot = Plot {
            left: 0.0,
            top: 0.0,
            right: 100.0,
            bottom: 10.0,
        };
        let axis = LogAxis::new((low, high), &plot);
        let (lo, hi) = axis.scale.domain();
        (axis.ticks, (10_f64.powf(lo), 10_f64.powf(hi)))
    }

    #[test]
    fn log_ticks_are_one_two_five_and_thin_to_decades() {
        let (t, (lo, hi)) = ticks(0.7, 3.6);
        assert_eq!(t, [0.5, 1.0, 2.0, 5.0]);
        assert!((lo - 0.5).abs() < 1e-12 && (hi - 5.0).abs() < 1e-12);
        let (t, _) = ticks(1e-9, 40.0);
        assert_eq!(t, [0.001, 0.01, 0.1, 1.0, 10.0]);
    }
}
