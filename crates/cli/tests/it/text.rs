//! `cxray text` on a real data folder: sentiment per group against the core's VADER of the
//! same comments, distinguishing terms of promoters, defectors and a query's groups, and
//! refusals of bad input.

use std::path::Path;

use cxray_core::comments::{Comment, Language, Taxonomy, vader};

use super::{initialised, json, run};

/// Responses: customer, day, score (NPS), touchpoint, comment. c1–c4 buy again within
/// 30 days of answering, c5–c8 never.
const RESPONSES: [(&str, &str, u32, &str, &str); 10] = [
    (
        "c1",
        "2025-01-10",
        10,
        "boarding",
        "Friendly crew and a smooth boarding, thank you!",
    ),
    (
        "c2",
        "2025-01-11",
        9,
        "boarding",
        "The crew were friendly and helpful. Call me on +45 12 34 56 78",
    ),
    (
        "c3",
        "2025-01-12",
        9,
        "lounge",
        "Great lounge, friendly crew",
    ),
    (
        "c4",
        "2025-01-13",
        8,
        "lounge",
        "Die Lounge war sehr schön und ruhig.",
    ),
    (
        "c5",
        "2025-01-14",
        2,
        "baggage",
        "My bag was delayed for three days. Terrible.",
    ),
    (
        "c6",
        "2025-01-15",
        3,
        "baggage",
        "Delayed bag again, nobody answered jane@example.com",
    ),
    (
        "c7",
        "2025-01-16",
        9,
        "boarding",
        "Friendly crew but the bag was delayed",
    ),
    (
        "c8",
        "2025-01-17",
        1,
        "baggage",
        "Bag delayed, delayed, delayed!!!",
    ),
    ("c9", "2025-01-18", 7, "lounge", "   "),
    ("c10", "2025-01-19", 5, "lounge", "!!! 123"),
];

