//! The operator API (`/api/links...`): listing, bulk creation and export. Requests get
//! here only with the `ADMIN_TOKEN` bearer token (see `handlers::authorize`).

use futures_util::stream;
use serde_json::Value;
use worker::{Request, Response};

use super::links::{Draft, LinkView, Viewer, MAX_KEY_ATTEMPTS};
use super::Ctx;
use crate::domain::link_request::NewLink;
use crate::domain::secret::sha256_hex;
use crate::http::body::{self, MAX_BULK_BODY_BYTES};
use crate::http::error::ApiError;
use crate::http::response::{self, CREATED, OK};
use crate::storage::d1::{Cursor, LinkStore};

const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 100;
/// Items accepted in one bulk request.
pub const MAX_BULK_ITEMS: usize = 100;
/// Links read from D1 per query while exporting.
const EXPORT_PAGE: u32 = 500;

/// `GET /api/links?cursor=&limit=&q=`: newest first; `q` is a target host (exact).
pub async fn list(cx: &Ctx) -> Result<Response, ApiError> {
    let limit = match cx.query_param("limit") {
        None => DEFAULT_PAGE,
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                ApiError::BadRequest(format!("limit must be an integer from 1 to {MAX_PAGE}"))
            })?,
    };
    let cursor =
        match cx.query_param("cursor").filter(|c| !c.is_empty()) {
            None => None,
            Some(raw) => Some(Cursor::parse(&raw).ok_or_else(|| {
                ApiError::BadRequest("cursor is not one this API returned".into())
            })?),
        };
    let host = match cx.query_param("q").filter(|q| !q.trim().is_empty()) {
        None => None,
        // The same normalization as targets get: lower case, punycode, no trailing dot.
        Some(q) => Some(
            url::Url::parse(&format!("http://{}/", q.trim()))
                .ok()
                .and_then(|u| u.host_str().map(|h| h.trim_end_matches('.').to_string()))
                .ok_or_else(|| ApiError::BadRequest("q must be a host name".into()))?,
        ),
    };
    let page = LinkStore::from_env(&cx.env)?
        .list(cursor.as_ref(), limit, host.as_deref())
        .await?;
    let viewer = Viewer::of(cx);
    let links: Vec<LinkView> = page
        .links
        .iter()
        .map(|l| LinkView::new(l, None, &viewer))
        .collect();
    Ok(response::json(
        OK,
        &serde_json::json!({ "links": links, "next_cursor": page.next_cursor }),
    )?)
}

fn item_error(e: &ApiError) -> Value {
    serde_json::json!({ "status": e.status(), "detail": e.detail() })
}

/// `POST /api/links/bulk`: a JSON array of up to 100 creation bodies. Answers one result
/// per item, in order: `{"status": 201, "link": {...}}` or `{"status": 4xx, "detail"}`.
/// All valid items are inserted in one D1 batch; only items whose drawn key collided
/// go into another.
pub async fn bulk(req: &mut Request, cx: &Ctx) -> Result<Response, ApiError> {
    let body = body::read_json(req, MAX_BULK_BODY_BYTES).await?;
    let items = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(items)) => items,
        Ok(_) => {
            return Err(ApiError::Unprocessable(
                "request body must be a JSON array of link bodies".into(),
            ))
        }
        Err(e) => {
            return Err(ApiError::Unprocessable(format!(
                "request body is not valid JSON: {e}"
            )))
        }
    };
    if items.is_empty() || items.len() > MAX_BULK_ITEMS {
        return Err(ApiError::Unprocessable(format!(
            "a bulk request holds 1 to {MAX_BULK_ITEMS} items, got {}",
            items.len()
        )));
    }
    let own_hosts = cx.own_hosts();
    let policy = cx.target_policy(&own_hosts);
    let mut results: Vec<Value> = Vec::with_capacity(items.len());
    let mut pending: Vec<(usize, NewLink, String)> = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        match NewLink::from_value(item, &policy, cx.now) {
            Ok(new) if new.reuse => results.push(item_error(&ApiError::BadRequest(
                "reuse is not supported in bulk requests".into(),
            ))),
            Ok(new) => {
                let hash = sha256_hex(new.target.as_str());
                pending.push((i, new, hash));
                results.push(Value::Null);
            }
            Err(e) => results.push(item_error(&ApiError::from(e))),
        }
    }
    let store = LinkStore::from_env(&cx.env)?;
    let viewer = Viewer::of(cx);
    for _ in 0..MAX_KEY_ATTEMPTS {
        if pending.is_empty() {
            break;
        }
        let drafts = pending
            .iter()
            .map(|(_, new, _)| Draft::draw(new, cx.config.key_length))
            .collect::<Result<Vec<_>, _>>()?;
        let rows: Vec<_> = pending
            .iter()
            .zip(&drafts)
            .map(|((_, new, hash), draft)| draft.row(new, hash, cx.now))
            .collect();
        let inserted = store.insert_many(&rows).await?;
        let mut retry = Vec::new();
        for (((i, new, hash), draft), ok) in pending.into_iter().zip(&drafts).zip(inserted) {
            let slot = results.get_mut(i);
            let outcome = if ok {
                let link = draft.link(&new, cx.now);
                serde_json::json!({ "status": CREATED, "link": LinkView::new(&link, Some(&draft.secret), &viewer) })
            } else if new.custom_key.is_some() {
                item_error(&ApiError::KeyTaken(draft.key.as_str().to_string()))
            } else {
                retry.push((i, new, hash));
                continue;
            };
            if let Some(slot) = slot {
                *slot = outcome;
            }
        }
        pending = retry;
    }
    for (i, _, _) in pending {
        if let Some(slot) = results.get_mut(i) {
            *slot = item_error(&ApiError::KeySpaceExhausted);
        }
    }
    Ok(response::json(
        OK,
        &serde_json::json!({ "results": results }),
    )?)
}

/// `GET /api/links/export`: every link as JSON Lines, oldest first, streamed page by
/// page so the export of a large deployment never sits in memory. No secrets: only
/// their hashes are stored, and those are never exported.
pub fn export(cx: &Ctx) -> Result<Response, ApiError> {
    let store = LinkStore::from_env(&cx.env)?;
    let viewer = Viewer::of(cx);
    let pages = stream::try_unfold(Some((store, None::<Cursor>)), move |state| {
        let viewer = viewer.clone();
        async move {
            let Some((store, after)) = state else {
                return Ok(None);
            };
            let links = store
                .export_page(after.as_ref(), EXPORT_PAGE)
                .await
                .map_err(export_error)?;
            let mut chunk = Vec::new();
            for link in &links {
                serde_json::to_writer(&mut chunk, &LinkView::new(link, None, &viewer))?;
                chunk.push(b'\n');
            }
            let next = match links.last() {
                Some(last) if links.len() == EXPORT_PAGE as usize => Some((
                    store,
                    Some(Cursor {
                        created_at: last.created_at,
                        key: last.key.clone(),
                    }),
                )),
                _ => None,
            };
            Ok::<_, worker::Error>(Some((chunk, next)))
        }
    });
    Ok(response::json_lines(pages)?)
}

fn export_error(e: ApiError) -> worker::Error {
    worker::Error::RustError(e.detail())
}
