//! Who may call the operator API: only requests with the `ADMIN_TOKEN` bearer token.

use worker::Request;

use super::context::Ctx;
use crate::domain::token::{bearer_token, token_matches};
use crate::http::error::ApiError;
use crate::http::route::is_operator_path;

/// The operator API exists only when `ADMIN_TOKEN` is set, and then only for requests
/// that present it; everything else under `/api` is answered before routing.
pub fn authorize(path: &str, req: &Request, cx: &Ctx) -> Result<(), ApiError> {
    if !is_operator_path(path) {
        return Ok(());
    }
    let expected = cx.config.admin_token.as_deref().ok_or(ApiError::NotFound)?;
    let header = req
        .headers()
        .get("Authorization")
        .ok()
        .flatten()
        .unwrap_or_default();
    match bearer_token(&header) {
        Some(token) if token_matches(token, expected) => Ok(()),
        _ => Err(ApiError::Unauthorized),
    }
}
