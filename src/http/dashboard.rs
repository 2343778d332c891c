//! `/`: the dashboard, one self-contained page (inline CSS and script, no external network)
//! that draws itself from the JSON API and redraws every few seconds.

use axum::response::Html;

/// The page; its script fetches `/api/v1/status` and each site's plan and history.
pub const PAGE: &str = include_str!("dashboard.html");

pub async fn page() -> Html<&'static str> {
    Html(PAGE)
}
