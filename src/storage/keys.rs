//! The `api_keys` table: named operator keys, stored by the SHA-256 of their token.

use serde::Deserialize;
use worker::wasm_bindgen::JsValue;

use super::database::{ms, whole, Database};
use super::error::StorageError;
use crate::domain::access::{Actor, ApiKey, ApiToken, NewApiKey, Role};
use crate::domain::timestamp::Timestamp;

/// Keys listed at most (a team has a handful; this bounds one answer).
pub const MAX_LISTED: u32 = 1000;
/// `last_used_at` is written at most this often per key, so a busy key does not turn
/// every API call into a write.
const TOUCH_EVERY_MS: i64 = 60_000;

const COLUMNS: &str =
    "id, name, role, created_at, created_by, expires_at, revoked_at, last_used_at, domains";

#[derive(Deserialize)]
struct KeyRow {
    id: String,
    name: String,
    role: String,
    created_at: f64,
    created_by: String,
    expires_at: Option<f64>,
    revoked_at: Option<f64>,
    last_used_at: Option<f64>,
    domains: Option<String>,
}

impl TryFrom<KeyRow> for ApiKey {
    type Error = StorageError;

    fn try_from(row: KeyRow) -> Result<ApiKey, StorageError> {
        let bad = |e: String| StorageError::new(format!("D1 api_keys row {:?}", row.id), e);
        let time = |n: f64, column| whole(n, column).map(Timestamp::from_millis).map_err(bad);
        let opt = |n: Option<f64>, column| n.map(|n| time(n, column)).transpose();
        Ok(ApiKey {
            role: Role::parse(&row.role)
                .ok_or_else(|| bad(format!("unknown role {:?}", row.role)))?,
            created_at: time(row.created_at, "created_at")?,
            expires_at: opt(row.expires_at, "expires_at")?,
            revoked_at: opt(row.revoked_at, "revoked_at")?,
            last_used_at: opt(row.last_used_at, "last_used_at")?,
            domains: row
                .domains
                .as_deref()
                .map(serde_json::from_str::<Vec<String>>)
                .transpose()
                .map_err(|e| bad(format!("domains: {e}")))?,
            id: row.id.clone(),
            name: row.name.clone(),
            created_by: row.created_by.clone(),
        })
    }
}

fn decode(rows: Vec<KeyRow>) -> Result<Vec<ApiKey>, StorageError> {
    rows.into_iter().map(ApiKey::try_from).collect()
}

pub struct KeyStore {
    db: Database,
}

impl KeyStore {
    pub fn on(db: Database) -> KeyStore {
        KeyStore { db }
    }

    /// Stores a new key; the token itself is not stored, only its hash. `domains`: the
    /// domains it is limited to, as stored ('' for the primary).
    pub async fn insert(
        &self,
        new: &NewApiKey,
        domains: Option<&[String]>,
        token: &ApiToken,
        by: &Actor,
        now: Timestamp,
    ) -> Result<ApiKey, StorageError> {
        let sql = format!(
            "INSERT INTO api_keys (id, name, role, token_hash, created_at, created_by, expires_at, \
             domains) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING {COLUMNS}"
        );
        let args = [
            token.id().into(),
            new.name.as_str().into(),
            new.role.as_str().into(),
            token.hash().into(),
            ms(now),
            by.id().into(),
            new.expires_at.map_or(JsValue::NULL, ms),
            match domains {
                None => JsValue::NULL,
                Some(list) => serde_json::to_string(list)
                    .map_err(|e| StorageError::new("D1 insert api key", e))?
                    .into(),
            },
        ];
        let rows: Vec<KeyRow> = self.db.rows(&sql, &args, "insert api key").await?;
        decode(rows)?
            .pop()
            .ok_or_else(|| StorageError::new("D1 insert api key", "no row returned"))
    }

    /// The key whose token hashes to `hash`, whatever its state.
    pub async fn by_token(&self, token: &ApiToken) -> Result<Option<ApiKey>, StorageError> {
        let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE token_hash = ?1");
        let rows: Vec<KeyRow> = self
            .db
            .rows(&sql, &[token.hash().into()], "find api key")
            .await?;
        Ok(decode(rows)?.pop())
    }

    /// The key with this public id, whatever its state.
    pub async fn by_id(&self, id: &str) -> Result<Option<ApiKey>, StorageError> {
        let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE id = ?1");
        let rows: Vec<KeyRow> = self.db.rows(&sql, &[id.into()], "show api key").await?;
        Ok(decode(rows)?.pop())
    }

    /// Every key, newest first.
    pub async fn list(&self) -> Result<Vec<ApiKey>, StorageError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM api_keys ORDER BY created_at DESC, id LIMIT {MAX_LISTED}"
        );
        decode(self.db.rows(&sql, &[], "list api keys").await?)
    }

    /// Revokes a key (at once: every request reads the row). `None` if no key has this
    /// id; a key revoked before keeps its first revocation time.
    pub async fn revoke(&self, id: &str, now: Timestamp) -> Result<Option<ApiKey>, StorageError> {
        let sql = format!(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1 RETURNING {COLUMNS}"
        );
        let rows: Vec<KeyRow> = self
            .db
            .rows(&sql, &[id.into(), ms(now)], "revoke api key")
            .await?;
        Ok(decode(rows)?.pop())
    }

    /// Records that a key was used now (at most once a minute per key).
    pub async fn touch(&self, id: &str, now: Timestamp) -> Result<(), StorageError> {
        self.db
            .execute(
                "UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1 \
                 AND (last_used_at IS NULL OR last_used_at <= ?2 - ?3)",
                &[
                    id.into(),
                    ms(now),
                    ms(Timestamp::from_millis(TOUCH_EVERY_MS)),
                ],
                "touch api key",
            )
            .await
            .map(|_| ())
    }
}
