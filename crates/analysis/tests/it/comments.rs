//! The demo world's comments against their planted truth: the starter taxonomy finds the
//! planted topics (precision and recall), discovery finds the one it leaves out, the topic
//! with the largest planted effect on leaving has the largest odds ratio of leaving, and no
//! planted personal data survives into what the analyses show.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use cxray_analysis::board::Cadence;
use cxray_analysis::comments::{self, Compared, Groups, TermOptions};
use cxray_analysis::journey::JourneyOptions;
use cxray_analysis::settings::ProductSettings;
use cxray_core::comments::taxonomy::EXAMPLE;
use cxray_core::comments::{Agreement, Comment, DiscoverSettings, Taxonomy};
use cxray_core::drivers::Options;
use cxray_core::stats::Settings;
use cxray_core::world::World;
use cxray_core::world::truth::COMMENTS_FILE;
use cxray_store::ops::OpsDb;
use cxray_store::sql::Sql;

use crate::{fresh, query};

/// The planted topic the starter taxonomy leaves out.
const LEFT_OUT: &str = "price";

/// Words of the price topic's comments, as stems or their start.
const PRICE: [&str; 9] = [
    "refund", "expens", "pricey", "overpric", "fee", "teuer", "teure", "gebühr", "erstatt",
];

#[tokio::test]
async fn planted_topics_are_found_ranked_by_leaving_and_their_personal_data_redacted() {
    let (_dir, folder) = fresh().await;
    let truth = cxray_analysis::world::build(&folder, World::airline(), 50_000, 1, |_| {})
        .await
        .unwrap();
    cxray_analysis::world::value(&folder).await.unwrap();
    let planted = truth.comments.expect("the airline plants comments");
    assert_eq!(planted.file, COMMENTS_FILE);

    // Each comment's planted topics and personal data, by order and touchpoint.
    let path = folder.truth_path().with_file_name(&planted.file);
    let tsv = std::fs::read_to_string(path).unwrap();
    let mut known: HashMap<(String, String), (Vec<String>, String)> = HashMap::new();
    for line in tsv.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let topics = f[3].split('|').filter(|t| !t.is_empty()).map(String::from);
        let key = (f[0].to_string(), f[1].to_string());
        known.insert(key, (topics.collect(), f[4].to_string()));
    }
    assert_eq!(known.len() as u64, planted.comments);

    // The starter taxonomy against the planted topics it covers.
    let taxonomy = Taxonomy::parse(EXAMPLE).unwrap();
    let names: BTreeSet<&str> = planted.topics.iter().map(|t| t.name.as_str()).collect();
    let rows = query(
        &folder,
        "SELECT order_id, COALESCE(touchpoint, '') AS touchpoint, comment FROM responses \
         WHERE comment IS NOT NULL",
    )
    .await;
    assert_eq!(rows.len(), known.len());
    let mut agreement = Agreement::default();
    let mut personal = Vec::new();
    for row in &rows {
        let (topics, data) = &known[&(row[0].clone(), row[1].clone())];
        let comment = Comment::new(&row[2]);
        let set = taxonomy.mentions(&comment);
        let assigned: Vec<&str> = taxonomy
            .names(&set)
            .into_iter()
            .filter(|n| names.contains(n))
            .collect();
        let known: Vec<&str> = topics
            .iter()
            .map(String::as_str)
            .filter(|&t| t != LEFT_OUT)
            .collect();
        agreement.add(&assigned, &known);
        if !data.is_empty() {
            assert!(row[2].to_lowercase().contains(&data.to_lowercase()));
            personal.push(data.clone());
        }
    }
    let s = Settings::default();
    let overall = agreement.overall();
    let (p, r) = (
        overall.precision(&s).unwrap().value,
        overall.recall(&s).unwrap().value,
    );
    println!("overall: precision {p:.3}, recall {r:.3}");
    for (name, c) in agreement.topics() {
        let (tp, tr) = (c.precision(&s).unwrap().value, c.recall(&s).unwrap().value);
        println!(
            "{name}: precision {tp:.3}, recall {tr:.3} ({} comments)",
            c.hits + c.misses
        );
        assert!(
            tp >= 0.85 && tr >= 0.85,
            "{name}: precision {tp}, recall {tr}"
        );
    }
    assert!(p >= 0.95 && r >= 0.9, "precision {p}, recall {r}");

    // Topics, discovered ones and leaving.
    let sql = Sql::open(&folder, &BTreeMap::new()).await.unwrap();
    let discover = DiscoverSettings {
        topics: 8,
        ..DiscoverSettings::default()
    };
    let report = comments::topics(&sql, &taxonomy, Some(&discover), Cadence::Month, &s)
        .await
        .unwrap();
    let ops = OpsDb::open(&folder.ops_db_path()).unwrap();
    let journey = JourneyOptions::of_product(&ops, &ProductSettings::default()).unwrap();
    let report = comments::leaving(report, &sql, &taxonomy, &journey, &Options::default(), &s)
        .await
        .unwrap();

    // Discovery finds the topic the taxonomy leaves out.
    let discovered = report.discovered.as_ref().unwrap();
    let price = discovered.discovered.topics.iter().find(|t| {
        let terms = t.terms.iter().take(10);
        terms
            .filter(|term| {
                PRICE
                    .iter()
                    .any(|p| term.term.to_lowercase().starts_with(p))
            })
            .count()
            >= 2
    });
    assert!(
        price.is_some(),
        "{:?}",
        discovered
            .discovered
            .topics
            .iter()
            .map(|t| &t.terms)
            .collect::<Vec<_>>()
    );

    // By the odds ratio of leaving, the planted topic with the largest effect comes first.
    let mut ranked: Vec<(&str, f64, f64)> = report
        .topics
        .iter()
        .filter(|row| names.contains(row.topic.as_str()))
        .filter_map(|row| {
            let or = row.leaving.as_ref()?.odds_ratio?;
            let beta = planted
                .topics
                .iter()
                .find(|t| t.name == row.topic)?
                .dropout_beta;
            Some((row.topic.as_str(), or.value, beta))
        })
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (topic, or, beta) in &ranked {
        println!(
            "{topic}: odds ratio of leaving {or:.3}, planted {:.3}",
            beta.exp()
        );
    }
    let largest = planted
        .topics
        .iter()
        .filter(|t| t.name != LEFT_OUT)
        .max_by(|a, b| a.dropout_beta.total_cmp(&b.dropout_beta))
        .unwrap();
    assert_eq!(ranked[0].0, largest.name, "{ranked:?}");
    let baggage = report
        .topics
        .iter()
        .find(|t| t.topic == largest.name)
        .unwrap();
    let leaving = baggage.leaving.as_ref().unwrap();
    let or = leaving.odds_ratio.unwrap();
    assert!(or.low.unwrap() > 1.0 && or.high.unwrap() > largest.odds_ratio);
    println!("{}: {or:?}", largest.name);
    // It concerns the touchpoint whose failures it is about, and that touchpoint's owner.
    let concern = &leaving.concerns[0];
    assert_eq!(
        (concern.touchpoint.as_str(), concern.owner.as_deref()),
        ("baggage_reclaim", Some("nordground"))
    );
    assert!(leaving.revenue_at_risk.is_some_and(|m| m.measurable));

    // No planted personal data in what the analyses show.
    assert!(personal.len() > 20, "{}", personal.len());
    let terms = comments::terms(
        &sql,
        &Groups::Answers(Compared::Promoters, 180),
        TermOptions {
            min_count: 1,
            top: 100_000,
            ..TermOptions::default()
        },
    )
    .await
    .unwrap();
    let shown = [
        serde_json::to_string(&report).unwrap(),
        serde_json::to_string(&terms).unwrap(),
    ]
    .concat()
    .to_lowercase();
    for data in &personal {
        let digits: String = data.chars().filter(char::is_ascii_digit).collect();
        assert!(!shown.contains(&data.to_lowercase()), "{data}");
        assert!(digits.len() < 8 || !shown.contains(&digits), "{data}");
        let local = data.split('@').next().unwrap();
        assert!(
            !data.contains('@') || !shown.contains(&local.to_lowercase()),
            "{data}"
        );
    }
}
