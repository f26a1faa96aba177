//! `cxray text`: what customers write — sentiment and distinguishing terms.

use cxray_analysis::comments::{
    self, GroupSentiment, Groups, SentimentReport, TermOptions, TermsReport,
};
use cxray_core::comments::{Sentiment, Term};
use cxray_core::stats::Settings;
use cxray_store::sql::Sql;

use crate::args::{TextCommand, TextSentimentArgs, TextTermsArgs};
use crate::config::Config;
use crate::output::{self, count};

pub async fn run(config: &Config, command: TextCommand, json: bool) -> anyhow::Result<()> {
    let sql = Sql::open(&super::folder(config)?, &Default::default()).await?;
    match command {
        TextCommand::Sentiment(args) => sentiment(&sql, args, json).await,
        TextCommand::Terms(args) => terms(&sql, args, json).await,
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
