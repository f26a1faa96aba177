//! What a simulation really did: its parameters and counts of what happened, for the
//! analyses to be checked against. Serialized by the caller as `truth.json`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::World;
use super::calendar::iso_date;
use super::comments::Written;
use crate::stats::NpsCounts;

/// The known truth behind a simulated data set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    pub world: String,
    pub seed: u64,
    pub currency: String,
    pub observation: Observation,
    /// Parameters of the purchase process.
    pub purchase: PurchaseTruth,
    /// Parameters of the Gamma-Gamma spend process.
    pub spend: SpendTruth,
    /// Planted effects of touchpoint events, with how often each event was emitted.
    pub effects: Vec<EffectTruth>,
    /// Emitted interactions and failures per touchpoint.
    pub touchpoints: Vec<TouchpointTruth>,
    pub initiative: Option<InitiativeTruth>,
    pub counts: Counts,
    pub defection: Defection,
    /// Who was asked for feedback and what everyone asked thought (absent in truths
    /// written before it was recorded).
    #[serde(default)]
    pub survey: Option<SurveyTruth>,
    /// The follow-up programme and its planted effect, when the world runs one.
    #[serde(default)]
    pub followup: Option<super::followup::FollowUpTruth>,
    /// The comments written from templates: their planted topics (absent for a world
    /// without `[comments]`, and in truths written before it was recorded).
    #[serde(default)]
    pub comments: Option<CommentsTruth>,
}

/// The file beside `truth.json` with each comment's truth, one line per commented order:
/// `order_id`, `language`, `topics` (names joined by `|`, empty for none) and `personal`
/// (the personal data written in it, empty for none), tab-separated after a header line.
/// Kept apart so `truth.json` stays small at any number of customers; without customer ids,
/// so a customer forgotten is in no file (`cxray forget`).
pub const COMMENTS_FILE: &str = "truth_comments.tsv";

/// The comments as written: how many, in which languages, with personal data, and the
/// planted topics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommentsTruth {
    pub comments: u64,
    /// Comments per language code.
    pub languages: BTreeMap<String, u64>,
    /// Comments carrying an e-mail address, a phone number or a card number.
    pub with_personal_data: u64,
    pub topics: Vec<PlantedTopic>,
    /// Each comment's topics and personal data: [`COMMENTS_FILE`] beside `truth.json`.
    pub file: String,
}

/// A planted topic of comments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlantedTopic {
    pub name: String,
    /// The experiences its complaints are about (`touchpoint event`); none for a remark
    /// made at random.
    pub about: Vec<String>,
    /// Per language code, the words its comments use one of.
    pub terms: BTreeMap<String, Vec<String>>,
    /// Its planted effect on leaving: the largest `dropout_beta` of its experiences'
    /// effects, added to the log-odds of leaving after the trip (0: none).
    pub dropout_beta: f64,
    /// exp(dropout_beta).
    pub odds_ratio: f64,
    /// Comments that mention it.
    pub comments: u64,
}

/// Running counts of the comments written.
#[derive(Debug, Clone, Default)]
pub(crate) struct CommentTally {
    comments: u64,
    languages: BTreeMap<String, u64>,
    personal: u64,
    topics: Vec<u64>,
}

impl CommentTally {
    pub fn add(&mut self, w: &Written) {
        self.comments += 1;
        *self.languages.entry(w.language.clone()).or_default() += 1;
        self.personal += u64::from(w.personal.is_some());
        for &t in &w.topics {
            if self.topics.len() <= t {
                self.topics.resize(t + 1, 0);
            }
            self.topics[t] += 1;
        }
    }

    fn truth(&self, world: &World) -> Option<CommentsTruth> {
        let spec = world.spec();
        let c = spec.comments.as_ref()?;
        Some(CommentsTruth {
            comments: self.comments,
            languages: self.languages.clone(),
            with_personal_data: self.personal,
            topics: c
                .topics
                .iter()
                .enumerate()
                .map(|(t, topic)| {
                    let beta = c.dropout_beta(spec, t);
                    PlantedTopic {
                        name: topic.name.clone(),
                        about: topic.about.clone(),
                        terms: topic
                            .text
                            .iter()
                            .map(|(code, texts)| (code.clone(), texts.terms.clone()))
                            .collect(),
                        dropout_beta: beta,
                        odds_ratio: beta.exp(),
                        comments: self.topics.get(t).copied().unwrap_or(0),
                    }
                })
                .collect(),
            file: COMMENTS_FILE.to_string(),
        })
    }
}

