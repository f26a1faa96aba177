//! The world's follow-up programme: rules like the product's case triggers (an NPS answer
//! at or below a score, a failed experience at a touchpoint) open a case per matching
//! event, routed to an owner, with the rule's cooldown; each case is drawn into the
//! followed-up or the held-out arm by the product's own keyed hash ([`Draw`]), and a
//! followed-up customer who is reached gets an apology or a compensation, which lowers
//! the log-odds of leaving after the trip by the outcome's planted β.
//!
//! The draws of outcomes and working times come from a random stream of their own per
//! customer, so the programme changes the customer's own stream only through the
//! dropout probability it changes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::World;
use super::calendar::{DAY_US, HOUR_US};
use super::records::{CaseRow, Sink};
use super::spec::{Spec, WorldError};
use crate::access::PseudonymKey;
use crate::cases::{Arm, Draw, HoldoutShare, OutcomeKind, event_key};
use crate::domain::Table;
use crate::rng::Rng;

/// The programme as the world file describes it (`[followup]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    pub rules: Vec<FollowUpRule>,
    /// Share of the followed-up cases whose customer gets an apology alone.
    pub apology_share: f64,
    /// Share that gets a compensation (the rest: no contact possible).
    pub compensation_share: f64,
    /// The amount of a compensation, in the world's currency.
    pub compensation_amount: f64,
    /// Added to the log-odds of leaving after the trip when the customer got an apology.
    #[serde(default)]
    pub apology_beta: f64,
    /// Added to the log-odds of leaving after the trip when the customer got a
    /// compensation.
    #[serde(default)]
    pub compensation_beta: f64,
    /// The mean time to first contact as a share of the owner's `sla_hours`.
    #[serde(default = "default_pace")]
    pub pace: f64,
    /// Followed-up cases opened within this many days of the end are not yet resolved
    /// or closed at the end (the owners' backlog): contacted at most.
    #[serde(default)]
    pub backlog_days: f64,
}

fn default_pace() -> f64 {
    0.6
}

/// A rule of the programme: an NPS answer at or below a score, or a failure at a
/// touchpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUpRule {
    pub name: String,
    /// An NPS answer at or below this score opens a case.
    #[serde(default)]
    pub nps_at_most: Option<f64>,
    /// A failed experience at this touchpoint opens a case.
    #[serde(default)]
    pub failed_at: Option<String>,
    /// Only customers of these groups: `segment`, `region` or `tier` → its id.
    #[serde(default)]
    pub customers: BTreeMap<String, String>,
    /// The owner of cases whose event has none (NPS answers about the whole trip).
    #[serde(default)]
    pub fallback_owner: Option<String>,
    /// The share held out, 0 to 0.5.
    #[serde(default = "default_holdout")]
    pub holdout: f64,
    /// No second case from the rule for a customer within this many days.
    #[serde(default = "default_cooldown")]
    pub cooldown_days: u32,
}

fn default_holdout() -> f64 {
    HoldoutShare::DEFAULT.get()
}
fn default_cooldown() -> u32 {
    30
}

/// The SLA of an owner without one, in hours (as the product's deadlines assume).
const DEFAULT_SLA_HOURS: f64 = 48.0;
/// The windows (days) whose expected difference in buying again the truth records: the
/// defaults of `cxray cases effect`.
pub const WINDOWS: [u32; 2] = [90, 180];
/// Salts the seed of the programme's own streams.
const STREAM: u64 = 0xF011_0C0A_5E5D_0002;

/// The holdout key of a world simulated with `seed`: the data folder's secret key the
/// demo gives its folder, so that the product draws the arms the simulation drew.
pub fn holdout_key(seed: u64) -> PseudonymKey {
    blake3::derive_key("cxray demo world holdout key", &seed.to_le_bytes())
}

