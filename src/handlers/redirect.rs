//! The hot path: forwarding visitors; and the read-only views of a link (peek, QR).

use std::borrow::Cow;

use worker::worker_sys::web_sys;
use worker::{console_error, Request, Response};

use super::Ctx;
use crate::domain::key::Key;
use crate::domain::link::{with_forwarded_query, LinkState, RedirectRule};
use crate::domain::target_url::{host_is_blocked, host_of};
use crate::domain::timestamp::Timestamp;
use crate::domain::visit::PendingVisit;
use crate::http::error::ApiError;
use crate::http::response::{self, OK};
use crate::storage::cache::LinkCache;
use crate::storage::clicks;
use crate::storage::d1::{LinkRef, LinkStore};
use crate::web::{pages, qr};

/// QR code sizes in pixels: the default and the accepted bounds of `?size=`.
const QR_DEFAULT_SIZE: u32 = 256;
const QR_MIN_SIZE: u32 = 64;
const QR_MAX_SIZE: u32 = 1024;

/// How a link should redirect, and whether the answer came from KV.
struct Resolved {
    rule: RedirectRule,
    cached: bool,
}

/// Reads through the cache: KV first, D1 on a miss. Only active links are cached, so a
/// hit needs only the expiry check; a miss learns from D1 whether the link exists and
/// may redirect.
async fn resolve(key: &Key, cache: &LinkCache, cx: &Ctx) -> Result<Resolved, ApiError> {
    let resolved = match cache.get(key, cx.now).await {
        Some(rule) if rule.is_expired(cx.now) => return Err(ApiError::Gone(LinkState::Expired)),
        Some(rule) => Resolved { rule, cached: true },
        None => {
            let link = LinkStore::from_env(&cx.env)?
                .find(&LinkRef::Key(key))
                .await?
                .ok_or(ApiError::NotFound)?;
            match link.state(cx.now) {
                LinkState::Active => Resolved {
                    rule: RedirectRule::of(&link),
                    cached: false,
                },
                other => return Err(ApiError::Gone(other)),
            }
        }
    };
    // A host blocked after the link was made stops redirecting, cached or not.
    let blocked = &cx.config.blocked_hosts;
    if !blocked.is_empty() && host_is_blocked(host_of(&resolved.rule.target), blocked) {
        return Err(ApiError::TargetBlocked);
    }
    Ok(resolved)
}

/// Why a link that looked live refused a visit, for the 410's message.
async fn refusal(store: &LinkStore, key: &Key, now: Timestamp) -> ApiError {
    match store.find(&LinkRef::Key(key)).await {
        Ok(Some(link)) if link.state(now) != LinkState::Active => ApiError::Gone(link.state(now)),
        Ok(Some(_)) => ApiError::Gone(LinkState::Exhausted),
        Ok(None) => ApiError::NotFound,
        Err(e) => e,
    }
}

fn pending_visit(key: &Key, req: &Request, now: Timestamp) -> PendingVisit {
    let header = |name| req.headers().get(name).ok().flatten();
    PendingVisit {
        key: key.as_str().to_string(),
        at: now.millis(),
        user_agent: header("User-Agent"),
        referer: header("Referer"),
        country: req.cf().and_then(|cf| cf.country()),
    }
}

