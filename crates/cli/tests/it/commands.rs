use std::io::Write;
use std::time::{Duration, Instant};

use crate::{cdnow, cxray, import_cdnow_sample, initialised, json, run};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn import_query_and_list_tables() {
    let (_dir, data) = initialised();
    let master = cdnow("CDNOW_master.txt").display().to_string();
    let summary = json(
        &data,
        &[
            "import",
            "transactions",
            &master,
            "--map",
            "at=date,amount=dollar_value,quantity=number_of_cds",
            "--date-format",
            "%Y%m%d",
            "--json",
        ],
    );
    assert_eq!(summary["rows"], 69_659);
    assert_eq!(summary["customers"], 23_570);
    assert_eq!(summary["version"], 1);
    assert!(
        !data.join("derived").exists(),
        "no trips without interactions"
    );

    let rows = json(
        &data,
        &[
            "sql",
            "SELECT count(*) AS n, count(DISTINCT customer_id) AS customers FROM transactions",
            "--json",
        ],
    );
    assert_eq!(rows, serde_json::json!([{"n": 69659, "customers": 23570}]));

    let tables = json(&data, &["tables", "--json"]);
    let tx = tables
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "transactions")
        .unwrap();
    assert_eq!(
        (tx["rows"].as_u64(), tx["version"].as_i64()),
        (Some(69_659), Some(1))
    );
    assert_eq!(tx["first"], "1997-01-01T00:00:00Z");

    // Aligned text and CSV.
    let out = run(
        &data,
        &[
            "sql",
            "SELECT customer_id, CAST(amount AS VARCHAR) AS amount FROM transactions ORDER BY customer_id, at LIMIT 2",
        ],
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("customer_id  amount\n-----------  -------\n00001        11.7700\n"),
        "{text}"
    );
    let out = run(
        &data,
        &[
            "sql",
            "--csv",
            "SELECT customer_id FROM transactions ORDER BY customer_id LIMIT 1",
        ],
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "customer_id\n00001\n"
    );

    // Re-importing is detected and skipped.
    let out = run(
        &data,
        &[
            "import",
            "transactions",
            &master,
            "--map",
            "at=date,amount=dollar_value",
            "--date-format",
            "%Y%m%d",
        ],
    );
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("the same content was already imported"));
}

