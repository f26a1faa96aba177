//! The journey map, the weak-area map and the owner scorecards.

use cxray_analysis::journey::{Area, Journey, MonthRate, Owner, Touchpoint, areas};
use cxray_charts::{
    Bar, Bars, Corners, Format, Frame, Line, Point, Quadrant, Series, Spot, bars, heat,
    heat_legend, line, quadrant,
};

use cxray_core::domain::owner_kind_label;
use cxray_core::text::{money_in, thousands};
use cxray_store::cases::OwnerCases;

use super::money::{at_risk, total, what_is_summed};
use crate::html::{escape, figure, table, with_interval};

/// The columns of a touchpoint row (`touchpoint_row`).
const TOUCHPOINT_COLUMNS: &[(&str, bool)] = &[
    ("journey", false),
    ("stage", false),
    ("touchpoint", false),
    ("owner", false),
    ("kind", false),
    ("interactions", true),
    ("failed %", true),
    ("wait p50 / p90 s", true),
    ("CSAT %", true),
    ("excess dropout pp", true),
    ("revenue at risk / year", true),
];

/// The journey map (as the reader may see it): touchpoints by journey and stage with
/// owners, performance heat and hand-offs.
pub fn render(j: &Journey) -> String {
    let tps = &j.touchpoints;
    let worst = tps
        .iter()
        .filter_map(|t| t.failure_rate.map(|f| f.value))
        .fold(1.0_f64, f64::max);
    let cur = j.currency.as_deref();
    let rows: Vec<Vec<String>> = tps.iter().map(|t| touchpoint_row(t, worst, cur)).collect();
    let mut out = format!(
        "{}{}{}",
        super::journey_map::render(j),
        table(
            "Touchpoints by journey and stage: owner (team, partner or outside party), volume, failures (95% Wilson), waits, CSAT and the dropout after a bad experience",
            TOUCHPOINT_COLUMNS,
            &rows,
        ),
        heat_legend("failed %", 0.0, worst, &Format::Number)
    );
    let handoffs: Vec<Vec<String>> = j
        .handoffs
        .iter()
        .take(20)
        .map(|h| {
            vec![
                format!("{} ({})", escape(&h.from_touchpoint), escape(&h.from_owner)),
                format!("{} ({})", escape(&h.to_touchpoint), escape(&h.to_owner)),
                thousands(h.count),
                h.failure_rate_after
                    .map_or("—".into(), |e| with_interval(e.value, e.low, e.high, 1)),
                h.excess_failure
                    .map_or("—".into(), |d| with_interval(d.value, d.low, d.high, 1)),
                at_risk(None, h.revenue_at_risk, cur),
            ]
        })
        .collect();
    out.push_str(&format!(
        "<h2>Hand-offs between owners</h2>{}",
        table(
            "Consecutive touchpoints with different owners: failures right after the hand-off, against the receiving touchpoint's other interactions, and its revenue at risk that follows them",
            &[
                ("from", false),
                ("to", false),
                ("hand-offs", true),
                ("failed after %", true),
                ("vs otherwise pp", true),
                ("revenue at risk / year", true),
            ],
            &handoffs,
        )
    ));
    out.push_str(&summed(j));
    out
}

/// What the money adds up, under a list of touchpoints.
fn summed(j: &Journey) -> String {
    cxray_analysis::journey::total_revenue_at_risk(j).map_or(String::new(), |t| {
        format!(
            "<p class=\"note\">Money at risk is ranked and {}.</p>",
            escape(&what_is_summed(&t))
        )
    })
}

