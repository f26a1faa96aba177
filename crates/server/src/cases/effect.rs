//! `/cases/effect`: what following up changed, as `cxray cases effect` reports it — the
//! followed-up against the held-out cases per window, overall, per rule, owner and
//! outcome — with a forest chart of the difference in buying again, the balance of the
//! arms, the detectable effect and cases needed, and the value against compensations.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cxray_analysis::cases::{
    EffectQuery, EffectReport, Group, WindowEffect, check_windows, effect_report,
};
use cxray_analysis::settings::ProductSettings;
use cxray_charts::{Forest, Frame, Ratio, forest};
use cxray_core::cases::effect::{Effect, EffectSettings};
use cxray_core::stats::{Difference, Estimate};
use cxray_core::text::{
    money_difference, money_estimate, money_in, p_value, points, signed_count, thousands,
};
use cxray_store::StoreError;
use serde::Deserialize;

use super::given;
use crate::AppState;
use crate::auth::CurrentUser;
use crate::html::{escape, table};
use crate::routes::render;

/// The page's query: a rule (id or name) and the windows in days (`90,180`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EffectAsked {
    rule: Option<String>,
    window_days: Option<String>,
}

impl EffectAsked {
    /// The windows asked for (90 and 180 days by default), refused naming `window_days`.
    fn windows(&self) -> Result<Vec<u32>, StoreError> {
        let Some(text) = given(&self.window_days) else {
            return Ok(vec![90, 180]);
        };
        let bad = |_| {
            StoreError::invalid(
                "window_days",
                format!("'{text}': whole days separated by commas"),
            )
        };
        let windows = text
            .split(',')
            .map(|w| w.trim().parse::<u32>().map_err(bad))
            .collect::<Result<Vec<u32>, _>>()?;
        check_windows(&windows).map_err(|e| StoreError::invalid("window_days", e.to_string()))?;
        Ok(windows)
    }
}

/// `GET /cases/effect`, for those who see every owner.
pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<EffectAsked>,
) -> Response {
    let title = "What following up changed";
    if !user.role.sees_all_owners() {
        let text = "This page compares every owner's cases; your role sees only your own.";
        let body = format!("<p role=\"alert\">{}</p>", escape(text));
        return (
            StatusCode::FORBIDDEN,
            render(&user, "", "Not allowed", None, &body),
        )
            .into_response();
    }
    let report = async {
        let windows = q.windows()?;
        let rule = given(&q.rule).map(str::to_string);
        super::with_ops(&state, move |sql, ops| async move {
            let rule = rule.map(|r| ops.rule(&r)).transpose()?;
            let query = EffectQuery {
                rule: rule.map(|r| r.id),
                windows,
                settings: EffectSettings {
                    stats: ProductSettings::default().stats,
                    ..EffectSettings::default()
                },
            };
            effect_report(&sql, &ops, &query).await
        })
        .await
    }
    .await;
    let form = form(&q);
    match report {
        Ok(r) => render(
            &user,
            "/cases/effect",
            title,
            None,
            &format!("{form}{}", body(&r)),
        ),
        Err(e) => {
            let status = crate::api::status(e.kind());
            let body = format!(
                "{form}<p class=\"error\" role=\"alert\">{}</p>",
                escape(&e.to_string())
            );
            (status, render(&user, "/cases/effect", title, None, &body)).into_response()
        }
    }
}

fn form(q: &EffectAsked) -> String {
    format!(
        "<form class=\"filters\" method=\"get\" action=\"/cases/effect\" aria-label=\"filters\">\
         <label>rule (id or name)<input name=\"rule\" value=\"{}\"></label>\
         <label>windows, days<input name=\"window_days\" value=\"{}\"></label>\
         <button type=\"submit\">Apply</button> <a href=\"/cases/effect\">clear</a></form>",
        escape(given(&q.rule).unwrap_or("")),
        escape(given(&q.window_days).unwrap_or("90,180")),
    )
}

fn body(r: &EffectReport) -> String {
    let as_of = r
        .as_of
        .map_or("no purchases yet".into(), |d| format!("as of {d}"));
    let intro = format!(
        "<p>Followed-up against held-out cases, by intention to treat ({as_of}): {} cases. \
         Every case counts in the arm its draw gave it, whether or not anyone reached the customer.</p>",
        thousands(r.cases)
    );
    let windows: String = r
        .windows
        .iter()
        .map(|w| window(w, r.currency.as_deref()))
        .collect();
    format!("{intro}{windows}")
}

/// The groups of a window in order: overall, rules, owners, outcomes (not randomised).
fn groups(w: &WindowEffect) -> Vec<(String, &Group)> {
    let named = |kind: &str, g: &Group| format!("{kind}: {}", g.label);
    let mut rows = vec![(w.overall.label.clone(), &w.overall)];
    rows.extend(w.rules.iter().map(|g| (named("Rule", g), g)));
    rows.extend(w.owners.iter().map(|g| (named("Owner", g), g)));
    rows.extend(
        w.outcomes
            .iter()
            .map(|g| (named("Outcome", g) + " (not randomised)", g)),
    );
    rows
}