pub(crate) fn validate(spec: &Spec) -> Result<(), WorldError> {
    let Some(f) = &spec.followup else {
        return Ok(());
    };
    let invalid = |field: String, message: String| WorldError::Invalid { field, message };
    let share = |field: &str, v: f64| match (0.0..=1.0).contains(&v) {
        true => Ok(()),
        false => Err(invalid(
            format!("followup.{field}"),
            format!("must be between 0 and 1, got {v}"),
        )),
    };
    share("apology_share", f.apology_share)?;
    share("compensation_share", f.compensation_share)?;
    if f.apology_share + f.compensation_share > 1.0 {
        return Err(invalid(
            "followup.compensation_share".into(),
            "apology_share and compensation_share must add up to 1 at most".into(),
        ));
    }
    if !(f.compensation_amount > 0.0 && f.compensation_amount.is_finite()) {
        return Err(invalid(
            "followup.compensation_amount".into(),
            format!("must be greater than 0, got {}", f.compensation_amount),
        ));
    }
    for (field, v) in [
        ("apology_beta", f.apology_beta),
        ("compensation_beta", f.compensation_beta),
    ] {
        if !v.is_finite() {
            return Err(invalid(
                format!("followup.{field}"),
                format!("must be a finite number, got {v}"),
            ));
        }
    }
    if !(f.pace > 0.0 && f.pace.is_finite()) {
        return Err(invalid(
            "followup.pace".into(),
            format!("must be greater than 0, got {}", f.pace),
        ));
    }
    if !(f.backlog_days >= 0.0 && f.backlog_days.is_finite()) {
        return Err(invalid(
            "followup.backlog_days".into(),
            format!("must be 0 or more, got {}", f.backlog_days),
        ));
    }
    if f.rules.is_empty() {
        return Err(invalid(
            "followup.rules".into(),
            "must have at least one entry".into(),
        ));
    }
    let owners: Vec<&str> = spec.owners.iter().map(|o| o.id.as_str()).collect();
    for (i, r) in f.rules.iter().enumerate() {
        let field = |f: &str| format!("followup.rules[{i}].{f}");
        let name = r.name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            return Err(invalid(
                field("name"),
                "must have 1 to 80 characters".into(),
            ));
        }
        if f.rules[..i]
            .iter()
            .any(|o| o.name.trim().eq_ignore_ascii_case(name))
        {
            return Err(invalid(field("name"), format!("duplicate name '{name}'")));
        }
        match (r.nps_at_most, &r.failed_at) {
            (Some(s), None) if (0.0..=9.0).contains(&s) && s.fract() == 0.0 => {}
            (Some(s), None) => {
                return Err(invalid(
                    field("nps_at_most"),
                    format!("must be a whole score from 0 to 9, got {s}"),
                ));
            }
            (None, Some(t)) => {
                if !spec.touchpoints.iter().any(|tp| tp.id == *t) {
                    return Err(invalid(
                        field("failed_at"),
                        format!("unknown touchpoint '{t}'"),
                    ));
                }
            }
            _ => {
                return Err(invalid(
                    format!("followup.rules[{i}]"),
                    "give either nps_at_most or failed_at".into(),
                ));
            }
        }
        for (column, value) in &r.customers {
            let field = field(&format!("customers.{column}"));
            let groups = match column.as_str() {
                "segment" => &spec.segments,
                "region" => &spec.regions,
                "tier" => &spec.tiers,
                _ => {
                    return Err(invalid(field, "must be segment, region or tier".into()));
                }
            };
            if !groups.iter().any(|g| g.id == *value) {
                return Err(invalid(field, format!("unknown {column} '{value}'")));
            }
        }
        match &r.fallback_owner {
            Some(o) if !owners.contains(&o.as_str()) => {
                return Err(invalid(
                    field("fallback_owner"),
                    format!("unknown owner '{o}'"),
                ));
            }
            None if r.nps_at_most.is_some() => {
                return Err(invalid(
                    field("fallback_owner"),
                    "an NPS rule needs the owner of its cases".into(),
                ));
            }
            _ => {}
        }
        HoldoutShare::new(r.holdout).map_err(|e| invalid(field("holdout"), e.to_string()))?;
    }
    Ok(())
}

/// What the programme did, and the difference following up made (the planted truth).
///
/// A case's effect is the difference between its customer's probability of leaving after
/// the trip when the case is followed up and when it is held out (the trip's other cases
/// as they were drawn), with the outcome the case gets when followed up (drawn for every
/// case, held out or not): `leaving_change_points` is its mean over the cases, in
/// percentage points (negative: fewer leave). Its effect on buying again within a window
/// of *W* days after the opening day is that change times the probability of a purchase
/// in the window for a customer who stays (from the customer's purchase rate; a purchase
/// between the trip and the window counted with the customer's base chance of staying
/// after it, later ones not at all: a close approximation, since the days between a trip
/// and its case are few against the months between purchases), averaged
/// over the cases whose window ends by the end of the observation — what `cxray cases
/// effect` estimates by intention to treat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUpTruth {
    pub apology_share: f64,
    pub compensation_share: f64,
    pub compensation_amount: f64,
    /// Every case of every rule.
    pub overall: ArmsTruth,
    pub rules: Vec<RuleTruth>,
    /// The followed-up cases by the outcome they got (drawn at opening).
    pub outcomes: Vec<OutcomeTruth>,
    /// The sum over trips with a followed-up case of the probability of leaving without
    /// the follow-up less with it: the customers the programme kept, in expectation.
    pub expected_customers_kept: f64,
}

