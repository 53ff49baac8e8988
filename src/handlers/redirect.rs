//! The hot path: forwarding visitors, and peeking at where a link goes.

use worker::{console_error, Response};

use super::Ctx;
use crate::domain::key::Key;
use crate::http::error::ApiError;
use crate::http::response::{self, OK};
use crate::storage::cache::LinkCache;
use crate::storage::d1::LinkStore;

/// Where an active link points, and whether the answer came from KV.
struct Resolved {
    target: String,
    cached: bool,
}

/// Reads through the cache: KV first, D1 on a miss. Only active links are cached, so a
/// hit needs no further check; a miss learns from D1 whether the link exists and is live.
async fn resolve(key: &Key, cache: &LinkCache, cx: &Ctx) -> Result<Resolved, ApiError> {
    if let Some(target) = cache.target(key).await {
        return Ok(Resolved {
            target,
            cached: true,
        });
    }
    let link = LinkStore::from_env(&cx.env)?
        .find_by_key(key)
        .await?
        .ok_or(ApiError::NotFound)?;
    if !link.is_active {
        return Err(ApiError::Gone);
    }
    Ok(Resolved {
        target: link.target_url,
        cached: false,
    })
}

/// `GET|HEAD /{key}`: a 302 to the target. The click and any cache fill happen after the
/// response is returned, so the visitor never waits for a write.
pub async fn redirect(key: Key, count_click: bool, cx: Ctx) -> Result<Response, ApiError> {
    let cache = LinkCache::from_env(&cx.env);
    let resolved = resolve(&key, &cache, &cx).await?;
    let res = response::redirect(&resolved.target)?;
    if count_click || !resolved.cached {
        let env = cx.env.clone();
        cx.ctx.wait_until(async move {
            let store = match LinkStore::from_env(&env) {
                Ok(store) => store,
                Err(e) => return console_error!("after redirect of key {key}: {e:?}"),
            };
            if count_click {
                if let Err(e) = store.record_click(&key).await {
                    console_error!("click for key {key} was not recorded: {e:?}");
                }
            }
            if !resolved.cached {
                fill_checked(&cache, &store, &key, &resolved.target).await;
            }
        });
    }
    Ok(res)
}

/// Caches a target read from D1, then reads D1 again: a deactivation or edit that landed
/// between the first read and the KV write would otherwise be undone by this fill, and
/// the old target would redirect again until the entry expired.
async fn fill_checked(cache: &LinkCache, store: &LinkStore, key: &Key, target: &str) {
    cache.fill(key, target).await;
    match store.find_by_key(key).await {
        Ok(Some(link)) if link.is_active && link.target_url == target => {}
        Ok(_) => cache.evict(key).await,
        Err(e) => {
            console_error!("re-check after cache fill of key {key} failed: {e:?}");
            cache.evict(key).await;
        }
    }
}

/// `GET /{key}+`: where the link goes, without following it or counting a click.
pub async fn peek(key: &Key, cx: &Ctx) -> Result<Response, ApiError> {
    let cache = LinkCache::from_env(&cx.env);
    let resolved = resolve(key, &cache, cx).await?;
    let body = serde_json::json!({
        "key": key.as_str(),
        "url": format!("{}/{key}", cx.origin),
        "target_url": resolved.target,
    });
    Ok(response::json(OK, &body)?)
}
