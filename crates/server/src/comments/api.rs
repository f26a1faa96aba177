//! `/api/v1/text/…`: the comments' sentiment, topics, distinguishing terms and examples
//! as JSON — the analysis layer's reports as `cxray text … --json` gives them — with
//! their OpenAPI description. Reading needs the `read` scope only: the comments are
//! redacted, and owners and partners read only their own touchpoints'.

use axum::extract::{FromRequestParts, Query};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{Ask, Asked, Computed, Got, Topics, View};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::cases::api::store_refusal;
use crate::filters::Filters;

/// The routes (behind [`crate::auth::require_read`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/text/sentiment", get(sentiment))
        .route("/api/v1/text/topics", get(topics))
        .route("/api/v1/text/discovered", get(discovered))
        .route("/api/v1/text/terms", get(terms))
        .route("/api/v1/text/examples", get(examples))
}

type Reply = Result<Response, Response>;

/// The view the request asks about, or its refusal (503 before the first snapshot).
fn view_of(
    state: &AppState,
    user: &CurrentUser,
    f: Filters,
    a: &Asked,
    topics: &Topics,
) -> Result<View, Response> {
    match super::view(&state.snapshots, user, f, a, topics) {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(computing()),
        Err(e) => Err(store_refusal(&e)),
    }
}

fn computing() -> Response {
    crate::api::error(
        StatusCode::SERVICE_UNAVAILABLE,
        "the comments are being analysed; retry shortly",
    )
}

/// The analysis asked for, or why not.
async fn answer(
    state: &AppState,
    user: &CurrentUser,
    (view, topics): (&View, &Topics),
    ask: Ask,
) -> Reply {
    let done = match super::asked(state, user, view, topics, ask).await {
        Got::Done(done) => done,
        Got::Computing => return Err(computing()),
        Got::Busy(n) => {
            let message = format!(
                "you have {n} comment analyses being computed; wait for them and try again"
            );
            return Err(crate::api::error(StatusCode::TOO_MANY_REQUESTS, &message));
        }
    };
    let computed = done.map_err(|e| {
        let body = json!({"error": e.message, "kind": e.kind});
        (crate::api::status(e.kind), Json(body)).into_response()
    })?;
    Ok(match &*computed {
        Computed::Sentiment(r) => Json(r).into_response(),
        Computed::Topics(r) => Json(r).into_response(),
        Computed::Terms(r) => Json(r).into_response(),
        Computed::Examples(e) => {
            let shown = super::shown(state, user, e).await;
            Json(shown.map_err(|e| store_refusal(&e))?).into_response()
        }
        Computed::Withheld => {
            let min = state.min_group_size;
            let note = super::small::note(min);
            Json(json!({"withheld": true, "min_group_size": min, "note": note})).into_response()
        }
    })
}

/// A request of the comments: the reader, the filters and what else it asks.
pub(super) struct TextRequest {
    pub state: AppState,
    pub user: CurrentUser,
    pub filters: Filters,
    pub asked: Asked,
}

impl FromRequestParts<AppState> for TextRequest {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let user = CurrentUser::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Query(filters) = Query::<Filters>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Query(asked) = Query::<Asked>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(TextRequest {
            state: state.clone(),
            user,
            filters,
            asked,
        })
    }
}

impl TextRequest {
    /// The analysis `ask` makes of the request, answered.
    async fn answer(self, ask: impl FnOnce(&Asked, &View) -> cxray_store::Result<Ask>) -> Reply {
        let TextRequest {
            state,
            user,
            filters,
            asked,
        } = self;
        let topics = super::topics(&state.folder).map_err(|e| store_refusal(&e))?;
        let view = view_of(&state, &user, filters, &asked, &topics)?;
        let ask = ask(&asked, &view).map_err(|e| store_refusal(&e))?;
        answer(&state, &user, (&view, &topics), ask).await
    }
}

async fn sentiment(r: TextRequest) -> Reply {
    r.answer(|a, _| Ok(Ask::Sentiment(a.by()?))).await
}

async fn topics(r: TextRequest) -> Reply {
    r.answer(|a, _| Ok(Ask::Topics(a.period()?))).await
}

async fn discovered(r: TextRequest) -> Reply {
    r.answer(|_, _| Ok(Ask::Discovered)).await
}

async fn terms(r: TextRequest) -> Reply {
    r.answer(|a, view| Ok(Ask::Terms(a.comparison(&view.known)?, a.top()?)))
        .await
}

async fn examples(r: TextRequest) -> Reply {
    r.answer(|a, _| examples_ask(a)).await
}

/// The examples a request asks for.
pub(super) fn examples_ask(a: &Asked) -> cxray_store::Result<Ask> {
    Ok(Ask::Examples {
        group: a.group()?,
        limit: a.limit()?,
    })
}

