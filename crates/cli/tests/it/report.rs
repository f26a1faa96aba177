//! The board pack: `cxray report` prints one period's pack to PDF in headless Chromium, a
//! page per section, none blank, nothing cut off; bad periods and a missing Chromium are
//! refused; `/report` only for those who see the scorecard.

use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::browser::wait_ready;
use crate::server::serve_with;
use crate::webdriver::Browser;
use crate::{add_user, cxray, demo_folder, get, json, run};

/// The printable area of an A4 landscape sheet with 1 cm margins, in CSS pixels.
const PAGE: (f64, f64) = (277.0 / 25.4 * 96.0, 190.0 / 25.4 * 96.0);

/// Runs a program and returns its standard output, failing the test unless it succeeds.
fn output(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} (Debian package poppler-utils): {e}"));
    assert!(
        out.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The share of a binary PPM image's pixels that are not (near) white.
fn inked(ppm: &[u8]) -> f64 {
    // Header: P6, width, height, maximum value, each followed by whitespace.
    let mut fields = 0;
    let mut at = 0;
    while fields < 4 {
        while ppm[at].is_ascii_whitespace() {
            at += 1;
        }
        while !ppm[at].is_ascii_whitespace() {
            at += 1;
        }
        fields += 1;
    }
    assert!(ppm.starts_with(b"P6"), "a binary PPM");
    let pixels = &ppm[at + 1..];
    let dark = pixels
        .chunks_exact(3)
        .filter(|p| p.iter().any(|&c| c < 200))
        .count();
    dark as f64 / (pixels.len() / 3) as f64
}

/// Each section of the pack in Chromium at print size (print media, the printable width):
/// its id, whether nothing in it reaches beyond the page's width, and its height (the
/// first from the top of the document, which it shares a page with).
fn sections_at_print_size(browser: &Browser, html: &Path) -> Vec<(String, bool, f64)> {
    let (w, h) = PAGE;
    let metrics =
        json!({"width": w.floor(), "height": h.floor(), "deviceScaleFactor": 1, "mobile": false});
    browser.cdp("Emulation.setDeviceMetricsOverride", metrics);
    browser.cdp("Emulation.setEmulatedMedia", json!({"media": "print"}));
    browser.open(&format!("file://{}", html.display()));
    let script = "const w = arguments[0];
        return Array.from(document.querySelectorAll('section.pack')).map((s, i) => {
            const r = s.getBoundingClientRect();
            const inside = s.scrollWidth <= s.clientWidth + 1 && Array.from(s.querySelectorAll('*'))
                .every(e => e.getBoundingClientRect().right <= w + 1);
            return [s.id, inside, r.bottom - (i === 0 ? 0 : r.top)];
        });";
    let found = browser.script(script, json!([w.floor()]));
    found
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let id = s[0].as_str().unwrap().to_string();
            (id, s[1].as_bool().unwrap(), s[2].as_f64().unwrap())
        })
        .collect()
}

/// Three follow-up cases opened in May 2025: two for the airport, both contacted within
/// their deadline and one resolved, and one for customer care, left open.
fn follow_up_in_may(data: &Path) {
    use std::collections::BTreeMap;

    use chrono::{DateTime, Duration, Utc};
    use cxray_core::cases::CaseStatus;
    use cxray_store::cases::{Candidate, CaseFilter, CaseUpdate, Opening};

    let add = [&crate::cases::DETRACTORS[..], &["--holdout", "0"]].concat();
    assert!(run(data, &add).status.success());
    let ops = cxray_store::ops::OpsDb::open(&data.join("cxray.db")).unwrap();
    let rule = ops.rule("Detractors").unwrap();
    let may: DateTime<Utc> = "2025-05-12T09:00:00Z".parse().unwrap();
    let event = |customer: &str, owner: Option<&str>| Candidate {
        key: customer.into(),
        customer_id: customer.into(),
        at: may,
        touchpoint: None,
        detail: "nps 2".into(),
        owner: owner.map(str::to_string),
    };
    let hours = BTreeMap::from([("airport".to_string(), 48.0)]);
    let opening = Opening {
        actor: "test",
        sla_hours: &hours,
        key: &[9; 32],
        now: may,
    };
    let events = [
        event("a", Some("airport")),
        event("b", Some("airport")),
        event("c", None),
    ];
    ops.open_cases(&opening, &rule, &events, None).unwrap();
    let to = |status| CaseUpdate {
        status: Some(status),
        ..CaseUpdate::default()
    };
    for case in ops.cases(&CaseFilter::default(), may).unwrap() {
        let hour = |h| may + Duration::hours(h);
        match case.customer_id.as_str() {
            "a" => {
                ops.update_case("test", case.id, &to(CaseStatus::Contacted), hour(1))
                    .unwrap();
                ops.update_case("test", case.id, &to(CaseStatus::Resolved), hour(2))
                    .unwrap();
            }
            "b" => {
                ops.update_case("test", case.id, &to(CaseStatus::Contacted), hour(3))
                    .unwrap();
            }
            _ => {}
        }
    }
}

