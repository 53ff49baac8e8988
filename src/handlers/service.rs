//! The service's own endpoints: the welcome, the health check and `robots.txt`. The API
//! description and the files of the pages are static assets (see `site/`).

use super::context::Ctx;
use crate::http::error::ApiError;
use crate::http::response::{self, Reply, OK};
use crate::web::pages;

/// `GET /`: the form for browsers; for API clients, what this is and where to start.
pub fn home(html: bool, cx: &Ctx) -> Result<Reply, ApiError> {
    if html {
        return Ok(response::html(OK, pages::home())?);
    }
    let body = serde_json::json!({
        "name": "shortener",
        "message": "An edge URL shortener. POST a JSON body {\"target_url\": \"https://...\"} to /url to make a short link.",
        "create": format!("{}/url", cx.origin()),
        "docs": format!("{}/docs", cx.origin()),
    });
    Ok(response::json(OK, &body)?)
}

/// `GET /healthz`: healthy only when D1 answers a query.
pub async fn health(cx: &Ctx) -> Result<Reply, ApiError> {
    cx.links()?.ping().await?;
    Ok(response::json(OK, &serde_json::json!({ "status": "ok" }))?)
}

/// Crawlable links listed in `/robots.txt` at most: the file stays small (crawlers read
/// about the first 500 KB), and a link past the bound is simply not crawled.
const ROBOTS_MAX_LINKS: u32 = 1_000;

/// `GET /robots.txt`: crawlers may follow only links marked `crawlable`; everything
/// else (other links, admin pages, the API) is disallowed. Redirects of other links
/// carry `X-Robots-Tag: noindex` as well, for crawlers that ignore this file.
pub async fn robots(cx: &Ctx) -> Result<Reply, ApiError> {
    let keys = cx.links()?.crawlable_keys(ROBOTS_MAX_LINKS).await?;
    let mut body = String::from("User-agent: *\n");
    for key in keys {
        body.push_str(&format!("Allow: /{key}$\n"));
    }
    body.push_str("Disallow: /\n");
    Ok(response::document("text/plain; charset=utf-8", body)?)
}