/// A group of cases: counts and the planted effect of following up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmsTruth {
    pub cases: u64,
    pub follow_up: u64,
    pub holdout: u64,
    /// Mean change in the probability of leaving after the trip, percentage points.
    pub leaving_change_points: Option<f64>,
    pub repurchase: Vec<WindowTruth>,
}

/// The expected difference in buying again within a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowTruth {
    pub days: u32,
    /// Cases whose window ends by the end of the observation.
    pub cases: u64,
    /// Followed up − held out, percentage points.
    pub change_points: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleTruth {
    pub name: String,
    /// The rule's id the holdout draw used.
    pub id: i64,
    /// Events of customers within the rule's cooldown (no case).
    pub cooling_down: u64,
    #[serde(flatten)]
    pub arms: ArmsTruth,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeTruth {
    /// `apology`, `compensation` or `no_contact`.
    pub outcome: String,
    /// Added to the log-odds of leaving after the trip.
    pub dropout_beta: f64,
    pub odds_ratio: f64,
    /// Followed-up cases with this outcome, and their mean effect.
    #[serde(flatten)]
    pub arms: ArmsTruth,
}

/// Running sums of a group of cases.
#[derive(Debug, Clone, Default)]
struct Sums {
    cases: u64,
    held_out: u64,
    leaving: f64,
    /// Per window: cases ended, sum of the change in buying again.
    windows: [(u64, f64); WINDOWS.len()],
}

impl Sums {
    fn add(&mut self, c: &Effect) {
        self.cases += 1;
        self.held_out += u64::from(c.arm == Arm::Holdout);
        self.leaving += c.leaving;
        for (w, r) in self.windows.iter_mut().zip(&c.repurchase) {
            if let Some(r) = r {
                *w = (w.0 + 1, w.1 + r);
            }
        }
    }

    fn truth(&self) -> ArmsTruth {
        let mean = |sum: f64, n: u64| (n > 0).then(|| 100.0 * sum / n as f64);
        ArmsTruth {
            cases: self.cases,
            follow_up: self.cases - self.held_out,
            holdout: self.held_out,
            leaving_change_points: mean(self.leaving, self.cases),
            repurchase: WINDOWS
                .iter()
                .zip(&self.windows)
                .map(|(&days, &(n, sum))| WindowTruth {
                    days,
                    cases: n,
                    change_points: mean(sum, n),
                })
                .collect(),
        }
    }
}

/// One case's planted effect.
struct Effect {
    arm: Arm,
    /// P(leave | followed up) − P(leave | held out).
    leaving: f64,
    /// Per window: the change in the probability of buying again, if the window ended.
    repurchase: [Option<f64>; WINDOWS.len()],
}

/// A rule resolved for the simulation.
struct RulePlan {
    id: i64,
    nps_at_most: Option<f64>,
    touchpoint: Option<usize>,
    fallback: Option<String>,
    holdout: HoldoutShare,
    cooldown_us: i64,
    /// Per group list (segments, regions, tiers): the index the customer must have.
    customers: [Option<usize>; 3],
}

/// The outcomes a followed-up case can get, in the order of [`FollowUpTruth::outcomes`].
const OUTCOMES: [OutcomeKind; 3] = [
    OutcomeKind::Apology,
    OutcomeKind::Compensation,
    OutcomeKind::NoContact,
];

/// A touchpoint experience of a trip, as the programme sees it.
pub(crate) struct Experience {
    pub touchpoint: usize,
    pub at: i64,
    pub failed: bool,
    pub wait: f64,
}

/// A trip as the programme sees it.
pub(crate) struct Trip<'a> {
    pub index: u64,
    pub customer: &'a str,
    /// The customer's segment, region and tier (indices).
    pub groups: [usize; 3],
    /// When it was bought.
    pub bought: i64,
    /// The customer's base dropout probability and purchase rate per time unit.
    pub p: f64,
    pub lambda: f64,
    /// The trip's probability of leaving after it, before any follow-up.
    pub p_trip: f64,
    /// Whether the trip can end the relationship.
    pub can_leave: bool,
    pub experiences: Vec<Experience>,
    /// The NPS answer (time, score), if one was given.
    pub nps: Option<(i64, f64)>,
}

