//! `cxray cases effect` on a demo world: the arms' figures checked against a computation
//! of its own from the cases and the transactions, and bad input refused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate};
use serde_json::Value;

use crate::cases::{DETRACTORS, refused};
use crate::{demo_folder, json, run};

/// A case as the test reads it: arm, opening day, customer, outcome and amount.
struct Case {
    holdout: bool,
    day: NaiveDate,
    customer: String,
    outcome: Option<String>,
    amount: f64,
}

fn day(text: &str) -> NaiveDate {
    DateTime::parse_from_rfc3339(text).unwrap().date_naive()
}

fn cases(data: &Path) -> Vec<Case> {
    let listed = json(data, &["cases", "list", "--json", "--limit", "100000"]);
    let case = |c: &Value| Case {
        holdout: c["arm"] == "holdout",
        day: day(c["opened_at"].as_str().unwrap()),
        customer: c["customer_id"].as_str().unwrap().to_string(),
        outcome: c["outcome"]["kind"].as_str().map(str::to_string),
        amount: c["outcome"]["amount"].as_f64().unwrap_or(0.0),
    };
    listed.as_array().unwrap().iter().map(case).collect()
}

/// Every purchase: customer → (day, amount).
fn purchases(data: &Path) -> BTreeMap<String, Vec<(NaiveDate, f64)>> {
    let query = "SELECT customer_id, CAST(at AS VARCHAR) AS at, CAST(amount AS DOUBLE) AS amount
        FROM transactions";
    let rows = json(data, &["sql", "--json", query]);
    let mut out: BTreeMap<String, Vec<(NaiveDate, f64)>> = BTreeMap::new();
    for r in rows.as_array().unwrap() {
        let customer = r["customer_id"].as_str().unwrap().to_string();
        let at = day(r["at"].as_str().unwrap());
        out.entry(customer)
            .or_default()
            .push((at, r["amount"].as_f64().unwrap()));
    }
    out
}

/// One arm's sums over a window: cases, who bought again, revenue (Σy, Σy², Σx, Σx²,
/// Σxy with x the spend before).
#[derive(Default, Debug)]
struct Arm {
    n: f64,
    bought: f64,
    sums: [f64; 5],
}

impl Arm {
    fn add(&mut self, bought: bool, y: f64, x: f64) {
        self.n += 1.0;
        self.bought += f64::from(u8::from(bought));
        for (s, v) in self.sums.iter_mut().zip([y, y * y, x, x * x, x * y]) {
            *s += v;
        }
    }
    fn mean(&self) -> f64 {
        self.sums[0] / self.n
    }
    /// Within-arm Σ(x − x̄)(y − ȳ) and Σ(x − x̄)².
    fn co(&self) -> (f64, f64) {
        let [y, _, x, xx, xy] = self.sums;
        (xy - x * y / self.n, xx - x * x / self.n)
    }
}

/// The arms' sums over a window of `days` for the cases whose window ended by `as_of`,
/// and how many had not ended.
fn arms(
    cases: &[Case],
    bought: &BTreeMap<String, Vec<(NaiveDate, f64)>>,
    days: i64,
    as_of: NaiveDate,
) -> ([Arm; 2], u64) {
    let mut arms = [Arm::default(), Arm::default()];
    let mut not_ended = 0;
    for c in cases {
        if (c.day + chrono::Duration::days(days)) > as_of {
            not_ended += 1;
            continue;
        }
        let theirs = bought.get(&c.customer).map_or(&[][..], Vec::as_slice);
        let within = |from: i64, to: i64| {
            theirs
                .iter()
                .filter(|(d, _)| (from..=to).contains(&(*d - c.day).num_days()))
                .fold((0, 0.0), |(n, s), (_, a)| (n + 1, s + a))
        };
        let (after, spend) = within(1, days);
        let (_, before) = within(-days, -1);
        arms[usize::from(c.holdout)].add(after > 0, spend, before);
    }
    (arms, not_ended)
}

fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-6 * (1.0 + b.abs()),
        "{what}: {a} vs {b}"
    );
}

