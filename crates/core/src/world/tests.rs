//! Checks that the emitted rows agree with the world's parameters and with the truth.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use super::calendar::{DAY_US, month_number};
use super::records::*;
use super::sim::{Fate, Simulation};
use super::spec::date_days;
use super::truth::Counts;
use super::*;

/// Any row.
#[derive(Debug)]
enum Row {
    Customer(CustomerRow),
    Transaction(TransactionRow),
    Interaction(InteractionRow),
    Response(ResponseRow),
    Owner(OwnerRow),
    Financial(FinancialRow),
    Comment(CommentRow),
}

/// A sink that hands every row to a closure.
struct Each<F: FnMut(Row)>(F);

impl<F: FnMut(Row)> Sink for Each<F> {
    fn customer(&mut self, row: CustomerRow) {
        (self.0)(Row::Customer(row))
    }
    fn transaction(&mut self, row: TransactionRow) {
        (self.0)(Row::Transaction(row))
    }
    fn interaction(&mut self, row: InteractionRow) {
        (self.0)(Row::Interaction(row))
    }
    fn response(&mut self, row: ResponseRow) {
        (self.0)(Row::Response(row))
    }
    fn owner(&mut self, row: OwnerRow) {
        (self.0)(Row::Owner(row))
    }
    fn financial(&mut self, row: FinancialRow) {
        (self.0)(Row::Financial(row))
    }
    fn comment(&mut self, row: CommentRow) {
        (self.0)(Row::Comment(row))
    }
}

/// Runs customer by customer, keeping each customer's fate.
fn run(world: &World, customers: u64, seed: u64, on_row: impl FnMut(Row)) -> (Truth, Vec<Fate>) {
    let mut sink = Each(on_row);
    let mut sim = Simulation::new(world, customers, seed);
    let fates = (0..customers).map(|i| sim.customer(i, &mut sink)).collect();
    (sim.finish(&mut sink), fates)
}

fn hash_rows(customers: u64, seed: u64) -> (u64, Truth) {
    let mut h = DefaultHasher::new();
    let truth = simulate(
        &World::airline(),
        customers,
        seed,
        &mut Each(|row| format!("{row:?}").hash(&mut h)),
    );
    (h.finish(), truth)
}

fn world_with(edit: impl FnOnce(&mut Spec)) -> Result<World, WorldError> {
    let mut spec = World::airline().spec().clone();
    edit(&mut spec);
    World::new(spec)
}

#[test]
fn same_seed_same_rows() {
    let (a, truth_a) = hash_rows(2_000, 1);
    let (b, truth_b) = hash_rows(2_000, 1);
    let (c, _) = hash_rows(2_000, 2);
    assert_eq!(a, b);
    assert_eq!(truth_a, truth_b);
    assert_ne!(a, c);
}

#[test]
fn customers_do_not_depend_on_batching() {
    let rows = |n: u64| {
        let mut out = Vec::new();
        simulate(
            &World::airline(),
            n,
            9,
            &mut Each(|row| {
                if !matches!(row, Row::Owner(_) | Row::Financial(_)) {
                    out.push(format!("{row:?}"));
                }
            }),
        );
        out
    };
    let small = rows(20);
    assert_eq!(small, rows(500)[..small.len()]);
}