fn touchpoint_row(t: &Touchpoint, worst: f64, cur: Option<&str>) -> Vec<String> {
    let text = |v: &Option<String>| escape(v.as_deref().unwrap_or("—"));
    let failed = t.failure_rate.map_or("—".into(), |f| {
        let shade = heat(f.value, 0.0, worst);
        format!(
            "<span style=\"{}\">{}</span>",
            shade.style(),
            figure(
                &format!("failed.{}", t.touchpoint),
                f.value,
                &with_interval(f.value, f.low, f.high, 1)
            )
        )
    });
    let owner = t.owner.as_deref().map_or("—".into(), |o| {
        format!("<a href=\"/owners/{0}\">{0}</a>", escape(o))
    });
    vec![
        text(&t.journey),
        text(&t.stage),
        escape(&t.touchpoint),
        owner,
        escape(t.owner_kind.as_deref().map_or("—", owner_kind_label)),
        thousands(t.interactions),
        failed,
        match (t.wait_p50_seconds, t.wait_p90_seconds) {
            (Some(a), Some(b)) => format!("{a:.0} / {b:.0}"),
            _ => "—".into(),
        },
        t.csat
            .map_or("—".into(), |e| with_interval(e.value, e.low, e.high, 1)),
        t.excess_dropout
            .map_or("—".into(), |d| with_interval(d.value, d.low, d.high, 1)),
        at_risk(
            Some(&format!("risk.{}", t.touchpoint)),
            t.revenue_at_risk,
            cur,
        ),
    ]
}

/// The weak-area map of the touchpoints the reader may see: importance (money at risk)
/// against performance (failure rate against target), and the ranked list.
pub fn render_areas(j: &Journey) -> String {
    let list: Vec<Area> = areas(j);
    let cur = j.currency.as_deref();
    let spots: Vec<Spot> = list
        .iter()
        .filter_map(|a| {
            let m = a.revenue_at_risk?.loss()?;
            let performance = a.target_rate - a.failure_rate;
            Some(Spot::new(a.touchpoint.clone(), performance, m).sized(m.value.abs()))
        })
        .collect();
    let median = median(spots.iter().map(|s| s.y.value).collect());
    let mut chart = Quadrant::new(spots, (0.0, median));
    chart.corners = Corners::priorities();
    chart.x_title = "performance: target − failed, percentage points".into();
    chart.y_title = "revenue at risk / year".into();
    chart.size_title = "revenue at risk".into();
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|a| {
            vec![
                a.rank.map_or("—".into(), |r| r.to_string()),
                escape(&a.touchpoint),
                escape(
                    a.owner_name
                        .as_deref()
                        .or(a.owner.as_deref())
                        .unwrap_or("—"),
                ),
                escape(a.owner_kind.as_deref().map_or("—", owner_kind_label)),
                area_money(a, cur),
                format!("{:.1}", a.failure_rate),
                format!("{:.1}", a.target_rate),
                escape(a.quadrant.label()),
            ]
        })
        .collect();
    format!(
        "{}{}",
        quadrant(
            &Frame::new("Importance against performance")
                .id("areas")
                .caption("Each touchpoint's measurable customer value at risk a year (importance) against how far its failure rate is below its target (the service level, else the average); the dividers are the target and the median money. Touchpoints without a measurable loss are listed below, unranked."),
            &chart
        ),
        table(
            "Ranked by money at risk",
            &[
                ("rank", true),
                ("touchpoint", false),
                ("owner", false),
                ("kind", false),
                ("revenue at risk / year (95%)", true),
                ("failed %", true),
                ("target %", true),
                ("quadrant", false),
            ],
            &rows
        ),
    ) + &summed(j)
}