/// Checks a window's overall figures against the sums.
fn check_window(w: &Value, [f, h]: &[Arm; 2], not_ended: u64, compensation: f64) {
    let overall = &w["overall"];
    let days = w["days"].as_u64().unwrap();
    assert_eq!(w["not_ended"], not_ended, "{days}");
    assert_eq!(overall["follow_up"].as_f64().unwrap(), f.n, "{days}");
    assert_eq!(overall["holdout"].as_f64().unwrap(), h.n, "{days}");
    let e = &overall["effect"];
    let rate = |a: &Arm| a.bought / a.n;
    let repurchase = e["repurchase"]["value"].as_f64().unwrap();
    close(repurchase, 100.0 * (rate(f) - rate(h)), "bought again");
    let revenue = &e["revenue"];
    let unadjusted = revenue["unadjusted"]["value"].as_f64().unwrap();
    close(unadjusted, f.mean() - h.mean(), "revenue");
    let ((cf, vf), (ch, vh)) = (f.co(), h.co());
    let theta = (cf + ch) / (vf + vh);
    close(revenue["theta"].as_f64().unwrap(), theta, "theta");
    let x = |a: &Arm| a.sums[2] / a.n;
    let adjusted = revenue["adjusted"]["value"].as_f64().unwrap();
    close(
        adjusted,
        unadjusted - theta * (x(f) - x(h)),
        "adjusted revenue",
    );
    let value = &e["value"];
    close(
        value["compensation"].as_f64().unwrap(),
        compensation,
        "compensation",
    );
    let extra = value["extra_customers"]["value"].as_f64().unwrap();
    close(extra, (rate(f) - rate(h)) * f.n, "extra customers");
    for key in ["low", "high", "p_value"] {
        assert!(e["repurchase"][key].is_number(), "{key}: {e}");
    }
    let balance: Vec<&str> = e["balance"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["measure"].as_str().unwrap())
        .collect();
    assert_eq!(balance, ["pre_purchases", "pre_spend"]);
    assert!(e["detectable"]["repurchase_points"].as_f64().unwrap() > 0.0);
    assert!(e["absent"].as_array().unwrap().contains(&"p_alive".into()));
}

/// A demo world of `customers` with a rule on detractors holding out `holdout`, scanned.
fn with_cases(dir: &Path, customers: &str, holdout: &str) -> PathBuf {
    let data = demo_folder(dir, customers);
    let add = [&DETRACTORS[..], &["--holdout", holdout]].concat();
    assert!(run(&data, &add).status.success());
    assert!(run(&data, &["cases", "scan"]).status.success());
    data
}

