//! Drivers: which bad experiences explain defection, with bootstrap intervals.

use cxray_analysis::journey::DriverGroup;
use cxray_charts::{Bar, Bars, Format, Frame, bars};
use cxray_core::drivers::Model;

use crate::html::{escape, figure, table, with_interval};

/// The page's body: one analysis per group.
pub fn render(groups: &[DriverGroup]) -> String {
    groups.iter().map(group).collect()
}

fn group(g: &DriverGroup) -> String {
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
    let statistic = match a.model {
        Model::Linear => "R²",
        Model::Logistic => "McFadden pseudo-R²",
    };
    let rows: Vec<Vec<String>> = drivers
        .iter()
        .map(|d| {
            let effect = d.odds_ratio.as_ref().unwrap_or(&d.coefficient);
            let leaving = g
                .leaving(&d.name)
                .map_or("—".into(), |o| with_interval(o.value, o.low, o.high, 3));
            vec![
                d.rank.to_string(),
                escape(&d.name),
                figure(
                    &format!("weight.{}", d.name),
                    d.weight.value,
                    &with_interval(d.weight.value, d.weight.low, d.weight.high, 4),
                ),
                with_interval(
                    d.share.value * 100.0,
                    d.share.low.map(|v| v * 100.0),
                    d.share.high.map(|v| v * 100.0),
                    1,
                ),
                with_interval(effect.value, effect.low, effect.high, 3),
                leaving,
            ]
        })
        .collect();
    let heading = g
        .group
        .as_deref()
        .map_or(String::new(), |v| format!("<h2>{}</h2>", escape(v)));
    format!(
        "{heading}<p>{} trips, {statistic} {} ({} resamples, {} failed){}.</p>{}{}",
        a.n,
        with_interval(a.r2.value, a.r2.low, a.r2.high, 3),
        a.resamples,
        a.failed_resamples,
        if g.constant.is_empty() {
            String::new()
        } else {
            format!(
                "; left out (do not vary): {}",
                escape(&g.constant.join(", "))
            )
        },
        bars(
            &Frame::new("What explains defection after a trip")
                .id("drivers")
                .caption(format!(
                    "Each predictor's share of the {statistic} ({:?}), 95% bootstrap intervals.",
                    a.method
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