/// An area's money with its interval where measurable (a figure named `area.<touchpoint>`).
pub fn area_money(a: &Area, cur: Option<&str>) -> String {
    let key = format!("area.{}", a.touchpoint);
    match a.revenue_at_risk.and_then(|m| m.loss()) {
        Some(m) => format!(
            "{} ({} – {})",
            at_risk(Some(&key), a.revenue_at_risk, cur),
            money_in(m.low.unwrap_or(m.value), None),
            money_in(m.high.unwrap_or(m.value), None)
        ),
        None => at_risk(None, a.revenue_at_risk, cur),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The list of owners (those the reader may see) with their money at stake.
pub fn render_owners(j: &Journey) -> String {
    let list: Vec<&Owner> = j.owners.iter().collect();
    let chart = Bars {
        bars: list
            .iter()
            .filter_map(|o| {
                let m = o.revenue_at_risk.filter(|t| t.measurable > 0)?;
                let bar = Bar::new(o.owner.clone(), m.estimate);
                Some(match &o.kind {
                    Some(kind) => bar.in_group(owner_kind_label(kind)),
                    None => bar,
                })
            })
            .collect(),
        format: Format::money(j.currency.clone().unwrap_or_default()),
        value_title: Some("revenue at risk / year".into()),
    };
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|o| {
            vec![
                format!("<a href=\"/owners/{0}\">{0}</a>", escape(&o.owner)),
                escape(o.name.as_deref().unwrap_or("—")),
                escape(o.kind.as_deref().map_or("—", owner_kind_label)),
                o.touchpoints.len().to_string(),
                thousands(o.interactions),
                o.failure_rate
                    .map_or("—".into(), |e| with_interval(e.value, e.low, e.high, 1)),
                o.revenue_at_risk
                    .map_or("—".into(), |t| owner_total(&t, j.currency.as_deref())),
            ]
        })
        .collect();
    format!(
        "{}{}",
        bars(
            &Frame::new("Revenue at risk by owner").id("owners").caption("Measurable losses summed over each owner's touchpoints, 95% intervals; teams, partners and outside parties."),
            &chart
        ),
        table(
            "Owners",
            &[
                ("owner", false),
                ("name", false),
                ("kind", false),
                ("touchpoints", true),
                ("interactions", true),
                ("failed % (95%)", true),
                ("revenue at risk / year", true),
            ],
            &rows
        )
    ) + &summed(j)
}

/// An owner's measurable losses summed, in full, without a figure key.
fn owner_total(t: &cxray_analysis::journey::Total, cur: Option<&str>) -> String {
    match t.measurable {
        0 => cxray_core::text::NO_MEASURABLE_LOSS.into(),
        _ => escape(&money_in(t.estimate.value, cur)),
    }
}

/// One owner's scorecard: touchpoints, performance, money at stake and trend.
/// One owner's scorecard: the summary, the owner's follow-up cases (open and overdue,
/// when known), the touchpoints and the monthly failure rate.
pub fn render_owner(
    j: &Journey,
    o: &Owner,
    trend: &[MonthRate],
    cases: Option<OwnerCases>,
) -> String {
    let tps: Vec<Vec<String>> = j
        .touchpoints
        .iter()
        .filter(|t| t.owner.as_deref() == Some(o.owner.as_str()))
        .map(|t| touchpoint_row(t, 100.0, j.currency.as_deref()))
        .collect();
    let points: Vec<Point> = trend
        .iter()
        .map(|m| {
            let e = m.failure_rate;
            Point::new(m.month.get(..7).unwrap_or(&m.month).to_string(), e)
        })
        .collect();
    let chart = Line {
        series: vec![Series::new("failed %", points)],
        y_title: Some("failed %".into()),
        ..Line::default()
    };
    let cur = j.currency.as_deref();
    let money = o
        .revenue_at_risk
        .map_or("revenue at risk a year: —".into(), |t| {
            format!(
                "revenue at risk a year {} ({}){}",
                total("owner.revenue_at_risk", &t, cur, false),
                escape(&what_is_summed(&t)),
                o.revenue_at_risk_after_handoffs
                    .filter(|_| t.measurable > 0)
                    .map_or(String::new(), |m| format!(
                        ", of it after hand-offs from other owners {}",
                        escape(&money_in(m.value, cur))
                    ))
            )
        });
    let summary = format!(
        "<p>{} ({}): {} interactions, failed {}%, {money}.</p>",
        escape(o.name.as_deref().unwrap_or(&o.owner)),
        escape(o.kind.as_deref().map_or("kind unknown", owner_kind_label)),
        thousands(o.interactions),
        o.failure_rate
            .map_or("—".into(), |e| with_interval(e.value, e.low, e.high, 1)),
    );
    let cases = cases.map_or(String::new(), |c| {
        let owner = crate::filters::encode(&o.owner);
        format!(
            "<p class=\"cases\">Follow-up cases: <a href=\"/cases?owner={owner}\">{} open</a>, \
             <a href=\"/cases?owner={owner}&amp;overdue=true\">{} overdue</a>{}.</p>",
            thousands(c.open as u64),
            thousands(c.overdue as u64),
            if c.overdue > 0 {
                " — past their first-contact or resolution deadline"
            } else {
                ""
            },
        )
    });
    format!(
        "{summary}{cases}{}{}",
        table("Touchpoints", TOUCHPOINT_COLUMNS, &tps),
        line(
            &Frame::new("Failure rate by month")
                .id("owner-trend")
                .caption("Failed interactions at this owner's touchpoints, 95% Wilson intervals."),
            &chart
        )
    )
}
