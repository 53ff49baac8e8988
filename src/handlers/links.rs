//! Creating links, and the endpoints that show and change one: the owner's (found by
//! the hash of the secret) and the operator's (found by key) share these handlers.

use serde::Serialize;
use worker::{console_error, Request, Response};

use super::redirect::fill_checked;
use super::Ctx;
use crate::config::{CREATE_LIMITER_BINDING, RATE_LIMIT_RETRY_AFTER_SECONDS};
use crate::domain::key::Key;
use crate::domain::link::{Link, LinkState, RedirectRule, RedirectStatus};
use crate::domain::link_request::{Change, LinkPatch, NewLink};
use crate::domain::secret::{sha256_hex, SecretHash, SecretKey};
use crate::domain::stats::Window;
use crate::domain::timestamp::Timestamp;
use crate::http::body::{self, MAX_BODY_BYTES};
use crate::http::error::ApiError;
use crate::http::response::{self, CREATED, OK};
use crate::storage::cache::LinkCache;
use crate::storage::d1::{LinkRef, LinkStore, NewRow};
use crate::web::pages::{self, AdminContext};

/// Fresh keys tried before giving up with 503. At 8 symbols a single collision is already
/// improbable; five in a row means the key space is effectively full.
pub const MAX_KEY_ATTEMPTS: usize = 5;

/// A link as its owner (with `secret`) or the operator (without) sees it.
#[derive(Serialize)]
pub struct LinkView<'a> {
    key: &'a str,
    target_url: &'a str,
    is_active: bool,
    state: &'static str,
    clicks: i64,
    url: String,
    tiny_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    admin_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_key: Option<&'a str>,
    created_at: String,
    expires_at: Option<String>,
    max_clicks: Option<i64>,
    redirect_status: u16,
    forward_query: bool,
}

/// What rendering a [`LinkView`] needs from the request; owned, so a response stream
/// can keep it after the handler returns.
#[derive(Clone)]
pub struct Viewer {
    pub origin: String,
    pub default_redirect: RedirectStatus,
    pub now: Timestamp,
}

impl Viewer {
    pub fn of(cx: &Ctx) -> Viewer {
        Viewer {
            origin: cx.origin().to_string(),
            default_redirect: cx.config.default_redirect,
            now: cx.now,
        }
    }
}

impl<'a> LinkView<'a> {
    pub fn new(link: &'a Link, secret: Option<&'a SecretKey>, cx: &Viewer) -> LinkView<'a> {
        let url = format!("{}/{}", cx.origin, link.key);
        LinkView {
            key: &link.key,
            target_url: &link.target_url,
            is_active: link.is_active,
            state: match link.state(cx.now) {
                LinkState::Active => "active",
                LinkState::Deactivated => "deactivated",
                LinkState::Expired => "expired",
                LinkState::Exhausted => "exhausted",
            },
            clicks: link.clicks,
            tiny_url: url.clone(),
            url,
            admin_url: secret.map(|s| format!("{}/admin/{}", cx.origin, s.as_str())),
            secret_key: secret.map(SecretKey::as_str),
            created_at: link.created_at.to_rfc3339(),
            expires_at: link.expires_at.map(Timestamp::to_rfc3339),
            max_clicks: link.max_clicks,
            redirect_status: link.redirect_status.unwrap_or(cx.default_redirect).code(),
            forward_query: link.forward_query,
        }
    }
}

/// The parts of a new row drawn for one attempt: a key and its secret.
pub struct Draft {
    pub key: Key,
    pub secret: SecretKey,
    pub secret_hash: SecretHash,
}

impl Draft {
    /// Draws a key (unless the creator chose one) and a secret for it.
    pub fn draw(new: &NewLink, key_length: usize) -> Result<Draft, ApiError> {
        let key = match &new.custom_key {
            Some(custom) => custom.clone(),
            None => Key::generate(key_length)?,
        };
        let secret = SecretKey::generate(&key)?;
        let secret_hash = secret.hash();
        Ok(Draft {
            key,
            secret,
            secret_hash,
        })
    }

