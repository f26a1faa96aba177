//! The figure around every chart: SVG with title and description, caption, numbers.

use crate::data::LeftOut;
use crate::escape::escape;
use crate::layout::{FONT, FONT_FAMILY, Size};
use crate::palette::MUTED;
use crate::svg::{Anchor, Tag, text, token};
use crate::table::Table;

/// What every chart has besides its data: a title, a caption, a size and an id.
#[derive(Clone, Debug)]
pub struct Frame {
    title: String,
    caption: Option<String>,
    size: Option<Size>,
    id: Option<String>,
}

impl Frame {
    /// A frame titled `title` (the SVG's accessible name), default size, no caption.
    pub fn new(title: impl Into<String>) -> Frame {
        Frame {
            title: title.into(),
            caption: None,
            size: None,
            id: None,
        }
    }

    /// The visible caption under the chart (the title when not given).
    pub fn caption(self, caption: impl Into<String>) -> Frame {
        Frame {
            caption: Some(caption.into()),
            ..self
        }
    }

    /// The chart's size in pixels, instead of its chart's default.
    pub fn size(self, width: u32, height: u32) -> Frame {
        Frame {
            size: Some(Size::new(width, height)),
            ..self
        }
    }

    /// An id for the figure (made of ASCII letters, digits and hyphens); its title and
    /// description get `{id}-title` and `{id}-desc` and label the SVG.
    pub fn id(self, id: &str) -> Frame {
        let id = token(id);
        Frame {
            id: (!id.is_empty()).then_some(id),
            ..self
        }
    }

    /// The title.
    pub(crate) fn title(&self) -> &str {
        &self.title
    }

    /// The chosen size, or `default`.
    pub(crate) fn size_or(&self, default: Size) -> Size {
        self.size.unwrap_or(default)
    }
}

/// A chart ready to be written out as a figure.
#[derive(Debug)]
pub(crate) struct Figure<'a> {
    pub(crate) frame: &'a Frame,
    /// The chart kind, for the `cx-{kind}` class.
    pub(crate) kind: &'static str,
    pub(crate) size: Size,
    /// The `<desc>`: what the chart shows, in a sentence or two.
    pub(crate) desc: String,
    /// SVG markup inside the `<svg>`.
    pub(crate) body: String,
    pub(crate) table: Table,
    pub(crate) left_out: LeftOut,
}

impl<'a> Figure<'a> {
    /// A figure that says there are no data to draw.
    pub(crate) fn empty(
        frame: &'a Frame,
        kind: &'static str,
        size: Size,
        left_out: LeftOut,
    ) -> Figure<'a> {
        let body = text(
            "no-data",
            (size.width() / 2.0, size.height() / 2.0),
            Anchor::Middle,
            MUTED,
        )
        .wrap("No data");
        Figure {
            frame,
            kind,
            size,
            desc: "No data.".into(),
            body,
            table: Table::default(),
            left_out,
        }
    }

    /// The HTML `<figure>`.
    pub(crate) fn render(&self) -> String {
        let id = self.frame.id.as_deref();
        let svg = svg(
            self.size,
            id,
            "cx-svg",
            &self.frame.title,
            &self.desc,
            &self.body,
        );
        let figure =
            named(Tag::new("figure"), id, "").attr("class", &format!("cx-chart cx-{}", self.kind));
        figure.wrap(&format!("{svg}{}{}", self.caption(), self.numbers()))
    }

    fn caption(&self) -> String {
        let caption = self.frame.caption.as_deref().unwrap_or(&self.frame.title);
        let note = self.left_out.note().map_or(String::new(), |note| {
            format!(
                " {}",
                Tag::new("span")
                    .attr("class", "left-out")
                    .wrap(&escape(&note))
            )
        });
        Tag::new("figcaption").wrap(&format!("{}{note}", escape(caption)))
    }

    fn numbers(&self) -> String {
        if self.table.is_empty() {
            return String::new();
        }
        Tag::new("details")
            .attr("class", "cx-numbers")
            .wrap(&format!(
                "<summary>Numbers</summary>{}",
                self.table.render()
            ))
    }
}

/// `tag` with the id `{id}{suffix}`, when there is an id.
fn named(tag: Tag, id: Option<&str>, suffix: &str) -> Tag {
    match id {
        Some(id) => tag.attr("id", &format!("{id}{suffix}")),
        None => tag,
    }
}

/// A standalone `<svg>` of `size` and `class` with a `<title>` and `<desc>` (labelling it,
/// by id when there is one) around `body`: an image, or a group when `body` holds links
/// (an image's content is not reachable by keyboard).
pub(crate) fn svg(
    size: Size,
    id: Option<&str>,
    class: &str,
    title: &str,
    desc: &str,
    body: &str,
) -> String {
    let (w, h) = (size.width(), size.height());
    let mut svg = Tag::new("svg")
        .attr("xmlns", "http://www.w3.org/2000/svg")
        .attr("class", class)
        .attr("role", if body.contains("<a ") { "group" } else { "img" })
        .attr("viewBox", &format!("0 0 {w} {h}"))
        .at("width", w)
        .at("height", h)
        .attr("font-family", FONT_FAMILY)
        .at("font-size", FONT)
        .attr("style", "max-width:100%;height:auto");
    svg = match id {
        Some(id) => svg.attr("aria-labelledby", &format!("{id}-title {id}-desc")),
        None => svg.attr("aria-label", title),
    };
    svg.wrap(&format!(
        "{}{}{body}",
        named(Tag::new("title"), id, "-title").wrap(&escape(title)),
        named(Tag::new("desc"), id, "-desc").wrap(&escape(desc)),
    ))
}
