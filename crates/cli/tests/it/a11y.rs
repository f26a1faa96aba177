//! Accessibility and layout of every page in real headless Chromium: each role signs in
//! and opens every page it may; axe-core (from the npm registry) finds no serious or
//! critical violation, Tab reaches every control in order with a visible focus ring,
//! every chart has a text alternative, and at 375 px (phone) and 1400 px the page body
//! never scrolls sideways nor does the navigation wrap inside a name. Screenshots of
//! every page at both widths go to `<target>/tmp/screenshots/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use crate::browser::{sign_in, small_demo, some_customer, wait_ready};
use crate::cases::DETRACTORS;
use crate::server::serve_with;
use crate::survey_page::surveyed;
use crate::webdriver::Browser;
use crate::{PASSWORD, add_user, run};

/// The axe-core release the pages are checked with.
const AXE_VERSION: &str = "4.11.1";

/// The widths every page is laid out at: a phone's and a wide screen's.
const WIDTHS: [(u32, u32); 2] = [(1400, 1000), (375, 812)];

/// axe-core's script, fetched once with `npm pack` into the test's target folder. Test
/// processes run side by side, so each unpacks into its own folder and moves it into
/// place whole: none reads a script another is still writing.
fn axe_source() -> String {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("axe-core-{AXE_VERSION}"));
    let script = dir.join("package/axe.min.js");
    if !script.exists() {
        let staging = dir.with_extension(format!("{}.part", std::process::id()));
        std::fs::create_dir_all(&staging).unwrap();
        let packed = Command::new("npm")
            .args([
                "pack",
                &format!("axe-core@{AXE_VERSION}"),
                "--pack-destination",
            ])
            .arg(&staging)
            .output()
            .expect("npm (Debian package npm) must be installed to fetch axe-core");
        let why = String::from_utf8_lossy(&packed.stderr);
        assert!(packed.status.success(), "npm pack axe-core: {why}");
        let tgz = staging.join(format!("axe-core-{AXE_VERSION}.tgz"));
        let untar = Command::new("tar")
            .arg("xzf")
            .arg(&tgz)
            .arg("-C")
            .arg(&staging)
            .status();
        assert!(untar.unwrap().success(), "tar xzf {}", tgz.display());
        // Another process may have moved its copy into place first; either copy is whole.
        if std::fs::rename(&staging, &dir).is_err() {
            std::fs::remove_dir_all(&staging).unwrap();
        }
    }
    std::fs::read_to_string(&script).unwrap_or_else(|e| panic!("{}: {e}", script.display()))
}

/// Runs axe-core on the open page: each serious or critical violation as "rule at target".
fn axe_violations(browser: &Browser, axe: &str) -> Vec<String> {
    let run = "const done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .flatMap(v => v.nodes.map(n => `${v.id} (${v.impact}) at ${n.target.join(' ')}`))),
          e => done([`axe failed: ${e}`]));";
    let found = browser.script_async(&format!("{axe}\n;{run}"), json!([]));
    strings(&found)
}

fn strings(list: &serde_json::Value) -> Vec<String> {
    let list = list.as_array().unwrap().iter();
    list.map(|s| s.as_str().unwrap().to_string()).collect()
}

/// The controls Tab should reach, in document order (none hidden); returns how many.
const CONTROLS: &str = "document.body.tabIndex = -1;
    document.body.focus();
    document.body.removeAttribute('tabindex');
    window.__focused = [];
    document.addEventListener('focusin', e => {
      const s = getComputedStyle(e.target);
      window.__focused.push([e.target, s.outlineStyle, parseFloat(s.outlineWidth)]);
    });
    const all = document.querySelectorAll('a[href], button, input:not([type=hidden]), \
      select, textarea, summary, [tabindex]:not([tabindex=\"-1\"])');
    // A group of radio buttons is one stop: its checked button, else its first.
    const stop = e => e.type !== 'radio' || e === (document.querySelector(
      `input[type=radio][name=\"${e.name}\"]:checked`)
      || document.querySelector(`input[type=radio][name=\"${e.name}\"]`));
    window.__controls = Array.from(all).filter(e => !e.disabled
      && e.checkVisibility({visibilityProperty: true}) && stop(e));
    return window.__controls.length;";

/// What Tab reached against the controls: each one out of order or without a focus ring.
const FOCUS_PROBLEMS: &str = "const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
      + ` \"${(e.textContent || e.name || e.getAttribute('aria-label') || '').trim().slice(0, 40)}\"`;
    return window.__controls.flatMap((e, i) => {
      const got = window.__focused[i];
      if (!got || got[0] !== e)
        return [`Tab ${i + 1} should reach ${name(e)}, reached ${got ? name(got[0]) : 'nothing'}`];
      return got[1] === 'none' || got[2] < 2 ? [`no visible focus on ${name(e)}`] : [];
    }).slice(0, 5);";

