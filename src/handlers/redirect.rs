//! The hot path: forwarding visitors; and the read-only views of a link (peek, QR).

use std::borrow::Cow;

use worker::Request;

use super::context::{accepts_html, Ctx};
use crate::clicks::batch::VisitRecord;
use crate::clicks::{self, Admission};
use crate::clock::now;
use crate::domain::health::{DeadLinkMode, DeadTarget, HealthState};
use crate::domain::key::Key;
use crate::domain::link::with_forwarded_query;
use crate::domain::target_url::{host_is_blocked, host_of};
use crate::domain::visit::{Device, PendingVisit};
use crate::http::error::ApiError;
use crate::http::response::{self, Reply, GONE, OK};
use crate::storage::rules::{Found, Lookup};
use crate::web::pages::{self, DeadTargetFacts};
use crate::web::qr;

/// QR code sizes in pixels: the default and the accepted bounds of `?size=`.
const QR_DEFAULT_SIZE: u32 = 256;
const QR_MIN_SIZE: u32 = 64;
const QR_MAX_SIZE: u32 = 1024;

/// The rule of a link that redirects now, or why it does not.
async fn live_rule(key: &Key, cx: &Ctx) -> Result<Found, ApiError> {
    let found = match cx.rules().lookup(key, cx.now).await? {
        Lookup::Found(found) => found,
        Lookup::Gone(state) => return Err(ApiError::Gone(state)),
        Lookup::Missing => return Err(ApiError::NotFound),
    };
    // A host blocked after the link was made stops redirecting, cached or not.
    let blocked = &cx.config.blocked_hosts;
    if !blocked.is_empty() && host_is_blocked(host_of(&found.rule.target), blocked) {
        return Err(ApiError::TargetBlocked);
    }
    Ok(found)
}

fn pending_visit(key: &Key, req: &Request, cx: &Ctx, counted: bool) -> PendingVisit {
    let header = |name| req.headers().get(name).ok().flatten();
    PendingVisit {
        key: key.as_str().to_string(),
        at: cx.now.millis(),
        user_agent: header("User-Agent"),
        referer: header("Referer"),
        country: req.cf().and_then(|cf| cf.country()),
        counted,
    }
}

/// `GET|HEAD /{key}`: redirects with the link's status. The click, the visit row and
/// any cache fill are written after the response, so the visitor waits for none of
/// them, except on links with `max_clicks`, where D1 must admit the visit first.
pub async fn redirect(
    key: Key,
    count_click: bool,
    req: &Request,
    cx: &Ctx,
) -> Result<Reply, ApiError> {
    let found = live_rule(&key, cx).await?;
    let rule = &found.rule;
    // One `None` check for every link whose target is not dead: no extra read.
    if let Some(dead) = rule.dead {
        let mode = dead.mode_or(cx.config.dead_link_mode);
        if mode != DeadLinkMode::Redirect {
            let res = dead_end(&key, &rule.target, dead, mode, accepts_html(req), cx)?;
            // Cached like any rule, so the next visitor of a dead link costs no D1 read.
            if let Some(refill) = cx.rules().refill(key, &found, cx.now) {
                cx.ctx.wait_until(refill);
            }
            return Ok(res);
        }
    }
    // Only raw header values are kept here; they are classified after the response. A
    // click-limited link's counters already hold the click; its statistics follow.
    let pending = count_click.then(|| pending_visit(&key, req, cx, rule.metered));
    if rule.metered {
        admit(&key, pending.as_ref(), cx).await?;
    }
    let flush = pending.is_some_and(|pending| {
        if cx.config.click_events {
            clicks::events::record(&cx.env, &VisitRecord::new(pending.clone()));
        }
        clicks::collect(pending)
    });
    let location = if rule.forward_query {
        with_forwarded_query(&rule.target, cx.query())
    } else {
        Cow::Borrowed(rule.target.as_str())
    };
    let status = rule.status.unwrap_or(cx.config.default_redirect);
    let res = response::redirect(&location, status, cx.config.permanent_max_age)?;
    let refill = cx.rules().refill(key, &found, cx.now);
    if flush || refill.is_some() {
        let env = cx.env.clone();
        cx.ctx.wait_until(async move {
            if let Some(refill) = refill {
                refill.await;
            }
            if flush {
                clicks::flush_after_window(&env, now).await;
            }
        });
    }
    Ok(res)
}

/// A dead link's answer in `interstitial` mode (200, with a way to continue) or `gone`
/// mode (410): a page for people, the same facts as JSON for API clients. No click is
/// counted: the visitor was not forwarded.
fn dead_end(
    key: &Key,
    target: &str,
    dead: DeadTarget,
    mode: DeadLinkMode,
    html: bool,
    cx: &Ctx,
) -> Result<Reply, ApiError> {
    let short_url = format!("{}/{key}", cx.origin());
    let since = dead.since.to_rfc3339();
    // The owner's fallback URL comes with the link-controls work (its own column and
    // rule field); until that is merged, no link has one to offer.
    let fallback: Option<&str> = None;
    let status = if mode == DeadLinkMode::Gone { GONE } else { OK };
    if html {
        let page = pages::dead_target(&DeadTargetFacts {
            short_url: &short_url,
            target,
            since: &since,
            fallback,
            gone: mode == DeadLinkMode::Gone,
        });
        return Ok(response::html(status, page)?);
    }
    let mut body = serde_json::json!({
        "detail": format!("The target of this short link appears to be gone since {since}"),
        "key": key.as_str(),
        "url": short_url,
        "target_url": target,
        "health": HealthState::Dead.as_str(),
        "dead_since": since,
        "dead_link_mode": mode.as_str(),
    });
    if let (Some(fallback), Some(fields)) = (fallback, body.as_object_mut()) {
        fields.insert("fallback_url".into(), fallback.into());
    }
    Ok(response::json(status, &body)?)
}

/// On a link with `max_clicks`, D1 must admit the visit before the redirect: the
/// conditional increment decides, so concurrent visits cannot overrun the limit. HEAD
/// counts nothing but must not promise a redirect that GET would refuse.
async fn admit(key: &Key, visit: Option<&PendingVisit>, cx: &Ctx) -> Result<(), ApiError> {
    let bot = visit.map(|v| {
        Device::from_user_agent(v.user_agent.as_deref().unwrap_or_default()) == Device::Bot
    });
    match cx.clicks()?.admit(key, bot, cx.now).await? {
        Admission::Counted => Ok(()),
        Admission::Refused(state) => Err(ApiError::Gone(state)),
        Admission::Missing => Err(ApiError::NotFound),
    }
}

/// `GET /{key}+`: where the link goes, without following it or counting a click; a
/// page with a button to continue for browsers.
pub async fn peek(key: &Key, html: bool, cx: &Ctx) -> Result<Reply, ApiError> {
    let resolved = live_rule(key, cx).await?;
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
pub async fn qr(key: &Key, cx: &Ctx) -> Result<Reply, ApiError> {
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
    live_rule(key, cx).await?;
    let url = format!("{}/{key}", cx.origin());
    let image = qr::svg(&url, size).map_err(|e| ApiError::Internal(format!("QR of {url}: {e}")))?;
    Ok(response::svg(image)?)
}
