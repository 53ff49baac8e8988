//! The hot path: forwarding visitors; and the read-only views of a link (peek, QR).

use std::borrow::Cow;

use worker::Request;

use super::context::Ctx;
use super::password;
use crate::clicks::batch::VisitRecord;
use crate::clicks::{self, Admission};
use crate::clock::now;
use crate::domain::address::LinkName;
use crate::domain::controls::{Via, Visitor};
use crate::domain::health::{DeadLinkMode, DeadTarget, HealthState};
use crate::domain::key::Key;
use crate::domain::link::{with_forwarded_query, RedirectRule, RedirectStatus};
use crate::domain::random::random_u32;
use crate::domain::target_url::{host_is_blocked, host_of};
use crate::domain::visit::{BotReason, Device, PendingVisit};
use crate::http::error::ApiError;
use crate::http::negotiate::accepts_html;
use crate::http::response::{self, Reply, GONE, OK};
use crate::storage::rules::{Found, Lookup};
use crate::web::pages::{self, DeadTargetFacts};
use crate::web::qr;

/// QR code sizes in pixels: the default and the accepted bounds of `?size=`.
const QR_DEFAULT_SIZE: u32 = 256;
const QR_MIN_SIZE: u32 = 64;
const QR_MAX_SIZE: u32 = 1024;

/// A link that answers a visit: by its rule, or (expired or exhausted) by its
/// fallback URL.
enum Live {
    Rule(Found),
    Fallback(String),
}

/// The rule of a link that redirects now, or why it does not.
async fn live_rule(name: &LinkName, cx: &Ctx) -> Result<Live, ApiError> {
    let found = match cx.rules().lookup(name, cx.now).await? {
        Lookup::Found(found) => found,
        Lookup::Fallback(url) => return Ok(Live::Fallback(url)),
        Lookup::Gone(state) => return Err(ApiError::Gone(state)),
        Lookup::Missing => return Err(ApiError::NotFound),
    };
    // A host blocked after the link was made stops redirecting, cached or not.
    let blocked = &cx.config.blocked_hosts;
    if !blocked.is_empty() && host_is_blocked(host_of(&found.rule.target), blocked) {
        return Err(ApiError::TargetBlocked);
    }
    Ok(Live::Rule(found))
}

/// Where the link sends a visitor now, as peek shows it: the target, or an expired or
/// exhausted link's fallback; `None` for a password-protected link, whose target is
/// shown to no one who has not given the password.
async fn shown_target(name: &LinkName, cx: &Ctx) -> Result<Option<String>, ApiError> {
    Ok(match live_rule(name, cx).await? {
        Live::Rule(found) if found.rule.is_protected() => None,
        Live::Rule(found) => Some(found.rule.target),
        Live::Fallback(url) => Some(url),
    })
}

/// A visitor's request headers that a visit record or a targeting rule reads, read
/// from the runtime once.
struct Seen {
    user_agent: Option<String>,
    country: Option<String>,
}

impl Seen {
    fn of(req: &Request) -> Seen {
        Seen {
            user_agent: req.headers().get("User-Agent").ok().flatten(),
            country: req.cf().and_then(|cf| cf.country()),
        }
    }
}

fn pending_visit(
    key: &str,
    req: &Request,
    seen: Seen,
    cx: &Ctx,
    counted: bool,
    via: Option<Via>,
) -> PendingVisit {
    PendingVisit {
        key: key.to_string(),
        at: cx.now.millis(),
        user_agent: seen.user_agent,
        referer: req.headers().get("Referer").ok().flatten(),
        country: seen.country,
        counted,
        via: via.map(Via::label),
    }
}

/// The name of the cookie that keeps a visitor's A/B variant of link `key`.
fn variant_cookie(key: &Key) -> String {
    format!("ab_{}", key.as_str().replace('-', "_"))
}

