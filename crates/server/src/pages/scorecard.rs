//! The executive scorecard on one page: tiles for the customer figures beside revenue and
//! EBIT for one period (month, quarter or year), each with its interval, change against
//! the previous period and a year before, target and trend; the weakest areas with money.
//! The detailed trends follow, folded.

use cxray_analysis::board::{Board, Cadence, Change, Tile};
use cxray_analysis::metrics::MetricRow;
use cxray_analysis::scorecard::Scorecard;
use cxray_charts::{
    Format, Frame, Line, Point, Series, Sparkline, Target as Goal, line, sparkline,
};
use cxray_core::stats::Estimate;
use cxray_core::targets::{Headline, Progress, progress};
use cxray_core::text::{money_short, thousands};
use cxray_store::targets::Target;

use crate::html::{escape, figure, with_interval};

/// The scorecard's body for one cadence (the request's query kept in its period links);
/// `asked` stands beside the NPS (the NPS weighted to everyone asked, as HTML) and
/// `initiatives` (HTML) heads the folded details, so the page still fits one screen.
pub fn render(
    s: &Scorecard,
    targets: &[Target],
    view: (Cadence, Option<&str>),
    (asked, initiatives): (&str, &str),
) -> String {
    let (cadence, query) = view;
    let board = s.boards.iter().find(|b| b.cadence == cadence);
    let mut out = periods(cadence, board, query);
    out.push_str("<section class=\"tiles board\" aria-label=\"headline figures\">");
    let by_period = |f: Figure| board.and_then(|b| f.of(b).3).is_some();
    let tile_of = |f: Figure| {
        let note = if f == Figure::Nps { asked } else { "" };
        board_tile(board, f, s, targets, note)
    };
    out.push_str(&match by_period(Figure::Equity) {
        true => tile_of(Figure::Equity),
        false => equity_tile(s, targets),
    });
    out.push_str(&tile_of(Figure::Retention));
    out.push_str(&match by_period(Figure::RevenueAtRisk) {
        true => tile_of(Figure::RevenueAtRisk),
        false => risk_tile(s),
    });
    out.push_str(&match by_period(Figure::SatisfiedDefectors) {
        true => tile_of(Figure::SatisfiedDefectors),
        false => share_tile(s, targets),
    });
    for f in [Figure::Nps, Figure::Grade, Figure::Revenue, Figure::Ebit] {
        out.push_str(&tile_of(f));
    }
    out.push_str("</section>");
    out.push_str(&weak_areas(s));
    out.push_str(&notes(&s.notes));
    let summary = match initiatives.is_empty() {
        true => "Trends in detail",
        false => "Initiatives in progress and trends in detail",
    };
    out.push_str(&format!(
        "<details class=\"trends\"><summary>{summary}</summary>{initiatives}"
    ));
    out.push_str(&trend(
        "NPS by quarter",
        "nps",
        &s.nps,
        target_for(targets, Headline::Nps, s.as_of),
    ));
    out.push_str(&trend(
        "Grade point average by quarter",
        "grade",
        &s.grade,
        target_for(targets, Headline::Grade, s.as_of),
    ));
    out.push_str(&retention_chart(s));
    out.push_str(&financials(s));
    out.push_str("</details>");
    out
}

/// The period shown and links to the other cadences, keeping the view's filters.
fn periods(cadence: Cadence, board: Option<&Board>, query: Option<&str>) -> String {
    let kept: String = query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("period="))
        .map(|p| format!("{p}&"))
        .collect();
    let links: String = Cadence::ALL
        .iter()
        .map(|c| {
            let name = cadence_name(*c);
            let id = serde_json::to_value(c).ok();
            let id = id.as_ref().and_then(|v| v.as_str()).unwrap_or_default();
            match *c == cadence {
                true => format!("<strong aria-current=\"page\">{name}</strong>"),
                false => format!("<a href=\"?{}period={id}\">{name}</a>", escape(&kept)),
            }
        })
        .collect::<Vec<_>>()
        .join(" · ");
    let shown = board
        .and_then(|b| b.nps.as_ref().or(b.revenue.as_ref()))
        .map_or(String::new(), |t| {
            let p = escape(&t.period);
            format!(" Showing {p}. <a href=\"/report?period={p}\">Print / board pack</a>")
        });
    format!("<p class=\"periods\">Period: {links}.{shown}</p>")
}

