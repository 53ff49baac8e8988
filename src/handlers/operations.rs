//! The link operations as data: create, change, deactivate, statistics and raw visits,
//! each returning what it did rather than a reply. The native handlers render these
//! as the service's JSON; the adapters of other shorteners' APIs (`crate::compat`)
//! render the same results in their wire formats, so there is one implementation of
//! each operation, its limits and its audit records.

use worker::Request;

use super::auth::Operator;
use super::context::Ctx;
use super::draft::{Draft, MAX_KEY_ATTEMPTS};
use super::password;
use crate::clicks::analytics::RawVisit;
use crate::config::{CREATE_LIMITER_BINDING, RATE_LIMIT_RETRY_AFTER_SECONDS};
use crate::domain::address::LinkName;
use crate::domain::health::Verdict;
use crate::domain::key::Key;
use crate::domain::link::Link;
use crate::domain::link_request::{live_window, Change, CreationCheck, LinkPatch, NewLink};
use crate::domain::secret::{sha256_hex, SecretKey};
use crate::domain::stats::{Stats, Window, TOP};
use crate::http::error::ApiError;
use crate::log::LogLine;
use crate::storage::links::{LinkRef, NewRow, Updated};

/// What a creation came to.
pub enum Created {
    /// A new link, with its secret (shown once).
    Made { link: Box<Link>, secret: SecretKey },
    /// An existing shared link for the same target that redirects as asked (`reuse`).
    Reused(Box<Link>),
}

/// Creates one link from a validated request: on the domain it names (held to an
/// operator's key), checked first when asked, with a drawn key retried on collision.
/// An operator's link records them as its creator, and its creation is audited as a
/// bulk creation of one is.
pub async fn create(
    mut new: NewLink,
    operator: Option<&Operator>,
    cx: &Ctx,
) -> Result<Created, ApiError> {
    let domain = match operator {
        Some(op) => op.chosen_domain(new.domain.as_deref(), cx)?,
        None => cx.chosen_domain(new.domain.as_deref())?,
    };
    let own_hosts = cx.own_hosts();
    let checker = cx.checker(&own_hosts);
    // The target is checked before the insert, so "require" can refuse the link
    // without leaving a row behind.
    let seen = match new.check {
        CreationCheck::None => None,
        CreationCheck::Report | CreationCheck::Require => {
            Some(checker.observe(new.target.as_str()).await)
        }
    };
    if let Some(seen) = seen
        .as_ref()
        .filter(|_| new.check == CreationCheck::Require)
    {
        if matches!(seen.verdict(), Verdict::Failing | Verdict::Gone) {
            return Err(ApiError::BadRequest(format!(
                "target_url failed its check ({}); the link was not created",
                seen.reason()
            )));
        }
    }
    password::hash_new(&mut new).await?;
    let store = cx.links()?;
    let target_hash = sha256_hex(new.target.as_str());
    if new.reuse {
        match store.find_reusable(&domain, &target_hash).await? {
            Some(link) if behaves_as_asked(&link, &new, cx) => {
                return Ok(Created::Reused(Box::new(link)))
            }
            // The shared link of this target redirects otherwise: a link of one's own.
            Some(_) => new.reuse = false,
            None => {}
        }
    }
    let attempts = if new.custom_key.is_some() {
        1
    } else {
        MAX_KEY_ATTEMPTS
    };
    for _ in 0..attempts {
        let draft = Draft::draw(&new, &domain, cx.config.key_length)?;
        let row = NewRow {
            created_by: operator.map(Operator::id),
            ..draft.row(&new, &target_hash, cx.now)
        };
        if let Some(mut link) = store.insert(&row).await? {
            if let Some(seen) = &seen {
                let checked = checker.record(&store, &link, seen).await?;
                cx.notify(checked.notice);
                link = checked.link;
            }
            if let Some(op) = operator {
                let detail = serde_json::json!({
                    "created": [draft.name.qualified()],
                    "refused": 0,
                });
                let domains = [domain.stored().to_string()];
                op.audit(cx, "links.create", None, Some(&domains), detail)
                    .await;
            }
            return Ok(Created::Made {
                link: Box::new(link),
                secret: draft.secret,
            });
        }
        // Refused by a unique index: another shared link for this target won a race
        // (answer it, if it redirects as asked), or the key is taken (a custom key is
        // final; a drawn one is redrawn).
        if new.reuse {
            match store.find_reusable(&domain, &target_hash).await? {
                Some(link) if behaves_as_asked(&link, &new, cx) => {
                    return Ok(Created::Reused(Box::new(link)))
                }
                Some(_) => {
                    new.reuse = false;
                    continue;
                }
                None => {}
            }
        }
        if new.custom_key.is_some() {
            return Err(ApiError::KeyTaken(draft.key.as_str().to_string()));
        }
    }
    Err(ApiError::KeySpaceExhausted)
}

/// A shared link is handed out only when it redirects the way this caller asked: the
/// same effective status, the same query forwarding and the same dead-link mode.
/// (Shared links carry no expiry or click limit, so nothing else can differ.)
/// Otherwise the caller gets a link of its own, as without `reuse`.
fn behaves_as_asked(link: &Link, new: &NewLink, cx: &Ctx) -> bool {
    let default = cx.config.default_redirect;
    link.settings.redirect_status.unwrap_or(default)
        == new.settings.redirect_status.unwrap_or(default)
        && link.settings.forward_query == new.settings.forward_query
        && link.settings.dead_link_mode == new.settings.dead_link_mode
}

