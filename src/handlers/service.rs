//! The service's own endpoints: the welcome and the health check.

use worker::Response;

use super::Ctx;
use crate::http::error::ApiError;
use crate::http::response::{self, OK};
use crate::storage::d1::LinkStore;

/// `GET /`: what this is and where to start.
pub fn home(cx: &Ctx) -> Result<Response, ApiError> {
    let body = serde_json::json!({
        "name": "shortener",
        "message": "An edge URL shortener. POST a JSON body {\"target_url\": \"https://...\"} to /url to make a short link.",
        "create": format!("{}/url", cx.origin),
    });
    Ok(response::json(OK, &body)?)
}

/// `GET /healthz`: healthy only when D1 answers a query.
pub async fn health(cx: &Ctx) -> Result<Response, ApiError> {
    LinkStore::from_env(&cx.env)?.ping().await?;
    Ok(response::json(OK, &serde_json::json!({ "status": "ok" }))?)
}
