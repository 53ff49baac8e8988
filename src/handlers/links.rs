//! Creating links and the owner's admin endpoints (found by the hash of the secret).

use serde::Serialize;
use worker::{Date, Request, Response};

use super::Ctx;
use crate::domain::key::{Key, GENERATED_LEN};
use crate::domain::link::Link;
use crate::domain::new_link::NewLink;
use crate::domain::secret::SecretKey;
use crate::domain::timestamp::Timestamp;
use crate::http::body;
use crate::http::error::ApiError;
use crate::http::response::{self, CREATED, OK};
use crate::storage::cache::LinkCache;
use crate::storage::d1::{LinkStore, NewRow};

/// Fresh keys tried before giving up with 503. At 8 symbols a single collision is already
/// improbable; five in a row means the key space is effectively full.
const MAX_KEY_ATTEMPTS: usize = 5;

/// A link as its owner sees it: the creation answer and the admin answer.
#[derive(Serialize)]
struct LinkView<'a> {
    key: &'a str,
    target_url: &'a str,
    is_active: bool,
    clicks: i64,
    url: String,
    tiny_url: String,
    admin_url: String,
    secret_key: &'a str,
    created_at: String,
}

impl<'a> LinkView<'a> {
    fn new(link: &'a Link, secret: &'a SecretKey, origin: &str) -> LinkView<'a> {
        let url = format!("{origin}/{}", link.key);
        LinkView {
            key: &link.key,
            target_url: &link.target_url,
            is_active: link.is_active,
            clicks: link.clicks,
            tiny_url: url.clone(),
            url,
            admin_url: format!("{origin}/admin/{}", secret.as_str()),
            secret_key: secret.as_str(),
            created_at: link.created_at.to_rfc3339(),
        }
    }
}

fn now() -> Timestamp {
    // Date::now() is whole milliseconds, so the cast loses nothing.
    Timestamp::from_millis(Date::now().as_millis() as i64)
}

/// `POST /url`: validates the body, inserts the row (the unique index on `key` decides
/// collisions) and answers `201` with the secret, which is never shown again.
pub async fn create(req: &mut Request, cx: &Ctx) -> Result<Response, ApiError> {
    let body = body::read_json(req).await?;
    let new = NewLink::from_json(&body, &cx.own_hosts())?;
    let store = LinkStore::from_env(&cx.env)?;
    let now = now();
    let attempts = if new.custom_key.is_some() {
        1
    } else {
        MAX_KEY_ATTEMPTS
    };
    for _ in 0..attempts {
        let key = match &new.custom_key {
            Some(custom) => custom.clone(),
            None => Key::generate(GENERATED_LEN)?,
        };
        let secret = SecretKey::generate(&key)?;
        let row = NewRow {
            key: &key,
            target_url: new.target.as_str(),
            secret_hash: &secret.hash(),
            now,
        };
        if store.insert(&row).await? {
            let link = Link {
                key: key.as_str().to_string(),
                target_url: new.target.as_str().to_string(),
                is_active: true,
                clicks: 0,
                created_at: now,
            };
            return Ok(response::json(
                CREATED,
                &LinkView::new(&link, &secret, &cx.origin),
            )?);
        }
        if new.custom_key.is_some() {
            return Err(ApiError::KeyTaken(key.as_str().to_string()));
        }
    }
    Err(ApiError::KeySpaceExhausted)
}

/// `GET /admin/{secret_key}`: the link with its current state and clicks.
pub async fn show(secret: &SecretKey, cx: &Ctx) -> Result<Response, ApiError> {
    let link = LinkStore::from_env(&cx.env)?
        .find_by_secret(&secret.hash())
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(response::json(
        OK,
        &LinkView::new(&link, secret, &cx.origin),
    )?)
}

/// `DELETE /admin/{secret_key}`: deactivates in D1 first, then evicts the KV entry, so
/// this location stops redirecting before the answer is sent.
pub async fn deactivate(secret: &SecretKey, cx: &Ctx) -> Result<Response, ApiError> {
    let link = LinkStore::from_env(&cx.env)?
        .deactivate(&secret.hash(), now())
        .await?
        .ok_or(ApiError::NotFound)?;
    if let Ok(key) = Key::parse(&link.key) {
        LinkCache::from_env(&cx.env).evict(&key).await;
    }
    let detail = format!(
        "Successfully deleted shortened URL for '{}'",
        link.target_url
    );
    Ok(response::json(
        OK,
        &serde_json::json!({ "detail": detail }),
    )?)
}
