//! The operator's import (`POST /api/links/import`): links from another shortener,
//! each checked with the rules of creation and written in one D1 batch, or only
//! reported in a dry run.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::Value;
use worker::Request;

use super::auth::Operator;
use super::batch::items;
use super::context::Ctx;
use crate::domain::address::LinkName;
use crate::domain::import::{ImportedLink, OnConflict, MAX_IMPORT_ITEMS};
use crate::domain::secret::{sha256_hex, SecretKey};
use crate::http::body::{self, MAX_IMPORT_BODY_BYTES};
use crate::http::error::ApiError;
use crate::http::response::{self, Reply, OK};
use crate::storage::import::{ImportRow, ImportWrite};

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
pub async fn import(req: &mut Request, op: &Operator, cx: &Ctx) -> Result<Reply, ApiError> {
    let on_conflict = OnConflict::parse(cx.query_param("on_conflict").as_deref())
        .ok_or_else(|| ApiError::BadRequest("on_conflict must be skip or update".into()))?;
    let dry_run = match cx.query_param("dry_run").as_deref() {
        None | Some("" | "false" | "0") => false,
        Some("true" | "1") => true,
        Some(_) => return Err(ApiError::BadRequest("dry_run must be true or false".into())),
    };
    // Every link of one call goes to one domain (`?domain=`, else this request's).
    let domain = op.chosen_domain(cx.query_param("domain").as_deref(), cx)?;
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
    let store = cx.links()?;
    // A key that a renamed link still answers to (its alias) belongs to that link:
    // refused item by item, the same in a dry run as in the real one, never left for
    // the database to refuse the whole batch.
    let keys: Vec<&str> = parsed
        .iter()
        .filter_map(|p| p.as_ref().ok())
        .map(|l| l.key.as_str())
        .collect();
    let aliases: HashSet<String> = store
        .alias_keys(&domain, &keys)
        .await?
        .into_iter()
        .collect();
    for item in parsed.iter_mut() {
        let alias = match item {
            Ok(link) if aliases.contains(link.key.as_str()) => Some(link.key.to_string()),
            _ => None,
        };
        if let Some(key) = alias {
            *item = Err((Some(key.clone()), ApiError::KeyIsAlias(key)));
        }
    }
    let valid: Vec<&ImportedLink> = parsed.iter().filter_map(|p| p.as_ref().ok()).collect();
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
        let by = Some(op.id());
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
    // The links written, by domain and key, for the audit record.
    let mut names: (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
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
                let name = || {
                    LinkName::new(domain.clone(), link.key.clone())
                        .qualified()
                        .into_owned()
                };
                match write {
                    ImportWrite::Created => {
                        answer.created += 1;
                        names.0.push(name());
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
                        names.1.push(name());
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
            "domain": cx.config.domains.name_of(&domain),
            "links": { "created": names.0, "updated": names.1 },
        });
        let domains = [domain.stored().to_string()];
        op.audit(cx, "links.import", None, Some(&domains), detail)
            .await;
    }
    Ok(response::json(OK, &answer)?)
}