fn cadence_name(c: Cadence) -> &'static str {
    match c {
        Cadence::Month => "month",
        Cadence::Quarter => "quarter",
        Cadence::Year => "year",
    }
}

/// The figures of a board.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Figure {
    Equity,
    Retention,
    RevenueAtRisk,
    SatisfiedDefectors,
    Nps,
    Grade,
    Revenue,
    Ebit,
}

impl Figure {
    /// In the order the board shows them.
    pub(crate) const ALL: [Figure; 8] = [
        Figure::Equity,
        Figure::Retention,
        Figure::RevenueAtRisk,
        Figure::SatisfiedDefectors,
        Figure::Nps,
        Figure::Grade,
        Figure::Revenue,
        Figure::Ebit,
    ];

    /// Title, key, the headline metric its targets are for, and the board's tile.
    pub(crate) fn of(
        self,
        b: &Board,
    ) -> (&'static str, &'static str, Option<Headline>, Option<&Tile>) {
        match self {
            Figure::Equity => (
                "Customer equity",
                "equity",
                Some(Headline::CustomerEquity),
                b.equity.as_ref(),
            ),
            Figure::RevenueAtRisk => (
                "Revenue at risk / year",
                "revenue_at_risk",
                None,
                b.revenue_at_risk.as_ref(),
            ),
            Figure::SatisfiedDefectors => (
                "Satisfied defectors",
                "satisfied_defectors",
                Some(Headline::SatisfiedDefectorShare),
                b.satisfied_defectors.as_ref(),
            ),
            Figure::Retention => (
                "Retention (12 months)",
                "retention",
                Some(Headline::Retention),
                b.retention.as_ref(),
            ),
            Figure::Nps => ("NPS", "nps", Some(Headline::Nps), b.nps.as_ref()),
            Figure::Grade => (
                "Grade point average",
                "grade",
                Some(Headline::Grade),
                b.grade.as_ref(),
            ),
            Figure::Revenue => ("Revenue", "revenue", None, b.revenue.as_ref()),
            Figure::Ebit => ("EBIT", "ebit", None, b.ebit.as_ref()),
        }
    }

    /// A value as shown, and a difference with its unit.
    pub(crate) fn text(self, v: f64, currency: Option<&str>) -> String {
        match self {
            Figure::Retention | Figure::SatisfiedDefectors => format!("{:.1}%", v * 100.0),
            Figure::Nps => format!("{v:.1}"),
            Figure::Grade => format!("{v:.2}"),
            Figure::Equity | Figure::RevenueAtRisk | Figure::Revenue | Figure::Ebit => {
                money_short(v, currency)
            }
        }
    }

    pub(crate) fn difference(self, d: f64, currency: Option<&str>) -> String {
        let sign = if d > 0.0 { "+" } else { "" };
        match self {
            Figure::Retention | Figure::SatisfiedDefectors => format!("{sign}{d:.1} pp"),
            Figure::Nps => format!("{sign}{d:.1}"),
            Figure::Grade => format!("{sign}{d:.2}"),
            Figure::Equity | Figure::RevenueAtRisk | Figure::Revenue | Figure::Ebit => {
                format!("{sign}{}", money_short(d, currency))
            }
        }
    }

    /// What the figure is, where its title does not say, before its period.
    fn what(self) -> &'static str {
        match self {
            Figure::Equity => "valued at the end of ",
            Figure::RevenueAtRisk => "measurable losses a year, latest known: ",
            Figure::SatisfiedDefectors => "of defectors who last answered in ",
            _ => "",
        }
    }

    /// A change's 95% interval as differences ("+1.0", "+5.2"), when it has one.
    pub(crate) fn bounds(self, c: &Change, currency: Option<&str>) -> Option<(String, String)> {
        let d = c.difference;
        let bound = |b| self.difference(b, currency);
        let interval = d.low.zip(d.high).filter(|(lo, hi)| lo < hi);
        interval.map(|(lo, hi)| (bound(lo), bound(hi)))
    }
}