/// The programme during a simulation.
pub(crate) struct Programme {
    spec: FollowUp,
    rules: Vec<RulePlan>,
    key: PseudonymKey,
    seed: u64,
    /// The touchpoints' owners and the owners' SLAs (hours).
    owners: Vec<String>,
    sla: Vec<(String, f64)>,
    end_us: i64,
    unit_us: f64,
    /// The customer whose stream and cooldowns are current.
    customer: Option<u64>,
    rng: Rng,
    last_case: Vec<Option<i64>>,
    overall: Sums,
    by_rule: Vec<(Sums, u64)>,
    by_outcome: [Sums; 3],
    kept: f64,
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// A case before its effect: the event, routing, arm and the outcome it gets if
/// followed up.
struct Opening {
    rule: usize,
    at: i64,
    key: String,
    touchpoint: Option<usize>,
    detail: String,
    owner: Option<String>,
    arm: Arm,
    outcome: usize,
    /// Hours to first contact and from contact to resolution.
    contact_hours: f64,
    resolve_hours: f64,
}

impl Programme {
    /// The world's programme with the rules' ids (`ids[i]` for rule `i`; 1, 2, … when
    /// not given) and the key from [`holdout_key`]; none without one.
    pub fn new(world: &World, seed: u64, ids: Option<&[i64]>) -> Option<Programme> {
        let spec = world.spec();
        let f = spec.followup.clone()?;
        let plan = world.plan();
        let rules = f
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| RulePlan {
                id: ids
                    .and_then(|ids| ids.get(i).copied())
                    .unwrap_or(i as i64 + 1),
                nps_at_most: r.nps_at_most,
                touchpoint: r
                    .failed_at
                    .as_ref()
                    .and_then(|t| spec.touchpoints.iter().position(|tp| tp.id == *t)),
                fallback: r.fallback_owner.clone(),
                holdout: HoldoutShare::new(r.holdout).expect("validated"),
                cooldown_us: i64::from(r.cooldown_days) * DAY_US,
                customers: [
                    ("segment", &spec.segments),
                    ("region", &spec.regions),
                    ("tier", &spec.tiers),
                ]
                .map(|(column, groups)| {
                    let value = r.customers.get(column)?;
                    groups.iter().position(|g| g.id == *value)
                }),
            })
            .collect::<Vec<_>>();
        let n = rules.len();
        Some(Programme {
            spec: f,
            rules,
            key: holdout_key(seed),
            seed,
            owners: spec.touchpoints.iter().map(|t| t.owner.clone()).collect(),
            sla: spec
                .owners
                .iter()
                .map(|o| (o.id.clone(), o.sla_hours.unwrap_or(DEFAULT_SLA_HOURS)))
                .collect(),
            end_us: plan.end_us,
            unit_us: plan.unit_us,
            customer: None,
            rng: Rng::stream(seed ^ STREAM, 0),
            last_case: vec![None; n],
            overall: Sums::default(),
            by_rule: vec![(Sums::default(), 0); n],
            by_outcome: Default::default(),
            kept: 0.0,
        })
    }

    fn beta(&self, outcome: usize) -> f64 {
        match OUTCOMES[outcome] {
            OutcomeKind::Apology => self.spec.apology_beta,
            OutcomeKind::Compensation => self.spec.compensation_beta,
            _ => 0.0,
        }
    }

    fn sla_hours(&self, owner: Option<&str>) -> f64 {
        owner
            .and_then(|o| self.sla.iter().find(|(id, _)| id == o))
            .map_or(DEFAULT_SLA_HOURS, |(_, h)| *h)
    }

