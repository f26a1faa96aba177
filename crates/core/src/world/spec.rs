//! The world description: what a TOML world file holds, and its validation.
//!
//! Every field is documented in `docs/world.md`. Validation errors name the field the way
//! the file spells it, with 0-based list indices: `touchpoints[3].failure_rate: …`.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use toml::value::Datetime;

use crate::domain::OWNER_KINDS;

/// A world file that cannot be used, with the field at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WorldError {
    /// Not TOML, or not the shape of a world description.
    #[error("world description: {0}")]
    Format(String),
    /// A field's value breaks a rule.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> WorldError {
    WorldError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// A described world, as written in its TOML file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Display name of the business.
    pub name: String,
    /// Currency code of every amount.
    pub currency: String,
    /// First day of the observation; customers are acquired from here.
    pub start: Datetime,
    /// Days over which customers are acquired, from `start`.
    pub acquisition_days: f64,
    /// Last day of the observation (inclusive); nothing happens after it.
    pub end: Datetime,
    /// Probability that a trip departs from the customer's home site.
    #[serde(default = "default_home_share")]
    pub home_share: f64,
    pub purchase: Purchase,
    pub spend: Spend,
    #[serde(default)]
    pub financials: Financials,
    pub survey: Survey,
    pub segments: Vec<Group>,
    pub regions: Vec<Group>,
    pub tiers: Vec<Group>,
    pub sites: Vec<Site>,
    pub owners: Vec<Owner>,
    pub stages: Vec<Stage>,
    pub touchpoints: Vec<Touchpoint>,
    #[serde(default)]
    pub effects: Vec<Effect>,
    #[serde(default)]
    pub initiative: Option<Initiative>,
    /// The follow-up programme run in the history (see [`super::followup`]).
    #[serde(default)]
    pub followup: Option<super::followup::FollowUp>,
    /// Comments written from templates (without it, the survey's and touchpoints' phrase
    /// banks).
    #[serde(default)]
    pub comments: Option<super::comments::Comments>,
}

fn default_home_share() -> f64 {
    0.85
}
fn one() -> f64 {
    1.0
}
fn yes() -> bool {
    true
}

/// The buy-till-you-die process: purchase rate λ ~ Gamma(r, α), dropout p ~ Beta(a, b).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Purchase {
    pub r: f64,
    /// Rate parameter of λ's Gamma, in time units (so mean λ = r / α per unit).
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
    /// Length of the model's time unit in days (7: rates are per week).
    #[serde(default = "default_unit")]
    pub time_unit_days: f64,
    /// Whether the first purchase can also end the relationship (MBG/NBD) or only repeat
    /// purchases can (BG/NBD).
    #[serde(default = "yes")]
    pub dropout_after_first: bool,
}

fn default_unit() -> f64 {
    7.0
}

/// Gamma-Gamma spend: ν ~ Gamma(q, γ) per customer, each amount ~ Gamma(p, ν).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spend {
    pub p: f64,
    pub q: f64,
    pub gamma: f64,
}

/// Monthly revenue and EBIT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Financials {
    /// Revenue = this × the month's simulated transaction amounts.
    #[serde(default = "one")]
    pub revenue_factor: f64,
    /// EBIT margin (fraction of revenue).
    #[serde(default)]
    pub ebit_margin: f64,
    /// Standard deviation of the month's margin noise.
    #[serde(default)]
    pub ebit_margin_sd: f64,
    /// Twelve additive margin adjustments, January first; empty for none.
    #[serde(default)]
    pub ebit_seasonality: Vec<f64>,
}

impl Default for Financials {
    fn default() -> Self {
        Financials {
            revenue_factor: 1.0,
            ebit_margin: 0.0,
            ebit_margin_sd: 0.0,
            ebit_seasonality: Vec::new(),
        }
    }
}

