//! `/comments`: what customers write — sentiment overall, by touchpoint and by month, the
//! taxonomy's topics (a chosen one period by period), the terms that distinguish the
//! groups compared, example comments, topics discovered among the comments the taxonomy
//! misses — with its filters, each narrowing every part; and the section of the
//! satisfaction–loyalty page on what satisfied defectors wrote. A part not computed yet
//! says so and the page reloads. Administrators add a discovered topic to the taxonomy
//! (`POST /comments/discovered`).

use axum::Router;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cxray_analysis::board::Cadence;
use cxray_analysis::comments::{
    Band, Example, GroupSentiment, SentimentReport, TermsReport, Tone, TopicRow, TopicsReport,
};
use cxray_charts::{Frame, Line, Point, Series, line};
use cxray_core::comments::{DiscoverSettings, Sentiment, Term};
use cxray_core::stats::{Difference, Estimate};

use super::request::PERIODS;
use super::{Ask, Asked, Comparison, Computed, Got, Group, Topics, View};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::filters::Filters;
use crate::html::{escape, figure, missing, select, table, with_interval};
use crate::routes::{as_of, refuse, render};

/// The page's route.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/comments", get(show))
        .route("/comments/discovered", axum::routing::post(promote))
}

type Page = Result<Response, Response>;

/// Says a part is being computed (the page then reloads).
const COMPUTING: &str = "is being computed; this page reloads in a few seconds.";

/// A part of the page: its HTML, and whether it is still being computed.
struct Part {
    html: String,
    computing: bool,
}

/// A part from an analysis's outcome.
fn part(what: &str, got: Got, body: impl FnOnce(&Computed) -> String) -> Part {
    let html = match got {
        Got::Done(Ok(c)) if matches!(*c, Computed::Withheld) => {
            // Every reader shown this has a minimum group size (owners and partners).
            format!("<p class=\"note\">{what}: {}</p>", escape(WITHHELD))
        }
        Got::Done(Ok(c)) => body(&c),
        Got::Done(Err(e)) => missing(what, &e.message),
        Got::Computing => {
            let text = format!("{what} {COMPUTING}");
            return Part {
                html: format!("<p role=\"status\" class=\"note\">{}</p>", escape(&text)),
                computing: true,
            };
        }
        Got::Busy(n) => missing(
            what,
            &format!("you have {n} comment analyses being computed; reload when they are done"),
        ),
    };
    Part {
        html,
        computing: false,
    }
}

