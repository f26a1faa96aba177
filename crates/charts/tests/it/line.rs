use super::*;
use cxray_charts::{Format, Frame, Line, Marker, Point, Series, Target, line};
use cxray_core::stats::Estimate;

const MONTHS: [&str; 12] = [
    "2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06", "2024-07", "2024-08",
    "2024-09", "2024-10", "2024-11", "2024-12",
];

fn nps() -> Line {
    let points = MONTHS
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let v = 30.0 + i as f64;
            Point::new(
                *m,
                Estimate::unflagged(400 + i as u64, v, Some((v - 4.0, v + 4.0))),
            )
        })
        .collect();
    Line {
        series: vec![Series::new("NPS", points)],
        target: Some(Target::new(40.0, "Target 40")),
        x_title: Some("month".into()),
        y_title: Some("NPS".into()),
        ..Line::default()
    }
}

fn retention() -> Line {
    let curve = |name: &str, rate: f64| {
        let points = [30.0, 90.0, 180.0, 270.0, 360.0]
            .iter()
            .map(|&d: &f64| Point::new(d, (-rate * d).exp()))
            .collect();
        Series::new(name, points)
    };
    Line {
        series: vec![
            curve("Promoters", 0.001),
            curve("Passives", 0.002),
            curve("Detractors", 0.004),
        ],
        format: Format::Percent,
        x_title: Some("days".into()),
        y_span: Some((0.0, 1.0)),
        ..Line::default()
    }
}

#[test]
fn nps_by_month_is_a_complete_figure() {
    let html = line(&Frame::new("NPS by month").caption("95% intervals"), &nps());
    let doc = parse(&html);
    let rows = check_figure(&doc, "NPS by month");
    assert_eq!(rows[0], ["month", "NPS", "low", "high", "n"]);
    assert_eq!(rows[1], ["2024-01", "30", "26", "34", "400"]);
    assert_eq!(rows.len(), 13);
    let points = find(&doc, "circle", "point");
    check_marks(&points, "data-value");
    assert_eq!(points.len(), 12);
    assert_eq!(
        tooltip(&points[0]),
        "NPS, 2024-01: 30 (interval 26 to 34), n = 400"
    );
    assert_eq!(find(&doc, "path", "band").len(), 1);
    assert_eq!(
        find(&doc, "g", "legend").len(),
        0,
        "one series needs no legend"
    );
    assert_eq!(texts(&doc, "target-label"), ["Target 40"]);
    assert!(html.contains("<figcaption>95% intervals</figcaption>"));
}

#[test]
fn a_marker_is_a_vertical_line_at_its_category_and_left_out_elsewhere() {
    let marked = Line {
        marker: Some(Marker::new("2024-09", "Start, 2024-09")),
        ..nps()
    };
    let html = line(&Frame::new("NPS by month"), &marked);
    let doc = parse(&html);
    let rules = find(&doc, "line", "marker");
    assert_eq!(rules.len(), 1);
    // At the ninth month's point, from the top of the plot to its bottom.
    let points = find(&doc, "circle", "point");
    assert!((num(&rules[0], "x1") - num(&points[8], "cx")).abs() < 1e-9);
    assert_eq!(num(&rules[0], "x1"), num(&rules[0], "x2"));
    assert!(num(&rules[0], "y1") < num(&rules[0], "y2"));
    assert_eq!(texts(&doc, "marker-label"), ["Start, 2024-09"]);
    assert!(html.contains("a vertical line at 2024-09: Start, 2024-09"));
    // A category the points do not have draws nothing and says so.
    let outside = Line {
        marker: Some(Marker::new("2025-01", "Start, 2025-01")),
        ..nps()
    };
    let html = line(&Frame::new("NPS by month"), &outside);
    assert!(find(&parse(&html), "line", "marker").is_empty());
    assert!(html.contains("Start, 2025-01"), "named as left out");
}