#[test]
fn counts_and_financials_agree_with_rows() {
    let world = World::airline();
    let mut counts = Counts::default();
    let mut monthly: HashMap<i64, f64> = HashMap::new();
    let mut revenue: HashMap<i64, f64> = HashMap::new();
    let mut ids = std::collections::HashSet::new();
    let (truth, _) = run(&world, 3_000, 5, |row| match row {
        Row::Customer(c) => {
            counts.customers += 1;
            assert_eq!(c.customer_id.len(), 8);
        }
        Row::Transaction(t) => {
            counts.transactions += 1;
            assert!(ids.insert(t.order_id));
            *monthly.entry(month_number(t.at)).or_default() += t.amount;
        }
        Row::Interaction(i) => {
            counts.interactions += 1;
            assert!(i.outcome == "ok" || i.outcome == "failed");
        }
        Row::Response(r) => {
            counts.responses += 1;
            let (lo, hi) = crate::domain::score_range(&r.instrument).unwrap();
            assert!(
                (lo..=hi).contains(&r.score) && r.score.fract() == 0.0,
                "{r:?}"
            );
        }
        Row::Owner(o) => {
            counts.owners += 1;
            assert!(crate::domain::OWNER_KINDS.contains(&o.kind.as_str()));
        }
        Row::Financial(f) => {
            counts.financials += 1;
            if f.metric == "revenue" {
                revenue.insert(month_number(i64::from(f.period) * DAY_US), f.value);
            }
        }
        Row::Comment(_) => {}
    });
    assert_eq!(truth.counts, counts);
    assert_eq!(counts.owners, 9);
    assert_eq!(revenue.len(), 30, "Jan 2023 to Jun 2025");
    for (month, sum) in monthly {
        assert!((revenue[&month] - 1.35 * sum).abs() < 0.01, "month {month}");
    }
}

/// The configured failure probability of an emitted interaction, from the description.
fn configured_rate(spec: &Spec, row: &InteractionRow) -> f64 {
    let tp = spec
        .touchpoints
        .iter()
        .find(|t| t.id == row.touchpoint)
        .unwrap();
    let site = spec.sites.iter().find(|s| s.id == row.airport).unwrap();
    let month = (month_number(row.at) % 12) as usize;
    let mut rate = tp.failure_rate * tp.seasonality.get(month).copied().unwrap_or(1.0);
    if tp.at_site {
        rate *= site.failure_multiplier * site.multipliers.get(&tp.id).copied().unwrap_or(1.0);
    }
    if let Some(init) = &spec.initiative {
        let from = date_days("date", &init.date).unwrap() * DAY_US;
        if init.site == site.id && init.touchpoints.contains(&tp.id) && row.at >= from {
            rate *= init.failure_multiplier;
        }
    }
    rate.min(1.0)
}

#[test]
fn failure_rates_match_the_description() {
    let world = World::airline();
    let spec = world.spec();
    // Per touchpoint: interactions, failures, expected failures, variance.
    let mut seen: HashMap<String, (u64, u64, f64, f64)> = HashMap::new();
    let (truth, _) = run(&world, 30_000, 11, |row| {
        if let Row::Interaction(i) = row {
            let p = configured_rate(spec, &i);
            let e = seen.entry(i.touchpoint.clone()).or_default();
            *e = (
                e.0 + 1,
                e.1 + u64::from(i.outcome == "failed"),
                e.2 + p,
                e.3 + p * (1.0 - p),
            );
        }
    });
    assert_eq!(seen.len(), spec.touchpoints.len());
    for t in &truth.touchpoints {
        let (n, failed, expected, var) = seen[&t.touchpoint];
        assert_eq!((t.observed.trials, t.observed.events), (n, failed));
        let z = (failed as f64 - expected) / var.sqrt();
        assert!(
            z.abs() < 4.0,
            "{}: {failed} failures, {expected:.1} expected of {n}",
            t.touchpoint
        );
    }
    let web = &truth.touchpoints[0];
    assert_eq!(web.touchpoint, "booking_web");
    assert!((web.observed.rate.unwrap() - 0.03).abs() < 0.004, "{web:?}");
}