async fn show(r: super::api::TextRequest) -> Page {
    let super::api::TextRequest {
        state,
        user,
        filters: f,
        asked: a,
    } = r;
    let bad = |e: cxray_store::StoreError| {
        refuse(&user, StatusCode::BAD_REQUEST, "Bad filter", &e.to_string())
    };
    let topics = super::topics(&state.folder).map_err(bad)?;
    let view = match super::view(&state.snapshots, &user, f, &a, &topics).map_err(bad)? {
        Some(v) => v,
        None => {
            let body = "<p role=\"status\">The analyses are being computed; this page reloads in a few seconds.</p>\
                        <meta http-equiv=\"refresh\" content=\"3\">";
            let page = render(&user, "", "Computing", None, body);
            return Err((StatusCode::SERVICE_UNAVAILABLE, page).into_response());
        }
    };
    let compared = a.comparison(&view.known).map_err(bad)?;
    let top = a.top().map_err(bad)?;
    let cadence = a.period().map_err(bad)?;
    let examples = super::api::examples_ask(&a).map_err(bad)?;
    let ask = |ask: Ask| super::asked(&state, &user, &view, &topics, ask);
    let (by_touchpoint, by_month, topic_rows, terms, found, discovered) = tokio::join!(
        ask(Ask::Sentiment(super::By::Touchpoint)),
        ask(Ask::Sentiment(super::By::Month)),
        ask(Ask::Topics(cadence)),
        ask(Ask::Terms(compared.clone(), top)),
        ask(examples),
        ask(Ask::Discovered),
    );
    let chosen = view
        .scope
        .topic
        .map(|t| topics.taxonomy.topics()[t].name.clone());
    let shown = match found {
        Got::Done(Ok(c)) => match &*c {
            Computed::Examples(e) => match super::shown(&state, &user, e).await {
                Ok(e) => Got::Done(Ok(std::sync::Arc::new(Computed::Examples(e)))),
                Err(e) => Got::Done(Err(e.into())),
            },
            _ => Got::Done(Ok(c)),
        },
        other => other,
    };
    let parts = [
        part("The sentiment by touchpoint", by_touchpoint, |c| match c {
            Computed::Sentiment(r) => sentiment(r),
            _ => String::new(),
        }),
        part("The sentiment by month", by_month, |c| match c {
            Computed::Sentiment(r) => trend(r),
            _ => String::new(),
        }),
        part("The topics", topic_rows, |c| match c {
            Computed::Topics(r) => {
                topic_table(r, &topics) + &topic_series(r, chosen.as_deref(), cadence)
            }
            _ => String::new(),
        }),
        part("The distinguishing terms", terms, |c| match c {
            Computed::Terms(r) => terms_tables(r, &compared),
            _ => String::new(),
        }),
        part("The example comments", shown, |c| match c {
            Computed::Examples(e) => example_list(e),
            _ => String::new(),
        }),
        part("The discovered topics", discovered, |c| match c {
            Computed::Topics(r) => discovered_topics(r, &user),
            _ => String::new(),
        }),
    ];
    let titles = [
        "Sentiment",
        "Sentiment by month",
        "Topics",
        "Distinguishing terms",
        "Example comments",
        "Topics the taxonomy misses",
    ];
    let mut body = form(&view, &a, &topics);
    if !user.role.sees_all_owners() {
        let note = format!(
            "Comments on answers about your own touchpoints only; groups of fewer than {} comments are left out.",
            state.min_group_size
        );
        body.push_str(&format!("<p class=\"note\">{note}</p>"));
    }
    let computing = parts.iter().any(|p| p.computing);
    for (title, p) in titles.iter().zip(&parts) {
        body.push_str(&format!("<h2>{title}</h2>{}", p.html));
    }
    if computing {
        body.push_str("<meta http-equiv=\"refresh\" content=\"3\">");
    }
    Ok(render(
        &user,
        "/comments",
        "Comments",
        as_of(&view.snapshot),
        &body,
    ))
}

/// The filter form: period and customers, then the comments' own filters.
fn form(view: &View, a: &Asked, topics: &Topics) -> String {
    let own = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    let touchpoints: Vec<(String, String)> =
        view.known.iter().map(|t| (t.clone(), t.clone())).collect();
    let bands = Band::ALL.map(|b| (b.name(), b.label()));
    let tones = Tone::ALL.map(|t| (t.name(), t.label()));
    let topic_names: Vec<(String, String)> = topics
        .taxonomy
        .topics()
        .iter()
        .map(|t| (t.name.clone(), t.name.clone()))
        .collect();
    // Promoters against detractors is the default, the empty choice.
    let mut comparisons: Vec<(String, String)> = Comparison::FIXED[1..]
        .iter()
        .map(|c| (c.name().to_string(), c.label()))
        .collect();
    comparisons.push((
        "touchpoint".into(),
        "One touchpoint against the others".into(),
    ));
    let groups: Vec<(String, String)> = Group::ALL
        .iter()
        .map(|g| (g.0.to_string(), g.3.to_string()))
        .collect();
    fn v(o: &Option<String>) -> Option<&str> {
        o.as_deref().map(str::trim)
    }
    let periods: Vec<(String, String)> = PERIODS[1..]
        .iter()
        .map(|(name, _, label)| (name.to_string(), label.to_string()))
        .collect();
    format!(
        "<form class=\"filters\" method=\"get\" action=\"/comments\" aria-label=\"filters\">{}{}{}{}{}{}{}{}{}\
         <button type=\"submit\">Apply</button> <a href=\"/comments\">clear</a></form>",
        view.filters.fields(&view.snapshot.choices),
        select(
            "touchpoint",
            "touchpoint",
            view.touchpoint.as_deref(),
            &touchpoints
        ),
        select("band", "score band", v(&a.band), &own(&bands)),
        select("topic", "topic", v(&a.topic), &topic_names),
        select("tone", "sentiment", v(&a.tone), &own(&tones)),
        select("group", "group (examples)", v(&a.group), &groups),
        select("compare", "terms compare", v(&a.compare), &comparisons).replacen(
            ">all<",
            &format!(">{}<", Comparison::Promoters.label()),
            1
        ),
        select(
            "compare_touchpoint",
            "terms: the touchpoint",
            v(&a.compare_touchpoint),
            &touchpoints
        ),
        // By month is the default, the empty choice.
        select("period", "topics", v(&a.period), &periods).replacen(">all<", ">By month<", 1),
    )
}