#[test]
fn values_map_linearly_from_the_bottom_of_the_plot() {
    let points = [0.0, 50.0, 100.0]
        .iter()
        .enumerate()
        .map(|(i, &v)| Point::new(MONTHS[i], v))
        .collect();
    let chart = Line {
        series: vec![Series::new("s", points)],
        ..Line::default()
    };
    let html = line(&Frame::new("t"), &chart);
    let doc = parse(&html);
    let (bottom, top) = (grid_line(&doc, 0.0, "y1"), grid_line(&doc, 100.0, "y1"));
    let lines = find(&doc, "line", "grid");
    assert_eq!(
        lines.iter().map(|l| num(l, "y1")).fold(0.0, f64::max),
        bottom,
        "0 is the lowest line"
    );
    assert!(top < bottom);
    let cy: Vec<f64> = find(&doc, "circle", "point")
        .iter()
        .map(|c| num(c, "cy"))
        .collect();
    assert_eq!(cy, [bottom, (bottom + top) / 2.0, top]);
    let cx: Vec<f64> = find(&doc, "circle", "point")
        .iter()
        .map(|c| num(c, "cx"))
        .collect();
    assert!((cx[1] - cx[0] - (cx[2] - cx[1])).abs() < 0.02, "{cx:?}");
}

#[test]
fn axis_ticks_are_nice() {
    let points = vec![Point::new("a", 3.0), Point::new("b", 97.0)];
    let chart = Line {
        series: vec![Series::new("s", points)],
        ..Line::default()
    };
    let html = line(&Frame::new("t"), &chart);
    let doc = parse(&html);
    let ticks = find(&doc, "g", "axis-y")[0]
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap().to_string())
        .collect::<Vec<_>>();
    assert_eq!(ticks, ["0", "20", "40", "60", "80", "100"]);
}

#[test]
fn target_line_sits_at_its_value() {
    let html = line(&Frame::new("NPS"), &nps());
    let doc = parse(&html);
    let target = &find(&doc, "line", "target")[0];
    assert_eq!(num(target, "data-value"), 40.0);
    let at_40 = find(&doc, "circle", "point")
        .into_iter()
        .find(|c| num(c, "data-value") == 40.0)
        .unwrap();
    assert_eq!(num(target, "y1"), num(&at_40, "cy"));
    assert_eq!(tooltip(target), "Target 40: 40");
}

#[test]
fn retention_curves_have_numeric_x_and_a_legend() {
    let html = line(&Frame::new("Retention"), &retention());
    let doc = parse(&html);
    assert_eq!(
        texts(&doc, "key-label"),
        ["Promoters", "Passives", "Detractors"]
    );
    assert_eq!(find(&doc, "g", "series").len(), 3);
    let dashes: Vec<_> = find(&doc, "path", "line")
        .iter()
        .map(|p| p.attribute("stroke-dasharray"))
        .collect();
    assert_eq!(dashes, [Some(""), Some("6 3"), Some("2 2")]);
    let first: Vec<_> = find(&doc, "circle", "point").into_iter().take(5).collect();
    let x = |n: &Node| num(n, "cx");
    assert_eq!(num(&first[0], "data-x"), 30.0);
    let ratio = (x(&first[2]) - x(&first[0])) / (x(&first[4]) - x(&first[0]));
    assert!(
        (ratio - 150.0 / 330.0).abs() < 1e-3,
        "day 180 sits 150/330 of the way: {ratio}"
    );
    assert!(
        grid_line(&doc, 0.0, "y1") > grid_line(&doc, 1.0, "y1"),
        "y axis spans 0 to 1"
    );
    assert!(texts(&doc, "tick").contains(&"100%".to_string()));
    let rows = check_figure(&doc, "Retention");
    assert_eq!(rows[0], ["series", "days", "value"]);
    assert_eq!(rows[1], ["Promoters", "30", "97%"]);
}

#[test]
fn crowded_month_labels_are_thinned() {
    let points = (0..48)
        .map(|i| Point::new(format!("{}-{:02}", 2021 + i / 12, i % 12 + 1), i as f64))
        .collect();
    let chart = Line {
        series: vec![Series::new("revenue", points)],
        format: Format::money("€"),
        ..Line::default()
    };
    let html = line(&Frame::new("Revenue"), &chart);
    let doc = parse(&html);
    let labels = find(&doc, "g", "axis-x")[0]
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .count();
    assert!(labels > 4 && labels < 48, "{labels} labels");
    assert_eq!(find(&doc, "circle", "point").len(), 48);
}