fn folder(dir: &Path, data: &Path) {
    let responses = dir.join("responses.csv");
    let mut csv = String::from("customer_id,at,instrument,score,touchpoint,comment\n");
    for (c, day, score, tp, comment) in RESPONSES {
        csv.push_str(&format!(
            "{c},{day}T12:00:00Z,nps,{score},{tp},\"{comment}\"\n"
        ));
    }
    std::fs::write(&responses, csv).unwrap();
    let mut tx = String::from("customer_id,at,amount\n");
    for c in ["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10"] {
        tx.push_str(&format!("{c},2024-12-01T10:00:00Z,100\n"));
    }
    for c in ["c1", "c2", "c3", "c4"] {
        tx.push_str(&format!("{c},2025-02-01T10:00:00Z,80\n"));
    }
    tx.push_str("c9,2025-06-30T10:00:00Z,50\n");
    let transactions = dir.join("transactions.csv");
    std::fs::write(&transactions, tx).unwrap();
    for (table, file) in [("responses", &responses), ("transactions", &transactions)] {
        let out = run(data, &["import", table, &file.display().to_string()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The mean compound score of the English comments among these.
fn english_mean(comments: &[&str]) -> (u64, f64) {
    let scores: Vec<f64> = comments
        .iter()
        .filter_map(|c| Comment::new(c).sentiment())
        .collect();
    (
        scores.len() as u64,
        scores.iter().sum::<f64>() / scores.len() as f64,
    )
}

#[test]
fn sentiment_per_group_is_the_mean_of_the_english_comments() {
    let (dir, data) = initialised();
    folder(dir.path(), &data);
    let r = json(
        &data,
        &["text", "sentiment", "--by", "touchpoint", "--json"],
    );
    let all: Vec<&str> = RESPONSES.iter().map(|r| r.4).collect();
    let (n, mean) = english_mean(&all);
    // c9's blank comment is imported as empty: not a comment.
    assert_eq!(r["overall"]["comments"], 9);
    assert_eq!(r["overall"]["scored"], n);
    let languages: Vec<_> = all
        .iter()
        .filter(|c| !c.trim().is_empty())
        .map(|c| Comment::new(c).language)
        .collect();
    let other = languages
        .iter()
        .filter(|l| l.is_some_and(|l| l != Language::English))
        .count();
    assert_eq!(r["overall"]["other_language"], other, "{r}");
    assert_eq!(
        r["overall"]["unknown_language"],
        9 - n as usize - other,
        "{r}"
    );
    assert!((r["overall"]["mean"]["value"].as_f64().unwrap() - mean).abs() < 1e-12);
    let baggage = r["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == "baggage")
        .unwrap();
    let (_, bag_mean) = english_mean(&[RESPONSES[4].4, RESPONSES[5].4, RESPONSES[7].4]);
    assert!((baggage["mean"]["value"].as_f64().unwrap() - bag_mean).abs() < 1e-12);
    assert!(bag_mean < -0.3 && vader::compound(RESPONSES[0].4) > 0.5);
    // Boarding's three comments are all taken for English: a mean with an interval.
    let boarding = r["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == "boarding")
        .unwrap();
    let (n, board_mean) = english_mean(&[RESPONSES[0].4, RESPONSES[1].4, RESPONSES[6].4]);
    assert_eq!((boarding["mean"]["n"].as_u64(), n), (Some(3), 3), "{r}");
    let (low, high) = (
        boarding["mean"]["low"].as_f64(),
        boarding["mean"]["high"].as_f64(),
    );
    assert!(
        low.unwrap() < board_mean && board_mean < high.unwrap(),
        "{r}"
    );
    assert_eq!(boarding["mean"]["small_sample"], true);
    let text = run(&data, &["text", "sentiment", "--by", "touchpoint"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("baggage") && text.contains("mean sentiment"),
        "{text}"
    );
}

#[test]
fn terms_distinguish_promoters_defectors_and_a_querys_groups() {
    let (dir, data) = initialised();
    folder(dir.path(), &data);
    let args = |groups: &str| {
        [
            "text",
            "terms",
            "--groups",
            groups,
            "--min-count",
            "2",
            "--window-days",
            "30",
            "--json",
        ]
        .map(String::from)
    };
    let p = json(&data, &args("promoters").each_ref().map(String::as_str));
    assert_eq!(
        (p["group_a"].as_str(), p["comments_a"].as_u64()),
        (Some("promoters"), Some(4))
    );
    // c10, a detractor, wrote no words.
    assert_eq!(p["comments_b"], 3, "{p}");
    // "crew" and "friendly" 4 times each among promoters only, "friendly crew" 3 times.
    assert_eq!(p["of_a"][0]["term"], "crew", "{p}");
    assert!(
        p["of_a"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["term"] == "friendly crew"),
        "{p}"
    );
    assert_eq!(p["of_b"][0]["term"], "delayed", "{p}");
    // No redacted number or address reaches a term.
    let all = p.to_string();
    assert!(
        !all.contains("jane") && !all.contains("example") && !all.contains("phone"),
        "{all}"
    );

    let d = json(&data, &args("defectors").each_ref().map(String::as_str));
    // c1–c4 bought within 30 days of answering (c4 in German); c5–c10 did not, but c9's
    // comment is blank and c10's has no words.
    assert_eq!(
        (d["comments_a"].as_u64(), d["comments_b"].as_u64()),
        (Some(4), Some(4)),
        "{d}"
    );
    // "bag" and "delayed" only among defectors, four times each (ties in term order).
    assert_eq!(
        (
            d["of_a"][0]["term"].as_str(),
            d["of_a"][0]["count_a"].as_u64()
        ),
        (Some("bag"), Some(4)),
        "{d}"
    );
    assert_eq!(d["of_a"][1]["term"], "delayed", "{d}");

    let file = dir.path().join("comments.csv");
    std::fs::write(
        &file,
        "team,comment\nx,slow slow service\nx,slow staff\ny,quick service\ny,quick quick staff\n",
    )
    .unwrap();
    let query = format!(
        "SELECT team AS \"group\", comment FROM '{}'",
        file.display()
    );
    let q = json(
        &data,
        &[
            "text",
            "terms",
            "--sql",
            &query,
            "--min-count",
            "1",
            "--json",
        ],
    );
    assert_eq!(
        (q["group_a"].as_str(), q["group_b"].as_str()),
        (Some("x"), Some("y"))
    );
    assert_eq!(
        (
            q["of_a"][0]["term"].as_str(),
            q["of_a"][0]["count_a"].as_u64()
        ),
        (Some("slow"), Some(3))
    );
    let s = json(&data, &["text", "sentiment", "--sql", &query, "--json"]);
    assert_eq!(s["groups"].as_array().map(Vec::len), Some(2), "{s}");
}

#[test]
fn bad_input_is_refused_with_exit_code_2() {
    let (dir, data) = initialised();
    folder(dir.path(), &data);
    for args in [
        vec!["text", "sentiment", "--by", "nonsense"],
        vec![
            "text",
            "terms",
            "--sql",
            "SELECT 'a' AS \"group\", 'x' AS comment UNION ALL SELECT 'b', 'y' UNION ALL SELECT 'c', 'z'",
        ],
        vec!["text", "terms", "--groups", "sideways"],
        vec!["text", "sentiment", "--sql", "SELECT 1 AS nothing"],
    ] {
        let out = run(&data, &args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

const TAXONOMY: &str = r#"
[[topic]]
name = "baggage > delayed"
terms = ["delayed", "bag delayed"]

[[topic]]
name = "crew"
terms = ["crew"]
"#;

/// NPS (−100…100) of these scores.
fn nps_of(scores: &[u32]) -> f64 {
    let promoters = scores.iter().filter(|s| **s >= 9).count() as f64;
    let detractors = scores.iter().filter(|s| **s <= 6).count() as f64;
    100.0 * (promoters - detractors) / scores.len() as f64
}

#[test]
fn topics_count_the_taxonomys_mentions_with_their_nps_and_bad_files_are_refused_where_they_are_bad()
{
    let (dir, data) = initialised();
    folder(dir.path(), &data);
    let file = dir.path().join("topics.toml");
    std::fs::write(&file, TAXONOMY).unwrap();
    let path = file.to_str().unwrap();
    let r = json(
        &data,
        &[
            "text",
            "topics",
            "--taxonomy",
            path,
            "--discover",
            "0",
            "--json",
        ],
    );
    // c9's blank comment is imported as empty: not a comment.
    let commented: Vec<_> = RESPONSES
        .iter()
        .filter(|r| !r.4.trim().is_empty())
        .collect();
    assert_eq!(r["comments"], commented.len(), "{r}");
    let taxonomy = Taxonomy::parse(TAXONOMY).unwrap();
    let mut matched = 0;
    for (i, topic) in taxonomy.topics().iter().enumerate() {
        let with: Vec<u32> = commented
            .iter()
            .filter(|r| taxonomy.mentions(&Comment::new(r.4)).contains(i))
            .map(|r| r.2)
            .collect();
        let without: Vec<u32> = commented
            .iter()
            .filter(|r| !taxonomy.mentions(&Comment::new(r.4)).contains(i))
            .map(|r| r.2)
            .collect();
        let row = r["topics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["topic"] == topic.name.as_str())
            .unwrap_or_else(|| panic!("{}: {r}", topic.name));
        assert_eq!(row["comments"], with.len(), "{row}");
        assert!(!with.is_empty(), "{}: {r}", topic.name);
        matched += with.len();
        let got = row["with"]["value"].as_f64().unwrap();
        assert!((got - nps_of(&with)).abs() < 1e-9, "{row}");
        let got = row["without"]["value"].as_f64().unwrap();
        assert!((got - nps_of(&without)).abs() < 1e-9, "{row}");
        let share = row["share"]["value"].as_f64().unwrap();
        assert!((share - with.len() as f64 / commented.len() as f64).abs() < 1e-12);
    }
    // The parent counts its subtopic's comments; the crew are praised, delays are not.
    let topic = |name: &str| {
        r["topics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["topic"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(
        topic("baggage")["comments"],
        topic("baggage > delayed")["comments"]
    );
    assert!(topic("crew")["with"]["value"].as_f64() > topic("baggage")["with"]["value"].as_f64());
    assert!(matched > 0);

    // All the answers are of one month: no change to show.
    assert!(
        r["periods"].is_null() && topic("crew")["change"].is_null(),
        "{r}"
    );
    // A query's periods: the crew in 1 of 4 comments before, in 3 of 4 after.
    let comments = dir.path().join("periods.csv");
    std::fs::write(
        &comments,
        "period,nps,comment\n\
         2025-01,9,The crew were friendly and helpful today\n\
         2025-01,3,My bag was delayed for three days again\n\
         2025-01,5,The seat was broken and nobody came to fix it\n\
         2025-01,6,The lounge was far too crowded in the evening\n\
         2025-02,10,The crew were wonderful and the flight was smooth\n\
         2025-02,9,A friendly crew and a smooth boarding today\n\
         2025-02,8,The crew were helpful when my flight changed\n\
         2025-02,2,My bag was delayed and nobody answered the phone\n",
    )
    .unwrap();
    let query = format!("SELECT period, nps, comment FROM '{}'", comments.display());
    let q = json(
        &data,
        &[
            "text",
            "topics",
            "--taxonomy",
            path,
            "--sql",
            &query,
            "--discover",
            "0",
            "--json",
        ],
    );
    assert_eq!(
        q["periods"],
        serde_json::json!(["2025-02", "2025-01"]),
        "{q}"
    );
    let crew = q["topics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["topic"] == "crew")
        .unwrap();
    assert_eq!(crew["comments"], 4, "{q}");
    let change = &crew["change"];
    assert!(
        (change["value"].as_f64().unwrap() - 50.0).abs() < 1e-9,
        "{q}"
    );
    assert!(change["low"].as_f64().unwrap() < 50.0 && change["high"].as_f64().unwrap() > 50.0);

    // Without a taxonomy, the starter file, which parses.
    let starter = run(&data, &["text", "topics"]);
    assert!(Taxonomy::parse(&String::from_utf8_lossy(&starter.stdout)).is_ok());

    // A bad file is refused with its place and changes nothing.
    for bad in [
        "[[topic]]\nname = \"x\"\nterms = []\n",
        "[[topic]]\nname = \"x\"\nterms = [\"a\"]\ncolour = \"red\"\n",
        "[[topic]]\nname = \"x\"\nterms = [\"bag*\"]\n",
        "[[topic]\nname = \"x\"\n",
    ] {
        std::fs::write(&file, bad).unwrap();
        let out = run(&data, &["text", "topics", "--taxonomy", path]);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{bad}: {stderr}");
        // file:line:column: reason
        let place = stderr.split(&format!("{path}:")).nth(1).unwrap_or_default();
        let numbers: Vec<&str> = place.splitn(3, ':').take(2).collect();
        assert!(
            numbers.len() == 2 && numbers.iter().all(|n| n.parse::<usize>().is_ok()),
            "{bad}: {stderr}"
        );
    }
}

#[test]
fn topics_with_leaving_on_the_demo_world_name_the_owners_and_refuse_a_query() {
    let dir = tempfile::tempdir().unwrap();
    let data = crate::demo_folder(dir.path(), "3000");
    let file = dir.path().join("topics.toml");
    std::fs::write(&file, run(&data, &["text", "topics"]).stdout).unwrap();
    let path = file.to_str().unwrap();
    let mut args = vec!["text", "topics", "--taxonomy", path];
    args.extend(["--discover", "0", "--leaving"]);
    let q = json(&data, &[&args[..], &["--json"]].concat());
    let topics = q["topics"].as_array().unwrap();
    assert!(topics.iter().all(|t| t["leaving"]["trips"].is_u64()), "{q}");
    let baggage = topics.iter().find(|t| t["topic"] == "baggage").unwrap();
    let concern = &baggage["leaving"]["concerns"][0];
    assert_eq!(
        (&concern["touchpoint"], &concern["owner"]),
        (
            &serde_json::json!("baggage_reclaim"),
            &serde_json::json!("nordground")
        ),
        "{baggage}"
    );
    let text = run(&data, &args);
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("odds ratio of leaving") && text.contains("NordGround Handling"));
    let refused = run(
        &data,
        &[&args[..], &["--sql", "SELECT 'x' AS comment"]].concat(),
    );
    assert_eq!(refused.status.code(), Some(2));
}
