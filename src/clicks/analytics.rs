//! The analytics databases: per link per day, and per day per dimension, the clicks
//! the click writer folded in; optionally the raw visits of the last
//! `VISIT_RETENTION_DAYS`. They live apart from the links database (bindings
//! `ANALYTICS`, `ANALYTICS_1`, ...) so that analytics can never fill it, and a link's
//! rows live on the shard its key hashes to (`domain::shard`). See docs/scaling.md.

use std::collections::BTreeMap;

use serde::Deserialize;
use worker::wasm_bindgen::JsValue;
use worker::Env;

use super::batch::{joined, BATCH_ID, RECORD_COLUMNS, VISITS_PATH};
use crate::config::analytics_binding;
use crate::domain::controls::MAX_UTM_CHARS;
use crate::domain::rollup::Rollup;
use crate::domain::shard::shard_of;
use crate::domain::stats::{Breakdown, Window, HOUR_MS, OTHER_VALUE};
use crate::domain::timestamp::{month_start, Timestamp, DAY_MS};
use crate::domain::visit::{SOURCE_LINK, SOURCE_QR};
use crate::domain::visitors::{MAX_RANK, PACKED_LIMIT};
use crate::storage::counters;
use crate::storage::database::{ms, Database};
use crate::storage::error::StorageError;

/// Distinct values kept per link, day and dimension; later values of that day count
/// under [`OTHER`]. It bounds what a link's statistics read, however it is visited
/// (see docs/scaling.md for the arithmetic).
pub const VALUES_PER_DAY: usize = 9;
/// The value that holds a day's clicks beyond [`VALUES_PER_DAY`] distinct values.
pub const OTHER: &str = OTHER_VALUE;

/// The dimensions of `daily.dims` (the prefix of each name): referrer host, country,
/// device.
pub const REFERRER: &str = "r";
pub const COUNTRY: &str = "c";
pub const DEVICE: &str = "d";
/// The targeting rule or split variant that served the click (links that have them).
pub const VIA: &str = "v";
/// Bot visits by why they came (`domain::visit::BotReason`).
pub const BOT_REASON: &str = "b";
/// How the click came: `qr` (the link's QR code) or `link` (`domain::visit::SOURCE_*`).
pub const SOURCE: &str = "s";
/// The link's UTM campaign, for clicks of links that have one.
pub const CAMPAIGN: &str = "m";
/// Every dimension of `daily.dims`, as the JSON list the write joins each visit to.
/// Bot reasons count every bot visit; the others only clicks (not prefetches).
const DIMENSIONS: &str = "[\"r\",\"c\",\"d\",\"v\",\"b\",\"s\",\"m\"]";
/// Bot reasons whose visits are not clicks (link previews, mail scanners): SQL list.
pub const PREFETCH_REASONS: &str = "('link-preview', 'email-scanner')";

/// The SQL merge of two stored sketches (`{"<register>": rank}` objects, see
/// `domain::visitors::Sketch`): each register keeps the larger rank, so the union
/// holds no more than a dense sketch would. `a` and `b` are SQL expressions of the two.
fn merged_sketch(a: &str, b: &str) -> String {
    format!(
        "(SELECT json_group_object(k, n) FROM (SELECT k, MAX(n) AS n FROM ( \
           SELECT key AS k, value AS n FROM json_each({a}) \
           UNION ALL SELECT key, value FROM json_each({b})) GROUP BY k))"
    )
}

/// One shard's database.
pub struct Shard {
    db: Database,
}

