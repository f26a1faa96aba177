//! Enumerated options list their values in `--help`, clap refuses others (exit code 2),
//! and each kind of failure has its exit code.

use crate::{initialised, run};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn help_lists_the_values_of_enumerated_options() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cases: [(&[&str], &[&str]); 10] = [
        (
            &["loyalty", "fit"],
            &[
                "bgnbd", "mbgnbd", "pnbd", "sbg", "gg", "day", "week", "month",
            ],
        ),
        (&["loyalty", "predict"], &["bgnbd", "mbgnbd", "pnbd"]),
        (
            &["loyalty", "retention"],
            &["cohort-month", "cohort-quarter", "cohort-year"],
        ),
        (
            &["drivers"],
            &["auto", "shapley", "relative-weights", "defection", "spend"],
        ),
        (
            &["link"],
            &["window", "palive", "nps", "csat", "ces", "grade"],
        ),
        (&["compare"], &["nps", "csat", "ces", "grade"]),
        (
            &["user", "add"],
            &["admin", "executive", "analyst", "owner", "partner"],
        ),
        (&["token", "add"], &["read", "ingest"]),
        (
            &["target", "set"],
            &["retention", "satisfied_defector_share", "customer_equity"],
        ),
        (
            &["import"],
            &[
                "customers",
                "financials",
                "tsv",
                "ws",
                "parquet",
                "ndjson",
                "refuse",
            ],
        ),
    ];
    for (command, values) in cases {
        let out = run(&data, &[command, &["--help"]].concat());
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{command:?}: {}", stderr(&out));
        assert!(help.contains("ossible values"), "{command:?}: {help}");
        for value in values {
            assert!(help.contains(value), "{command:?} lacks {value}: {help}");
        }
    }
}

#[test]
fn a_bad_value_is_refused_with_the_valid_ones_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cases: [(&[&str], &str); 7] = [
        (
            &["import", "orders", "x.csv"],
            "[possible values: customers, transactions, interactions, responses, owners, financials]",
        ),
        (
            &["import", "customers", "x.csv", "--format", "xls"],
            "[possible values: csv, tsv, ws, parquet, ndjson]",
        ),
        (
            &["loyalty", "fit", "--model", "bgnbd", "--unit", "year"],
            "[possible values: day, week, month]",
        ),
        (
            &["loyalty", "predict", "--model", "sbg"],
            "[possible values: bgnbd, mbgnbd, pnbd]",
        ),
        (
            &["drivers", "--sql", "SELECT 1, 2", "--method", "best"],
            "[possible values: auto, shapley, relative-weights]",
        ),
        (
            &["link", "--defection", "sometimes"],
            "[possible values: auto, window, palive]",
        ),
        (
            &["metrics", "sat"],
            "[possible values: nps, csat, ces, grade]",
        ),
    ];
    for (args, values) in cases {
        let out = run(&data, args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with("error: invalid value"), "{args:?}: {err}");
        assert!(err.contains(values), "{args:?}: {err}");
    }
    assert!(!data.exists(), "refused before anything runs");
}

#[test]
fn aliases_and_case_are_accepted_as_before() {
    let (dir, data) = initialised();
    let file = dir.path().join("c.txt");
    std::fs::write(&file, "customer_id\nc1\n").unwrap();
    let args = [
        "import",
        "customers",
        file.to_str().unwrap(),
        "--format",
        "txt",
    ];
    let out = run(
        &data,
        &[&args[..], &["--erased-customers", "Refuse"]].concat(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&data, &["loyalty", "retention", "--by", "quarter"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn no_data_exits_3_and_a_model_that_failed_exits_4() {
    let (_dir, data) = initialised();
    let out = run(&data, &["loyalty", "fit", "--model", "bgnbd"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("transactions is empty"));

    let collinear = "SELECT y, a, 2 * a AS b FROM (VALUES (1.0, 1.0), (2.0, 3.0), \
                     (3.0, 2.0), (4.0, 5.0), (5.0, 4.0)) t(y, a)";
    let out = run(&data, &["drivers", "--sql", collinear, "--resamples", "0"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert_eq!(
        err.trim_end(),
        "error: predictor b is a linear combination of the predictors before it; remove one"
    );
}