/// The variant index a visitor's cookie names, if any.
fn sticky_variant(req: &Request, name: &str) -> Option<usize> {
    let cookies = req.headers().get("Cookie").ok().flatten()?;
    cookies.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then(|| v.trim().parse().ok()).flatten()
    })
}

/// What the routing of a link chose for this visitor.
struct Choice {
    target: String,
    via: Option<Via>,
    /// A newly drawn variant to remember: (cookie name, index, lifetime in seconds).
    remember: Option<(String, usize, u32)>,
}

/// Applies a link's targeting rules and split to this visit. Runs only for links that
/// have routing controls; a plain link's redirect never gets here.
fn choose(
    key: &Key,
    rule: &RedirectRule,
    req: &Request,
    seen: &Seen,
    cx: &Ctx,
) -> Result<Choice, ApiError> {
    let Some(routing) = rule.routing() else {
        return Ok(Choice {
            target: rule.target.clone(),
            via: None,
            remember: None,
        });
    };
    let language = req.headers().get("Accept-Language").ok().flatten();
    let visitor = Visitor {
        user_agent: seen.user_agent.as_deref(),
        country: seen.country.as_deref(),
        accept_language: language.as_deref(),
        query: cx.query(),
    };
    let cookie = routing.split.as_ref().map(|_| variant_cookie(key));
    let sticky = cookie.as_deref().and_then(|name| sticky_variant(req, name));
    let roll = if routing.split.is_some() && sticky.is_none() {
        random_u32().map_err(|e| ApiError::Internal(e.to_string()))?
    } else {
        0
    };
    let (target, via) = routing.choose(&rule.target, &visitor, cx.now, sticky, roll);
    let remember = match (via, cookie, &routing.split) {
        (Via::Variant(i), Some(name), Some(split)) if sticky != Some(i) => {
            Some((name, i, split.sticky_seconds))
        }
        _ => None,
    };
    Ok(Choice {
        target: target.to_string(),
        via: Some(via),
        remember,
    })
}

/// An expired or exhausted link's fallback: a temporary redirect (the link may come
/// back), with no click counted.
fn to_fallback(url: &str, cx: &Ctx) -> Result<Reply, ApiError> {
    Ok(response::redirect(
        url,
        RedirectStatus::Found,
        cx.config.permanent_max_age,
    )?)
}

