//! `/whatif`: what fewer bad experiences at touchpoints would keep a year — customers and
//! money with their intervals — and the fixes ranked by money kept and, where costs are
//! given, by money kept per cost (the retention budget's shopping list), for those who see
//! every owner. Figures carry the raw values
//! of `/api/v1/whatif` under `whatif.{touchpoint}`.

use axum::extract::{Query, State};
use axum::response::IntoResponse;
use cxray_analysis::initiatives::WhatIfs;
use cxray_core::initiatives::WhatIf;
use cxray_core::stats::Estimate;
use cxray_core::text::{money_with_interval, significant, significant_with_interval, thousands};

use super::WhatIfAsked;
use super::pages::Page;
use crate::AppState;
use crate::auth::CurrentUser;
use crate::html::{escape, figure, table};
use crate::routes::{company_wide, render};

/// `GET /whatif?touchpoint=…&reduce_failures=…`.
pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(asked): Query<WhatIfAsked>,
) -> Page {
    company_wide(&user)?;
    let title = "What a fix is worth";
    let form = form(&asked);
    match super::what_if(&state, &asked).await {
        Ok(w) => Ok(render(&user, "/whatif", title, None, &(form + &body(&w)))),
        Err(e) => {
            let error = format!(
                "<p class=\"error\" role=\"alert\">{}</p>",
                escape(&e.to_string())
            );
            let page = render(&user, "/whatif", title, None, &(form + &error));
            Err((crate::api::status(e.kind()), page).into_response())
        }
    }
}

fn form(asked: &WhatIfAsked) -> String {
    let value = |v: &Option<String>| escape(v.as_deref().unwrap_or_default());
    format!(
        "<form class=\"filters\" method=\"get\" action=\"/whatif\" aria-label=\"proposed fix\">\
         <label>touchpoints (comma-separated; empty: every one)<input name=\"touchpoint\" value=\"{}\"></label>\
         <label>fewer bad experiences, %<input name=\"reduce_failures\" value=\"{}\" placeholder=\"30\"></label>\
         <label>costs a year (touchpoint=amount, comma-separated)<input name=\"cost\" value=\"{}\"></label>\
         <button type=\"submit\">Price</button></form>",
        value(&asked.touchpoint),
        value(&asked.reduce_failures),
        value(&asked.cost),
    )
}

fn body(w: &WhatIfs) -> String {
    let intro = format!(
        "<p class=\"note\">{} % fewer bad experiences (failures, waits over the service level) \
         at each touchpoint: the customers who would not leave within {} days of a trip, and \
         their lifetime value, a year — from the dropout model's odds of leaving after a \
         trip with a bad experience there (controlling for the customer's history and the \
         trip's other bad experiences), ranked by money kept.{}</p>",
        significant(100.0 * w.reduction, 3),
        w.window_days,
        match w.unadjusted.is_empty() {
            true => String::new(),
            false => format!(
                " Without the model's effect, compared unadjusted (trips with a bad experience \
                 against those without): {}.",
                escape(&w.unadjusted.join(", "))
            ),
        }
    );
    let caption = |by: &str| match &w.currency {
        Some(c) => format!("Candidate fixes by {by}, in {c}"),
        None => format!("Candidate fixes by {by}"),
    };
    let per_cost = match w.list.by_value_per_cost.is_empty() {
        true => String::new(),
        false => ranked(
            &caption("money kept per unit of cost"),
            &w.list.by_value_per_cost,
            None,
        ),
    };
    let unpriced: String = w
        .unpriced
        .iter()
        .map(|u| format!("<li>{}: {}</li>", escape(&u.touchpoint), escape(&u.reason)))
        .collect();
    let unpriced = match unpriced.is_empty() {
        true => String::new(),
        false => format!("<h2>Not priced</h2><ul class=\"notes\">{unpriced}</ul>"),
    };
    let by_value = ranked(
        &caption("money kept a year"),
        &w.list.by_value,
        Some("whatif"),
    );
    format!("{intro}{by_value}{per_cost}{unpriced}")
}

/// The fixes in their order: customers and money kept a year, the cost and money per
/// cost where a cost is given; the money as figures under `key.{touchpoint}`, if keyed.
fn ranked(caption: &str, fixes: &[WhatIf], key: Option<&str>) -> String {
    let with = |e: &Estimate| escape(&significant_with_interval(e.value, e.low, e.high, 3));
    let rows: Vec<Vec<String>> = fixes
        .iter()
        .enumerate()
        .map(|(rank, f)| {
            let v = &f.value;
            let money = money_with_interval(v.value, v.low, v.high);
            let money = match key {
                Some(k) => figure(&format!("{k}.{}", f.name), v.value, &money),
                None => escape(&money),
            };
            vec![
                (rank + 1).to_string(),
                escape(&f.name),
                thousands(f.avoided.round().max(0.0) as u64),
                with(&f.customers_kept),
                money,
                f.cost
                    .map_or("—".into(), |c| escape(&cxray_core::text::money(c))),
                f.value_per_cost.as_ref().map_or("—".into(), with),
            ]
        })
        .collect();
    let headers = [
        ("Rank", true),
        ("Touchpoint", false),
        ("Bad experiences avoided a year", true),
        ("Customers kept a year (95% interval)", true),
        ("Money kept a year (95% interval)", true),
        ("Cost a year", true),
        ("Money kept per unit of cost", true),
    ];
    table(caption, &headers, &rows)
}
