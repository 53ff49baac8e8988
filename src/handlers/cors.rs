//! Cross-origin access to the JSON API (`CORS_ORIGINS`).

use worker::Request;

use crate::config::{Config, CorsOrigins};

/// The `Access-Control-Allow-Origin` value this request earns, if any. The `Origin`
/// header is read only when CORS is configured at all: the redirect path pays nothing.
pub fn allowed_origin(req: &Request, config: &Config) -> Option<String> {
    if config.cors == CorsOrigins::None {
        return None;
    }
    let origin = req.headers().get("Origin").ok().flatten()?;
    config.cors.allow(&origin)
}
