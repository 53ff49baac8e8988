//! The `links` table in D1. All SQL of the service lives in this file.

use serde::Deserialize;
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, Env};

use crate::config::DB_BINDING;
use crate::domain::key::Key;
use crate::domain::link::Link;
use crate::domain::secret::SecretHash;
use crate::domain::timestamp::Timestamp;
use crate::http::error::ApiError;

/// A new row, with the secret already hashed.
pub struct NewRow<'a> {
    pub key: &'a Key,
    pub target_url: &'a str,
    pub secret_hash: &'a SecretHash,
    pub now: Timestamp,
}

/// The D1 database of links.
pub struct LinkStore {
    db: D1Database,
}

#[derive(Deserialize)]
struct LinkRow {
    key: String,
    target_url: String,
    is_active: i64,
    clicks: i64,
    created_at: i64,
}

impl From<LinkRow> for Link {
    fn from(row: LinkRow) -> Link {
        Link {
            key: row.key,
            target_url: row.target_url,
            is_active: row.is_active != 0,
            clicks: row.clicks,
            created_at: Timestamp::from_millis(row.created_at),
        }
    }
}

const LINK_COLUMNS: &str = "key, target_url, is_active, clicks, created_at";

fn unavailable(what: &str) -> impl Fn(worker::Error) -> ApiError + '_ {
    move |e| ApiError::StorageUnavailable(format!("D1 {what}: {e}"))
}

fn ms(t: Timestamp) -> JsValue {
    // Milliseconds since 1970 stay below 2^53 for another 285,000 years.
    JsValue::from_f64(t.millis() as f64)
}

impl LinkStore {
    /// Opens the D1 binding; a missing binding is an unavailable store.
    pub fn from_env(env: &Env) -> Result<LinkStore, ApiError> {
        let db = env.d1(DB_BINDING).map_err(unavailable("binding"))?;
        Ok(LinkStore { db })
    }

    /// Inserts a link unless its key is taken. Returns whether the row was inserted:
    /// the unique index on `key` decides collisions, never a read-then-write.
    pub async fn insert(&self, row: &NewRow<'_>) -> Result<bool, ApiError> {
        let result = self
            .db
            .prepare(
                "INSERT INTO links (key, target_url, secret_hash, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (key) DO NOTHING",
            )
            .bind(&[
                row.key.as_str().into(),
                row.target_url.into(),
                row.secret_hash.as_str().into(),
                ms(row.now),
            ])
            .map_err(unavailable("insert"))?
            .run()
            .await
            .map_err(unavailable("insert"))?;
        let changes = result
            .meta()
            .map_err(unavailable("insert meta"))?
            .and_then(|m| m.changes)
            .unwrap_or(0);
        Ok(changes == 1)
    }

    pub async fn find_by_key(&self, key: &Key) -> Result<Option<Link>, ApiError> {
        let sql = format!("SELECT {LINK_COLUMNS} FROM links WHERE key = ?1");
        self.first(&sql, &[key.as_str().into()], "find by key")
            .await
    }

    pub async fn find_by_secret(&self, secret: &SecretHash) -> Result<Option<Link>, ApiError> {
        let sql = format!("SELECT {LINK_COLUMNS} FROM links WHERE secret_hash = ?1");
        self.first(&sql, &[secret.as_str().into()], "find by secret")
            .await
    }

    /// Marks the link inactive (the row stays) and returns it; repeating is harmless.
    pub async fn deactivate(
        &self,
        secret: &SecretHash,
        now: Timestamp,
    ) -> Result<Option<Link>, ApiError> {
        let sql = format!(
            "UPDATE links SET is_active = 0, updated_at = ?2 WHERE secret_hash = ?1 \
             RETURNING {LINK_COLUMNS}"
        );
        self.first(&sql, &[secret.as_str().into(), ms(now)], "deactivate")
            .await
    }

    /// Adds one click in a single atomic statement, so concurrent visits never lose one.
    pub async fn record_click(&self, key: &Key) -> Result<(), ApiError> {
        self.db
            .prepare("UPDATE links SET clicks = clicks + 1 WHERE key = ?1")
            .bind(&[key.as_str().into()])
            .map_err(unavailable("record click"))?
            .run()
            .await
            .map_err(unavailable("record click"))?;
        Ok(())
    }

    /// A trivial query that proves the database answers.
    pub async fn ping(&self) -> Result<(), ApiError> {
        self.db
            .prepare("SELECT 1")
            .run()
            .await
            .map_err(unavailable("ping"))?;
        Ok(())
    }

    async fn first(
        &self,
        sql: &str,
        args: &[JsValue],
        what: &str,
    ) -> Result<Option<Link>, ApiError> {
        let row: Option<LinkRow> = self
            .db
            .prepare(sql)
            .bind(args)
            .map_err(unavailable(what))?
            .first(None)
            .await
            .map_err(unavailable(what))?;
        Ok(row.map(Link::from))
    }
}
