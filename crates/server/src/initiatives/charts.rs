//! The charts of a measurement: the treated units' mean beside the comparison (untreated
//! mean or synthetic unit) by period, the treated line split at the start and the start
//! marked by a vertical line; and the event study's coefficients with their intervals.

use cxray_charts::{Forest, Frame, Line, Marker, Point, Ratio, Series, forest, line};
use cxray_core::initiatives::Measurement;
use cxray_core::stats::Estimate;

/// Treated against the comparison by period, the treated path before and from the start
/// as two lines.
pub fn paths(m: &Measurement, period: &dyn Fn(i64) -> String) -> String {
    if m.series.is_empty() {
        return String::new();
    }
    let start = m.start.unwrap_or(i64::MAX);
    let points = |pick: &dyn Fn(&cxray_core::initiatives::Point) -> Option<f64>,
                  keep: &dyn Fn(i64) -> bool| {
        m.series
            .iter()
            .filter(|p| keep(p.period))
            .filter_map(|p| Some(Point::new(period(p.period), Estimate::point(pick(p)?))))
            .collect::<Vec<_>>()
    };
    let series = vec![
        Series::new(
            "Treated, before the start",
            points(&|p| p.treated, &|t| t < start),
        ),
        Series::new(
            "Treated, from the start",
            points(&|p| p.treated, &|t| t >= start),
        ),
        Series::new("Comparison", points(&|p| p.comparison, &|_| true)),
    ];
    let starts = m
        .start
        .map_or("no start".into(), |s| format!("the start, {}", period(s)));
    let frame = Frame::new("Treated units against the comparison by period").caption(format!(
        "The treated units' mean by period beside the comparison (the untreated units' mean, \
         or the synthetic control); the treated line changes colour at {starts}, marked by a \
         vertical line."
    ));
    let chart = Line {
        series: series
            .into_iter()
            .filter(|s| !s.points.is_empty())
            .collect(),
        x_title: Some("period".into()),
        y_title: Some("outcome".into()),
        marker: m
            .start
            .map(|s| Marker::new(period(s).as_str(), format!("Start, {}", period(s)))),
        ..Line::default()
    };
    line(&frame, &chart)
}

/// The relative periods the event study's chart shows (the API has every one).
const SHOWN: std::ops::RangeInclusive<i64> = -8..=12;

/// The event study's coefficients with their 95% intervals against 0.
pub fn event_study(m: &Measurement) -> String {
    let ratios: Vec<Ratio> = m
        .event_study
        .iter()
        .filter(|c| SHOWN.contains(&c.relative))
        .map(|c| {
            let e = Estimate::unflagged(0, c.estimate, Some((c.low, c.high)));
            Ratio::new(format!("period {:+}", c.relative), e)
        })
        .collect();
    if ratios.is_empty() {
        return String::new();
    }
    let frame = Frame::new("Event study").caption(
        "The effect by period relative to the start (−1 is the reference; 8 before to 12 \
         after), with 95% intervals: leads before the start near 0 support the comparison.",
    );
    let chart = Forest {
        ratios,
        value_title: "difference from the comparison".into(),
        reference: "no difference".into(),
        differences: true,
    };
    forest(&frame, &chart)
}