/// The visits of the batches in `?1`, as rows `claimed(key, at, ref, cc, dev, bot,
/// cnt, via, why, src, cmp, prefetch, u)`, each value brought within the CHECK constraints: the write never depends on
/// the sender having normalized it. With a guard table, only the batches this write
/// claimed there (their guard row carries `?2`); without one (a write that is never
/// repeated), every batch, and `?2` is unused.
pub fn claimed(guard: Option<&str>) -> String {
    let source = match guard {
        Some(table) => format!("JOIN {table} AS g ON g.id = {BATCH_ID} AND g.write_id = ?2"),
        None => "JOIN (SELECT ?2 AS write_id) AS g".to_string(),
    };
    format!(
        "raw (key, at, ref, cc, dev, bot, cnt, via, why, src, cmp, u) AS ( \
           SELECT {RECORD_COLUMNS} FROM json_each(?1) AS m {source}, \
           json_each(m.value, '{VISITS_PATH}') AS v), \
         claimed (key, at, ref, cc, dev, bot, cnt, via, why, src, cmp, prefetch, u) AS MATERIALIZED ( \
           SELECT key, CAST(at AS INTEGER), \
                  CASE WHEN typeof(ref) = 'text' AND length(ref) BETWEEN 1 AND 255 THEN ref END, \
                  CASE WHEN typeof(cc) = 'text' AND length(cc) = 2 THEN cc END, \
                  CASE WHEN dev IN ('desktop', 'mobile', 'tablet', 'bot', 'other') THEN dev ELSE 'other' END, \
                  CASE WHEN bot = 1 THEN 1 ELSE 0 END, \
                  CASE WHEN cnt = 1 THEN 1 ELSE 0 END, \
                  CASE WHEN typeof(via) = 'text' AND length(via) BETWEEN 1 AND 20 THEN via END, \
                  CASE WHEN typeof(why) = 'text' AND length(why) BETWEEN 1 AND 20 THEN why END, \
                  CASE WHEN src = '{SOURCE_QR}' THEN '{SOURCE_QR}' ELSE '{SOURCE_LINK}' END, \
                  CASE WHEN typeof(cmp) = 'text' AND length(cmp) BETWEEN 1 AND {MAX_UTM_CHARS} THEN cmp END, \
                  CASE WHEN why IN {PREFETCH_REASONS} THEN 1 ELSE 0 END, \
                  CASE WHEN typeof(u) = 'integer' AND u > 0 AND u < {PACKED_LIMIT} \
                       AND (u & 63) BETWEEN 1 AND {MAX_RANK} THEN u END \
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

/// One stored daily row, as the statistics and the monthly fold read it.
#[derive(Debug, Deserialize)]
pub struct StoredDay {
    pub link_key: String,
    pub day: f64,
    pub clicks: f64,
    pub bots: f64,
    pub dims: String,
    pub visitors: String,
    #[serde(default)]
    pub hours: Option<String>,
}

/// One stored monthly row (`month`: the day number of the month's first day).
#[derive(Debug, Deserialize)]
pub struct StoredMonth {
    pub link_key: String,
    pub month: f64,
    pub clicks: f64,
    pub bots: f64,
    pub dims: String,
    pub visitors: String,
}

impl StoredDay {
    /// The row as a rollup (its dims and visitor sketch parsed).
    pub fn rollup(&self) -> Result<Rollup, StorageError> {
        Rollup::parse_stored(
            self.clicks as i64,
            self.bots as i64,
            &self.dims,
            &self.visitors,
        )
        .map_err(|e| {
            StorageError::new(
                format!("daily row of key {} day {}", self.link_key, self.day as i64),
                e,
            )
        })
    }
}

impl StoredMonth {
    /// The row as a rollup.
    pub fn rollup(&self) -> Result<Rollup, StorageError> {
        Rollup::parse_stored(
            self.clicks as i64,
            self.bots as i64,
            &self.dims,
            &self.visitors,
        )
        .map_err(|e| {
            StorageError::new(
                format!(
                    "monthly row of key {} month {}",
                    self.link_key, self.month as i64
                ),
                e,
            )
        })
    }
}

/// Longest JSON text of folded months bound to one statement (D1 caps a value at 2 MB).
const FOLD_TEXT_BYTES: usize = 500_000;

/// A month to write back after a fold.
pub struct FoldedMonth<'a> {
    pub link_key: &'a str,
    pub month: i64,
    pub rollup: &'a Rollup,
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

    /// Folds click batches (all of this shard) into the aggregates in one transaction.
    /// `guarded`: the batches may come again (a queue delivery, a fold round), so each
    /// is claimed under `write_id` first and a batch this shard already applied adds
    /// nothing. With `keep_since`, visits from then on are also kept raw.
    pub async fn apply(
        &self,
        batches: &[&str],
        write_id: &str,
        guarded: bool,
        keep_since: Option<Timestamp>,
    ) -> Result<(), StorageError> {
        let args = [JsValue::from(joined(batches)), JsValue::from(write_id)];
        let claimed = claimed(guarded.then_some("applied_batches"));
        let mut statements = Vec::with_capacity(3);
        if guarded {
            statements.push(self.db.statement(
                &guard_sql("applied_batches"),
                &args,
                "claim batches",
            )?);
        }
        statements.extend([
            // One row per link and day: the clicks, and the split by dimension as a
            // JSON object merged in SQL. Values new to a (link, day, dimension) are
            // admitted up to VALUES_PER_DAY, the busiest first; the rest count as OTHER.
            // Every dimension comes from one pass over the claimed visits joined to the
            // list of dimensions, not a UNION per dimension: D1 allows at most 5 terms
            // in a compound SELECT, fewer than there are dimensions. A NULL value (no
            // via, no campaign, a human's bot reason) names nothing.
            self.db.statement(
                &format!(
                    "WITH {claimed}, \
                     clicked AS (SELECT * FROM claimed WHERE prefetch = 0), \
                     v (key, day, k, n) AS ( \
                       SELECT key, at / {DAY_MS}, k, COUNT(*) FROM ( \
                         SELECT c.key, c.at, CASE \
                           WHEN d.value = '{BOT_REASON}' THEN '{BOT_REASON}:' || c.why \
                           WHEN c.prefetch = 0 THEN d.value || ':' || CASE d.value \
                             WHEN '{REFERRER}' THEN COALESCE(c.ref, '') \
                             WHEN '{COUNTRY}' THEN COALESCE(c.cc, '') \
                             WHEN '{DEVICE}' THEN c.dev \
                             WHEN '{VIA}' THEN c.via \
                             WHEN '{SOURCE}' THEN c.src \
                             WHEN '{CAMPAIGN}' THEN c.cmp END END AS k \
                         FROM claimed AS c, json_each('{DIMENSIONS}') AS d) \
                       WHERE k IS NOT NULL GROUP BY 1, 2, 3), \
                     ranked AS (SELECT v.*, ROW_NUMBER() OVER \
                       (PARTITION BY key, day, substr(k, 1, 2) ORDER BY n DESC, k) AS rank FROM v), \
                     capped (key, day, k, n) AS (SELECT key, day, \
                       CASE WHEN rank <= {VALUES_PER_DAY} THEN k ELSE substr(k, 1, 2) || '{OTHER}' END, SUM(n) \
                       FROM ranked GROUP BY 1, 2, 3), \
                     split (key, day, dims) AS (SELECT key, day, json_group_object(k, n) FROM capped GROUP BY 1, 2), \
                     totals (key, day, n, bots) AS (SELECT key, at / {DAY_MS}, SUM(1 - prefetch), SUM(bot * (1 - prefetch)) \
                       FROM claimed GROUP BY 1, 2), \
                     entries (key, day, k, n) AS (SELECT key, at / {DAY_MS}, CAST(u >> 6 AS TEXT), MAX(u & 63) \
                       FROM clicked WHERE u IS NOT NULL AND bot = 0 GROUP BY 1, 2, 3), \
                     sketch (key, day, visitors) AS (SELECT key, day, json_group_object(k, n) FROM entries GROUP BY 1, 2), \
                     per_hour (key, day, hours) AS (SELECT key, day, json_group_object(h, n) FROM ( \
                       SELECT key, at / {DAY_MS} AS day, CAST((at % {DAY_MS}) / {HOUR_MS} AS TEXT) AS h, COUNT(*) AS n \
                       FROM clicked GROUP BY 1, 2, 3) GROUP BY 1, 2) \
                     INSERT INTO daily (link_key, day, clicks, bots, dims, visitors, hours) \
                     SELECT t.key, t.day, t.n, t.bots, s.dims, COALESCE(v.visitors, '{{}}'), COALESCE(p.hours, '{{}}') \
                     FROM totals AS t JOIN split AS s USING (key, day) LEFT JOIN sketch AS v USING (key, day) \
                     LEFT JOIN per_hour AS p USING (key, day) WHERE true \
                     ON CONFLICT (link_key, day) DO UPDATE SET \
                       clicks = clicks + excluded.clicks, bots = bots + excluded.bots, \
                       hours = (SELECT json_group_object(k, n) FROM (SELECT k, SUM(n) AS n FROM ( \
                         SELECT key AS k, value AS n FROM json_each(daily.hours) \
                         UNION ALL SELECT key, value FROM json_each(excluded.hours)) GROUP BY k)), \
                       visitors = {merge}, \
                       dims = (SELECT json_group_object(k, n) FROM ( \
                         SELECT CASE WHEN known OR have + rank <= {VALUES_PER_DAY} THEN k \
                                     ELSE substr(k, 1, 2) || '{OTHER}' END AS k, SUM(n) AS n FROM ( \
                           SELECT k, n, known, have, ROW_NUMBER() OVER \
                             (PARTITION BY substr(k, 1, 2), src, known ORDER BY n DESC, k) AS rank FROM ( \
                             SELECT k, n, src, \
                               MAX(1 - src) OVER (PARTITION BY k) AS known, \
                               SUM(1 - src) OVER (PARTITION BY substr(k, 1, 2)) AS have \
                             FROM (SELECT key AS k, value AS n, 0 AS src FROM json_each(daily.dims) \
                                   UNION ALL SELECT key, value, 1 FROM json_each(excluded.dims)))) \
                         GROUP BY 1))",
                    merge = merged_sketch("daily.visitors", "excluded.visitors"),
                ),
                &args,
                "daily clicks",
            )?,
        ]);
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
        counters::click_rows(&results);
        Ok(())
    }

    /// A link's clicks per day and its top values per dimension over `window`: one
    /// round trip reading one row per day of the window that is still a day, and one
    /// per folded month the window reaches (counted whole), whatever the link's
    /// traffic. Sums and the union of visitor sketches are made here, not in SQL, so a
    /// sketch costs one row read, not one per register.
    pub async fn breakdown(
        &self,
        key: &str,
        window: &Window,
        top: usize,
    ) -> Result<Breakdown, StorageError> {
        let since_day = window.since.millis().div_euclid(DAY_MS);
        // The recent hours reach back before a window of one day.
        let first_recent_day = (window.first_recent_hour() * HOUR_MS).div_euclid(DAY_MS);
        let results = self
            .db
            .batch(
                vec![
                    self.db.statement(
                        "SELECT link_key, day, clicks, bots, dims, visitors, hours FROM daily \
                         WHERE link_key = ?1 AND day >= ?2",
                        &[
                            key.into(),
                            JsValue::from_f64(since_day.min(first_recent_day) as f64),
                        ],
                        "stats",
                    )?,
                    self.db.statement(
                        "SELECT link_key, month, clicks, bots, dims, visitors FROM monthly \
                         WHERE link_key = ?1 AND month >= ?2",
                        &[key.into(), JsValue::from_f64(month_start(since_day) as f64)],
                        "stats by month",
                    )?,
                ],
                "stats",
            )
            .await?;
        let failed = |e| StorageError::new("D1 stats", e);
        let mut read = 0;
        for result in &results {
            if let Ok(Some(meta)) = result.meta() {
                read += meta.rows_read.unwrap_or(0) as u64;
            }
        }
        counters::stats_rows_read(read);
        let mut parts = results.into_iter();
        let (Some(days), Some(months)) = (parts.next(), parts.next()) else {
            return Err(StorageError::new(
                "D1 stats",
                "a result missing from the batch",
            ));
        };
        let days: Vec<StoredDay> = days.results().map_err(failed)?;
        let months: Vec<StoredMonth> = months.results().map_err(failed)?;
        let mut breakdown = Breakdown::default();
        let mut window_total = Rollup::default();
        for month in &months {
            let rollup = month.rollup()?;
            breakdown.by_month.push((
                month.month as i64,
                rollup.clicks,
                rollup.visitors.estimate(),
            ));
            window_total.add(&rollup);
        }
        for row in &days {
            let day = row.day as i64;
            if day >= first_recent_day {
                let hours: BTreeMap<String, i64> =
                    serde_json::from_str(row.hours.as_deref().unwrap_or("{}")).map_err(|e| {
                        StorageError::new(format!("hours of key {key} day {day}"), e)
                    })?;
                for (hour, clicks) in hours {
                    if let Ok(hour) = hour.parse::<i64>() {
                        breakdown.by_hour.push((day * 24 + hour, clicks));
                    }
                }
            }
            if day < since_day {
                continue;
            }
            let rollup = row.rollup()?;
            breakdown.by_day.push((day, rollup.clicks));
            breakdown
                .visitors_by_day
                .push((day, rollup.visitors.estimate()));
            window_total.add(&rollup);
        }
        breakdown.visitors = window_total.visitors.estimate();
        let mut split: [Vec<(String, i64)>; 7] = Default::default();
        for (name, clicks) in window_total.dims {
            let Some((dim, value)) = name.split_once(':') else {
                continue;
            };
            let slot = match dim {
                REFERRER => &mut split[0],
                COUNTRY => &mut split[1],
                DEVICE => &mut split[2],
                VIA => &mut split[3],
                BOT_REASON => &mut split[4],
                SOURCE => &mut split[5],
                CAMPAIGN => &mut split[6],
                _ => continue,
            };
            slot.push((value.to_string(), clicks));
        }
        for values in &mut split {
            values.sort_by(|(a, x), (b, y)| y.cmp(x).then_with(|| a.cmp(b)));
            values.truncate(top);
        }
        let [referrers, countries, devices, served_by, bot_reasons, sources, campaigns] = split;
        breakdown.referrers = referrers;
        breakdown.countries = countries;
        breakdown.devices = devices;
        breakdown.served_by = served_by;
        breakdown.bot_reasons = bot_reasons;
        breakdown.sources = sources;
        breakdown.campaigns = campaigns;
        Ok(breakdown)
    }

    /// Up to `limit` daily rows of days before `before_day`, the oldest first (through
    /// `daily_day`, so only old rows are read).
    pub async fn old_days(
        &self,
        before_day: i64,
        limit: u32,
    ) -> Result<Vec<StoredDay>, StorageError> {
        self.db
            .rows(
                &format!(
                    "SELECT link_key, day, clicks, bots, dims, visitors FROM daily \
                     WHERE day < ?1 ORDER BY day, link_key LIMIT {limit}"
                ),
                &[JsValue::from_f64(before_day as f64)],
                "old days",
            )
            .await
    }

    /// The monthly rows of the `(link key, month)` pairs given.
    pub async fn months(&self, pairs: &[(&str, i64)]) -> Result<Vec<StoredMonth>, StorageError> {
        let pairs = serde_json::to_string(pairs).map_err(|e| StorageError::new("months", e))?;
        self.db
            .rows(
                "SELECT link_key, month, clicks, bots, dims, visitors FROM monthly \
                 WHERE (link_key, month) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?1))",
                &[pairs.into()],
                "months",
            )
            .await
    }

    /// Writes the folded months and deletes the days folded into them, in one
    /// transaction: a day is either in its month or still a day, never both. The months
    /// go as JSON texts of at most [`FOLD_TEXT_BYTES`] each, one statement per text
    /// (usually one), so a round costs a few statements whatever its rows.
    pub async fn fold(
        &self,
        months: &[FoldedMonth<'_>],
        days: &[(&str, i64)],
    ) -> Result<(), StorageError> {
        let failed = |e| StorageError::new("fold", e);
        let mut texts: Vec<Vec<serde_json::Value>> = vec![Vec::new()];
        let mut size = 0;
        for m in months {
            let row = serde_json::json!([
                m.link_key,
                m.month,
                m.rollup.clicks,
                m.rollup.bots,
                m.rollup.dims_stored(),
                m.rollup.visitors.to_stored()
            ]);
            let len = row.to_string().len();
            if size + len > FOLD_TEXT_BYTES && size > 0 {
                texts.push(Vec::new());
                size = 0;
            }
            size += len;
            if let Some(last) = texts.last_mut() {
                last.push(row);
            }
        }
        let mut statements = Vec::with_capacity(texts.len() + 1);
        for text in texts.iter().filter(|t| !t.is_empty()) {
            statements.push(self.db.statement(
                "INSERT OR REPLACE INTO monthly (link_key, month, clicks, bots, dims, visitors) \
                 SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5 \
                 FROM json_each(?1)",
                &[serde_json::to_string(text).map_err(failed)?.into()],
                "fold months",
            )?);
        }
        statements.push(self.db.statement(
            "DELETE FROM daily WHERE (link_key, day) IN \
             (SELECT value ->> 0, value ->> 1 FROM json_each(?1))",
            &[serde_json::to_string(days).map_err(failed)?.into()],
            "fold days",
        )?);
        self.db.batch(statements, "fold months").await?;
        Ok(())
    }

    /// Deletes up to `limit` monthly rows of months before `before_month`. How many.
    pub async fn prune_months(&self, before_month: i64, limit: u32) -> Result<usize, StorageError> {
        self.db
            .execute(
                &format!(
                    "DELETE FROM monthly WHERE (link_key, month) IN \
                     (SELECT link_key, month FROM monthly WHERE month < ?1 LIMIT {limit})"
                ),
                &[JsValue::from_f64(before_month as f64)],
                "prune months",
            )
            .await
    }

    /// Deletes up to `limit` raw visits older than `before` (the oldest first: ids grow
    /// with time). Returns how many went.
    pub async fn prune_visits(&self, before: Timestamp, limit: u32) -> Result<usize, StorageError> {
        self.db
            .execute(
                &format!(
                    "DELETE FROM visits WHERE id IN \
                     (SELECT id FROM visits WHERE at < ?1 ORDER BY id LIMIT {limit})"
                ),
                &[ms(before)],
                "prune visits",
            )
            .await
    }

    /// Empties the hours of up to `limit` daily rows of days `from_day..=to_day` that
    /// still have them (days past the recent hours the statistics show). A range of a
    /// few days, so the run reads only those days' rows through `daily_day`. How many.
    pub async fn clear_hours(
        &self,
        from_day: i64,
        to_day: i64,
        limit: u32,
    ) -> Result<usize, StorageError> {
        self.db
            .execute(
                &format!(
                    "UPDATE daily SET hours = '{{}}' WHERE (link_key, day) IN \
                     (SELECT link_key, day FROM daily WHERE day BETWEEN ?1 AND ?2 \
                      AND hours <> '{{}}' LIMIT {limit})"
                ),
                &[
                    JsValue::from_f64(from_day as f64),
                    JsValue::from_f64(to_day as f64),
                ],
                "clear hours",
            )
            .await
    }

    /// Deletes up to `limit` daily rows of days before `before_day`. Returns how many.
    pub async fn prune_days(&self, before_day: i64, limit: u32) -> Result<usize, StorageError> {
        self.db
            .execute(
                &format!(
                    "DELETE FROM daily WHERE (link_key, day) IN \
                     (SELECT link_key, day FROM daily WHERE day < ?1 LIMIT {limit})"
                ),
                &[JsValue::from_f64(before_day as f64)],
                "prune days",
            )
            .await
    }

    /// Deletes the guards of batches sent before `before_id` (a `batch_ids_before`).
    pub async fn prune_guards(&self, before_id: &str, limit: u32) -> Result<usize, StorageError> {
        prune_guards(&self.db, "applied_batches", before_id, limit).await
    }

    /// The raw visits of a link, newest first, before `before` (epoch ms).
    pub async fn recent_visits(
        &self,
        key: &str,
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
        args.insert(0, key.into());
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

/// Deletes up to `limit` guard rows of `table` whose batch was sent before `before_id`:
/// a range of the primary key (ids start with the sending time).
pub async fn prune_guards(
    db: &Database,
    table: &str,
    before_id: &str,
    limit: u32,
) -> Result<usize, StorageError> {
    db.execute(
        &format!(
            "DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE id < ?1 LIMIT {limit})"
        ),
        &[before_id.into()],
        "prune guards",
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dimension_list_names_every_dimension_once() {
        let listed: Vec<String> = serde_json::from_str(DIMENSIONS).unwrap();
        let mut all = vec![REFERRER, COUNTRY, DEVICE, VIA, BOT_REASON, SOURCE, CAMPAIGN];
        all.sort_unstable();
        let mut listed: Vec<&str> = listed.iter().map(String::as_str).collect();
        listed.sort_unstable();
        assert_eq!(listed, all);
    }
}
