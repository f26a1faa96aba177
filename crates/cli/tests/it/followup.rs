//! The demo's follow-up programme: its rules and cases in the operational database, and
//! `cxray cases effect` recovering the effect the simulation planted (truth.json) within
//! its 95% intervals.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::{demo_with_programme, json, run};

/// The interval of a group's difference in buying again, and whether it covers `truth`.
fn covers(group: &Value, truth: f64) -> (f64, f64, bool) {
    let d = &group["effect"]["repurchase"];
    let (low, high) = (d["low"].as_f64().unwrap(), d["high"].as_f64().unwrap());
    (low, high, low <= truth && truth <= high)
}

#[test]
fn the_demo_ships_a_programme_whose_planted_effect_cases_effect_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo_with_programme(dir.path(), "20000");
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("truth.json")).unwrap()).unwrap();
    let planted = &truth["followup"];

    // Rules and cases in every status, some overdue; held-out cases never worked.
    let rules = json(&data, &["trigger", "list", "--json"]);
    let names: Vec<&str> = (rules.as_array().unwrap().iter())
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Business detractors", "Failed refunds"]);
    let cases = json(&data, &["cases", "list", "--json", "--limit", "100000"]);
    let cases = cases.as_array().unwrap();
    assert_eq!(
        cases.len() as u64,
        planted["overall"]["cases"].as_u64().unwrap()
    );
    let statuses: BTreeSet<&str> = cases
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        BTreeSet::from(["closed", "contacted", "open", "resolved"])
    );
    assert!(cases.iter().any(|c| c["overdue"] == true));
    let held: Vec<&Value> = cases.iter().filter(|c| c["arm"] == "holdout").collect();
    assert_eq!(
        held.len() as u64,
        planted["overall"]["holdout"].as_u64().unwrap()
    );
    assert!(
        held.iter()
            .all(|c| c["status"] == "open" && c["outcome"].is_null())
    );
    let kinds: BTreeSet<&str> = cases
        .iter()
        .filter_map(|c| c["outcome"]["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["apology", "compensation", "no_contact"])
    );
    // The demo's rows are evaluated: a scan opens nothing.
    let scanned = json(&data, &["cases", "scan", "--json"]);
    for rule in scanned.as_array().unwrap() {
        assert_eq!(rule["opened"], 0, "{rule}");
    }

    // The effect: followed up − held out, within the 95% interval of every window.
    let report = json(&data, &["cases", "effect", "--json"]);
    for (i, w) in report["windows"].as_array().unwrap().iter().enumerate() {
        let days = w["days"].as_u64().unwrap();
        let expected = &planted["overall"]["repurchase"][i];
        assert_eq!(expected["days"].as_u64(), Some(days));
        let truth = expected["change_points"].as_f64().unwrap();
        let overall = &w["overall"];
        let compared =
            overall["follow_up"].as_u64().unwrap() + overall["holdout"].as_u64().unwrap();
        assert_eq!(compared, expected["cases"].as_u64().unwrap());
        let (low, high, covered) = covers(overall, truth);
        let value = overall["effect"]["repurchase"]["value"].as_f64().unwrap();
        eprintln!("{days} days: {value:.2} ({low:.2} – {high:.2}) against the truth {truth:.2}");
        assert!(covered, "{days} days: {truth} not in {low} – {high}");
        assert!(truth > 0.0);
        // A compensation: the followed-up cases with one against every held-out case.
        let compensation = &w["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["id"] == "compensation");
        let truth = planted["outcomes"][1]["repurchase"][i]["change_points"]
            .as_f64()
            .unwrap();
        let (low, high, covered) = covers(compensation.unwrap(), truth);
        eprintln!("{days} days, compensation: ({low:.2} – {high:.2}) against {truth:.2}");
        assert!(
            covered,
            "{days} days, compensation: {truth} not in {low} – {high}"
        );
    }
    assert!(planted["expected_customers_kept"].as_f64().unwrap() > 0.0);

    // Rebuilt with another seed: the rules stay, the cases are the new world's.
    let rebuilt = run(
        &data,
        &[
            "demo",
            "--customers",
            "3000",
            "--seed",
            "2",
            "--rebuild",
            "--no-serve",
        ],
    );
    assert!(
        rebuilt.status.success(),
        "{}",
        String::from_utf8_lossy(&rebuilt.stderr)
    );
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("truth.json")).unwrap()).unwrap();
    let cases = json(&data, &["cases", "list", "--json", "--limit", "100000"]);
    let count = cases.as_array().unwrap().len() as u64;
    assert_eq!(
        count,
        truth["followup"]["overall"]["cases"].as_u64().unwrap()
    );
    let rules = json(&data, &["trigger", "list", "--json"]);
    assert_eq!(rules.as_array().unwrap().len(), 2);
}
