//! `cxray scorecard`: the executive scorecard, exactly as the scorecard page shows it
//! (the same analyses, with the same product settings).

use std::collections::BTreeMap;

use cxray_analysis::board::{Cadence, Change, Tile};
use cxray_analysis::scorecard::Scorecard;
use cxray_analysis::settings::ProductSettings;
use cxray_analysis::snapshot::{self, Part};
use cxray_core::text::{money, money_in, money_with_interval, with_interval};

use crate::config::Config;
use crate::output;

/// Prints the scorecard of the latest data.
pub async fn run(config: &Config, json: bool) -> anyhow::Result<()> {
    let folder = super::folder(config)?;
    let sql = cxray_store::sql::Sql::open(&folder, &BTreeMap::new()).await?;
    let state = snapshot::data_state(&sql, &folder)?;
    let settings = ProductSettings::default();
    let snap = snapshot::compute(&sql, &folder, state, &settings, &[Part::Scorecard]).await?;
    let card = snap.scorecard.map_err(anyhow::Error::new)?;
    if json {
        return output::json(&card);
    }
    if let Some(currency) = &card.currency {
        println!("amounts of money in {currency}");
    }
    let mut t = output::Table::new(
        &["figure", "value (95% interval)", "n"],
        &[false, true, true],
    );
    let mut row = |name: &str, value: String, n: String| t.rows.push(vec![name.into(), value, n]);
    if let Some(e) = &card.equity {
        let value = money_with_interval(e.money.value, e.money.low, e.money.high);
        row("customer equity", value, e.customers.to_string());
    }
    if let Some(r) = card.retention.last() {
        let s = &r.retained;
        let value = with_interval(
            100.0 * s.value,
            s.low.map(|v| 100.0 * v),
            s.high.map(|v| 100.0 * v),
            1,
        );
        row(
            &format!("12-month retention, % ({})", r.quarter_end),
            value,
            s.n.to_string(),
        );
    }
    for (name, rows, decimals) in [
        ("NPS", &card.nps, 1),
        ("grade point average", &card.grade, 2),
    ] {
        if let Some(m) = rows.last() {
            let e = &m.estimate;
            let quarter = m
                .group
                .values()
                .flatten()
                .next()
                .cloned()
                .unwrap_or_default();
            row(
                &format!("{name} ({quarter})"),
                with_interval(e.value, e.low, e.high, decimals),
                e.n.to_string(),
            );
        }
    }
    if let Some(s) = &card.satisfied_defector_share {
        let value = with_interval(
            100.0 * s.value,
            s.low.map(|v| 100.0 * v),
            s.high.map(|v| 100.0 * v),
            1,
        );
        row(
            "satisfied defectors, % of defectors",
            value,
            s.n.to_string(),
        );
    }
    if let Some(m) = &card.revenue_at_risk {
        let value = super::journey::total(Some(m));
        row("revenue at risk a year", value, String::new());
    }
    for (rank, a) in card.weak_areas.iter().enumerate() {
        let value = a
            .revenue_at_risk
            .map_or("—".into(), |m| money(m.estimate.value));
        row(
            &format!("weak area {}: {}", rank + 1, a.touchpoint),
            value,
            String::new(),
        );
    }
    t.print()?;
    changes(&card)?;
    for note in &card.notes {
        println!("note: {note}");
    }
    Ok(())
}

/// How a difference is written.
type Write<'a> = dyn Fn(f64) -> String + 'a;

/// The quarter's figures against the previous quarter and the same quarter a year before,
/// as the scorecard page shows them: a change only beyond the difference's interval.
fn changes(card: &Scorecard) -> anyhow::Result<()> {
    let Some(b) = card.boards.iter().find(|b| b.cadence == Cadence::Quarter) else {
        return Ok(());
    };
    let mut t = output::Table::new(
        &["figure", "quarter", "vs the previous", "vs a year before"],
        &[false, false, true, true],
    );
    let points = |d: f64| format!("{d:+.1}");
    let cur = card.currency.as_deref();
    let amount = |d: f64| format!("{}{}", if d > 0.5 { "+" } else { "" }, money_in(d, cur));
    let rows: [(&str, &Option<Tile>, &Write); 8] = [
        ("customer equity", &b.equity, &amount),
        ("12-month retention, pp", &b.retention, &|d| points(d)),
        ("revenue at risk / year", &b.revenue_at_risk, &amount),
        ("satisfied defectors, pp", &b.satisfied_defectors, &|d| {
            points(d)
        }),
        ("NPS", &b.nps, &|d| points(d)),
        ("grade point average", &b.grade, &|d| format!("{d:+.2}")),
        ("revenue", &b.revenue, &amount),
        ("EBIT", &b.ebit, &amount),
    ];
    for (name, tile, write) in rows {
        let Some(tile) = tile else { continue };
        let change = |c: &Option<Change>| {
            c.as_ref().map_or("—".into(), |c| {
                let called = if c.changed {
                    "change"
                } else {
                    "within interval"
                };
                format!("{} vs {} ({called})", write(c.difference.value), c.against)
            })
        };
        let (previous, year) = (change(&tile.previous), change(&tile.year_ago));
        t.rows
            .push(vec![name.into(), tile.period.clone(), previous, year]);
    }
    println!();
    t.print()
}