/// The OpenAPI description of the routes.
pub fn openapi() -> [(&'static str, Value); 5] {
    let query = crate::api::query_parameter;
    let filters = || {
        vec![
            query("from", "First day of the answers (YYYY-MM-DD)."),
            query("to", "Last day of the answers (YYYY-MM-DD)."),
            query("segment", "Customers of this segment."),
            query("region", "Customers of this region."),
            query(
                "attribute",
                "Any other customers' column, equal to `value`.",
            ),
            query("value", "The value of `attribute`."),
            query(
                "touchpoint",
                "Only answers about this touchpoint (one the caller may see).",
            ),
            query(
                "band",
                "Only NPS answers of a band: promoters (9–10), passives (7–8) or detractors (0–6).",
            ),
            query(
                "topic",
                "Only comments mentioning this topic of the taxonomy (or one below it); the topics themselves still compare the comments with and without each topic.",
            ),
            query(
                "tone",
                "Only comments of this tone: positive (compound ≥ 0.05), neutral or negative (≤ −0.05); English comments only.",
            ),
        ]
    };
    let with = |mut params: Vec<Value>, extra: Vec<Value>| {
        params.extend(extra);
        params
    };
    let who = "Owners and partners read only the comments on answers about their own touchpoints, and no figure of fewer comments than the server's minimum group size (smaller groups left out; a whole analysis of fewer: 200 with {\"withheld\": true, \"min_group_size\": N, \"note\"}); partners see customers by pseudonym (c-…). Comments are redacted (e-mail addresses, card and phone numbers replaced by tags). Needs the `read` scope only.";
    let responses = crate::api::with_refusals(
        json!({
            "200": {"description": "The analysis, as JSON."},
            "422": {"description": "Nothing to analyse: {\"error\", \"kind\": \"no_data\"}."},
            "429": {"description": "The caller has as many comment analyses computing as allowed."},
            "503": {"description": "Being computed: retry shortly."}
        }),
        "No such route.",
    );
    let read = json!([{"session": []}, {"token": ["read"]}]);
    let operation = |summary: &str, parameters: Vec<Value>| {
        json!({"get": {
            "summary": summary,
            "description": who,
            "parameters": parameters,
            "security": read,
            "responses": responses,
        }})
    };
    [
        (
            "/api/v1/text/sentiment",
            operation(
                "The comments' sentiment as `cxray text sentiment --json`: {by, overall: {comments, scored, other_language, unknown_language, mean: {value, low, high, n}}, groups: [{group, …}]}; VADER's compound score (−1 … 1) of English comments, the mean with its t interval.",
                with(
                    filters(),
                    vec![query("by", "touchpoint (default) or month.")],
                ),
            ),
        ),
        (
            "/api/v1/text/topics",
            operation(
                "The taxonomy's topics in the comments as `cxray text topics --json`: {comments, unmatched, periods: [last, before], topics: [{topic, comments, share, change, with, without, difference, series: [{period, comments, share, with, without, difference}]}]}: each topic's share of the comments (Wilson interval), its change from the period before (percentage points, Newcombe interval), and the NPS of the answers whose comment mentions it against the others', overall and period by period (`period`: the period's first day). The taxonomy is the data folder's taxonomy.toml, else the starter taxonomy.",
                with(
                    filters(),
                    vec![query("period", "month (default) or quarter.")],
                ),
            ),
        ),
        (
            "/api/v1/text/discovered",
            operation(
                "Topics discovered among the comments the taxonomy misses, as `cxray text topics --discover 8 --json`: the topics report with {discovered: {sampled, analysed, vocabulary, topics: [{weight, comments, terms: [{term, language, weight}], examples: [{id, text, weight}]}], promotions: [TOML]}} (seeded NMF on a sample of up to 5,000 comments). POST /comments/discovered to add one to the taxonomy (administrators).",
                filters(),
            ),
        ),
        (
            "/api/v1/text/terms",
            operation(
                "The terms that distinguish two groups' comments as `cxray text terms --json`: {group_a, group_b, comments_a, comments_b, terms_a, terms_b, of_a: [{term, count_a, count_b, log_odds, z}], of_b}: log-odds ratios with an informative Dirichlet prior; defection judged in the server's window after the answer.",
                with(
                    filters(),
                    vec![
                        query(
                            "compare",
                            "promoters (against detractors, the default), defectors (against stayers), satisfied_defectors (against satisfied stayers) or touchpoint (one touchpoint against the rest).",
                        ),
                        query(
                            "compare_touchpoint",
                            "With compare=touchpoint: the touchpoint.",
                        ),
                        query("top", "Terms per group, 1 to 100 (20)."),
                    ],
                ),
            ),
        ),
        (
            "/api/v1/text/examples",
            operation(
                "The latest comments that meet the filters, newest first: [{customer_id, day, touchpoint, instrument, score, text (redacted), language, sentiment, topics}].",
                with(
                    filters(),
                    vec![
                        query(
                            "group",
                            "promoters, detractors, defectors, stayers, satisfied_defectors or satisfied_stayers.",
                        ),
                        query("limit", "How many, 1 to 100 (10)."),
                    ],
                ),
            ),
        ),
    ]
}
