//! The shared analysis layer through the real binary and server: the journey's derived
//! trips built once per state of the data and reused, `cxray scorecard` equal to the
//! scorecard the API serves, filtered views (typed filter values, single flight, cached
//! answers while others compute), and a stop that abandons running analyses.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::server::serve_with;
use crate::{add_user, api, demo_folder, json, run};

/// The finished builds of the journey's derived data.
fn builds(data: &Path) -> Vec<String> {
    let root = data.join("derived").join("journey");
    let mut out: Vec<String> = std::fs::read_dir(root)
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().join("made_by.json").is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn trips_are_built_once_per_state_of_the_data_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo_folder(dir.path(), "2000");
    let first = json(&data, &["journey", "--json"]);
    let built = builds(&data);
    assert_eq!(built.len(), 1, "{built:?}");
    // Another analysis and the same again read the same build, with the same figures.
    json(&data, &["areas", "--json"]);
    assert_eq!(json(&data, &["journey", "--json"]), first);
    assert_eq!(builds(&data), built);
    // A changed service level is another state of the journey model: a new build.
    let set = run(&data, &["sla", "check_in", "--max-wait-seconds", "60"]);
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let changed = json(&data, &["journey", "--json"]);
    assert_eq!(builds(&data).len(), 2);
    assert_ne!(changed, first);
}

#[test]
fn views_are_typed_shared_and_never_block_cached_pages() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo_folder(dir.path(), "2000");
    let token = add_user(&data, "cx@example.com", "analyst", None, "read");
    let scorecard = json(&data, &["scorecard", "--json"]);
    let mut server = serve_with(&data, &[]);
    let started = Instant::now();
    let whole = loop {
        let (status, body) = api(&server.addr, "/api/v1/scorecard", &token);
        if status == 200 {
            break body;
        }
        assert_eq!(status, 503, "{body}");
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "analyses not ready"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    // The command line and the page give the same scorecard.
    assert_eq!(whole, scorecard);

    // Filter values are typed as their columns: a bad one is bad input, not a failure.
    let (status, body) = api(
        &server.addr,
        "/api/v1/journey?attribute=first_seen&value=soon",
        &token,
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("first_seen"), "{body}");
    let (status, body) = api(&server.addr, "/api/v1/journey?from=1600-01-01", &token);
    assert_eq!(status, 400, "{body}");

    // A filtered view: computed once, then served from memory.
    let view = "/api/v1/scorecard?segment=business";
    let (status, first) = api(&server.addr, view, &token);
    assert_eq!(status, 200, "{first}");
    assert_ne!(first, whole);
    let t = Instant::now();
    let (_, again) = api(&server.addr, view, &token);
    assert_eq!(again, first);
    let cached = t.elapsed();

    // While a slow view computes (the drivers with their bootstrap), cached pages answer.
    let addr = server.addr.clone();
    let slow_token = token.clone();
    let slow =
        std::thread::spawn(move || api(&addr, "/api/v1/drivers?segment=leisure", &slow_token).0);
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    let (status, during) = api(&server.addr, view, &token);
    assert_eq!((status, &during), (200, &first));
    assert!(
        t.elapsed() < cached + Duration::from_secs(1),
        "a cached view waited {:?} behind a computing one",
        t.elapsed()
    );

    // A stop abandons the running analysis and exits at once.
    let t = Instant::now();
    let status = server.stop("TERM");
    assert!(status.success(), "{status:?}");
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "stopped in {:?}",
        t.elapsed()
    );
    let code = slow.join().unwrap();
    assert!(
        [0, 200, 503].contains(&code),
        "the slow view answered {code}"
    );
}