#[test]
fn initiative_lowers_bag_failures_at_its_site_only() {
    let world = World::airline();
    let from = date_days("date", &world.spec().initiative.as_ref().unwrap().date).unwrap() * DAY_US;
    // [site before, site after, elsewhere before, elsewhere after]: (trials, failures).
    let mut cells = [(0u64, 0u64); 4];
    let (truth, _) = run(&world, 30_000, 3, |row| {
        if let Row::Interaction(i) = row
            && (i.touchpoint == "bag_drop" || i.touchpoint == "baggage_reclaim")
        {
            let cell = 2 * usize::from(i.airport != "CPH") + usize::from(i.at >= from);
            cells[cell] = (
                cells[cell].0 + 1,
                cells[cell].1 + u64::from(i.outcome == "failed"),
            );
        }
    });
    let rate = |c: (u64, u64)| c.1 as f64 / c.0 as f64;
    let [site_before, site_after, else_before, else_after] = cells.map(rate);
    assert!(
        site_after < 0.6 * site_before,
        "CPH {site_before} → {site_after}"
    );
    assert!(
        (0.8..1.25).contains(&(else_after / else_before)),
        "elsewhere {else_before} → {else_after}"
    );
    let init = truth.initiative.unwrap();
    let reclaim = init
        .failure_rates
        .iter()
        .find(|r| r.touchpoint == "baggage_reclaim")
        .unwrap();
    assert!(reclaim.site_after.rate < reclaim.site_before.rate);
    let total: u64 = init
        .failure_rates
        .iter()
        .map(|r| {
            r.site_after.trials
                + r.site_before.trials
                + r.elsewhere_before.trials
                + r.elsewhere_after.trials
        })
        .sum();
    assert_eq!(total, cells.iter().map(|c| c.0).sum::<u64>());
    let d = init.dropout;
    assert!(d.trips_after > 1_000 && d.change.unwrap() < 0.0, "{d:?}");
    assert!(d.expected_dropouts_averted > 0.0);
}

#[test]
fn satisfied_defector_share_recounts_from_rows() {
    let world = World::airline();
    let mut last: HashMap<String, (i64, f64)> = HashMap::new();
    let (truth, fates) = run(&world, 20_000, 17, |row| {
        if let Row::Response(r) = row
            && r.instrument == "nps"
        {
            let entry = last.entry(r.customer_id).or_insert((r.at, r.score));
            if r.at >= entry.0 {
                *entry = (r.at, r.score);
            }
        }
    });
    let defectors: Vec<&Fate> = fates.iter().filter(|f| f.dropped_out).collect();
    let answered: Vec<f64> = defectors
        .iter()
        .filter_map(|f| last.get(&f.customer_id))
        .map(|a| a.1)
        .collect();
    let satisfied = answered.iter().filter(|&&s| s >= 7.0).count() as u64;
    let d = &truth.defection;
    assert_eq!(d.defectors, defectors.len() as u64);
    assert_eq!(d.defectors_with_response, answered.len() as u64);
    assert_eq!(d.satisfied_defectors, satisfied);
    assert!(d.satisfied_defector_share.unwrap() > 0.5, "{d:?}");
    let respondents: Vec<&Fate> = fates
        .iter()
        .filter(|f| last.contains_key(&f.customer_id))
        .collect();
    for (g, (low, high)) in d
        .by_nps_group
        .iter()
        .zip([(0.0, 7.0), (7.0, 9.0), (9.0, 11.0)])
    {
        let in_group: Vec<&&Fate> = respondents
            .iter()
            .filter(|f| (low..high).contains(&last[&f.customer_id].1))
            .collect();
        assert_eq!(g.respondents, in_group.len() as u64, "{g:?}");
        let dropped = in_group.iter().filter(|f| f.dropped_out).count() as u64;
        assert_eq!(g.defectors, dropped, "{g:?}");
    }
    let shares: Vec<f64> = d
        .by_nps_group
        .iter()
        .map(|g| g.defector_share.unwrap())
        .collect();
    assert!(
        shares[0] > shares[2],
        "detractors drop out more than promoters: {shares:?}"
    );
}

/// E[f(p)] for p ~ Beta(a, b): midpoint rule after substituting p = u^(1/a), which removes
/// the density's singularity at 0.
fn beta_expectation(a: f64, b: f64, f: impl Fn(f64) -> f64) -> f64 {
    let n = 4_000;
    let (mut num, mut den) = (0.0, 0.0);
    for i in 0..n {
        let p = ((f64::from(i) + 0.5) / f64::from(n)).powf(1.0 / a);
        let w = (1.0 - p).powf(b - 1.0);
        num += w * f(p);
        den += w;
    }
    num / den
}

fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    (
        m,
        (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt(),
    )
}

