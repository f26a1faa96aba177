//! Satisfaction vs loyalty: the report-card quadrant, retention by NPS group, and how
//! well stated satisfaction and behaviour predict defection.

use cxray_analysis::metrics::{Defection, LinkReport};
use cxray_charts::{
    Bar, Bars, Format, Frame, Grid, GridCell, Line, Point, Series, X, bars, grid, line,
};

use crate::html::{escape, figure, table, with_interval};

/// The page's body.
pub fn render(r: &LinkReport) -> String {
    let o = &r.overall;
    let defection = match r.defection {
        Defection::Window => format!("no purchase within {} days after the answer", r.window_days),
        Defection::Palive { threshold } => format!("P(alive) below {threshold} at the data end"),
    };
    let mut out = format!(
        "<p>Defection: {}. {} respondents, {} defectors; answers up to {}, purchases up to {}.</p>",
        escape(&defection),
        figure(
            "respondents",
            o.respondents as f64,
            &cxray_core::text::thousands(o.respondents)
        ),
        figure(
            "defectors",
            o.defectors as f64,
            &cxray_core::text::thousands(o.defectors)
        ),
        r.statements_until,
        r.data_end
    );
    if let Some(sh) = &o.satisfied_defector_share {
        out.push_str(&format!(
            "<p>Of the defectors, {} said they were satisfied ({}, n = {}).</p>",
            figure(
                "satisfied_defector_share",
                sh.value,
                &format!("{:.1}%", sh.value * 100.0)
            ),
            with_interval(
                sh.value * 100.0,
                sh.low.map(|v| v * 100.0),
                sh.high.map(|v| v * 100.0),
                1
            ),
            sh.n
        ));
    }
    out.push_str(&quadrant(r));
    out.push_str(&retention(r));
    out.push_str(&prediction(r));
    for note in &r.notes {
        out.push_str(&format!("<p class=\"note\">{}</p>", escape(note)));
    }
    out
}

fn quadrant(r: &LinkReport) -> String {
    let cell = |satisfied: bool, defected: bool| {
        r.overall
            .quadrant
            .iter()
            .find(|c| c.satisfied == satisfied && c.defected == defected)
            .map_or(
                GridCell {
                    count: 0,
                    money: None,
                },
                |c| GridCell {
                    count: c.customers,
                    money: c.clv.or(Some(c.revenue)),
                },
            )
    };
    let chart = Grid {
        rows: ["said satisfied".into(), "said dissatisfied".into()],
        columns: ["stayed".into(), "defected".into()],
        cells: [
            [cell(true, false), cell(true, true)],
            [cell(false, false), cell(false, true)],
        ],
        row_title: "what they said".into(),
        column_title: "what they did".into(),
        money: Format::Number,
    };
    grid(
        &Frame::new("The report card")
            .id("report-card")
            .caption("Respondents by their last answer and what they then did; money is their summed CLV (revenue to date where customers are not valued)."),
        &chart,
    )
}

fn retention(r: &LinkReport) -> String {
    let series: Vec<Series> = r
        .overall
        .by_score
        .iter()
        .map(|g| {
            let points = g
                .retention
                .iter()
                .map(|p| {
                    let s = p.share;
                    Point::new(X::At(p.days as f64), s)
                })
                .collect();
            Series::new(g.group.clone(), points)
        })
        .collect();
    let chart = Line {
        series,
        format: Format::Percent,
        x_title: Some("days after the answer".into()),
        y_title: Some("still buying".into()),
        ..Line::default()
    };
    let rows: Vec<Vec<String>> = r
        .overall
        .by_score
        .iter()
        .map(|g| {
            let pct = |e: Option<&cxray_core::stats::Estimate>| {
                e.map_or("—".into(), |e| with_interval(e.value, e.low, e.high, 1))
            };
            vec![
                escape(&g.group),
                g.respondents.to_string(),
                g.defection.map_or("—".into(), |d| {
                    with_interval(
                        d.value * 100.0,
                        d.low.map(|v| v * 100.0),
                        d.high.map(|v| v * 100.0),
                        1,
                    )
                }),
                pct(g.alive.as_ref()),
                g.mean_clv
                    .as_ref()
                    .map_or("—".into(), |e| with_interval(e.value, e.low, e.high, 0)),
            ]
        })
        .collect();
    format!(
        "<h2>Retention by NPS group</h2>{}{}",
        line(
            &Frame::new("Share still buying after the answer")
                .id("retention-by-group")
                .caption("Per NPS group: the share of respondents still buying each number of days after their answer; 95% intervals."),
            &chart
        ),
        table(
            "Per group: defection, expected still customers (mean P(alive)) and mean CLV, 95% intervals",
            &[
                ("group", false),
                ("respondents", true),
                ("defected %", true),
                ("still customers %", true),
                ("mean CLV", true),
            ],
            &rows
        )
    )
}

fn prediction(r: &LinkReport) -> String {
    let p = &r.overall.prediction;
    let bar = |label: &str, e: Option<&cxray_core::stats::Estimate>| e.map(|e| Bar::new(label, *e));
    let chart = Bars {
        bars: [
            bar("stated score", p.auc_stated.as_ref()),
            bar("behaviour (loyalty model)", p.auc_behaviour.as_ref()),
            bar("both", p.auc_both.as_ref()),
        ]
        .into_iter()
        .flatten()
        .collect(),
        format: Format::Number,
        value_title: Some("AUC (0.5 = chance)".into()),
    };
    let diff = p.auc_behaviour_minus_stated.map_or(String::new(), |d| {
        format!(
            "<p>Behaviour minus stated: {}.</p>",
            with_interval(d.value, d.low, d.high, 3)
        )
    });
    format!(
        "<h2>What predicts defection</h2>{}{diff}",
        bars(
            &Frame::new("Predicting defection in the next window")
                .id("auc")
                .caption(format!(
                    "AUC with 95% DeLong intervals; {} respondents, {} defected.",
                    p.n, p.defectors
                )),
            &chart
        )
    )
}
