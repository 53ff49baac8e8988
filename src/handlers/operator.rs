//! The operator API (`/api/links...`): listing, bulk creation and export (import is
//! in `import.rs`).
//! Requests get here only with `ADMIN_TOKEN` or an API key whose role allows the route
//! (see `handlers::auth`); a creator key lists only the links it created.

use futures_util::stream;
use serde_json::Value;
use worker::Request;

use super::auth::Operator;
use super::batch::{item_error, items};
use super::context::Ctx;
use super::draft::{Draft, MAX_KEY_ATTEMPTS};
use super::password;
use super::present::{LinkView, Viewer};
use crate::domain::address::Domain;
use crate::domain::controls::normalize_tag;
use crate::domain::health::HealthState;
use crate::domain::link_request::{CreationCheck, NewLink};
use crate::domain::secret::sha256_hex;
use crate::http::body::{self, MAX_BULK_BODY_BYTES};
use crate::http::error::ApiError;
use crate::http::response::{self, Reply, CREATED, OK};
use crate::log::LogLine;
use crate::storage::links::{LinkStore, NewRow};
use crate::storage::listing::{Cursor, ListFilter};

const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 100;
/// Items accepted in one bulk request.
pub const MAX_BULK_ITEMS: usize = 100;
/// Links read from D1 per query while exporting.
const EXPORT_PAGE: u32 = 500;

/// `GET /api/links?cursor=&limit=&q=&tag=&search=&health=&domain=`: newest first; `q`
/// is a target host (exact), `tag` a tag (normalized like the tags of a link), `search`
/// words found in the title or the target, `health` a health state, `domain` the
/// domain the links live on (every domain by default; a key limited to some domains
/// sees only those).
pub async fn list(op: &Operator, cx: &Ctx) -> Result<Reply, ApiError> {
    let limit = cx.limit_param(DEFAULT_PAGE, MAX_PAGE)?;
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
            Some(format!("http://{}/", q.trim()))
                .and_then(|raw| {
                    url::Url::parse(&raw).ok().or_else(|| {
                        // Hosts needing Unicode mapping: the runtime maps them (see Cargo.toml).
                        url::Url::parse(&crate::whatwg::to_ascii(&raw)?).ok()
                    })
                })
                .and_then(|u| u.host_str().map(|h| h.trim_end_matches('.').to_string()))
                .ok_or_else(|| ApiError::BadRequest("q must be a host name".into()))?,
        ),
    };
    let tag = match cx.query_param("tag").filter(|t| !t.trim().is_empty()) {
        None => None,
        Some(raw) => Some(normalize_tag(&raw).map_err(ApiError::BadRequest)?),
    };
    let search = cx
        .query_param("search")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if search.as_ref().is_some_and(|s| s.chars().count() > 200) {
        return Err(ApiError::BadRequest(
            "search must be at most 200 characters".into(),
        ));
    }
    let health = match cx.query_param("health").filter(|h| !h.is_empty()) {
        None => None,
        Some(raw) => Some(HealthState::parse(&raw).ok_or_else(|| {
            ApiError::BadRequest(format!("health must be {}", HealthState::ALLOWED))
        })?),
    };
    let domain = match cx.query_param("domain").filter(|d| !d.is_empty()) {
        None => None,
        Some(name) => Some(op.chosen_domain(Some(&name), cx)?),
    };
    let filter = ListFilter {
        domain: domain.as_ref(),
        domains: op.domains(),
        host: host.as_deref(),
        tag: tag.as_deref(),
        search: search.as_deref(),
        health,
        created_by: op.scope(),
        ..ListFilter::default()
    };
    let page = cx.links()?.list(cursor.as_ref(), limit, &filter).await?;
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

/// `GET /api/domains`: every domain this instance serves (the primary first), with
/// its fallbacks and how many links it has; and any domain that still has links but is
/// no longer listed in `DOMAINS` (its links then answer on no host; see docs/teams.md).
/// A key limited to some domains sees only those.
pub async fn domains(op: &Operator, cx: &Ctx) -> Result<Reply, ApiError> {
    let counts = cx.links()?.domain_counts().await?;
    let domains = &cx.config.domains;
    let mut listed = domains.all();
    for (stored, _) in &counts {
        if let Ok(domain) = Domain::from_stored(stored) {
            if !listed.contains(&domain) {
                listed.push(domain);
            }
        }
    }
    let views: Vec<Value> = listed
        .iter()
        .filter(|d| op.actor().reaches(d.stored()))
        .map(|d| {
            let f = domains.fallbacks(d);
            let links = counts
                .iter()
                .find(|(stored, _)| stored == d.stored())
                .map_or(0, |(_, n)| *n);
            let served = domains.serves(d);
            serde_json::json!({
                "name": domains.name_of(d),
                "primary": d.is_primary(),
                "served": served,
                "url": cx.short_origin(d),
                "links": links,
                "fallbacks": if served { serde_json::json!({
                    "root": f.root,
                    "not_found": f.not_found,
                    "inactive": f.inactive,
                }) } else { Value::Null },
            })
        })
        .collect();
    Ok(response::json(
        OK,
        &serde_json::json!({ "domains": views }),
    )?)
}

