//! The weak-area map: each touchpoint's importance (the customer value its bad
//! experiences put at risk) against its performance (failure rate against the service
//! level, or against the company's average), in four quadrants, ranked by money where
//! the loss is measurable.

use serde::Serialize;

use super::{AtRisk, Journey};

/// Where a touchpoint sits on the importance–performance map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quadrant {
    /// Important and performing below target.
    FixFirst,
    /// Important and performing well.
    KeepUp,
    /// Unimportant yet performing well: effort that could go elsewhere.
    PossibleOverkill,
    /// Unimportant and performing below target.
    LowPriority,
}

impl Quadrant {
    /// The quadrant's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Quadrant::FixFirst => "fix first",
            Quadrant::KeepUp => "keep up",
            Quadrant::PossibleOverkill => "possible overkill",
            Quadrant::LowPriority => "low priority",
        }
    }
}

/// One touchpoint on the map.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Area {
    /// The rank by money among measurable losses; none for no measurable loss.
    pub rank: Option<usize>,
    pub touchpoint: String,
    pub owner: Option<String>,
    /// The owner's name for people.
    pub owner_name: Option<String>,
    pub owner_kind: Option<String>,
    pub revenue_at_risk: Option<AtRisk>,
    /// Failure rate and its target (percent): the service level, else the average.
    pub failure_rate: f64,
    pub target_rate: f64,
    /// Importance: a measurable loss at or above the median of the measurable losses.
    pub important: bool,
    pub below_target: bool,
    pub quadrant: Quadrant,
}

/// The map of a journey, ranked by measurable money at risk (highest first; then the
/// touchpoints without a measurable loss, unranked, in journey order).
pub fn areas(j: &Journey) -> Vec<Area> {
    let interactions: u64 = j.touchpoints.iter().map(|t| t.interactions).sum();
    let failures: u64 = j.touchpoints.iter().map(|t| t.failures).sum();
    let average = 100.0 * failures as f64 / interactions.max(1) as f64;
    let mut money: Vec<f64> = j
        .touchpoints
        .iter()
        .filter_map(|t| Some(t.revenue_at_risk?.loss()?.value))
        .collect();
    money.sort_by(f64::total_cmp);
    let median = money.get(money.len() / 2).copied().unwrap_or(f64::INFINITY);
    let mut out: Vec<Area> = j
        .touchpoints
        .iter()
        .map(|t| {
            let rate = t.failure_rate.map_or(0.0, |r| r.value);
            let target = t.sla.max_failure_rate.map_or(average, |m| m * 100.0);
            let loss = t.revenue_at_risk.and_then(AtRisk::loss);
            let important = loss.is_some_and(|m| m.value >= median);
            let below_target = rate > target;
            Area {
                rank: None,
                touchpoint: t.touchpoint.clone(),
                owner: t.owner.clone(),
                owner_name: t.owner_name.clone(),
                owner_kind: t.owner_kind.clone(),
                revenue_at_risk: t.revenue_at_risk,
                failure_rate: rate,
                target_rate: target,
                important,
                below_target,
                quadrant: match (important, below_target) {
                    (true, true) => Quadrant::FixFirst,
                    (true, false) => Quadrant::KeepUp,
                    (false, false) => Quadrant::PossibleOverkill,
                    (false, true) => Quadrant::LowPriority,
                },
            }
        })
        .collect();
    let key = |a: &Area| {
        let loss = a.revenue_at_risk.and_then(AtRisk::loss);
        loss.map_or(f64::NEG_INFINITY, |m| m.value)
    };
    out.sort_by(|a, b| key(b).total_cmp(&key(a)));
    for (i, a) in out.iter_mut().enumerate() {
        a.rank = key(a).is_finite().then_some(i + 1);
    }
    out
}