    /// Opens the trip's cases (emitted to `sink`) and returns the trip's probability of
    /// leaving after them.
    pub fn trip(&mut self, trip: &Trip, world: &World, sink: &mut impl Sink) -> f64 {
        if self.customer != Some(trip.index) {
            self.customer = Some(trip.index);
            self.rng = Rng::stream(self.seed ^ STREAM, trip.index);
            self.last_case.iter_mut().for_each(|l| *l = None);
        }
        let openings = self.open(trip, world);
        if openings.is_empty() {
            return trip.p_trip;
        }
        let base = logit(trip.p_trip);
        let followed = |o: &Opening| o.arm == Arm::FollowUp;
        let shift: f64 = openings
            .iter()
            .filter(|o| followed(o))
            .map(|o| self.beta(o.outcome))
            .sum();
        let p_after = logistic(base + shift);
        if trip.can_leave {
            self.kept += trip.p_trip - p_after;
        }
        for o in &openings {
            let own = self.beta(o.outcome);
            let others = shift - if followed(o) { own } else { 0.0 };
            let leaving = match trip.can_leave {
                true => logistic(base + others + own) - logistic(base + others),
                false => 0.0,
            };
            let effect = Effect {
                arm: o.arm,
                leaving,
                repurchase: WINDOWS
                    .map(|days| self.repurchase(trip, o.at, days).map(|r| -leaving * r)),
            };
            self.overall.add(&effect);
            self.by_rule[o.rule].0.add(&effect);
            if followed(o) {
                self.by_outcome[o.outcome].add(&effect);
            }
            sink.case(self.row(o, trip.customer, world));
        }
        if trip.can_leave { p_after } else { trip.p_trip }
    }

    /// The trip's events that open cases, earliest first, each rule's cooldown applied.
    fn open(&mut self, trip: &Trip, world: &World) -> Vec<Opening> {
        let spec = world.spec();
        let mut events: Vec<(i64, usize, Option<usize>, String)> = Vec::new();
        for (r, rule) in self.rules.iter().enumerate() {
            let theirs = rule.customers.iter().zip(trip.groups);
            if theirs
                .into_iter()
                .any(|(want, has)| want.is_some_and(|w| w != has))
            {
                continue;
            }
            if let (Some(limit), Some((at, score))) = (rule.nps_at_most, trip.nps)
                && score <= limit
                && at <= self.end_us
            {
                events.push((at, r, None, format!("nps {score}")));
            }
            if let Some(t) = rule.touchpoint {
                for e in trip
                    .experiences
                    .iter()
                    .filter(|e| e.touchpoint == t && e.failed && e.at <= self.end_us)
                {
                    events.push((e.at, r, Some(t), format!("failed, waited {:.0} s", e.wait)));
                }
            }
        }
        events.sort_by_key(|e| (e.0, e.1));
        let mut out = Vec::new();
        for (at, r, touchpoint, detail) in events {
            let rule = &self.rules[r];
            if self.last_case[r].is_some_and(|last| at - last < rule.cooldown_us) {
                self.by_rule[r].1 += 1;
                continue;
            }
            self.last_case[r] = Some(at);
            let time = at.to_string();
            let key = match touchpoint {
                Some(t) => event_key(
                    Table::Interactions,
                    &[trip.customer, &spec.touchpoints[t].id, &time],
                ),
                None => event_key(Table::Responses, &[trip.customer, "", &time, "nps"]),
            };
            let owner = touchpoint
                .map(|t| self.owners[t].clone())
                .or_else(|| rule.fallback.clone());
            let draw = Draw {
                rule: rule.id,
                owner: owner.as_deref().unwrap_or(""),
                customer: trip.customer,
            };
            let arm = draw.arm(&self.key, rule.holdout);
            // Drawn for every case, held out or not, so the streams do not depend on arms.
            let u = self.rng.uniform();
            let outcome = if u < self.spec.apology_share {
                0
            } else if u < self.spec.apology_share + self.spec.compensation_share {
                1
            } else {
                2
            };
            let sla = self.sla_hours(owner.as_deref());
            let contact_hours = self.rng.exponential(1.0 / (self.spec.pace * sla.max(1.0)));
            let resolve_hours = self.rng.exponential(1.0 / sla.max(1.0));
            out.push(Opening {
                rule: r,
                at,
                key,
                touchpoint,
                detail,
                owner,
                arm,
                outcome,
                contact_hours,
                resolve_hours,
            });
        }
        out
    }

