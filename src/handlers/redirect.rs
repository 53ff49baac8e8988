//! The hot path: forwarding visitors; and the read-only views of a link (peek, QR).
//! Each gathers the facts `domain/outcome.rs` decides on, then renders the answer.

use std::future::Future;

use worker::Request;

use super::context::Ctx;
use super::password;
use crate::clicks::batch::VisitRecord;
use crate::clicks::{self, Admission};
use crate::clock::now;
use crate::domain::address::LinkName;
use crate::domain::controls::{SocialCard, Via, Visitor as Targeting};
use crate::domain::health::{DeadLinkMode, HealthState};
use crate::domain::key::Key;
use crate::domain::link::RedirectStatus;
use crate::domain::outcome::{
    self, Admit, Closed, Count, DeadEnd, Outcome, Redirect, Sight, Site, Standing, Visitor,
};
use crate::domain::random::random_u32;
use crate::domain::visit::{BotReason, Device, PendingVisit};
use crate::http::error::ApiError;
use crate::http::negotiate::accepts_html;
use crate::http::response::{self, Reply, GONE, OK};
use crate::storage::rules::Lookup;
use crate::web::pages::{self, DeadTargetFacts};
use crate::web::qr;

/// QR code sizes in pixels: the default and the accepted bounds of `?size=`.
const QR_DEFAULT_SIZE: u32 = 256;
const QR_MIN_SIZE: u32 = 64;
const QR_MAX_SIZE: u32 = 1024;

/// How a visitor arrived at a link: which method and URL.
pub struct Arrival {
    /// A GET or the password form's POST: a click is counted (HEAD counts nothing).
    pub count_click: bool,
    /// Through the link's QR code (`/{key}/scan`): the same answer, recorded as source
    /// `qr`.
    pub qr: bool,
    /// `POST`: the password its form posted.
    pub form: Option<Option<String>>,
}

/// `GET|HEAD /{key}` and `/{key}/scan`, and `POST` to either (the password form): the
/// lookup, the decision, the count, the answer. The click, the visit row and any cache
/// fill are written after the response, so the visitor waits for none of them, except
/// on links with `max_clicks`, where D1 must admit the visit first.
pub async fn redirect(
    name: LinkName,
    arrival: Arrival,
    req: &Request,
    cx: &Ctx,
) -> Result<Reply, ApiError> {
    let Arrival {
        count_click,
        qr,
        form,
    } = arrival;
    let lookup = cx.rules().lookup(&name, cx.now).await?;
    let standing = lookup.standing(&cx.config.blocked_hosts);
    let seen = Seen::of(req, standing, qr);
    let visitor = gather(&name, standing, count_click, form, &seen, req, cx).await?;
    let site = site(cx);
    let mut outcome = outcome::decide(standing, &visitor, &site);
    let visited = name.qualified();
    let stats_key = stats_key(standing, &visited);
    let user_agent = seen.user_agent.as_deref();
    if let Some(refused) = admit(standing, outcome.admission(), stats_key, user_agent, cx).await? {
        outcome = outcome::decide(refused, &visitor, &site);
    }
    let res = render(&outcome, &name, req, cx)?;
    let refill = match (&lookup, outcome.answers_live()) {
        (Lookup::Found(found), true) => {
            cx.rules()
                .refill(&name, found, cx.now, cx.config.cache_after_misses)
        }
        _ => None,
    };
    let flush = outcome
        .count()
        .filter(|count| count.record)
        .is_some_and(|count| record(stats_key, count, seen, req, cx));
    after_response(refill, flush, cx);
    Ok(res)
}

/// A visitor's request headers that a visit record or a targeting rule reads, read
/// from the runtime once, and only for a link that redirects.
#[derive(Default)]
struct Seen {
    user_agent: Option<String>,
    country: Option<String>,
    /// Read only for links with targeting rules.
    language: Option<String>,
    /// Came through the link's QR code.
    qr: bool,
    /// The link's UTM campaign, which its clicks are counted under.
    campaign: Option<String>,
}

impl Seen {
    fn of(req: &Request, standing: Standing<'_>, qr: bool) -> Seen {
        let Standing::Live(rule) = standing else {
            return Seen::default();
        };
        Seen {
            user_agent: req.headers().get("User-Agent").ok().flatten(),
            country: req.cf().and_then(|cf| cf.country()),
            language: rule
                .routing()
                .and_then(|_| req.headers().get("Accept-Language").ok().flatten()),
            qr,
            campaign: rule
                .routing()
                .and_then(|r| r.utm.as_ref())
                .and_then(|u| u.campaign.clone()),
        }
    }
}

