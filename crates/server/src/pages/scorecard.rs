//! The executive scorecard: the headline figures with intervals and targets, trends,
//! the weakest areas with money, and the company's own revenue and EBIT beside them.

use cxray_analysis::metrics::MetricRow;
use cxray_analysis::scorecard::Scorecard;
use cxray_charts::{Format, Frame, Line, Point, Series, Target as Goal, line};
use cxray_core::stats::Estimate;
use cxray_core::targets::{Headline, Progress, progress};
use cxray_store::targets::Target;

use crate::html::{escape, figure, money, money_range, with_interval};

/// The scorecard's body.
pub fn render(s: &Scorecard, targets: &[Target]) -> String {
    let mut out = String::from("<section class=\"tiles\" aria-label=\"headline figures\">");
    out.push_str(&equity_tile(s, targets));
    out.push_str(&retention_tile(s, targets));
    out.push_str(&metric_tile(
        "NPS",
        "nps",
        Headline::Nps,
        s.nps.last(),
        targets,
        1,
    ));
    out.push_str(&metric_tile(
        "Grade point average",
        "grade",
        Headline::Grade,
        s.grade.last(),
        targets,
        2,
    ));
    out.push_str(&share_tile(s, targets));
    out.push_str(&risk_tile(s));
    out.push_str("</section>");
    out.push_str(&weak_areas(s));
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
    out.push_str(&notes(&s.notes));
    out
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
    tile(
        "Customer equity",
        figure("equity", m.value, &money(m.value)),
        format!(
            "{} (who is still a customer); {} customers, {} expected active; {}",
            money_range(m.low, m.high),
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

fn retention_tile(s: &Scorecard, targets: &[Target]) -> String {
    let Some(r) = s.retention.last() else {
        return tile(
            "Retention (12 months)",
            "—".into(),
            "needs two years of purchases".into(),
        );
    };
    let (value, detail) = share_text("retention", &r.retained);
    let target = target_for(targets, Headline::Retention, Some(r.quarter_end));
    tile(
        "Retention (12 months)",
        value,
        format!(
            "to {}: {detail}; {}",
            r.quarter_end,
            against(Headline::Retention, target, r.retained.low, r.retained.high)
        ),
    )
}

fn metric_tile(
    title: &str,
    key: &str,
    metric: Headline,
    row: Option<&MetricRow>,
    targets: &[Target],
    decimals: usize,
) -> String {
    let Some(row) = row else {
        return tile(title, "—".into(), "no responses".into());
    };
    let e = &row.estimate;
    let period = row
        .group
        .get("quarter")
        .cloned()
        .flatten()
        .unwrap_or_default();
    let day = period.parse::<chrono::NaiveDate>().ok();
    tile(
        title,
        figure(key, e.value, &format!("{:.decimals$}", e.value)),
        format!(
            "quarter from {}: {}, n = {}{}; {}",
            escape(&period),
            with_interval(e.value, e.low, e.high, decimals),
            cxray_core::text::thousands(e.n),
            if e.small_sample {
                " (small sample)"
            } else {
                ""
            },
            against(metric, target_for(targets, metric, day), e.low, e.high)
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
            "of defectors who had said they were satisfied: {detail}; {}",
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
    tile(
        "Revenue at risk / year",
        super::money::total("revenue_at_risk", &m, cur, true),
        format!(
            "{}: customer value lost through bad experiences, {}",
            money_range(m.estimate.low, m.estimate.high),
            escape(&super::money::what_is_summed(&m))
        ),
    )
}

fn weak_areas(s: &Scorecard) -> String {
    if s.weak_areas.is_empty() {
        return String::new();
    }
    let rows: Vec<Vec<String>> = s
        .weak_areas
        .iter()
        .map(|a| {
            vec![
                a.rank.map_or("—".into(), |r| r.to_string()),
                escape(&a.touchpoint),
                escape(a.owner.as_deref().unwrap_or("—")),
                super::journey::area_money(a, s.currency.as_deref()),
                format!("{:.1}% vs {:.1}%", a.failure_rate, a.target_rate),
            ]
        })
        .collect();
    format!(
        "<h2>Top weak areas</h2>{}",
        crate::html::table(
            "The three touchpoints with the most customer value at risk a year",
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