/// Without planted effects, the share still alive at the end and the mean number of repeat
/// purchases agree with the (M)BG/NBD expectations given each customer's time observed:
/// alive = E[s(p) · (α/(α+pT))^r], repeats = E[s(p)/p · (1 − (α/(α+pT))^r)], with
/// s(p) = 1 − p when the first purchase can end the relationship, else 1.
#[test]
fn purchase_and_spend_follow_their_parameters() {
    for after_first in [true, false] {
        let world = world_with(|s| {
            s.purchase.dropout_after_first = after_first;
            s.effects.iter_mut().for_each(|e| e.dropout_beta = 0.0);
        })
        .unwrap();
        let (pu, plan) = (&world.spec().purchase, world.plan());
        let mut purchases: HashMap<String, (i64, f64)> = HashMap::new();
        let mut amounts = Vec::new();
        let (_, fates) = run(&world, 20_000, 23, |row| match row {
            Row::Customer(c) => {
                purchases.insert(c.customer_id, (c.first_seen, -1.0));
            }
            Row::Transaction(t) => {
                purchases.get_mut(&t.customer_id).unwrap().1 += 1.0;
                amounts.push(t.amount);
            }
            _ => {}
        });
        let survive = |p: f64| if after_first { 1.0 - p } else { 1.0 };
        let mut cache: HashMap<i64, (f64, f64)> = HashMap::new();
        let (mut alive_expected, mut repeats_expected) = (0.0, 0.0);
        for (first, _) in purchases.values() {
            let t = (plan.end_us - first) as f64 / plan.unit_us;
            let (alive, repeats) = *cache.entry((t * 4.0).round() as i64).or_insert_with(|| {
                let stay = |p: f64| (pu.alpha / (pu.alpha + p * t)).powf(pu.r);
                (
                    beta_expectation(pu.a, pu.b, |p| survive(p) * stay(p)),
                    beta_expectation(pu.a, pu.b, |p| survive(p) / p * (1.0 - stay(p))),
                )
            });
            alive_expected += alive;
            repeats_expected += repeats;
        }
        let n = fates.len() as f64;
        let (alive_expected, repeats_expected) = (alive_expected / n, repeats_expected / n);
        let alive = fates.iter().filter(|f| !f.dropped_out).count() as f64 / n;
        let alive_se = (alive * (1.0 - alive) / n).sqrt();
        assert!(
            (alive - alive_expected).abs() < 4.0 * alive_se,
            "after_first {after_first}: alive {alive:.4}, expected {alive_expected:.4}"
        );
        let (repeats, sd) = mean_sd(&purchases.values().map(|v| v.1).collect::<Vec<_>>());
        assert!(
            (repeats - repeats_expected).abs() < 4.0 * sd / n.sqrt(),
            "after_first {after_first}: repeats {repeats:.4}, expected {repeats_expected:.4}"
        );
        let (mean_amount, sd) = mean_sd(&amounts);
        let expected =
            world.spec().spend.p * world.spec().spend.gamma / (world.spec().spend.q - 1.0);
        assert!(
            (mean_amount - expected).abs() < 5.0 * sd / (amounts.len() as f64).sqrt(),
            "mean amount {mean_amount:.2}, expected {expected}"
        );
    }
}

#[test]
fn planted_effects_raise_dropout() {
    // Same seed, so the same draws until the first decision a larger β changes, which can
    // only be a dropout: more defectors with every increase of the bag effect.
    let defectors = |beta: f64| {
        let world = world_with(|s| {
            s.effects
                .iter_mut()
                .filter(|e| e.touchpoint == "baggage_reclaim")
                .for_each(|e| e.dropout_beta = beta)
        })
        .unwrap();
        simulate(&world, 5_000, 31, &mut Each(|_| {}))
            .defection
            .defectors
    };
    let (none, planted, huge) = (defectors(0.0), defectors(1.2), defectors(8.0));
    assert!(none < planted && planted < huge, "{none} {planted} {huge}");
}

#[test]
fn airline_round_trips_through_toml() {
    let world = World::airline();
    assert_eq!(World::from_toml(&world.to_toml()).unwrap(), world);
}

