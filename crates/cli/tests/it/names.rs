//! People never see program identifiers: every page an admin can reach on the demo world,
//! the text output of every command on it and the API's JSON are free of CamelCase words
//! such as `FixFirst` or `RelativeWeights`, other than the words allowed here.

use std::collections::{BTreeMap, BTreeSet};

use crate::browser::wait_ready;
use crate::cases::DETRACTORS;
use crate::demo::{demo, token};
use crate::server::serve_with;
use crate::{get, json, run};

/// Words with an inner capital that are not identifiers: a statistician's and a test's
/// names, the demo world's partners, units of size.
const ALLOWED: &[&str] = &[
    "McFadden",
    "DeLong",
    "NordGround",
    "VoiceLine",
    "SkyKitchen",
    "KiB",
    "MiB",
    "GiB",
];

/// The words of `text` with a lower-case letter right before a capital, other than the
/// allowed words.
fn identifiers(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| {
            let chars: Vec<char> = word.chars().collect();
            chars
                .windows(2)
                .any(|p| p[0].is_lowercase() && p[1].is_uppercase())
        })
        .filter(|word| !ALLOWED.contains(word))
        .map(str::to_string)
        .collect()
}

/// What a reader sees of a page: its text without style, markup and attributes.
fn visible(html: &str) -> String {
    let without_style = match (html.find("<style>"), html.find("</style>")) {
        (Some(a), Some(b)) => format!("{}{}", &html[..a], &html[b..]),
        _ => html.to_string(),
    };
    let mut out = String::with_capacity(without_style.len());
    let mut in_tag = false;
    for c in without_style.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// The site-local links of a page (`href="/…"`), without query strings' pages.
fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|href| href.starts_with('/') && !href.contains('?'))
        .map(|href| href.replace("&amp;", "&"))
        .collect()
}

#[test]
fn no_page_and_no_command_shows_a_program_identifier() {
    let found_in = identifiers("quadrant FixFirst (McFadden), 1.5 MiB, RelativeWeights");
    assert_eq!(Vec::from_iter(found_in), ["FixFirst", "RelativeWeights"]);
    let (dir, data, printed) = demo("1500");
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // The folder's own name (a random temporary one) is not ours to judge.
    let folder = dir.path().display().to_string();
    let mut check = |place: String, text: &str| {
        let words = identifiers(&text.replace(&folder, "FOLDER"));
        if !words.is_empty() {
            found.insert(place, words);
        }
    };
    check("cxray demo".into(), &printed);
    let customer = json(
        &data,
        &["sql", "SELECT customer_id FROM customers LIMIT 1", "--json"],
    );
    let customer = customer[0]["customer_id"].as_str().unwrap().to_string();
    let backup = dir.path().join("backup").display().to_string();
    // Not `loyalty validate`: on the demo world it does not finish in a test's time.
    let commands: Vec<Vec<&str>> = vec![
        vec!["demo", "--no-serve"],
        vec!["init"],
        vec!["tables"],
        vec!["check"],
        vec![
            "sql",
            "SELECT segment, count(*) AS n FROM customers GROUP BY segment",
        ],
        vec!["journey"],
        vec!["areas"],
        vec!["owner", "nordground"],
        vec!["owner", "digital"],
        vec!["sla"],
        vec!["touchpoint"],
        vec!["user", "list"],
        vec!["token", "list"],
        vec!["target", "set", "nps", "2025", "10"],
        vec!["target", "list"],
        vec![
            "report",
            "schedule",
            "add",
            "quarterly",
            "--to",
            "role:executive",
        ],
        vec!["report", "schedule", "list"],
        vec!["report", "outbox"],
        vec!["drivers", "--outcome", "defection", "--resamples", "5"],
        vec!["drivers", "--outcome", "spend", "--resamples", "5"],
        vec!["scorecard"],
        vec!["link"],
        vec!["survey", "respondents"],
        vec!["survey", "show", "After check-in"],
        vec!["survey", "rule", "list"],
        vec!["survey", "policy"],
        vec!["survey", "rates", "--by", "channel"],
        vec!["survey", "holdout"],
        vec!["metrics", "nps", "--by", "touchpoint"],
        vec!["metrics", "grade", "--by", "quarter"],
        vec![
            "compare",
            "nps",
            "--a",
            "segment = 'business'",
            "--b",
            "segment <> 'business'",
        ],
        vec!["loyalty", "fit", "--model", "bgnbd"],
        vec!["loyalty", "fit", "--model", "gg"],
        vec!["loyalty", "retention"],
        vec!["loyalty", "predict", "--model", "mbgnbd"],
        DETRACTORS[..10].to_vec(),
        vec![
            "trigger",
            "add",
            "--name",
            "Bad bag drop",
            "--touchpoint",
            "bag_drop",
            "--experience",
            "bad",
        ],
        vec!["trigger", "list"],
        vec!["cases", "scan"],
        vec!["cases", "list", "--limit", "20"],
        vec!["cases", "causes", "--add", "baggage > delayed"],
        vec!["cases", "show", "1"],
        vec!["cases", "effect"],
        vec!["cases", "hours", "Mon-Fri 08:00-17:00 Europe/Copenhagen"],
        vec!["vacuum"],
        vec!["optimize"],
        vec!["backup", &backup],
    ];
    for args in &commands {
        let out = run(&data, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "cxray {}: {stderr}", args.join(" "));
        let text = format!("{}{stderr}", String::from_utf8_lossy(&out.stdout));
        check(format!("cxray {}", args.join(" ")), &text);
    }

    let server = serve_with(&data, &["--resamples", "5"]);
    let admin = token(&data, "admin@demo.invalid");
    wait_ready(&server, &admin);
    let mut queue = vec![
        "/".to_string(),
        "/login".into(),
        format!("/customers?id={customer}"),
    ];
    let mut seen = BTreeSet::new();
    while let Some(path) = queue.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let (status, html) = get(&server.addr, &path, &admin);
        assert_eq!(status, 200, "{path}: {html}");
        check(format!("page {path}"), &visible(&html));
        queue.extend(links(&html).into_iter().filter(|l| !seen.contains(l)));
    }
    // The API's JSON: snake_case keys and identifiers.
    let api = [
        "scorecard",
        "link",
        "journey",
        "areas",
        "drivers",
        "owners/nordground",
    ];
    let customer_api = format!("customers/{customer}");
    for route in api
        .iter()
        .chain(&[customer_api.as_str(), "tables", "targets", "me"])
        .chain(&["initiatives", "initiatives/1/effect", "whatif"])
        .chain(&[
            "text/sentiment",
            "text/topics",
            "text/terms",
            "text/examples",
        ])
    {
        let path = format!("/api/v1/{route}");
        let (status, body) = get(&server.addr, &path, &admin);
        assert_eq!(status, 200, "{path}: {body}");
        check(path, &body);
    }
    for page in [
        "/drivers",
        "/journey",
        "/areas",
        "/owners/nordground",
        "/data",
        "/comments",
    ] {
        assert!(seen.contains(page), "{page} not reached: {seen:?}");
    }
    assert!(found.is_empty(), "program identifiers shown: {found:#?}");
}