/// A tile of the board: value (with `note` beside it), interval, changes, target and
/// trend.
fn board_tile(
    board: Option<&Board>,
    f: Figure,
    s: &Scorecard,
    targets: &[Target],
    note: &str,
) -> String {
    let Some(b) = board else {
        return String::new();
    };
    let (title, key, metric, tile_data) = f.of(b);
    let Some(t) = tile_data else {
        return tile(title, "—".into(), "no data for this period".into());
    };
    let currency = s.currency.as_deref();
    let cadence = cadence_name(b.cadence);
    let e = t.value;
    let mut detail = format!(
        "{}{} {}",
        f.what(),
        cadence_name_of(&t.period, cadence),
        escape(&t.period)
    );
    if let Some((lo, hi)) = e.interval().filter(|(lo, hi)| lo < hi) {
        let (lo, hi) = (f.text(lo, currency), f.text(hi, currency));
        detail.push_str(&format!(", 95% {} – {}", escape(&lo), escape(&hi)));
    }
    if e.n > 0 {
        detail.push_str(&format!(", n = {}", thousands(e.n)));
    }
    let changes: String = [&t.previous, &t.year_ago]
        .into_iter()
        .flatten()
        .map(|c| change(c, f, currency))
        .collect();
    let target = metric.map_or(String::new(), |m| {
        let target = target_for(targets, m, Some(t.start));
        format!("<div>{}</div>", against(m, target, e.low, e.high))
    });
    let shown = match f {
        Figure::RevenueAtRisk if e.value == 0.0 => "no measurable loss".into(),
        _ => f.text(e.value, currency),
    };
    let value = figure(&format!("board.{cadence}.{key}"), e.value, &shown) + note;
    tile(
        title,
        value,
        format!("{detail}{changes}{target}{}", spark(title, t)),
    )
}

/// "quarter 2025-Q2" (a month's retention is its quarter's).
fn cadence_name_of(period: &str, cadence: &str) -> &'static str {
    match (period.contains('Q'), cadence) {
        (true, _) => "quarter",
        (false, "month") => "month",
        _ => "year",
    }
}

/// A change against an earlier period, called one only beyond its interval.
fn change(c: &Change, f: Figure, currency: Option<&str>) -> String {
    let d = c.difference;
    let (class, words) = match (c.changed, d.value > 0.0) {
        (true, true) => ("up", "▲ up"),
        (true, false) => ("down", "▼ down"),
        (false, _) => ("same", "no change beyond the interval"),
    };
    let interval = f
        .bounds(c, currency)
        .map_or(String::new(), |(lo, hi)| format!(" (95% {lo} – {hi})"));
    format!(
        "<div class=\"change {class}\">vs {}: {}{} — {words}</div>",
        escape(&c.against),
        escape(&f.difference(d.value, currency)),
        escape(&interval)
    )
}

/// The tile's sparkline over its last periods.
fn spark(title: &str, t: &Tile) -> String {
    if t.trend.len() < 2 {
        return String::new();
    }
    let points = t
        .trend
        .iter()
        .map(|p| Point::new(p.period.clone(), p.value))
        .collect();
    let chart = Sparkline {
        points,
        x_title: Some("period".into()),
        ..Sparkline::default()
    };
    sparkline(
        &Frame::new(format!("{title}, last {} periods", t.trend.len())).size(140, 30),
        &chart,
    )
}

/// The target for a metric in the period holding `day` (a month's target before a
/// quarter's before a year's).
pub fn target_for(
    targets: &[Target],
    metric: Headline,
    day: Option<chrono::NaiveDate>,
) -> Option<&Target> {
    use chrono::Datelike;
    let day = day?;
    let mut matching: Vec<&Target> = targets
        .iter()
        .filter(|t| t.metric == metric && t.period.covers(day.year(), day.month()))
        .collect();
    matching.sort_by_key(|t| std::cmp::Reverse(t.period.as_str().len()));
    matching.first().copied()
}

