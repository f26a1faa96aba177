//! `cxray journey`, `cxray areas`, `cxray owner` and `cxray sla`: touchpoints and their
//! owners, what their bad experiences cost, and where to act first.

use std::collections::BTreeMap;

use chrono::Utc;
use cxray_analysis::journey::{self, AtRisk, Journey, JourneyOptions, Total, Touchpoint};
use cxray_core::domain::owner_kind_label;
use cxray_core::stats::{Difference, Estimate, Settings};
use cxray_core::text;
use cxray_store::cases::OwnerCases;
use cxray_store::edits;
use cxray_store::ops::{Placement, Sla};
use cxray_store::sql::Sql;
use serde::Serialize;

use crate::args::{JourneyArgs, OwnerArgs, PlacementArgs, SlaArgs};
use crate::config::Config;
use crate::output::{self, count};

/// The journey options: the window and the service levels stored in the data folder.
pub fn options(config: &Config, args: &JourneyArgs) -> anyhow::Result<JourneyOptions> {
    let ops = super::folder(config)?.ops_db()?;
    Ok(JourneyOptions {
        window_days: args.window_days,
        slas: ops.slas()?,
        placements: ops.placements()?,
        settings: Settings::default(),
    })
}

async fn build(config: &Config, args: &JourneyArgs) -> anyhow::Result<Journey> {
    let sql = Sql::open(&super::folder(config)?, &BTreeMap::new()).await?;
    Ok(journey::journey(&sql, &options(config, args)?).await?)
}

fn money(m: Option<&Estimate>) -> String {
    m.map_or("—".into(), |m| {
        text::money_with_interval(m.value, m.low, m.high)
    })
}

/// Money at risk: the amount where the loss is measurable, else "no measurable loss".
fn risk(m: Option<&AtRisk>) -> String {
    match m {
        Some(m) if !m.measurable => text::NO_MEASURABLE_LOSS.into(),
        m => money(m.map(|m| &m.estimate)),
    }
}

/// Summed measurable losses and how many of the priced touchpoints they add.
pub fn total(t: Option<&Total>) -> String {
    match t {
        Some(t) if t.measurable == 0 => text::NO_MEASURABLE_LOSS.into(),
        Some(t) => format!(
            "{} ({} of {} touchpoints measurable)",
            money(Some(&t.estimate)),
            t.measurable,
            t.priced
        ),
        None => "—".into(),
    }
}

fn pct(e: Option<&Estimate>) -> String {
    e.map_or("—".into(), |e| format!("{:.1}", e.value))
}

fn points(d: Option<&Difference>) -> String {
    d.map_or("—".into(), |d| match (d.low, d.high) {
        (Some(l), Some(h)) => format!("{:+.1} ({l:+.1} – {h:+.1})", d.value),
        _ => format!("{:+.1}", d.value),
    })
}

/// Prints the journey map.
pub async fn journey(config: &Config, args: JourneyArgs, json: bool) -> anyhow::Result<()> {
    let j = build(config, &args).await?;
    if json {
        return output::json(&j);
    }
    for note in &j.notes {
        println!("note: {note}");
    }
    touchpoint_table(&j.touchpoints)?;
    println!("\nhand-offs between owners (most frequent first)");
    let mut t = output::Table::new(
        &[
            "from",
            "to",
            "hand-offs",
            "failed after %",
            "vs otherwise pp",
            "revenue at risk / year",
        ],
        &[false, false, true, true, true, true],
    );
    for h in j.handoffs.iter().take(15) {
        t.rows.push(vec![
            format!("{} ({})", h.from_touchpoint, h.from_owner),
            format!("{} ({})", h.to_touchpoint, h.to_owner),
            count(h.count),
            pct(h.failure_rate_after.as_ref()),
            points(h.excess_failure.as_ref()),
            risk(h.revenue_at_risk.as_ref()),
        ]);
    }
    t.print()
}