#[test]
fn validation_names_the_field() {
    let err = |edit: fn(&mut Spec)| world_with(edit).unwrap_err().to_string();
    assert_eq!(
        err(|s| s.touchpoints[3].failure_rate = 1.5),
        "touchpoints[3].failure_rate: must be between 0 and 1, got 1.5"
    );
    assert_eq!(
        err(|s| s.owners[0].kind = "vendor".into()),
        "owners[0].kind: must be one of team, partner, external, got 'vendor'"
    );
    assert_eq!(
        err(|s| s.touchpoints[0].owner = "nobody".into()),
        "touchpoints[0].owner: unknown owner 'nobody'"
    );
    assert_eq!(
        err(|s| s.touchpoints[4].seasonality.truncate(11)),
        "touchpoints[4].seasonality: must have 12 values (January first) or none, got 11"
    );
    assert_eq!(
        err(|s| s.stages[7].only_if_failed = vec!["refund".into()]),
        "stages[7].only_if_failed[0]: unknown touchpoint of an earlier stage 'refund'"
    );
    assert_eq!(
        err(|s| s.effects[0].event = spec::Event::LongWait),
        "effects[0].event: long_wait needs touchpoint 'baggage_reclaim' to set long_wait_seconds"
    );
    assert_eq!(err(|s| s.end = s.start), "end: must be after start");
    assert_eq!(
        err(|s| s.segments[0].id = "leisure".into()),
        "segments[1].id: duplicate id 'leisure'"
    );
    assert_eq!(
        err(|s| s.survey.grade_cuts.reverse()),
        "survey.grade_cuts: must be four increasing numbers"
    );
    assert_eq!(
        err(|s| s.purchase.alpha = 0.0),
        "purchase.alpha: must be greater than 0, got 0"
    );
    let airline = include_str!("airline.toml");
    let typo = World::from_toml(&airline.replacen("failure_rate = 0.03", "failure_rte = 0.03", 1))
        .unwrap_err()
        .to_string();
    assert!(typo.contains("failure_rte"), "{typo}");
    let text_date = World::from_toml(&airline.replace("end = 2025-06-30", "end = \"June\""))
        .unwrap_err()
        .to_string();
    assert!(text_date.contains("end"), "{text_date}");
}

#[test]
fn the_documented_example_is_a_valid_world() {
    let doc = include_str!("../../../../docs/world.md");
    let example = doc
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap();
    let world = World::from_toml(example).unwrap();
    let truth = simulate(&world, 1_000, 1, &mut Each(|_| {}));
    assert_eq!(truth.counts.customers, 1_000);
    assert!(truth.counts.transactions > 1_000 && truth.touchpoints[0].observed.trials > 0);
}

#[test]
fn survey_truth_recounts_the_answers_and_asks_more_trips() {
    let world = World::airline();
    let (mut answers, mut net) = (0u64, 0i64);
    let mut orders = std::collections::HashSet::new();
    let (truth, _) = run(&world, 5_000, 11, |row| match row {
        Row::Response(r) if r.instrument == "nps" => {
            answers += 1;
            net += i64::from(r.score >= 9.0) - i64::from(r.score <= 6.0);
        }
        Row::Interaction(i) => {
            orders.insert(i.order_id);
        }
        _ => {}
    });
    let s = truth.survey.expect("the survey's truth is recorded");
    assert_eq!(s.responded, answers);
    let responder_nps = 100.0 * net as f64 / answers as f64;
    assert!(
        (s.responder_nps.unwrap() - responder_nps).abs() < 1e-9,
        "{s:?}"
    );
    assert!(
        s.asked > s.responded && s.asked <= orders.len() as u64,
        "{s:?}"
    );
    assert!(
        s.population_nps.unwrap() > s.responder_nps.unwrap(),
        "bad trips answer more often, so the answers understate everyone's NPS: {s:?}"
    );
}

/// The comments written from the airline's templates, with what the data says about them.
struct Commented {
    text: String,
    truth: CommentRow,
    /// The customer's language column.
    customer_language: String,
    /// The problems it is about: `touchpoint failed` / `touchpoint long_wait` of the
    /// trip, or of its touchpoint for a comment on a touchpoint's answer.
    problems: Vec<String>,
}