/// A mean sentiment with its interval, as a figure.
fn mean(key: &str, s: &Sentiment) -> String {
    s.mean.map_or("—".into(), |m| {
        figure(key, m.value, &with_interval(m.value, m.low, m.high, 3))
    })
}

/// A group's name for people: an answer about no touchpoint is about the whole trip.
fn group_name(g: &GroupSentiment) -> String {
    match g.group.as_deref() {
        None | Some("") => "No touchpoint (the whole trip)".into(),
        Some(name) => name.to_string(),
    }
}

fn sentiment_row(name: &str, key: &str, s: &Sentiment) -> Vec<String> {
    vec![
        escape(name),
        cxray_core::text::thousands(s.comments),
        cxray_core::text::thousands(s.scored),
        mean(key, s),
        cxray_core::text::thousands(s.other_language),
        cxray_core::text::thousands(s.unknown_language),
    ]
}

const SENTIMENT_COLUMNS: [(&str, bool); 6] = [
    ("group", false),
    ("comments", true),
    ("scored", true),
    ("mean sentiment (95% interval)", true),
    ("other language", true),
    ("language unknown", true),
];

/// Overall and by touchpoint.
fn sentiment(r: &SentimentReport) -> String {
    let o = &r.overall;
    let mut rows: Vec<Vec<String>> = r
        .groups
        .iter()
        .map(|g| {
            let name = group_name(g);
            let key = match g.group.as_deref() {
                None | Some("") => "sentiment.whole_trip".to_string(),
                Some(t) => format!("sentiment.touchpoint.{t}"),
            };
            sentiment_row(&name, &key, &g.sentiment)
        })
        .collect();
    rows.push(sentiment_row("All comments", "sentiment.all", o));
    format!(
        "<p>Mean sentiment {} of {} scored comments among {} (VADER's compound score, from −1, negative, to 1, positive; English comments only).</p>{}",
        mean("sentiment", o),
        cxray_core::text::thousands(o.scored),
        cxray_core::text::thousands(o.comments),
        table("Sentiment by touchpoint", &SENTIMENT_COLUMNS, &rows)
    )
}

/// By month: a line with its interval band, and the table.
fn trend(r: &SentimentReport) -> String {
    let month = |g: &GroupSentiment| {
        g.group
            .as_deref()
            .map(|m| m.get(..7).unwrap_or(m).to_string())
    };
    let points: Vec<Point> = r
        .groups
        .iter()
        .filter_map(|g| Some(Point::new(month(g)?, g.sentiment.mean?)))
        .collect();
    let chart = Line {
        series: vec![Series::new("mean sentiment", points)],
        x_title: Some("month".into()),
        y_title: Some("mean sentiment".into()),
        ..Line::default()
    };
    let rows: Vec<Vec<String>> = r
        .groups
        .iter()
        .map(|g| {
            let name = month(g).unwrap_or_else(|| "—".into());
            sentiment_row(&name, &format!("sentiment.month.{name}"), &g.sentiment)
        })
        .collect();
    let mut columns = SENTIMENT_COLUMNS;
    columns[0] = ("month", false);
    line(
        &Frame::new("Mean sentiment of the comments by month"),
        &chart,
    ) + &table("Sentiment by month", &columns, &rows)
}

fn estimate(e: Option<&Estimate>, scale: f64, decimals: usize) -> String {
    e.map_or("—".into(), |e| {
        with_interval(
            e.value * scale,
            e.low.map(|v| v * scale),
            e.high.map(|v| v * scale),
            decimals,
        )
    })
}

