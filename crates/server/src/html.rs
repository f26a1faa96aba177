//! HTML building blocks: escaping, the page layout and the small pieces every page uses.
//! Everything a page needs is in the page itself (no external assets), so it works
//! offline and prints cleanly.

pub use cxray_charts::escape;
pub use cxray_core::text::{money, with_interval};

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1b1f24;background:#fff}
header{background:#12263a;color:#fff;padding:.6rem 1.5rem;display:flex;gap:1.2rem;align-items:baseline;flex-wrap:wrap}
header a{color:#fff;text-decoration:none;font-weight:600}
header nav{display:flex;flex-wrap:wrap;column-gap:.8rem}header nav a{font-weight:400;white-space:nowrap;font-size:.95rem}
header nav a[aria-current=page]{text-decoration:underline}
header form{margin-left:auto}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dl.facts dt{font-weight:600}dl.facts dd{margin:0}
blockquote{border-left:4px solid #d0d7de;margin:.4rem 0;padding:.2rem .8rem}
main{padding:1.5rem;max-width:76rem}
h1{font-size:1.4rem;margin:.2rem 0 .3rem}
h2{font-size:1.1rem;margin:1.6rem 0 .6rem}
p.asof{color:#57606a;margin:0 0 1rem}
table{border-collapse:collapse;margin:.4rem 0}.scroll{overflow-x:auto;max-width:100%}
th,td{padding:.3rem .7rem;border-bottom:1px solid #d0d7de;text-align:left;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
caption{text-align:left;color:#57606a;padding:.3rem 0}
p.note,ul.notes{color:#57606a}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(15rem,1fr));gap:.8rem}
.tile{border:1px solid #d0d7de;border-radius:6px;padding:.7rem .9rem}
.tile h2{font-size:.9rem;margin:0 0 .3rem;color:#57606a;font-weight:600}
.tile .big{font-size:1.6rem;font-weight:650;font-variant-numeric:tabular-nums}
.tile .big .asked{display:inline-block;vertical-align:middle;margin-left:.6rem;font-size:.75rem;font-weight:400;line-height:1.25;color:#57606a}
.tile .detail{color:#57606a;font-size:.85rem}
.met{color:#1a7f37}.not_met{color:#cf222e}.undecided{color:#9a6700}
.board{grid-template-columns:repeat(auto-fill,minmax(16rem,1fr))}
.board .tile figure{margin:.3rem 0 0}.board .tile figcaption,.board .tile .cx-numbers{display:none}
.change{font-size:.8rem}.change.up,.change.down{color:#1b1f24;font-weight:600}
p.periods{margin:.2rem 0 .6rem}details.loss{display:inline}details.loss summary{cursor:pointer}
@page{size:A4 landscape;margin:10mm}
figure{margin:.8rem 0}figcaption{color:#57606a;font-size:.9rem}
form.filters{display:flex;gap:.6rem;flex-wrap:wrap;align-items:end;margin:.4rem 0 1rem}
form.filters label{display:flex;flex-direction:column;font-size:.8rem;color:#57606a}
.missing{border-left:4px solid #9a6700;padding:.3rem .8rem;background:#fff8c5}
nav.sections{display:flex;gap:1rem;flex-wrap:wrap;margin:0 0 1rem}form.admin{max-width:36rem}p.field label,fieldset legend{display:block;font-weight:600}.hint{display:block;color:#57606a;font-size:.85rem}.error{display:block;color:#cf222e}form.row{display:inline-block;margin:0 .4rem .2rem 0}fieldset{border:1px solid #d0d7de}.done{border-left:4px solid #1a7f37;padding:.3rem .8rem;background:#dafbe1}code.secret{font-size:1.1rem;user-select:all}
section.pack+section.pack{break-before:page}.pack p.periods{display:none}
@media print{.pack svg.cx-svg{max-height:150mm}#pack-weak-areas svg.cx-svg{max-height:70mm}.pack td,.pack th{padding:.1rem .5rem}}
:focus-visible{outline:3px solid #0969da;outline-offset:1px}header :focus-visible{outline-color:#fff}
@media print{body{font-size:9pt}header{padding:0 .5rem}main{padding:.3rem .5rem}h1{font-size:1.1rem;margin:0}h2{margin:.5rem 0 .2rem}p.periods{display:none}.board{grid-template-columns:repeat(4,1fr);gap:.4rem}.board .tile{padding:.3rem .5rem}.board .tile .detail{font-size:.75rem}.tile .big{font-size:1.2rem}header nav,header form,form.filters,details:not(.loss){display:none}header{background:none;color:#000}header a{color:#000}main{max-width:none}.tile{break-inside:avoid}}
";

/// The pages of the main navigation: path and name.
pub const NAV: &[(&str, &str)] = &[
    ("/", "Scorecard"),
    ("/link", "Satisfaction vs loyalty"),
    ("/journey", "Journey map"),
    ("/areas", "Weak areas"),
    ("/drivers", "Drivers"),
    ("/owners", "Owners"),
    ("/cases", "Cases"),
    ("/surveys", "Surveys"),
    ("/comments", "Comments"),
    ("/initiatives", "Initiatives"),
    ("/customers", "Customers"),
    ("/data", "Data"),
];

/// What the layout needs to know besides the content.
pub struct Layout<'a> {
    /// The path of the page (marks the current navigation entry).
    pub path: &'a str,
    /// The navigation entries this reader may open.
    pub nav: Vec<(&'static str, &'static str)>,
    /// Who is signed in, and the form token for signing out.
    pub user: Option<(&'a str, &'a str)>,
    /// "As of" line under the title.
    pub as_of: Option<String>,
}

/// A page outside the signed-in layout — a refusal, a page that is not there — with its
/// status, title and message.
pub fn notice(
    status: axum::http::StatusCode,
    title: &str,
    message: &str,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let layout = Layout {
        path: "",
        nav: vec![("/", "Home")],
        user: None,
        as_of: None,
    };
    let body = format!("<p role=\"alert\">{}</p>", escape(message));
    (status, axum::response::Html(page(&layout, title, &body))).into_response()
}

/// A whole page: the shared header, a title and the body (already HTML).
pub fn page(layout: &Layout, title: &str, body: &str) -> String {
    let nav: String = layout
        .nav
        .iter()
        .map(|(href, name)| {
            let current = if *href == layout.path {
                " aria-current=\"page\""
            } else {
                ""
            };
            format!("<a href=\"{href}\"{current}>{name}</a>")
        })
        .collect();
    let user = layout.user.map_or(String::new(), |(name, csrf)| {
        format!(
            "<form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <span>{}</span> <button type=\"submit\">Sign out</button></form>",
            escape(csrf),
            escape(name)
        )
    });
    let as_of = layout.as_of.as_deref().map_or(String::new(), |a| {
        format!("<p class=\"asof\">{}</p>", escape(a))
    });
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t} · cxray</title><style>{STYLE}</style></head>\
         <body><header><a href=\"/\">cxray</a><nav aria-label=\"main\">{nav}</nav>{user}</header>\
         <main><h1>{t}</h1>{as_of}{body}</main></body></html>",
        t = escape(title)
    )
}

/// A figure as text with its raw value for machines: `<data value=…>`; `key` names the
/// figure (browser tests compare it with the API's).
pub fn figure(key: &str, value: f64, text: &str) -> String {
    format!(
        "<data data-key=\"{}\" value=\"{value}\">{}</data>",
        escape(key),
        escape(text)
    )
}

/// `text` with its first letter in upper case.
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map_or(String::new(), |c| c.to_uppercase().chain(chars).collect())
}

/// A box saying what could not be shown and why.
pub fn missing(what: &str, why: &str) -> String {
    format!(
        "<p class=\"missing\" role=\"note\"><strong>{}</strong> is not available: {}</p>",
        escape(what),
        escape(why)
    )
}

/// A table with a caption, header cells (numeric ones right-aligned) and rows of HTML
/// cells (already escaped), scrolling sideways where it is wider than the page.
pub fn table(caption: &str, headers: &[(&str, bool)], rows: &[Vec<String>]) -> String {
    let head: String = headers
        .iter()
        .map(|(h, num)| {
            let class = if *num { " class=\"num\"" } else { "" };
            format!("<th scope=\"col\"{class}>{}</th>", escape(h))
        })
        .collect();
    let body: String = rows
        .iter()
        .map(|row| {
            let cells: String = row
                .iter()
                .zip(headers)
                .map(|(c, (_, num))| {
                    let class = if *num { " class=\"num\"" } else { "" };
                    format!("<td{class}>{c}</td>")
                })
                .collect();
            format!("<tr>{cells}</tr>")
        })
        .collect();
    format!(
        "<div class=\"scroll\" tabindex=\"0\"><table><caption>{}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>",
        escape(caption)
    )
}

/// A select of the filter form: "all" and the options (value, name).
pub fn select(
    name: &str,
    label: &str,
    current: Option<&str>,
    options: &[(String, String)],
) -> String {
    let opts: String = options
        .iter()
        .map(|(value, text)| {
            let selected = if current == Some(value.as_str()) {
                " selected"
            } else {
                ""
            };
            format!(
                "<option value=\"{}\"{selected}>{}</option>",
                escape(value),
                escape(text)
            )
        })
        .collect();
    format!(
        "<label>{}<select name=\"{}\"><option value=\"\">all</option>{opts}</select></label>",
        escape(label),
        escape(name)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<script>alert('x')</script> & \""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;"
        );
    }

    #[test]
    fn figures_carry_their_value() {
        assert_eq!(
            figure("nps", 12.5, "12.5 <x>"),
            "<data data-key=\"nps\" value=\"12.5\">12.5 &lt;x&gt;</data>"
        );
        assert_eq!(money(-1234.4), "−1,234");
        assert_eq!(
            with_interval(1.0, Some(0.5), Some(1.5), 1),
            "1.0 (0.5 – 1.5)"
        );
    }
}
