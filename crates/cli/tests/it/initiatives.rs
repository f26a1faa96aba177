//! `cxray initiative`: measuring on any panel against the published studies' reference
//! figures (crates/core/tests/data/initiatives), bad panels refused, and the demo world's
//! planted initiative registered, measured and edited.

use std::path::PathBuf;

use crate::{demo_folder, initialised, json, run};

fn reference(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/data/initiatives")
        .join(name)
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn close(got: &serde_json::Value, want: &serde_json::Value, tolerance: f64) {
    let (g, w) = (got.as_f64().unwrap(), want.as_f64().unwrap());
    assert!((g - w).abs() <= tolerance * w.abs(), "{g} against {w}");
}

#[test]
fn measuring_a_query_reproduces_the_organ_donation_study() {
    let (_dir, data) = initialised();
    let want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reference("reference.json")).unwrap())
            .unwrap();
    let did = &want["organ_donations"]["did"];
    let query = format!(
        "SELECT * FROM '{}'",
        reference("organ_donations.csv").display()
    );
    let m = json(&data, &["initiative", "measure", "--sql", &query, "--json"]);
    assert_eq!(m["estimator"], "difference_in_differences");
    assert_eq!(m["periods"], "number");
    close(&m["effect"]["absolute"]["value"], &did["estimate"], 1e-9);
    close(&m["effect"]["se"], &did["se"], 1e-6);
    close(&m["effect"]["absolute"]["low"], &did["low"], 1e-6);
    assert_eq!(m["event_study"].as_array().unwrap().len(), 5);
    let text = run(&data, &["initiative", "measure", "--sql", &query]);
    let text = String::from_utf8_lossy(&text.stdout);
    for part in [
        "Verdict: a change",
        "Pre-trend test",
        "Event study",
        "chosen: 1 treated",
    ] {
        assert!(text.contains(part), "{part}: {text}");
    }
    let asked = [
        "initiative",
        "measure",
        "--sql",
        &query,
        "--estimator",
        "synthetic",
    ];
    let refused = json(&data, &[&asked[..], &["--json"]].concat());
    assert_eq!(refused["refusal"]["reason"], "short_pre_period");
    assert!(refused["effect"].is_null());
    let text = String::from_utf8_lossy(&run(&data, &asked).stdout).into_owned();
    assert!(
        text.contains("No claim: pre-period too short: 3 period(s) before the start, 5 needed"),
        "{text}"
    );
}

#[test]
fn bad_panels_are_refused_naming_the_column_or_row() {
    let (_dir, data) = initialised();
    let values = |rows: &str| {
        format!("SELECT * FROM (VALUES {rows}) AS t(unit, period, outcome, treated_from)")
    };
    let cases = [
        (
            "SELECT 'a' AS unit, 1 AS period, 'x' AS outcome, NULL AS treated_from".to_string(),
            "column outcome is Utf8, not a number",
        ),
        (
            "SELECT 'a' AS unit, 1 AS period, 2.0 AS outcome".to_string(),
            "the query has no column treated_from",
        ),
        (
            "SELECT 'a' AS unit, 1.5 AS period, 2.0 AS outcome, NULL AS treated_from".to_string(),
            "column period is Float64",
        ),
        (
            values("('a', 1, 1.0, NULL), ('a', 1, 2.0, NULL)"),
            "row 2: unit 'a' has period 1 twice",
        ),
        (
            values("('a', 1, 1.0, 2), ('a', 2, 2.0, 3)"),
            "row 2: unit 'a' has treated_from 3, but 2 in an earlier row",
        ),
        (
            values("('a', 1, NULL, 2), ('b', 2, 2.0, 3)"),
            "row 1: column outcome is NULL",
        ),
    ];
    for (query, message) in cases {
        let out = run(&data, &["initiative", "measure", "--sql", &query]);
        assert_eq!(out.status.code(), Some(2), "{query}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{query}: {}", stderr(&out));
    }
}

