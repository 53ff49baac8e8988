//! The service's own endpoints: the welcome, the health check and `robots.txt`. The API
//! description and the files of the pages are static assets (see `site/`).

use super::context::Ctx;
use crate::config::ASSETS_BINDING;
use crate::http::error::ApiError;
use crate::http::response::{self, Reply, OK};
use crate::web::docs_search::{self, Query};
use crate::web::{dashboard, pages};

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

/// `GET /dashboard`: the operator's page. Public HTML with no data in it; its script
/// asks for a key and calls the operator API, which decides what that key may do.
pub fn dashboard() -> Result<Reply, ApiError> {
    Ok(response::html(OK, dashboard::dashboard())?)
}

/// `GET /docs/search?q=`: the sections of the API reference that hold every word of
/// `q`, read from the static `/docs/search.json` through the assets binding.
pub async fn docs_search(cx: &Ctx) -> Result<Reply, ApiError> {
    let query = Query::parse(cx.query_param("q").as_deref()).map_err(ApiError::BadRequest)?;
    let index = if query.is_empty() {
        serde_json::Value::Null
    } else {
        let mut res = cx
            .env
            .assets(ASSETS_BINDING)?
            .fetch("https://assets.invalid/docs/search.json", None)
            .await?;
        if res.status_code() != OK {
            return Err(ApiError::Internal(format!(
                "the assets answered {} for /docs/search.json",
                res.status_code()
            )));
        }
        res.json().await?
    };
    let hits = docs_search::matches(&index, &query);
    Ok(response::html(OK, docs_search::results(&query, &hits))?)
}

/// `GET /healthz`: healthy only when D1 answers a query; degraded (still 200, the
/// service answers) when `DOMAINS` was refused or a secret that production needs is
/// unset, with one field per reason.
pub async fn health(cx: &Ctx) -> Result<Reply, ApiError> {
    cx.links()?.ping().await?;
    // A refused DOMAINS leaves the instance up on its primary domain only, and an unset
    // secret leaves it forgeable or silent: say so here, where an operator's monitor
    // looks, as well as in the log.
    let mut report = serde_json::Map::new();
    if let Some(why) = &cx.config.domains_error {
        report.insert("domains".into(), why.as_str().into());
    }
    for (field, why) in &cx.config.unsafe_defaults {
        report.insert((*field).into(), (*why).into());
    }
    let status = if report.is_empty() { "ok" } else { "degraded" };
    report.insert("status".into(), status.into());
    Ok(response::json(OK, &serde_json::Value::Object(report))?)
}

/// Crawlable links listed in `/robots.txt` at most: the file stays small (crawlers read
/// about the first 500 KB), and a link past the bound is simply not crawled.
const ROBOTS_MAX_LINKS: u32 = 1_000;

/// `GET /robots.txt`: crawlers may follow only links marked `crawlable` (of the domain
/// the request came in on); everything
/// else (other links, admin pages, the API) is disallowed. Redirects of other links
/// carry `X-Robots-Tag: noindex` as well, for crawlers that ignore this file.
pub async fn robots(cx: &Ctx) -> Result<Reply, ApiError> {
    let keys = cx
        .links()?
        .crawlable_keys(cx.domain(), ROBOTS_MAX_LINKS)
        .await?;
    let mut body = String::from("User-agent: *\n");
    for key in keys {
        body.push_str(&format!("Allow: /{key}$\n"));
    }
    body.push_str("Disallow: /\n");
    Ok(response::document("text/plain; charset=utf-8", body)?)
}