fn tile(title: &str, value: String, detail: String) -> String {
    format!(
        "<article class=\"tile\"><h2>{}</h2><div class=\"big\">{value}</div><div class=\"detail\">{detail}</div></article>",
        escape(title)
    )
}

/// "target 30 (2025-Q2): met" with a class for colour.
fn against(
    metric: Headline,
    target: Option<&Target>,
    low: Option<f64>,
    high: Option<f64>,
) -> String {
    let Some(t) = target else {
        return "no target set".into();
    };
    let p = progress(metric, t.value, low, high);
    let (class, text) = match p {
        Progress::Met => ("met", "met"),
        Progress::NotMet => ("not_met", "not met"),
        Progress::Undecided => ("undecided", "not yet distinguishable"),
    };
    format!(
        "target {} ({}): <strong class=\"{class}\" data-key=\"{}.progress\">{text}</strong>",
        t.value,
        escape(t.period.as_str()),
        metric
    )
}

fn equity_tile(s: &Scorecard, targets: &[Target]) -> String {
    let Some(e) = &s.equity else {
        return tile(
            "Customer equity",
            "—".into(),
            "not valued yet: run cxray loyalty predict".into(),
        );
    };
    let m = e.money;
    let cur = s.currency.as_deref();
    let range = m.low.zip(m.high).map_or("—".into(), |(lo, hi)| {
        format!("{} – {}", money_short(lo, cur), money_short(hi, cur))
    });
    tile(
        "Customer equity",
        figure("equity", m.value, &money_short(m.value, cur)),
        format!(
            "as of {}: 95% {} (who is still a customer); {} customers, {} expected active; not tracked by period; {}",
            s.as_of.map_or("—".into(), |d| d.to_string()),
            escape(&range),
            cxray_core::text::thousands(e.customers),
            cxray_core::text::thousands(e.expected_alive.round() as u64),
            against(
                Headline::CustomerEquity,
                target_for(targets, Headline::CustomerEquity, s.as_of),
                m.low,
                m.high
            )
        ),
    )
}

fn share_text(key: &str, sh: &Estimate) -> (String, String) {
    (
        figure(key, sh.value, &format!("{:.1}%", sh.value * 100.0)),
        format!(
            "{} n = {}{}",
            with_interval(
                sh.value * 100.0,
                sh.low.map(|v| v * 100.0),
                sh.high.map(|v| v * 100.0),
                1
            ),
            cxray_core::text::thousands(sh.n),
            if sh.small_sample {
                " (small sample)"
            } else {
                ""
            }
        ),
    )
}

fn share_tile(s: &Scorecard, targets: &[Target]) -> String {
    let Some(sh) = &s.satisfied_defector_share else {
        return tile(
            "Satisfied defectors",
            "—".into(),
            "the satisfaction–loyalty link is not available".into(),
        );
    };
    let (value, detail) = share_text("satisfied_defector_share", sh);
    let metric = Headline::SatisfiedDefectorShare;
    tile(
        "Satisfied defectors",
        value,
        format!(
            "of defectors who had said they were satisfied, to {}: {detail}; not tracked by period; {}",
            s.as_of.map_or("—".into(), |d| d.to_string()),
            against(
                metric,
                target_for(targets, metric, s.as_of),
                sh.low,
                sh.high
            )
        ),
    )
}

fn risk_tile(s: &Scorecard) -> String {
    let Some(m) = s.revenue_at_risk else {
        return tile(
            "Revenue at risk / year",
            "—".into(),
            "needs customer values and the journey".into(),
        );
    };
    let cur = s.currency.as_deref();
    let range = m
        .estimate
        .low
        .zip(m.estimate.high)
        .filter(|_| m.measurable > 0);
    let range = range.map_or(String::new(), |(lo, hi)| {
        format!("95% {} – {}: ", money_short(lo, cur), money_short(hi, cur))
    });
    tile(
        "Revenue at risk / year",
        super::money::total("revenue_at_risk", &m, cur, true),
        format!(
            "{}customer value lost a year through bad experiences, {}",
            escape(&range),
            escape(&super::money::what_is_summed(&m))
        ),
    )
}