/// The survey as it really went: every trip asked, those that answered, and the NPS of
/// everyone asked against the NPS of those who answered.
///
/// A trip is asked when it went through a touchpoint and its invitation, `delay_hours`
/// after its last touchpoint, falls within the observation (on or before its end). An
/// asked trip responded when its answer is in the data (an answer drawn for after the end
/// is not). For the asked trips without an answer, the NPS they would have given is drawn
/// from the same model as the answers (the person's and the trip's satisfaction plus
/// noise) on a random stream of their own, so recording it changes no other output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurveyTruth {
    pub asked: u64,
    pub responded: u64,
    /// responded / asked.
    pub response_rate: Option<f64>,
    /// The NPS (−100…100) over every asked trip: answers given and answers drawn.
    pub population_nps: Option<f64>,
    /// The NPS (−100…100) of the answers given.
    pub responder_nps: Option<f64>,
}

/// The NPS tallies of asked trips: all of them, and those that answered.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SurveyTally {
    everyone: NpsCounts,
    responders: NpsCounts,
}

impl SurveyTally {
    /// Counts an asked trip's NPS (0–10, whole), answered or drawn.
    pub fn add(&mut self, nps: f64, answered: bool) {
        let score = nps.clamp(0.0, 10.0) as u8;
        let counts = NpsCounts {
            promoters: u64::from(score >= 9),
            passives: u64::from((7..9).contains(&score)),
            detractors: u64::from(score <= 6),
        };
        self.everyone.merge(&counts);
        if answered {
            self.responders.merge(&counts);
        }
    }

    fn truth(&self) -> SurveyTruth {
        let nps = |c: &NpsCounts| ratio(100.0 * (c.promoters as f64 - c.detractors as f64), c.n());
        SurveyTruth {
            asked: self.everyone.n(),
            responded: self.responders.n(),
            response_rate: ratio(self.responders.n() as f64, self.everyone.n()),
            population_nps: nps(&self.everyone),
            responder_nps: nps(&self.responders),
        }
    }
}

/// The observation window (dates inclusive, `YYYY-MM-DD`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub start: String,
    /// Last day on which a customer can be acquired (first purchase).
    pub acquisition_end: String,
    pub end: String,
    /// Length of the time unit of `purchase.alpha`, in days.
    pub time_unit_days: f64,
}

/// λ ~ Gamma(r, alpha) purchases per time unit; p ~ Beta(a, b) dropout after a purchase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PurchaseTruth {
    /// `MBG/NBD` when the first purchase can end the relationship, else `BG/NBD`.
    pub model: String,
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
    /// r / alpha: mean purchases per time unit while alive.
    pub mean_rate: f64,
    /// a / (a + b): mean base dropout probability per purchase (before effects).
    pub mean_dropout: f64,
}

/// ν ~ Gamma(q, gamma) per customer; each amount ~ Gamma(p, ν).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpendTruth {
    pub p: f64,
    pub q: f64,
    pub gamma: f64,
    /// p·gamma / (q − 1): the population mean amount (absent when q ≤ 1).
    pub mean_amount: Option<f64>,
}

/// A touchpoint event's planted effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EffectTruth {
    pub touchpoint: String,
    /// `failed` or `long_wait`.
    pub event: String,
    /// Added to the log-odds of dropping out after the trip.
    pub dropout_beta: f64,
    /// exp(dropout_beta).
    pub odds_ratio: f64,
    /// Added to latent satisfaction (0–10 scale).
    pub satisfaction: f64,
    /// Emitted interactions at the touchpoint and how many had the event.
    pub observed: Rate,
}

/// Emitted interactions and failures at one touchpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TouchpointTruth {
    pub touchpoint: String,
    pub owner: String,
    /// The configured base rate (before site, month and initiative multipliers).
    pub base_failure_rate: f64,
    pub observed: Rate,
}

/// A count of events out of trials.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    pub trials: u64,
    pub events: u64,
    /// events / trials; absent without trials.
    pub rate: Option<f64>,
}

impl Rate {
    pub(crate) fn add(&mut self, event: bool) {
        self.trials += 1;
        self.events += u64::from(event);
        self.rate = Some(self.events as f64 / self.trials as f64);
    }
}