#[test]
fn user_errors_are_one_line_with_exit_code_2() {
    let (dir, data) = initialised();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "customer_id,at,amount\nc1,2024-01-01,abc\n").unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "import".into(),
                "transactions".into(),
                bad.display().to_string(),
            ],
            "bad.csv:2:3: amount: 'abc' is not a decimal number",
        ),
        (
            vec![
                "import".into(),
                "transactions".into(),
                "/nonexistent.csv".into(),
            ],
            "/nonexistent.csv: No such file",
        ),
        (
            vec![
                "import".into(),
                "transactions".into(),
                bad.display().to_string(),
                "--map".into(),
                "at".into(),
            ],
            "mapping: 'at' is not field=source (--map)",
        ),
        (
            vec![
                "import".into(),
                "transactions".into(),
                bad.display().to_string(),
                "--timezone".into(),
                "Nowhere/City".into(),
            ],
            "unknown time zone",
        ),
        (
            vec!["sql".into(), "SELECT nope FROM transactions".into()],
            "nope",
        ),
        (
            vec![
                "sql".into(),
                "SELECT 1".into(),
                "--as-of".into(),
                "transactions=x".into(),
            ],
            "not a version number",
        ),
    ];
    for (args, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&data, &args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(expected),
            "{args:?}: {err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let missing = dir.path().join("missing");
    let out = run(&missing, &["tables"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("does not exist: create it with `cxray init`"));
    assert!(
        !missing.exists(),
        "a read command must not create the folder"
    );
}

#[test]
fn the_data_folder_comes_from_the_option_the_environment_or_the_config() {
    let (dir, data) = initialised();
    let from_env = std::process::Command::new(env!("CARGO_BIN_EXE_cxray"))
        .args(["tables", "--json"])
        .env("CXRAY_DATA", &data)
        .env_remove("CXRAY_CONFIG")
        .output()
        .unwrap();
    assert!(from_env.status.success(), "{}", stderr(&from_env));
    let config = dir.path().join("cxray.toml");
    std::fs::write(
        &config,
        format!("data = {:?}\n", data.display().to_string()),
    )
    .unwrap();
    let from_config = std::process::Command::new(env!("CARGO_BIN_EXE_cxray"))
        .args(["tables", "--json", "--config"])
        .arg(&config)
        .env_remove("CXRAY_DATA")
        .output()
        .unwrap();
    assert!(from_config.status.success(), "{}", stderr(&from_config));
    std::fs::write(&config, "colour = 3\n").unwrap();
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_cxray"))
        .args(["tables", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("unknown field `colour`"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn an_import_killed_mid_way_leaves_the_previous_version() {
    let (dir, data) = initialised();
    let small = dir.path().join("small.csv");
    std::fs::write(&small, "customer_id,at,amount\nc0,2024-01-01,1.00\n").unwrap();
    assert!(
        run(
            &data,
            &["import", "transactions", &small.display().to_string()]
        )
        .status
        .success()
    );
    let big = dir.path().join("big.csv");
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
        writeln!(w, "customer_id,at,amount,channel").unwrap();
        for i in 0..3_000_000u64 {
            writeln!(
                w,
                "c{},2024-{:02}-{:02}T10:00:00Z,{}.{:02},web",
                i % 100_000,
                i % 12 + 1,
                i % 28 + 1,
                i % 500,
                i % 100
            )
            .unwrap();
        }
    }
    let mut child = cxray(&data)
        .args(["import", "transactions", &big.display().to_string()])
        .spawn()
        .unwrap();
    // Wait until the import has started writing data files, then kill it hard.
    let table_dir = data.join("tables/transactions");
    let entries = || std::fs::read_dir(&table_dir).unwrap().count();
    let before = entries();
    let started = Instant::now();
    while entries() == before && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the import finished before it could be killed"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let tables = json(&data, &["tables", "--json"]);
    let tx = tables
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "transactions")
        .unwrap();
    assert_eq!(
        (tx["version"].as_i64(), tx["rows"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        json(
            &data,
            &["sql", "SELECT count(*) AS n FROM transactions", "--json"]
        ),
        serde_json::json!([{"n": 1}])
    );
}

#[test]
fn demo_builds_a_world_and_reuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let built = json(
        &data,
        &[
            "demo",
            "--customers",
            "1500",
            "--seed",
            "3",
            "--no-serve",
            "--json",
        ],
    );
    assert_eq!(built["reused"], false);
    assert_eq!(built["truth"]["counts"]["customers"], 1500);
    let accounts = built["sign_in"]["accounts"].as_array().unwrap();
    let roles: Vec<&str> = accounts
        .iter()
        .map(|a| a["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["admin", "executive", "owner", "partner"]);
    assert_eq!(accounts[0]["email"], "admin@demo.invalid");
    assert_eq!(accounts[3]["owner"], "nordground");
    assert!(accounts[1]["password"].as_str().unwrap().len() >= 12);
    assert!(data.join("truth.json").is_file());
    let again = json(&data, &["demo", "--no-serve", "--json"]);
    assert_eq!(again["reused"], true);
    assert_eq!(again["truth"], built["truth"]);
    let listed = again["sign_in"]["accounts"].as_array().unwrap();
    assert_eq!(listed.len(), 4);
    assert!(listed.iter().all(|a| a["password"].is_null()));
    let n = json(
        &data,
        &["sql", "SELECT count(*) AS n FROM customers", "--json"],
    );
    assert_eq!(n, serde_json::json!([{"n": 1500}]));
}

/// The finished builds of the journey's trips in the data folder.
fn trip_builds(data: &std::path::Path) -> Vec<String> {
    let root = data.join("derived").join("journey");
    let mut builds: Vec<String> = std::fs::read_dir(&root)
        .map(|dir| {
            dir.flatten()
                .filter(|e| e.path().join("made_by.json").is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    builds.sort();
    builds
}

#[test]
fn trips_are_prepared_when_their_source_tables_change() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let built = run(&data, &["demo", "--customers", "1200", "--no-serve"]);
    assert!(built.status.success(), "{}", stderr(&built));
    let first = trip_builds(&data);
    assert_eq!(first.len(), 1, "the demo prepares the trips once");
    // Every trip-based command reads that build instead of building its own.
    for command in [
        &["journey", "--json"][..],
        &["drivers", "--outcome", "defection"],
    ] {
        assert!(run(&data, command).status.success(), "{command:?}");
        assert_eq!(trip_builds(&data), first, "{command:?} built trips again");
    }
    // New interactions: the import prepares the trips of the new version.
    let rows = run(
        &data,
        &[
            "sql",
            "--csv",
            "SELECT * FROM interactions ORDER BY at LIMIT 3",
        ],
    );
    let file = dir.path().join("more.csv");
    std::fs::write(&file, &rows.stdout).unwrap();
    let imported = run(
        &data,
        &["import", "interactions", &file.display().to_string()],
    );
    let said = String::from_utf8_lossy(&imported.stdout);
    assert!(said.contains("journey trips prepared in"), "{said}");
    let second = trip_builds(&data);
    assert_eq!(second.len(), 2, "{second:?}");
    assert!(run(&data, &["areas", "--json"]).status.success());
    assert_eq!(trip_builds(&data), second);
}

#[test]
fn loyalty_commands_fit_predict_validate_and_retain() {
    let (_dir, data) = initialised();
    import_cdnow_sample(&data);
    let fit = json(
        &data,
        &[
            "loyalty",
            "fit",
            "--model",
            "bgnbd",
            "--unit",
            "week",
            "--calibration-end",
            "1997-09-30",
            "--json",
        ],
    );
    assert_eq!(fit["model"], "bgnbd");
    let keys: Vec<&str> = fit["params"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["a", "alpha", "b", "r"]); // the papers' names (serde_json sorts them)
    assert!((fit["params"]["r"].as_f64().unwrap() - 0.243).abs() < 5e-4);
    assert!((fit["log_likelihood"].as_f64().unwrap() + 9582.4).abs() < 0.05);
    assert_eq!(
        (fit["n_customers"].as_f64(), fit["converged"].as_bool()),
        (Some(2357.0), Some(true))
    );
    assert!(
        fit["std_errors"]["alpha"].as_f64().unwrap() > 0.0 && fit["seconds"].as_f64().is_some()
    );
    let sbg = json(
        &data,
        &[
            "loyalty",
            "fit",
            "--model",
            "sbg",
            "--survival",
            "1000,631,468,382,326,289,262,241",
            "--json",
        ],
    );
    assert!((sbg["params"]["alpha"].as_f64().unwrap() - 0.704).abs() < 5e-4);

    let predicted = json(
        &data,
        &[
            "loyalty",
            "predict",
            "--model",
            "pnbd",
            "--calibration-end",
            "1997-09-30",
            "--horizon",
            "52",
            "--discount-rate",
            "0.1",
            "--json",
        ],
    );
    assert_eq!(predicted["customers"], 2357);
    let equity = predicted["customer_equity"].as_f64().unwrap();
    let summed = json(
        &data,
        &[
            "sql",
            "SELECT sum(clv) AS equity FROM customer_value",
            "--json",
        ],
    );
    assert!((summed[0]["equity"].as_f64().unwrap() - equity).abs() < 1e-6 * equity);

    let validated = json(
        &data,
        &[
            "loyalty",
            "validate",
            "--model",
            "bgnbd",
            "--calibration-end",
            "1997-09-30",
            "--holdout-end",
            "1998-06-30",
            "--json",
        ],
    );
    assert_eq!(validated["models"][0]["holdout_actual"], 1882.0);
    let retention = json(
        &data,
        &["loyalty", "retention", "--by", "cohort-month", "--json"],
    );
    assert_eq!(retention[0]["cohort"], "1997-01-01");

    let out = run(
        &data,
        &[
            "loyalty",
            "fit",
            "--model",
            "bgnbd",
            "--calibration-end",
            "1997-13-01",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--calibration-end: '1997-13-01' is not a date"));
    let out = run(
        &data,
        &[
            "loyalty",
            "validate",
            "--model",
            "nbd",
            "--holdout-end",
            "1998-06-30",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("invalid value 'nbd' for '--model <MODEL>'"));
    assert!(stderr(&out).contains("[possible values: bgnbd, mbgnbd, pnbd]"));
}

#[test]
fn metrics_and_compare_on_the_demo_world() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    json(
        &data,
        &[
            "demo",
            "--customers",
            "3000",
            "--seed",
            "5",
            "--no-serve",
            "--json",
        ],
    );
    let rows = json(
        &data,
        &["metrics", "nps", "--by", "touchpoint,quarter", "--json"],
    );
    let rows = rows.as_array().unwrap();
    assert!(!rows.is_empty());
    for r in rows {
        for key in [
            "touchpoint",
            "quarter",
            "n",
            "value",
            "low",
            "high",
            "small_sample",
        ] {
            assert!(r.get(key).is_some(), "{key} missing in {r}");
        }
        let (v, lo, hi) = (
            r["value"].as_f64().unwrap(),
            r["low"].as_f64(),
            r["high"].as_f64(),
        );
        assert!((-100.0..=100.0).contains(&v));
        if let (Some(lo), Some(hi)) = (lo, hi) {
            assert!(lo <= hi && lo >= -100.0 && hi <= 100.0, "{r}");
        }
    }
    let total: u64 = rows.iter().map(|r| r["n"].as_u64().unwrap()).sum();
    let n = json(
        &data,
        &[
            "sql",
            "SELECT count(*) AS n FROM responses WHERE instrument = 'nps'",
            "--json",
        ],
    );
    assert_eq!(n[0]["n"].as_u64(), Some(total));
    let csat = json(
        &data,
        &[
            "metrics",
            "csat",
            "--where",
            "segment = 'business'",
            "--json",
        ],
    );
    let pct = csat[0]["value"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&pct));
    let c = json(
        &data,
        &[
            "compare",
            "nps",
            "--a",
            "segment = 'business'",
            "--b",
            "segment = 'leisure'",
            "--json",
        ],
    );
    assert!(c["difference"]["p_value"].as_f64().is_some());
    let link = json(&data, &["link", "--by", "segment", "--json"]);
    assert!(link["satisfied_defector_share"]["value"].as_f64().is_some());
    for group in link["groups"].as_array().unwrap() {
        let share = &group["satisfied_defector_share"];
        assert!(
            share["value"].as_f64().unwrap() > 0.5,
            "planted: most defectors said they were satisfied: {group}"
        );
        assert!(share["low"].as_f64().unwrap() <= share["value"].as_f64().unwrap());
        assert!(
            group["prediction"]["auc_stated"]["value"]
                .as_f64()
                .is_some()
        );
    }
    let out = run(&data, &["metrics", "nps", "--by", "colour"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown column 'colour'"));
}

/// R's `attitude` data (Chatterjee & Price): rating, then six predictors.
const ATTITUDE: &str = "rating,complaints,privileges,learning,raises,critical,advance
43,51,30,39,61,92,45\n63,64,51,54,63,73,47\n71,70,68,69,76,86,48\n61,63,45,47,54,84,35
81,78,56,66,71,83,47\n43,55,49,44,54,49,34\n58,67,42,56,66,68,35\n71,75,50,55,70,66,41
72,82,72,67,71,83,31\n67,61,45,47,62,80,41\n64,53,53,58,58,67,34\n67,60,47,39,59,74,41
69,62,57,42,55,63,25\n68,83,83,45,59,77,35\n77,77,54,72,79,77,46\n81,90,50,72,60,54,36
74,85,64,69,79,79,63\n65,60,65,75,55,80,60\n65,70,46,57,75,85,46\n50,58,68,54,64,78,52
50,40,33,34,43,64,33\n64,61,52,62,66,80,41\n53,66,52,50,63,80,37\n40,37,42,58,50,57,49
63,54,42,48,66,75,33\n66,77,66,63,88,76,72\n78,75,58,74,80,78,49\n48,57,44,45,51,83,38
85,85,71,71,77,74,55\n82,82,39,59,64,78,39\n";

#[test]
fn drivers_on_a_query_reproduce_the_published_dominance_analysis() {
    let (dir, data) = initialised();
    let file = dir.path().join("attitude.csv");
    std::fs::write(&file, ATTITUDE).unwrap();
    let query = format!("SELECT * FROM '{}'", file.display());
    let a = json(
        &data,
        &["drivers", "--sql", &query, "--resamples", "100", "--json"],
    );
    assert_eq!(a["n"], 30);
    assert_eq!(a["method"], "shapley");
    let round = |v: &serde_json::Value| (v.as_f64().unwrap() * 1000.0).round() / 1000.0;
    assert_eq!(round(&a["r2"]["value"]), 0.733);
    // General dominance, Azen & Budescu (2003) / R's dominanceanalysis on `attitude`.
    let published = [
        ("complaints", 0.371),
        ("learning", 0.156),
        ("raises", 0.120),
        ("privileges", 0.051),
        ("advance", 0.028),
        ("critical", 0.007),
    ];
    for (rank, (name, weight)) in published.iter().enumerate() {
        let d = a["drivers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == *name)
            .unwrap();
        assert_eq!(round(&d["weight"]["value"]), *weight, "{name}");
        assert_eq!(d["rank"].as_u64(), Some(rank as u64 + 1), "{name}");
        let (lo, hi) = (
            d["weight"]["low"].as_f64().unwrap(),
            d["weight"]["high"].as_f64().unwrap(),
        );
        assert!(lo <= hi, "{d}");
    }
    let text = run(&data, &["drivers", "--sql", &query, "--resamples", "20"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("complaints"));
    let bad = run(&data, &["drivers", "--sql", "SELECT 'a' AS y, 1 AS x"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("column y is Utf8"),
        "{}",
        stderr(&bad)
    );
    assert!(stderr(&bad).contains("not a number"), "{}", stderr(&bad));
}

#[test]
fn journey_areas_owner_and_service_levels_on_the_demo_world() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let built = run(&data, &["demo", "--customers", "5000", "--no-serve"]);
    assert!(built.status.success(), "{}", stderr(&built));
    let slas = json(&data, &["sla", "--json"]);
    assert!(
        slas["booking_call"]["max_wait_seconds"].as_f64().is_some(),
        "{slas}"
    );
    let set = json(
        &data,
        &["sla", "refund", "--max-failure-rate", "0.1", "--json"],
    );
    assert_eq!(set["refund"]["max_failure_rate"].as_f64(), Some(0.1));
    let bad = run(&data, &["sla", "refund", "--max-failure-rate", "2"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("(--max-failure-rate)"),
        "{}",
        stderr(&bad)
    );
    let unknown = run(&data, &["sla", "nowhere", "--max-wait-seconds", "60"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("unknown touchpoint 'nowhere'"));
    let removed = json(&data, &["sla", "booking_call", "--remove", "--json"]);
    assert!(removed.get("booking_call").is_none(), "{removed}");
    let j = json(&data, &["journey", "--json"]);
    let tps = j["touchpoints"].as_array().unwrap();
    let refund = tps.iter().find(|t| t["touchpoint"] == "refund").unwrap();
    assert_eq!(refund["sla"]["max_failure_rate"].as_f64(), Some(0.1));
    let security = tps.iter().find(|t| t["touchpoint"] == "security").unwrap();
    assert_eq!(security["owner_kind"], "external");
    // Ranked: the measurable losses first, 1, 2, …; then the others, unranked.
    let areas = json(&data, &["areas", "--json"]);
    let areas = areas.as_array().unwrap();
    let ranked = areas.iter().take_while(|a| a["rank"].is_u64()).count();
    let ranks: Vec<u64> = areas[..ranked]
        .iter()
        .map(|a| a["rank"].as_u64().unwrap())
        .collect();
    assert_eq!(ranks, (1..=ranked as u64).collect::<Vec<_>>());
    assert_eq!(areas.len(), tps.len());
    for (i, a) in areas.iter().enumerate() {
        let measurable = a["revenue_at_risk"]["measurable"].as_bool().unwrap();
        assert_eq!(measurable, i < ranked, "{a}");
    }
    // The text agrees with the JSON: a touchpoint without a measurable loss says so,
    // and no money at risk is negative.
    let text = String::from_utf8_lossy(&run(&data, &["journey"]).stdout).to_string();
    for t in tps {
        let name = t["touchpoint"].as_str().unwrap();
        let line = text
            .lines()
            .find(|l| l.contains(&format!(" {name} ")))
            .unwrap();
        let measurable = t["revenue_at_risk"]["measurable"].as_bool().unwrap();
        assert_eq!(line.ends_with("no measurable loss"), !measurable, "{line}");
        let money = line.rsplit("  ").next().unwrap();
        assert!(!money.starts_with('−'), "{line}");
    }
    let card = json(&data, &["owner", "nordground", "--json"]);
    assert_eq!(card["kind"], "partner");
    assert!(!card["trend"].as_array().unwrap().is_empty());
    let text = run(&data, &["owner", "nordground"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("baggage_reclaim"));
    let unknown = run(&data, &["owner", "nobody"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("unknown owner 'nobody'"));
    // Editing the journey model: security handed to the ground handler, placed first.
    let placed = json(
        &data,
        &[
            "touchpoint",
            "security",
            "--owner",
            "nordground",
            "--position",
            "1",
            "--json",
        ],
    );
    assert_eq!(placed["security"]["owner"], "nordground");
    let j = json(&data, &["journey", "--json"]);
    let security = j["touchpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["touchpoint"] == "security")
        .unwrap();
    assert_eq!(security["owner"], "nordground");
    assert_eq!(security["position"], 1);
    let card = json(&data, &["owner", "nordground", "--json"]);
    assert!(
        card["touchpoints"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "security")
    );
    // The demo placed every touchpoint in the world's order; security is edited.
    let listed = json(&data, &["touchpoint", "--json"]);
    assert_eq!(listed.as_object().unwrap().len(), tps.len());
    assert_eq!(listed["security"]["owner"], "nordground");
    let reset = json(&data, &["touchpoint", "security", "--reset", "--json"]);
    assert_eq!(reset["security"]["owner"], serde_json::Value::Null);
    let listed = json(&data, &["touchpoint", "--json"]);
    assert!(!listed.as_object().unwrap().contains_key("security"));
    assert_eq!(listed.as_object().unwrap().len(), tps.len() - 1);
    for (args, message) in [
        (
            vec!["touchpoint", "nowhere", "--stage", "x"],
            "unknown touchpoint 'nowhere'",
        ),
        (
            vec!["touchpoint", "security", "--owner", "nobody"],
            "unknown owner 'nobody'",
        ),
    ] {
        let bad = run(&data, &args);
        assert_eq!(bad.status.code(), Some(2));
        assert!(stderr(&bad).contains(message), "{}", stderr(&bad));
    }
    let by = json(
        &data,
        &[
            "drivers",
            "--outcome",
            "spend",
            "--by",
            "segment",
            "--resamples",
            "0",
            "--json",
        ],
    );
    assert_eq!(by["by"], "segment");
    let groups = by["groups"].as_array().unwrap();
    assert!(groups.len() >= 2, "{by}");
    assert!(
        groups
            .iter()
            .all(|g| g["group"].is_string() && g["r2"]["value"].is_f64())
    );
    let text = run(
        &data,
        &[
            "drivers",
            "--outcome",
            "spend",
            "--by",
            "segment",
            "--resamples",
            "0",
        ],
    );
    assert!(String::from_utf8_lossy(&text.stdout).contains("segment = "));
}
