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
}

#[derive(Deserialize)]
struct AuditRow {
    id: f64,
    at: f64,
    actor: String,
    action: String,
    target: Option<String>,
    detail: String,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = StorageError;

    fn try_from(row: AuditRow) -> Result<AuditEntry, StorageError> {
        let bad = |e: String| StorageError::new("D1 audit_log row", e);
        Ok(AuditEntry {
            id: whole(row.id, "id").map_err(bad)?,
            at: Timestamp::from_millis(whole(row.at, "at").map_err(bad)?),
            detail: serde_json::from_str(&row.detail).map_err(|e| bad(e.to_string()))?,
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

const COLUMNS: &str = "id, at, actor, action, target, detail";

impl AuditStore {
    pub fn on(db: Database) -> AuditStore {
        AuditStore { db }
    }

    /// Records one write.
    pub async fn record(
        &self,
        actor: &Actor,
        action: &str,
        target: Option<&str>,
        detail: &Value,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        self.db
            .execute(
                "INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                &[
                    ms(now),
                    actor.id().into(),
                    action.into(),
                    target.map_or(JsValue::NULL, JsValue::from),
                    detail.to_string().into(),
                ],
                "record audit entry",
            )
            .await
            .map(|_| ())
    }

    /// Newest first, below `before` (an id from an earlier page), optionally by one actor.
    pub async fn page(
        &self,
        before: Option<i64>,
        limit: u32,
        actor: Option<&str>,
    ) -> Result<AuditPage, StorageError> {
        let mut conditions = Vec::new();
        let mut args: Vec<JsValue> = Vec::new();
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

    /// Oldest first, after `after`: the pages of a streamed export.
    pub async fn export_page(
        &self,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StorageError> {
        let sql =
            format!("SELECT {COLUMNS} FROM audit_log WHERE id > ?1 ORDER BY id LIMIT {limit}");
        let rows: Vec<AuditRow> = self
            .db
            .rows(&sql, &[int(after.unwrap_or(0))], "export audit log")
            .await?;
        rows.into_iter().map(AuditEntry::try_from).collect()
    }
}