fn weak_areas(s: &Scorecard) -> String {
    if s.weak_areas.is_empty() {
        return "<h2>Top weak areas</h2><p class=\"note\">No touchpoint's loss is measurable yet: none is ranked.</p>".into();
    }
    let rows: Vec<Vec<String>> = s
        .weak_areas
        .iter()
        .map(|a| {
            vec![
                a.rank.map_or("—".into(), |r| r.to_string()),
                escape(&a.touchpoint),
                escape(
                    a.owner_name
                        .as_deref()
                        .or(a.owner.as_deref())
                        .unwrap_or("—"),
                ),
                super::journey::area_money(a, s.currency.as_deref()),
                format!("{:.1}% vs {:.1}%", a.failure_rate, a.target_rate),
            ]
        })
        .collect();
    format!(
        "<h2>Top weak areas</h2>{}",
        crate::html::table(
            "Up to three touchpoints with the most measurable customer value at risk a year",
            &[
                ("rank", true),
                ("touchpoint", false),
                ("owner", false),
                ("revenue at risk / year", true),
                ("failed vs target", true),
            ],
            &rows
        )
    )
}

/// A metric by quarter with its interval band and target.
fn trend(title: &str, key: &str, rows: &[MetricRow], target: Option<&Target>) -> String {
    let points: Vec<Point> = rows
        .iter()
        .filter_map(|r| {
            let label = r.group.get("quarter").cloned().flatten()?;
            let e = r.estimate;
            Some(Point::new(label, e))
        })
        .collect();
    let chart = Line {
        series: vec![Series::new(title, points)],
        target: target.map(|t| Goal::new(t.value, format!("target {}", t.period))),
        y_title: Some(title.into()),
        ..Line::default()
    };
    line(
        &Frame::new(title)
            .id(&format!("trend-{key}"))
            .caption(format!(
                "{title}, 95% intervals shaded; n per quarter in the numbers table."
            )),
        &chart,
    )
}

fn retention_chart(s: &Scorecard) -> String {
    let points: Vec<Point> = s
        .retention
        .iter()
        .map(|r| {
            let sh = r.retained;
            Point::new(r.quarter_end.to_string(), sh)
        })
        .collect();
    let chart = Line {
        series: vec![Series::new("retained", points)],
        format: Format::Percent,
        y_title: Some("share retained".into()),
        ..Line::default()
    };
    line(
        &Frame::new("Twelve-month retention by quarter")
            .id("trend-retention")
            .caption("Of the customers who bought in the year before the last, the share who bought again in the last year, at each quarter end; 95% Wilson intervals."),
        &chart,
    )
}

fn financials(s: &Scorecard) -> String {
    if s.financials.is_empty() {
        return crate::html::missing("Revenue and EBIT", "the financials table is empty");
    }
    let series = |name: &str, pick: fn(&cxray_analysis::scorecard::Financial) -> Option<f64>| {
        Series::new(
            name,
            s.financials
                .iter()
                .filter_map(|f| Some(Point::new(f.month.format("%Y-%m").to_string(), pick(f)?)))
                .collect(),
        )
    };
    let currency = s
        .financials
        .iter()
        .find_map(|f| f.currency.clone())
        .unwrap_or_default();
    let chart = Line {
        series: vec![series("revenue", |f| f.revenue), series("EBIT", |f| f.ebit)],
        format: Format::money(currency),
        y_title: Some("per month".into()),
        ..Line::default()
    };
    line(
        &Frame::new("Revenue and EBIT by month")
            .id("financials")
            .caption("The company's own figures (financials table), beside its customers."),
        &chart,
    )
}

fn notes(notes: &[String]) -> String {
    if notes.is_empty() {
        return String::new();
    }
    let items: String = notes
        .iter()
        .map(|n| format!("<li>{}</li>", escape(n)))
        .collect();
    format!("<h2>Not shown</h2><ul class=\"notes\">{items}</ul>")
}