/// Surveys after trips and how answers come about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Survey {
    /// Base probability that a trip yields a survey response.
    pub response_rate: f64,
    /// Response-rate multiplier when the trip had any failure or long wait.
    #[serde(default = "one")]
    pub bad_trip_multiplier: f64,
    /// Hours after the trip's last touchpoint at which the answer arrives (plus up to a day).
    #[serde(default = "default_delay")]
    pub delay_hours: f64,
    /// Mean latent satisfaction (0–10 scale) of a trip without incidents.
    pub satisfaction_mean: f64,
    pub satisfaction_sd: f64,
    /// Four increasing cut points on the latent scale separating F|D|C|B|A.
    pub grade_cuts: Vec<f64>,
    /// Extra noise of the report-card grade's latent value.
    #[serde(default = "one")]
    pub grade_sd: f64,
    /// Touchpoints asked about with a CSAT (1–5) question when the trip had them.
    #[serde(default)]
    pub csat_touchpoints: Vec<String>,
    pub csat_mean: f64,
    pub csat_sd: f64,
    /// Drop in mean CSAT when that touchpoint failed or had a long wait.
    pub csat_failure_drop: f64,
    /// Probability that a response carries a comment.
    #[serde(default)]
    pub comment_rate: f64,
    /// Comments of delighted respondents (NPS 9–10).
    #[serde(default)]
    pub praise: Vec<String>,
    /// Comments of everyone else without a complaint to make.
    #[serde(default)]
    pub neutral: Vec<String>,
}

fn default_delay() -> f64 {
    24.0
}

/// A customer segment, region or tier with its share of customers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub id: String,
    pub share: f64,
    /// Survey response-rate multiplier for its customers.
    #[serde(default = "one")]
    pub response_multiplier: f64,
    /// Added to its customers' latent satisfaction.
    #[serde(default)]
    pub satisfaction_offset: f64,
}

/// A site (an airport) where trips happen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    pub id: String,
    /// Relative share of customers living at this site.
    pub weight: f64,
    /// Multiplies the failure rate of every on-site touchpoint here.
    #[serde(default = "one")]
    pub failure_multiplier: f64,
    /// Further multipliers for single touchpoints here, by touchpoint id.
    #[serde(default)]
    pub multipliers: BTreeMap<String, f64>,
}

/// Whoever runs touchpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Owner {
    pub id: String,
    pub name: String,
    /// `team`, `partner` or `external`.
    pub kind: String,
    #[serde(default)]
    pub sla_hours: Option<f64>,
    #[serde(default)]
    pub contact: String,
}

/// Whether a stage passes through all its touchpoints or one chosen by weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Pick {
    #[default]
    All,
    One,
}

/// A step of a journey, in trip order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub id: String,
    pub journey: String,
    /// Hours after the purchase at which the stage happens (plus up to an hour).
    pub offset_hours: f64,
    #[serde(default)]
    pub pick: Pick,
    /// The stage happens only if one of these (earlier) touchpoints failed; empty: always.
    #[serde(default)]
    pub only_if_failed: Vec<String>,
    /// Probability that the stage happens when its condition holds.
    #[serde(default = "one")]
    pub probability: f64,
}

/// A lognormal wait.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wait {
    pub median_seconds: f64,
    pub sigma: f64,
}

/// A point of contact with an owner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Touchpoint {
    pub id: String,
    pub stage: String,
    pub owner: String,
    pub channel: String,
    /// Base probability that the experience fails.
    pub failure_rate: f64,
    /// Whether site multipliers apply (false for, say, web booking).
    #[serde(default = "yes")]
    pub at_site: bool,
    /// Relative chance of being chosen in a `pick = "one"` stage.
    #[serde(default = "one")]
    pub weight: f64,
    #[serde(default)]
    pub wait: Option<Wait>,
    /// A wait above this many seconds is a `long_wait` event.
    #[serde(default)]
    pub long_wait_seconds: Option<f64>,
    /// Twelve failure-rate multipliers, January first; empty for none.
    #[serde(default)]
    pub seasonality: Vec<f64>,
    /// Comments of respondents whose trip failed here.
    #[serde(default)]
    pub complaints: Vec<String>,
}

/// What happened at a touchpoint that an effect responds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Failed,
    LongWait,
}

impl Event {
    /// The name used in files and in the truth.
    pub fn name(self) -> &'static str {
        match self {
            Event::Failed => "failed",
            Event::LongWait => "long_wait",
        }
    }
}

