//! The journey map: stages left to right, one lane per owner, each touchpoint a card in
//! its stage's column and its owner's lane, framed by how it performs against its target
//! (colour and a marker symbol with words), with hand-offs as arrows between lanes.

use crate::data::LeftOut;
use crate::escape::escape;
use crate::figure::{Figure, Frame};
use crate::layout::{LINE, PAD, SMALL, Size};
use crate::palette::{AXIS, Colour, INK, MUTED, RULE, WHITE};
use crate::svg::{Anchor, Tag, coord, text, title};
use crate::table::{Entry, Table};

/// How a touchpoint performs against its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Better than its target, beyond the interval.
    OnTarget,
    /// Worse than its target, beyond the interval.
    BelowTarget,
    /// Not distinguishable from its target.
    Undecided,
    /// No target to compare with.
    NoTarget,
}

impl Standing {
    /// The words, marker, border and fill of a card.
    fn look(self) -> (&'static str, &'static str, Colour, Colour) {
        match self {
            Standing::OnTarget => ("on target", "✓", GREEN, Colour(0xe3, 0xf4, 0xee)),
            Standing::BelowTarget => ("below target", "✗", RED, Colour(0xfb, 0xe3, 0xd6)),
            Standing::Undecided => ("not distinguishable from target", "≈", AXIS, WHITE),
            Standing::NoTarget => ("no target", "–", RULE, WHITE),
        }
    }
}

/// Okabe–Ito bluish green and vermillion: told apart by colour-blind readers too.
pub(crate) const GREEN: Colour = Colour(0x00, 0x7a, 0x5a);
pub(crate) const RED: Colour = Colour(0xc2, 0x4e, 0x00);

/// One touchpoint card.
#[derive(Clone, Debug)]
pub struct Card {
    /// The touchpoint's name, the card's heading.
    pub label: String,
    /// Its stage (the column) and owner (the lane) as shown.
    pub stage: String,
    pub lane: String,
    /// The owner's kind, a badge: "team", "partner", "outside party".
    pub badge: String,
    /// Where the card leads (the touchpoint's or owner's page).
    pub href: Option<String>,
    /// Figures, one a line: volume, failure rate, money at risk.
    pub lines: Vec<String>,
    pub standing: Standing,
}

/// A hand-off from one card to another (indexes into the cards), with its label.
#[derive(Clone, Debug)]
pub struct Handover {
    pub from: usize,
    pub to: usize,
    pub label: String,
}

/// The cards in journey order (stages and lanes come in the order they first appear)
/// and the hand-offs between them.
#[derive(Clone, Debug, Default)]
pub struct JourneyMap {
    pub cards: Vec<Card>,
    pub handovers: Vec<Handover>,
}

const LANE_LABEL: f64 = 140.0;
const CARD: (f64, f64) = (150.0, 88.0);
const COLUMN: f64 = CARD.0 + 2.5 * PAD;
const HEADER: f64 = 2.0 * LINE;
/// Characters that fit on a card's line.
const FITS: usize = 19;

/// A journey map figure, as wide as its stages need.
pub fn journey_map(frame: &Frame, chart: &JourneyMap) -> String {
    let stages = firsts(chart.cards.iter().map(|c| c.stage.as_str()));
    let lanes = firsts(chart.cards.iter().map(|c| c.lane.as_str()));
    let width = LANE_LABEL + COLUMN * stages.len() as f64;
    // Each card's place in its cell's stack, and each lane's depth in cards.
    let mut stack = Vec::with_capacity(chart.cards.len());
    let mut depth = vec![1usize; lanes.len()];
    for (i, c) in chart.cards.iter().enumerate() {
        let above = chart.cards[..i]
            .iter()
            .filter(|o| o.stage == c.stage && o.lane == c.lane)
            .count();
        let lane = lanes.iter().position(|l| *l == c.lane).unwrap_or(0);
        depth[lane] = depth[lane].max(above + 1);
        stack.push((
            stages.iter().position(|s| *s == c.stage).unwrap_or(0),
            lane,
            above,
        ));
    }
    let pitch = CARD.1 + 2.0 * PAD;
    let tops: Vec<f64> = depth
        .iter()
        .scan(HEADER, |y, d| {
            let top = *y;
            *y += *d as f64 * pitch + PAD;
            Some(top)
        })
        .collect();
    let height = tops
        .last()
        .zip(depth.last())
        .map_or(HEADER, |(t, d)| t + *d as f64 * pitch + PAD);
    let size = frame.size_or(Size::new(width.ceil() as u32, height.ceil() as u32));
    if chart.cards.is_empty() {
        return Figure::empty(frame, "journey", size, LeftOut::default()).render();
    }
    let at = |i: usize| {
        let (col, lane, above) = stack[i];
        let x = LANE_LABEL + COLUMN * col as f64 + 1.25 * PAD;
        (x, tops[lane] + PAD + above as f64 * pitch)
    };
    let mut body = String::new();
    for (i, lane) in lanes.iter().enumerate() {
        body.push_str(&lane_band(lane, tops[i], depth[i] as f64 * pitch, width, i));
    }
    for (i, stage) in stages.iter().enumerate() {
        let x = LANE_LABEL + COLUMN * (i as f64 + 0.5);
        let t = text("stage", (x, LINE), Anchor::Middle, INK).attr("font-weight", "600");
        body.push_str(&t.wrap(&escape(&fit(stage))));
    }
    for h in chart
        .handovers
        .iter()
        .filter(|h| h.from.max(h.to) < chart.cards.len())
    {
        body.push_str(&arrow(h, at(h.from), at(h.to), &chart.cards));
    }
    for (i, c) in chart.cards.iter().enumerate() {
        body.push_str(&card(c, at(i)));
    }
    Figure {
        frame,
        kind: "journey",
        size,
        desc: describe(chart, &stages, &lanes),
        body,
        table: numbers(chart),
        left_out: LeftOut::default(),
    }
    .render()
}