fn difference(d: Option<&Difference>, scale: f64) -> String {
    d.map_or("—".into(), |d| {
        let text = with_interval(
            d.value * scale,
            d.low.map(|v| v * scale),
            d.high.map(|v| v * scale),
            1,
        );
        let changed = d.low.zip(d.high).is_some_and(|(l, h)| l > 0.0 || h < 0.0);
        if changed {
            format!("<strong>{text}</strong>")
        } else {
            text
        }
    })
}

/// The topics' shares, changes and NPS.
fn topic_table(r: &TopicsReport, topics: &Topics) -> String {
    let rows: Vec<Vec<String>> = r
        .topics
        .iter()
        .map(|t| {
            vec![
                escape(&t.topic),
                cxray_core::text::thousands(t.comments),
                estimate(t.share.as_ref(), 100.0, 1),
                // Already in percentage points.
                difference(t.change.as_ref(), 1.0),
                estimate(t.nps.with.as_ref(), 1.0, 1),
                estimate(t.nps.without.as_ref(), 1.0, 1),
                difference(t.nps.difference.as_ref(), 1.0),
            ]
        })
        .collect();
    let source = match topics.own {
        true => "the data folder's taxonomy (taxonomy.toml)",
        false => {
            "the starter taxonomy (put a taxonomy.toml in the data folder to count your own topics; `cxray text topics` prints the starter)"
        }
    };
    let periods = r.periods.as_ref().map_or(String::new(), |(last, before)| {
        format!(
            " Change in share: {} against {}, percentage points.",
            escape(last),
            escape(before)
        )
    });
    format!(
        "<p>{} comments, {} mentioning no topic of {}.{periods} Figures in bold differ beyond their 95% interval.</p>{}",
        cxray_core::text::thousands(r.comments),
        cxray_core::text::thousands(r.unmatched),
        escape(source),
        table(
            "Topics of the comments",
            &[
                ("topic", false),
                ("comments", true),
                ("share % (95% interval)", true),
                ("change in share, pp", true),
                ("NPS with", true),
                ("NPS without", true),
                ("NPS difference", true),
            ],
            &rows
        )
    )
}

/// What a withheld part says.
const WITHHELD: &str = "withheld: these filters leave fewer comments than the minimum group size for your role. Widen the filters.";

/// A period's name for people from its first day, as the cadence names periods (2025-06,
/// 2025-Q2).
fn period_name(start: &str, cadence: Cadence) -> String {
    chrono::NaiveDate::parse_from_str(start, "%Y-%m-%d")
        .map_or_else(|_| start.to_string(), |d| cadence.name(d))
}

/// The chosen topic period by period: how many comments mention it, and the NPS of the
/// comments with it against those without, as charts and a table.
fn topic_series(r: &TopicsReport, chosen: Option<&str>, cadence: Cadence) -> String {
    let Some(name) = chosen else {
        return "<p class=\"note\">Choose a topic above to see it period by period; the topics are counted among the comments of the other filters, so that each is compared with the comments without it.</p>".into();
    };
    let Some(row) = r.topics.iter().find(|t| t.topic == name) else {
        return missing(
            &format!("The topic {name} period by period"),
            "too few comments",
        );
    };
    let x = |period: &str| period_name(period, cadence);
    let volume = Series::new(
        "comments mentioning it",
        row.series
            .iter()
            .map(|p| Point::new(x(&p.period), p.comments as f64))
            .collect(),
    );
    let nps = |name: &str, pick: fn(&cxray_core::comments::TopicNps) -> Option<Estimate>| {
        Series::new(
            name,
            row.series
                .iter()
                .filter_map(|p| Some(Point::new(x(&p.period), pick(&p.nps)?)))
                .collect(),
        )
    };
    let period = PERIODS
        .iter()
        .find(|(_, c, _)| *c == cadence)
        .map_or("period", |(name, _, _)| name);
    let charts = line(
        &Frame::new(format!("Comments mentioning {name} by {period}"))
            .id("topic-volume")
            .caption(format!("How many comments mention {name} (or a topic below it), {period} by {period}.")),
        &Line {
            series: vec![volume],
            x_title: Some(period.into()),
            y_title: Some("comments".into()),
            ..Line::default()
        },
    ) + &line(
        &Frame::new(format!("NPS with and without {name} by {period}"))
            .id("topic-nps")
            .caption("The NPS of the answers whose comment mentions the topic and of the other commented answers; 95% intervals shaded."),
        &Line {
            series: vec![
                nps("NPS with it", |n| n.with),
                nps("NPS without it", |n| n.without),
            ],
            x_title: Some(period.into()),
            y_title: Some("NPS".into()),
            ..Line::default()
        },
    );
    format!(
        "<h3>{} {period} by {period}</h3>{charts}{}",
        escape(name),
        topic_points(row, cadence)
    )
}

