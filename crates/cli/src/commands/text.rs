//! `cxray text`: what customers write — sentiment and distinguishing terms.

use cxray_analysis::board::Cadence;
use cxray_analysis::comments::{
    self, GroupSentiment, Groups, SentimentReport, TermOptions, TermsReport, TopicsReport,
};
use cxray_analysis::journey::JourneyOptions;
use cxray_analysis::settings::ProductSettings;
use cxray_core::comments::{DiscoverSettings, Sentiment, Taxonomy, Term, taxonomy};
use cxray_core::stats::{Difference, Settings};
use cxray_store::sql::Sql;

use crate::args::{TextCommand, TextSentimentArgs, TextTermsArgs, TextTopicsArgs};
use crate::config::Config;
use crate::output::{self, count};

pub async fn run(config: &Config, command: TextCommand, json: bool) -> anyhow::Result<()> {
    let folder = super::folder(config)?;
    let sql = Sql::open(&folder, &Default::default()).await?;
    match command {
        TextCommand::Sentiment(args) => sentiment(&sql, args, json).await,
        TextCommand::Terms(args) => terms(&sql, args, json).await,
        TextCommand::Topics(args) => {
            let journey = match args.leaving {
                true => {
                    let ops = folder.ops_db()?;
                    Some(JourneyOptions::of_product(
                        &ops,
                        &ProductSettings::default(),
                    )?)
                }
                false => None,
            };
            topics(&sql, args, journey.as_ref(), json).await
        }
    }
}

async fn sentiment(sql: &Sql, args: TextSentimentArgs, json: bool) -> anyhow::Result<()> {
    let s = Settings::default();
    let report = match &args.sql {
        Some(query) => comments::sentiment_sql(sql, query, &s)
            .await
            .map_err(|e| super::hint(e, &[("the query", "--sql")]))?,
        None => comments::sentiment(sql, args.by.as_deref(), &s)
            .await
            .map_err(|e| super::hint(e, super::BY))?,
    };
    if json {
        return output::json(&report);
    }
    print_sentiment(&report)
}

fn print_sentiment(report: &SentimentReport) -> anyhow::Result<()> {
    let overall = GroupSentiment {
        group: Some("all".into()),
        sentiment: report.overall.clone(),
    };
    let by = report.by.as_deref().unwrap_or("group");
    let mut t = output::Table::new(
        &[
            by,
            "comments",
            "scored",
            "mean sentiment (95% interval)",
            "other language",
            "language unknown",
        ],
        &[false, true, true, true, true, true],
    );
    for g in report.groups.iter().chain([&overall]) {
        t.rows
            .push(row(g.group.as_deref().unwrap_or("(none)"), &g.sentiment));
    }
    t.print()?;
    println!(
        "sentiment: VADER compound score, −1 (negative) to 1 (positive), of comments in English; \
         other languages have no lexicon and are not scored"
    );
    Ok(())
}

fn row(group: &str, s: &Sentiment) -> Vec<String> {
    let mean = s.mean.map_or("—".into(), |m| {
        output::with_interval(m.value, m.low, m.high, 3)
    });
    vec![
        group.into(),
        count(s.comments),
        count(s.scored),
        mean,
        count(s.other_language),
        count(s.unknown_language),
    ]
}

async fn terms(sql: &Sql, args: TextTermsArgs, json: bool) -> anyhow::Result<()> {
    let groups = match (args.sql, args.touchpoint) {
        (Some(query), _) => Groups::Query(query),
        (None, Some(touchpoint)) => Groups::Touchpoint(touchpoint),
        (None, None) => Groups::Answers(args.groups.into(), args.window_days),
    };
    let options = TermOptions {
        top: args.top,
        min_count: args.min_count,
        ..TermOptions::default()
    };
    let report = comments::terms(sql, &groups, options)
        .await
        .map_err(|e| super::hint(e, &[("the query", "--sql")]))?;
    if json {
        return output::json(&report);
    }
    print_terms(&report)
}

fn print_terms(r: &TermsReport) -> anyhow::Result<()> {
    let d = &r.terms;
    println!(
        "{} ({} comments, {} terms) against {} ({} comments, {} terms)",
        r.group_a,
        count(d.comments_a),
        count(d.terms_a),
        r.group_b,
        count(d.comments_b),
        count(d.terms_b)
    );
    for (name, terms) in [(&r.group_a, &d.of_a), (&r.group_b, &d.of_b)] {
        println!("\nwritten more by {name}");
        let mut t = output::Table::new(
            &[
                "term",
                &format!("in {}", r.group_a),
                &format!("in {}", r.group_b),
                "log-odds ratio",
                "z",
            ],
            &[false, true, true, true, true],
        );
        t.rows.extend(terms.iter().map(term_row));
        t.print()?;
    }
    println!(
        "\nlog-odds ratio of each term between the groups with an informative Dirichlet prior \
         (Monroe, Colaresi & Quinn 2008); |z| > 1.96 is a difference at the 5% level"
    );
    Ok(())
}

fn term_row(t: &Term) -> Vec<String> {
    vec![
        t.term.clone(),
        count(t.count_a),
        count(t.count_b),
        format!("{:.3}", t.log_odds),
        format!("{:.2}", t.z),
    ]
}