/// The initiative and what it really changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InitiativeTruth {
    pub name: String,
    pub site: String,
    pub date: String,
    pub failure_multiplier: f64,
    /// Emitted failure counts per covered touchpoint, at the site and elsewhere, before
    /// and after the date (by interaction time).
    pub failure_rates: Vec<InitiativeRates>,
    /// Per-trip dropout probability at the site, see [`InitiativeDropout`].
    pub dropout: InitiativeDropout,
}

/// Failures at one covered touchpoint around the initiative date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InitiativeRates {
    pub touchpoint: String,
    pub site_before: Rate,
    pub site_after: Rate,
    pub elsewhere_before: Rate,
    pub elsewhere_after: Rate,
}

/// The initiative's effect on the per-trip dropout probability at its site.
///
/// A trip's dropout probability is p_trip = logistic(logit(p) + Σ β·event) for the
/// customer's p and the trip's events (computed for every trip, including a first trip
/// that cannot end the relationship under BG/NBD). A trip counts as *after* when it has a
/// covered touchpoint at the site on or after the date, else *before* if it has one
/// before it. For trips after, the counterfactual p_trip without the initiative uses the
/// same random numbers with the unscaled failure rate; `change` = mean actual − mean
/// counterfactual (negative: fewer dropouts), and `expected_dropouts_averted` = the sum
/// of counterfactual − actual.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InitiativeDropout {
    pub trips_before: u64,
    pub mean_p_trip_before: Option<f64>,
    pub trips_after: u64,
    pub mean_p_trip_after: Option<f64>,
    pub mean_p_trip_after_without_initiative: Option<f64>,
    pub change: Option<f64>,
    pub expected_dropouts_averted: f64,
}

/// Rows emitted per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub customers: u64,
    pub transactions: u64,
    pub interactions: u64,
    pub responses: u64,
    pub owners: u64,
    pub financials: u64,
}

/// Who truly dropped out, and what they last said.
///
/// A defector dropped out (after some purchase, so before the end). Their last response is
/// their latest NPS answer by time (about any of their trips, including the one after
/// which they left); satisfied means NPS ≥ 7.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Defection {
    pub defectors: u64,
    /// defectors / customers.
    pub defector_share: Option<f64>,
    pub defectors_with_response: u64,
    pub satisfied_defectors: u64,
    /// satisfied_defectors / defectors_with_response.
    pub satisfied_defector_share: Option<f64>,
    /// Every customer with an NPS answer, by the NPS group of their last answer: how many
    /// dropped out by the end (detractor 0–6, passive 7–8, promoter 9–10).
    #[serde(default)]
    pub by_nps_group: Vec<GroupDefection>,
}

/// Respondents of one NPS group and how many of them dropped out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupDefection {
    pub group: String,
    pub respondents: u64,
    pub defectors: u64,
    /// defectors / respondents.
    pub defector_share: Option<f64>,
}

/// The NPS groups in the order of `Tally::by_nps_group`.
const NPS_GROUPS: [&str; 3] = ["detractor", "passive", "promoter"];

/// Running totals a simulation keeps; small and independent of the number of customers.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tally {
    pub counts: Counts,
    pub touchpoints: Vec<Rate>,
    pub effects: Vec<Rate>,
    /// Per covered touchpoint: [site before, site after, elsewhere before, elsewhere after].
    pub initiative_rates: Vec<[Rate; 4]>,
    pub before: (u64, f64),
    pub after: (u64, f64, f64),
    pub defectors: u64,
    pub defectors_with_response: u64,
    pub satisfied_defectors: u64,
    /// Per NPS group of the last answer: (respondents, defectors).
    pub by_nps_group: [(u64, u64); 3],
    pub survey: SurveyTally,
    pub comments: CommentTally,
}

fn ratio(num: f64, den: u64) -> Option<f64> {
    (den > 0).then(|| num / den as f64)
}

impl Tally {
    /// Counts a customer's last NPS answer (if any) and whether they dropped out.
    pub fn add_last_answer(&mut self, last: Option<(i64, f64)>, dropped_out: bool) {
        if let Some((_, score)) = last {
            let group = match score {
                s if s >= 9.0 => 2,
                s if s >= 7.0 => 1,
                _ => 0,
            };
            self.by_nps_group[group].0 += 1;
            self.by_nps_group[group].1 += u64::from(dropped_out);
        }
    }

