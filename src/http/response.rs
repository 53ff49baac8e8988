//! Building responses: JSON bodies, redirects, and the headers every response carries.

use serde::Serialize;
use worker::{Headers, Response, ResponseBuilder};

pub const OK: u16 = 200;
pub const CREATED: u16 = 201;
pub const FOUND: u16 = 302;

/// Headers on every response: no MIME sniffing, and no full URL leaked in `Referer`
/// to other origins.
fn common_headers() -> worker::Result<Headers> {
    let headers = Headers::new();
    headers.set("X-Content-Type-Options", "nosniff")?;
    headers.set("Referrer-Policy", "strict-origin-when-cross-origin")?;
    Ok(headers)
}

/// A JSON response. `no-store` because admin answers carry the secret and every answer
/// reflects state that can change at any time.
pub fn json<T: Serialize>(status: u16, body: &T) -> worker::Result<Response> {
    let bytes = serde_json::to_vec(body)?;
    let headers = common_headers()?;
    headers.set("Content-Type", "application/json")?;
    headers.set("Cache-Control", "no-store")?;
    Ok(ResponseBuilder::new()
        .with_status(status)
        .with_headers(headers)
        .fixed(bytes))
}

/// A `302` to `location`, uncacheable by shared caches and immediately stale in the
/// browser, so a deactivation takes effect on the visitor's next click.
pub fn redirect(location: &str) -> worker::Result<Response> {
    let headers = common_headers()?;
    headers.set("Location", location)?;
    headers.set("Cache-Control", "private, max-age=0")?;
    Ok(ResponseBuilder::new()
        .with_status(FOUND)
        .with_headers(headers)
        .empty())
}