/// The planted consequence of a touchpoint event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Effect {
    pub touchpoint: String,
    pub event: Event,
    /// Added to the log-odds of dropping out after the trip.
    #[serde(default)]
    pub dropout_beta: f64,
    /// Added to the trip's latent satisfaction (0–10 scale; negative hurts).
    #[serde(default)]
    pub satisfaction: f64,
}

/// A dated change at one site that scales some touchpoints' failure rates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Initiative {
    pub name: String,
    pub site: String,
    /// From this day on (interaction time) the multiplier applies.
    pub date: Datetime,
    pub touchpoints: Vec<String>,
    pub failure_multiplier: f64,
}

impl Spec {
    /// Parses a TOML world description without validating it.
    pub fn parse(text: &str) -> Result<Spec, WorldError> {
        toml::from_str(text).map_err(|e| WorldError::Format(e.to_string().trim_end().to_string()))
    }

    /// Checks every rule; the first broken one is returned.
    pub fn validate(&self) -> Result<(), WorldError> {
        self.validate_calendar()?;
        self.validate_process()?;
        for (name, groups) in [
            ("segments", &self.segments),
            ("regions", &self.regions),
            ("tiers", &self.tiers),
        ] {
            validate_groups(name, groups)?;
        }
        self.validate_sites()?;
        self.validate_owners()?;
        self.validate_stages()?;
        self.validate_touchpoints()?;
        self.validate_effects()?;
        self.validate_survey()?;
        if let Some(comments) = &self.comments {
            comments.validate(self)?;
        }
        self.validate_initiative()?;
        super::followup::validate(self)
    }

    fn validate_calendar(&self) -> Result<(), WorldError> {
        not_empty("name", &self.name)?;
        not_empty("currency", &self.currency)?;
        let start = date_days("start", &self.start)?;
        let end = date_days("end", &self.end)?;
        if end <= start {
            return Err(invalid("end", "must be after start"));
        }
        positive("acquisition_days", self.acquisition_days)?;
        if self.acquisition_days > (end - start) as f64 {
            return Err(invalid("acquisition_days", "must end by the end date"));
        }
        probability("home_share", self.home_share)
    }

    fn validate_process(&self) -> Result<(), WorldError> {
        let p = &self.purchase;
        for (f, v) in [
            ("r", p.r),
            ("alpha", p.alpha),
            ("a", p.a),
            ("b", p.b),
            ("time_unit_days", p.time_unit_days),
        ] {
            positive(&format!("purchase.{f}"), v)?;
        }
        let s = &self.spend;
        for (f, v) in [("p", s.p), ("q", s.q), ("gamma", s.gamma)] {
            positive(&format!("spend.{f}"), v)?;
        }
        let f = &self.financials;
        non_negative("financials.revenue_factor", f.revenue_factor)?;
        finite("financials.ebit_margin", f.ebit_margin)?;
        non_negative("financials.ebit_margin_sd", f.ebit_margin_sd)?;
        monthly("financials.ebit_seasonality", &f.ebit_seasonality, finite)
    }

    fn validate_sites(&self) -> Result<(), WorldError> {
        non_empty_list("sites", self.sites.len())?;
        unique_ids("sites", self.sites.iter().map(|s| s.id.as_str()))?;
        let tps = self.touchpoint_ids();
        for (i, site) in self.sites.iter().enumerate() {
            non_negative(&format!("sites[{i}].weight"), site.weight)?;
            non_negative(
                &format!("sites[{i}].failure_multiplier"),
                site.failure_multiplier,
            )?;
            for (tp, m) in &site.multipliers {
                let field = format!("sites[{i}].multipliers.{tp}");
                lookup(&field, "touchpoint", &tps, tp)?;
                non_negative(&field, *m)?;
            }
        }
        positive_total("sites", self.sites.iter().map(|s| s.weight))
    }