#[test]
fn the_board_pack_prints_a_page_per_section_none_blank_nothing_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo_folder(dir.path(), "3000");
    let (pdf, html) = (dir.path().join("board.pdf"), dir.path().join("board.html"));
    let pack = |out: &Path, format: &str| {
        let out = out.to_str().unwrap();
        let args = [
            "report", "--period", "2025-Q2", "--out", out, "--format", format,
        ];
        let done = run(&data, &args);
        assert!(
            done.status.success(),
            "{}",
            String::from_utf8_lossy(&done.stderr)
        );
    };
    follow_up_in_may(&data);
    pack(&pdf, "pdf");
    pack(&html, "html");
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(text.contains("Board pack 2025-Q2"), "the period is named");
    // The pack's board is the scorecard's for the data's last quarter, 2025-Q2.
    let card = json(&data, &["scorecard", "--json"]);
    let boards = card["boards"].as_array().unwrap();
    let quarter = boards.iter().find(|b| b["cadence"] == "quarter").unwrap();
    let nps = &quarter["nps"];
    assert_eq!(nps["period"], "2025-Q2");
    let shown = format!(
        "data-key=\"board.quarter.nps\" value=\"{}\"",
        nps["value"]["value"]
    );
    assert!(text.contains(&shown), "{shown}");

    let browser = Browser::start();
    let sections = sections_at_print_size(&browser, &html);
    let ids: Vec<&str> = sections.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(
        ids,
        [
            "pack-scorecard",
            "pack-weak-areas",
            "pack-journey-map",
            "pack-cases"
        ]
    );
    // The three cases of May: two for the airport, contacted in time, one resolved.
    let rows = browser.script(
        "return Array.from(document.querySelectorAll('#pack-cases tbody tr'))
            .map(r => Array.from(r.cells).map(c => c.textContent));",
        json!([]),
    );
    assert_eq!(rows[0][0], "airport", "{rows}");
    assert_eq!(rows[0][1], "2");
    assert!(rows[0][2].as_str().unwrap().starts_with("100 ("), "{rows}");
    assert!(rows[0][3].as_str().unwrap().starts_with("50 ("), "{rows}");
    assert_eq!(rows[2][0], "All owners");
    assert_eq!(rows[2][1], "3");
    for (id, inside, height) in &sections {
        assert!(inside, "{id} is wider than the printed page");
        assert!(
            *height <= PAGE.1,
            "{id} is {height} px high, beyond one page"
        );
    }

    let info = output("pdfinfo", &[pdf.to_str().unwrap()]);
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no page count: {info}"));
    assert_eq!(pages, sections.len(), "a page per section");
    assert!(
        info.contains("landscape") || info.contains("841.92 x 594.96"),
        "{info}"
    );
    let prefix = dir.path().join("page");
    let prefix = prefix.to_str().unwrap();
    output("pdftoppm", &["-r", "30", pdf.to_str().unwrap(), prefix]);
    for page in 1..=pages {
        let image = std::fs::read(format!("{prefix}-{page}.ppm")).unwrap();
        let share = inked(&image);
        assert!(share > 0.002, "page {page} is blank ({share} inked)");
    }
}

#[test]
fn bad_periods_and_a_missing_chromium_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo_folder(dir.path(), "3000");
    let out = dir.path().join("board.pdf");
    let out_arg = out.to_str().unwrap();
    for period in ["2025-Q7", "last quarter", "2031-Q1"] {
        let refused = run(&data, &["report", "--period", period, "--out", out_arg]);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(2), "{period}: {stderr}");
        assert!(
            stderr.contains(period) && stderr.contains("--period"),
            "{stderr}"
        );
    }
    assert!(!out.exists(), "nothing written for a refused period");

    let without = |extra: &[&str]| {
        let mut cmd = cxray(&data);
        cmd.args(["report", "--out", out_arg])
            .args(extra)
            .env("PATH", "");
        cmd.output().unwrap()
    };
    let missing = without(&[]);
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(!missing.status.success());
    assert!(
        stderr.contains("needs Chromium") && stderr.contains("--chromium"),
        "{stderr}"
    );
    let named = without(&["--chromium", "/nowhere/chromium"]);
    let stderr = String::from_utf8_lossy(&named.stderr);
    assert!(
        !named.status.success() && stderr.contains("/nowhere/chromium"),
        "{stderr}"
    );
    assert!(!out.exists());
    // The HTML needs no Chromium; the default period is the data's last quarter.
    assert!(without(&["--format", "html"]).status.success());
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("Board pack 2025-Q2"), "default period");
}

#[test]
fn the_report_page_is_for_those_who_see_the_scorecard() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo_folder(dir.path(), "3000");
    let token = |role: &str, owner: Option<&str>| {
        add_user(&data, &format!("{role}@test.invalid"), role, owner, "read")
    };
    let executive = token("executive", None);
    let owner = token("owner", Some("cabin_crew"));
    let partner = token("partner", Some("nordground"));
    let server = serve_with(&data, &["--resamples", "10"]);
    wait_ready(&server, &executive);
    let (status, page) = get(&server.addr, "/", &executive);
    assert_eq!(status, 200);
    assert!(page.contains("href=\"/report?period=2025-Q2\">Print / board pack</a>"));
    let (status, pack) = get(&server.addr, "/report?period=2025-Q2", &executive);
    assert_eq!(status, 200, "{pack}");
    assert!(pack.contains("Board pack 2025-Q2"));
    assert_eq!(pack.matches("<section class=\"pack\"").count(), 3);
    let (status, body) = get(&server.addr, "/report?period=2025-13", &executive);
    assert_eq!(status, 400);
    assert!(body.contains("2025-13"), "{body}");
    for refused in [&owner, &partner] {
        let (status, body) = get(&server.addr, "/report?period=2025-Q2", refused);
        assert_eq!(status, 403, "{body}");
        assert!(!body.contains("Board pack"));
    }
}