/// Limits creations per client IP with the Workers Rate Limiting binding, when it is
/// bound. The limiter is an abuse brake, not a source of truth: if it fails, the
/// request goes through and the failure is logged.
pub async fn rate_limit(client: String, cx: &Ctx) -> Result<(), ApiError> {
    let Ok(limiter) = cx.env.rate_limiter(CREATE_LIMITER_BINDING) else {
        return Ok(());
    };
    match limiter.limit(client).await {
        Ok(outcome) if !outcome.success => {
            Err(ApiError::RateLimited(RATE_LIMIT_RETRY_AFTER_SECONDS))
        }
        Ok(_) => Ok(()),
        Err(e) => {
            LogLine::error("rate_limit")
                .message("rate limiter failed, allowing the request")
                .cause(e)
                .emit();
            Ok(())
        }
    }
}

/// The client's address as Cloudflare reports it: the rate limiter's key.
pub fn client_ip(req: &Request) -> String {
    req.headers()
        .get("CF-Connecting-IP")
        .ok()
        .flatten()
        .unwrap_or_else(|| "unknown".into())
}

/// Applies a change in D1, then rewrites (or drops) the cached rule in the same
/// request, so the change takes effect at this location at once.
/// A renamed link's former keys are cached under their own names: they are dropped too,
/// and refilled, verified, on their next visit.
pub async fn change(link: &LinkRef<'_>, patch: &LinkPatch, cx: &Ctx) -> Result<Link, ApiError> {
    let store = cx.links()?;
    // The window the change leaves, with the link's other side of it: a link that
    // could never be live is refused as at creation.
    let window = (&patch.controls.valid_since, &patch.expires_at);
    if !matches!(window, (Change::Keep, Change::Keep)) {
        let current = store.find(link).await?.ok_or(ApiError::NotFound)?;
        live_window(
            window.0.applied_to(current.controls.routing.valid_since),
            window.1.applied_to(current.settings.expires_at),
        )?;
    }
    let updated = match store.update(link, patch, cx.now).await? {
        Updated::Link(link) => *link,
        Updated::Missing => return Err(ApiError::NotFound),
        Updated::KeyTaken => {
            let key = patch.rename.as_ref().map_or("", Key::as_str);
            return Err(ApiError::KeyTaken(key.to_string()));
        }
    };
    if updated.was_renamed() {
        for alias in store.aliases(&updated.name()).await? {
            if let Ok(alias) = Key::parse(&alias) {
                let alias = LinkName::new(updated.domain.clone(), alias);
                cx.rules().forget(&alias).await;
            }
        }
    }
    cx.rules().settle(&updated, cx.now).await;
    Ok(updated)
}

/// The audit record of an operator's change of `updated`, with the fields it sent
/// (`sent`, as decoded JSON; a password only as set or removed).
pub async fn audit_change(op: &Operator, updated: &Link, mut sent: serde_json::Value, cx: &Ctx) {
    // A password is never recorded, only that it was set or removed.
    if let Some(password) = sent.get_mut("password") {
        *password = if password.is_null() {
            "(removed)"
        } else {
            "(set)"
        }
        .into();
    }
    let domains = [updated.domain.stored().to_string()];
    op.audit(
        cx,
        "link.update",
        Some(&updated.name().qualified()),
        Some(&domains),
        sent,
    )
    .await;
}

/// Deactivates a link (a soft delete): D1 first, then the KV entry, so this location
/// stops redirecting before the answer is sent. An operator's deactivation is audited.
pub async fn deactivate(
    link: &LinkRef<'_>,
    operator: Option<&Operator>,
    cx: &Ctx,
) -> Result<Link, ApiError> {
    let patch = LinkPatch::only_active(false);
    let updated = change(link, &patch, cx).await?;
    // An owner's deactivation, through the secret, is not an operator write.
    if let Some(op) = operator {
        let domains = [updated.domain.stored().to_string()];
        op.audit(
            cx,
            "link.deactivate",
            Some(&updated.name().qualified()),
            Some(&domains),
            serde_json::json!({ "target_url": updated.target_url }),
        )
        .await;
    }
    Ok(updated)
}

/// A link's statistics, under its stats key: its exact counters from the links database and its daily
/// aggregates from its analytics shard, read at the same time.
pub async fn stats(key: &str, window: &Window, cx: &Ctx) -> Result<Stats, ApiError> {
    let links = cx.links()?;
    let shard = cx.analytics(key)?;
    let (totals, breakdown) =
        futures_util::future::try_join(links.totals(key), shard.breakdown(key, window, TOP))
            .await?;
    let totals = totals.ok_or(ApiError::NotFound)?;
    Ok(Stats::assemble(&totals, window, breakdown))
}

/// Up to `limit` of the raw visits kept of `link`, newest first, before `cursor`
/// (`(at ms, id)` of the last one seen). None when retention is off
/// (`VISIT_RETENTION_DAYS` 0, the default).
pub async fn recent_visits(
    link: &Link,
    cursor: Option<(i64, i64)>,
    limit: u32,
    cx: &Ctx,
) -> Result<Vec<RawVisit>, ApiError> {
    if cx.config.visit_retention_days == 0 {
        return Ok(Vec::new());
    }
    Ok(cx
        .analytics(link.stats_key())?
        .recent_visits(link.stats_key(), cursor, limit)
        .await?)
}
