use super::*;
use cxray_charts::{Card, Frame, Handover, JourneyMap, Standing, journey_map};

fn card(label: &str, stage: &str, lane: &str, standing: Standing) -> Card {
    Card {
        label: label.into(),
        stage: stage.into(),
        lane: lane.into(),
        badge: "team".into(),
        href: Some(format!("/touchpoints/{label}")),
        lines: vec!["1,200 visits".into(), "failed 3.1%".into()],
        standing,
    }
}

fn map() -> JourneyMap {
    JourneyMap {
        cards: vec![
            card("check_in", "check-in", "Airport ops", Standing::OnTarget),
            card(
                "bag_drop",
                "bag drop",
                "Ground <handler> & \"co\"",
                Standing::BelowTarget,
            ),
            card("kiosk", "check-in", "Airport ops", Standing::Undecided),
            card("security", "security", "Airport ops", Standing::NoTarget),
        ],
        handovers: vec![
            Handover {
                from: 0,
                to: 1,
                label: "+2.0 pp failed".into(),
            },
            Handover {
                from: 1,
                to: 3,
                label: "+0.4 pp failed".into(),
            },
            Handover {
                from: 1,
                to: 9,
                label: "out of range".into(),
            },
        ],
    }
}

#[test]
fn stages_run_left_to_right_and_owners_get_lanes() {
    let html = journey_map(&Frame::new("Journey map").id("map"), &map());
    let doc = parse(&html);
    let rows = check_figure(&doc, "Journey map");
    assert_eq!(rows.len(), 5, "a header and one row a card");
    assert_eq!(texts(&doc, "stage"), ["check-in", "bag drop", "security"]);
    assert_eq!(
        texts(&doc, "lane-label"),
        ["Airport ops", "Ground <handler> &…"]
    );
    let cards = find(&doc, "a", "card");
    assert_eq!(cards.len(), 4);
    let frame = |i: usize| {
        let rect = cards[i]
            .children()
            .find(|c| c.has_tag_name("rect"))
            .unwrap();
        (num(&rect, "x"), num(&rect, "y"))
    };
    // Columns by stage in order; a second card of a cell stacks under the first; a
    // lane's cards sit in its band.
    assert!(frame(0).0 < frame(1).0 && frame(1).0 < frame(3).0);
    assert_eq!(frame(2).0, frame(0).0);
    assert!(frame(2).1 > frame(0).1);
    assert!(
        frame(1).1 > frame(2).1,
        "the second lane is below the first's stack"
    );
    assert_eq!(cards[0].attribute("href"), Some("/touchpoints/check_in"));
}

#[test]
fn standing_is_told_by_a_marker_and_words_not_colour_alone() {
    let doc_html = journey_map(&Frame::new("Journey map"), &map());
    let doc = parse(&doc_html);
    assert_eq!(texts(&doc, "marker"), ["✓", "✗", "≈", "–"]);
    let badges = texts(&doc, "badge");
    assert!(badges[0].ends_with("on target") && badges[1].ends_with("below target"));
    assert!(tooltip(&find(&doc, "a", "card")[1]).contains("below target"));
    let desc = doc.descendants().find(|n| n.has_tag_name("desc")).unwrap();
    assert!(desc.text().unwrap().contains("below target: bag_drop"));
}

#[test]
fn handovers_are_arrows_between_cards_and_bad_indexes_are_skipped() {
    let html = journey_map(&Frame::new("Journey map"), &map());
    let doc = parse(&html);
    let arrows = find(&doc, "g", "handover");
    assert_eq!(arrows.len(), 2);
    assert!(tooltip(&arrows[0]).starts_with("hand-off check_in (Airport ops) → bag_drop"));
    assert_eq!(
        texts(&doc, "handover-label"),
        ["+2.0 pp failed", "+0.4 pp failed"]
    );
}

#[test]
fn text_is_escaped_cut_to_fit_and_the_output_is_deterministic() {
    let mut m = map();
    m.cards[0].label = "a_touchpoint_with_a_very_long_name</text><script>".into();
    let html = journey_map(&Frame::new("<b>map</b>"), &m);
    assert!(!html.contains("<script>") && !html.contains("<b>"));
    let doc = parse(&html);
    let titles = texts(&doc, "card-title");
    assert_eq!(titles[0].chars().count(), 19);
    assert!(titles[0].ends_with('…'));
    assert_eq!(html, journey_map(&Frame::new("<b>map</b>"), &m));
}

#[test]
fn no_cards_say_no_data() {
    let html = journey_map(&Frame::new("Journey map"), &JourneyMap::default());
    assert!(
        parse(&html)
            .descendants()
            .any(|n| n.text() == Some("No data"))
    );
}