/// What the visitor brings that the decision reads, read only as far as the link needs
/// it: a plain link's visitor carries no bot reason, no password and no cookie. A
/// protected link's password is checked here (PBKDF2, attempts in D1), and only there.
async fn gather<'a>(
    name: &LinkName,
    standing: Standing<'_>,
    count_click: bool,
    form: Option<Option<String>>,
    seen: &'a Seen,
    req: &Request,
    cx: &'a Ctx,
) -> Result<Visitor<'a>, ApiError> {
    let mut visitor = Visitor {
        posted: form.is_some(),
        recorded: count_click,
        targeting: Targeting {
            user_agent: seen.user_agent.as_deref(),
            country: seen.country.as_deref(),
            accept_language: seen.language.as_deref(),
            query: "",
        },
        ..Visitor::default()
    };
    let Standing::Live(rule) = standing else {
        return Ok(visitor);
    };
    if rule.forward_query || rule.routing().is_some() {
        visitor.targeting.query = cx.query();
    }
    // Why a bot came matters only to links with controls or a click limit: a plain
    // link's redirect classifies nothing before it answers.
    if rule.routing().is_some() || rule.metered {
        visitor.bot = seen.user_agent.as_deref().and_then(BotReason::of);
    }
    let Some(routing) = rule.routing() else {
        return Ok(visitor);
    };
    if let Some(stored) = routing.password_hash.as_deref() {
        // API clients and command-line tools may send it in a header.
        let offered = form.unwrap_or_else(|| req.headers().get("X-Link-Password").ok().flatten());
        let prefetch = visitor.bot.is_some_and(BotReason::is_prefetch);
        visitor.password = password::verdict(name, stored, offered, prefetch, req, cx).await?;
    }
    if routing.split.is_some() {
        visitor.sticky = sticky_variant(req, &variant_cookie(&name.key));
        if visitor.sticky.is_none() {
            visitor.roll = random_u32().map_err(|e| ApiError::Internal(e.to_string()))?;
        }
    }
    Ok(visitor)
}

/// What the instance and the request's domain say.
fn site(cx: &Ctx) -> Site<'_> {
    Site {
        fallbacks: cx.config.domains.fallbacks(cx.domain()),
        dead_link_mode: cx.config.dead_link_mode,
        default_status: cx.config.default_redirect,
        now: cx.now,
    }
}

/// On a link with `max_clicks`, D1 must admit the visit before the answer: the
/// conditional increment decides, so concurrent visits cannot overrun the limit. HEAD,
/// prefetches, dead-link answers and views spend nothing but must not be promised an
/// answer that a click would be refused. `Some`: what D1 said instead, for the visit to
/// be decided again.
async fn admit<'a>(
    standing: Standing<'a>,
    admission: Option<Admit>,
    key: &str,
    user_agent: Option<&str>,
    cx: &Ctx,
) -> Result<Option<Standing<'a>>, ApiError> {
    let (Some(admit), Standing::Live(rule)) = (admission, standing) else {
        return Ok(None);
    };
    let bot = (admit == Admit::Spend)
        .then(|| Device::from_user_agent(user_agent.unwrap_or_default()) == Device::Bot);
    Ok(match cx.clicks()?.admit(key, bot, cx.now).await? {
        Admission::Counted => None,
        Admission::Refused(state) => Some(Standing::Stopped {
            state,
            fallback: rule.fallback(),
        }),
        Admission::Missing => Some(Standing::Missing),
    })
}

/// The key a link's clicks are counted under, as visited under `visited`.
fn stats_key<'a>(standing: Standing<'a>, visited: &'a str) -> &'a str {
    match standing {
        Standing::Live(rule) => rule.stats_key(visited),
        _ => visited,
    }
}

/// What a view (peek, QR) decides on: what the lookup found, and for a click-limited
/// link what its counters say (spending nothing).
async fn viewed<'a>(lookup: &'a Lookup, name: &LinkName, cx: &Ctx) -> Result<Sight<'a>, ApiError> {
    let standing = lookup.standing(&cx.config.blocked_hosts);
    let visited = name.qualified();
    let key = stats_key(standing, &visited);
    let checked = admit(standing, outcome::view_admission(standing), key, None, cx).await?;
    Ok(outcome::sight(checked.unwrap_or(standing)))
}

/// Keeps the visit in the isolate's window, as raw header values classified after the
/// response (a click-limited link's counters already hold the click; its statistics
/// follow); `true` when the window's flush must be scheduled.
fn record(key: &str, count: Count, seen: Seen, req: &Request, cx: &Ctx) -> bool {
    let pending = PendingVisit {
        key: key.to_string(),
        at: cx.now.millis(),
        user_agent: seen.user_agent,
        address: req.headers().get("CF-Connecting-IP").ok().flatten(),
        referer: req.headers().get("Referer").ok().flatten(),
        country: seen.country,
        counted: count.counted_first,
        via: count.via.map(Via::label),
        qr: seen.qr,
        campaign: seen.campaign,
    };
    if cx.config.click_events {
        // Analytics Engine gets no visitor entry: it keeps data three months, past the
        // day its key lives.
        clicks::events::record(&cx.env, &VisitRecord::new(pending.clone(), None));
    }
    clicks::collect(pending)
}

