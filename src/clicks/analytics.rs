//! The analytics databases: per link per day, and per day per dimension, the clicks
//! the click writer folded in; optionally the raw visits of the last
//! `VISIT_RETENTION_DAYS`. They live apart from the links database (bindings
//! `ANALYTICS`, `ANALYTICS_1`, ...) so that analytics can never fill it, and a link's
//! rows live on the shard its key hashes to (`domain::shard`). See docs/scaling.md.

use serde::Deserialize;
use worker::wasm_bindgen::JsValue;
use worker::Env;

use super::batch::{joined, BATCH_ID, RECORD_COLUMNS, VISITS_PATH};
use crate::config::analytics_binding;
use crate::domain::key::Key;
use crate::domain::shard::shard_of;
use crate::domain::stats::{Breakdown, Window, OTHER_VALUE};
use crate::domain::timestamp::{Timestamp, DAY_MS};
use crate::storage::counters;
use crate::storage::d1::{ms, Database};
use crate::storage::error::StorageError;

/// Distinct values kept per link, day and dimension; later values of that day count
/// under [`OTHER`]. It bounds what a link's statistics read, however it is visited
/// (see docs/scaling.md for the arithmetic).
pub const VALUES_PER_DAY: usize = 9;
/// The value that holds a day's clicks beyond [`VALUES_PER_DAY`] distinct values.
pub const OTHER: &str = OTHER_VALUE;

/// The dimensions of `daily_dims`: referrer host, country, device.
pub const REFERRER: &str = "r";
pub const COUNTRY: &str = "c";
pub const DEVICE: &str = "d";

/// One shard's database.
pub struct Shard {
    db: Database,
}

/// The visits of the batches in `?1` that this write claimed (their guard row carries
/// `?2`), as rows `claimed(key, at, ref, cc, dev, bot)`, each value brought within the
/// CHECK constraints: the write never depends on the sender having normalized it.
fn claimed(guard_table: &str) -> String {
    format!(
        "raw (key, at, ref, cc, dev, bot, cnt) AS ( \
           SELECT {RECORD_COLUMNS} FROM json_each(?1) AS m \
           JOIN {guard_table} AS g ON g.id = {BATCH_ID} AND g.write_id = ?2, \
           json_each(m.value, '{VISITS_PATH}') AS v), \
         claimed (key, at, ref, cc, dev, bot, cnt) AS ( \
           SELECT key, CAST(at AS INTEGER), \
                  CASE WHEN typeof(ref) = 'text' AND length(ref) BETWEEN 1 AND 255 THEN ref END, \
                  CASE WHEN typeof(cc) = 'text' AND length(cc) = 2 THEN cc END, \
                  CASE WHEN dev IN ('desktop', 'mobile', 'tablet', 'bot', 'other') THEN dev ELSE 'other' END, \
                  CASE WHEN bot = 1 THEN 1 ELSE 0 END, \
                  CASE WHEN cnt = 1 THEN 1 ELSE 0 END \
           FROM raw WHERE typeof(key) = 'text' AND at IS NOT NULL)"
    )
}

/// Claims the batches of `?1` for the write `?2` in `table`: a batch already claimed by
/// an earlier write keeps that write's id, so this write skips it.
pub fn guard_sql(table: &str) -> String {
    format!(
        "INSERT OR IGNORE INTO {table} (id, write_id) \
         SELECT {BATCH_ID}, ?2 FROM json_each(?1) AS m WHERE {BATCH_ID} IS NOT NULL"
    )
}

/// The visits of claimed batches, for the links database's counters.
pub fn claimed_sql(guard_table: &str) -> String {
    claimed(guard_table)
}

#[derive(Deserialize)]
struct DayRow {
    day: f64,
    clicks: f64,
}

#[derive(Deserialize)]
struct ValueRow {
    value: String,
    clicks: f64,
}

impl Shard {
    /// The shard that holds `key`'s rows.
    pub fn of(env: &Env, key: &str, shards: u32) -> Result<Shard, StorageError> {
        Shard::open(env, shard_of(key, shards))
    }

    /// Shard number `n`.
    pub fn open(env: &Env, n: u32) -> Result<Shard, StorageError> {
        Ok(Shard {
            db: Database::from_binding(env, &analytics_binding(n))?,
        })
    }

