//! The pages and the health check.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use cxray_core::domain::Table;
use cxray_core::text::thousands;
use cxray_store::tables::{self, TableInfo};
use serde_json::json;

use crate::AppState;
use crate::html::{escape, page};

/// `GET /health`: 200 with the version when the data folder's tables can be read.
pub async fn health(State(state): State<AppState>) -> Response {
    match tables::open(&state.folder, Table::Transactions, None).await {
        Ok(_) => {
            Json(json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})).into_response()
        }
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "error": e.to_string()})),
        )
            .into_response(),
    }
}

/// `GET /`: the data overview: every table with its rows, version, date range and last change.
pub async fn overview(State(state): State<AppState>) -> Response {
    let mut infos = Vec::new();
    for table in Table::ALL {
        match tables::info(&state.folder, table).await {
            Ok(info) => infos.push(info),
            Err(e) => {
                tracing::error!("data overview: {e}");
                let body = format!(
                    "<p role=\"alert\">Table {table} cannot be read: {}</p>",
                    escape(&e.to_string())
                );
                return (StatusCode::INTERNAL_SERVER_ERROR, Html(page("Data", &body)))
                    .into_response();
            }
        }
    }
    Html(page("Data", &overview_table(&infos))).into_response()
}

fn overview_table(infos: &[TableInfo]) -> String {
    let mut rows = String::new();
    for i in infos {
        let range = match (&i.first, &i.last) {
            (Some(a), Some(b)) => format!("{} – {}", escape(day(a)), escape(day(b))),
            _ => "—".into(),
        };
        rows.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td class=\"num\" data-rows=\"{}\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
            escape(&i.table),
            i.rows,
            thousands(i.rows),
            i.version,
            range,
            escape(i.last_change.as_deref().unwrap_or("—")),
        ));
    }
    format!(
        "<table id=\"tables\"><caption>Event tables in this data folder</caption>\
         <thead><tr><th scope=\"col\">table</th><th scope=\"col\" class=\"num\">rows</th>\
         <th scope=\"col\" class=\"num\">version</th><th scope=\"col\">date range</th>\
         <th scope=\"col\">last change</th></tr></thead><tbody>{rows}</tbody></table>\
         <p class=\"note\">Import data with <code>cxray import TABLE FILE</code>; query it with <code>cxray sql</code>.</p>"
    )
}

/// The date part of an RFC 3339 time.
fn day(t: &str) -> &str {
    t.get(..10).unwrap_or(t)
}
