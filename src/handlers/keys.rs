//! The team's side of the operator API: named API keys (`/api/keys`) and the audit log
//! of every operator write (`/api/audit`). Only admins get here (`handlers::auth`).

use futures_util::stream;
use serde_json::{json, Value};
use worker::Request;

use super::auth::Operator;
use super::context::Ctx;
use crate::domain::access::{ApiKey, ApiToken, NewApiKey};
use crate::domain::address::Domain;
use crate::domain::domains::Domains;
use crate::http::body::{self, MAX_BODY_BYTES};
use crate::http::error::ApiError;
use crate::http::response::{self, Reply, CREATED, OK};
use crate::storage::audit::{AuditEntry, AuditStore};
use crate::storage::error::StorageError;
use crate::storage::keys::KeyStore;

const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 500;
/// Audit records read from D1 per query while exporting.
const EXPORT_PAGE: u32 = 500;

/// A key as the API shows it: never its token or the token's hash.
fn view(key: &ApiKey, cx: &Ctx) -> Value {
    let time = |t: Option<crate::domain::timestamp::Timestamp>| t.map(|t| t.to_rfc3339());
    json!({
        "id": key.id,
        "name": key.name,
        "role": key.role.as_str(),
        "state": key.state(cx.now).as_str(),
        "created_at": key.created_at.to_rfc3339(),
        "created_by": key.created_by,
        "expires_at": time(key.expires_at),
        "revoked_at": time(key.revoked_at),
        "last_used_at": time(key.last_used_at),
        "domains": key.domains.as_deref().map(|list| names(list, &cx.config.domains)),
    })
}

/// `GET /api/me`: who the caller is, for the dashboard to greet them and offer what
/// their role allows. `email` only for a person signed in through Cloudflare Access.
pub fn me(op: &Operator, cx: &Ctx) -> Result<Reply, ApiError> {
    let actor = op.actor();
    let kind = actor.kind();
    Ok(response::json(
        OK,
        &json!({
            "id": actor.id(),
            "kind": kind,
            "email": (kind == "person").then(|| actor.id()),
            "role": actor.role().as_str(),
            "domains": actor.domains().map(|list| names(list, &cx.config.domains)),
        }),
    )?)
}

/// Stored domains ('' for the primary) by the names the API shows.
fn names(stored: &[String], domains: &Domains) -> Vec<String> {
    stored
        .iter()
        .map(|stored| match Domain::from_stored(stored) {
            Ok(d) => domains.name_of(&d).to_string(),
            Err(_) => stored.clone(),
        })
        .collect()
}

/// The domains a new key is limited to, as stored: each name must be a domain this
/// instance serves, and a creator who is itself limited may only hand out a share of
/// its own domains (never an unlimited key).
fn key_domains(new: &NewApiKey, op: &Operator, cx: &Ctx) -> Result<Option<Vec<String>>, ApiError> {
    let resolved = match &new.domains {
        None => None,
        Some(names) => {
            let mut stored: Vec<String> = Vec::with_capacity(names.len());
            for name in names {
                let domain = cx.config.domains.named(name, cx.hostname())?;
                if !stored.iter().any(|s| s == domain.stored()) {
                    stored.push(domain.stored().to_string());
                }
            }
            Some(stored)
        }
    };
    if !op.may_manage(resolved.as_deref()) {
        return Err(ApiError::BadRequest(
            "this API key is limited to some domains: a key it creates must be limited to some of them (domains)".into(),
        ));
    }
    Ok(resolved)
}

/// The key with this id, if this operator may manage it: an admin limited to some
/// domains manages only keys within them; the others it neither lists, reads nor
/// revokes (they are answered as missing).
async fn managed(id: &str, op: &Operator, cx: &Ctx) -> Result<ApiKey, ApiError> {
    store(cx)?
        .by_id(id)
        .await?
        .filter(|key| op.may_manage(key.domains.as_deref()))
        .ok_or(ApiError::NotFound)
}

fn store(cx: &Ctx) -> Result<KeyStore, StorageError> {
    cx.database().map(KeyStore::on)
}

/// `POST /api/keys`: `{"name", "role", "expires_at"?}`. The token is in this answer
/// only; the service keeps its SHA-256.
pub async fn create(req: &mut Request, op: &Operator, cx: &Ctx) -> Result<Reply, ApiError> {
    let body = body::read_json(req, MAX_BODY_BYTES).await?;
    let new = NewApiKey::from_json(&body, cx.now)?;
    let domains = key_domains(&new, op, cx)?;
    let token = ApiToken::generate()?;
    let key = store(cx)?
        .insert(&new, domains.as_deref(), &token, op.actor(), cx.now)
        .await?;
    let shown = view(&key, cx);
    op.audit(
        cx,
        "key.create",
        Some(&key.id),
        key.domains.as_deref(),
        json!({ "name": key.name, "role": key.role.as_str(), "expires_at": key.expires_at.map(|t| t.to_rfc3339()), "domains": shown.get("domains") }),
    )
    .await;
    let mut body = shown;
    if let Some(fields) = body.as_object_mut() {
        fields.insert("token".into(), token.as_str().into());
    }
    Ok(response::json(CREATED, &body)?)
}