/// Tabs through the open page: every control receives focus in order, visibly.
fn keyboard_problems(browser: &Browser) -> Vec<String> {
    let controls = browser.script(CONTROLS, json!([])).as_u64().unwrap();
    browser.press_tab(controls as usize);
    // A date field takes a press for each of its parts: a few more, while focus moves on.
    let reached = "return window.__focused.length;";
    for _ in 0..12 {
        if browser.script(reached, json!([])).as_u64().unwrap() >= controls {
            break;
        }
        browser.press_tab(1);
    }
    strings(&browser.script(FOCUS_PROBLEMS, json!([])))
}

/// Charts without a text alternative: every SVG is an image named by its title.
const UNNAMED_CHARTS: &str = "return Array.from(document.querySelectorAll('svg'))
    .filter(s => s.getAttribute('aria-hidden') !== 'true')
    .filter(s => !['img', 'group'].includes(s.getAttribute('role')) || !(s.getAttribute('aria-label')
      || (s.getAttribute('aria-labelledby') || '').split(' ').some(id =>
           (document.getElementById(id) || {}).textContent)))
    .map(s => `chart without a text alternative: ${s.outerHTML.slice(0, 80)}`);";

/// Statuses told by colour alone: a status mark without words or a symbol.
const COLOUR_ONLY: &str =
    "return Array.from(document.querySelectorAll('.met, .not_met, .undecided'))
    .filter(e => !e.textContent.trim())
    .map(e => `status shown by colour alone: ${e.outerHTML.slice(0, 80)}`);";

/// Layout faults at the current width: the body wider than the screen, names in the
/// navigation broken over lines.
const LAYOUT_PROBLEMS: &str = "const out = [];
    const wide = document.documentElement.scrollWidth;
    if (wide > innerWidth) out.push(`page ${wide} px wide on a ${innerWidth} px screen`);
    for (const a of document.querySelectorAll('header nav a'))
      if (a.getClientRects().length > 1) out.push(`navigation wraps inside '${a.textContent}'`);
    return out;";

/// Everything wrong with one page, each line naming role, page and width.
fn page_problems(browser: &Browser, axe: &str, url: &str, shots: &Path, name: &str) -> Vec<String> {
    shown_problems(browser, axe, shots, name, |_| browser.open(url))
}

/// Everything wrong with the page `show` leads to at each width, each line naming the
/// page and the width.
fn shown_problems(
    browser: &Browser,
    axe: &str,
    shots: &Path,
    name: &str,
    show: impl Fn(&Browser),
) -> Vec<String> {
    let mut problems = Vec::new();
    for (width, height) in WIDTHS {
        browser.emulate(width, height);
        show(browser);
        let mut found = strings(&browser.script(LAYOUT_PROBLEMS, json!([])));
        found.extend(axe_violations(browser, axe));
        for script in [UNNAMED_CHARTS, COLOUR_ONLY] {
            found.extend(strings(&browser.script(script, json!([]))));
        }
        found.extend(keyboard_problems(browser));
        let png = browser.screenshot();
        assert!(
            png.len() > 1000 && png.starts_with(b"\x89PNG"),
            "{name} {width}: no screenshot"
        );
        std::fs::write(shots.join(format!("{name}-{width}.png")), png).unwrap();
        problems.extend(
            found
                .into_iter()
                .map(|p| format!("{name} at {width} px: {p}")),
        );
    }
    problems
}

/// A file name for a page: its path and query with anything else as `_`.
fn slug(page: &str) -> String {
    let s: String = page
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let s = s.trim_matches('_');
    if s.is_empty() {
        "scorecard".into()
    } else {
        s.into()
    }
}

/// The paths the links matching `css` on the open page lead to.
fn links(browser: &Browser, css: &str) -> Vec<String> {
    let script = format!(
        "return Array.from(document.querySelectorAll('{css}')).map(a => a.getAttribute('href'));"
    );
    strings(&browser.script(&script, json!([])))
}

/// Every page the signed-in reader may open: the navigation's, the administration's
/// sections, an owner's page, the effect of following up and the first case listed and,
/// where customers are shown, a customer's.
fn pages_of(browser: &Browser, base: &str, owner: &str, customer: &str) -> Vec<String> {
    browser.open(&format!("{base}/"));
    let mut pages = links(browser, "header nav a");
    if pages.iter().any(|p| p == "/admin") {
        browser.open(&format!("{base}/admin"));
        pages.extend(links(browser, "main a[href^=\"/admin/\"]"));
    }
    browser.open(&format!("{base}/cases"));
    pages.extend(
        links(browser, "main a[href^=\"/cases/\"]")
            .into_iter()
            .take(1),
    );
    browser.open(&format!("{base}/initiatives"));
    pages.extend(
        links(browser, "main td a[href^=\"/initiatives/\"]")
            .into_iter()
            .take(1),
    );
    pages.push(format!("/owners/{owner}"));
    if pages.iter().any(|p| p == "/customers") {
        pages.push("/whatif".into());
        pages.push(format!("/customers?id={customer}"));
    }
    pages
}