    /// The probability that a customer who stays after the trip buys within the window of
    /// `days` after the opening day of a case opened at `at`; none when the window ends
    /// after the observation.
    fn repurchase(&self, trip: &Trip, at: i64, days: u32) -> Option<f64> {
        let day = at.div_euclid(DAY_US);
        if day + i64::from(days) > self.end_us.div_euclid(DAY_US) {
            return None;
        }
        let from = ((day + 1) * DAY_US - trip.bought) as f64 / self.unit_us;
        let length = f64::from(days) * DAY_US as f64 / self.unit_us;
        let none_before = (-trip.lambda * from).exp();
        let within = 1.0 - (-trip.lambda * length).exp();
        Some(within * (none_before + (1.0 - none_before) * (1.0 - trip.p)))
    }

    /// The case as the operational database records it, worked as far as the end of the
    /// observation allows: a followed-up case is contacted after its contact time (unless
    /// nobody could be reached: then it is closed then), resolved after its resolution
    /// time, unless it is in the backlog; a held-out case stays open.
    fn row(&self, o: &Opening, customer: &str, world: &World) -> CaseRow {
        let spec = world.spec();
        let hours = |h: f64| (h * HOUR_US as f64) as i64;
        let contact = o.at + hours(o.contact_hours);
        let done = contact + hours(o.resolve_hours);
        let worked = o.arm == Arm::FollowUp;
        let backlog = ((self.end_us - o.at) as f64) < self.spec.backlog_days * DAY_US as f64;
        let end = |t: i64| (t <= self.end_us && !backlog).then_some(t);
        let kind = OUTCOMES[o.outcome];
        let reached = kind != OutcomeKind::NoContact;
        let (contacted_at, done_at) = match (worked, reached) {
            (false, _) => (None, None),
            (true, true) => ((contact <= self.end_us).then_some(contact), end(done)),
            (true, false) => (None, end(contact)),
        };
        CaseRow {
            rule: o.rule,
            rule_id: self.rules[o.rule].id,
            event_key: o.key.clone(),
            customer_id: customer.to_string(),
            at: o.at,
            touchpoint: o.touchpoint.map(|t| spec.touchpoints[t].id.clone()),
            detail: o.detail.clone(),
            owner: o.owner.clone(),
            arm: o.arm,
            outcome: done_at.map(|_| kind),
            amount: (done_at.is_some() && kind == OutcomeKind::Compensation)
                .then_some(self.spec.compensation_amount),
            contacted_at,
            done_at,
        }
    }