fn commented(customers: u64, seed: u64) -> (Truth, Vec<Commented>) {
    let world = World::airline();
    let spec = world.spec().clone();
    let mut texts: HashMap<(String, String), String> = HashMap::new();
    let mut languages: HashMap<String, String> = HashMap::new();
    let mut problems: HashMap<String, Vec<String>> = HashMap::new();
    let mut truths = Vec::new();
    let (truth, _) = run(&world, customers, seed, |row| match row {
        Row::Customer(c) => {
            languages.insert(c.customer_id, c.language);
        }
        Row::Interaction(i) => {
            let tp = spec
                .touchpoints
                .iter()
                .find(|t| t.id == i.touchpoint)
                .unwrap();
            let p = problems.entry(i.order_id).or_default();
            if i.outcome == "failed" {
                p.push(format!("{} failed", i.touchpoint));
            }
            if tp.long_wait_seconds.is_some_and(|l| i.wait_seconds > l) {
                p.push(format!("{} long_wait", i.touchpoint));
            }
        }
        Row::Response(r) if !r.comment.is_empty() => {
            let at_touchpoint = r.instrument == "csat" && !r.touchpoint.is_empty();
            assert!(r.instrument == "nps" || at_touchpoint, "{r:?}");
            texts.insert((r.order_id, r.touchpoint), r.comment);
        }
        Row::Comment(c) => truths.push(c),
        _ => {}
    });
    assert_eq!(texts.len(), truths.len(), "a truth for every comment");
    let all = truths
        .into_iter()
        .map(|t| Commented {
            text: texts[&(t.order_id.clone(), t.touchpoint.clone())].clone(),
            customer_language: languages[&t.customer_id].clone(),
            problems: (problems.get(&t.order_id).into_iter().flatten())
                .filter(|p| t.touchpoint.is_empty() || p.starts_with(&format!("{} ", t.touchpoint)))
                .cloned()
                .collect(),
            truth: t,
        })
        .collect();
    (truth, all)
}

