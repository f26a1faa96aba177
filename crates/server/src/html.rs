//! HTML building blocks: escaping and the page layout. Everything a page needs is in
//! the page itself (no external assets), so it works offline and prints cleanly.

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1b1f24;background:#fff}
header{background:#12263a;color:#fff;padding:.8rem 1.5rem;display:flex;gap:1.5rem;align-items:baseline}
header a{color:#fff;text-decoration:none;font-weight:600}
main{padding:1.5rem;max-width:72rem}
h1{font-size:1.4rem;margin:.2rem 0 1rem}
table{border-collapse:collapse;min-width:40rem}
th,td{padding:.35rem .8rem;border-bottom:1px solid #d0d7de;text-align:left}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
caption{text-align:left;color:#57606a;padding:.3rem 0}
p.note{color:#57606a}
@media print{header{background:none;color:#000}header a{color:#000}}
";

/// A whole page: the shared header, a title and the body (already HTML).
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t} · cxray</title><style>{STYLE}</style></head>\
         <body><header><a href=\"/\">cxray</a><nav aria-label=\"main\"><a href=\"/\">Data</a></nav></header>\
         <main><h1>{t}</h1>{body}</main></body></html>",
        t = escape(title)
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
}