    fn validate_owners(&self) -> Result<(), WorldError> {
        non_empty_list("owners", self.owners.len())?;
        unique_ids("owners", self.owners.iter().map(|o| o.id.as_str()))?;
        for (i, o) in self.owners.iter().enumerate() {
            not_empty(&format!("owners[{i}].name"), &o.name)?;
            if !OWNER_KINDS.contains(&o.kind.as_str()) {
                return Err(invalid(
                    format!("owners[{i}].kind"),
                    format!(
                        "must be one of {}, got '{}'",
                        OWNER_KINDS.join(", "),
                        o.kind
                    ),
                ));
            }
            if let Some(h) = o.sla_hours {
                non_negative(&format!("owners[{i}].sla_hours"), h)?;
            }
        }
        Ok(())
    }

    fn validate_stages(&self) -> Result<(), WorldError> {
        non_empty_list("stages", self.stages.len())?;
        unique_ids("stages", self.stages.iter().map(|s| s.id.as_str()))?;
        for (i, st) in self.stages.iter().enumerate() {
            not_empty(&format!("stages[{i}].journey"), &st.journey)?;
            non_negative(&format!("stages[{i}].offset_hours"), st.offset_hours)?;
            probability(&format!("stages[{i}].probability"), st.probability)?;
            if !self.touchpoints.iter().any(|t| t.stage == st.id) {
                return Err(invalid(
                    format!("stages[{i}]"),
                    format!("stage '{}' has no touchpoints", st.id),
                ));
            }
            let earlier: Vec<&str> = self.touchpoints_of(&self.stages[..i]).collect();
            for (j, tp) in st.only_if_failed.iter().enumerate() {
                lookup(
                    &format!("stages[{i}].only_if_failed[{j}]"),
                    "touchpoint of an earlier stage",
                    &earlier,
                    tp,
                )?;
            }
        }
        Ok(())
    }

    fn validate_touchpoints(&self) -> Result<(), WorldError> {
        unique_ids(
            "touchpoints",
            self.touchpoints.iter().map(|t| t.id.as_str()),
        )?;
        let stages: Vec<&str> = self.stages.iter().map(|s| s.id.as_str()).collect();
        let owners: Vec<&str> = self.owners.iter().map(|o| o.id.as_str()).collect();
        for (i, tp) in self.touchpoints.iter().enumerate() {
            let field = |f: &str| format!("touchpoints[{i}].{f}");
            lookup(&field("stage"), "stage", &stages, &tp.stage)?;
            lookup(&field("owner"), "owner", &owners, &tp.owner)?;
            not_empty(&field("channel"), &tp.channel)?;
            probability(&field("failure_rate"), tp.failure_rate)?;
            non_negative(&field("weight"), tp.weight)?;
            if let Some(w) = &tp.wait {
                non_negative(&field("wait.median_seconds"), w.median_seconds)?;
                non_negative(&field("wait.sigma"), w.sigma)?;
            }
            if let Some(s) = tp.long_wait_seconds {
                positive(&field("long_wait_seconds"), s)?;
            }
            monthly(&field("seasonality"), &tp.seasonality, non_negative)?;
        }
        for (i, st) in self.stages.iter().enumerate() {
            if st.pick == Pick::One {
                positive_total(
                    &format!("stages[{i}] touchpoint weights"),
                    self.touchpoints
                        .iter()
                        .filter(|t| t.stage == st.id)
                        .map(|t| t.weight),
                )?;
            }
        }
        Ok(())
    }

    fn validate_effects(&self) -> Result<(), WorldError> {
        let tps = self.touchpoint_ids();
        for (i, e) in self.effects.iter().enumerate() {
            let t = lookup(
                &format!("effects[{i}].touchpoint"),
                "touchpoint",
                &tps,
                &e.touchpoint,
            )?;
            if e.event == Event::LongWait && self.touchpoints[t].long_wait_seconds.is_none() {
                return Err(invalid(
                    format!("effects[{i}].event"),
                    format!(
                        "long_wait needs touchpoint '{}' to set long_wait_seconds",
                        e.touchpoint
                    ),
                ));
            }
            finite(&format!("effects[{i}].dropout_beta"), e.dropout_beta)?;
            finite(&format!("effects[{i}].satisfaction"), e.satisfaction)?;
        }
        Ok(())
    }