    /// Folds click batches (all of this shard) into the aggregates in one transaction,
    /// under the guard of `write_id`: a batch this shard already applied adds nothing.
    /// With `keep_since`, visits from then on are also kept raw.
    pub async fn apply(
        &self,
        batches: &[&str],
        write_id: &str,
        keep_since: Option<Timestamp>,
    ) -> Result<(), StorageError> {
        let args = [JsValue::from(joined(batches)), JsValue::from(write_id)];
        let claimed = claimed("applied_batches");
        let mut statements = vec![
            self.db
                .statement(&guard_sql("applied_batches"), &args, "claim batches")?,
            self.db.statement(
                &format!(
                    "WITH {claimed} INSERT INTO daily (link_key, day, clicks, bots) \
                     SELECT key, at / {DAY_MS}, COUNT(*), SUM(bot) FROM claimed WHERE true \
                     GROUP BY key, at / {DAY_MS} \
                     ON CONFLICT (link_key, day) DO UPDATE SET \
                     clicks = clicks + excluded.clicks, bots = bots + excluded.bots"
                ),
                &args,
                "daily clicks",
            )?,
            // Values new to a (link, day, dimension) are admitted up to VALUES_PER_DAY,
            // the busiest first; the rest of that day counts under OTHER.
            self.db.statement(
                &format!(
                    "WITH {claimed}, \
                     g (key, day, dim, value, n) AS ( \
                       SELECT key, at / {DAY_MS}, '{REFERRER}', COALESCE(ref, ''), COUNT(*) FROM claimed GROUP BY 1, 2, 4 \
                       UNION ALL SELECT key, at / {DAY_MS}, '{COUNTRY}', COALESCE(cc, ''), COUNT(*) FROM claimed GROUP BY 1, 2, 4 \
                       UNION ALL SELECT key, at / {DAY_MS}, '{DEVICE}', dev, COUNT(*) FROM claimed GROUP BY 1, 2, 4), \
                     e AS (SELECT g.*, \
                       EXISTS (SELECT 1 FROM daily_dims AS d WHERE d.link_key = g.key AND d.day = g.day \
                               AND d.dim = g.dim AND d.value = g.value) AS known, \
                       (SELECT COUNT(*) FROM daily_dims AS d WHERE d.link_key = g.key AND d.day = g.day \
                               AND d.dim = g.dim) AS have \
                       FROM g), \
                     r AS (SELECT e.*, ROW_NUMBER() OVER \
                       (PARTITION BY key, day, dim, known ORDER BY n DESC, value) AS rank FROM e) \
                     INSERT INTO daily_dims (link_key, day, dim, value, clicks) \
                     SELECT key, day, dim, \
                       CASE WHEN known OR have + rank <= {VALUES_PER_DAY} THEN value ELSE '{OTHER}' END AS v, \
                       SUM(n) FROM r WHERE true GROUP BY key, day, dim, v \
                     ON CONFLICT (link_key, day, dim, value) DO UPDATE SET clicks = clicks + excluded.clicks"
                ),
                &args,
                "daily dimensions",
            )?,
        ];
        if let Some(since) = keep_since {
            statements.push(self.db.statement(
                &format!(
                    "WITH {claimed} INSERT INTO visits \
                     (link_key, at, referrer_host, country, device, is_bot) \
                     SELECT key, at, ref, cc, dev, bot FROM claimed WHERE at >= ?3"
                ),
                &[args[0].clone(), args[1].clone(), ms(since)],
                "raw visits",
            )?);
        }
        let results = self.db.batch(statements, "apply clicks").await?;
        for meta in results.iter().filter_map(|r| r.meta().ok().flatten()) {
            counters::click_rows(
                meta.rows_read.unwrap_or(0) as u64,
                meta.rows_written.unwrap_or(0) as u64,
            );
        }
        Ok(())
    }