    /// The truth of the finished run.
    pub fn truth(&self) -> FollowUpTruth {
        FollowUpTruth {
            apology_share: self.spec.apology_share,
            compensation_share: self.spec.compensation_share,
            compensation_amount: self.spec.compensation_amount,
            overall: self.overall.truth(),
            rules: self
                .spec
                .rules
                .iter()
                .zip(&self.rules)
                .zip(&self.by_rule)
                .map(|((r, plan), (sums, cooling))| RuleTruth {
                    name: r.name.clone(),
                    id: plan.id,
                    cooling_down: *cooling,
                    arms: sums.truth(),
                })
                .collect(),
            outcomes: OUTCOMES
                .iter()
                .enumerate()
                .map(|(i, kind)| OutcomeTruth {
                    outcome: kind.name().to_string(),
                    dropout_beta: self.beta(i),
                    odds_ratio: self.beta(i).exp(),
                    arms: self.by_outcome[i].truth(),
                })
                .collect(),
            expected_customers_kept: self.kept,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;
    use crate::cases::effect::{CaseWindow, EffectSettings, effect};
    use crate::world::records::*;
    use crate::world::simulate;

    /// The rows the programme's checks need: purchases by customer (day, amount), NPS
    /// answers' event keys with their scores, and the cases.
    #[derive(Default)]
    struct Rows {
        purchases: HashMap<String, Vec<(i64, f64)>>,
        answers: HashMap<String, f64>,
        failures: HashSet<String>,
        cases: Vec<CaseRow>,
    }

    impl Sink for Rows {
        fn customer(&mut self, _: CustomerRow) {}
        fn transaction(&mut self, r: TransactionRow) {
            let day = r.at.div_euclid(DAY_US);
            self.purchases
                .entry(r.customer_id)
                .or_default()
                .push((day, r.amount));
        }
        fn interaction(&mut self, r: InteractionRow) {
            if r.outcome == "failed" {
                let at = r.at.to_string();
                let key = event_key(Table::Interactions, &[&r.customer_id, &r.touchpoint, &at]);
                self.failures.insert(key);
            }
        }
        fn response(&mut self, r: ResponseRow) {
            if r.instrument == "nps" {
                let at = r.at.to_string();
                let key = event_key(Table::Responses, &[&r.customer_id, "", &at, "nps"]);
                self.answers.insert(key, r.score);
            }
        }
        fn owner(&mut self, _: OwnerRow) {}
        fn financial(&mut self, _: FinancialRow) {}
        fn case(&mut self, row: CaseRow) {
            self.cases.push(row);
        }
    }

    fn world(edit: impl FnOnce(&mut FollowUp)) -> World {
        let mut spec = World::airline().spec().clone();
        edit(
            spec.followup
                .as_mut()
                .expect("the airline runs a programme"),
        );
        World::new(spec).unwrap()
    }

    fn run(world: &World, customers: u64, seed: u64) -> (Rows, FollowUpTruth) {
        let mut rows = Rows::default();
        let truth = simulate(world, customers, seed, &mut rows);
        (rows, truth.followup.expect("a programme"))
    }

    /// The cases' windows of `days` as `cxray cases effect` builds them: purchases in the
    /// days 1 … `days` after the opening day and as many before; cases whose window ends
    /// after the last purchase left out.
    fn windows(rows: &Rows, days: u32) -> Vec<CaseWindow> {
        let as_of = rows
            .purchases
            .values()
            .flatten()
            .map(|p| p.0)
            .max()
            .unwrap();
        let w = i64::from(days);
        rows.cases
            .iter()
            .filter(|c| c.at.div_euclid(DAY_US) + w <= as_of)
            .map(|c| {
                let day = c.at.div_euclid(DAY_US);
                let none = Vec::new();
                let bought = rows.purchases.get(&c.customer_id).unwrap_or(&none);
                let sum = |range: std::ops::RangeInclusive<i64>| {
                    let inside = bought.iter().filter(|p| range.contains(&(p.0 - day)));
                    inside.fold((0, 0.0), |(n, s), p| (n + 1, s + p.1))
                };
                let (pre, post) = (sum(-w..=-1), sum(1..=w));
                CaseWindow {
                    arm: c.arm,
                    pre_purchases: pre.0,
                    pre_spend: pre.1,
                    purchases: post.0,
                    spend: post.1,
                    p_alive_change: None,
                    clv: None,
                    compensation: c.amount.unwrap_or(0.0),
                }
            })
            .collect()
    }

    #[test]
    fn cases_follow_the_products_rules_and_draw() {
        let airline = World::airline();
        let spec = airline.spec().followup.clone().unwrap();
        let (rows, truth) = run(&airline, 4_000, 7);
        let key = holdout_key(7);
        let mut last: HashMap<(usize, &str), i64> = HashMap::new();
        for c in &rows.cases {
            let rule = &spec.rules[c.rule];
            assert_eq!(c.rule_id, c.rule as i64 + 1);
            // The product's draw, with the key the demo gives its folder.
            let draw = Draw {
                rule: c.rule_id,
                owner: c.owner.as_deref().unwrap(),
                customer: &c.customer_id,
            };
            let share = HoldoutShare::new(rule.holdout).unwrap();
            assert_eq!(draw.arm(&key, share), c.arm);
            // The event is in the data and meets the rule.
            match (rule.nps_at_most, &c.touchpoint) {
                (Some(limit), None) => assert!(rows.answers[&c.event_key] <= limit),
                (None, Some(t)) => {
                    assert_eq!(Some(t), rule.failed_at.as_ref());
                    assert!(rows.failures.contains(&c.event_key));
                }
                _ => panic!("{c:?}"),
            }
            // Cooldown: no second case of a rule within its days.
            let before = last.insert((c.rule, &c.customer_id), c.at);
            assert!(before.is_none_or(|b| c.at - b >= i64::from(rule.cooldown_days) * DAY_US));
            // Held out: never worked.
            if c.arm == Arm::Holdout {
                assert!(c.contacted_at.is_none() && c.done_at.is_none() && c.outcome.is_none());
            }
            if let (Some(done), Some(contact)) = (c.done_at, c.contacted_at) {
                assert!(c.at <= contact && contact <= done);
            }
            assert_eq!(
                c.amount.is_some(),
                c.outcome == Some(OutcomeKind::Compensation)
            );
        }
        assert_eq!(truth.overall.cases, rows.cases.len() as u64);
        let held = rows.cases.iter().filter(|c| c.arm == Arm::Holdout).count() as u64;
        assert_eq!(truth.overall.holdout, held);
        let share = held as f64 / rows.cases.len() as f64;
        assert!((share - 0.2).abs() < 0.04, "{share}");
        // Every status is there: worked, in progress, not yet contacted.
        assert!(
            rows.cases
                .iter()
                .any(|c| c.outcome == Some(OutcomeKind::Compensation))
        );
        assert!(
            rows.cases
                .iter()
                .any(|c| c.outcome == Some(OutcomeKind::Apology))
        );
        assert!(
            rows.cases
                .iter()
                .any(|c| c.outcome == Some(OutcomeKind::NoContact))
        );
        assert!(truth.expected_customers_kept > 0.0);
        // Following up lowers leaving; a compensation more than an apology.
        let change = |o: usize| truth.outcomes[o].arms.leaving_change_points.unwrap();
        assert!(change(1) < change(0) && change(0) < 0.0 && change(2) == 0.0);
    }

    #[test]
    fn rule_ids_change_the_draw_and_nothing_else_without_an_effect() {
        let flat = world(|f| {
            f.apology_beta = 0.0;
            f.compensation_beta = 0.0;
        });
        let mut a = Rows::default();
        let mut b = Rows::default();
        crate::world::simulate_with_rules(&flat, 500, 3, None, &mut a, |_| {});
        crate::world::simulate_with_rules(&flat, 500, 3, Some(&[11, 12]), &mut b, |_| {});
        assert_eq!(a.purchases, b.purchases);
        assert_eq!(a.cases.len(), b.cases.len());
        assert!(b.cases.iter().all(|c| c.rule_id == c.rule as i64 + 11));
        assert!(a.cases.iter().zip(&b.cases).any(|(x, y)| x.arm != y.arm));
    }

    /// Over seeds, how often the 95% interval of the difference in buying again within
    /// 180 days covers the truth's expected difference.
    fn coverage(world: &World, seeds: u64, customers: u64) -> (u64, Vec<(f64, f64, f64)>) {
        let mut hits = 0;
        let mut seen = Vec::new();
        for seed in 0..seeds {
            let (rows, truth) = run(world, customers, 100 + seed);
            let e = effect(&windows(&rows, 180), &EffectSettings::default()).unwrap();
            let planted = truth.overall.repurchase[1].change_points.unwrap();
            let (low, high) = (e.repurchase.low.unwrap(), e.repurchase.high.unwrap());
            hits += u64::from(low <= planted && planted <= high);
            seen.push((planted, e.repurchase.value, high - low));
        }
        (hits, seen)
    }

    /// With no planted effect the interval of `cases effect`'s difference in buying again
    /// covers zero in about 95% of seeds: the keyed draw splits the cases at random.
    #[test]
    fn without_an_effect_the_interval_covers_zero_in_about_95_percent_of_seeds() {
        let flat = world(|f| {
            f.apology_beta = 0.0;
            f.compensation_beta = 0.0;
        });
        let (hits, seen) = coverage(&flat, 40, 3_000);
        assert!(seen.iter().all(|s| s.0 == 0.0));
        eprintln!("zero covered in {hits} of 40 seeds");
        // Binomial(40, 0.95): at least 34 with probability 0.99.
        assert!(hits >= 34, "{hits} of 40: {seen:?}");
    }

    /// With the airline's planted effect the interval covers the truth's expected
    /// difference in about 95% of seeds, and the estimates average to it: their mean is
    /// within three standard errors of the truths' mean, and far from zero.
    #[test]
    fn the_planted_effect_is_recovered_across_seeds() {
        let seeds = 30;
        let (hits, seen) = coverage(&World::airline(), seeds, 20_000);
        let n = seeds as f64;
        let truth = seen.iter().map(|s| s.0).sum::<f64>() / n;
        let mean = seen.iter().map(|s| s.1).sum::<f64>() / n;
        let sd = (seen.iter().map(|s| (s.1 - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let se = sd / n.sqrt();
        eprintln!(
            "covered in {hits} of {seeds} seeds; estimates {mean:.2} ± {se:.2} (se), truth {truth:.2}"
        );
        assert!(hits >= 25, "{hits} of {seeds}: {seen:?}");
        assert!((mean - truth).abs() < 3.0 * se, "{mean} ± {se} vs {truth}");
        assert!(truth > 3.0 * se, "{truth} vs {se}");
    }
}
