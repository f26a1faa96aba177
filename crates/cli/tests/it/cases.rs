//! `cxray trigger` and `cxray cases` on a demo world: rules checked against the data,
//! cases opened once per event by scans and imports, worked, refused when wrong, erased.

use std::path::Path;

use serde_json::Value;

use crate::maintenance::files_containing;
use crate::{demo_folder, json, run};

/// Runs, asserts exit code 2 and that stderr holds every part of `message`.
pub fn refused(data: &Path, args: &[&str], message: &[&str]) {
    let out = run(data, args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    for part in message {
        assert!(err.contains(part), "{args:?}: {err}");
    }
}

fn cases(data: &Path, filter: &[&str]) -> Vec<Value> {
    let mut args = vec!["cases", "list", "--json", "--limit", "100000"];
    args.extend(filter);
    json(data, &args).as_array().unwrap().clone()
}

fn opened(scan: &Value) -> u64 {
    let rules = scan.as_array().unwrap();
    rules.iter().map(|r| r["opened"].as_u64().unwrap()).sum()
}

/// A rule on detractors' answers since 2020, cases to customer care where no owner.
pub const DETRACTORS: [&str; 12] = [
    "trigger",
    "add",
    "--name",
    "Detractors",
    "--instrument",
    "nps",
    "--score",
    "<=6",
    "--since",
    "2020-01-01",
    "--fallback-owner",
    "customer_care",
];

#[test]
fn rules_open_cases_once_that_owners_work_and_bad_input_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo_folder(dir.path(), "2000");
    let add = DETRACTORS;
    assert!(run(&data, &add).status.success());
    let slow = [
        "trigger",
        "add",
        "--name",
        "Slow bag drop",
        "--touchpoint",
        "bag_drop",
        "--experience",
        "over_sla",
        "--holdout",
        "0",
    ];
    assert!(run(&data, &slow).status.success());

    // Rules naming what is not there are refused with what is, and nothing is added.
    let mut bad = add.to_vec();
    bad[3] = "Other";
    let touchpoint = [&bad[..], &["--touchpoint", "gate"]].concat();
    refused(
        &data,
        &touchpoint,
        &["unknown touchpoint 'gate'", "check_in", "(--touchpoint)"],
    );
    let column = [&bad[..], &["--customer", "shoe_size=9"]].concat();
    refused(
        &data,
        &column,
        &["no column 'shoe_size'", "segment", "(--customer)"],
    );
    bad[11] = "nobody";
    refused(&data, &bad, &["unknown owner 'nobody'", "nordground"]);
    bad[11] = "customer_care";
    bad[7] = "<=11";
    refused(&data, &bad, &["out of range", "(--score)"]);
    let instrument = [
        "trigger",
        "add",
        "--name",
        "x",
        "--instrument",
        "stars",
        "--score",
        "<1",
    ];
    refused(&data, &instrument, &["nps"]);
    let sla = [
        "trigger",
        "add",
        "--name",
        "x",
        "--touchpoint",
        "check_in",
        "--experience",
        "bad",
    ];
    refused(&data, &sla, &["no service level for waits"]);
    refused(
        &data,
        &[
            "trigger",
            "add",
            "--name",
            "detractors",
            "--instrument",
            "ces",
            "--score",
            ">=5",
        ],
        &["already"],
    );
    assert_eq!(
        json(&data, &["trigger", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // The first scan opens the detractors' cases (from --since); the slow bag drops
    // arrived before their rule, so they are left alone. A second scan opens none.
    let scan = json(&data, &["cases", "scan", "--json"]);
    assert_eq!(scan[0]["name"], "Detractors");
    assert!(scan[0]["opened"].as_u64().unwrap() > 10, "{scan}");
    assert_eq!(scan[1]["events"], 0, "{scan}");
    let all = cases(&data, &[]);
    assert_eq!(all.len() as u64, opened(&scan));
    assert!(
        all.iter()
            .all(|c| c["status"] == "open" && c["owner"].is_string())
    );
    let held = all.iter().filter(|c| c["arm"] == "holdout").count();
    assert!(held > 0 && held < all.len() / 3, "{held} of {}", all.len());
    assert_eq!(opened(&json(&data, &["cases", "scan", "--json"])), 0);

    // An imported detractor opens a case routed to the touchpoint's owner; importing the
    // same answers again in another file opens none.
    let answers = "customer_id,at,instrument,score,touchpoint,comment\n\
        C0000001,2025-07-01T10:00:00Z,nps,2,bag_drop,bag lost\n\
        C0000002,2025-07-01T11:00:00Z,nps,10,bag_drop,\n";
    let file = dir.path().join("answers.csv");
    std::fs::write(&file, answers).unwrap();
    let out = run(&data, &["import", "responses", file.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 follow-up case opened"));
    let copy = dir.path().join("answers-again.csv");
    std::fs::write(
        &copy,
        format!("{answers}C0000003,2025-07-02T10:00:00Z,nps,9,,\n"),
    )
    .unwrap();
    let out = run(&data, &["import", "responses", copy.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 follow-up cases opened"));
    let nordground = cases(&data, &["--owner", "nordground", "--trigger", "Detractors"]);
    assert_eq!(nordground.len(), 1);
    let case = &nordground[0];
    assert_eq!(case["customer_id"], "C0000001");
    assert_eq!(case["detail"], "nps 2: \"bag lost\"");

    // Working a followed-up case; wrong updates change nothing.
    let worked = all.iter().find(|c| c["arm"] == "follow_up").unwrap();
    let id = worked["id"].to_string();
    let show = |id: &str| json(&data, &["cases", "show", id, "--json"]);
    let before = show(&id);
    refused(
        &data,
        &["cases", "update", &id, "--status", "open"],
        &["cannot become open", "contacted"],
    );
    refused(
        &data,
        &["cases", "update", &id, "--root-cause", "baggage"],
        &["unknown root cause"],
    );
    refused(
        &data,
        &["cases", "update", &id, "--owner", "nobody"],
        &["unknown owner", "(--owner)"],
    );
    refused(
        &data,
        &["cases", "update", &id, "--outcome", "compensation"],
        &["amount"],
    );
    refused(
        &data,
        &["cases", "update", &id, "--status", "done"],
        &["resolved"],
    );
    assert_eq!(show(&id), before);
    let causes = [
        "cases",
        "causes",
        "--add",
        "baggage > delayed > missed connection",
    ];
    assert!(run(&data, &causes).status.success());
    let update = [
        "cases",
        "update",
        &id,
        "--status",
        "contacted",
        "--assignee",
        "kim",
        "--root-cause",
        "baggage > delayed",
        "--outcome",
        "compensation",
        "--amount",
        "50",
        "--note",
        "voucher",
    ];
    let after = json(&data, &[&update[..], &["--json"]].concat());
    assert_eq!(after["case"]["status"], "contacted");
    assert_eq!(after["case"]["outcome"]["amount"], 50.0);
    assert_eq!(after["history"].as_array().unwrap().len(), 2);
    assert_eq!(after["history"][1]["note"], "voucher");
    let by_cause = cases(&data, &["--root-cause", "baggage"]);
    assert_eq!(by_cause.len(), 1);
    assert_eq!(cases(&data, &["--status", "contacted"]).len(), 1);
    assert!(cases(&data, &["--overdue"]).is_empty(), "just opened");
    let holdout = all.iter().find(|c| c["arm"] == "holdout").unwrap()["id"].to_string();
    refused(
        &data,
        &["cases", "update", &holdout, "--status", "contacted"],
        &["held out"],
    );

    // A disabled rule opens no more cases.
    assert!(
        run(&data, &["trigger", "disable", "Detractors"])
            .status
            .success()
    );
    let late = dir.path().join("late.csv");
    std::fs::write(
        &late,
        "customer_id,at,instrument,score\nC0000004,2025-07-03T10:00:00Z,nps,0\n",
    )
    .unwrap();
    let out = run(&data, &["import", "responses", late.to_str().unwrap()]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("follow-up"));
    assert!(
        cases(&data, &["--trigger", "Detractors"])
            .iter()
            .all(|c| c["customer_id"] != "C0000004")
    );

    // Erasure takes the customer's cases with it: the operational database's files no
    // longer hold the id.
    let in_database = |p: &std::path::PathBuf| {
        let name = p.file_name().unwrap().to_string_lossy();
        name.starts_with("cxray.db")
    };
    let before = files_containing(&data, b"C0000001");
    assert!(before.iter().any(in_database), "{before:?}");
    assert!(run(&data, &["forget", "C0000001"]).status.success());
    assert!(
        cases(&data, &[])
            .iter()
            .all(|c| c["customer_id"] != "C0000001")
    );
    let left = files_containing(&data, b"C0000001");
    assert!(!left.iter().any(in_database), "{left:?}");
}

/// The distinct customers of the cases.
fn customers<'a>(of: &[&'a Value]) -> Vec<&'a str> {
    let mut ids: Vec<&str> = of
        .iter()
        .map(|c| c["customer_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

#[test]
fn root_causes_are_counted_and_priced_by_their_customers_lifetime_value() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo_folder(dir.path(), "2000");
    assert!(run(&data, &DETRACTORS).status.success());
    assert!(run(&data, &["cases", "scan"]).status.success());
    let empty = json(&data, &["cases", "costs", "--json"]);
    assert_eq!(
        empty["causes"],
        serde_json::json!([]),
        "no case names a cause"
    );
    for cause in ["baggage > delayed", "baggage > lost", "staff"] {
        assert!(
            run(&data, &["cases", "causes", "--add", cause])
                .status
                .success()
        );
    }
    let worked: Vec<Value> = cases(&data, &[])
        .into_iter()
        .filter(|c| c["arm"] == "follow_up")
        .take(4)
        .collect();
    let named = [
        "baggage > delayed",
        "baggage > delayed",
        "baggage > lost",
        "staff",
    ];
    for (c, cause) in worked.iter().zip(named) {
        let id = c["id"].to_string();
        let set = ["cases", "update", &id, "--root-cause", cause];
        assert!(run(&data, &set).status.success());
    }
    let clv = |ids: &[&str]| {
        let list: Vec<String> = ids.iter().map(|i| format!("'{i}'")).collect();
        let sql = format!(
            "SELECT sum(clv) AS v FROM customer_value WHERE customer_id IN ({})",
            list.join(", ")
        );
        json(&data, &["sql", &sql, "--json"])[0]["v"]
            .as_f64()
            .unwrap()
    };
    let costs = json(&data, &["cases", "costs", "--json"]);
    let causes = costs["causes"].as_array().unwrap();
    let find = |name: &str| causes.iter().find(|c| c["cause"] == name).unwrap();
    let expected = [
        ("baggage", &worked[..3]),
        ("baggage > delayed", &worked[..2]),
        ("baggage > lost", &worked[2..3]),
        ("staff", &worked[3..4]),
    ];
    assert_eq!(causes.len(), expected.len(), "{costs}");
    for (name, of) in expected {
        let of: Vec<&Value> = of.iter().collect();
        let ids = customers(&of);
        let c = find(name);
        assert_eq!(c["cases"], of.len() as u64, "{name}");
        assert_eq!(c["customers"], ids.len() as u64, "{name}");
        let money = c["clv"].as_f64().unwrap();
        assert!(
            (money - clv(&ids)).abs() < 1e-6 * money.max(1.0),
            "{name}: {money}"
        );
    }
    let money: Vec<f64> = causes.iter().map(|c| c["clv"].as_f64().unwrap()).collect();
    assert!(
        money.windows(2).all(|w| w[0] >= w[1]),
        "costliest first: {money:?}"
    );
    let text = run(&data, &["cases", "costs"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("baggage > delayed") && text.contains("their lifetime value"),
        "{text}"
    );
}

/// Business hours are set, shown and cleared; hours written wrongly are refused with why,
/// and change nothing.
#[test]
fn business_hours_are_set_refused_when_wrong_and_cleared() {
    let (_dir, data) = crate::initialised();
    let weekdays = "Mon-Fri 08:00-17:00 Europe/Copenhagen";
    let set = json(&data, &["cases", "hours", weekdays, "--json"]);
    assert_eq!(set, weekdays);
    for bad in [
        "Mon-Fri 08:00-17:00",
        "Mon-Fri 17:00-08:00 Europe/Copenhagen",
        "Mon-Fri 08:00-17:00 Europe/Atlantis",
    ] {
        let out = run(&data, &["cases", "hours", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let why = String::from_utf8_lossy(&out.stderr);
        assert!(why.contains("e.g. 'Mon-Fri 08:00-17:00"), "{why}");
        assert_eq!(json(&data, &["cases", "hours", "--json"]), weekdays);
    }
    let holidays = "Mon-Fri 08:00-17:00 Europe/Copenhagen closed 2026-12-24,2026-12-25";
    assert_eq!(
        json(&data, &["cases", "hours", holidays, "--json"]),
        holidays
    );
    let out = run(
        &data,
        &[
            "cases",
            "hours",
            "Mon-Fri 08:00-17:00 UTC closed 2026-02-30",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("'2026-02-30' is not a date"));
    assert_eq!(json(&data, &["cases", "hours", "--json"]), holidays);
    let cleared = run(&data, &["cases", "hours", "--clear"]);
    let shown = String::from_utf8_lossy(&cleared.stdout);
    assert!(shown.starts_with("every hour counts"), "{shown}");
}
