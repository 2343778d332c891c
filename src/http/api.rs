//! The JSON API, health checks and the metrics endpoint; every handler reads the snapshot.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::Shared;
use crate::{history, status};

fn json(code: StatusCode, body: String) -> Response {
    (code, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn unknown(site: &str) -> Response {
    let body = serde_json::json!({ "error": format!("no site named {site:?} is managed") });
    json(StatusCode::NOT_FOUND, body.to_string())
}

/// Exactly `status --format json`.
pub async fn status(State(shared): State<Shared>) -> Response {
    json(StatusCode::OK, status::json(&shared.status()))
}

/// A managed site without a view answers 503 with why; any other, 404.
fn no_view(shared: &Shared, site: &str) -> Response {
    match shared.no_view_yet(site) {
        Some(why) => json(
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({ "error": why }).to_string(),
        ),
        None => unknown(site),
    }
}

/// Exactly `plan --format json` for the site.
pub async fn plan(State(shared): State<Shared>, Path(site): Path<String>) -> Response {
    match shared.planned_view(&site) {
        Some(v) => json(StatusCode::OK, v.plan_json.clone()),
        None => no_view(&shared, &site),
    }
}

/// One of the site's last runs as its printable report (`galaxy-ha report RUN --format
/// html`); older runs are in `galaxy-ha report`.
pub async fn report(
    State(shared): State<Shared>,
    Path((site, run)): Path<(String, String)>,
) -> Response {
    let found = shared
        .view(&site)
        .and_then(|v| v.reports.iter().find(|r| r.run.id == run).cloned());
    match found {
        Some(r) => (
            [(axum::http::header::CACHE_CONTROL, "no-store")],
            axum::response::Html(crate::report::html(
                &format!("galaxy-ha run report: {run}"),
                jiff::Timestamp::now(),
                std::slice::from_ref(&r),
            )),
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            format!(
                "no recent run {run:?} for site {site:?}; galaxy-ha report {run} -m MANIFESTS has every run\n"
            ),
        )
            .into_response(),
    }
}

/// The site's last journal items, as `history --format json` shapes them.
pub async fn history(State(shared): State<Shared>, Path(site): Path<String>) -> Response {
    match shared.planned_view(&site) {
        Some(v) => json(StatusCode::OK, history::json(&v.recent)),
        None => no_view(&shared, &site),
    }
}

/// The process answers.
pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(shared): State<Shared>) -> Response {
    match shared.ready() {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(why) => (StatusCode::SERVICE_UNAVAILABLE, why).into_response(),
    }
}

pub async fn metrics(State(shared): State<Shared>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        shared.encode_metrics(),
    )
        .into_response()
}
