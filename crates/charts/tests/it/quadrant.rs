use super::*;
use cxray_charts::{Format, Frame, Quadrant, Spot, quadrant};
use cxray_core::stats::Estimate;

fn areas() -> Quadrant {
    let spots = vec![
        Spot::new(
            "Baggage",
            Estimate::unflagged(0, 0.6, Some((0.55, 0.65))),
            Estimate::unflagged(0, 0.3, Some((0.2, 0.4))),
        )
        .sized(4_000_000.0),
        Spot::new("Check-in", 0.9, 0.25).sized(1_000_000.0),
        Spot::new("Lounge", 0.95, 0.02).sized(0.0),
        Spot::new("Meals", 0.7, 0.05),
    ];
    Quadrant {
        x_format: Format::Percent,
        size_title: "revenue at risk".into(),
        size_format: Format::money("€"),
        ..Quadrant::new(spots, (0.8, 0.1))
    }
}

#[test]
fn quadrant_has_captions_dividers_and_members() {
    let html = quadrant(&Frame::new("Weak areas"), &areas());
    let doc = parse(&html);
    let rows = check_figure(&doc, "Weak areas");
    assert_eq!(
        texts(&doc, "corner"),
        ["Fix first", "Keep up", "Low priority", "Possible overkill"]
    );
    let desc = doc
        .descendants()
        .find(|n| n.has_tag_name("desc"))
        .unwrap()
        .text()
        .unwrap();
    assert!(
        desc.contains("Fix first: Baggage. Keep up: Check-in."),
        "{desc}"
    );
    assert!(
        desc.contains("Low priority: Meals. Possible overkill: Lounge."),
        "{desc}"
    );
    let dividers = find(&doc, "line", "divider");
    assert_eq!(
        dividers
            .iter()
            .map(|d| num(d, "data-value"))
            .collect::<Vec<_>>(),
        [0.8, 0.1]
    );
    let x_at = |v: f64| {
        let (a, b) = (grid_line(&doc, 0.6, "x1"), grid_line(&doc, 0.9, "x1"));
        a + (v - 0.6) / 0.3 * (b - a)
    };
    assert!((num(&dividers[0], "x1") - x_at(0.8)).abs() < 0.02);
    assert_eq!(rows[1][0], "Baggage");
    assert_eq!(rows[1].last().unwrap(), "Fix first");
    assert!(rows[0].contains(&"revenue at risk".to_string()));
}

#[test]
fn point_areas_are_proportional_to_size() {
    let html = quadrant(&Frame::new("Weak areas"), &areas());
    let doc = parse(&html);
    let spots = find(&doc, "circle", "spot");
    check_marks(&spots, "data-x");
    let by = |label: &str| {
        spots
            .iter()
            .find(|s| tooltip(s).starts_with(label))
            .unwrap()
            .to_owned()
    };
    let (big, small) = (num(&by("Baggage"), "r"), num(&by("Check-in"), "r"));
    assert!(((big / small).powi(2) - 4.0).abs() < 0.01, "{big} {small}");
    assert_eq!(
        num(&by("Lounge"), "r"),
        2.0,
        "zero size keeps a visible minimum"
    );
    assert!(
        num(&spots[0], "r") >= num(&spots[1], "r"),
        "large points drawn first"
    );
    let baggage = by("Baggage");
    assert_eq!(
        (
            num(&baggage, "data-x-low"),
            num(&baggage, "data-y-high"),
            num(&baggage, "data-size")
        ),
        (0.55, 0.4, 4_000_000.0)
    );
    assert_eq!(
        tooltip(&baggage),
        "Baggage: performance 60% (interval 55% to 65%); importance 0.3 (interval 0.2 to 0.4); revenue at risk €4,000,000"
    );
    assert_eq!(find(&doc, "path", "whisker").len(), 2);
}
