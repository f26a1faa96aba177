//! The simulation: customers one by one, each trip through the journey's touchpoints,
//! surveys, dropout; rows go to the sink as they happen.

use super::World;
use super::calendar::{DAY_US, HOUR_US, month_number, month_start_day};
use super::comments::{Experience, Writer, Written};
use super::followup::{self, Programme};
use super::plan::Plan;
use super::records::{
    CommentRow, CustomerRow, FinancialRow, InteractionRow, OwnerRow, ResponseRow, Sink,
    TransactionRow,
};
use super::spec::Event;
use super::truth::{Tally, Truth};
use crate::rng::Rng;

/// Simulates `customers` customers of `world` with `seed`, emitting every row (customers,
/// transactions, interactions, responses, then owners and monthly financials) to `sink`.
pub fn simulate(world: &World, customers: u64, seed: u64, sink: &mut impl Sink) -> Truth {
    simulate_with_progress(world, customers, seed, sink, |_| {})
}

/// [`simulate`], calling `progress` with the number of customers done every 4,096
/// customers and at the end.
pub fn simulate_with_progress(
    world: &World,
    customers: u64,
    seed: u64,
    sink: &mut impl Sink,
    progress: impl FnMut(u64),
) -> Truth {
    simulate_with_rules(world, customers, seed, None, sink, progress)
}

/// [`simulate_with_progress`] with the ids of the follow-up programme's rules, in the
/// world's order (1, 2, … when none), which its holdout draws use.
pub fn simulate_with_rules(
    world: &World,
    customers: u64,
    seed: u64,
    rules: Option<&[i64]>,
    sink: &mut impl Sink,
    mut progress: impl FnMut(u64),
) -> Truth {
    let mut sim = Simulation::new(world, customers, seed);
    sim.programme = Programme::new(world, seed, rules);
    for index in 0..customers {
        sim.customer(index, sink);
        if (index + 1) % 4096 == 0 || index + 1 == customers {
            progress(index + 1);
        }
    }
    sim.finish(sink)
}

/// What became of one customer (for checks against the emitted rows).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fate {
    pub customer_id: String,
    pub dropped_out: bool,
}

/// A run in progress: the world, the running totals and monthly revenue.
pub(crate) struct Simulation<'w> {
    world: &'w World,
    seed: u64,
    id_width: usize,
    tally: Tally,
    first_month: i64,
    revenue: Vec<f64>,
    visits: Vec<Visit>,
    programme: Option<Programme>,
    /// Writes comments from the world's templates, when it has them.
    writer: Option<Writer<'w>>,
}

/// A customer's fixed traits.
struct Person<'w> {
    index: u64,
    id: String,
    number: String,
    home: usize,
    /// Segment, region and tier (indices).
    groups: [usize; 3],
    p: f64,
    nu: f64,
    response_multiplier: f64,
    satisfaction_offset: f64,
    /// The language the customer writes in, when the world writes comments from templates.
    language: Option<&'w str>,
}

/// One touchpoint experience of a trip.
#[derive(Debug, Clone, Copy)]
struct Visit {
    touchpoint: usize,
    at: i64,
    failed: bool,
    /// Whether it would have failed without the initiative (same random number).
    failed_without_initiative: bool,
    long_wait: bool,
    wait: f64,
}

impl Visit {
    fn has(&self, event: Event, without_initiative: bool) -> bool {
        match event {
            Event::Failed if without_initiative => self.failed_without_initiative,
            Event::Failed => self.failed,
            Event::LongWait => self.long_wait,
        }
    }
}

/// Salts the seed of the streams that draw the answers of asked trips without one.
const UNANSWERED: u64 = 0x5EED_0F0A_5CED_0001;
/// Salts the seed of the streams that write comments from templates.
const COMMENTS: u64 = 0x5EED_0F0A_5CED_0002;
/// Salts the seed of the streams that write comments on touchpoints' answers.
const TOUCHPOINT_COMMENTS: u64 = 0x5EED_0F0A_5CED_0004;
/// Salts the seed of the streams that draw the language of customers.
const LANGUAGES: u64 = 0x5EED_0F0A_5CED_0003;

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