/// The table of a topic's series.
fn topic_points(row: &TopicRow, cadence: Cadence) -> String {
    let rows: Vec<Vec<String>> = row
        .series
        .iter()
        .map(|p| {
            vec![
                escape(&period_name(&p.period, cadence)),
                cxray_core::text::thousands(p.comments),
                estimate(p.share.as_ref(), 100.0, 1),
                estimate(p.nps.with.as_ref(), 1.0, 1),
                estimate(p.nps.without.as_ref(), 1.0, 1),
                difference(p.nps.difference.as_ref(), 1.0),
            ]
        })
        .collect();
    table(
        &format!("{} period by period", row.topic),
        &[
            ("period", false),
            ("comments", true),
            ("share % (95% interval)", true),
            ("NPS with", true),
            ("NPS without", true),
            ("NPS difference", true),
        ],
        &rows,
    )
}

/// The words that identify a discovered topic in the form that promotes it: its terms as
/// shown.
fn topic_terms(t: &cxray_core::comments::DiscoveredTopic) -> String {
    let terms: Vec<&str> = t.terms.iter().map(|t| t.term.as_str()).collect();
    terms.join(", ")
}

/// The topics discovered among the comments the taxonomy misses: terms, examples, and for
/// administrators the form that adds one to the taxonomy.
fn discovered_topics(r: &TopicsReport, user: &CurrentUser) -> String {
    let Some(d) = &r.discovered else {
        return missing("The discovered topics", "no comments to discover topics in");
    };
    let found = &d.discovered;
    let may_add = user.role.can_admin() && !user.csrf.is_empty();
    let topics: String = found
        .topics
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let terms: Vec<String> = t
                .terms
                .iter()
                .map(|w| format!("{} ({})", escape(&w.term), w.language.label()))
                .collect();
            let examples: String = t
                .examples
                .iter()
                .map(|e| format!("<li><blockquote>{}</blockquote></li>", escape(&e.text)))
                .collect();
            let add = match may_add {
                true => format!(
                    "<form method=\"post\" action=\"/comments/discovered\" class=\"promote\">\
                     <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
                     <input type=\"hidden\" name=\"topic\" value=\"{}\">\
                     <input type=\"hidden\" name=\"terms\" value=\"{}\">\
                     <label>name of the new topic <input name=\"name\" required></label> \
                     <button type=\"submit\">Add to the taxonomy</button></form>",
                    escape(&user.csrf),
                    i + 1,
                    escape(&topic_terms(t))
                ),
                false => String::new(),
            };
            format!(
                "<h3>Discovered topic {}</h3><p>{} comments ({:.1}% of the topic weight): {}</p><ul class=\"examples\">{examples}</ul>{add}",
                i + 1,
                cxray_core::text::thousands(t.comments as u64),
                t.weight * 100.0,
                terms.join(", ")
            )
        })
        .collect();
    let who = match may_add {
        true => "Name one and add it to the taxonomy: its terms then count as a topic everywhere.",
        false => "An administrator can add one to the taxonomy.",
    };
    format!(
        "<p>Topics found (seeded NMF) among {} of the {} comments that mention no topic of the taxonomy, by their terms; each with the comments that are most about it. {who}</p>{topics}",
        cxray_core::text::thousands(found.sampled as u64),
        cxray_core::text::thousands(r.unmatched),
    )
}

/// The form that adds a discovered topic to the taxonomy.
#[derive(serde::Deserialize)]
struct Promotion {
    /// The discovered topic's number (from 1).
    topic: String,
    /// Its terms as the page showed them: the topic chosen is the one shown.
    terms: String,
    name: String,
}

