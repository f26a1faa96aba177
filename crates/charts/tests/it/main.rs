//! Integration tests: each chart's figure parsed as XML and checked for structure,
//! coordinates, escaping and determinism.

mod bars;
mod forest;
mod grid;
mod heat;
mod journey;
mod line;
mod quadrant;
mod safety;
mod sparkline;

use roxmltree::{Document, Node};

/// Parses a figure, failing the test with the markup when it is not well-formed.
pub fn parse(html: &str) -> Document<'_> {
    Document::parse(html).unwrap_or_else(|e| panic!("not well-formed XML ({e}):\n{html}"))
}

/// Whether `node` has `class` among its classes.
pub fn has_class(node: &Node, class: &str) -> bool {
    node.attribute("class")
        .is_some_and(|c| c.split(' ').any(|t| t == class))
}

/// Elements named `name` with `class`, in document order.
pub fn find<'a>(doc: &'a Document, name: &str, class: &str) -> Vec<Node<'a, 'a>> {
    doc.descendants()
        .filter(|n| n.has_tag_name(name) && has_class(n, class))
        .collect()
}

/// The texts of `<text>` elements with `class`.
pub fn texts(doc: &Document, class: &str) -> Vec<String> {
    find(doc, "text", class)
        .iter()
        .map(|n| n.text().unwrap_or_default().to_string())
        .collect()
}

/// A numeric attribute.
pub fn num(node: &Node, attr: &str) -> f64 {
    let value = node
        .attribute(attr)
        .unwrap_or_else(|| panic!("no {attr} on {node:?}"));
    value
        .parse()
        .unwrap_or_else(|_| panic!("{attr}={value} is not a number"))
}

/// The y (or x) of the grid line at tick `value`.
pub fn grid_line(doc: &Document, value: f64, attr: &str) -> f64 {
    let lines = find(doc, "line", "grid");
    let line = lines.iter().find(|l| num(l, "data-tick") == value);
    num(
        line.unwrap_or_else(|| panic!("no grid line at {value}")),
        attr,
    )
}

/// The text of a `<title>` child.
pub fn tooltip(node: &Node) -> String {
    let title = node.children().find(|c| c.has_tag_name("title"));
    title
        .and_then(|t| t.text())
        .unwrap_or_else(|| panic!("no title in {node:?}"))
        .to_string()
}

/// Checks what every figure has, returning the body rows of its numbers table.
pub fn check_figure(doc: &Document, title: &str) -> Vec<Vec<String>> {
    let figure = doc.root_element();
    assert_eq!(figure.tag_name().name(), "figure");
    assert!(has_class(&figure, "cx-chart"));
    let kids: Vec<Node> = figure.children().filter(Node::is_element).collect();
    let names: Vec<&str> = kids.iter().map(|k| k.tag_name().name()).collect();
    assert_eq!(names, ["svg", "figcaption", "details"]);
    let svg = kids[0];
    assert_eq!(
        svg.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    // An image, or a group when it holds links (an image's links are not reachable).
    let links = svg.descendants().any(|n| n.tag_name().name() == "a");
    let role = if links { "group" } else { "img" };
    assert_eq!(svg.attribute("role"), Some(role));
    assert!(
        svg.attribute("viewBox")
            .is_some_and(|v| v.starts_with("0 0 "))
    );
    let first: Vec<Node> = svg.children().filter(Node::is_element).take(2).collect();
    assert_eq!(first[0].tag_name().name(), "title");
    assert_eq!(first[0].text(), Some(title));
    assert_eq!(first[1].tag_name().name(), "desc");
    assert!(first[1].text().is_some_and(|d| d.len() > 20));
    let details = kids[2];
    let summary = details.first_element_child().expect("summary");
    assert_eq!(
        (summary.tag_name().name(), summary.text()),
        ("summary", Some("Numbers"))
    );
    let rows = details.descendants().filter(|n| n.has_tag_name("tr"));
    rows.map(|tr| {
        tr.children()
            .filter(Node::is_element)
            .map(|c| c.text().unwrap_or_default().to_string())
            .collect()
    })
    .collect()
}

/// Checks that every data mark has a tooltip and its raw number.
pub fn check_marks(marks: &[Node], attr: &str) {
    assert!(!marks.is_empty());
    for mark in marks {
        assert!(!tooltip(mark).is_empty());
        assert!(num(mark, attr).is_finite());
    }
}
