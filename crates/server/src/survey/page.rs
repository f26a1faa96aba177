//! The survey page's HTML: the form (a fieldset per question, its answers as large
//! buttons, the scale's end words, a problem next to the question it concerns), the
//! notices (thanks, closed, a link that does not work) and the unsubscribe form — in the
//! respondent's language, with nothing loaded from elsewhere.

use std::fmt::Write;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use cxray_core::stats::Instrument;
use cxray_core::surveys::answer::{Given, Problem};
use cxray_core::surveys::texts::{Text, text};

use crate::html::escape;

const STYLE: &str = "
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1b1f24;background:#fff;font-size:1.05rem;line-height:1.4}
main{max-width:40rem;margin:0 auto;padding:1rem}
h1{font-size:1.35rem;margin:.3rem 0 .8rem}
fieldset{border:0;margin:0 0 1.1rem;padding:0}
legend{font-weight:600;padding:0;margin-bottom:.5rem}
.scale{display:grid;grid-template-columns:repeat(auto-fill,minmax(2.75rem,1fr));gap:.35rem}
.words{display:grid;gap:.35rem}
.opt{position:relative;display:block}
.opt input{appearance:none;-webkit-appearance:none;display:block;width:100%;min-height:2.75rem;margin:0;border:2px solid #57606a;border-radius:.5rem;background:#fff;cursor:pointer}
.opt span{position:absolute;inset:0;display:flex;align-items:center;justify-content:center;font-weight:600;pointer-events:none}
.words .opt span{justify-content:flex-start;padding-left:1rem}
.opt input:checked{background:#0550ae;border-color:#0550ae}
.opt input:checked+span{color:#fff}
.ends{display:flex;justify-content:space-between;gap:1rem;color:#57606a;font-size:.9rem;margin:.3rem 0 0}
.ends span:last-child{text-align:right}
label.comment{display:block;font-weight:600;margin-bottom:.4rem}
textarea{width:100%;font:inherit;padding:.5rem;border:2px solid #57606a;border-radius:.5rem}
button{font:inherit;font-weight:600;width:100%;min-height:3rem;border:0;border-radius:.5rem;background:#0550ae;color:#fff;cursor:pointer;margin-top:.4rem}
.error{color:#b3121f;font-weight:600;margin:.2rem 0 .5rem}
.summary{border-left:4px solid #b3121f;padding:.4rem .8rem;margin-bottom:1rem}
.foot{margin-top:1.5rem;font-size:.9rem}a{color:#0550ae}
input:focus-visible,textarea:focus-visible,button:focus-visible,a:focus-visible{outline:3px solid #bf3989;outline-offset:2px}
";

/// A whole page in `lang` with the survey's title and `body` (already HTML).
fn document(lang: &str, body: &str) -> String {
    let title = escape(text(lang, Text::Title));
    format!(
        "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{title}</title><style>{STYLE}</style>\
         </head><body><main><h1>{title}</h1>{body}</main></body></html>",
        lang = escape(lang),
    )
}

/// A page with one message: thanks, already answered, closed, a link that does not work.
pub(super) fn notice(status: StatusCode, lang: &str, message: Text) -> Response {
    let role = match status.is_success() {
        true => "status",
        false => "alert",
    };
    let body = format!("<p role=\"{role}\">{}</p>", escape(text(lang, message)));
    (status, Html(document(lang, &body))).into_response()
}

/// What the form shows besides the questions.
pub(super) struct Form<'a> {
    pub lang: &'a str,
    /// Where the form is posted.
    pub action: &'a str,
    pub questions: &'a [Instrument],
    pub comment: bool,
    /// The answers to fill in (a held answer, or a refused form's valid parts).
    pub given: &'a Given,
    /// The fields' problems; the comment's under `None`.
    pub problems: &'a [(Option<Instrument>, Problem)],
    /// A message above the form (a refused form, an expired one).
    pub alert: Option<Text>,
    /// The anonymous form's nonce.
    pub nonce: Option<&'a str>,
    /// The personal link's unsubscribe address.
    pub unsubscribe: Option<&'a str>,
}

/// The survey form.
pub(super) fn form(status: StatusCode, f: &Form) -> Response {
    let lang = f.lang;
    let mut body = String::with_capacity(8 << 10);
    let alert = f.alert.or((!f.problems.is_empty()).then_some(Text::Check));
    if let Some(alert) = alert {
        let _ = write!(
            body,
            "<div class=\"summary\" role=\"alert\"><p>{}</p></div>",
            escape(text(lang, alert))
        );
    }
    let _ = write!(
        body,
        "<form method=\"post\" action=\"{}\">",
        escape(f.action)
    );
    if let Some(nonce) = f.nonce {
        let _ = write!(
            body,
            "<input type=\"hidden\" name=\"nonce\" value=\"{}\">",
            escape(nonce)
        );
    }
    for &q in f.questions {
        let problem = problem(f.problems, Some(q));
        question(&mut body, lang, q, f.given.score(q), problem);
    }
    if f.comment {
        comment(&mut body, lang, &f.given.comment, problem(f.problems, None));
    }
    let _ = write!(
        body,
        "<button type=\"submit\">{}</button></form>",
        escape(text(lang, Text::Submit))
    );
    if let Some(href) = f.unsubscribe {
        let _ = write!(
            body,
            "<p class=\"foot\"><a href=\"{}\">{}</a></p>",
            escape(href),
            escape(text(lang, Text::Unsubscribe))
        );
    }
    (status, Html(document(lang, &body))).into_response()
}

fn problem(
    problems: &[(Option<Instrument>, Problem)],
    field: Option<Instrument>,
) -> Option<Problem> {
    problems.iter().find(|(f, _)| *f == field).map(|(_, p)| *p)
}

fn problem_text(p: Problem) -> Text {
    match p {
        Problem::Missing => Text::Required,
        Problem::Invalid => Text::Invalid,
        Problem::TooLong => Text::TooLong,
    }
}

/// A question's fieldset: the answers as buttons (the grade's as its five words, the
/// scales as numbers with the end words under them).
fn question(out: &mut String, lang: &str, q: Instrument, chosen: Option<u8>, p: Option<Problem>) {
    let name = q.name();
    let (lo, hi) = q.range();
    let words = q == Instrument::Grade;
    let mut described = Vec::new();
    if p.is_some() {
        described.push(format!("{name}-error"));
    }
    if !words {
        described.push(format!("{name}-ends"));
    }
    let described = match described.is_empty() {
        true => String::new(),
        false => format!(" aria-describedby=\"{}\"", described.join(" ")),
    };
    let _ = write!(
        out,
        "<fieldset id=\"q-{name}\"{described}><legend>{}</legend>",
        escape(text(lang, Text::Question(q)))
    );
    if let Some(p) = p {
        let _ = write!(
            out,
            "<p class=\"error\" id=\"{name}-error\">{}</p>",
            escape(text(lang, problem_text(p)))
        );
    }
    let class = if words { "words" } else { "scale" };
    let _ = write!(out, "<div class=\"{class}\">");
    // The grade's best answer first, as the report card reads.
    let scores: Vec<u8> = match words {
        true => (lo..=hi).rev().collect(),
        false => (lo..=hi).collect(),
    };
    for s in scores {
        let label = match words {
            true => escape(text(lang, Text::Grade(s as usize))),
            false => s.to_string(),
        };
        let checked = if chosen == Some(s) { " checked" } else { "" };
        let _ = write!(
            out,
            "<label class=\"opt\"><input type=\"radio\" name=\"{name}\" value=\"{s}\" required{checked}><span>{label}</span></label>"
        );
    }
    out.push_str("</div>");
    if !words {
        let _ = write!(
            out,
            "<p class=\"ends\" id=\"{name}-ends\"><span>{lo} = {}</span><span>{hi} = {}</span></p>",
            escape(text(lang, Text::Low(q))),
            escape(text(lang, Text::High(q)))
        );
    }
    out.push_str("</fieldset>");
}

fn comment(out: &mut String, lang: &str, given: &str, p: Option<Problem>) {
    let max = cxray_core::surveys::survey::MAX_COMMENT_CHARS;
    let _ = write!(
        out,
        "<p><label class=\"comment\" for=\"comment\">{}</label>",
        escape(text(lang, Text::Comment))
    );
    let described = match p {
        Some(p) => {
            let _ = write!(
                out,
                "<span class=\"error\" id=\"comment-error\">{}</span>",
                escape(text(lang, problem_text(p)))
            );
            " aria-describedby=\"comment-error\""
        }
        None => "",
    };
    let _ = write!(
        out,
        "<textarea id=\"comment\" name=\"comment\" rows=\"3\" maxlength=\"{max}\"{described}>{}</textarea></p>",
        escape(given)
    );
}

/// The unsubscribe confirmation: one question, one button.
pub(super) fn unsubscribe(lang: &str, action: &str) -> Response {
    let body = format!(
        "<form method=\"post\" action=\"{}\"><p>{}</p><button type=\"submit\">{}</button></form>",
        escape(action),
        escape(text(lang, Text::UnsubscribeAsk)),
        escape(text(lang, Text::Unsubscribe))
    );
    (StatusCode::OK, Html(document(lang, &body))).into_response()
}