#[test]
fn the_demo_initiative_is_registered_and_its_planted_effect_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo_folder(dir.path(), "5000");
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("truth.json")).unwrap()).unwrap();
    let planted = &truth["initiative"];
    let name = planted["name"].as_str().unwrap();
    let list = json(&data, &["initiative", "list", "--json"]);
    assert_eq!(list[0]["name"], name);
    assert_eq!(list[0]["scope"]["values"][0], planted["site"]);
    let m = json(&data, &["initiative", "measure", name, "--json"]);
    assert!(m["refusal"].is_null(), "{m}");
    let relative = &m["effect"]["relative"];
    let truth_relative = planted["failure_multiplier"].as_f64().unwrap() - 1.0;
    let (low, high) = (
        relative["low"].as_f64().unwrap(),
        relative["high"].as_f64().unwrap(),
    );
    assert!(
        low <= truth_relative && truth_relative <= high,
        "{relative} against {truth_relative}"
    );
    assert!(high < 0.0, "the planted fix is found: {relative}");

    // Its business case: failures avoided × the excess leaving after one × the mean CLV,
    // the volumes recomputed from the journey and the costs as recorded.
    let journey = json(&data, &["journey", "--json"]);
    let case = &m["business_case"];
    assert_eq!(case["mean_clv"], journey["mean_clv"], "{case}");
    let avoided = -m["effect"]["absolute"]["value"].as_f64().unwrap()
        * case["interactions_per_year"].as_f64().unwrap();
    let kept = avoided * case["excess_dropout"]["value"].as_f64().unwrap();
    let got = case["customers_kept"]["value"].as_f64().unwrap();
    assert!((got - kept).abs() < 1e-9 * kept.abs().max(1.0), "{case}");
    let value = case["value"]["value"].as_f64().unwrap();
    assert!(
        (value - kept * journey["mean_clv"].as_f64().unwrap()).abs() < 1e-6,
        "{case}"
    );
    assert_eq!(case["costs"]["years"], 3.0);
    let net = case["net_value"]["value"].as_f64().unwrap();
    let (one_off, running) = (
        list[0]["one_off_cost"].as_f64().unwrap(),
        list[0]["running_cost"].as_f64().unwrap(),
    );
    assert!(
        (net - (3.0 * (value - running) - one_off)).abs() < 1e-6 * value.abs().max(1.0),
        "{case}"
    );
    // The scoped touchpoints' trips with a bad experience against those without.
    let pooled = |field: &str| {
        journey["touchpoints"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| {
                list[0]["scope"]["touchpoints"]
                    .as_array()
                    .unwrap()
                    .contains(&t["touchpoint"])
            })
            .map(|t| {
                let e = &t[field];
                let n = e["n"].as_f64().unwrap();
                ((e["value"].as_f64().unwrap() / 100.0 * n).round(), n)
            })
            .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y))
    };
    let ((bad, nb), (ok, no)) = (pooled("dropout_after_bad"), pooled("dropout_after_ok"));
    let excess = bad / nb - ok / no;
    assert!(
        (case["excess_dropout"]["value"].as_f64().unwrap() - excess).abs() < 1e-12,
        "{case}"
    );
}

