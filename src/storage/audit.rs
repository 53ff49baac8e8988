//! The `audit_log` table: one row per operator write, who made it and what changed.

use serde::Deserialize;
use serde_json::Value;
use worker::wasm_bindgen::JsValue;

use super::database::{int, ms, whole, Database};
use super::error::StorageError;
use crate::domain::access::Actor;
use crate::domain::timestamp::Timestamp;

/// One audit record. `detail` never holds a secret, a token or a hash of one.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub id: i64,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub detail: Value,
    /// The domains the record concerns (stored: '' for the primary); `None`: the whole
    /// instance.
    pub domains: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct AuditRow {
    id: f64,
    at: f64,
    actor: String,
    action: String,
    target: Option<String>,
    detail: String,
    domains: Option<String>,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = StorageError;

    fn try_from(row: AuditRow) -> Result<AuditEntry, StorageError> {
        let bad = |e: String| StorageError::new("D1 audit_log row", e);
        Ok(AuditEntry {
            id: whole(row.id, "id").map_err(bad)?,
            at: Timestamp::from_millis(whole(row.at, "at").map_err(bad)?),
            detail: serde_json::from_str(&row.detail).map_err(|e| bad(e.to_string()))?,
            domains: row
                .domains
                .as_deref()
                .map(serde_json::from_str::<Vec<String>>)
                .transpose()
                .map_err(|e| bad(format!("domains: {e}")))?,
            actor: row.actor,
            action: row.action,
            target: row.target,
        })
    }
}

/// A page of the log, newest first, and the id to continue below.
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next: Option<i64>,
}

pub struct AuditStore {
    db: Database,
}

const COLUMNS: &str = "id, at, actor, action, target, detail, domains";

/// The records an actor limited to `within` (a JSON array of stored domains) may read:
/// those about some of its domains and no other, as `Actor::may_touch` decides for one
/// object (a record about the whole instance, `domains IS NULL`, is not among them).
const WITHIN: &str =
    "domains IS NOT NULL AND NOT EXISTS (SELECT 1 FROM json_each(audit_log.domains) \
     WHERE value NOT IN (SELECT value FROM json_each(?{n})))";

fn within_condition(n: usize) -> String {
    WITHIN.replace("{n}", &n.to_string())
}

fn domains_arg(within: &[String]) -> Result<JsValue, StorageError> {
    serde_json::to_string(within)
        .map(JsValue::from)
        .map_err(|e| StorageError::new("D1 audit domains", e))
}

impl AuditStore {
    pub fn on(db: Database) -> AuditStore {
        AuditStore { db }
    }

    /// Records one write, about `domains` (stored; `None`: the whole instance).
    pub async fn record(
        &self,
        actor: &Actor,
        action: &str,
        target: Option<&str>,
        detail: &Value,
        domains: Option<&[String]>,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        self.db
            .execute(
                "INSERT INTO audit_log (at, actor, action, target, detail, domains) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                &[
                    ms(now),
                    actor.id().into(),
                    action.into(),
                    target.map_or(JsValue::NULL, JsValue::from),
                    detail.to_string().into(),
                    domains
                        .map(domains_arg)
                        .transpose()?
                        .unwrap_or(JsValue::NULL),
                ],
                "record audit entry",
            )
            .await
            .map(|_| ())
    }

    /// Newest first, below `before` (an id from an earlier page), optionally by one
    /// actor; for a reader limited to `within` (stored domains), only their records.
    pub async fn page(
        &self,
        before: Option<i64>,
        limit: u32,
        actor: Option<&str>,
        within: Option<&[String]>,
    ) -> Result<AuditPage, StorageError> {
        let mut conditions = Vec::new();
        let mut args: Vec<JsValue> = Vec::new();
        if let Some(within) = within {
            args.push(domains_arg(within)?);
            conditions.push(within_condition(args.len()));
        }
        if let Some(before) = before {
            args.push(int(before));
            conditions.push(format!("id < ?{}", args.len()));
        }
        if let Some(actor) = actor {
            args.push(actor.into());
            conditions.push(format!("actor = ?{}", args.len()));
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_log {filter} ORDER BY id DESC LIMIT {}",
            limit + 1
        );
        let rows: Vec<AuditRow> = self.db.rows(&sql, &args, "list audit log").await?;
        let mut entries = rows
            .into_iter()
            .map(AuditEntry::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        let next = if entries.len() > limit as usize {
            entries.truncate(limit as usize);
            entries.last().map(|e| e.id)
        } else {
            None
        };
        Ok(AuditPage { entries, next })
    }

    /// Oldest first, after `after`: the pages of a streamed export (for a reader
    /// limited to `within`, only their records).
    pub async fn export_page(
        &self,
        after: Option<i64>,
        limit: u32,
        within: Option<&[String]>,
    ) -> Result<Vec<AuditEntry>, StorageError> {
        let mut args = vec![int(after.unwrap_or(0))];
        let filter = match within {
            None => String::new(),
            Some(within) => {
                args.push(domains_arg(within)?);
                format!("AND {}", within_condition(2))
            }
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_log WHERE id > ?1 {filter} ORDER BY id LIMIT {limit}"
        );
        let rows: Vec<AuditRow> = self.db.rows(&sql, &args, "export audit log").await?;
        rows.into_iter().map(AuditEntry::try_from).collect()
    }
}