/// The distinct items in the order they first come.
fn firsts<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// Text cut to fit a card's line, with an ellipsis.
fn fit(text: &str) -> String {
    match text.chars().count() > FITS {
        true => format!("{}…", text.chars().take(FITS - 1).collect::<String>()),
        false => text.to_string(),
    }
}

/// A lane: its band (every other one shaded) and the owner's name at the left.
fn lane_band(name: &str, top: f64, height: f64, width: f64, index: usize) -> String {
    let fill = if index.is_multiple_of(2) {
        "#f6f8fa"
    } else {
        "#ffffff"
    };
    let band = Tag::new("rect")
        .attr("class", "lane")
        .at("x", 0.0)
        .at("y", top)
        .at("width", width)
        .at("height", height + PAD)
        .attr("fill", fill)
        .empty();
    let label = text(
        "lane-label",
        (PAD, top + PAD + LINE / 2.0),
        Anchor::Start,
        INK,
    )
    .attr("font-weight", "600")
    .wrap(&escape(&fit(name)));
    format!("{band}{label}")
}

/// A card at `(x, y)`: frame, marker, heading, badge and figures, linked where it leads.
fn card(c: &Card, (x, y): (f64, f64)) -> String {
    let (words, marker, border, fill) = c.standing.look();
    let rect = Tag::new("rect")
        .attr("class", "card-frame")
        .at("x", x)
        .at("y", y)
        .at("width", CARD.0)
        .at("height", CARD.1)
        .attr("rx", "4")
        .colour("fill", fill)
        .colour("stroke", border)
        .attr(
            "stroke-width",
            if c.standing == Standing::NoTarget {
                "1"
            } else {
                "2.5"
            },
        )
        .empty();
    let left = x + PAD;
    let mut inner = format!("{}{rect}", title(&tooltip(c, words)));
    inner.push_str(
        &text("card-title", (left, y + LINE * 0.75), Anchor::Start, INK)
            .attr("font-weight", "600")
            .wrap(&escape(&fit(&c.label))),
    );
    inner.push_str(
        &text(
            "marker",
            (x + CARD.0 - PAD, y + LINE * 0.75),
            Anchor::End,
            border,
        )
        .attr("font-weight", "700")
        .wrap(&escape(marker)),
    );
    let badge = format!("{} · {words}", c.badge);
    inner.push_str(
        &text("badge", (left, y + LINE * 1.75), Anchor::Start, MUTED)
            .at("font-size", SMALL)
            .wrap(&escape(&fit(&badge))),
    );
    for (i, line) in c.lines.iter().take(3).enumerate() {
        let at = (left, y + LINE * (2.75 + i as f64));
        inner.push_str(&text("figure", at, Anchor::Start, INK).wrap(&escape(&fit(line))));
    }
    let class = format!("card {}", standing_class(c.standing));
    match &c.href {
        Some(href) => Tag::new("a")
            .attr("class", &class)
            .attr("href", href)
            .wrap(&inner),
        None => Tag::new("g").attr("class", &class).wrap(&inner),
    }
}