#[test]
fn the_answers_and_revenue_are_measured_at_the_initiatives_units() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo_folder(dir.path(), "3000");
    let name = json(&data, &["initiative", "list", "--json"])[0]["name"]
        .as_str()
        .unwrap()
        .to_string();
    // The demo's NPS question is about the trip as a whole, not the fix's touchpoints.
    let out = run(&data, &["initiative", "measure", &name, "--outcome", "nps"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no NPS to measure"),
        "{}",
        stderr(&out)
    );
    // Each outcome on its own scale, the CPH airport treated, the other five the control.
    for (outcome, low, high) in [("csat", 0.0, 1.0), ("revenue_per_customer", 1.0, 1e5)] {
        let m = json(
            &data,
            &[
                "initiative",
                "measure",
                &name,
                "--outcome",
                outcome,
                "--json",
            ],
        );
        assert_eq!(m["design"]["units"], 6, "{outcome}: {m}");
        assert_eq!(m["design"]["treated_units"], 1, "{outcome}");
        let series = m["series"].as_array().unwrap();
        assert!(series.len() > 50, "{outcome}: weeks {}", series.len());
        for p in series {
            for side in ["treated", "comparison"] {
                if let Some(v) = p[side].as_f64() {
                    assert!((low..=high).contains(&v), "{outcome} {side}: {v}");
                }
            }
        }
        let case = &m["business_case"];
        match (outcome, m["effect"]["absolute"]["value"].as_f64()) {
            // A revenue change a year: the effect × the buying customers a year, counted
            // per week.
            ("revenue_per_customer", Some(effect)) => {
                let per_year = case["buyer_weeks_per_year"].as_f64().unwrap();
                assert!(per_year > 0.0 && case["mean_clv"].is_null(), "{case}");
                let value = case["value"]["value"].as_f64().unwrap();
                assert!((value - effect * per_year).abs() < 1e-6 * value.abs().max(1.0));
            }
            _ => assert!(case.is_null(), "{outcome}: not priced"),
        }
        if m["claim"] == true {
            let e = &m["effect"]["absolute"];
            assert!(e["low"].as_f64().unwrap() <= e["high"].as_f64().unwrap());
        } else {
            assert!(m["refusal"]["reason"].is_string(), "{outcome}: {m}");
        }
    }
}

#[test]
fn leaving_after_a_visit_is_measured_as_a_query_of_the_same_panel_measures_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo_folder(dir.path(), "3000");
    let listed = &json(&data, &["initiative", "list", "--json"])[0];
    let name = listed["name"].as_str().unwrap();
    let m = json(
        &data,
        &[
            "initiative",
            "measure",
            name,
            "--outcome",
            "defection",
            "--json",
        ],
    );
    // The same panel written independently: each customer's last visit to a site in a
    // week, 1 when no purchase followed within the 180 days after, weeks whose window
    // passes the last purchase left out.
    let (column, site) = (
        listed["scope"]["column"].as_str().unwrap(),
        listed["scope"]["values"][0].as_str().unwrap(),
    );
    let touchpoints: Vec<String> = listed["scope"]["touchpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| format!("'{}'", t.as_str().unwrap()))
        .collect();
    let day = |c: &str| format!("floor(to_unixtime({c}) / 86400)");
    let query = format!(
        "WITH v AS (SELECT customer_id, CAST({column} AS VARCHAR) AS unit,
                    CAST(date_trunc('week', at) AS DATE) AS period, max({at}) AS day
                  FROM interactions WHERE {column} IS NOT NULL AND touchpoint IN ({tps})
                  GROUP BY 1, 2, 3),
         e AS (SELECT max({t_at}) AS last FROM transactions t),
         b AS (SELECT DISTINCT v.customer_id, v.unit, v.period FROM v
               JOIN transactions t ON t.customer_id = v.customer_id
               WHERE {t_at} > v.day AND {t_at} <= v.day + 180)
         SELECT v.unit, v.period,
                avg(CASE WHEN b.customer_id IS NULL THEN 1.0 ELSE 0.0 END) AS outcome,
                CASE WHEN v.unit = '{site}' THEN DATE '{start}' END AS treated_from
         FROM v CROSS JOIN e
         LEFT JOIN b ON b.customer_id = v.customer_id AND b.unit = v.unit
                    AND b.period = v.period
         WHERE v.day + 180 <= e.last GROUP BY v.unit, v.period",
        at = day("at"),
        t_at = day("t.at"),
        tps = touchpoints.join(", "),
        start = listed["start"].as_str().unwrap(),
    );
    let q = json(&data, &["initiative", "measure", "--sql", &query, "--json"]);
    assert_eq!(m["design"], q["design"], "{m}");
    assert_eq!(m["estimator"], q["estimator"]);
    let value = |v: &serde_json::Value, k: &str| v["effect"]["absolute"][k].as_f64().unwrap();
    for k in ["value", "low", "high"] {
        assert!((value(&m, k) - value(&q, k)).abs() < 1e-9, "{k}: {m} {q}");
    }
    let share = m["series"][0]["treated"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&share), "a share: {share}");
    // Priced as defections avoided: −effect × the customers in scope in the last year ×
    // the mean CLV.
    let case = &m["business_case"];
    let customers = case["customers_per_year"].as_f64().unwrap();
    assert!(
        customers > 0.0 && case["excess_dropout"].is_null(),
        "{case}"
    );
    let kept = -value(&m, "value") * customers;
    let got = case["customers_kept"]["value"].as_f64().unwrap();
    assert!((got - kept).abs() < 1e-9 * kept.abs().max(1.0), "{case}");
    let clv = json(&data, &["journey", "--json"])["mean_clv"]
        .as_f64()
        .unwrap();
    let worth = case["value"]["value"].as_f64().unwrap();
    assert!(
        (worth - kept * clv).abs() < 1e-6 * worth.abs().max(1.0),
        "{case}"
    );
}