    fn validate_survey(&self) -> Result<(), WorldError> {
        let s = &self.survey;
        probability("survey.response_rate", s.response_rate)?;
        probability("survey.comment_rate", s.comment_rate)?;
        for (f, v) in [
            ("bad_trip_multiplier", s.bad_trip_multiplier),
            ("delay_hours", s.delay_hours),
            ("satisfaction_sd", s.satisfaction_sd),
            ("grade_sd", s.grade_sd),
            ("csat_sd", s.csat_sd),
        ] {
            non_negative(&format!("survey.{f}"), v)?;
        }
        finite("survey.satisfaction_mean", s.satisfaction_mean)?;
        finite("survey.csat_mean", s.csat_mean)?;
        finite("survey.csat_failure_drop", s.csat_failure_drop)?;
        if s.grade_cuts.len() != 4
            || s.grade_cuts.iter().any(|c| !c.is_finite())
            || s.grade_cuts.windows(2).any(|w| w[0] >= w[1])
        {
            return Err(invalid(
                "survey.grade_cuts",
                "must be four increasing numbers",
            ));
        }
        let tps = self.touchpoint_ids();
        for (i, tp) in s.csat_touchpoints.iter().enumerate() {
            lookup(
                &format!("survey.csat_touchpoints[{i}]"),
                "touchpoint",
                &tps,
                tp,
            )?;
        }
        Ok(())
    }

    fn validate_initiative(&self) -> Result<(), WorldError> {
        let Some(init) = &self.initiative else {
            return Ok(());
        };
        not_empty("initiative.name", &init.name)?;
        let sites: Vec<&str> = self.sites.iter().map(|s| s.id.as_str()).collect();
        lookup("initiative.site", "site", &sites, &init.site)?;
        let day = date_days("initiative.date", &init.date)?;
        if day <= date_days("start", &self.start)? || day > date_days("end", &self.end)? {
            return Err(invalid(
                "initiative.date",
                "must be after start and not after end",
            ));
        }
        non_empty_list("initiative.touchpoints", init.touchpoints.len())?;
        let tps = self.touchpoint_ids();
        for (i, tp) in init.touchpoints.iter().enumerate() {
            lookup(
                &format!("initiative.touchpoints[{i}]"),
                "touchpoint",
                &tps,
                tp,
            )?;
        }
        non_negative("initiative.failure_multiplier", init.failure_multiplier)
    }

    fn touchpoint_ids(&self) -> Vec<&str> {
        self.touchpoints.iter().map(|t| t.id.as_str()).collect()
    }

    fn touchpoints_of<'a>(&'a self, stages: &'a [Stage]) -> impl Iterator<Item = &'a str> {
        self.touchpoints
            .iter()
            .filter(|t| stages.iter().any(|s| s.id == t.stage))
            .map(|t| t.id.as_str())
    }
}

/// Days since the epoch of a date-only TOML value.
pub(crate) fn date_days(field: &str, value: &Datetime) -> Result<i64, WorldError> {
    match (value.date, value.time, value.offset) {
        (Some(d), None, None) if (1..=12).contains(&d.month) && (1..=31).contains(&d.day) => {
            Ok(super::calendar::days_from_civil(
                i64::from(d.year),
                u32::from(d.month),
                u32::from(d.day),
            ))
        }
        _ => Err(invalid(
            field,
            format!("must be a date like 2024-01-31, got {value}"),
        )),
    }
}

fn validate_groups(name: &str, groups: &[Group]) -> Result<(), WorldError> {
    non_empty_list(name, groups.len())?;
    unique_ids(name, groups.iter().map(|g| g.id.as_str()))?;
    for (i, g) in groups.iter().enumerate() {
        non_negative(&format!("{name}[{i}].share"), g.share)?;
        non_negative(
            &format!("{name}[{i}].response_multiplier"),
            g.response_multiplier,
        )?;
        finite(
            &format!("{name}[{i}].satisfaction_offset"),
            g.satisfaction_offset,
        )?;
    }
    positive_total(name, groups.iter().map(|g| g.share))
}