/// `POST /comments/discovered`: adds a discovered topic, as the unfiltered comments'
/// discovery finds it now, to the data folder's taxonomy under the name given (an
/// administrator's browser session, its form token checked; audited); then the Comments
/// page for the new topic.
async fn promote(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Page {
    if !user.role.can_admin() {
        let text = "Only administrators change the taxonomy.";
        return Err(refuse(&user, StatusCode::FORBIDDEN, "Not allowed", text));
    }
    let p: Promotion = crate::routes::posted(&user, pairs)?;
    let refused = |status: StatusCode, text: &str| refuse(&user, status, "Topic not added", text);
    let bad = |e: cxray_store::StoreError| refused(crate::api::status(e.kind()), &e.to_string());
    let name = p.name.trim().to_string();
    if name.is_empty() {
        return Err(refused(
            StatusCode::BAD_REQUEST,
            "name: the new topic needs a name",
        ));
    }
    let topics = super::topics(&state.folder).map_err(bad)?;
    let unfiltered = (Filters::default(), Asked::default());
    let view = super::view(
        &state.snapshots,
        &user,
        unfiltered.0,
        &unfiltered.1,
        &topics,
    )
    .map_err(bad)?;
    let computing = "The discovered topics are being computed; try again in a moment.";
    let Some(view) = view else {
        return Err(refused(StatusCode::SERVICE_UNAVAILABLE, computing));
    };
    let found = match super::asked(&state, &user, &view, &topics, Ask::Discovered).await {
        Got::Done(Ok(c)) => c,
        Got::Done(Err(e)) => return Err(refused(crate::api::status(e.kind), &e.message)),
        Got::Computing | Got::Busy(_) => {
            return Err(refused(StatusCode::SERVICE_UNAVAILABLE, computing));
        }
    };
    let list = match &*found {
        Computed::Topics(TopicsReport {
            discovered: Some(d),
            ..
        }) => &d.discovered.topics,
        _ => &Vec::new(),
    };
    let chosen = p.topic.trim().parse::<usize>().ok();
    let Some(topic) = chosen.and_then(|i| list.get(i.checked_sub(1)?)) else {
        let text = format!(
            "topic '{}': one of the {} discovered topics, from 1",
            p.topic,
            list.len()
        );
        return Err(refused(StatusCode::BAD_REQUEST, &text));
    };
    if topic_terms(topic) != p.terms {
        let text =
            "The discovered topics changed since the page was shown: reload it and choose again.";
        return Err(refused(StatusCode::CONFLICT, text));
    }
    let table = topic.promotion(&name, DiscoverSettings::default().terms);
    let (folder, actor) = (state.folder.clone(), user.email.clone());
    crate::ops(&state, move |ops| {
        cxray_store::taxonomy::add_topic(&folder, ops, &actor, "name", &table).map(|_| ())
    })
    .await
    .map_err(bad)?;
    let to = format!("/comments?topic={}", crate::filters::encode(&name));
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response())
}

fn term_rows(terms: &[Term]) -> Vec<Vec<String>> {
    terms
        .iter()
        .map(|t| {
            vec![
                escape(&t.term),
                cxray_core::text::thousands(t.count_a),
                cxray_core::text::thousands(t.count_b),
                format!("{:.2}", t.log_odds),
                format!("{:.1}", t.z),
            ]
        })
        .collect()
}

/// A table of terms one group wrote more than the other.
fn terms_table(r: &TermsReport, of: &str, terms: &[Term]) -> String {
    let (a, b) = (format!("in {}", r.group_a), format!("in {}", r.group_b));
    let columns = [
        ("term", false),
        (a.as_str(), true),
        (b.as_str(), true),
        ("log-odds ratio", true),
        ("z", true),
    ];
    table(
        &format!("Written more by {of}"),
        &columns,
        &term_rows(terms),
    )
}