/// The cache fill a D1 read owes and the click window's flush, after the response.
fn after_response(refill: Option<impl Future<Output = ()> + 'static>, flush: bool, cx: &Ctx) {
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

/// The answer the outcome names: a page or JSON where the client's `Accept` decides.
fn render(
    outcome: &Outcome<'_>,
    name: &LinkName,
    req: &Request,
    cx: &Ctx,
) -> Result<Reply, ApiError> {
    match outcome {
        Outcome::Redirect(redirect) => redirect_reply(redirect, &name.key, cx),
        Outcome::Card { card, .. } => card_page(card, name, cx),
        Outcome::DeadEnd(facts) => dead_end(name, facts, accepts_html(req), cx),
        Outcome::PasswordGate { wrong } => {
            let e = ApiError::PasswordRequired { wrong: *wrong };
            if !accepts_html(req) {
                return Err(e);
            }
            // A browser gets the password form, which posts back here.
            Ok(response::password_page(
                e.status(),
                pages::password_form(*wrong),
            )?)
        }
        Outcome::TooManyAttempts(after) => Err(ApiError::TooManyAttempts(*after)),
        Outcome::MethodNotAllowed => Err(ApiError::MethodNotAllowed("GET, HEAD")),
        Outcome::Closed(closed) => closed_reply(*closed, cx),
    }
}

/// A visit that reached no live link: a fallback's redirect (a temporary one: the link
/// may come back), or the error that says why.
fn closed_reply(closed: Closed<'_>, cx: &Ctx) -> Result<Reply, ApiError> {
    Err(match closed {
        Closed::LinkFallback(url) | Closed::DomainFallback(url) => {
            return Ok(response::redirect(
                url,
                RedirectStatus::Found,
                cx.config.permanent_max_age,
            )?);
        }
        Closed::Gone(state) => ApiError::Gone(state),
        Closed::Blocked => ApiError::TargetBlocked,
        Closed::Missing => ApiError::NotFound,
    })
}

/// A visitor (a GET or HEAD outside the API and the admin pages) at a path that names
/// nothing: the domain's `not_found` fallback, as for a key no link has, else 404.
pub fn nowhere(cx: &Ctx) -> Result<Reply, ApiError> {
    closed_reply(
        outcome::missing(false, cx.config.domains.fallbacks(cx.domain())),
        cx,
    )
}

/// The redirect itself, with the cookies this visit set (password, A/B variant).
fn redirect_reply(redirect: &Redirect<'_>, key: &Key, cx: &Ctx) -> Result<Reply, ApiError> {
    let res = response::redirect(
        &redirect.location,
        redirect.status,
        cx.config.permanent_max_age,
    )?;
    if let Some(cookie) = redirect.password_cookie {
        response::set_cookie(&res, cookie)?;
    }
    if redirect.crawlable {
        response::crawlable(&res)?;
    }
    if let Some((index, seconds)) = redirect.variant {
        let name = variant_cookie(key);
        // HttpOnly and Secure: only this service reads it, and never in clear;
        // path-scoped to the link, so each link keeps its own.
        let cookie = format!(
            "{name}={index}; Max-Age={seconds}; Path=/{key}; HttpOnly; Secure; SameSite=Lax"
        );
        response::set_cookie(&res, &cookie)?;
    }
    Ok(res)
}

/// A link-preview bot's page: the link's own card, under the short URL.
fn card_page(card: &SocialCard, name: &LinkName, cx: &Ctx) -> Result<Reply, ApiError> {
    let short = cx.short_url(name);
    let page = pages::social_card(
        &short,
        card.title.as_deref(),
        card.description.as_deref(),
        card.image.as_deref(),
    );
    Ok(response::html(OK, page)?)
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

/// `GET /{key}+`: where the link goes, without following it or counting a click; a
/// page with a button to continue for browsers. A protected link's target is shown to
/// no one.
pub async fn peek(name: &LinkName, html: bool, cx: &Ctx) -> Result<Reply, ApiError> {
    let lookup = cx.rules().lookup(name, cx.now).await?;
    let target = match viewed(&lookup, name, cx).await? {
        Sight::Destination(url) => Some(url),
        Sight::Protected => None,
        Sight::Hidden(closed) => return closed_reply(closed, cx),
    };
    let key = &name.key;
    let short = cx.short_url(name);
    if html {
        let page = match target {
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

/// `GET /{key}/qr?size=N`: an SVG QR code of the link's QR URL (`/{key}/scan`), which
/// redirects as the short URL does. Counts nothing.
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
    let lookup = cx.rules().lookup(name, cx.now).await?;
    if let Sight::Hidden(closed) = viewed(&lookup, name, cx).await? {
        return closed_reply(closed, cx);
    }
    // The code names the marked URL, so a scan is told apart from a click.
    let url = format!("{}/scan", cx.short_url(name));
    let image = qr::svg(&url, size).map_err(|e| ApiError::Internal(format!("QR of {url}: {e}")))?;
    Ok(response::svg(image)?)
}