fn touchpoint_table(tps: &[Touchpoint]) -> anyhow::Result<()> {
    let mut t = output::Table::new(
        &[
            "stage",
            "touchpoint",
            "owner",
            "kind",
            "interactions",
            "failed %",
            "wait p50/p90 s",
            "CSAT %",
            "excess dropout pp",
            "revenue at risk / year",
        ],
        &[
            false, false, false, false, true, true, true, true, true, true,
        ],
    );
    for tp in tps {
        let waits = match (tp.wait_p50_seconds, tp.wait_p90_seconds) {
            (Some(a), Some(b)) => format!("{a:.0}/{b:.0}"),
            _ => "—".into(),
        };
        t.rows.push(vec![
            tp.stage.clone().unwrap_or_default(),
            tp.touchpoint.clone(),
            tp.owner.clone().unwrap_or_default(),
            tp.owner_kind.as_deref().map_or("", owner_kind_label).into(),
            count(tp.interactions),
            pct(tp.failure_rate.as_ref()),
            waits,
            pct(tp.csat.as_ref()),
            points(tp.excess_dropout.as_ref()),
            risk(tp.revenue_at_risk.as_ref()),
        ]);
    }
    t.print()
}

/// Prints the weak-area map, ranked by money at risk.
pub async fn areas(config: &Config, args: JourneyArgs, json: bool) -> anyhow::Result<()> {
    let j = build(config, &args).await?;
    let areas = journey::areas(&j);
    if json {
        return output::json(&areas);
    }
    let mut t = output::Table::new(
        &[
            "rank",
            "touchpoint",
            "owner",
            "revenue at risk / year",
            "failed %",
            "target %",
            "quadrant",
        ],
        &[true, false, false, true, true, true, false],
    );
    for a in &areas {
        let owner = match (&a.owner, &a.owner_kind) {
            (Some(o), Some(k)) => format!("{o} ({})", owner_kind_label(k)),
            (Some(o), None) => o.clone(),
            _ => String::new(),
        };
        t.rows.push(vec![
            a.rank.map_or("—".into(), |r| r.to_string()),
            a.touchpoint.clone(),
            owner,
            risk(a.revenue_at_risk.as_ref()),
            format!("{:.1}", a.failure_rate),
            format!("{:.1}", a.target_rate),
            a.quadrant.label().into(),
        ]);
    }
    t.print()
}

#[derive(Serialize)]
struct Scorecard<'a> {
    #[serde(flatten)]
    owner: &'a journey::Owner,
    touchpoint_details: Vec<&'a Touchpoint>,
    trend: Vec<journey::MonthRate>,
    /// The owner's follow-up cases not yet done, and those overdue.
    cases: OwnerCases,
}

/// Prints one owner's scorecard.
pub async fn owner(config: &Config, args: OwnerArgs, json: bool) -> anyhow::Result<()> {
    let folder = super::folder(config)?;
    let sql = Sql::open(&folder, &BTreeMap::new()).await?;
    let opts = options(config, &args.journey)?;
    let j = journey::journey(&sql, &opts).await?;
    let Some(o) = j.owners.iter().find(|o| o.owner == args.owner) else {
        let known: Vec<&str> = j.owners.iter().map(|o| o.owner.as_str()).collect();
        return Err(super::usage(format!(
            "unknown owner '{}' (owners: {})",
            args.owner,
            known.join(", ")
        )));
    };
    let card = Scorecard {
        owner: o,
        touchpoint_details: j
            .touchpoints
            .iter()
            .filter(|t| t.owner.as_deref() == Some(o.owner.as_str()))
            .collect(),
        trend: journey::monthly_failure_rates(&sql, &opts)
            .await?
            .remove(&o.owner)
            .unwrap_or_default(),
        cases: folder.ops_db()?.owner_cases(&o.owner, Utc::now())?,
    };
    if json {
        return output::json(&card);
    }
    println!(
        "{} — {} ({}): {} interactions, failed {}%, revenue at risk / year {}, of it after hand-offs from other owners {}",
        o.owner,
        o.name.as_deref().unwrap_or("unnamed"),
        o.kind.as_deref().map_or("kind unknown", owner_kind_label),
        count(o.interactions),
        pct(o.failure_rate.as_ref()),
        total(o.revenue_at_risk.as_ref()),
        money(o.revenue_at_risk_after_handoffs.as_ref())
    );
    println!(
        "follow-up cases: {} open, {} overdue",
        card.cases.open, card.cases.overdue
    );
    touchpoint_table(
        &card
            .touchpoint_details
            .into_iter()
            .cloned()
            .collect::<Vec<_>>(),
    )?;
    println!("\nfailure rate by month");
    let mut t = output::Table::new(
        &["month", "interactions", "failed %", "95% interval"],
        &[false, true, true, true],
    );
    for m in &card.trend {
        let interval = match (m.failure_rate.low, m.failure_rate.high) {
            (Some(l), Some(h)) => format!("{l:.1} – {h:.1}"),
            _ => "—".into(),
        };
        t.rows.push(vec![
            m.month.clone(),
            count(m.failure_rate.n),
            format!("{:.1}", m.failure_rate.value),
            interval,
        ]);
    }
    t.print()
}

