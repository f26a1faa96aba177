use super::*;
use cxray_charts::{Frame, Point, Sparkline, sparkline};

#[test]
fn sparkline_marks_the_last_point_only() {
    let chart = Sparkline {
        points: vec![
            Point::new(3.0, 12.0),
            Point::new(1.0, 10.0),
            Point::new(2.0, 15.0),
        ],
        ..Sparkline::default()
    };
    let html = sparkline(&Frame::new("NPS trend"), &chart);
    let doc = parse(&html);
    let rows = check_figure(&doc, "NPS trend");
    assert_eq!(rows.len(), 4);
    let svg = doc.descendants().find(|n| n.has_tag_name("svg")).unwrap();
    assert_eq!(svg.attribute("viewBox"), Some("0 0 160 40"));
    let points = find(&doc, "circle", "point");
    assert_eq!(points.len(), 1);
    assert_eq!(
        (num(&points[0], "data-x"), num(&points[0], "data-value")),
        (3.0, 12.0)
    );
    assert_eq!(num(&points[0], "cx"), 160.0 - 4.5);
    assert_eq!(find(&doc, "g", "axis").len(), 0);
    let line = &find(&doc, "path", "line")[0];
    assert_eq!(line.attribute("d"), Some("M4.5,35.5L80,4.5L155.5,23.1"));
}
