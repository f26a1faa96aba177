//! Drivers: which bad experiences make customers leave (the headline, odds ratios on a
//! log scale), the controls beside them, and each predictor's share of the fit for
//! analysts, with bootstrap intervals.

use cxray_analysis::journey::{DriverGroup, control_of, touchpoint_of};
use cxray_charts::{Bar, Bars, Forest, Format, Frame, Ratio, bars, forest};
use cxray_core::drivers::{Driver, DropoutFit, Model};
use cxray_core::stats::Estimate;
use cxray_core::text::significant_with_interval;

use crate::html::{escape, figure, table, with_interval};

/// The page's body: one analysis per group.
pub fn render(groups: &[DriverGroup]) -> String {
    groups.iter().map(group).collect()
}

fn group(g: &DriverGroup) -> String {
    let heading = g
        .group
        .as_deref()
        .map_or(String::new(), |v| format!("<h2>{}</h2>", escape(v)));
    format!(
        "{heading}{}{}{}{}",
        summary(g),
        g.dropout.as_ref().map_or(String::new(), leaving),
        controls(g),
        share_of_fit(g)
    )
}

/// Trips, fit statistic, resamples and the predictors left out.
fn summary(g: &DriverGroup) -> String {
    let a = &g.analysis;
    let left_out = if g.constant.is_empty() {
        String::new()
    } else {
        format!(
            "; left out (do not vary): {}",
            escape(&g.constant.join(", "))
        )
    };
    format!(
        "<p>{} trips, {} {} ({}; {} resamples, {} failed){left_out}.</p>",
        cxray_core::text::thousands(a.n),
        statistic(a.model),
        with_interval(a.r2.value, a.r2.low, a.r2.high, 3),
        escape(a.method.label()),
        a.resamples,
        a.failed_resamples,
    )
}

fn statistic(model: Model) -> &'static str {
    match model {
        Model::Linear => "R²",
        Model::Logistic => "McFadden pseudo-R²",
    }
}

/// The headline: the odds ratio of leaving after a bad experience at each touchpoint,
/// highest first.
fn leaving(d: &DropoutFit) -> String {
    let mut ratios: Vec<Ratio> = d
        .effects
        .iter()
        .filter_map(|e| Some(Ratio::new(touchpoint_of(&e.name)?, e.odds_ratio)))
        .collect();
    ratios.sort_by(|a, b| b.estimate.value.total_cmp(&a.estimate.value));
    let chart = Forest {
        ratios,
        value_title: "odds ratio of leaving (log scale)".into(),
        reference: "no difference".into(),
        differences: false,
    };
    let intervals = if d.resamples > 0 { "bootstrap" } else { "Wald" };
    format!(
        "<h2>Where a bad experience makes customers leave</h2>{}",
        forest(
            &Frame::new("Odds of leaving after a bad experience, by touchpoint")
                .id("leaving")
                .caption(format!(
                    "How much a failure or a long wait at each touchpoint raises the odds that \
                     the customer leaves after the trip (right of 1: more leave; left: fewer), \
                     from the dropout model, with 95% {intervals} intervals. Controls are \
                     listed below, not in the chart."
                )),
            &chart
        )
    )
}

/// The control variables with their effects, apart from the touchpoints.
fn controls(g: &DriverGroup) -> String {
    let items: String = g
        .analysis
        .drivers
        .iter()
        .filter_map(|d| Some((control_of(&d.name)?, d)))
        .map(|(name, d)| {
            format!(
                "<li>{}: {} {}</li>",
                escape(name),
                effect_name(g.analysis.model),
                written(effect(d))
            )
        })
        .collect();
    if items.is_empty() {
        return String::new();
    }
    format!(
        "<h2>Taken into account</h2><p>The customer's history, held fixed when the touchpoints \
         are compared (per unit, 95% intervals):</p><ul class=\"controls\">{items}</ul>"
    )
}

fn effect_name(model: Model) -> &'static str {
    match model {
        Model::Linear => "coefficient",
        Model::Logistic => "odds ratio of no purchase in the window",
    }
}

fn effect(d: &Driver) -> &Estimate {
    d.odds_ratio.as_ref().unwrap_or(&d.coefficient)
}

/// A ratio or coefficient with its interval, three significant digits each.
fn written(e: &Estimate) -> String {
    significant_with_interval(e.value, e.low, e.high, 3)
}

/// For analysts: each predictor's share of the fit, and the table of every figure.
fn share_of_fit(g: &DriverGroup) -> String {
    let a = &g.analysis;
    let mut drivers: Vec<_> = a.drivers.iter().collect();
    drivers.sort_by_key(|d| d.rank);
    let chart = Bars {
        bars: drivers
            .iter()
            .map(|d| Bar::new(d.name.clone(), d.share))
            .collect(),
        format: Format::Percent,
        value_title: Some("share of the explained fit".into()),
    };
    let rows: Vec<Vec<String>> = drivers.iter().map(|d| row(g, d)).collect();
    format!(
        "<h2>Share of the explained fit (for analysts)</h2>{}{}",
        bars(
            &Frame::new("What explains defection after a trip")
                .id("drivers")
                .caption(format!(
                    "Each predictor's share of the {} (by {}), 95% bootstrap intervals.",
                    statistic(a.model),
                    a.method.label()
                )),
            &chart
        ),
        table(
            "Predictors: weight, share and effect (for defection the odds ratio of no purchase \
             in the window), 95% bootstrap intervals; the odds ratio of leaving after the trip \
             from the dropout model, which tells leavers from slow buyers, same intervals",
            &[
                ("rank", true),
                ("predictor", false),
                ("weight", true),
                ("share %", true),
                ("effect", true),
                ("odds ratio of leaving", true)
            ],
            &rows
        )
    )
}

fn row(g: &DriverGroup, d: &Driver) -> Vec<String> {
    let leaving = g.leaving(&d.name).map_or("—".into(), |o| {
        figure(&format!("leaving.{}", d.name), o.value, &written(o))
    });
    vec![
        d.rank.to_string(),
        escape(&d.name),
        figure(
            &format!("weight.{}", d.name),
            d.weight.value,
            &written(&d.weight),
        ),
        with_interval(
            d.share.value * 100.0,
            d.share.low.map(|v| v * 100.0),
            d.share.high.map(|v| v * 100.0),
            1,
        ),
        written(effect(d)),
        leaving,
    ]
}
