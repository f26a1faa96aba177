//! One customer: the timeline of purchases, interactions and answers, with P(alive), CLV,
//! the chances of each number of purchases and the residual lifetime value.

use cxray_analysis::customer::{Forecast, Timeline};

use crate::html::{escape, figure, money, table};

/// The lookup form.
pub fn form(id: &str) -> String {
    format!(
        "<form method=\"get\" action=\"/customers\" class=\"filters\"><label>customer id\
         <input name=\"id\" value=\"{}\" required></label><button type=\"submit\">Show</button></form>",
        escape(id)
    )
}

/// The purchase chances over the horizon and, with discounting, the lifetime value.
fn forecast(f: &Forecast) -> String {
    let lifetime = match (f.residual_transactions, f.lifetime_value) {
        (Some(dert), Some(worth)) => format!(
            "<p>Over the rest of their lifetime, discounted: {} purchases worth {}.</p>",
            figure("residual_transactions", dert, &format!("{dert:.2}")),
            figure("lifetime_value", worth, &money(worth)),
        ),
        _ => String::new(),
    };
    format!(
        "<p>Purchases in the next {} {}s: {}.</p>{lifetime}",
        f.horizon,
        escape(&f.unit),
        purchase_counts(&f.purchases)
    )
}

/// "none 41%, 1: 22%, …, 4 or more: 9%", each figure carrying its raw probability.
fn purchase_counts(probabilities: &[f64]) -> String {
    let last = probabilities.len().saturating_sub(1);
    probabilities
        .iter()
        .enumerate()
        .map(|(n, &p)| {
            let label = match n {
                0 => "none".to_string(),
                n if n == last => format!("{n} or more"),
                n => n.to_string(),
            };
            let shown = figure(&format!("purchases.{n}"), p, &format!("{:.0}%", 100.0 * p));
            format!("{label} {shown}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The page's body; `shown_id` is what the reader may see of the id (pseudonymised for
/// partners).
pub fn render(t: &Timeline, shown_id: &str) -> String {
    let value = t.value.as_ref().map_or(
        "<p class=\"note\">Not valued: run <code>cxray loyalty predict</code>.</p>".into(),
        |v| {
            format!(
                "<p>P(alive) {}, expected purchases {:.2}, CLV {}.</p>{}",
                figure("p_alive", v.p_alive, &format!("{:.3}", v.p_alive)),
                v.expected_transactions,
                figure("clv", v.clv, &money(v.clv)),
                v.forecast.as_ref().map_or(String::new(), forecast)
            )
        },
    );
    let rows: Vec<Vec<String>> = t
        .events
        .iter()
        .map(|e| {
            let text = |v: &Option<String>| escape(v.as_deref().unwrap_or(""));
            vec![
                escape(e.at.get(..19).unwrap_or(&e.at)),
                e.kind.to_string(),
                text(&e.what),
                text(&e.owner),
                e.value.map_or(String::new(), |v| format!("{v:.2}")),
                text(&e.detail),
            ]
        })
        .collect();
    format!(
        "<p>Customer <strong>{}</strong>, segment {}, region {}; {} events.</p>{value}{}",
        escape(shown_id),
        escape(t.segment.as_deref().unwrap_or("—")),
        escape(t.region.as_deref().unwrap_or("—")),
        t.events.len(),
        table(
            "Timeline (UTC): purchases (amount), interactions (wait in seconds, outcome), answers (score, instrument)",
            &[
                ("at", false),
                ("event", false),
                ("what", false),
                ("owner", false),
                ("value", true),
                ("detail", false)
            ],
            &rows
        )
    )
}