/// `GET|HEAD /{key}`: redirects with the link's status. The click, the visit row and
/// any cache fill are written after the response, so the visitor waits for none of
/// them, except on links with `max_clicks`, where D1 must admit the visit first.
pub async fn redirect(
    key: Key,
    count_click: bool,
    req: &Request,
    cx: Ctx,
) -> Result<web_sys::Response, ApiError> {
    let cache = LinkCache::from_env(&cx.env);
    let Resolved { rule, cached } = resolve(&key, &cache, &cx).await?;
    let mut flush = false;
    if rule.metered {
        admit(&key, count_click, req, &cx).await?;
    } else if count_click {
        // Only raw header values are kept here; they are classified after the response.
        flush = clicks::collect(pending_visit(&key, req, cx.now));
    }
    let location = if rule.forward_query {
        with_forwarded_query(&rule.target, cx.query())
    } else {
        Cow::Borrowed(rule.target.as_str())
    };
    let status = rule.status.unwrap_or(cx.config.default_redirect);
    let res = response::redirect(&location, status, cx.config.permanent_max_age)?;
    if flush || !cached {
        let (env, now) = (cx.env.clone(), cx.now);
        cx.ctx.wait_until(async move {
            if !cached {
                match LinkStore::from_env(&env) {
                    Ok(store) => fill_checked(&cache, &store, &key, &rule, now).await,
                    Err(e) => console_error!("cache fill of key {key}: {e:?}"),
                }
            }
            if flush {
                clicks::flush_after_window(&env).await;
            }
        });
    }
    Ok(res)
}

/// On a link with `max_clicks`, D1 must admit the visit before the redirect: the
/// conditional increment decides, so concurrent visits cannot overrun the limit. HEAD
/// counts nothing but must not promise a redirect that GET would refuse.
async fn admit(key: &Key, count_click: bool, req: &Request, cx: &Ctx) -> Result<(), ApiError> {
    let store = LinkStore::from_env(&cx.env)?;
    let admitted = if count_click {
        let visit = pending_visit(key, req, cx.now).into_record(String::new());
        store.record_visit(key, &visit, cx.now).await?
    } else {
        store
            .find(&LinkRef::Key(key))
            .await?
            .is_some_and(|l| l.state(cx.now) == LinkState::Active)
    };
    if admitted {
        Ok(())
    } else {
        Err(refusal(&store, key, cx.now).await)
    }
}

/// Caches a rule read from D1, then reads D1 again: a deactivation or edit that landed
/// between the first read and the KV write would otherwise be undone by this fill, and
/// the old target would redirect again until the entry expired. Every change bumps the
/// link's version, so comparing versions catches all of them.
pub async fn fill_checked(
    cache: &LinkCache,
    store: &LinkStore,
    key: &Key,
    rule: &RedirectRule,
    now: Timestamp,
) {
    cache.put(key, rule, now).await;
    match store.find(&LinkRef::Key(key)).await {
        Ok(Some(link)) if link.version == rule.version && link.state(now) == LinkState::Active => {}
        Ok(_) => cache.evict(key).await,
        Err(e) => {
            console_error!("re-check after cache fill of key {key} failed: {e:?}");
            cache.evict(key).await;
        }
    }
}

/// `GET /{key}+`: where the link goes, without following it or counting a click; a
/// page with a button to continue for browsers.
pub async fn peek(key: &Key, html: bool, cx: &Ctx) -> Result<Response, ApiError> {
    let cache = LinkCache::from_env(&cx.env);
    let resolved = resolve(key, &cache, cx).await?;
    if html {
        let short = format!("{}/{key}", cx.origin());
        return Ok(response::html(
            OK,
            pages::preview(&short, &resolved.rule.target),
        )?);
    }
    let body = serde_json::json!({
        "key": key.as_str(),
        "url": format!("{}/{key}", cx.origin()),
        "target_url": resolved.rule.target,
    });
    Ok(response::json(OK, &body)?)
}

/// `GET /{key}/qr?size=N`: an SVG QR code of the short URL. Counts nothing.
pub async fn qr(key: &Key, cx: &Ctx) -> Result<Response, ApiError> {
    let size = match cx.query_param("size") {
        None => QR_DEFAULT_SIZE,
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|s| (QR_MIN_SIZE..=QR_MAX_SIZE).contains(s))
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "size must be an integer from {QR_MIN_SIZE} to {QR_MAX_SIZE} pixels"
                ))
            })?,
    };
    resolve(key, &LinkCache::from_env(&cx.env), cx).await?;
    let url = format!("{}/{key}", cx.origin());
    let image = qr::svg(&url, size).map_err(|e| ApiError::Internal(format!("QR of {url}: {e}")))?;
    Ok(response::svg(image)?)
}
