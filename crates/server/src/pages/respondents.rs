//! Who answers: the NPS as answered beside the NPS weighted to everyone asked, with the
//! method named — a line in the scorecard's NPS tile, and on the satisfaction–loyalty
//! page the whole comparison of responders with non-responders.

use cxray_analysis::surveys::respondents::WhoAnswers;
use cxray_core::stats::Estimate;
use cxray_core::stats::weighting::Weighted;
use cxray_core::text::{significant_with_interval, thousands};

use crate::html::{escape, figure, missing, table, with_interval};
use crate::snapshot::PartError;

/// What the section is called where it is missing.
const WHAT: &str = "The NPS of everyone asked";

/// Beside the scorecard's NPS: the NPS of all answers as answered and weighted to
/// everyone asked, linking to the details (two short lines).
pub fn in_tile(r: &Result<WhoAnswers, PartError>) -> String {
    let text = match r {
        Ok(w) => {
            let (answered, weighted) = (&w.answered, &w.weighted.nps);
            format!(
                "all answers {}, <a href=\"/link#who-answers\">weighted</a><br>{}",
                figure("answered_nps", answered.value, &one(answered.value)),
                figure(
                    "weighted_nps",
                    weighted.value,
                    &with_interval(weighted.value, weighted.low, weighted.high, 1)
                ),
            )
        }
        Err(_) => "<a href=\"/link#who-answers\">weighted</a>: —".into(),
    };
    format!("<span class=\"asked\">{text}</span>")
}

/// The satisfaction–loyalty page's section: both figures, then who answers by what is
/// known of everyone asked.
pub fn render(r: &Result<WhoAnswers, PartError>) -> String {
    let body = match r {
        Ok(w) => [
            figures(w),
            post_stratified(w),
            levels(w),
            means(w),
            notes(w),
        ]
        .concat(),
        Err(e) => missing(WHAT, &e.message),
    };
    format!(
        "<section aria-labelledby=\"who-answers\"><h2 id=\"who-answers\">Who answers</h2>{body}</section>"
    )
}

/// "NPS as answered −1.8 (…); weighted to everyone asked 4.4 (…)", the method, and the
/// response rate.
fn figures(w: &WhoAnswers) -> String {
    let h = &w.weighted;
    format!(
        "<p>NPS as answered {} ({}); <strong>weighted to everyone asked {}</strong> ({}).</p>\
         <p class=\"note\">Method: {} from a logistic model on {}; effective n {} of {} answers. \
         {} of {} asked answered{} (asked: {}).</p>",
        figure("answered_nps", w.answered.value, &one(w.answered.value)),
        nps(&w.answered),
        figure("weighted_nps", h.nps.value, &one(h.nps.value)),
        nps(&h.nps),
        escape(h.method.label()),
        escape(&h.covariates.join(", ")),
        thousands(h.effective_n.round() as u64),
        thousands(h.responded),
        thousands(w.responded),
        thousands(w.invited),
        w.response_rate
            .as_ref()
            .map_or(String::new(), |r| format!(", {}%", percent(r))),
        escape(w.invited_by.label()),
    )
}

/// The same population by post-stratification, as a check on the headline.
fn post_stratified(w: &WhoAnswers) -> String {
    let p: &Weighted = &w.post_stratified;
    let unrepresented = match p.unrepresented {
        0 => String::new(),
        n => format!(
            " ({} asked in cells where nobody answered are not represented)",
            thousands(n)
        ),
    };
    format!(
        "<p>By {} on the same variables: {}; effective n {}{}.</p>",
        escape(p.method.label()),
        nps(&p.nps),
        thousands(p.effective_n.round() as u64),
        unrepresented
    )
}

/// Each level's share among responders and non-responders, and its response rate.
fn levels(w: &WhoAnswers) -> String {
    let rows: Vec<Vec<String>> = w
        .levels
        .iter()
        .map(|l| {
            vec![
                escape(&l.covariate),
                escape(&l.level),
                l.among_responders.as_ref().map_or("—".into(), percent),
                l.among_non_responders.as_ref().map_or("—".into(), percent),
                l.response_rate.as_ref().map_or("—".into(), percent),
            ]
        })
        .collect();
    table(
        "Responders and non-responders by what is known of everyone asked (%, 95% Wilson intervals)",
        &[
            ("", false),
            ("", false),
            ("Share of responders", true),
            ("Share of non-responders", true),
            ("Response rate", true),
        ],
        &rows,
    )
}

/// The numeric covariates' means among responders and non-responders.
fn means(w: &WhoAnswers) -> String {
    let mean = |e: Option<&Estimate>| {
        e.map_or("—".into(), |e| {
            significant_with_interval(e.value, e.low, e.high, 3)
        })
    };
    let rows: Vec<Vec<String>> = w
        .means
        .iter()
        .map(|m| {
            vec![
                escape(&m.measure),
                mean(m.responders.as_ref()),
                mean(m.non_responders.as_ref()),
            ]
        })
        .collect();
    match rows.is_empty() {
        true => String::new(),
        false => table(
            "Means among responders and non-responders (95% intervals)",
            &[("", false), ("Responders", true), ("Non-responders", true)],
            &rows,
        ),
    }
}

/// What is left out of the weighting, and why.
fn notes(w: &WhoAnswers) -> String {
    let linked = (w.answers_not_linked > 0).then(|| {
        format!(
            "{} answers follow no trip asked and are left out.",
            thousands(w.answers_not_linked)
        )
    });
    let constant = w
        .weighted
        .constant
        .iter()
        .map(|c| format!("Not weighted on {c}: every trip asked has the same value."));
    let left_out = w.left_out.iter().map(|n| format!("Not weighted on {n}."));
    linked
        .into_iter()
        .chain(constant)
        .chain(left_out)
        .map(|n| format!("<p class=\"note\">{}</p>", escape(&n)))
        .collect()
}

fn one(v: f64) -> String {
    format!("{v:.1}")
}

/// An NPS with its interval.
fn nps(e: &Estimate) -> String {
    format!(
        "{}, n = {}",
        with_interval(e.value, e.low, e.high, 1),
        thousands(e.n)
    )
}

/// A fraction as a percentage with its interval.
fn percent(e: &Estimate) -> String {
    with_interval(
        100.0 * e.value,
        e.low.map(|v| 100.0 * v),
        e.high.map(|v| 100.0 * v),
        1,
    )
}