/// `GET /api/keys`: every key this operator may manage, newest first, revoked and
/// expired ones included.
pub async fn list(op: &Operator, cx: &Ctx) -> Result<Reply, ApiError> {
    let keys = store(cx)?.list().await?;
    let keys: Vec<Value> = keys
        .iter()
        .filter(|k| op.may_manage(k.domains.as_deref()))
        .map(|k| view(k, cx))
        .collect();
    Ok(response::json(OK, &json!({ "keys": keys }))?)
}

/// `GET /api/keys/{id}`.
pub async fn show(id: &str, op: &Operator, cx: &Ctx) -> Result<Reply, ApiError> {
    let key = managed(id, op, cx).await?;
    Ok(response::json(OK, &view(&key, cx))?)
}

/// `DELETE /api/keys/{id}`: revokes the key; its next request is refused.
/// A key this operator may not manage is answered as missing, and left alone.
pub async fn revoke(id: &str, op: &Operator, cx: &Ctx) -> Result<Reply, ApiError> {
    managed(id, op, cx).await?;
    let key = store(cx)?
        .revoke(id, cx.now)
        .await?
        .ok_or(ApiError::NotFound)?;
    op.audit(
        cx,
        "key.revoke",
        Some(&key.id),
        key.domains.as_deref(),
        json!({ "name": key.name }),
    )
    .await;
    Ok(response::json(OK, &view(&key, cx))?)
}

fn entry(e: &AuditEntry, domains: &Domains) -> Value {
    json!({
        "id": e.id,
        "at": e.at.to_rfc3339(),
        "actor": e.actor,
        "action": e.action,
        "target": e.target,
        "detail": e.detail,
        "domains": e.domains.as_deref().map(|list| names(list, domains)),
    })
}

/// `GET /api/audit?cursor=&limit=&actor=`: newest first; an admin limited to some
/// domains reads only the records about them.
pub async fn audit(op: &Operator, cx: &Ctx) -> Result<Reply, ApiError> {
    let limit = cx.limit_param(DEFAULT_PAGE, MAX_PAGE)?;
    let before =
        match cx.query_param("cursor").filter(|c| !c.is_empty()) {
            None => None,
            Some(raw) => Some(raw.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                ApiError::BadRequest("cursor is not one this API returned".into())
            })?),
        };
    let actor = cx.query_param("actor").filter(|a| !a.is_empty());
    let page = cx
        .database()
        .map(AuditStore::on)?
        .page(before, limit, actor.as_deref(), op.domains())
        .await?;
    let entries: Vec<Value> = page
        .entries
        .iter()
        .map(|e| entry(e, &cx.config.domains))
        .collect();
    Ok(response::json(
        OK,
        &json!({ "entries": entries, "next_cursor": page.next.map(|n| n.to_string()) }),
    )?)
}

/// `GET /api/audit/export`: every record as JSON Lines, oldest first, streamed; the
/// last line, `{"export":"complete","entries":N}`, is missing if the export broke off.
pub fn audit_export(op: &Operator, cx: &Ctx) -> Result<Reply, ApiError> {
    let audit = cx.database().map(AuditStore::on)?;
    let within: Option<Vec<String>> = op.domains().map(<[String]>::to_vec);
    let config = cx.config.clone();
    let start = (audit, None::<i64>, 0u64, false);
    let pages = stream::try_unfold(start, move |(audit, after, written, done)| {
        let (within, config) = (within.clone(), config.clone());
        async move {
            if done {
                return Ok::<_, worker::Error>(None);
            }
            let entries = audit
                .export_page(after, EXPORT_PAGE, within.as_deref())
                .await
                .map_err(|e| worker::Error::RustError(e.to_string()))?;
            let mut out = Vec::new();
            for e in &entries {
                out.extend_from_slice(entry(e, &config.domains).to_string().as_bytes());
                out.push(b'\n');
            }
            let written = written + entries.len() as u64;
            let last = entries.last().map(|e| e.id);
            if entries.len() < EXPORT_PAGE as usize {
                out.extend_from_slice(
                    json!({ "export": "complete", "entries": written })
                        .to_string()
                        .as_bytes(),
                );
                out.push(b'\n');
                return Ok(Some((out, (audit, last, written, true))));
            }
            Ok(Some((out, (audit, last, written, false))))
        }
    });
    Ok(response::json_lines(pages)?)
}
