//! The journey map as a journey: stages left to right, owners' lanes, touchpoint cards
//! framed by how they perform against their target, hand-offs as arrows.

use cxray_analysis::journey::{Area, Handoff, Journey, Touchpoint, areas};
use cxray_charts::{Card, Frame, Handover, JourneyMap, Standing, journey_map};
use cxray_core::text::{NO_MEASURABLE_LOSS, money_short, thousands};

/// The most frequent hand-offs drawn (the table lists more).
const ARROWS: usize = 12;

/// The map of the touchpoints the reader may see, in journey order.
pub fn render(j: &Journey) -> String {
    let targets = areas(j);
    let cards: Vec<Card> = j
        .touchpoints
        .iter()
        .map(|t| card(t, targets.iter().find(|a| a.touchpoint == t.touchpoint), j))
        .collect();
    let index = |name: &str| j.touchpoints.iter().position(|t| t.touchpoint == name);
    let handovers = j
        .handoffs
        .iter()
        .filter_map(|h| {
            let (from, to) = (index(&h.from_touchpoint)?, index(&h.to_touchpoint)?);
            Some(Handover {
                from,
                to,
                label: excess(h),
            })
        })
        .take(ARROWS)
        .collect();
    journey_map(
        &Frame::new("The journey, stage by stage")
            .id("journey-map")
            .caption(format!("Touchpoints in journey order under their stage, in their owner's lane; framed green (✓) when the failure rate is below its target (the service level, else the average) beyond its 95% interval, orange (✗) when above it, grey (≈) when not distinguishable; money is the customer value at risk a year. Arrows: the {ARROWS} most frequent hand-offs between owners, labelled with the receiving touchpoint's excess failure right after them where it is measurable. A card opens its owner's page.")),
        &JourneyMap { cards, handovers },
    )
}

fn card(t: &Touchpoint, area: Option<&Area>, j: &Journey) -> Card {
    let lane = t.owner_name.clone().or(t.owner.clone());
    let money = t
        .revenue_at_risk
        .map_or("money not priced".into(), |m| match m.loss() {
            Some(e) => format!(
                "{} at risk / yr",
                money_short(e.value, j.currency.as_deref())
            ),
            None => NO_MEASURABLE_LOSS.into(),
        });
    Card {
        label: t.touchpoint.clone(),
        stage: t
            .stage
            .clone()
            .or(t.journey.clone())
            .unwrap_or("no stage".into()),
        lane: lane.unwrap_or("no owner".into()),
        badge: kind(t.owner_kind.as_deref()).into(),
        href: t.owner.as_ref().map(|o| format!("/owners/{o}")),
        lines: vec![
            format!("{} visits", thousands(t.interactions)),
            t.failure_rate
                .map_or("failed —".into(), |f| format!("failed {:.1}%", f.value)),
            money,
        ],
        standing: standing(t, area),
    }
}

/// An owner's kind as people say it.
fn kind(kind: Option<&str>) -> &'static str {
    match kind {
        Some("team") => "team",
        Some("partner") => "partner",
        Some("external") => "outside party",
        _ => "owner unknown",
    }
}

/// The failure rate's interval against the target the weak-area map uses.
fn standing(t: &Touchpoint, area: Option<&Area>) -> Standing {
    let (Some(rate), Some(area)) = (t.failure_rate, area) else {
        return Standing::NoTarget;
    };
    let target = area.target_rate;
    match (rate.low, rate.high) {
        (Some(low), _) if low > target => Standing::BelowTarget,
        (_, Some(high)) if high < target => Standing::OnTarget,
        (Some(_), Some(_)) => Standing::Undecided,
        _ => Standing::NoTarget,
    }
}

/// A hand-off's label: the excess failure after it where measurable, else none.
fn excess(h: &Handoff) -> String {
    match h.excess_failure {
        Some(d) if d.low.is_some_and(|l| l > 0.0) => format!("+{:.1} pp failed after", d.value),
        Some(d) if d.high.is_some_and(|h| h < 0.0) => format!("{:.1} pp failed after", d.value),
        _ => String::new(),
    }
}
