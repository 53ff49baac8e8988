//! The operator API (`/api/links...`): listing, bulk creation, import and export.
//! Requests get here only with `ADMIN_TOKEN` or an API key whose role allows the route
//! (see `handlers::auth`); a creator key lists only the links it created.

use std::collections::HashSet;

use futures_util::stream;
use serde::Serialize;
use serde_json::Value;
use worker::{console_error, Request};

use super::context::Ctx;
use super::draft::{Draft, MAX_KEY_ATTEMPTS};
use super::password;
use super::present::{LinkView, Viewer};
use crate::domain::access::Actor;
use crate::domain::address::{Domain, LinkName};
use crate::domain::controls::normalize_tag;
use crate::domain::health::HealthState;
use crate::domain::import::{ImportedLink, OnConflict, MAX_IMPORT_ITEMS};
use crate::domain::link_request::{CreationCheck, NewLink};
use crate::domain::secret::{sha256_hex, SecretKey};
use crate::http::body::{self, MAX_BULK_BODY_BYTES, MAX_IMPORT_BODY_BYTES};
use crate::http::error::ApiError;
use crate::http::response::{self, Reply, CREATED, OK};
use crate::storage::import::{ImportRow, ImportWrite};
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
pub async fn list(cx: &Ctx) -> Result<Reply, ApiError> {
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
        Some(name) => Some(cx.chosen_domain(Some(&name))?),
    };
    let filter = ListFilter {
        domain: domain.as_ref(),
        domains: cx.operator_domains(),
        host: host.as_deref(),
        tag: tag.as_deref(),
        search: search.as_deref(),
        health,
        created_by: cx.operator_scope(),
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
pub async fn domains(cx: &Ctx) -> Result<Reply, ApiError> {
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
        .filter(|d| cx.operator().is_none_or(|a| a.reaches(d.stored())))
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
pub async fn tags(cx: &Ctx) -> Result<Reply, ApiError> {
    let totals = cx.links()?.tag_totals(cx.operator_domains()).await?;
    let tags: Vec<Value> = totals
        .iter()
        .map(|t| serde_json::json!({ "tag": t.tag, "links": t.links as i64, "clicks": t.clicks as i64 }))
        .collect();
    Ok(response::json(OK, &serde_json::json!({ "tags": tags }))?)
}

fn item_error(e: &ApiError) -> Value {
    serde_json::json!({ "status": e.status(), "detail": e.detail() })
}

/// A request body that must be a JSON array of 1 to `max` items.
fn items(body: &[u8], max: usize, what: &str) -> Result<Vec<Value>, ApiError> {
    let items = match serde_json::from_slice::<Value>(body) {
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
    if items.is_empty() || items.len() > max {
        return Err(ApiError::Unprocessable(format!(
            "{what} holds 1 to {max} items, got {}",
            items.len()
        )));
    }
    Ok(items)
}

/// `POST /api/links/bulk`: a JSON array of up to 100 creation bodies. Answers one result
/// per item, in order: `{"status": 201, "link": {...}}` or `{"status": 4xx, "detail"}`.
/// All valid items are inserted in one D1 batch; only items whose drawn key collided
/// go into another.
pub async fn bulk(req: &mut Request, cx: &Ctx) -> Result<Reply, ApiError> {
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
            Ok(mut new) => match cx.chosen_domain(new.domain.as_deref()) {
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
                created_by: cx.operator().map(Actor::id),
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
    let created: Vec<&Value> = results
        .iter()
        .filter_map(|r| r.get("link")?.get("key"))
        .collect();
    if !created.is_empty() {
        let detail =
            serde_json::json!({ "created": created, "refused": results.len() - created.len() });
        cx.audit("links.create", None, detail).await;
    }
    Ok(response::json(
        OK,
        &serde_json::json!({ "results": results }),
    )?)
}

/// One item's result in an import answer.
#[derive(Serialize)]
struct ImportResult<'a> {
    /// The stored key, or the item's `key` as sent when it was rejected.
    key: KeyOf<'a>,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum KeyOf<'a> {
    Stored(&'a str),
    /// The `key` of a rejected item if it was a string (it may be what was wrong).
    Sent(Option<&'a str>),
}

/// The answer to an import: a count per outcome and one result per item, in order.
#[derive(Serialize)]
struct ImportAnswer<'a> {
    dry_run: bool,
    created: usize,
    updated: usize,
    exists: usize,
    rejected: usize,
    results: Vec<ImportResult<'a>>,
}

/// `POST /api/links/import?on_conflict=skip|update&dry_run=true`: a JSON array of up to
/// 1,000 links from another shortener, each with its key and optionally its creation
/// date, historical clicks and settings. Every item is checked with the rules of
/// creation; the valid ones are written in one D1 batch, so a failed call wrote nothing
/// and can simply be sent again. Answers a count per outcome and one result per item,
/// in order: `created` (with the link's new secret), `updated`, `exists` (the key was
/// taken and left alone) or `rejected` (with the status and reason). A dry run answers
/// the same without writing, and draws no secrets.
pub async fn import(req: &mut Request, cx: &Ctx) -> Result<Reply, ApiError> {
    let on_conflict = OnConflict::parse(cx.query_param("on_conflict").as_deref())
        .ok_or_else(|| ApiError::BadRequest("on_conflict must be skip or update".into()))?;
    let dry_run = match cx.query_param("dry_run").as_deref() {
        None | Some("" | "false" | "0") => false,
        Some("true" | "1") => true,
        Some(_) => return Err(ApiError::BadRequest("dry_run must be true or false".into())),
    };
    // Every link of one call goes to one domain (`?domain=`, else this request's).
    let domain = cx.chosen_domain(cx.query_param("domain").as_deref())?;
    let body = body::read_json(req, MAX_IMPORT_BODY_BYTES).await?;
    let items = items(&body, MAX_IMPORT_ITEMS, "an import")?;
    let own_hosts = cx.own_hosts();
    let policy = cx.target_policy(&own_hosts);
    // Each item is either valid (its link) or refused (the key it was sent with, why).
    let mut parsed: Vec<Result<ImportedLink, (Option<String>, ApiError)>> =
        Vec::with_capacity(items.len());
    let mut seen: HashSet<String> = HashSet::with_capacity(items.len());
    for item in items {
        let sent_key = item.get("key").and_then(Value::as_str).map(str::to_string);
        parsed.push(match ImportedLink::from_value(item, &policy, cx.now) {
            // Keys are case-insensitive: `Abc` and `abc` are one link here, however the
            // source told them apart; the later item is refused rather than merged.
            Ok(link) if !seen.insert(link.key.as_str().to_string()) => Err((
                sent_key,
                ApiError::Unprocessable(format!(
                    "key '{}' appears more than once in this import",
                    link.key
                )),
            )),
            Ok(link) => Ok(link),
            Err(e) => Err((sent_key, ApiError::from(e))),
        });
    }
    let valid: Vec<&ImportedLink> = parsed.iter().filter_map(|p| p.as_ref().ok()).collect();
    let store = cx.links()?;
    let (writes, secrets) = if dry_run {
        let keys: Vec<&str> = valid.iter().map(|l| l.key.as_str()).collect();
        let taken: HashSet<String> = store
            .existing_keys(&domain, &keys)
            .await?
            .into_iter()
            .collect();
        let writes = valid
            .iter()
            .map(|l| match (taken.contains(l.key.as_str()), on_conflict) {
                (false, _) => ImportWrite::Created,
                (true, OnConflict::Update) => ImportWrite::Updated,
                (true, OnConflict::Skip) => ImportWrite::Exists,
            })
            .collect();
        (writes, Vec::new())
    } else {
        let secrets = valid
            .iter()
            .map(|l| SecretKey::generate(&l.key))
            .collect::<Result<Vec<_>, _>>()?;
        let rows: Vec<ImportRow> = valid
            .iter()
            .zip(&secrets)
            .map(|(link, secret)| ImportRow {
                link,
                target_hash: sha256_hex(link.target.as_str()),
                secret_hash: secret.hash(),
            })
            .collect();
        let by = cx.operator().map(Actor::id);
        let writes = store
            .import(&domain, &rows, on_conflict, cx.now, by)
            .await?;
        // A link changed in place may be cached with its old rule: drop it from the
        // caches before answering, as a PATCH does.
        for (link, write) in valid.iter().zip(&writes) {
            if *write == ImportWrite::Updated {
                let name = LinkName::new(domain.clone(), link.key.clone());
                cx.rules().evict(&name).await;
            }
        }
        (writes, secrets)
    };
    let mut written = valid.iter().zip(&writes).enumerate();
    let mut answer = ImportAnswer {
        dry_run,
        created: 0,
        updated: 0,
        exists: 0,
        rejected: 0,
        results: Vec::with_capacity(parsed.len()),
    };
    for item in &parsed {
        let write = if item.is_ok() { written.next() } else { None };
        let result = match (item, write) {
            (Ok(_), Some((n, (link, write)))) => {
                let key = KeyOf::Stored(link.key.as_str());
                match write {
                    ImportWrite::Created => {
                        answer.created += 1;
                        ImportResult {
                            key,
                            outcome: "created",
                            secret_key: secrets.get(n).map(SecretKey::as_str),
                            status: None,
                            detail: None,
                        }
                    }
                    ImportWrite::Updated => {
                        answer.updated += 1;
                        ImportResult {
                            key,
                            outcome: "updated",
                            secret_key: None,
                            status: None,
                            detail: None,
                        }
                    }
                    ImportWrite::Exists => {
                        answer.exists += 1;
                        let taken = ApiError::KeyTaken(link.key.as_str().to_string());
                        ImportResult {
                            key,
                            outcome: "exists",
                            secret_key: None,
                            status: Some(taken.status()),
                            detail: Some(format!(
                                "key '{}' exists and was left as it is (on_conflict=update replaces it)",
                                link.key
                            )),
                        }
                    }
                }
            }
            (Err((sent, e)), _) => {
                answer.rejected += 1;
                ImportResult {
                    key: KeyOf::Sent(sent.as_deref()),
                    outcome: "rejected",
                    secret_key: None,
                    status: Some(e.status()),
                    detail: Some(e.detail()),
                }
            }
            // A valid item always has its write: storage answers one per row.
            (Ok(_), None) => {
                return Err(ApiError::Internal(
                    "import: fewer results than rows written".into(),
                ))
            }
        };
        answer.results.push(result);
    }
    if !dry_run && answer.created + answer.updated > 0 {
        let detail = serde_json::json!({
            "created": answer.created,
            "updated": answer.updated,
            "exists": answer.exists,
            "rejected": answer.rejected,
            "on_conflict": if on_conflict == OnConflict::Update { "update" } else { "skip" },
        });
        cx.audit("links.import", None, detail).await;
    }
    Ok(response::json(OK, &answer)?)
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
pub fn export(cx: &Ctx) -> Result<Reply, ApiError> {
    // `?domain=` exports one domain; a key limited to some domains exports only those.
    let only: Option<Vec<String>> = match cx.query_param("domain").filter(|d| !d.is_empty()) {
        Some(name) => Some(vec![cx.chosen_domain(Some(&name))?.stored().to_string()]),
        None => cx.operator_domains().map(<[String]>::to_vec),
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
                console_error!(
                    "export stopped after {} links: {e}",
                    self.written + self.skipped
                );
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
                    console_error!("export skipped the link {:?}: {}", bad.key, bad.error);
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