fn unique_ids<'a>(list: &str, ids: impl Iterator<Item = &'a str>) -> Result<(), WorldError> {
    let mut seen = HashSet::new();
    for (i, id) in ids.enumerate() {
        not_empty(&format!("{list}[{i}].id"), id)?;
        if !seen.insert(id) {
            return Err(invalid(
                format!("{list}[{i}].id"),
                format!("duplicate id '{id}'"),
            ));
        }
    }
    Ok(())
}

fn lookup(field: &str, what: &str, ids: &[&str], id: &str) -> Result<usize, WorldError> {
    ids.iter()
        .position(|x| *x == id)
        .ok_or_else(|| invalid(field, format!("unknown {what} '{id}'")))
}

fn monthly(
    field: &str,
    values: &[f64],
    rule: fn(&str, f64) -> Result<(), WorldError>,
) -> Result<(), WorldError> {
    if !values.is_empty() && values.len() != 12 {
        return Err(invalid(
            field,
            format!(
                "must have 12 values (January first) or none, got {}",
                values.len()
            ),
        ));
    }
    values
        .iter()
        .enumerate()
        .try_for_each(|(m, v)| rule(&format!("{field}[{m}]"), *v))
}

fn not_empty(field: &str, value: &str) -> Result<(), WorldError> {
    if value.trim().is_empty() {
        Err(invalid(field, "must not be empty"))
    } else {
        Ok(())
    }
}

fn non_empty_list(field: &str, len: usize) -> Result<(), WorldError> {
    if len == 0 {
        Err(invalid(field, "must have at least one entry"))
    } else {
        Ok(())
    }
}

fn positive_total(field: &str, values: impl Iterator<Item = f64>) -> Result<(), WorldError> {
    if values.sum::<f64>() > 0.0 {
        Ok(())
    } else {
        Err(invalid(field, "shares or weights must not all be zero"))
    }
}

fn finite(field: &str, v: f64) -> Result<(), WorldError> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(invalid(field, format!("must be a finite number, got {v}")))
    }
}

fn probability(field: &str, v: f64) -> Result<(), WorldError> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(invalid(field, format!("must be between 0 and 1, got {v}")))
    }
}

fn positive(field: &str, v: f64) -> Result<(), WorldError> {
    if v > 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(invalid(field, format!("must be greater than 0, got {v}")))
    }
}

fn non_negative(field: &str, v: f64) -> Result<(), WorldError> {
    if v >= 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(invalid(field, format!("must be 0 or more, got {v}")))
    }
}

#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;

    use super::Spec;
    use crate::world::plan::Plan;

    const AIRLINE: &str = include_str!("airline.toml");

    /// Parses, validates and plans `text` as far as it goes: an error is fine, a panic not.
    fn check(text: &str) {
        if let Ok(spec) = Spec::parse(text)
            && spec.validate().is_ok()
        {
            let _ = Plan::new(&spec);
        }
    }

    /// A TOML line: a number, a string, a table header, an array, or any text.
    fn line() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z_]{1,12} = -?[0-9]{1,4}(\\.[0-9]{0,3})?(e[0-9]{1,3})?",
            "[a-z_]{1,12} = \"\\PC{0,12}\"",
            "\\[\\[?[a-z_.]{1,16}\\]\\]?",
            "[a-z_]{1,12} = \\[[0-9., \"a-z]{0,20}\\]",
            "[a-z_]{1,12} = (nan|inf|-inf|0|-0.0|1e308|true)",
            "\\PC{0,40}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn any_text_is_a_world_or_refused(text in "\\PC{0,300}") {
            check(&text);
        }

        /// The built-in world with lines replaced, inserted or dropped.
        #[test]
        fn a_changed_airline_is_a_world_or_refused(
            edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, line()), 1..6)
        ) {
            let mut lines: Vec<String> = AIRLINE.lines().map(String::from).collect();
            for (at, kind, text) in edits {
                let i = at.index(lines.len());
                match kind {
                    0 => lines[i] = text,
                    1 => lines.insert(i, text),
                    _ => {
                        lines.remove(i);
                    }
                }
            }
            check(&lines.join("\n"));
        }
    }
}