#[test]
fn comments_are_about_the_trip_in_the_customers_language() {
    use crate::comments::{Comment, Language};
    let (truth, all) = commented(6_000, 5);
    let spec = World::airline().spec().comments.clone().unwrap();
    let planted = truth.comments.as_ref().unwrap();
    assert_eq!(planted.comments, all.len() as u64);
    assert!(all.len() > 500, "{} comments", all.len());
    // In the customer's language: German for 60% from the rest of Europe, about 18%.
    let german = all.iter().filter(|c| c.truth.language == "de").count() as f64;
    assert!(
        (0.12..0.25).contains(&(german / all.len() as f64)),
        "{german}"
    );
    assert!(all.iter().all(|c| c.truth.language == c.customer_language));
    // The language detector recognises them.
    let detected = all
        .iter()
        .filter(|c| {
            let want = match c.truth.language.as_str() {
                "de" => Language::German,
                _ => Language::English,
            };
            Comment::new(&c.text).language == Some(want)
        })
        .count();
    assert!(detected as f64 > 0.85 * all.len() as f64, "{detected}");
    let mut per_topic: HashMap<&str, u64> = HashMap::new();
    let mut with_terms = 0;
    let mentions: usize = all.iter().map(|c| c.truth.topics.len()).sum();
    for c in &all {
        let lower = c.text.to_lowercase();
        for name in &c.truth.topics {
            *per_topic.entry(name).or_default() += 1;
            let topic = spec.topics.iter().find(|t| t.name == *name).unwrap();
            let terms = &topic.text[&c.truth.language].terms;
            with_terms += usize::from(terms.iter().any(|t| lower.contains(&t.to_lowercase())));
        }
        // A trip whose one problem is a lost bag complains about the bag.
        if c.problems == ["baggage_reclaim failed"] {
            assert!(
                c.truth.topics.contains(&"baggage".to_string()),
                "{}",
                c.text
            );
        }
        // A topic about experiences the trip did not have is praise, never a complaint
        // (complaints are about problems; remarks by chance have no experiences).
        if c.problems.is_empty() {
            for name in &c.truth.topics {
                let topic = spec.topics.iter().find(|t| t.name == *name).unwrap();
                assert!(
                    topic.chance > 0.0 || !topic.text[&c.truth.language].praise.is_empty(),
                    "{name}: {}",
                    c.text
                );
            }
        }
    }
    // Every mention uses a term of its topic, but for the typos.
    assert!(
        with_terms as f64 > 0.93 * mentions as f64,
        "{with_terms} of {mentions}"
    );
    for t in &planted.topics {
        assert_eq!(
            per_topic.get(t.name.as_str()).copied().unwrap_or(0),
            t.comments
        );
        assert!(t.comments > 0, "{} never mentioned", t.name);
    }
    // Planted effects on leaving, of different sizes.
    let beta = |n: &str| {
        planted
            .topics
            .iter()
            .find(|t| t.name == n)
            .unwrap()
            .dropout_beta
    };
    assert!(beta("baggage") > beta("phone wait") && beta("phone wait") > beta("delays"));
    assert_eq!(
        (beta("delays") > 0.0, beta("food"), beta("seat comfort")),
        (true, 0.0, 0.0)
    );
    // Comments on a touchpoint's answer are about that touchpoint: only its topics.
    let at_touchpoints: Vec<&Commented> = all
        .iter()
        .filter(|c| !c.truth.touchpoint.is_empty())
        .collect();
    assert!(at_touchpoints.len() > 100, "{}", at_touchpoints.len());
    for c in &at_touchpoints {
        let about = format!("{} ", c.truth.touchpoint);
        for name in &c.truth.topics {
            let topic = spec.topics.iter().find(|t| t.name == *name).unwrap();
            assert!(
                topic.about.iter().any(|a| a.starts_with(&about)),
                "{name}: {}",
                c.text
            );
        }
    }
    let bag_complaints = at_touchpoints.iter().filter(|c| {
        c.truth.touchpoint == "baggage_reclaim" && c.truth.topics.contains(&"baggage".into())
    });
    assert!(bag_complaints.count() > 10);
    // Variations: mixed sentiment, casing, synonyms.
    assert!(all.iter().any(|c| c.text.contains(" but ")));
    assert!(all.iter().any(|c| c.text.contains(" aber ")));
    assert!(
        all.iter()
            .any(|c| c.text.len() > 10 && c.text == c.text.to_lowercase())
    );
    let bags = ["suitcase", "luggage", "bag "];
    assert!(bags.iter().all(|b| all.iter().any(|c| c.text.contains(b))));
    // Personal data, all of it redacted.
    let personal: Vec<&Commented> = all.iter().filter(|c| c.truth.personal.is_some()).collect();
    assert_eq!(planted.with_personal_data, personal.len() as u64);
    assert!(!personal.is_empty());
    for c in personal {
        let data = c.truth.personal.as_deref().unwrap();
        assert!(
            c.text.to_lowercase().contains(&data.to_lowercase()),
            "{}",
            c.text
        );
        let redacted = Comment::new(&c.text).text.to_lowercase();
        assert!(!redacted.contains(&data.to_lowercase()), "{redacted}");
        let digits: String = data.chars().filter(char::is_ascii_digit).collect();
        assert!(digits.len() < 8 || !redacted.replace(' ', "").contains(&digits));
    }
}

#[test]
fn comment_templates_are_checked() {
    let broken = |edit: fn(&mut super::comments::Comments)| {
        world_with(|s| edit(s.comments.as_mut().unwrap()))
            .unwrap_err()
            .to_string()
    };
    assert!(broken(|c| c.language = "xx".into()).contains("comments.language"));
    assert!(broken(|c| c.topics[0].about = vec!["nowhere failed".into()]).contains("about[0]"));
    assert!(
        broken(|c| c.topics[0].text.get_mut("en").unwrap().complaints = vec!["{nope}".into()])
            .contains("{nope}")
    );
    assert!(broken(|c| c.mixed_rate = 2.0).contains("comments.mixed_rate"));
}
