use super::*;
use cxray_charts::{Bar, Bars, Format, Frame, bars};
use cxray_core::stats::Estimate;

fn drivers() -> Bars {
    Bars {
        bars: vec![
            Bar::new("Baggage", Estimate::unflagged(900, 0.4, Some((0.3, 0.5))))
                .in_group("external"),
            Bar::new("Check-in", Estimate::unflagged(0, 0.2, Some((0.15, 0.26)))),
            Bar::new("Boarding", 0.1),
        ],
        format: Format::Percent,
        value_title: Some("share of loyalty explained".into()),
    }
}

#[test]
fn bars_start_at_zero_and_scale_with_value() {
    let html = bars(&Frame::new("Drivers"), &drivers());
    let doc = parse(&html);
    let rects = find(&doc, "rect", "bar");
    check_marks(&rects, "data-value");
    let zero = grid_line(&doc, 0.0, "x1");
    assert!(rects.iter().all(|r| num(r, "x") == zero));
    let w: Vec<f64> = rects.iter().map(|r| num(r, "width")).collect();
    assert!(
        (w[0] / w[1] - 2.0).abs() < 1e-3 && (w[1] / w[2] - 2.0).abs() < 1e-3,
        "{w:?}"
    );
    assert_eq!(texts(&doc, "label"), ["Baggage", "Check-in", "Boarding"]);
    assert_eq!(texts(&doc, "value"), ["40%", "20%", "10%"]);
    assert_eq!(
        tooltip(&rects[0]),
        "Baggage (external): 40% (interval 30% to 50%), n = 900"
    );
}

#[test]
fn whiskers_span_the_interval_and_groups_are_marked() {
    let html = bars(&Frame::new("Drivers"), &drivers());
    let doc = parse(&html);
    let whiskers = find(&doc, "path", "whisker");
    assert_eq!(whiskers.len(), 2);
    let (x30, x50) = (
        grid_line(&doc, 0.0, "x1")
            + (grid_line(&doc, 0.5, "x1") - grid_line(&doc, 0.0, "x1")) * 0.6,
        grid_line(&doc, 0.5, "x1"),
    );
    let d = whiskers[0].attribute("d").unwrap();
    let start: Vec<f64> = d[1..]
        .split(['L', ',', 'M'])
        .take(3)
        .map(|v| v.parse().unwrap())
        .collect();
    assert!(
        (start[0] - x30).abs() < 0.02 && (start[2] - x50).abs() < 0.02,
        "{d}"
    );
    assert!(has_class(&find(&doc, "rect", "bar")[0], "group-external"));
    assert!(!has_class(&find(&doc, "rect", "bar")[1], "group-external"));
    assert_eq!(texts(&doc, "key-label"), ["external"]);
    let rows = check_figure(&doc, "Drivers");
    assert_eq!(
        rows[0],
        [
            "item",
            "share of loyalty explained",
            "low",
            "high",
            "n",
            "group"
        ]
    );
    assert_eq!(rows[3], ["Boarding", "10%", "—", "—", "—", "—"]);
}

#[test]
fn height_grows_with_bars_and_negatives_go_left() {
    let many = Bars {
        bars: (0..20)
            .map(|i| Bar::new(format!("t{i}"), i as f64 - 5.0))
            .collect(),
        ..Bars::default()
    };
    let few = Bars {
        bars: many.bars[..3].to_vec(),
        ..Bars::default()
    };
    let height = |b: &Bars| {
        let html = bars(&Frame::new("t"), b);
        num(
            &parse(&html)
                .descendants()
                .find(|n| n.has_tag_name("svg"))
                .unwrap(),
            "height",
        )
    };
    assert!(height(&many) > height(&few) + 400.0);
    let html = bars(&Frame::new("t"), &many);
    let doc = parse(&html);
    let zero = grid_line(&doc, 0.0, "x1");
    let first = &find(&doc, "rect", "bar")[0];
    assert_eq!(num(first, "data-value"), -5.0);
    assert!((num(first, "x") + num(first, "width") - zero).abs() < 0.02);
    assert_eq!(texts(&doc, "value")[0], "−5");
}

#[test]
fn money_is_written_by_the_chosen_format() {
    let chart = Bars {
        bars: vec![Bar::new("Baggage", 1_234_567.0)],
        format: Format::money("€"),
        ..Bars::default()
    };
    let html = bars(&Frame::new("Revenue at risk"), &chart);
    let doc = parse(&html);
    assert_eq!(texts(&doc, "value"), ["€1,234,567"]);
    assert!(
        texts(&doc, "tick")
            .iter()
            .any(|t| t.ends_with('M') && t.starts_with('€'))
    );
}