#[test]
fn initiatives_are_checked_against_the_data_and_nothing_is_recorded_on_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo_folder(dir.path(), "2000");
    let add = |extra: &[&str]| {
        let base = [
            "initiative",
            "add",
            "--name",
            "Security lanes",
            "--touchpoints",
            "security",
        ];
        run(&data, &[&base[..], extra].concat())
    };
    let refusals = [
        (
            vec!["--scope", "colour=red", "--start", "2024-03-01"],
            "scope column 'colour' is not a column of the interactions",
        ),
        (
            vec!["--scope", "airport=XXX", "--start", "2024-03-01"],
            "'XXX' is not in the data",
        ),
        (
            vec!["--scope", "airport=HEL", "--start", "2030-01-01"],
            "start 2030-01-01: outside the interactions",
        ),
        (
            vec!["--scope", "airport", "--start", "2024-03-01"],
            "write it as column=value",
        ),
        (
            vec![
                "--scope",
                "airport=HEL",
                "--start",
                "2024-03-01",
                "--one-off-cost",
                "-5",
            ],
            "a cost is a finite amount",
        ),
    ];
    for (args, message) in &refusals {
        let out = add(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
    assert_eq!(
        json(&data, &["initiative", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let ok = add(&[
        "--scope",
        "airport=HEL,OSL",
        "--start",
        "2024-03-01",
        "--start-for",
        "OSL=2024-05-01",
    ]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    let again = add(&["--scope", "airport=HEL", "--start", "2024-03-01"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("exists already"),
        "{}",
        stderr(&again)
    );
    let updated = json(
        &data,
        &[
            "initiative",
            "update",
            "security lanes",
            "--status",
            "done",
            "--running-cost",
            "1200",
            "--json",
        ],
    );
    assert_eq!(
        (updated["status"].as_str(), updated["running_cost"].as_f64()),
        (Some("done"), Some(1200.0))
    );
    let shown = json(&data, &["initiative", "show", "Security lanes", "--json"]);
    assert_eq!(shown["starts"]["OSL"], "2024-05-01");
    let m = json(
        &data,
        &[
            "initiative",
            "measure",
            "Security lanes",
            "--outcome",
            "wait",
            "--json",
        ],
    );
    assert_eq!(m["estimator"], "staggered");
}

#[test]
fn what_ifs_price_fewer_bad_experiences_from_the_journey_and_rank_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo_folder(dir.path(), "3000");
    let journey = json(&data, &["journey", "--json"]);
    let clv = journey["mean_clv"].as_f64().unwrap();
    let w = json(
        &data,
        &[
            "whatif",
            "--reduce-failures",
            "30%",
            "--cost",
            "bag_drop=50000",
            "--json",
        ],
    );
    assert_eq!(w["reduction"], 0.3);
    let by_value = w["by_value"].as_array().unwrap();
    // The odds ratios are the dropout model's (`drivers --outcome defection`), the excess
    // leaving p₁ − p₀ with p₁ = OR·p₀/(1 − p₀ + OR·p₀), p₀ after trips without a bad
    // experience there.
    let drivers = json(&data, &["drivers", "--outcome", "defection", "--json"]);
    let effects = drivers["dropout"]["effects"].as_array().unwrap();
    let unadjusted = w["unadjusted"].as_array().unwrap();
    let mut modelled = 0;
    for f in by_value.iter().filter(|f| !unadjusted.contains(&f["name"])) {
        let name = format!("bad: {}", f["name"].as_str().unwrap());
        let effect = effects.iter().find(|e| e["name"] == name.as_str());
        let or = effect.unwrap()["odds_ratio"]["value"].as_f64().unwrap();
        let tp = journey["touchpoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["touchpoint"] == f["name"])
            .unwrap();
        let p0 = tp["dropout_after_ok"]["value"].as_f64().unwrap() / 100.0;
        let p1 = or * p0 / (1.0 - p0 + or * p0);
        let got = f["excess_dropout"]["value"].as_f64().unwrap();
        assert!((got - (p1 - p0)).abs() < 1e-9, "{f}");
        modelled += 1;
    }
    assert!(modelled > 0, "{w}");
    let unpriced = w["unpriced"].as_array().unwrap();
    // Every touchpoint of the journey is priced or said not to be.
    let touchpoints = journey["touchpoints"].as_array().unwrap();
    assert_eq!(by_value.len() + unpriced.len(), touchpoints.len(), "{w}");
    for f in by_value {
        let tp = touchpoints
            .iter()
            .find(|t| t["touchpoint"] == f["name"])
            .unwrap();
        let avoided = 0.3 * tp["bad_per_year"].as_f64().unwrap();
        let kept = avoided * f["excess_dropout"]["value"].as_f64().unwrap();
        let value = f["value"]["value"].as_f64().unwrap();
        assert!((f["avoided"].as_f64().unwrap() - avoided).abs() < 1e-9 * avoided.max(1.0));
        assert!((f["customers_kept"]["value"].as_f64().unwrap() - kept).abs() < 1e-9);
        assert!((value - kept * clv).abs() < 1e-6 * clv.max(1.0), "{f}");
        // The excess leaving has its interval, mapped from the odds ratio's.
        let (low, high) = (
            f["value"]["low"].as_f64().unwrap(),
            f["value"]["high"].as_f64().unwrap(),
        );
        assert!(low <= value && value <= high, "{f}");
    }
    let values: Vec<f64> = by_value
        .iter()
        .map(|f| f["value"]["value"].as_f64().unwrap())
        .collect();
    assert!(values.windows(2).all(|p| p[0] >= p[1]), "{values:?}");
    let per_cost = w["by_value_per_cost"].as_array().unwrap();
    assert_eq!(per_cost.len(), 1);
    assert_eq!(per_cost[0]["name"], "bag_drop");
    let ratio = per_cost[0]["value_per_cost"]["value"].as_f64().unwrap();
    assert!((ratio - per_cost[0]["value"]["value"].as_f64().unwrap() / 50000.0).abs() < 1e-12);
    // One touchpoint only.
    let one = json(
        &data,
        &[
            "whatif",
            "--reduce-failures",
            "10",
            "--touchpoint",
            "bag_drop",
            "--json",
        ],
    );
    assert_eq!(
        one["by_value"].as_array().unwrap().len() + one["unpriced"].as_array().unwrap().len(),
        1
    );

    // Bad input: exit 2 naming the flag, or the known touchpoints.
    for (args, named) in [
        (vec!["--reduce-failures", "0"], "--reduce-failures"),
        (vec!["--reduce-failures", "150%"], "--reduce-failures"),
        (vec!["--reduce-failures", "lots"], "--reduce-failures"),
        (
            vec!["--reduce-failures", "30", "--cost", "bag_drop"],
            "--cost",
        ),
        (
            vec!["--reduce-failures", "30", "--cost", "bag_drop=-5"],
            "--cost",
        ),
        (
            vec!["--reduce-failures", "30", "--touchpoint", "moon_base"],
            "known are",
        ),
        (
            vec!["--reduce-failures", "30", "--cost", "moon_base=5"],
            "--cost",
        ),
    ] {
        let out = run(&data, &[&["whatif"], args.as_slice()].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(named), "{args:?}: {}", stderr(&out));
    }
}