async fn topics(
    sql: &Sql,
    args: TextTopicsArgs,
    journey: Option<&JourneyOptions>,
    json: bool,
) -> anyhow::Result<()> {
    let Some(path) = args.taxonomy else {
        print!("{}", taxonomy::EXAMPLE);
        return Ok(());
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| super::usage(format!("{}: {e} (--taxonomy)", path.display())))?;
    let taxonomy = Taxonomy::parse(&text)
        .map_err(|e| super::usage(format!("{}:{e} (--taxonomy)", path.display())))?;
    let discover = (args.discover > 0).then(|| DiscoverSettings {
        topics: args.discover,
        ..DiscoverSettings::default()
    });
    let s = Settings::default();
    let report = match &args.sql {
        Some(query) => comments::topics_sql(sql, query, &taxonomy, discover.as_ref(), &s).await,
        None => comments::topics(sql, &taxonomy, discover.as_ref(), Cadence::Month, &s).await,
    }
    .map_err(|e| super::hint(e, &[("the query", "--sql"), ("topics", "--discover")]))?;
    let report = match journey {
        Some(journey) => {
            let options = cxray_core::drivers::Options::default();
            comments::leaving(report, sql, &taxonomy, journey, &options, &s)
                .await
                .map_err(|e| super::hint(e, &[("leaving", "--leaving")]))?
        }
        None => report,
    };
    if json {
        return output::json(&report);
    }
    print_topics(&report)?;
    print_leaving(&report)
}

/// Each topic's leaving figures, when asked for.
fn print_leaving(r: &TopicsReport) -> anyhow::Result<()> {
    if r.topics.iter().all(|t| t.leaving.is_none()) {
        return Ok(());
    }
    println!(
        "\nleaving after a trip whose comment mentions the topic, against the other commented trips"
    );
    let mut t = output::Table::new(
        &[
            "topic",
            "trips",
            "left % with",
            "left % without",
            "odds ratio of leaving (95% interval)",
            "value at risk a year",
            "concerns (owner)",
        ],
        &[false, true, true, true, true, true, false],
    );
    let shown = |e: Option<&cxray_core::stats::Estimate>| {
        e.map_or("—".into(), |e| {
            output::with_interval(e.value, e.low, e.high, 3)
        })
    };
    for row in &r.topics {
        let Some(l) = &row.leaving else { continue };
        let concerns: Vec<String> = l
            .concerns
            .iter()
            .map(|c| match &c.owner_name {
                Some(o) => format!("{} ({o})", c.touchpoint),
                None => c.touchpoint.clone(),
            })
            .collect();
        t.rows.push(vec![
            row.topic.clone(),
            count(l.trips),
            shown(l.left_with.as_ref()),
            shown(l.left_without.as_ref()),
            shown(l.odds_ratio.as_ref()),
            l.revenue_at_risk
                .map_or("—".into(), |m| match m.measurable {
                    true => format!("{:.0}", m.estimate.value),
                    false => "no measurable loss".into(),
                }),
            concerns.join(", "),
        ]);
    }
    t.print()
}

fn difference(d: Option<&Difference>) -> String {
    d.map_or("—".into(), |d| {
        output::with_interval(d.value, d.low, d.high, 3)
    })
}

fn print_topics(r: &TopicsReport) -> anyhow::Result<()> {
    println!(
        "{} comments, {} mentioning no topic of the taxonomy",
        count(r.comments),
        count(r.unmatched)
    );
    let mut t = output::Table::new(
        &[
            "topic",
            "comments",
            "share % (95% interval)",
            "NPS with",
            "NPS without",
            "difference (95% interval)",
            "change in share, pp",
        ],
        &[false, true, true, true, true, true, true],
    );
    let shown = |e: Option<&cxray_core::stats::Estimate>, scale: f64| {
        e.map_or("—".into(), |e| {
            output::with_interval(
                e.value * scale,
                e.low.map(|v| v * scale),
                e.high.map(|v| v * scale),
                3,
            )
        })
    };
    for row in &r.topics {
        let d = row.nps.difference.as_ref();
        t.rows.push(vec![
            row.topic.clone(),
            count(row.comments),
            shown(row.share.as_ref(), 100.0),
            shown(row.nps.with.as_ref(), 1.0),
            shown(row.nps.without.as_ref(), 1.0),
            difference(d),
            difference(row.change.as_ref()),
        ]);
    }
    t.print()?;
    if let Some((last, before)) = &r.periods {
        println!("change in share: {last} against {before}");
    }
    if let Some(found) = &r.discovered {
        println!(
            "
discovered among {} of the comments the taxonomy misses ({} analysed, {} stems)",
            count(found.discovered.sampled as u64),
            count(found.discovered.analysed as u64),
            count(found.discovered.vocabulary as u64)
        );
        for (topic, promotion) in found.discovered.topics.iter().zip(&found.promotions) {
            let terms: Vec<&str> = topic.terms.iter().map(|t| t.term.as_str()).collect();
            println!(
                "
{} comments: {}",
                count(topic.comments as u64),
                terms.join(", ")
            );
            for e in topic.examples.iter().take(3) {
                println!("  e.g. \"{}\"", e.text);
            }
            println!("  to add it to the taxonomy:");
            promotion.lines().for_each(|line| println!("    {line}"));
        }
    }
    Ok(())
}