impl<'w> Simulation<'w> {
    pub fn new(world: &'w World, customers: u64, seed: u64) -> Self {
        let plan = world.plan();
        let first_month = month_number(plan.start_us);
        Simulation {
            world,
            seed,
            id_width: customers.max(1).to_string().len().max(7),
            tally: Tally::new(world),
            first_month,
            revenue: vec![0.0; (month_number(plan.end_us) - first_month + 1) as usize],
            visits: Vec::new(),
            programme: Programme::new(world, seed, None),
            writer: world
                .spec()
                .comments
                .as_ref()
                .map(|c| Writer::new(world.spec(), c)),
        }
    }

    fn plan(&self) -> &'w Plan {
        self.world.plan()
    }

    /// Simulates customer `index` (0-based) from its own random stream.
    pub fn customer(&mut self, index: u64, sink: &mut impl Sink) -> Fate {
        let (spec, plan) = (self.world.spec(), self.plan());
        let mut rng = Rng::stream(self.seed, index);
        let groups = [&plan.segments, &plan.regions, &plan.tiers].map(|w| rng.weighted(w));
        let home = rng.weighted(&plan.sites);
        let lambda = rng.gamma(spec.purchase.r, spec.purchase.alpha);
        let p = rng
            .beta(spec.purchase.a, spec.purchase.b)
            .clamp(1e-12, 1.0 - 1e-12);
        let nu = rng.gamma(spec.spend.q, spec.spend.gamma);
        let first = plan.start_us + (rng.uniform() * plan.acquisition_us) as i64;
        let number = format!("{:0w$}", index + 1, w = self.id_width);
        let [seg, reg, tier] = [
            (&spec.segments, groups[0]),
            (&spec.regions, groups[1]),
            (&spec.tiers, groups[2]),
        ]
        .map(|(g, i)| &g[i]);
        let person = Person {
            index,
            id: format!("C{number}"),
            number,
            home,
            groups,
            p,
            nu,
            response_multiplier: seg.response_multiplier
                * reg.response_multiplier
                * tier.response_multiplier,
            satisfaction_offset: seg.satisfaction_offset
                + reg.satisfaction_offset
                + tier.satisfaction_offset,
            language: self.writer.as_ref().map(|w| {
                let mut own = Rng::stream(self.seed ^ LANGUAGES, index);
                w.language(groups[1], &mut own)
            }),
        };
        sink.customer(CustomerRow {
            customer_id: person.id.clone(),
            first_seen: first,
            segment: seg.id.clone(),
            region: reg.id.clone(),
            tier: tier.id.clone(),
            home_airport: spec.sites[home].id.clone(),
            language: person.language.unwrap_or_default().to_string(),
        });
        self.tally.counts.customers += 1;
        let dropped_out = self.purchases(&mut rng, &person, first, lambda, sink);
        Fate {
            customer_id: person.id,
            dropped_out,
        }
    }

    /// Trips from the first purchase until dropout or the end; whether the customer
    /// dropped out.
    fn purchases(
        &mut self,
        rng: &mut Rng,
        person: &Person,
        first: i64,
        lambda: f64,
        sink: &mut impl Sink,
    ) -> bool {
        let plan = self.plan();
        let after_first = self.world.spec().purchase.dropout_after_first;
        let mut last_nps: Option<(i64, f64)> = None;
        let mut at = first;
        for trip in 1.. {
            let (p_trip, nps) = self.trip(rng, person, trip, at, sink);
            let can_leave = trip > 1 || after_first;
            let p_trip = self.follow_up(person, (at, lambda, can_leave), (p_trip, nps), sink);
            if let Some(answer) = nps.filter(|n| last_nps.is_none_or(|l| n.0 >= l.0)) {
                last_nps = Some(answer);
            }
            if (trip > 1 || after_first) && rng.bernoulli(p_trip) {
                self.tally.defectors += 1;
                if let Some((_, score)) = last_nps {
                    self.tally.defectors_with_response += 1;
                    self.tally.satisfied_defectors += u64::from(score >= 7.0);
                }
                self.tally.add_last_answer(last_nps, true);
                return true;
            }
            let gap = rng.exponential(lambda) * plan.unit_us;
            if gap > (plan.end_us - at) as f64 {
                break;
            }
            at += gap as i64;
        }
        self.tally.add_last_answer(last_nps, false);
        false
    }

    /// One trip bought at `at`: its transaction, interactions and survey answer. Returns the
    /// probability of dropping out after it and the NPS answer (time, score), if any.
    fn trip(
        &mut self,
        rng: &mut Rng,
        person: &Person,
        trip: u32,
        at: i64,
        sink: &mut impl Sink,
    ) -> (f64, Option<(i64, f64)>) {
        let (spec, plan) = (self.world.spec(), self.plan());
        let site = if rng.bernoulli(spec.home_share) {
            person.home
        } else {
            rng.weighted(&plan.sites)
        };
        let order_id = format!("O{}-{trip}", person.number);
        let amount = cents(rng.gamma(spec.spend.p, person.nu));
        self.revenue[(month_number(at) - self.first_month) as usize] += amount;
        sink.transaction(TransactionRow {
            customer_id: person.id.clone(),
            at,
            amount,
            order_id: order_id.clone(),
            quantity: 1,
            currency: spec.currency.clone(),
            airport: spec.sites[site].id.clone(),
        });
        self.tally.counts.transactions += 1;
        let mut visits = std::mem::take(&mut self.visits);
        visits.clear();
        self.journey(rng, site, at, &mut visits);
        for v in visits.iter().filter(|v| v.at <= plan.end_us) {
            self.emit_interaction(v, person, site, &order_id, sink);
        }
        let p_trip = self.dropout_probability(person.p, &visits, false);
        self.tally_initiative(person.p, p_trip, site, &visits);
        let nps = self.survey(rng, person, &visits, (trip, &order_id), sink);
        self.visits = visits;
        (p_trip, nps)
    }

    /// The follow-up programme's cases of the trip just simulated (bought at `at`), and
    /// its probability of leaving after them.
    fn follow_up(
        &mut self,
        person: &Person,
        (at, lambda, can_leave): (i64, f64, bool),
        (p_trip, nps): (f64, Option<(i64, f64)>),
        sink: &mut impl Sink,
    ) -> f64 {
        let Some(programme) = self.programme.as_mut() else {
            return p_trip;
        };
        if nps.is_none() && !self.visits.iter().any(|v| v.failed) {
            return p_trip;
        }
        let trip = followup::Trip {
            index: person.index,
            customer: &person.id,
            groups: person.groups,
            bought: at,
            p: person.p,
            lambda,
            p_trip,
            can_leave,
            experiences: (self.visits.iter())
                .map(|v| followup::Experience {
                    touchpoint: v.touchpoint,
                    at: v.at,
                    failed: v.failed,
                    wait: v.wait,
                })
                .collect(),
            nps,
        };
        programme.trip(&trip, self.world, sink)
    }

    /// The touchpoints a trip at `site` bought at `at` passes through, in stage order.
    fn journey(&self, rng: &mut Rng, site: usize, at: i64, visits: &mut Vec<Visit>) {
        let plan = self.plan();
        for stage in &plan.stages {
            let due = stage.requires.is_empty()
                || visits
                    .iter()
                    .any(|v| v.failed && stage.requires.contains(&v.touchpoint));
            if !rng.bernoulli(stage.probability) || !due {
                continue;
            }
            let when = at + stage.offset_us + rng.below(HOUR_US as u64) as i64;
            let chosen = if stage.pick_one {
                std::slice::from_ref(&stage.members[rng.weighted(&stage.weights)])
            } else {
                &stage.members[..]
            };
            for &touchpoint in chosen {
                visits.push(self.visit(rng, touchpoint, site, when));
            }
        }
    }

    fn visit(&self, rng: &mut Rng, touchpoint: usize, site: usize, at: i64) -> Visit {
        let plan = self.plan();
        let tp = &plan.touchpoints[touchpoint];
        let base = tp.rates[site][(month_number(at) % 12) as usize];
        let scale = match &plan.initiative {
            Some(i) if i.site == site && i.covers[touchpoint] && at >= i.from_us => i.multiplier,
            _ => 1.0,
        };
        let u = rng.uniform();
        let wait = tp.wait.map_or(0.0, |(mu, sigma)| {
            (rng.lognormal(mu, sigma) * 10.0).round() / 10.0
        });
        Visit {
            touchpoint,
            at,
            failed: u < (base * scale).min(1.0),
            failed_without_initiative: u < base.min(1.0),
            long_wait: tp.long_wait.is_some_and(|limit| wait > limit),
            wait,
        }
    }

    fn emit_interaction(
        &mut self,
        v: &Visit,
        person: &Person,
        site: usize,
        order_id: &str,
        sink: &mut impl Sink,
    ) {
        let (spec, plan) = (self.world.spec(), self.plan());
        let (tp, tpp) = (
            &spec.touchpoints[v.touchpoint],
            &plan.touchpoints[v.touchpoint],
        );
        sink.interaction(InteractionRow {
            customer_id: person.id.clone(),
            at: v.at,
            touchpoint: tp.id.clone(),
            journey: tpp.journey.clone(),
            stage: tpp.stage.clone(),
            owner: tp.owner.clone(),
            channel: tp.channel.clone(),
            outcome: if v.failed { "failed" } else { "ok" }.to_string(),
            wait_seconds: v.wait,
            airport: spec.sites[site].id.clone(),
            order_id: order_id.to_string(),
        });
        self.tally.counts.interactions += 1;
        self.tally.touchpoints[v.touchpoint].add(v.failed);
        for (e, rate) in plan.effects.iter().zip(&mut self.tally.effects) {
            if e.touchpoint == v.touchpoint {
                rate.add(v.has(e.event, false));
            }
        }
        if let Some(init) = plan.initiative.as_ref().filter(|i| i.covers[v.touchpoint]) {
            let cell = 2 * usize::from(site != init.site) + usize::from(v.at >= init.from_us);
            self.tally.initiative_rates[v.touchpoint][cell].add(v.failed);
        }
    }

    /// Whether any visit of the trip had the effect's event.
    fn happened(&self, effect: usize, visits: &[Visit], without_initiative: bool) -> bool {
        let e = &self.plan().effects[effect];
        visits
            .iter()
            .any(|v| v.touchpoint == e.touchpoint && v.has(e.event, without_initiative))
    }

    /// logistic(logit(p) + Σ β · event) over the planted effects.
    fn dropout_probability(&self, p: f64, visits: &[Visit], without_initiative: bool) -> f64 {
        let shift: f64 = (0..self.plan().effects.len())
            .filter(|&e| self.happened(e, visits, without_initiative))
            .map(|e| self.plan().effects[e].beta)
            .sum();
        logistic(logit(p) + shift)
    }

    fn tally_initiative(&mut self, p: f64, p_trip: f64, site: usize, visits: &[Visit]) {
        let Some(init) = self.plan().initiative.as_ref().filter(|i| i.site == site) else {
            return;
        };
        let covered = || visits.iter().filter(|v| init.covers[v.touchpoint]);
        if covered().any(|v| v.at >= init.from_us) {
            let without = self.dropout_probability(p, visits, true);
            let after = &mut self.tally.after;
            *after = (after.0 + 1, after.1 + p_trip, after.2 + without);
        } else if covered().next().is_some() {
            let before = &mut self.tally.before;
            *before = (before.0 + 1, before.1 + p_trip);
        }
    }

    /// The trip's survey: maybe a response (NPS with comment, grade, CSAT per asked
    /// touchpoint). Returns the NPS answer (time, score) when one was emitted.
    ///
    /// Every trip with a touchpoint whose invitation (`delay_hours` after its last one)
    /// falls within the observation is asked; the NPS of those that give no answer (none,
    /// or one after the end) is drawn for the truth from their own stream
    /// ([`Simulation::unanswered`]), so `rng` draws exactly what it did without it.
    fn survey<S: Sink>(
        &mut self,
        rng: &mut Rng,
        person: &Person,
        visits: &[Visit],
        (trip, order_id): (u32, &str),
        sink: &mut S,
    ) -> Option<(i64, f64)> {
        let (spec, plan) = (self.world.spec(), self.plan());
        let s = &spec.survey;
        let bad = visits.iter().any(|v| v.failed || v.long_wait);
        let rate = s.response_rate
            * person.response_multiplier
            * if bad { s.bad_trip_multiplier } else { 1.0 };
        let last = visits.iter().map(|v| v.at).max()?;
        let delay = (s.delay_hours * HOUR_US as f64) as i64;
        let asked = last + delay <= plan.end_us;
        if !rng.bernoulli(rate) {
            self.unanswered(asked, person, visits, trip);
            return None;
        }
        let at = last + delay + rng.below(DAY_US as u64) as i64;
        if at > plan.end_us {
            self.unanswered(asked, person, visits, trip);
            return None;
        }
        let latent = self.latent_satisfaction(rng, person, visits);
        let nps = latent.round().clamp(0.0, 10.0);
        self.tally.survey.add(nps, true);
        let grade_latent = latent + s.grade_sd * rng.normal();
        let grade = s.grade_cuts.iter().filter(|&&c| grade_latent >= c).count() as f64;
        let comment = match self.writer.is_some() {
            true => self.written(rng, person, nps, visits, (trip, order_id), sink),
            false => self.comment(rng, nps, visits),
        };
        let answer = |sink: &mut S, instrument: &str, score: f64, touchpoint: &str, comment| {
            sink.response(ResponseRow {
                customer_id: person.id.clone(),
                at,
                instrument: instrument.to_string(),
                score,
                touchpoint: touchpoint.to_string(),
                comment,
                order_id: order_id.to_string(),
            });
        };
        answer(sink, "nps", nps, "", comment);
        answer(sink, "grade", grade, "", String::new());
        let mut count = 2;
        let mut own = Rng::stream(
            self.seed ^ TOUCHPOINT_COMMENTS,
            (person.index << 32) | u64::from(trip),
        );
        for &t in &plan.csat {
            if let Some(v) = visits.iter().find(|v| v.touchpoint == t) {
                let drop = if v.failed || v.long_wait {
                    s.csat_failure_drop
                } else {
                    0.0
                };
                let csat = (s.csat_mean - drop + s.csat_sd * rng.normal())
                    .round()
                    .clamp(1.0, 5.0);
                let touchpoint = &spec.touchpoints[t].id;
                let about = (order_id, touchpoint.as_str());
                let comment = self.written_at(&mut own, person, (v, csat), about, sink);
                answer(sink, "csat", csat, touchpoint, comment);
                count += 1;
            }
        }
        self.tally.counts.responses += count;
        Some((at, nps))
    }

    /// The answer's latent satisfaction: the survey's mean, the person's offset, the trip's
    /// effects and one normal draw from `rng`.
    fn latent_satisfaction(&self, rng: &mut Rng, person: &Person, visits: &[Visit]) -> f64 {
        let (s, plan) = (&self.world.spec().survey, self.plan());
        let shift: f64 = (0..plan.effects.len())
            .filter(|&e| self.happened(e, visits, false))
            .map(|e| plan.effects[e].satisfaction)
            .sum();
        s.satisfaction_mean + person.satisfaction_offset + shift + s.satisfaction_sd * rng.normal()
    }

    /// Counts an asked trip without an answer in the data, with the NPS its customer would
    /// have given, drawn from the model of answers with a stream of its own: keyed by the
    /// seed (salted) and the order (customer index, trip number).
    fn unanswered(&mut self, asked: bool, person: &Person, visits: &[Visit], trip: u32) {
        if !asked {
            return;
        }
        let mut rng = Rng::stream(
            self.seed ^ UNANSWERED,
            (person.index << 32) | u64::from(trip),
        );
        let nps = self
            .latent_satisfaction(&mut rng, person, visits)
            .round()
            .clamp(0.0, 10.0);
        self.tally.survey.add(nps, false);
    }

    /// A comment from the phrase bank, or empty: a complaint about a failed touchpoint,
    /// praise from promoters, else a neutral remark.
    fn comment(&self, rng: &mut Rng, nps: f64, visits: &[Visit]) -> String {
        let spec = self.world.spec();
        if !rng.bernoulli(spec.survey.comment_rate) {
            return String::new();
        }
        let complaints: Vec<&Vec<String>> = visits
            .iter()
            .filter(|v| v.failed)
            .map(|v| &spec.touchpoints[v.touchpoint].complaints)
            .filter(|c| !c.is_empty())
            .collect();
        let bank = if !complaints.is_empty() {
            complaints[rng.below(complaints.len() as u64) as usize]
        } else if nps >= 9.0 {
            &spec.survey.praise
        } else {
            &spec.survey.neutral
        };
        if bank.is_empty() {
            String::new()
        } else {
            bank[rng.below(bank.len() as u64) as usize].clone()
        }
    }

    /// A comment written from the world's templates, or empty, its truth sent to the sink.
    ///
    /// Whether there is one is drawn from `rng`: a uniform number below `comment_rate`
    /// (`bad_trip_rate` after a failure or long wait, when higher). After a number below
    /// `comment_rate`, `rng` draws two more after a trip with a failure and one otherwise,
    /// as the phrase banks did, so the templates change no other row. The text comes from a stream of its own, keyed
    /// by the seed (salted) and the order (customer index, trip number).
    fn written(
        &mut self,
        rng: &mut Rng,
        person: &Person,
        nps: f64,
        visits: &[Visit],
        (trip, order_id): (u32, &str),
        sink: &mut impl Sink,
    ) -> String {
        let Some(writer) = &self.writer else {
            return String::new();
        };
        let u = rng.uniform();
        let failed = visits.iter().any(|v| v.failed);
        if u < self.world.spec().survey.comment_rate {
            rng.next_u64();
            if failed {
                rng.next_u64();
            }
        }
        let bad = failed || visits.iter().any(|v| v.long_wait);
        if u >= writer.comment_rate(self.world.spec(), bad) {
            return String::new();
        }
        let mut own = Rng::stream(self.seed ^ COMMENTS, (person.index << 32) | u64::from(trip));
        let experiences: Vec<Experience> = visits
            .iter()
            .map(|v| Experience {
                touchpoint: v.touchpoint,
                failed: v.failed,
                long_wait: v.long_wait,
            })
            .collect();
        let Some(language) = person.language else {
            return String::new();
        };
        let written = writer.write(&mut own, language, nps, &experiences);
        self.planted(written, person, (order_id, ""), sink)
    }

    /// A comment on the answer (`csat`) about one touchpoint's visit `v` (see
    /// [`Writer::write_at`]), or empty, drawn
    /// from `rng` (a stream of its own for the trip's touchpoint answers), its truth sent
    /// to the sink.
    fn written_at(
        &mut self,
        rng: &mut Rng,
        person: &Person,
        (v, csat): (&Visit, f64),
        about: (&str, &str),
        sink: &mut impl Sink,
    ) -> String {
        let (Some(writer), Some(language)) = (&self.writer, person.language) else {
            return String::new();
        };
        if !rng.bernoulli(writer.touchpoint_rate(v.failed || v.long_wait)) {
            return String::new();
        }
        let visit = Experience {
            touchpoint: v.touchpoint,
            failed: v.failed,
            long_wait: v.long_wait,
        };
        match writer.write_at(rng, language, csat >= 5.0, visit) {
            Some(written) => self.planted(written, person, about, sink),
            None => String::new(),
        }
    }

    /// A written comment's text, counted, its truth (about the order and a touchpoint, or
    /// the whole trip: "") sent to the sink.
    fn planted(
        &mut self,
        written: Written,
        person: &Person,
        (order_id, touchpoint): (&str, &str),
        sink: &mut impl Sink,
    ) -> String {
        let topics = &self
            .world
            .spec()
            .comments
            .as_ref()
            .expect("a writer")
            .topics;
        self.tally.comments.add(&written);
        sink.comment(CommentRow {
            customer_id: person.id.clone(),
            order_id: order_id.to_string(),
            touchpoint: touchpoint.to_string(),
            language: written.language,
            topics: written
                .topics
                .iter()
                .map(|&t| topics[t].name.clone())
                .collect(),
            personal: written.personal,
        });
        written.text
    }

    /// Emits owners and monthly financials, and returns the truth.
    pub fn finish(mut self, sink: &mut impl Sink) -> Truth {
        let spec = self.world.spec();
        for o in &spec.owners {
            sink.owner(OwnerRow {
                owner_id: o.id.clone(),
                name: o.name.clone(),
                kind: o.kind.clone(),
                sla_hours: o.sla_hours,
                contact: o.contact.clone(),
            });
            self.tally.counts.owners += 1;
        }
        let f = &spec.financials;
        let mut rng = Rng::stream(self.seed, u64::MAX);
        for (i, sum) in self.revenue.iter().enumerate() {
            let month = self.first_month + i as i64;
            let revenue = cents(sum * f.revenue_factor);
            let margin = f.ebit_margin
                + f.ebit_seasonality
                    .get((month % 12) as usize)
                    .copied()
                    .unwrap_or(0.0)
                + f.ebit_margin_sd * rng.normal();
            for (metric, value) in [("revenue", revenue), ("ebit", cents(revenue * margin))] {
                sink.financial(FinancialRow {
                    period: month_start_day(month) as i32,
                    metric: metric.to_string(),
                    value,
                    currency: spec.currency.clone(),
                });
                self.tally.counts.financials += 1;
            }
        }
        let mut truth = self.tally.into_truth(self.world, self.seed);
        truth.followup = self.programme.map(|p| p.truth());
        truth
    }
}