/// Pages that refuse a request, as the role meets them, with the start of their title: a
/// page that is not there, a bad filter, a page the role may not open.
fn error_pages(role: &str) -> Vec<(&'static str, &'static str)> {
    match role {
        "admin" => vec![
            ("/no-such-page", "Not found"),
            ("/owners/nobody", "Unknown owner"),
            ("/?from=2025-13-45", "Bad filter"),
            ("/cases?status=done", "Follow-up cases"),
        ],
        "owner" => vec![
            ("/admin", "Forbidden"),
            ("/link", "Not allowed"),
            ("/cases/999999", "Unknown case"),
        ],
        _ => Vec::new(),
    }
}

#[test]
fn every_page_is_accessible_by_keyboard_and_fits_a_phone_and_a_wide_screen() {
    let axe = axe_source();
    let dir = tempfile::tempdir().unwrap();
    let data = small_demo(dir.path());
    for args in [&DETRACTORS[..], &["cases", "scan"]] {
        let done = run(&data, args);
        assert!(
            done.status.success(),
            "{}",
            String::from_utf8_lossy(&done.stderr)
        );
    }
    let roles = [
        ("admin", None),
        ("executive", None),
        ("owner", Some("cabin_crew")),
        ("partner", Some("nordground")),
    ];
    let tokens: Vec<String> = roles
        .iter()
        .map(|(role, owner)| add_user(&data, &format!("{role}@test.invalid"), role, *owner, "read"))
        .collect();
    let server = serve_with(&data, &["--resamples", "10"]);
    wait_ready(&server, &tokens[0]);
    let base = format!("http://{}", server.addr);
    let customer = some_customer(&data);
    let shots: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let mut problems = Vec::new();
    let mut checked = 0;
    for (role, owner) in roles {
        let browser = Browser::start();
        if role == "admin" {
            problems.extend(page_problems(
                &browser,
                &axe,
                &format!("{base}/login"),
                &shots,
                "login",
            ));
        }
        browser.emulate(WIDTHS[0].0, WIDTHS[0].1);
        sign_in(&browser, &base, &format!("{role}@test.invalid"), PASSWORD);
        let owner = owner.unwrap_or("nordground");
        let pages = pages_of(&browser, &base, owner, &customer)
            .into_iter()
            .map(|p| (format!("{role}-{}", slug(&p)), p, None));
        let refusals = error_pages(role).into_iter().map(|(p, title)| {
            (
                format!("{role}-error-{}", slug(p)),
                p.to_string(),
                Some(title),
            )
        });
        for (name, page, title) in pages.chain(refusals) {
            let url = format!("{base}{page}");
            problems.extend(page_problems(&browser, &axe, &url, &shots, &name));
            let shown = browser.title();
            match title {
                None => assert!(!shown.starts_with("Not allowed"), "{role} {page}"),
                Some(t) => assert!(shown.starts_with(t), "{role} {page}: {shown}"),
            }
            checked += 1;
        }
    }
    assert!(checked >= 39, "only {checked} pages");
    std::fs::write(shots.join("problems.txt"), problems.join("\n")).unwrap();
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn the_survey_pages_are_accessible_by_keyboard_and_fit_a_phone() {
    let axe = axe_source();
    let s = surveyed();
    let server = serve_with(&s.data, &[]);
    let base = format!("http://{}", server.addr);
    let shots: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let browser = Browser::start();
    let personal = format!("{base}{}", s.link("c1"));
    let pages = [
        ("survey-personal", personal.clone()),
        ("survey-anonymous", format!("{base}{}", s.open)),
        ("survey-unsubscribe", format!("{personal}/unsubscribe")),
        ("survey-bad-link", format!("{base}/s/not-a-link")),
    ];
    let mut problems = Vec::new();
    for (name, url) in &pages {
        problems.extend(page_problems(&browser, &axe, url, &shots, name));
    }
    // The form with a problem marked, and the thank-you page, reached by answering.
    let refused = shown_problems(&browser, &axe, &shots, "survey-refused", |b| {
        b.open(&personal);
        b.click("input[name=nps][value=\"9\"]");
        b.script(
            "document.querySelector('form').noValidate = true;",
            json!([]),
        );
        b.click("button[type=submit]");
        let shown = b.wait_for_text("Bitte beantworten Sie diese Frage.");
        assert!(shown.contains("Bitte beantworten"), "{shown}");
    });
    problems.extend(refused);
    let thanks = shown_problems(&browser, &axe, &shots, "survey-thanks", |b| {
        b.open(&personal);
        b.click("input[name=nps][value=\"9\"]");
        b.click("input[name=grade][value=\"3\"]");
        b.fill("#comment", "Schnell und freundlich");
        b.click("button[type=submit]");
        let shown = b.wait_for_text("Vielen Dank");
        assert!(shown.contains("Vielen Dank"), "{shown}");
    });
    problems.extend(thanks);
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