    pub fn row<'a>(&'a self, new: &'a NewLink, target_hash: &'a str, now: Timestamp) -> NewRow<'a> {
        NewRow {
            key: &self.key,
            target_url: new.target.as_str(),
            target_host: new.target.host(),
            target_hash,
            secret_hash: &self.secret_hash,
            expires_at: new.expires_at,
            max_clicks: new.max_clicks,
            redirect_status: new.redirect_status,
            forward_query: new.forward_query,
            reuse: new.reuse,
            now,
        }
    }

    /// The link as it was inserted.
    pub fn link(&self, new: &NewLink, now: Timestamp) -> Link {
        Link {
            key: self.key.as_str().to_string(),
            target_url: new.target.as_str().to_string(),
            is_active: true,
            clicks: 0,
            created_at: now,
            expires_at: new.expires_at,
            max_clicks: new.max_clicks,
            redirect_status: new.redirect_status,
            forward_query: new.forward_query,
            version: 1,
        }
    }
}

/// The answer to a `reuse` request: public fields only, never the creator's secret.
fn reused(link: &Link, cx: &Ctx) -> Result<Response, ApiError> {
    let url = format!("{}/{}", cx.origin(), link.key);
    let body = serde_json::json!({
        "key": link.key,
        "url": url,
        "tiny_url": url,
        "target_url": link.target_url,
    });
    Ok(response::json(OK, &body)?)
}

/// `POST /url`: validates the body, inserts the row (the unique index on `key` decides
/// collisions) and answers `201` with the secret, which is never shown again. With
/// `"reuse": true`, an existing shared link for the same target is answered with `200`.
pub async fn create(req: &mut Request, cx: &Ctx) -> Result<Response, ApiError> {
    rate_limit(req, cx).await?;
    let body = body::read_json(req, MAX_BODY_BYTES).await?;
    let own_hosts = cx.own_hosts();
    let new = NewLink::from_json(&body, &cx.target_policy(&own_hosts), cx.now)?;
    let store = LinkStore::from_env(&cx.env)?;
    let target_hash = sha256_hex(new.target.as_str());
    if new.reuse {
        if let Some(link) = store.find_reusable(&target_hash).await? {
            return reused(&link, cx);
        }
    }
    let attempts = if new.custom_key.is_some() {
        1
    } else {
        MAX_KEY_ATTEMPTS
    };
    for _ in 0..attempts {
        let draft = Draft::draw(&new, cx.config.key_length)?;
        if store.insert(&draft.row(&new, &target_hash, cx.now)).await? {
            let link = draft.link(&new, cx.now);
            return Ok(response::json(
                CREATED,
                &LinkView::new(&link, Some(&draft.secret), &Viewer::of(cx)),
            )?);
        }
        // Refused by a unique index: another shared link for this target won a race
        // (answer it), or the key is taken (a custom key is final; a drawn one is redrawn).
        if new.reuse {
            if let Some(link) = store.find_reusable(&target_hash).await? {
                return reused(&link, cx);
            }
        }
        if new.custom_key.is_some() {
            return Err(ApiError::KeyTaken(draft.key.as_str().to_string()));
        }
    }
    Err(ApiError::KeySpaceExhausted)
}

/// Limits creations per client IP with the Workers Rate Limiting binding, when it is
/// bound. The limiter is an abuse brake, not a source of truth: if it fails, the
/// request goes through and the failure is logged.
async fn rate_limit(req: &Request, cx: &Ctx) -> Result<(), ApiError> {
    let Ok(limiter) = cx.env.rate_limiter(CREATE_LIMITER_BINDING) else {
        return Ok(());
    };
    let client = req
        .headers()
        .get("CF-Connecting-IP")
        .ok()
        .flatten()
        .unwrap_or_else(|| "unknown".into());
    match limiter.limit(client).await {
        Ok(outcome) if !outcome.success => {
            Err(ApiError::RateLimited(RATE_LIMIT_RETRY_AFTER_SECONDS))
        }
        Ok(_) => Ok(()),
        Err(e) => {
            console_error!("rate limiter failed, allowing the request: {e}");
            Ok(())
        }
    }
}