/// `GET /api/tags`: every tag in use, most used first, with its links and their clicks.
pub async fn tags(op: &Operator, cx: &Ctx) -> Result<Reply, ApiError> {
    let totals = cx.links()?.tag_totals(op.domains()).await?;
    let tags: Vec<Value> = totals
        .iter()
        .map(|t| serde_json::json!({ "tag": t.tag, "links": t.links as i64, "clicks": t.clicks as i64 }))
        .collect();
    Ok(response::json(OK, &serde_json::json!({ "tags": tags }))?)
}

/// `POST /api/links/bulk`: a JSON array of up to 100 creation bodies. Answers one result
/// per item, in order: `{"status": 201, "link": {...}}` or `{"status": 4xx, "detail"}`.
/// All valid items are inserted in one D1 batch; only items whose drawn key collided
/// go into another.
pub async fn bulk(req: &mut Request, op: &Operator, cx: &Ctx) -> Result<Reply, ApiError> {
    let body = body::read_json(req, MAX_BULK_BODY_BYTES).await?;
    let items = items(&body, MAX_BULK_ITEMS, "a bulk request")?;
    let own_hosts = cx.own_hosts();
    let policy = cx.target_policy(&own_hosts);
    let mut results: Vec<Value> = Vec::with_capacity(items.len());
    let mut pending: Vec<(usize, NewLink, String, Domain)> = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        match NewLink::from_value(item, &policy, cx.now) {
            Ok(new) if new.reuse => results.push(item_error(&ApiError::BadRequest(
                "reuse is not supported in bulk requests".into(),
            ))),
            // A hundred checks would hold the request for minutes and spend the
            // outbound budget; the scheduled checks take new links first anyway.
            Ok(new) if new.check != CreationCheck::None => results.push(item_error(
                &ApiError::BadRequest("check is not supported in bulk requests".into()),
            )),
            Ok(mut new) => match op.chosen_domain(new.domain.as_deref(), cx) {
                Ok(domain) => {
                    password::hash_new(&mut new).await?;
                    let hash = sha256_hex(new.target.as_str());
                    pending.push((i, new, hash, domain));
                    results.push(Value::Null);
                }
                Err(e) => results.push(item_error(&e)),
            },
            Err(e) => results.push(item_error(&ApiError::from(e))),
        }
    }
    let store = cx.links()?;
    let viewer = Viewer::of(cx);
    // The audit record names each link made by its domain and key (`host/key`).
    let mut made: Vec<(usize, String)> = Vec::new();
    let mut made_domains: Vec<String> = Vec::new();
    for _ in 0..MAX_KEY_ATTEMPTS {
        if pending.is_empty() {
            break;
        }
        let drafts = pending
            .iter()
            .map(|(_, new, _, domain)| Draft::draw(new, domain, cx.config.key_length))
            .collect::<Result<Vec<_>, _>>()?;
        let rows: Vec<_> = pending
            .iter()
            .zip(&drafts)
            .map(|((_, new, hash, _), draft)| NewRow {
                created_by: Some(op.id()),
                ..draft.row(new, hash, cx.now)
            })
            .collect();
        let inserted = store.insert_many(&rows).await?;
        let mut retry = Vec::new();
        for (((i, new, hash, domain), draft), written) in
            pending.into_iter().zip(&drafts).zip(inserted)
        {
            let slot = results.get_mut(i);
            let outcome = if let Some(link) = written {
                made.push((i, draft.name.qualified().into_owned()));
                if !made_domains.iter().any(|d| d == domain.stored()) {
                    made_domains.push(domain.stored().to_string());
                }
                serde_json::json!({ "status": CREATED, "link": LinkView::new(&link, Some(&draft.secret), &viewer) })
            } else if new.custom_key.is_some() {
                item_error(&ApiError::KeyTaken(draft.key.as_str().to_string()))
            } else {
                retry.push((i, new, hash, domain));
                continue;
            };
            if let Some(slot) = slot {
                *slot = outcome;
            }
        }
        pending = retry;
    }
    for (i, _, _, _) in pending {
        if let Some(slot) = results.get_mut(i) {
            *slot = item_error(&ApiError::KeySpaceExhausted);
        }
    }
    if !made.is_empty() {
        // In the order of the request, as the results are.
        made.sort_by_key(|(i, _)| *i);
        let created: Vec<String> = made.into_iter().map(|(_, name)| name).collect();
        let detail =
            serde_json::json!({ "created": created, "refused": results.len() - created.len() });
        op.audit(cx, "links.create", None, Some(&made_domains), detail)
            .await;
    }
    Ok(response::json(
        OK,
        &serde_json::json!({ "results": results }),
    )?)
}