#[test]
fn effect_compares_the_arms_as_the_data_says() {
    let dir = tempfile::tempdir().unwrap();
    let data = with_cases(dir.path(), "3000", "0.3");
    // The demo's history had no live scans: cases opened when their answers came in.
    let db = rusqlite::Connection::open(data.join("cxray.db")).unwrap();
    db.execute("UPDATE cases SET opened_at = event_at", [])
        .unwrap();
    let followed: Vec<i64> = db
        .prepare("SELECT id FROM cases WHERE arm = 'follow_up' ORDER BY id LIMIT 20")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    drop(db);
    for (i, id) in followed.iter().enumerate() {
        let id = id.to_string();
        let outcome: &[&str] = match i % 2 {
            0 => &["--outcome", "compensation", "--amount", "50"],
            _ => &["--outcome", "apology"],
        };
        let update = [
            &["cases", "update", &id, "--status", "resolved"][..],
            outcome,
        ]
        .concat();
        assert!(run(&data, &update).status.success(), "{update:?}");
    }

    let report = json(&data, &["cases", "effect", "--json"]);
    let (cases, bought) = (cases(&data), purchases(&data));
    let as_of = bought.values().flatten().map(|(d, _)| *d).max().unwrap();
    assert_eq!(report["as_of"], as_of.to_string());
    assert_eq!(report["currency"], "EUR");
    assert_eq!(report["cases"].as_u64().unwrap(), cases.len() as u64);
    let windows = report["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 2);
    for w in windows {
        let days = w["days"].as_i64().unwrap();
        let (arms, not_ended) = arms(&cases, &bought, days, as_of);
        let paid: f64 = cases
            .iter()
            .filter(|c| c.day + chrono::Duration::days(days) <= as_of)
            .map(|c| c.amount)
            .sum();
        check_window(w, &arms, not_ended, paid);
        assert_eq!(w["rules"][0]["label"], "Detractors");
        assert_eq!(w["rules"][0]["follow_up"], w["overall"]["follow_up"]);
        assert_eq!(w["owners"][0]["label"], "Customer Care");
        let outcomes: Vec<&str> = w["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["id"].as_str().unwrap())
            .collect();
        assert_eq!(outcomes, ["apology", "compensation", ""]);
        let compensated = cases
            .iter()
            .filter(|c| c.outcome.as_deref() == Some("compensation"))
            .filter(|c| c.day + chrono::Duration::days(days) <= as_of)
            .count();
        assert_eq!(w["outcomes"][1]["follow_up"], compensated);
        assert_eq!(w["outcomes"][1]["holdout"], w["overall"]["holdout"]);
        assert_eq!(w["outcomes"][1]["randomised"], false);
    }
    assert!(cases.iter().any(|c| c.holdout) && cases.iter().any(|c| !c.holdout));

    // People read names, money with its currency and counts with separators.
    let text = run(&data, &["cases", "effect", "--window-days", "90"]);
    let text = String::from_utf8(text.stdout).unwrap();
    for part in [
        "Within 90 days",
        "rule: Detractors",
        "owner: Customer Care",
        "outcome: Compensation *",
        "amounts of money in EUR",
        "standardised difference",
    ] {
        assert!(text.contains(part), "{part}: {text}");
    }
    assert!(!text.contains("Within 180 days"), "{text}");
    let one_rule = json(&data, &["cases", "effect", "--rule", "1", "--json"]);
    assert_eq!(one_rule["cases"], report["cases"]);
    p_alive_between_valuations(&data, &cases, as_of);
}

/// With a valuation a year before the data's end and one at its end, the cases opened
/// between them whose window ended have a change in P(alive).
fn p_alive_between_valuations(data: &Path, cases: &[Case], as_of: NaiveDate) {
    for extra in [&["--calibration-end", "2024-06-30"][..], &[]] {
        let predict = [&["loyalty", "predict"][..], extra].concat();
        assert!(run(data, &predict).status.success(), "{predict:?}");
    }
    let report = json(data, &["cases", "effect", "--json", "--window-days", "90"]);
    let e = &report["windows"][0]["overall"]["effect"];
    let first = NaiveDate::from_ymd_opt(2024, 6, 30).unwrap();
    let between = cases
        .iter()
        .filter(|c| c.day >= first && c.day + chrono::Duration::days(90) <= as_of)
        .count() as u64;
    let p = &e["p_alive"];
    let n = p["n_a"].as_u64().unwrap() + p["n_b"].as_u64().unwrap();
    assert!(n > 0 && n <= between, "{n} of {between}: {p}");
    assert!(p["value"].as_f64().unwrap().abs() < 100.0, "{p}");
    assert!(!e["absent"].as_array().unwrap().contains(&"p_alive".into()));
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = with_cases(dir.path(), "500", "0.1");
    let before = json(&data, &["cases", "list", "--json", "--limit", "100000"]);
    let effect = |more: &[&'static str]| [&["cases", "effect"][..], more].concat();
    refused(
        &data,
        &effect(&["--rule", "Nobody"]),
        &["no rule 'Nobody'", "Detractors", "(--rule)"],
    );
    refused(
        &data,
        &effect(&["--window-days", "0"]),
        &["0 days", "(--window-days)"],
    );
    refused(
        &data,
        &effect(&["--window-days", "90,90"]),
        &["twice", "(--window-days)"],
    );
    refused(
        &data,
        &effect(&["--window-days", "ninety"]),
        &["--window-days"],
    );
    refused(
        &data,
        &effect(&["--detect-points", "0"]),
        &["--detect-points"],
    );
    assert_eq!(
        json(&data, &["cases", "list", "--json", "--limit", "100000"]),
        before
    );
    // Cases opened today have windows that end after the data: none compared.
    let report = json(&data, &["cases", "effect", "--json"]);
    let w = &report["windows"][0];
    assert_eq!(w["not_ended"], report["cases"]);
    assert!(w["overall"]["effect"].is_null());
}
