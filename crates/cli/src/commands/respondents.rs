//! `cxray survey respondents`: who answers among the invited — responders against
//! non-responders on what cxray knows of both — and the NPS weighted to everyone invited.

use std::collections::BTreeMap;

use cxray_analysis::journey::JourneyOptions;
use cxray_analysis::settings::ProductSettings;
use cxray_analysis::surveys::population::{Asked, Invited};
use cxray_analysis::surveys::respondents::{WhoAnswers, who_answers};
use cxray_core::stats::Estimate;
use cxray_core::stats::weighting::Weighted;
use cxray_core::text::significant_with_interval;
use cxray_store::sql::Sql;

use crate::config::Config;
use crate::output::{self, count, with_interval};

/// Compares responders with non-responders and prints the weighted NPS, among those
/// `asked`.
pub async fn run(config: &Config, asked: Asked, json: bool) -> anyhow::Result<()> {
    let folder = super::folder(config)?;
    let ops = folder.ops_db()?;
    let opts = JourneyOptions::of_product(&ops, &ProductSettings::default())?;
    let sql = Sql::open(&folder, &BTreeMap::new()).await?;
    let invited = Invited::of_record(&ops, asked)?;
    let answers = who_answers(&sql, &opts, &invited).await?;
    match json {
        true => output::json(&answers),
        false => print(&answers),
    }
}

/// A fraction as a percentage with its interval.
fn percent(e: Option<&Estimate>) -> String {
    e.map_or("—".into(), |e| {
        with_interval(
            100.0 * e.value,
            e.low.map(|v| 100.0 * v),
            e.high.map(|v| 100.0 * v),
            1,
        )
    })
}

fn nps(e: &Estimate) -> String {
    with_interval(e.value, e.low, e.high, 1)
}

fn print(w: &WhoAnswers) -> anyhow::Result<()> {
    println!(
        "{} of {} asked answered, {}% (asked: {})",
        count(w.responded),
        count(w.invited),
        percent(w.response_rate.as_ref()),
        w.invited_by.label()
    );
    println!("\nwho answers");
    let mut t = output::Table::new(
        &[
            "",
            "",
            "share of responders, %",
            "share of non-responders, %",
            "response rate, %",
        ],
        &[false, false, true, true, true],
    );
    for l in &w.levels {
        t.rows.push(vec![
            l.covariate.clone(),
            l.level.clone(),
            percent(l.among_responders.as_ref()),
            percent(l.among_non_responders.as_ref()),
            percent(l.response_rate.as_ref()),
        ]);
    }
    t.print()?;
    let mut t = output::Table::new(
        &["mean", "responders", "non-responders"],
        &[false, true, true],
    );
    let mean = |e: Option<&Estimate>| {
        e.map_or("—".into(), |e| {
            significant_with_interval(e.value, e.low, e.high, 3)
        })
    };
    for m in &w.means {
        t.rows.push(vec![
            m.measure.clone(),
            mean(m.responders.as_ref()),
            mean(m.non_responders.as_ref()),
        ]);
    }
    println!();
    t.print()?;
    let mut t = output::Table::new(
        &["odds of answering", "against", "odds ratio"],
        &[false, false, true],
    );
    for term in &w.propensity.terms {
        let or = &term.odds_ratio;
        t.rows.push(vec![
            format!("{}: {}", term.covariate, term.level),
            term.reference.clone(),
            significant_with_interval(or.value, or.low, or.high, 3),
        ]);
    }
    println!();
    t.print()?;
    println!(
        "\nNPS as answered {}; weighted to everyone asked {}",
        nps(&w.answered),
        weighted(&w.weighted)
    );
    println!("by {}", weighted(&w.post_stratified));
    if w.post_stratified.unrepresented > 0 {
        println!(
            "  ({} asked in cells where nobody answered are not represented by it)",
            count(w.post_stratified.unrepresented)
        );
    }
    if w.answers_not_linked > 0 {
        println!(
            "{} answers follow no trip asked and are left out",
            count(w.answers_not_linked)
        );
    }
    for c in &w.weighted.constant {
        println!("not weighted on {c}: every trip asked has the same value");
    }
    for note in &w.left_out {
        println!("not weighted on {note}");
    }
    Ok(())
}

/// "36.0 (34.1 – 37.9), inverse response-propensity weights on segment, …; effective n …"
fn weighted(w: &Weighted) -> String {
    format!(
        "{}, {} on {}; effective n {} of {}",
        nps(&w.nps),
        w.method.label(),
        w.covariates.join(", "),
        count(w.effective_n.round() as u64),
        count(w.responded)
    )
}
