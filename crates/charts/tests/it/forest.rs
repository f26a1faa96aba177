use super::*;
use cxray_charts::{Forest, Frame, Ratio, forest};
use cxray_core::stats::Estimate;

fn odds() -> Forest {
    Forest {
        ratios: vec![
            Ratio::new(
                "Baggage",
                Estimate::unflagged(900, 2.89, Some((2.33, 3.59))),
            ),
            Ratio::new("Check-in", Estimate::unflagged(0, 1.0, Some((0.5, 2.0)))),
            Ratio::new(
                "Lounge",
                Estimate::unflagged(0, 0.25, Some((0.000_012, 0.727))),
            ),
        ],
        value_title: "odds ratio of leaving".into(),
        reference: "no difference".into(),
        differences: false,
    }
}

#[test]
fn ratios_sit_on_a_log_scale_with_the_line_at_one() {
    let html = forest(&Frame::new("Leaving"), &odds());
    let doc = parse(&html);
    let squares = find(&doc, "rect", "ratio");
    check_marks(&squares, "data-value");
    let centre = |n: &roxmltree::Node| num(n, "x") + num(n, "width") / 2.0;
    let one = grid_line(&doc, 1.0, "x1");
    let reference = &find(&doc, "line", "reference")[0];
    assert!((num(reference, "x1") - one).abs() < 0.01);
    assert!((centre(&squares[1]) - one).abs() < 0.01);
    // Equal ratios, equal distances: 0.25 is as far left of 1 as 4 would be right of it.
    let decade = one - grid_line(&doc, 0.1, "x1");
    assert!((centre(&squares[2]) - (one - decade * 4_f64.log10())).abs() < 0.05);
    assert!((centre(&squares[0]) - (one + decade * 2.89_f64.log10())).abs() < 0.05);
    assert_eq!(texts(&doc, "label"), ["Baggage", "Check-in", "Lounge"]);
    assert_eq!(texts(&doc, "reference-label"), ["1 = no difference"]);
    assert_eq!(
        texts(&doc, "value"),
        [
            "2.89 (2.33 – 3.59)",
            "1.00 (0.500 – 2.00)",
            "0.250 (< 0.001 – 0.727)"
        ]
    );
    assert_eq!(
        tooltip(&squares[0]),
        "Baggage: 2.89 (interval 2.33 to 3.59), n = 900"
    );
}

#[test]
fn small_bounds_are_never_zero_and_wide_intervals_end_at_the_axis() {
    let html = forest(&Frame::new("Leaving"), &odds());
    let doc = parse(&html);
    let rows = check_figure(&doc, "Leaving");
    assert_eq!(
        rows[0],
        ["item", "odds ratio of leaving", "low", "high", "n"]
    );
    assert_eq!(rows[3], ["Lounge", "0.250", "0.0000120", "0.727", "—"]);
    let ticks = texts(&doc, "tick");
    assert_eq!(ticks.first().map(String::as_str), Some("0.001"));
    let left = grid_line(&doc, 0.001, "x1");
    let whiskers = find(&doc, "path", "whisker");
    let d = whiskers[2].attribute("d").unwrap();
    let start: f64 = d[1..].split(',').next().unwrap().parse().unwrap();
    assert!((start - left).abs() < 0.01, "{d}");
    let desc = doc.descendants().find(|n| n.has_tag_name("desc")).unwrap();
    assert!(
        desc.text()
            .unwrap()
            .contains("2 of the intervals exclude 1"),
        "{:?}",
        desc.text()
    );
}

#[test]
fn ratios_that_are_not_positive_are_left_out_and_the_axis_ends_at_a_thousand() {
    let chart = Forest {
        ratios: vec![
            Ratio::new("wide", Estimate::unflagged(0, 1.5, Some((0.5, 5000.0)))),
            Ratio::new("zero", 0.0),
        ],
        ..Forest::default()
    };
    let html = forest(&Frame::new("f"), &chart);
    assert!(
        html.contains("Left out, not a finite number: zero."),
        "{html}"
    );
    let doc = parse(&html);
    assert_eq!(find(&doc, "rect", "ratio").len(), 1);
    assert_eq!(texts(&doc, "value"), ["1.50 (0.500 – > 1,000)"]);
    assert_eq!(
        texts(&doc, "tick").last().map(String::as_str),
        Some("1,000")
    );
}

#[test]
fn differences_sit_on_a_linear_scale_with_the_line_at_zero() {
    let chart = Forest {
        ratios: vec![
            Ratio::new("All cases", Estimate::unflagged(400, 4.0, Some((1.0, 7.0)))),
            Ratio::new(
                "Nordground",
                Estimate::unflagged(90, -2.0, Some((-8.0, 4.0))),
            ),
        ],
        value_title: "bought again, percentage points".into(),
        reference: "no difference".into(),
        differences: true,
    };
    let html = forest(&Frame::new("Effect"), &chart);
    let doc = parse(&html);
    let squares = find(&doc, "rect", "ratio");
    let centre = |n: &roxmltree::Node| num(n, "x") + num(n, "width") / 2.0;
    let zero = grid_line(&doc, 0.0, "x1");
    let reference = &find(&doc, "line", "reference")[0];
    assert!((num(reference, "x1") - zero).abs() < 0.01);
    // Equal differences, equal distances: +4 is twice as far right of 0 as −2 is left.
    let (right, left) = (centre(&squares[0]) - zero, zero - centre(&squares[1]));
    assert!(
        right > 0.0 && (right - 2.0 * left).abs() < 0.05,
        "{right} {left}"
    );
    assert_eq!(texts(&doc, "reference-label"), ["0 = no difference"]);
    assert_eq!(
        texts(&doc, "value"),
        ["4.00 (1.00 – 7.00)", "−2.00 (−8.00 – 4.00)"]
    );
    assert!(
        html.contains("on a linear scale, 0 meaning no difference"),
        "{html}"
    );
    assert!(html.contains("1 of the intervals exclude 0"), "{html}");
}
