//! `cxray respondents` on the demo world, whose survey answers are planted with a response
//! bias (business customers answer less, customers after a failure or a long wait more):
//! the NPS weighted to everyone asked against the NPS of everyone asked in truth.json.

use crate::{demo_folder, json, run};

/// 5,000 customers (seed 1) give about 12,000 trips asked and 2,700 answers: the answers'
/// NPS lies about 5 points below everyone's, the weighted interval is about ±2.8. On
/// seeds 1–10 the weighted figure was closer and covered the truth every time.
#[test]
fn weighted_nps_lands_closer_to_everyone_asked_and_covers_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo_folder(dir.path(), "5000");
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("truth.json")).unwrap()).unwrap();
    let population = truth["survey"]["population_nps"].as_f64().unwrap();
    // The truth asks every trip; the demo's invitations ask a sample of them.
    let answers = json(&data, &["survey", "respondents", "--every-trip", "--json"]);
    let raw = answers["answered"]["value"].as_f64().unwrap();
    let weighted = &answers["weighted"];
    let [value, low, high] = ["value", "low", "high"].map(|k| weighted["nps"][k].as_f64().unwrap());
    assert_eq!(weighted["method"], "inverse_propensity");
    assert!(
        (value - population).abs() < (raw - population).abs(),
        "weighted {value} against everyone's {population}; answered {raw}"
    );
    assert!(
        low <= population && population <= high,
        "{low} – {high} against {population}"
    );
    let responded = answers["responded"].as_u64().unwrap();
    assert!(weighted["effective_n"].as_f64().unwrap() < responded as f64);
    let shares = answers["levels"].as_array().unwrap();
    let business = shares
        .iter()
        .find(|l| l["covariate"] == "segment" && l["level"] == "business")
        .unwrap();
    assert!(
        business["among_responders"]["high"].as_f64()
            < business["among_non_responders"]["low"].as_f64(),
        "business customers answer less: {business}"
    );

    let text = run(&data, &["survey", "respondents", "--every-trip"]);
    assert!(text.status.success());
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("weighted to everyone asked"), "{text}");
    assert!(
        text.contains("inverse response-propensity weights on segment"),
        "{text}"
    );
}

#[test]
fn without_answers_there_is_nothing_to_weight() {
    let (_dir, data) = crate::initialised();
    let out = run(&data, &["survey", "respondents"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