/// `GET|HEAD /{key}`: redirects with the link's status. The click, the visit row and
/// any cache fill are written after the response, so the visitor waits for none of
/// them, except on links with `max_clicks`, where D1 must admit the visit first.
///
/// A password-protected link first asks for its password (`form`: the one its form
/// posted; else `X-Link-Password`); nothing is counted until it is right.
pub async fn redirect(
    name: LinkName,
    count_click: bool,
    form: Option<Option<String>>,
    req: &Request,
    cx: &Ctx,
) -> Result<Reply, ApiError> {
    let found = match live_rule(&name, cx).await? {
        Live::Rule(found) => found,
        Live::Fallback(url) => return to_fallback(&url, cx),
    };
    let rule = &found.rule;
    let seen = Seen::of(req);
    let mut remember = None;
    let posted = form.is_some();
    // Only a protected link has a form to post to; a POST elsewhere counts nothing.
    if posted && !rule.is_protected() {
        return Err(ApiError::MethodNotAllowed("GET, HEAD"));
    }
    // Why a bot came matters only to links with controls or a click limit: a plain
    // link's redirect classifies nothing before it answers.
    let reason = if rule.routing().is_some() || rule.metered {
        seen.user_agent.as_deref().and_then(BotReason::of)
    } else {
        None
    };
    // Previews and mail scanners fetch before any person clicks: no click limit spent.
    let prefetch = reason.is_some_and(BotReason::is_prefetch);
    let card = match (reason, rule.routing()) {
        (Some(BotReason::LinkPreview), Some(routing)) => routing.social_card.as_ref(),
        _ => None,
    };
    if let (Some(stored), None) = (
        rule.routing().and_then(|r| r.password_hash.as_deref()),
        card,
    ) {
        let offered = match form {
            Some(field) => field,
            None => req.headers().get("X-Link-Password").ok().flatten(),
        };
        // Previews and mail scanners never pass a password (they fetch before any
        // person); API clients and command-line tools may send one (X-Link-Password).
        remember = password::pass(&name, stored, offered, prefetch, req, cx).await?;
    }
    // One `None` check for every link whose target is not dead: no extra read. After
    // the password gate: the dead-link answer names the target.
    if let Some(dead) = rule.dead {
        let mode = dead.mode_or(cx.config.dead_link_mode);
        if mode != DeadLinkMode::Redirect {
            let fallback = rule.routing().and_then(|r| r.fallback_url.as_deref());
            let facts = DeadEnd {
                target: &rule.target,
                fallback,
                dead,
                mode,
            };
            let res = dead_end(&name, &facts, accepts_html(req), cx)?;
            // Cached like any rule, so the next visitor of a dead link costs no D1 read.
            let refill = cx
                .rules()
                .refill(&name, &found, cx.now, cx.config.cache_after_misses);
            if let Some(refill) = refill {
                cx.ctx.wait_until(refill);
            }
            return Ok(res);
        }
    }
    let choice = if rule.controls.routing.is_some() && card.is_none() {
        Some(choose(&name.key, rule, req, &seen, cx)?)
    } else {
        None
    };
    let visited = name.qualified();
    let stats_key = rule.stats_key(&visited);
    // Only raw header values are kept here; they are classified after the response. A
    // click-limited link's counters already hold the click; its statistics follow.
    let via = choice.as_ref().and_then(|c| c.via);
    let counted_first = rule.metered && !prefetch;
    let pending = count_click.then(|| pending_visit(stats_key, req, seen, cx, counted_first, via));
    if rule.metered {
        // A prefetch is only told whether the link still redirects: it spends nothing.
        let spending = if prefetch { None } else { pending.as_ref() };
        match admit(stats_key, spending, cx).await {
            Err(ApiError::Gone(_)) if rule.fallback().is_some() => {
                return to_fallback(rule.fallback().unwrap_or_default(), cx);
            }
            other => other?,
        }
    }
    let flush = pending.is_some_and(|pending| {
        if cx.config.click_events {
            clicks::events::record(&cx.env, &VisitRecord::new(pending.clone()));
        }
        clicks::collect(pending)
    });
    let res = match card {
        Some(card) => {
            let short = cx.short_url(&name);
            response::html(
                OK,
                pages::social_card(
                    &short,
                    card.title.as_deref(),
                    card.description.as_deref(),
                    card.image.as_deref(),
                ),
            )?
        }
        None => redirect_reply(rule, choice, remember, posted, &name.key, cx)?,
    };
    let refill = cx
        .rules()
        .refill(&name, &found, cx.now, cx.config.cache_after_misses);
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

/// The redirect itself: the chosen target (with the visitor's query when forwarded),
/// the link's status, and the cookies this visit set (password, A/B variant).
fn redirect_reply(
    rule: &RedirectRule,
    choice: Option<Choice>,
    remember: Option<String>,
    posted: bool,
    key: &Key,
    cx: &Ctx,
) -> Result<Reply, ApiError> {
    let target = choice
        .as_ref()
        .map_or(rule.target.as_str(), |c| c.target.as_str());
    let location = if rule.forward_query {
        with_forwarded_query(target, cx.query())
    } else {
        Cow::Borrowed(target)
    };
    // After the password form's POST the browser must GET the target: 302, whatever
    // the link's own status (a 307 or 308 would repeat the POST there).
    let status = match rule.status {
        _ if posted => RedirectStatus::Found,
        Some(status) => status,
        None => cx.config.default_redirect,
    };
    let res = response::redirect(&location, status, cx.config.permanent_max_age)?;
    if let Some(cookie) = &remember {
        response::set_cookie(&res, cookie)?;
    }
    if let Some(routing) = rule.routing() {
        if routing.crawlable {
            response::crawlable(&res)?;
        }
        if let Some((name, index, seconds)) = choice.and_then(|c| c.remember) {
            // HttpOnly and Secure: only this service reads it, and never in clear;
            // path-scoped to the link, so each link keeps its own.
            let cookie = format!(
                "{name}={index}; Max-Age={seconds}; Path=/{key}; HttpOnly; Secure; SameSite=Lax"
            );
            response::set_cookie(&res, &cookie)?;
        }
    }
    Ok(res)
}

/// What a dead link's answer says: the target that was checked, the owner's fallback
/// (if the link has one), since when the target seems gone, and the mode in force.
struct DeadEnd<'a> {
    target: &'a str,
    fallback: Option<&'a str>,
    dead: DeadTarget,
    mode: DeadLinkMode,
}