/// Both groups' distinguishing terms.
fn terms_tables(r: &TermsReport, compared: &Comparison) -> String {
    let d = &r.terms;
    format!(
        "<p>{}: {} comments of {} against {} of {}. |z| above 1.96 is a difference at the 5% level, term by term.</p>{}{}",
        escape(&compared.label()),
        cxray_core::text::thousands(d.comments_a),
        escape(&r.group_a),
        cxray_core::text::thousands(d.comments_b),
        escape(&r.group_b),
        terms_table(r, &r.group_a, &d.of_a),
        terms_table(r, &r.group_b, &d.of_b),
    )
}

/// Example comments as quotations with who, when and about what.
fn example_list(examples: &[Example]) -> String {
    if examples.is_empty() {
        return "<p>No comments meet these filters.</p>".into();
    }
    let items: String = examples
        .iter()
        .map(|e| {
            let mut about = vec![e.day.to_string()];
            about.push(
                e.touchpoint
                    .clone()
                    .unwrap_or_else(|| "the whole trip".into()),
            );
            if let (Some(i), Some(s)) = (e.instrument, e.score) {
                about.push(format!("{} {s}", i.label()));
            }
            if let Some(s) = e.sentiment {
                about.push(format!(
                    "sentiment {s:.2} ({})",
                    Tone::of(s).label().to_lowercase()
                ));
            }
            if !e.topics.is_empty() {
                about.push(format!("topics: {}", e.topics.join(", ")));
            }
            about.push(format!("customer {}", e.customer_id));
            format!(
                "<li><blockquote>{}</blockquote><p class=\"note\">{}</p></li>",
                escape(&e.text),
                escape(&about.join(" · "))
            )
        })
        .collect();
    format!("<ul class=\"examples\">{items}</ul>")
}

/// The satisfaction–loyalty page's section: the terms satisfied defectors wrote more than
/// satisfied stayers, and some of their comments, for the same filters.
pub async fn satisfied_defectors(
    state: &AppState,
    user: &CurrentUser,
    filters: &Filters,
) -> String {
    let title = "<h2>What satisfied defectors wrote</h2>";
    let asked = Asked::default();
    let viewed = super::topics(&state.folder).and_then(|topics| {
        let view = super::view(&state.snapshots, user, filters.clone(), &asked, &topics)?;
        Ok(view.map(|v| (v, topics)))
    });
    let (view, topics) = match viewed {
        Ok(Some(v)) => v,
        Ok(None) => return String::new(),
        Err(e) => {
            return format!(
                "{title}{}",
                missing("What satisfied defectors wrote", &e.to_string())
            );
        }
    };
    let group = Group {
        comparison: Comparison::SatisfiedDefectors,
        first: true,
    };
    let examples = Ask::Examples {
        group: Some(group),
        limit: super::LINK_EXAMPLES,
    };
    let compared = Comparison::SatisfiedDefectors;
    let (terms, found) = tokio::join!(
        super::asked(
            state,
            user,
            &view,
            &topics,
            Ask::Terms(compared, super::TOP)
        ),
        super::asked(state, user, &view, &topics, examples),
    );
    let terms = part("The satisfied defectors' terms", terms, |c| match c {
        Computed::Terms(r) => {
            let top = &r.terms.of_a[..r.terms.of_a.len().min(10)];
            format!(
                "<p>{} comments of satisfied defectors against {} of satisfied stayers.</p>{}",
                cxray_core::text::thousands(r.terms.comments_a),
                cxray_core::text::thousands(r.terms.comments_b),
                terms_table(r, &r.group_a, top)
            )
        }
        _ => String::new(),
    });
    let examples = part("The satisfied defectors' comments", found, |c| match c {
        Computed::Examples(e) => example_list(e),
        _ => String::new(),
    });
    let refresh = if terms.computing || examples.computing {
        "<meta http-equiv=\"refresh\" content=\"5\">"
    } else {
        ""
    };
    let link = format!(
        "<p><a href=\"/comments{}\">All comments</a></p>",
        filters.query().replace("&", "&amp;")
    );
    format!(
        "{title}<p>Customers who said they were satisfied and then did not buy again within {} days of their answer, against the satisfied who did: the terms they wrote more, and their latest comments. (Defection is judged here per comment by purchases after it, whatever the definition above.)</p>{}<h3>Their latest comments</h3>{}{link}{refresh}",
        state.snapshots.product().window_days,
        terms.html,
        examples.html
    )
}