/// `GET /api/links/export`: every link as JSON Lines, oldest first, streamed page by
/// page so the export of a large deployment never sits in memory. No secrets: only
/// their hashes are stored, and those are never exported.
///
/// A stream that fails is never mistaken for a complete one: the last line of a
/// finished export is `{"export":"complete","links":N,"skipped":M}`, and it is absent
/// when the export broke off (the log names the cause). A row that cannot be read is
/// reported on a line of its own, `{"error":"unreadable link","key":...}`, logged
/// with its cause, and skipped; the export goes on.
pub fn export(op: &Operator, cx: &Ctx) -> Result<Reply, ApiError> {
    // `?domain=` exports one domain; a key limited to some domains exports only those.
    let only: Option<Vec<String>> = match cx.query_param("domain").filter(|d| !d.is_empty()) {
        Some(name) => Some(vec![op
            .chosen_domain(Some(&name), cx)?
            .stored()
            .to_string()]),
        None => op.domains().map(<[String]>::to_vec),
    };
    let store = cx.links()?;
    let viewer = Viewer::of(cx);
    let start = Export {
        only,
        store,
        after: None,
        written: 0,
        skipped: 0,
        done: false,
    };
    let pages = stream::try_unfold(start, move |state| {
        let viewer = viewer.clone();
        async move { state.next_chunk(&viewer).await }
    });
    Ok(response::json_lines(pages)?)
}

/// Where an export stands between two pages.
struct Export {
    /// The domains exported (as stored); `None`: all. Rows of others are read and
    /// passed over: the export pages through the whole table in one order either way.
    only: Option<Vec<String>>,
    store: LinkStore,
    after: Option<Cursor>,
    written: u64,
    skipped: u64,
    done: bool,
}

impl Export {
    /// The next page as JSON Lines (the completion line after the last page), or
    /// `None` once that line was sent.
    async fn next_chunk(
        mut self,
        viewer: &Viewer,
    ) -> Result<Option<(Vec<u8>, Export)>, worker::Error> {
        if self.done {
            return Ok(None);
        }
        let page = match self
            .store
            .export_page(self.after.as_ref(), EXPORT_PAGE)
            .await
        {
            Ok(page) => page,
            Err(e) => {
                LogLine::error("export")
                    .message("export stopped")
                    .count("links_written", self.written)
                    .count("links_skipped", self.skipped)
                    .cause(&e)
                    .emit();
                return Err(worker::Error::RustError(e.to_string()));
            }
        };
        let mut chunk = Vec::new();
        for row in &page.rows {
            match row {
                Ok(link)
                    if self
                        .only
                        .as_ref()
                        .is_some_and(|only| !only.iter().any(|d| d == link.domain.stored())) =>
                {
                    continue
                }
                Ok(link) => {
                    serde_json::to_writer(&mut chunk, &LinkView::new(link, None, viewer))?;
                    self.written += 1;
                }
                Err(bad) => {
                    LogLine::error("export")
                        .message("export skipped a link that does not parse")
                        .key(&bad.key)
                        .cause(&bad.error)
                        .emit();
                    serde_json::to_writer(
                        &mut chunk,
                        &serde_json::json!({ "error": "unreadable link", "key": bad.key }),
                    )?;
                    self.skipped += 1;
                }
            }
            chunk.push(b'\n');
        }
        match page.next {
            Some(next) => self.after = Some(next),
            None => {
                serde_json::to_writer(
                    &mut chunk,
                    &serde_json::json!({
                        "export": "complete",
                        "links": self.written,
                        "skipped": self.skipped,
                    }),
                )?;
                chunk.push(b'\n');
                self.done = true;
            }
        }
        Ok(Some((chunk, self)))
    }
}
