use super::*;
use cxray_charts::*;
use cxray_core::stats::Estimate;

const EVIL: &str = "<script>alert('x')</script>&\"";

/// One figure of each kind, every text field holding `label`.
fn all_charts(label: &str) -> Vec<String> {
    let frame = Frame::new(label).caption(label);
    let series = Series::new(label, vec![Point::new(label, 1.0), Point::new("b", 2.0)]);
    let grid_chart = Grid {
        rows: [label.to_string()],
        columns: [label.to_string()],
        cells: [[GridCell {
            count: 1,
            money: Some(2.0),
        }]],
        row_title: label.into(),
        column_title: label.into(),
        money: Format::money(label),
    };
    let spot = Spot::new(label, 1.0, 2.0);
    let corner = label.to_string();
    let quad = Quadrant {
        corners: Corners {
            top_left: corner.clone(),
            top_right: corner.clone(),
            bottom_left: corner.clone(),
            bottom_right: corner,
        },
        x_title: label.into(),
        ..Quadrant::new(vec![spot], (0.0, 0.0))
    };
    vec![
        line(
            &frame,
            &Line {
                series: vec![
                    series.clone(),
                    Series::new("two", vec![Point::new("b", 3.0)]),
                ],
                target: Some(Target::new(1.5, label)),
                x_title: Some(label.into()),
                y_title: Some(label.into()),
                ..Line::default()
            },
        ),
        bars(
            &frame,
            &Bars {
                bars: vec![Bar::new(label, 1.0).in_group(label)],
                value_title: Some(label.into()),
                ..Bars::default()
            },
        ),
        quadrant(&frame, &quad),
        forest(
            &frame,
            &Forest {
                ratios: vec![Ratio::new(label, 2.0)],
                value_title: label.into(),
                reference: label.into(),
                differences: false,
            },
        ),
        grid(&frame, &grid_chart),
        sparkline(
            &frame,
            &Sparkline {
                points: series.points,
                ..Sparkline::default()
            },
        ),
        journey_map(&frame, &journey(label)),
    ]
}

/// A journey map with two cards and a hand-off, every text field holding `label`.
fn journey(label: &str) -> JourneyMap {
    let card = Card {
        label: label.into(),
        stage: label.into(),
        lane: label.into(),
        badge: label.into(),
        href: Some(label.into()),
        lines: vec![label.into()],
        standing: Standing::BelowTarget,
    };
    JourneyMap {
        cards: vec![card.clone(), card],
        handovers: vec![Handover {
            from: 0,
            to: 1,
            label: label.into(),
        }],
    }
}

#[test]
fn user_text_is_escaped_everywhere() {
    for html in all_charts(EVIL) {
        assert!(!html.contains("<script"), "{html}");
        let doc = parse(&html);
        let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
        assert!(texts.iter().any(|t| t.contains(EVIL)), "{html}");
    }
}

#[test]
fn control_characters_cannot_break_the_xml() {
    for html in all_charts("bell\u{7} and escape\u{1b}") {
        parse(&html);
    }
}

#[test]
fn output_is_deterministic() {
    assert_eq!(all_charts("same"), all_charts("same"));
    assert_ne!(all_charts("same"), all_charts("other"));
}

#[test]
fn numbers_that_are_not_finite_are_left_out_and_named() {
    let points = vec![
        Point::new("Jan", 10.0),
        Point::new("Feb", f64::NAN),
        Point::new(
            "Mar",
            Estimate::unflagged(0, 12.0, Some((f64::NEG_INFINITY, 14.0))),
        ),
        Point::new(f64::INFINITY, 3.0),
        Point::new("Apr", 11.0),
    ];
    let chart = Line {
        series: vec![Series::new("NPS", points)],
        target: Some(Target::new(f64::NAN, "goal")),
        ..Line::default()
    };
    let html = line(&Frame::new("NPS"), &chart);
    let lower = html.to_lowercase();
    assert!(!lower.contains("nan") && !lower.contains("inf"), "{html}");
    let doc = parse(&html);
    assert_eq!(find(&doc, "circle", "point").len(), 2);
    let note = find(&doc, "span", "left-out")[0]
        .text()
        .unwrap()
        .to_string();
    assert_eq!(
        note,
        "Left out, not a finite number: NPS Feb; NPS Mar; NPS (x not finite); target goal."
    );
    let bar = bars(
        &Frame::new("b"),
        &Bars {
            bars: vec![Bar::new("ok", 1.0), Bar::new("bad", f64::INFINITY)],
            ..Bars::default()
        },
    );
    assert!(bar.contains("Left out, not a finite number: bad."));
    let spot = Spot::new("neg", 1.0, 1.0).sized(-5.0);
    let quad = quadrant(
        &Frame::new("q"),
        &Quadrant::new(vec![spot], (f64::NAN, 0.0)),
    );
    assert!(
        quad.contains("No data") && quad.contains("neg; the dividing lines."),
        "{quad}"
    );
}

#[test]
fn no_data_gives_an_explicit_figure() {
    let frame = Frame::new("Empty");
    let empty = [
        line(&frame, &Line::default()),
        line(
            &frame,
            &Line {
                series: vec![Series::new("s", vec![Point::new("a", f64::NAN)])],
                ..Line::default()
            },
        ),
        bars(&frame, &Bars::default()),
        quadrant(&frame, &Quadrant::new(vec![], (0.0, 0.0))),
        forest(&frame, &Forest::default()),
        grid(
            &frame,
            &Grid::<0, 2> {
                rows: [],
                columns: ["a".into(), "b".into()],
                cells: [],
                row_title: "r".into(),
                column_title: "c".into(),
                money: Format::Number,
            },
        ),
        sparkline(&frame, &Sparkline::default()),
    ];
    for html in empty {
        let doc = parse(&html);
        assert_eq!(texts(&doc, "no-data"), ["No data"], "{html}");
        assert!(find(&doc, "details", "cx-numbers").is_empty());
        assert_eq!(
            doc.descendants()
                .find(|n| n.has_tag_name("desc"))
                .unwrap()
                .text(),
            Some("No data.")
        );
    }
}

#[test]
fn an_id_labels_the_svg() {
    let html = bars(
        &Frame::new("Drivers").id("Driver weights!").size(500, 200),
        &Bars {
            bars: vec![Bar::new("a", 1.0)],
            ..Bars::default()
        },
    );
    let doc = parse(&html);
    assert_eq!(doc.root_element().attribute("id"), Some("driver-weights"));
    let svg = doc.root_element().first_element_child().unwrap();
    assert_eq!(
        svg.attribute("aria-labelledby"),
        Some("driver-weights-title driver-weights-desc")
    );
    assert_eq!(svg.attribute("viewBox"), Some("0 0 500 200"));
    assert!(
        doc.descendants()
            .any(|n| n.attribute("id") == Some("driver-weights-desc"))
    );
}
