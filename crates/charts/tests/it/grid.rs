use super::*;
use cxray_charts::{Colour, Format, Frame, Grid, GridCell, grid};

fn report_card() -> Grid<2, 2> {
    let cell = |count, money| GridCell {
        count,
        money: Some(money),
    };
    Grid {
        rows: ["said satisfied".into(), "did not".into()],
        columns: ["stayed".into(), "defected".into()],
        cells: [
            [cell(600, 3_000_000.0), cell(250, 1_200_000.0)],
            [cell(50, 100_000.0), cell(100, 400_000.0)],
        ],
        row_title: "stated".into(),
        column_title: "did".into(),
        money: Format::money("€"),
    }
}

fn fill(node: &Node) -> Colour {
    let hex = u32::from_str_radix(&node.attribute("fill").unwrap()[1..], 16).unwrap();
    Colour((hex >> 16) as u8, (hex >> 8) as u8, hex as u8)
}

#[test]
fn cells_show_counts_shares_and_money() {
    let html = grid(&Frame::new("Report card"), &report_card());
    let doc = parse(&html);
    let rows = check_figure(&doc, "Report card");
    assert_eq!(rows[0], ["stated", "did", "count", "share", "money"]);
    assert_eq!(
        rows[2],
        ["said satisfied", "defected", "250", "25%", "€1,200,000"]
    );
    let cells = find(&doc, "rect", "cell");
    check_marks(&cells, "data-value");
    assert_eq!(
        cells
            .iter()
            .map(|c| num(c, "data-value"))
            .collect::<Vec<_>>(),
        [600.0, 250.0, 50.0, 100.0]
    );
    assert_eq!(texts(&doc, "count"), ["600", "250", "50", "100"]);
    assert_eq!(
        tooltip(&cells[1]),
        "said satisfied, defected: 250, 25%, €1,200,000"
    );
    let white = Colour(255, 255, 255);
    let darkness: Vec<f64> = cells.iter().map(|c| fill(c).contrast(white)).collect();
    assert!(
        darkness[0] > darkness[1] && darkness[1] > darkness[3] && darkness[3] > darkness[2],
        "{darkness:?}"
    );
    let first = &cells[0];
    let inside = |n: &Node| {
        let (x, y) = (num(n, "x"), num(n, "y"));
        let (left, top) = (num(first, "x"), num(first, "y"));
        x > left && x < left + num(first, "width") && y > top && y < top + num(first, "height")
    };
    let on_first: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text") && inside(n))
        .collect();
    assert_eq!(on_first.len(), 3, "count, share and money");
    assert!(
        on_first
            .iter()
            .all(|t| fill(t).contrast(fill(first)) >= 4.5)
    );
}

#[test]
fn empty_counts_are_unshaded() {
    let mut card = report_card();
    card.cells = [[GridCell {
        count: 0,
        money: None,
    }; 2]; 2];
    let html = grid(&Frame::new("Report card"), &card);
    let doc = parse(&html);
    let cells = find(&doc, "rect", "cell");
    assert!(cells.iter().all(|c| c.attribute("fill") == Some("#ffffff")));
    assert!(cells.iter().all(|c| c.attribute("data-share").is_none()));
}