fn window(w: &WindowEffect, currency: Option<&str>) -> String {
    let rows = groups(w);
    let compared = w.overall.follow_up + w.overall.holdout;
    let head = format!(
        "<h2>Within {} days of the case</h2><p>{} cases compared; {} left out because their window has not ended.</p>",
        w.days,
        thousands(compared),
        thousands(w.not_ended)
    );
    let ratios: Vec<Ratio> = rows
        .iter()
        .filter_map(|(name, g)| {
            Some(Ratio::new(
                name.clone(),
                difference(&g.effect.as_ref()?.repurchase),
            ))
        })
        .collect();
    let chart = Forest {
        ratios,
        value_title: "bought again, followed up − held out, percentage points".into(),
        reference: "no difference".into(),
        differences: true,
    };
    let frame = Frame::new(format!("Bought again within {} days: followed up against held out", w.days))
        .id(&format!("effect-{}", w.days))
        .caption("Differences in the share who bought again, 95% intervals; outcome groups compare the followed-up cases with that outcome against every held-out case.");
    let table_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|(name, g)| row(name, g, currency))
        .collect();
    let headers = [
        ("Cases", false),
        ("Followed up", true),
        ("Held out", true),
        ("Bought again, pp (95%)", true),
        ("p", true),
        ("Revenue per case, adjusted (95%)", true),
        ("p", true),
        ("Arms balanced", false),
        ("Detectable at this size", true),
        ("Cases needed", true),
        ("Value against compensation", true),
    ];
    let caption = format!("Followed up against held out within {} days", w.days);
    format!(
        "{head}{}{}",
        forest(&frame, &chart),
        table(&caption, &headers, &table_rows)
    ) + &details(&w.overall, currency)
}

/// A difference as the chart's estimate: its value and interval, n both arms.
fn difference(d: &Difference) -> Estimate {
    Estimate::unflagged(d.n_a + d.n_b, d.value, d.low.zip(d.high))
}

fn row(name: &str, g: &Group, currency: Option<&str>) -> Vec<String> {
    let mut out = vec![escape(name), thousands(g.follow_up), thousands(g.holdout)];
    let Some(e) = &g.effect else {
        out.extend(std::iter::repeat_n("—".to_string(), 8));
        return out;
    };
    let balanced = match e.balance.iter().any(|b| b.flagged) {
        true => "no: standardised difference beyond 0.1",
        false => "yes",
    };
    let detectable = match (e.detectable.repurchase_points, e.detectable.revenue) {
        (Some(pp), Some(rev)) => format!("{pp:.1} pp; {} a case", money_in(rev, currency)),
        _ => "—".into(),
    };
    let needed = e.needed.map_or("—".into(), |n| {
        format!(
            "{} for {} pp ({} more)",
            thousands(n.total),
            n.effect_points,
            thousands(n.further)
        )
    });
    out.extend([
        escape(&points(&e.repurchase)),
        p_value(e.repurchase.p_value),
        escape(&money_difference(&e.revenue.adjusted)),
        p_value(e.revenue.adjusted.p_value),
        balanced.into(),
        escape(&detectable),
        escape(&needed),
        escape(&value(e, currency)),
    ]);
    out
}

/// The value of the extra customers kept against the compensations paid.
fn value(e: &Effect, currency: Option<&str>) -> String {
    let v = &e.value;
    let paid = money_in(v.compensation, currency);
    match &v.net {
        Some(net) => format!("{} net of {paid} paid", money_estimate(net, currency)),
        None => format!("— ({paid} paid)"),
    }
}

/// The overall comparison's further figures, and what could not be given.
fn details(g: &Group, currency: Option<&str>) -> String {
    let Some(e) = &g.effect else {
        return "<p class=\"note\">No comparison: an arm has no cases whose window has ended.</p>"
            .into();
    };
    let v = &e.value;
    let mut items = vec![
        format!(
            "Extra customers who bought again: {}",
            signed_count(&v.extra_customers)
        ),
        format!(
            "Revenue per case unadjusted: {}; adjusting by spend before removed {:.0}% of the difference's variance",
            money_difference(&e.revenue.unadjusted),
            100.0 * e.revenue.variance_reduction
        ),
    ];
    if let (Some(clv), Some(worth)) = (v.mean_clv, &v.value) {
        items.push(format!(
            "Their value: {} (mean CLV {})",
            money_estimate(worth, currency),
            money_in(clv, currency)
        ));
    }
    items.push(format!(
        "Compensation paid: {} ({} per followed-up case)",
        money_in(v.compensation, currency),
        money_in(v.compensation_per_case, currency)
    ));
    for b in &e.balance {
        let smd = b.smd.map_or("undefined".into(), |d| format!("{d:.3}"));
        items.push(format!(
            "Balance, {}: standardised difference {smd}",
            b.measure.label().to_lowercase()
        ));
    }
    if let Some(d) = &e.p_alive {
        items.push(format!("Change in P(alive), pp: {}", points(d)));
    }
    items.extend(
        e.absent
            .iter()
            .map(|a| format!("Not available: {}", a.label())),
    );
    let list: String = items
        .iter()
        .map(|i| format!("<li>{}</li>", escape(i)))
        .collect();
    format!("<h3>All cases, in more detail</h3><ul class=\"notes\">{list}</ul>")
}
