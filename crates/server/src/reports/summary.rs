//! The paragraph a scheduled board pack's e-mail opens with: what changed beyond its
//! interval against the period before (the period of the previous pack of a monthly or
//! quarterly schedule), what did not, and the weak area that costs most.

use cxray_analysis::board::{Board, Change};
use cxray_analysis::scorecard::Scorecard;
use cxray_core::text::money_short;

use crate::pages::scorecard::Figure;

/// The summary of `board` (the pack's period) of the scorecard `card`.
pub fn summary(card: &Scorecard, board: &Board) -> String {
    let currency = card.currency.as_deref();
    let mut changed = Vec::new();
    let mut same = Vec::new();
    let mut compared = false;
    for f in Figure::ALL {
        let (title, _, _, tile) = f.of(board);
        let Some((tile, c)) = tile.and_then(|t| t.previous.as_ref().map(|c| (t, c))) else {
            continue;
        };
        compared = true;
        match c.changed {
            true => changed.push(change(title, f, tile.value.value, c, currency)),
            false => same.push(title),
        }
    }
    let mut text = Vec::new();
    match (compared, changed.is_empty()) {
        (false, _) => text.push("There is no earlier period to compare with.".to_string()),
        (true, true) => text.push(
            "No headline figure changed beyond its 95% interval against the period before."
                .to_string(),
        ),
        (true, false) => {
            text.push(format!("{}.", changed.join("; ")));
            if !same.is_empty() {
                text.push(format!(
                    "{} did not change beyond {}.",
                    list(&same),
                    if same.len() == 1 {
                        "its interval"
                    } else {
                        "their intervals"
                    }
                ));
            }
        }
    }
    text.push(weakest(card));
    text.join(" ")
}

/// "NPS rose to 35.2 (+3.1 against 2025-Q1; 95% +1.0 to +5.2)".
fn change(title: &str, f: Figure, now: f64, c: &Change, currency: Option<&str>) -> String {
    let d = c.difference;
    let verb = if d.value > 0.0 { "rose" } else { "fell" };
    let interval = f
        .bounds(c, currency)
        .map_or(String::new(), |(lo, hi)| format!("; 95% {lo} to {hi}"));
    format!(
        "{title} {verb} to {} ({} against {}{interval})",
        f.text(now, currency),
        f.difference(d.value, currency),
        c.against
    )
}

/// The touchpoint with the most measurable money at risk, if any.
fn weakest(card: &Scorecard) -> String {
    let top = card
        .weak_areas
        .iter()
        .find_map(|a| a.revenue_at_risk.and_then(|m| m.loss()).map(|m| (a, m)));
    match top {
        Some((a, m)) => {
            let owner = a
                .owner_name
                .as_deref()
                .or(a.owner.as_deref())
                .map_or(String::new(), |o| format!(", owned by {o}"));
            format!(
                "The weak area that costs most is {}{owner}: {} revenue at risk a year.",
                a.touchpoint,
                money_short(m.value, card.currency.as_deref())
            )
        }
        None => "No touchpoint's loss of customers is measurable yet.".to_string(),
    }
}

/// "A, B and C".
fn list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_as_prose() {
        assert_eq!(list(&["NPS"]), "NPS");
        assert_eq!(list(&["NPS", "EBIT"]), "NPS and EBIT");
        assert_eq!(list(&["NPS", "Revenue", "EBIT"]), "NPS, Revenue and EBIT");
    }
}