    pub fn new(world: &World) -> Tally {
        let spec = world.spec();
        Tally {
            touchpoints: vec![Rate::default(); spec.touchpoints.len()],
            effects: vec![Rate::default(); spec.effects.len()],
            initiative_rates: vec![[Rate::default(); 4]; spec.touchpoints.len()],
            ..Tally::default()
        }
    }

    /// The truth for a finished run.
    pub fn into_truth(self, world: &World, seed: u64) -> Truth {
        let spec = world.spec();
        let plan = world.plan();
        let (pu, sp) = (&spec.purchase, &spec.spend);
        Truth {
            world: spec.name.clone(),
            seed,
            currency: spec.currency.clone(),
            observation: Observation {
                start: iso_date(plan.start_us),
                acquisition_end: iso_date(plan.start_us + plan.acquisition_us as i64 - 1),
                end: iso_date(plan.end_us),
                time_unit_days: pu.time_unit_days,
            },
            purchase: PurchaseTruth {
                model: if pu.dropout_after_first {
                    "MBG/NBD"
                } else {
                    "BG/NBD"
                }
                .to_string(),
                r: pu.r,
                alpha: pu.alpha,
                a: pu.a,
                b: pu.b,
                mean_rate: pu.r / pu.alpha,
                mean_dropout: pu.a / (pu.a + pu.b),
            },
            spend: SpendTruth {
                p: sp.p,
                q: sp.q,
                gamma: sp.gamma,
                mean_amount: (sp.q > 1.0).then(|| sp.p * sp.gamma / (sp.q - 1.0)),
            },
            effects: spec
                .effects
                .iter()
                .zip(&self.effects)
                .map(|(e, observed)| EffectTruth {
                    touchpoint: e.touchpoint.clone(),
                    event: e.event.name().to_string(),
                    dropout_beta: e.dropout_beta,
                    odds_ratio: e.dropout_beta.exp(),
                    satisfaction: e.satisfaction,
                    observed: *observed,
                })
                .collect(),
            touchpoints: spec
                .touchpoints
                .iter()
                .zip(&self.touchpoints)
                .map(|(t, observed)| TouchpointTruth {
                    touchpoint: t.id.clone(),
                    owner: t.owner.clone(),
                    base_failure_rate: t.failure_rate,
                    observed: *observed,
                })
                .collect(),
            initiative: spec.initiative.as_ref().map(|init| InitiativeTruth {
                name: init.name.clone(),
                site: init.site.clone(),
                date: iso_date(plan.initiative.as_ref().map_or(0, |i| i.from_us)),
                failure_multiplier: init.failure_multiplier,
                failure_rates: spec
                    .touchpoints
                    .iter()
                    .zip(&self.initiative_rates)
                    .filter(|(t, _)| init.touchpoints.contains(&t.id))
                    .map(
                        |(t, [site_before, site_after, elsewhere_before, elsewhere_after])| {
                            InitiativeRates {
                                touchpoint: t.id.clone(),
                                site_before: *site_before,
                                site_after: *site_after,
                                elsewhere_before: *elsewhere_before,
                                elsewhere_after: *elsewhere_after,
                            }
                        },
                    )
                    .collect(),
                dropout: InitiativeDropout {
                    trips_before: self.before.0,
                    mean_p_trip_before: ratio(self.before.1, self.before.0),
                    trips_after: self.after.0,
                    mean_p_trip_after: ratio(self.after.1, self.after.0),
                    mean_p_trip_after_without_initiative: ratio(self.after.2, self.after.0),
                    change: ratio(self.after.1 - self.after.2, self.after.0),
                    expected_dropouts_averted: self.after.2 - self.after.1,
                },
            }),
            counts: self.counts,
            defection: Defection {
                defectors: self.defectors,
                defector_share: ratio(self.defectors as f64, self.counts.customers),
                defectors_with_response: self.defectors_with_response,
                satisfied_defectors: self.satisfied_defectors,
                satisfied_defector_share: ratio(
                    self.satisfied_defectors as f64,
                    self.defectors_with_response,
                ),
                by_nps_group: NPS_GROUPS
                    .iter()
                    .zip(self.by_nps_group)
                    .map(|(group, (respondents, defectors))| GroupDefection {
                        group: group.to_string(),
                        respondents,
                        defectors,
                        defector_share: ratio(defectors as f64, respondents),
                    })
                    .collect(),
            },
            survey: Some(self.survey.truth()),
            followup: None,
            comments: self.comments.truth(world),
        }
    }
}
