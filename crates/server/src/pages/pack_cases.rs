//! The board pack's follow-up cases: per owner, the cases opened in the period, the
//! shares contacted and resolved within their deadlines (Wilson intervals), and how many
//! are done.

use std::collections::BTreeMap;

use cxray_core::stats::{Estimate, Settings, share};
use cxray_core::targets::Period;
use cxray_core::text::thousands;
use cxray_store::cases::CaseMonth;

use crate::html::{escape, table, with_interval};

/// The section's body; `None` when no case was ever followed up.
pub fn render(months: &[CaseMonth], period: &Period) -> Option<String> {
    if months.is_empty() {
        return None;
    }
    let owners = by_owner(months, period);
    if owners.is_empty() {
        let text = format!("No follow-up case was opened in {period}.");
        return Some(format!("<p>{}</p>", escape(&text)));
    }
    let total = owners.values().fold(Counts::default(), |a, c| a.plus(c));
    let mut rows: Vec<Vec<String>> = owners
        .iter()
        .map(|(owner, c)| row(&escape(owner), c))
        .collect();
    rows.push(row("<strong>All owners</strong>", &total));
    let caption = format!(
        "Follow-up cases opened in {period}, by owner: how many were contacted and resolved within their deadlines (%, 95% Wilson intervals) and how many are done"
    );
    Some(table(
        &caption,
        &[
            ("Owner", false),
            ("Opened", true),
            ("Contacted in time", true),
            ("Resolved in time", true),
            ("Done", true),
        ],
        &rows,
    ))
}

/// One owner's counts over the months of a period.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    opened: u64,
    contacted: u64,
    resolved: u64,
    done: u64,
}

impl Counts {
    fn plus(self, o: &Counts) -> Counts {
        Counts {
            opened: self.opened + o.opened,
            contacted: self.contacted + o.contacted,
            resolved: self.resolved + o.resolved,
            done: self.done + o.done,
        }
    }
}

/// The months the period covers, summed per owner (one without an owner named so).
fn by_owner(months: &[CaseMonth], period: &Period) -> BTreeMap<String, Counts> {
    let mut owners: BTreeMap<String, Counts> = BTreeMap::new();
    for m in months.iter().filter(|m| covers(period, &m.month)) {
        let owner = m.owner.clone().unwrap_or_else(|| "No owner".into());
        let c = Counts {
            opened: m.opened,
            contacted: m.contacted_in_time,
            resolved: m.resolved_in_time,
            done: m.done,
        };
        let sum = owners.entry(owner).or_default();
        *sum = sum.plus(&c);
    }
    owners
}

/// Whether the period covers the month `2025-06`.
fn covers(period: &Period, month: &str) -> bool {
    let parsed = month
        .split_once('-')
        .and_then(|(y, m)| Some((y.parse().ok()?, m.parse().ok()?)));
    parsed.is_some_and(|(y, m)| period.covers(y, m))
}

fn row(owner: &str, c: &Counts) -> Vec<String> {
    let percent = |k: u64| {
        share(k, c.opened, &Settings::default()).map_or("—".into(), |e: Estimate| {
            let pct = |v: f64| 100.0 * v;
            with_interval(pct(e.value), e.low.map(pct), e.high.map(pct), 0)
        })
    };
    vec![
        owner.to_string(),
        thousands(c.opened),
        percent(c.contacted),
        percent(c.resolved),
        thousands(c.done),
    ]
}
