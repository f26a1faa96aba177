//! A validated world resolved into indices and precomputed rates for the simulator.

use super::calendar::{DAY_US, HOUR_US};
use super::spec::{Event, Pick, Spec, WorldError, date_days};

/// The simulator's view of a world: everything by index, times in microseconds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    pub start_us: i64,
    pub end_us: i64,
    pub acquisition_us: f64,
    pub unit_us: f64,
    pub segments: Vec<f64>,
    pub regions: Vec<f64>,
    pub tiers: Vec<f64>,
    pub sites: Vec<f64>,
    pub stages: Vec<StagePlan>,
    pub touchpoints: Vec<TouchpointPlan>,
    pub effects: Vec<EffectPlan>,
    pub csat: Vec<usize>,
    pub initiative: Option<InitiativePlan>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StagePlan {
    pub offset_us: i64,
    pub members: Vec<usize>,
    pub weights: Vec<f64>,
    pub pick_one: bool,
    pub requires: Vec<usize>,
    pub probability: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TouchpointPlan {
    /// Failure probability by site and month (January first), before any initiative.
    pub rates: Vec<[f64; 12]>,
    /// ln(median) and sigma of a lognormal wait; `None` for no wait.
    pub wait: Option<(f64, f64)>,
    pub long_wait: Option<f64>,
    pub journey: String,
    pub stage: String,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EffectPlan {
    pub touchpoint: usize,
    pub event: Event,
    pub beta: f64,
    pub satisfaction: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct InitiativePlan {
    pub site: usize,
    pub from_us: i64,
    /// Whether each touchpoint (by index) is covered.
    pub covers: Vec<bool>,
    pub multiplier: f64,
}

impl Plan {
    /// Resolves a spec that passed validation.
    pub fn new(spec: &Spec) -> Result<Plan, WorldError> {
        let index = |id: &str| {
            spec.touchpoints
                .iter()
                .position(|t| t.id == id)
                .expect("validated touchpoint id")
        };
        let start_us = date_days("start", &spec.start)? * DAY_US;
        Ok(Plan {
            start_us,
            end_us: (date_days("end", &spec.end)? + 1) * DAY_US - 1,
            acquisition_us: spec.acquisition_days * DAY_US as f64,
            unit_us: spec.purchase.time_unit_days * DAY_US as f64,
            segments: spec.segments.iter().map(|g| g.share).collect(),
            regions: spec.regions.iter().map(|g| g.share).collect(),
            tiers: spec.tiers.iter().map(|g| g.share).collect(),
            sites: spec.sites.iter().map(|s| s.weight).collect(),
            stages: spec
                .stages
                .iter()
                .map(|st| {
                    let members: Vec<usize> = (0..spec.touchpoints.len())
                        .filter(|&t| spec.touchpoints[t].stage == st.id)
                        .collect();
                    StagePlan {
                        offset_us: (st.offset_hours * HOUR_US as f64) as i64,
                        weights: members
                            .iter()
                            .map(|&t| spec.touchpoints[t].weight)
                            .collect(),
                        members,
                        pick_one: st.pick == Pick::One,
                        requires: st.only_if_failed.iter().map(|t| index(t)).collect(),
                        probability: st.probability,
                    }
                })
                .collect(),
            touchpoints: spec
                .touchpoints
                .iter()
                .map(|tp| touchpoint_plan(spec, tp))
                .collect(),
            effects: spec
                .effects
                .iter()
                .map(|e| EffectPlan {
                    touchpoint: index(&e.touchpoint),
                    event: e.event,
                    beta: e.dropout_beta,
                    satisfaction: e.satisfaction,
                })
                .collect(),
            csat: spec
                .survey
                .csat_touchpoints
                .iter()
                .map(|t| index(t))
                .collect(),
            initiative: match &spec.initiative {
                None => None,
                Some(init) => Some(InitiativePlan {
                    site: spec
                        .sites
                        .iter()
                        .position(|s| s.id == init.site)
                        .expect("validated site id"),
                    from_us: date_days("initiative.date", &init.date)? * DAY_US,
                    covers: spec
                        .touchpoints
                        .iter()
                        .map(|t| init.touchpoints.contains(&t.id))
                        .collect(),
                    multiplier: init.failure_multiplier,
                }),
            },
        })
    }
}

fn touchpoint_plan(spec: &Spec, tp: &super::spec::Touchpoint) -> TouchpointPlan {
    let stage = spec
        .stages
        .iter()
        .find(|s| s.id == tp.stage)
        .expect("validated stage id");
    let rates = spec
        .sites
        .iter()
        .map(|site| {
            let at_site = if tp.at_site {
                site.failure_multiplier * site.multipliers.get(&tp.id).copied().unwrap_or(1.0)
            } else {
                1.0
            };
            std::array::from_fn(|m| {
                tp.failure_rate * at_site * tp.seasonality.get(m).copied().unwrap_or(1.0)
            })
        })
        .collect();
    TouchpointPlan {
        rates,
        wait: tp
            .wait
            .as_ref()
            .filter(|w| w.median_seconds > 0.0)
            .map(|w| (w.median_seconds.ln(), w.sigma)),
        long_wait: tp.long_wait_seconds,
        journey: stage.journey.clone(),
        stage: stage.id.clone(),
    }
}
