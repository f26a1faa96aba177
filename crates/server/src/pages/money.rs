//! Money at risk as people read it: a measurable loss with its currency, else "no
//! measurable loss" with the interval on demand; totals say what they add up.

use cxray_analysis::journey::{AtRisk, Total};
use cxray_core::text::{NO_MEASURABLE_LOSS, money_in, money_short};

use crate::html::{escape, figure};

/// A touchpoint's (or hand-off's) money at risk a year: the amount where measurable
/// (`<data>` named `key` when given), else "no measurable loss" and its interval folded.
pub fn at_risk(key: Option<&str>, m: Option<AtRisk>, currency: Option<&str>) -> String {
    let Some(m) = m else { return "—".into() };
    let e = m.estimate;
    match (m.loss(), key) {
        (Some(_), Some(key)) => figure(key, e.value, &money_in(e.value, currency)),
        (Some(_), None) => escape(&money_in(e.value, currency)),
        (None, _) => unmeasurable(e.low, e.high, currency),
    }
}

/// "no measurable loss", the interval on demand.
fn unmeasurable(low: Option<f64>, high: Option<f64>, currency: Option<&str>) -> String {
    let interval = match low.zip(high) {
        Some((lo, hi)) => format!(
            "95% interval {} to {}: not distinguishable from zero",
            money_in(lo, currency),
            money_in(hi, currency)
        ),
        None => "no interval".into(),
    };
    format!(
        "<details class=\"loss\"><summary>{NO_MEASURABLE_LOSS}</summary>{}</details>",
        escape(&interval)
    )
}

/// A total of measurable losses as a figure named `key`, abbreviated when `short`.
pub fn total(key: &str, t: &Total, currency: Option<&str>, short: bool) -> String {
    let v = t.estimate.value;
    let text = match (t.measurable, short) {
        (0, _) => NO_MEASURABLE_LOSS.to_string(),
        (_, true) => money_short(v, currency),
        (_, false) => money_in(v, currency),
    };
    figure(key, v, &text)
}

/// What a total adds up: "the 7 of 13 touchpoints whose loss is measurable".
pub fn what_is_summed(t: &Total) -> String {
    format!(
        "summed over the {} of {} touchpoints whose loss is measurable (excess dropout above zero); the others show no measurable loss",
        t.measurable, t.priced
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use cxray_analysis::journey::AtRisk;
    use cxray_core::stats::Estimate;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the estimate, a page shows either a loss that is not negative or "no
        /// measurable loss" (the interval only folded away inside `<details>`).
        #[test]
        fn no_negative_money_is_shown(
            value in -1e7..1e7f64,
            below in 0.0..1e7f64,
            above in 0.0..1e7f64,
        ) {
            let e = Estimate::unflagged(100, value, Some((value - below, value + above)));
            let m = AtRisk::new(e);
            let html = at_risk(Some("risk.x"), Some(m), Some("EUR"));
            match m.loss() {
                Some(loss) => {
                    prop_assert!(loss.value > 0.0 && html.contains("data-key=\"risk.x\""));
                    prop_assert!(!html.contains('−'), "{html}");
                }
                None => {
                    let folded = html.starts_with("<details class=\"loss\"><summary>");
                    let summary = html.split("<summary>").nth(1).and_then(|s| s.split("</summary>").next());
                    prop_assert!(folded && summary == Some(NO_MEASURABLE_LOSS), "{html}");
                }
            }
        }
    }
}
