//! Journeys on the demo world: owners, money at risk, weak areas and drivers against the
//! planted effects in truth.json.

use std::collections::BTreeMap;

use cxray_analysis::board::Cadence;
use cxray_analysis::journey::{self, DriverOutcome, JourneyOptions, Quadrant};
use cxray_core::drivers::Options;
use cxray_core::stats::Settings;
use cxray_store::ops::OpsDb;
use cxray_store::sql::{Restriction, Sql};

use crate::{fresh, query};

#[tokio::test]
async fn the_demo_journey_finds_the_planted_weak_areas() {
    let (_dir, folder) = fresh().await;
    let truth = cxray_analysis::world::build(
        &folder,
        cxray_core::world::World::airline(),
        20_000,
        5,
        |_| {},
    )
    .await
    .unwrap();
    cxray_analysis::world::value(&folder).await.unwrap();
    let sql = Sql::open(&folder, &BTreeMap::new()).await.unwrap();
    let opts = JourneyOptions {
        window_days: 180,
        slas: OpsDb::open(&folder.ops_db_path()).unwrap().slas().unwrap(),
        placements: BTreeMap::new(),
        settings: Settings::default(),
    };
    assert!(
        opts.slas["booking_call"].max_wait_seconds.is_some(),
        "{:?}",
        opts.slas
    );
    let j = journey::journey(&sql, &opts).await.unwrap();
    assert!(j.notes.is_empty(), "{:?}", j.notes);
    // Without edited positions the touchpoints come in the order customers reach them.
    let order: Vec<&str> = j
        .touchpoints
        .iter()
        .map(|t| t.touchpoint.as_str())
        .collect();
    let at = |name: &str| order.iter().position(|t| *t == name).unwrap();
    let chain = [
        "check_in",
        "bag_drop",
        "security",
        "boarding",
        "baggage_reclaim",
    ];
    assert!(chain.windows(2).all(|w| at(w[0]) < at(w[1])), "{order:?}");
    // With the world's positions (as `demo` edits them), in the world's order.
    let placed = JourneyOptions {
        placements: OpsDb::open(&folder.ops_db_path())
            .unwrap()
            .placements()
            .unwrap(),
        ..opts.clone()
    };
    let j = journey::journey(&sql, &placed).await.unwrap();
    let order: Vec<&str> = j
        .touchpoints
        .iter()
        .map(|t| t.touchpoint.as_str())
        .collect();
    assert_eq!(
        order[..4],
        ["booking_web", "booking_app", "booking_call", "check_in"]
    );
    assert_eq!(order.last(), Some(&"refund"));
    let tp = |name: &str| j.touchpoints.iter().find(|t| t.touchpoint == name).unwrap();
    // The airport's security is run by an outside party; ground handling by a partner.
    assert_eq!(tp("security").owner_kind.as_deref(), Some("external"));
    assert_eq!(tp("baggage_reclaim").owner_kind.as_deref(), Some("partner"));
    // Volumes agree with the truth.
    for t in &truth.touchpoints {
        assert_eq!(
            tp(&t.touchpoint).interactions,
            t.observed.trials,
            "{}",
            t.touchpoint
        );
    }
    // The strongest planted effect (lost bags) shows as excess dropout and ranks first in
    // money, so the ground handler's touchpoints lead the map.
    let bags = tp("baggage_reclaim").excess_dropout.unwrap();
    assert!(bags.low.unwrap() > 0.0, "{bags:?}");
    let areas = journey::areas(&j);
    assert_eq!(areas[0].touchpoint, "baggage_reclaim", "{areas:#?}");
    assert_eq!(areas[0].owner.as_deref(), Some("nordground"));
    assert!(matches!(
        areas[0].quadrant,
        Quadrant::FixFirst | Quadrant::KeepUp
    ));
    let owners: Vec<(&str, f64)> = j
        .owners
        .iter()
        .map(|o| (o.owner.as_str(), o.revenue_at_risk.unwrap().estimate.value))
        .collect();
    let top = owners.iter().max_by(|a, b| a.1.total_cmp(&b.1)).unwrap();
    assert_eq!(top.0, "nordground", "{owners:?}");
    // Hand-offs between owners are found: bag drop (ground handler) to security (airport).
    assert!(
        j.handoffs
            .iter()
            .any(|h| h.from_touchpoint == "bag_drop" && h.to_touchpoint == "security")
    );
    // Hand-offs: the receiving touchpoint's failure rate right after each one, and its
    // revenue at risk split in proportion to the failures that follow each hand-off.
    for h in &j.handoffs {
        let to = tp(&h.to_touchpoint);
        let after = h.failure_rate_after.unwrap();
        assert!((after.value - 100.0 * h.failures_after as f64 / h.count as f64).abs() < 1e-9);
        let share = h.failures_after as f64 / (to.failures + to.long_waits) as f64;
        let (money, total) = (h.revenue_at_risk.unwrap(), to.revenue_at_risk.unwrap());
        assert_eq!(money.measurable, total.measurable && h.failures_after > 0);
        let (money, total) = (money.estimate, total.estimate);
        assert!((money.value - total.value * share).abs() < 1e-6 * total.value.abs().max(1.0));
    }
    for t in &j.touchpoints {
        let attributed: f64 = j
            .handoffs
            .iter()
            .filter(|h| h.to_touchpoint == t.touchpoint)
            .map(|h| h.revenue_at_risk.unwrap().estimate.value)
            .sum();
        let total = t.revenue_at_risk.unwrap().estimate.value;
        assert!(attributed.abs() <= total.abs() + 1e-6, "{}", t.touchpoint);
    }
    let security = j
        .owners
        .iter()
        .find(|o| o.kind.as_deref() == Some("external"))
        .unwrap();
    // Money reads right: only measurable losses are ranked and summed, and each owner's
    // money after hand-offs is a part of its total.
    for o in &j.owners {
        let (whole, part) = (o.revenue_at_risk.unwrap(), o.revenue_at_risk_after_handoffs);
        assert!(whole.estimate.low.unwrap() >= 0.0, "{o:?}");
        assert!(part.unwrap().value <= whole.estimate.value, "{o:?}");
    }
    let unmeasurable: Vec<_> = j
        .touchpoints
        .iter()
        .filter(|t| !t.revenue_at_risk.unwrap().measurable)
        .collect();
    assert!(!unmeasurable.is_empty(), "some effects are not planted");
    for t in &unmeasurable {
        assert!(t.excess_dropout.unwrap().low.unwrap() <= 0.0, "{t:?}");
        let area = areas.iter().find(|a| a.touchpoint == t.touchpoint).unwrap();
        assert_eq!(area.rank, None);
    }
    let total = journey::total_revenue_at_risk(&j).unwrap();
    assert_eq!(total.priced, j.touchpoints.len());
    assert_eq!(total.measurable, j.touchpoints.len() - unmeasurable.len());
    assert!(security.revenue_at_risk_after_handoffs.is_some());
    // Revenue at risk by period: each period's is the journey of a session narrowed to
    // that period (its interactions, and the trips that began in it), figure for figure.
    let by_period = journey::risk_by_period(&sql, &opts).await.unwrap();
    for cadence in Cadence::ALL {
        let series = &by_period[&cadence];
        assert!(series.len() >= 2, "{cadence:?}: {series:?}");
        let (start, value) = series.iter().next_back().unwrap();
        let mut narrowed = Sql::open(&folder, &BTreeMap::new()).await.unwrap();
        let period = Restriction {
            customers: Vec::new(),
            from: Some(*start),
            to: Some(cadence.end(*start)),
        };
        narrowed.restrict(period).await.unwrap();
        let j = journey::journey_without_handoffs(&narrowed, &opts)
            .await
            .unwrap();
        let whole = journey::total_revenue_at_risk(&j).unwrap().estimate;
        assert_eq!(&whole, value, "{cadence:?} {start}");
    }
    let months = by_period[&Cadence::Month].len();
    assert!(
        months > by_period[&Cadence::Quarter].len(),
        "{months} months"
    );
    // Drivers of defection: lost bags rank first among the touchpoints, with an odds
    // ratio above 1.
    let options = Options {
        resamples: 20,
        ..Options::default()
    };
    let all = journey::drivers(&sql, DriverOutcome::Defection, &opts, &options, None)
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
    let a = &all[0].analysis;
    let mut touchpoints: Vec<_> = a
        .drivers
        .iter()
        .filter(|d| d.name.starts_with("bad: "))
        .collect();
    touchpoints.sort_by_key(|d| d.rank);
    assert_eq!(
        touchpoints[0].name, "bad: baggage_reclaim",
        "{touchpoints:#?}"
    );
    assert!(touchpoints[0].odds_ratio.unwrap().low.unwrap() > 1.0);
    // The dropout model recovers the planted odds ratios of leaving where a bad experience
    // is exactly the planted event (a failure, at a touchpoint without a wait limit), and
    // finds no effect where none was planted.
    let dropout = all[0].dropout.as_ref().unwrap();
    assert!(dropout.effects.len() >= 10, "{dropout:#?}");
    let mut misses = Vec::new();
    for effect in &truth.effects {
        let name = format!("bad: {}", effect.touchpoint);
        let Some(fit) = dropout.effects.iter().find(|e| e.name == name) else {
            continue;
        };
        let exact = effect.event == "failed"
            && opts
                .slas
                .get(&effect.touchpoint)
                .is_none_or(|s| s.max_wait_seconds.is_none());
        if !exact && effect.dropout_beta != 0.0 {
            continue;
        }
        let or = &fit.odds_ratio;
        if !(or.low.unwrap() <= effect.odds_ratio && effect.odds_ratio <= or.high.unwrap()) {
            misses.push((name, effect.odds_ratio, *or));
        }
    }
    let bags = dropout
        .effects
        .iter()
        .find(|e| e.name == "bad: baggage_reclaim")
        .unwrap();
    assert!(bags.odds_ratio.low.unwrap() > 2.0, "{bags:?}");
    assert!(
        !misses.iter().any(|m| m.0 == "bad: baggage_reclaim"),
        "{misses:?}"
    );
    // About 11 intervals at 95%: at most one may miss by chance.
    assert!(misses.len() <= 1, "{misses:#?}");
    // By segment: one analysis per segment, together covering every trip.
    let quick = Options {
        resamples: 0,
        ..Options::default()
    };
    let by = journey::drivers(
        &sql,
        DriverOutcome::Defection,
        &opts,
        &quick,
        Some("segment"),
    )
    .await
    .unwrap();
    let segments: Vec<String> = query(
        &folder,
        "SELECT DISTINCT CAST(segment AS VARCHAR) FROM customers ORDER BY 1",
    )
    .await
    .into_iter()
    .map(|row| row[0].clone())
    .collect();
    let groups: Vec<String> = by.iter().map(|g| g.group.clone().unwrap()).collect();
    assert_eq!(groups, segments);
    assert_eq!(by.iter().map(|g| g.analysis.n).sum::<u64>(), a.n);
    let unknown = journey::drivers(&sql, DriverOutcome::Defection, &opts, &quick, Some("nope"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        unknown.contains("customers have no column 'nope'"),
        "{unknown}"
    );
}
