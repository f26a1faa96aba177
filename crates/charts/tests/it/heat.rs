use super::*;
use cxray_charts::{Format, heat, heat_legend};

#[test]
fn heat_text_is_readable_everywhere() {
    for i in 0..=200 {
        let shade = heat(f64::from(i), 0.0, 200.0);
        assert!(shade.ink.contrast(shade.fill) >= 4.5, "{shade:?}");
    }
    assert!(
        heat(0.9, 0.0, 1.0)
            .style()
            .starts_with("background-color:#")
    );
}

#[test]
fn legend_is_a_labelled_svg() {
    let svg = heat_legend("Performance", 0.5, 1.0, &Format::Percent);
    let doc = parse(&svg);
    let root = doc.root_element();
    assert_eq!(
        (root.tag_name().name(), root.attribute("role")),
        ("svg", Some("img"))
    );
    assert!(has_class(&root, "cx-heat-legend"));
    assert_eq!(
        root.first_element_child().unwrap().text(),
        Some("Performance")
    );
    assert_eq!(
        doc.descendants().filter(|n| n.has_tag_name("rect")).count(),
        10
    );
    assert_eq!(texts(&doc, "tick"), ["50%", "100%"]);
    let odd = heat_legend("x", f64::NAN, f64::INFINITY, &Format::Number);
    assert_eq!(texts(&parse(&odd), "tick"), ["lower", "higher"]);
}