    /// A link's clicks per day and its top values per dimension over `window`: one
    /// round trip, reading at most one row per day plus `VALUES_PER_DAY + 1` per day
    /// and dimension.
    pub async fn breakdown(
        &self,
        key: &Key,
        window: &Window,
        top: usize,
    ) -> Result<Breakdown, StorageError> {
        let since_day = window.since.millis().div_euclid(DAY_MS);
        let args = [
            JsValue::from(key.as_str()),
            JsValue::from_f64(since_day as f64),
        ];
        let dim = |name: &str| {
            format!(
                "SELECT value, SUM(clicks) AS clicks FROM daily_dims \
                 WHERE link_key = ?1 AND dim = '{name}' AND day >= ?2 \
                 GROUP BY value ORDER BY clicks DESC, value LIMIT {top}"
            )
        };
        let statements = vec![
            self.db.statement(
                "SELECT day, clicks FROM daily WHERE link_key = ?1 AND day >= ?2",
                &args,
                "stats by day",
            )?,
            self.db
                .statement(&dim(REFERRER), &args, "stats referrers")?,
            self.db.statement(&dim(COUNTRY), &args, "stats countries")?,
            self.db.statement(&dim(DEVICE), &args, "stats devices")?,
        ];
        let results = self.db.batch(statements, "stats").await?;
        let mut rows_read = 0;
        for meta in results.iter().filter_map(|r| r.meta().ok().flatten()) {
            rows_read += meta.rows_read.unwrap_or(0) as u64;
        }
        counters::stats_rows_read(rows_read);
        let failed = |e: worker::Error| StorageError::new("D1 stats", e);
        let values = |i: usize| -> Result<Vec<(String, i64)>, StorageError> {
            let result = results
                .get(i)
                .ok_or_else(|| StorageError::new("D1 stats", "short batch"))?;
            Ok(result
                .results::<ValueRow>()
                .map_err(failed)?
                .into_iter()
                .map(|r| (r.value, r.clicks as i64))
                .collect())
        };
        let days = results
            .first()
            .ok_or_else(|| StorageError::new("D1 stats", "short batch"))?
            .results::<DayRow>()
            .map_err(failed)?
            .into_iter()
            .map(|r| (r.day as i64, r.clicks as i64))
            .collect();
        Ok(Breakdown {
            by_day: days,
            referrers: values(1)?,
            countries: values(2)?,
            devices: values(3)?,
        })
    }

    /// Deletes up to `limit` raw visits older than `before` (the oldest first: ids grow
    /// with time). Returns how many went.
    pub async fn prune_visits(&self, before: Timestamp, limit: u32) -> Result<usize, StorageError> {
        let result = self
            .db
            .statement(
                &format!(
                    "DELETE FROM visits WHERE id IN \
                     (SELECT id FROM visits WHERE at < ?1 ORDER BY id LIMIT {limit})"
                ),
                &[ms(before)],
                "prune visits",
            )?
            .run()
            .await
            .map_err(|e| StorageError::new("D1 prune visits", e))?;
        Ok(crate::storage::d1::changes(&result))
    }

    /// Deletes the guards of batches sent before `before_id` (a `batch_ids_before`).
    pub async fn prune_guards(&self, before_id: &str) -> Result<usize, StorageError> {
        prune_guards(&self.db, "applied_batches", before_id).await
    }

    /// The raw visits of a link, newest first, before `before` (epoch ms).
    pub async fn recent_visits(
        &self,
        key: &Key,
        before: Option<(i64, i64)>,
        limit: u32,
    ) -> Result<Vec<RawVisit>, StorageError> {
        let (filter, mut args) = match before {
            Some((at, id)) => (
                "AND (at, id) < (?2, ?3)",
                vec![JsValue::from_f64(at as f64), JsValue::from_f64(id as f64)],
            ),
            None => ("", vec![]),
        };
        args.insert(0, key.as_str().into());
        self.db
            .rows(
                &format!(
                    "SELECT id, at, referrer_host, country, device, is_bot FROM visits \
                     WHERE link_key = ?1 {filter} ORDER BY at DESC, id DESC LIMIT {limit}"
                ),
                &args,
                "recent visits",
            )
            .await
    }
}

/// One raw visit as stored.
#[derive(Debug, Deserialize)]
pub struct RawVisit {
    pub id: f64,
    pub at: f64,
    pub referrer_host: Option<String>,
    pub country: Option<String>,
    pub device: String,
    pub is_bot: f64,
}

/// Deletes the guard rows of `table` whose batch was sent before `before_id`, in one
/// range of the primary key (ids start with the sending time).
pub async fn prune_guards(
    db: &Database,
    table: &str,
    before_id: &str,
) -> Result<usize, StorageError> {
    let result = db
        .statement(
            &format!("DELETE FROM {table} WHERE id < ?1"),
            &[before_id.into()],
            "prune guards",
        )?
        .run()
        .await
        .map_err(|e| StorageError::new(format!("D1 prune {table}"), e))?;
    Ok(crate::storage::d1::changes(&result))
}