/// A dead link's answer in `interstitial` mode (200, with a way to continue) or `gone`
/// mode (410): a page for people, the same facts as JSON for API clients. No click is
/// counted: the visitor was not forwarded.
fn dead_end(name: &LinkName, facts: &DeadEnd<'_>, html: bool, cx: &Ctx) -> Result<Reply, ApiError> {
    let key = &name.key;
    let short_url = cx.short_url(name);
    let since = facts.dead.since.to_rfc3339();
    let gone = facts.mode == DeadLinkMode::Gone;
    let status = if gone { GONE } else { OK };
    if html {
        let page = pages::dead_target(&DeadTargetFacts {
            short_url: &short_url,
            target: facts.target,
            since: &since,
            fallback: facts.fallback,
            gone,
        });
        return Ok(response::html(status, page)?);
    }
    let mut body = serde_json::json!({
        "detail": format!("The target of this short link appears to be gone since {since}"),
        "key": key.as_str(),
        "url": short_url,
        "target_url": facts.target,
        "health": HealthState::Dead.as_str(),
        "dead_since": since,
        "dead_link_mode": facts.mode.as_str(),
    });
    if let (Some(fallback), Some(fields)) = (facts.fallback, body.as_object_mut()) {
        fields.insert("fallback_url".into(), fallback.into());
    }
    Ok(response::json(status, &body)?)
}

/// On a link with `max_clicks`, D1 must admit the visit before the redirect: the
/// conditional increment decides, so concurrent visits cannot overrun the limit. HEAD
/// counts nothing but must not promise a redirect that GET would refuse.
async fn admit(key: &str, visit: Option<&PendingVisit>, cx: &Ctx) -> Result<(), ApiError> {
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
pub async fn peek(name: &LinkName, html: bool, cx: &Ctx) -> Result<Reply, ApiError> {
    let key = &name.key;
    let target = shown_target(name, cx).await?;
    let short = cx.short_url(name);
    if html {
        let page = match &target {
            Some(target) => pages::preview(&short, target),
            None => pages::preview_protected(&short),
        };
        return Ok(response::html(OK, page)?);
    }
    let body = match target {
        Some(target) => serde_json::json!({
            "key": key.as_str(),
            "url": short,
            "target_url": target,
        }),
        None => serde_json::json!({ "key": key.as_str(), "url": short, "protected": true }),
    };
    Ok(response::json(OK, &body)?)
}

/// `GET /{key}/qr?size=N`: an SVG QR code of the short URL. Counts nothing.
pub async fn qr(name: &LinkName, cx: &Ctx) -> Result<Reply, ApiError> {
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
    shown_target(name, cx).await?;
    let url = cx.short_url(name);
    let image = qr::svg(&url, size).map_err(|e| ApiError::Internal(format!("QR of {url}: {e}")))?;
    Ok(response::svg(image)?)
}