/// `GET /admin/{secret_key}` and `GET /api/links/{key}`: the link with its state.
pub async fn show(
    link: &LinkRef<'_>,
    secret: Option<&SecretKey>,
    cx: &Ctx,
) -> Result<Response, ApiError> {
    let found = LinkStore::from_env(&cx.env)?
        .find(link)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(response::json(
        OK,
        &LinkView::new(&found, secret, &Viewer::of(cx)),
    )?)
}

/// `GET /admin/{secret_key}` for browsers: the link, its last 30 days, and the controls.
pub async fn admin_page(secret: &SecretKey, cx: &Ctx) -> Result<Response, ApiError> {
    let store = LinkStore::from_env(&cx.env)?;
    let link = store
        .find(&LinkRef::Secret(&secret.hash()))
        .await?
        .ok_or(ApiError::NotFound)?;
    let key = Key::parse(&link.key).map_err(|e| ApiError::Internal(format!("stored key: {e}")))?;
    let window = Window::parse(None, cx.now)?;
    let stats = store.stats(&key, &window).await?;
    let view = LinkView::new(&link, Some(secret), &Viewer::of(cx));
    let page = pages::admin(
        &link,
        &stats,
        &AdminContext {
            short_url: &view.url,
            state: view.state,
            redirect_status: view.redirect_status,
        },
    );
    Ok(response::html(OK, page)?)
}

/// Applies a change in D1, then rewrites (or drops) the KV entry in the same request,
/// so the change takes effect at this location at once.
async fn apply(link: &LinkRef<'_>, patch: &LinkPatch, cx: &Ctx) -> Result<Link, ApiError> {
    let store = LinkStore::from_env(&cx.env)?;
    let updated = store
        .update(link, patch, cx.now)
        .await?
        .ok_or(ApiError::NotFound)?;
    let key =
        Key::parse(&updated.key).map_err(|e| ApiError::Internal(format!("stored key: {e}")))?;
    let cache = LinkCache::from_env(&cx.env);
    if updated.state(cx.now) == LinkState::Active {
        fill_checked(&cache, &store, &key, &RedirectRule::of(&updated), cx.now).await;
    } else {
        cache.evict(&key).await;
    }
    Ok(updated)
}

/// `PATCH /admin/{secret_key}` and `PATCH /api/links/{key}`.
pub async fn patch(
    req: &mut Request,
    link: &LinkRef<'_>,
    secret: Option<&SecretKey>,
    cx: &Ctx,
) -> Result<Response, ApiError> {
    let body = body::read_json(req, MAX_BODY_BYTES).await?;
    let own_hosts = cx.own_hosts();
    let patch = LinkPatch::from_json(&body, &cx.target_policy(&own_hosts), cx.now)?;
    let updated = apply(link, &patch, cx).await?;
    Ok(response::json(
        OK,
        &LinkView::new(&updated, secret, &Viewer::of(cx)),
    )?)
}

/// `DELETE /admin/{secret_key}` and `DELETE /api/links/{key}`: a soft delete. D1 first,
/// then the KV entry, so this location stops redirecting before the answer is sent.
pub async fn deactivate(link: &LinkRef<'_>, cx: &Ctx) -> Result<Response, ApiError> {
    let patch = LinkPatch {
        target: None,
        is_active: Some(false),
        expires_at: Change::Keep,
        max_clicks: Change::Keep,
        redirect_status: Change::Keep,
        forward_query: None,
    };
    let updated = apply(link, &patch, cx).await?;
    let detail = format!(
        "Successfully deleted shortened URL for '{}'",
        updated.target_url
    );
    Ok(response::json(
        OK,
        &serde_json::json!({ "detail": detail }),
    )?)
}

/// `GET /admin/{secret_key}/stats?days=N`.
pub async fn stats(link: &LinkRef<'_>, cx: &Ctx) -> Result<Response, ApiError> {
    let window = Window::parse(cx.query_param("days").as_deref(), cx.now)?;
    let store = LinkStore::from_env(&cx.env)?;
    let found = store.find(link).await?.ok_or(ApiError::NotFound)?;
    let key = Key::parse(&found.key).map_err(|e| ApiError::Internal(format!("stored key: {e}")))?;
    Ok(response::json(OK, &store.stats(&key, &window).await?)?)
}