/// The settings of a service level and their flags.
const SLA_FLAGS: &[(&str, &str)] = &[
    ("max wait seconds", "--max-wait-seconds"),
    ("max failure rate", "--max-failure-rate"),
];

/// Lists the service levels, or sets or removes one touchpoint's.
pub async fn sla(config: &Config, args: SlaArgs, json: bool) -> anyhow::Result<()> {
    let folder = super::folder(config)?;
    let ops = folder.ops_db()?;
    if let Some(tp) = &args.touchpoint {
        if args.remove {
            ops.remove_sla(&super::actor(), tp)?;
        } else {
            let sql = Sql::open(&folder, &BTreeMap::new()).await?;
            edits::check_touchpoint(&sql, tp).await?;
            let sla = Sla {
                max_wait_seconds: args.max_wait_seconds,
                max_failure_rate: args.max_failure_rate,
            };
            let set = ops.set_sla(&super::actor(), tp, sla);
            set.map_err(|e| super::hint(e, SLA_FLAGS))?;
        }
    }
    let slas = ops.slas()?;
    if json {
        return output::json(&slas);
    }
    let mut t = output::Table::new(
        &["touchpoint", "max wait s", "max failure rate"],
        &[false, true, true],
    );
    for (tp, s) in &slas {
        t.rows.push(vec![
            tp.clone(),
            s.max_wait_seconds.map_or("—".into(), |w| format!("{w:.0}")),
            s.max_failure_rate
                .map_or("—".into(), |r| format!("{:.1}%", r * 100.0)),
        ]);
    }
    t.print()
}

/// Lists the edited placements, or shows or edits one touchpoint's.
pub async fn placement(config: &Config, args: PlacementArgs, json: bool) -> anyhow::Result<()> {
    let folder = super::folder(config)?;
    let ops = folder.ops_db()?;
    let mut placements = ops.placements()?;
    if let Some(tp) = &args.touchpoint {
        let old = placements.remove(tp).unwrap_or_default();
        let new = match args.reset {
            true => Placement::default(),
            false => Placement {
                journey: args.journey.or(old.journey.clone()),
                stage: args.stage.or(old.stage.clone()),
                position: args.position.or(old.position),
                owner: args.owner.or(old.owner.clone()),
            },
        };
        let sql = Sql::open(&folder, &BTreeMap::new()).await?;
        edits::check_placement(&sql, tp, &new).await?;
        if new != old {
            let set = ops.set_placement(&super::actor(), tp, &new);
            set.map_err(|e| super::hint(e, &[("position", "--position")]))?;
        }
        placements = BTreeMap::from([(tp.clone(), new)]);
    }
    if json {
        return output::json(&placements);
    }
    let mut t = output::Table::new(
        &["touchpoint", "journey", "stage", "position", "owner"],
        &[false, false, false, true, false],
    );
    let text = |v: &Option<String>| v.clone().unwrap_or_else(|| "(as imported)".into());
    for (tp, p) in &placements {
        t.rows.push(vec![
            tp.clone(),
            text(&p.journey),
            text(&p.stage),
            p.position.map_or("—".into(), |p| p.to_string()),
            text(&p.owner),
        ]);
    }
    t.print()
}