fn standing_class(s: Standing) -> &'static str {
    match s {
        Standing::OnTarget => "on-target",
        Standing::BelowTarget => "below-target",
        Standing::Undecided => "undecided",
        Standing::NoTarget => "no-target",
    }
}

fn tooltip(c: &Card, words: &str) -> String {
    format!(
        "{} ({}, {} {}, {}): {}",
        c.label,
        c.stage,
        c.badge,
        c.lane,
        words,
        c.lines.join(", ")
    )
}

/// A hand-off: a curve from the side of one card facing the other to the facing side of
/// the other (out to the right and back for cards in one column), with an arrowhead drawn
/// as a path (no shared marker ids) and its label, if any, at the middle.
fn arrow(h: &Handover, from: (f64, f64), to: (f64, f64), cards: &[Card]) -> String {
    let back = to.0 < from.0;
    let side =
        |(x, y): (f64, f64), right: bool| (x + if right { CARD.0 } else { 0.0 }, y + CARD.1 / 2.0);
    let (start, end) = (side(from, !back), side(to, back || to.0 == from.0));
    let out = if back { -1.0 } else { 1.0 };
    let bend = ((end.0 - start.0).abs() / 2.0).max(3.0 * PAD);
    let (c1, c2) = (start.0 + out * bend, end.0 - out * bend);
    let c2 = if to.0 == from.0 { end.0 + bend } else { c2 };
    let d = format!(
        "M{},{}C{},{} {},{} {},{}",
        coord(start.0),
        coord(start.1),
        coord(c1),
        coord(start.1),
        coord(c2),
        coord(end.1),
        coord(end.0),
        coord(end.1)
    );
    // The head points the way the curve arrives: rightwards unless it comes from the right.
    let tail = if c2 > end.0 { 7.0 } else { -7.0 };
    let head = format!(
        "M{},{}L{},{}L{},{}Z",
        coord(end.0),
        coord(end.1),
        coord(end.0 + tail),
        coord(end.1 - 4.0),
        coord(end.0 + tail),
        coord(end.1 + 4.0)
    );
    let (a, b) = (&cards[h.from], &cards[h.to]);
    let mut what = format!(
        "hand-off {} ({}) → {} ({})",
        a.label, a.lane, b.label, b.lane
    );
    if !h.label.is_empty() {
        what.push_str(&format!(": {}", h.label));
    }
    let mid = ((start.0 + end.0) / 2.0, (start.1 + end.1) / 2.0 - PAD);
    let label = match h.label.is_empty() {
        true => String::new(),
        false => text("handover-label", mid, Anchor::Middle, INK)
            .at("font-size", SMALL)
            .halo()
            .wrap(&escape(&h.label)),
    };
    let curve = Tag::new("path")
        .attr("d", &d)
        .attr("fill", "none")
        .colour("stroke", MUTED)
        .attr("stroke-width", "1.5")
        .empty();
    let tip = Tag::new("path")
        .attr("d", &head)
        .colour("fill", MUTED)
        .empty();
    Tag::new("g")
        .attr("class", "handover")
        .wrap(&format!("{}{curve}{tip}{label}", title(&what)))
}

/// The `<desc>`: stages in order, lanes, standings and hand-offs in words.
fn describe(chart: &JourneyMap, stages: &[&str], lanes: &[&str]) -> String {
    let below: Vec<&str> = chart
        .cards
        .iter()
        .filter(|c| c.standing == Standing::BelowTarget)
        .map(|c| c.label.as_str())
        .collect();
    format!(
        "Journey map of {} touchpoints in {} stages in order ({}), one lane per owner ({}); below target: {}; {} hand-offs between owners drawn as arrows.",
        chart.cards.len(),
        stages.len(),
        stages.join(", "),
        lanes.join(", "),
        if below.is_empty() {
            "none".to_string()
        } else {
            below.join(", ")
        },
        chart.handovers.len()
    )
}

/// The numbers table: each card's place, standing and figures.
fn numbers(chart: &JourneyMap) -> Table {
    let headers = [
        "touchpoint",
        "stage",
        "owner",
        "kind",
        "against target",
        "figures",
    ];
    let mut table = Table::new(headers.iter().map(|h| h.to_string()).collect());
    for c in &chart.cards {
        let text = |t: &str| Entry::Text(t.to_string());
        table.push(vec![
            text(&c.label),
            text(&c.stage),
            text(&c.lane),
            text(&c.badge),
            text(c.standing.look().0),
            text(&c.lines.join("; ")),
        ]);
    }
    table
}
