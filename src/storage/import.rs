//! Import into the `links` table: many links in one transaction, as JSON rows, each
//! created, updated or left alone by the caller's conflict mode.

use std::collections::HashMap;

use serde::Deserialize;
use worker::wasm_bindgen::JsValue;

use super::database::{failed, ms};
use super::error::StorageError;
use super::links::LinkStore;
use crate::domain::address::Domain;
use crate::domain::controls::Controls;
use crate::domain::import::{ImportedLink, OnConflict};
use crate::domain::secret::SecretHash;
use crate::domain::timestamp::Timestamp;

/// An imported link ready for its row: the item, its target's hash, and the hash of
/// a secret drawn for it (every row has an owner's secret, imported ones too).
pub struct ImportRow<'a> {
    pub link: &'a ImportedLink,
    pub target_hash: String,
    pub secret_hash: SecretHash,
}

/// The most JSON one import statement binds: D1 refuses a string over 2 MB, and 1,000
/// links with the longest targets would pass it.
pub const MAX_IMPORT_JSON_BYTES: usize = 1_000_000;

/// What an import did to one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportWrite {
    Created,
    Updated,
    /// The key was taken and left as it was.
    Exists,
}

impl LinkStore {
    /// Writes imported links in one D1 batch (one transaction: all rows or none); one
    /// [`ImportWrite`] per row, in order. A taken key is left alone under
    /// [`OnConflict::Skip`] and replaced under [`OnConflict::Update`].
    ///
    /// The rows travel as JSON, one statement per group of at most
    /// [`MAX_IMPORT_JSON_BYTES`] (`INSERT ... SELECT ... FROM json_each(?1)`), not as a
    /// statement per row: binding 1,000 statements of 13 values each cost the worker
    /// more than everything else an import does (measured: 138 ms of a 1,000-link call).
    pub async fn import(
        &self,
        domain: &Domain,
        rows: &[ImportRow<'_>],
        on_conflict: OnConflict,
        now: Timestamp,
        created_by: Option<&str>,
    ) -> Result<Vec<ImportWrite>, StorageError> {
        #[derive(Deserialize)]
        struct Written {
            key: String,
            version: f64,
        }
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        // Both forms return the key and version of each row they wrote: version 1 for a
        // row inserted, more for one updated (an update bumps it); no row for a key left
        // alone. An update replaces the imported part of the counter and keeps the
        // clicks counted here since: `clicks` never drops below what this service counted.
        let conflict = match on_conflict {
            OnConflict::Skip => "ON CONFLICT DO NOTHING",
            OnConflict::Update => {
                "ON CONFLICT (domain, key) DO UPDATE SET target_url = excluded.target_url, \
                 target_host = excluded.target_host, target_hash = excluded.target_hash, \
                 expires_at = excluded.expires_at, max_clicks = excluded.max_clicks, \
                 redirect_status = excluded.redirect_status, \
                 forward_query = excluded.forward_query, is_active = excluded.is_active, \
                 clicks = links.clicks - links.imported_clicks + excluded.imported_clicks, \
                 imported_clicks = excluded.imported_clicks, \
                 imported_at = excluded.imported_at, created_at = excluded.created_at, \
                 controls = json_patch(links.controls, excluded.controls), \
                 reuse = 0, version = links.version + 1, updated_at = excluded.updated_at"
            }
        };
        // SQLite needs the WHERE to tell the upsert's ON from a join's. The WHERE also
        // passes over a key that became an alias since the caller looked (the alias
        // trigger of 0009 would abort the whole batch): that row is written by nobody
        // and reported as taken.
        let sql = format!(
            "INSERT INTO links (key, target_url, target_host, target_hash, secret_hash, \
             expires_at, max_clicks, redirect_status, forward_query, is_active, clicks, \
             imported_clicks, imported_at, created_at, updated_at, controls, created_by, \
             domain, stats_key) \
             SELECT r->>0, r->>1, r->>2, r->>3, r->>4, r->>5, r->>6, r->>7, r->>8, r->>9, \
             r->>10, r->>10, ?2, r->>11, ?2, r->>12, ?3, ?4, \
             CASE ?4 WHEN '' THEN r->>0 ELSE ?4 || '/' || (r->>0) END \
             FROM (SELECT value AS r FROM json_each(?1)) \
             WHERE NOT EXISTS (SELECT 1 FROM link_aliases WHERE domain = ?4 AND alias = r->>0) \
             {conflict} RETURNING key, version"
        );
        let mut groups: Vec<String> = Vec::new();
        let mut group = String::from("[");
        for row in rows {
            let link = row.link;
            let settings = &link.settings;
            // Written by hand rather than by serializing a tuple: the wasm already has
            // string escaping and integer printing, a 12-tuple serializer it has not.
            let text = |t: &str| {
                serde_json::to_string(t).map_err(|e| StorageError::new("D1 import rows", e))
            };
            let number = |n: Option<i64>| n.map_or_else(|| "null".to_string(), |n| n.to_string());
            // Title and tags, the only controls an import carries (an update merges
            // them into the link's other controls).
            let controls = Controls {
                title: link.title.clone(),
                tags: link.tags.clone(),
                ..Controls::default()
            };
            let encoded = format!(
                "[{},{},{},{},{},{},{},{},{},{},{},{},{}]",
                text(link.key.as_str())?,
                text(link.target.as_str())?,
                text(link.target.host())?,
                text(row.target_hash.as_str())?,
                text(row.secret_hash.as_str())?,
                number(settings.expires_at.map(Timestamp::millis)),
                number(settings.max_clicks),
                number(settings.redirect_status.map(|s| i64::from(s.code()))),
                u8::from(settings.forward_query),
                u8::from(link.is_active),
                link.clicks,
                link.created_at.unwrap_or(now).millis(),
                text(&controls.to_json())?,
            );
            if group.len() > 1 && group.len() + encoded.len() + 1 > MAX_IMPORT_JSON_BYTES {
                group.push(']');
                groups.push(std::mem::replace(&mut group, String::from("[")));
            }
            if group.len() > 1 {
                group.push(',');
            }
            group.push_str(&encoded);
        }
        group.push(']');
        groups.push(group);
        let statements = groups
            .iter()
            .map(|g| {
                let by = created_by.map_or(JsValue::NULL, JsValue::from);
                let args = [g.as_str().into(), ms(now), by, domain.stored().into()];
                self.statement(&sql, &args, "import")
            })
            .collect::<Result<Vec<_>, _>>()?;
        // RETURNING promises no order, so rows are matched to their writes by key.
        let mut written: HashMap<String, f64> = HashMap::with_capacity(rows.len());
        for result in self.batch(statements, "import").await? {
            let rows: Vec<Written> = result.results().map_err(failed("import result"))?;
            written.extend(rows.into_iter().map(|w| (w.key, w.version)));
        }
        Ok(rows
            .iter()
            .map(|row| match written.get(row.link.key.as_str()) {
                None => ImportWrite::Exists,
                Some(version) if *version > 1.0 => ImportWrite::Updated,
                Some(_) => ImportWrite::Created,
            })
            .collect())
    }

    /// Which of `keys` are taken: one query, the keys passed as one JSON array (D1
    /// binds at most 100 parameters per statement; an import checks up to 1,000 keys).
    pub async fn existing_keys(
        &self,
        domain: &Domain,
        keys: &[&str],
    ) -> Result<Vec<String>, StorageError> {
        self.keys_among(
            "SELECT key AS taken FROM links WHERE domain = ?2 \
             AND key IN (SELECT value FROM json_each(?1))",
            domain,
            keys,
            "existing keys",
        )
        .await
    }

    /// Which of `keys` are former keys of a renamed link on `domain` (its aliases: they
    /// still redirect to it, so no other link may take them). One query, the keys as
    /// one JSON array, as in [`LinkStore::existing_keys`].
    pub async fn alias_keys(
        &self,
        domain: &Domain,
        keys: &[&str],
    ) -> Result<Vec<String>, StorageError> {
        self.keys_among(
            "SELECT alias AS taken FROM link_aliases WHERE domain = ?2 \
             AND alias IN (SELECT value FROM json_each(?1))",
            domain,
            keys,
            "alias keys",
        )
        .await
    }

    /// The `taken` column of `sql` run with `keys` as one JSON array (`?1`) and the
    /// domain (`?2`): one query whatever the number of keys.
    async fn keys_among(
        &self,
        sql: &str,
        domain: &Domain,
        keys: &[&str],
        what: &'static str,
    ) -> Result<Vec<String>, StorageError> {
        #[derive(Deserialize)]
        struct Row {
            taken: String,
        }
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let list = serde_json::to_string(keys).map_err(|e| StorageError::new(what, e))?;
        let rows: Vec<Row> = self
            .db
            .rows(sql, &[list.into(), domain.stored().into()], what)
            .await?;
        Ok(rows.into_iter().map(|r| r.taken).collect())
    }
}
