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
use crate::domain::shard::shard_of;
use crate::domain::stats::{Breakdown, Window, HOUR_MS, OTHER_VALUE};
use crate::domain::timestamp::{Timestamp, DAY_MS};
use crate::domain::visitors::{Tally, PRECISION, SPARSE_MAX, SPARSE_PRECISION};
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
/// Bot reasons whose visits are not clicks (link previews, mail scanners): SQL list.
pub const PREFETCH_REASONS: &str = "('link-preview', 'email-scanner')";

/// Packed sketch entries are below this (25 index bits, 6 rank bits).
const ENTRY_LIMIT: u64 = 1 << (SPARSE_PRECISION + 6);
/// The largest rank a sparse entry holds (the hash's last 39 bits all zero, plus one).
const SPARSE_MAX_RANK: u32 = 64 - SPARSE_PRECISION + 1;

/// The SQL of [`Entry::register`](crate::domain::visitors::Entry::register): a stored
/// sparse entry `k` ("s<index>") with rank `n` as its dense register's rank. The index
/// bits below the register pick the rank when any is set; else the entry's own rank
/// counts on from there.
fn dense_rank() -> String {
    let below = SPARSE_PRECISION - PRECISION;
    let low = format!("(CAST(substr(k, 2) AS INTEGER) & {})", (1u32 << below) - 1);
    let mut sql = format!("CASE WHEN {low} = 0 THEN {below} + n");
    for bit in (0..below).rev() {
        sql.push_str(&format!(
            " WHEN {low} >= {} THEN {}",
            1u32 << bit,
            below - bit
        ));
    }
    sql.push_str(" END");
    sql
}

/// A scalar subquery: the sketch (JSON object) that is the union of the `(k, n)` rows
/// of `entries` (stored entries of any form, new sparse entries). Sparse while the
/// union holds at most `SPARSE_MAX` entries and no dense register; dense otherwise,
/// every sparse entry moved to its register. Mirrors `domain::visitors::Sketch::merge`.
pub fn merged_sketch(entries: &str) -> String {
    let below = SPARSE_PRECISION - PRECISION;
    format!(
        "(SELECT json_group_object(d, r) FROM ( \
           SELECT CASE WHEN dense AND substr(k, 1, 1) = 's' \
                       THEN CAST(CAST(substr(k, 2) AS INTEGER) >> {below} AS TEXT) ELSE k END AS d, \
                  MAX(CASE WHEN dense AND substr(k, 1, 1) = 's' THEN {rank} ELSE n END) AS r \
           FROM (SELECT k, n, (COUNT(*) OVER () > {SPARSE_MAX} \
                               OR MAX(substr(k, 1, 1) <> 's') OVER ()) AS dense \
                 FROM (SELECT k, MAX(n) AS n FROM ({entries}) GROUP BY k)) \
           GROUP BY 1))",
        rank = dense_rank()
    )
}

/// One shard's database.
pub struct Shard {
    db: Database,
}

/// The visits of the batches in `?1`, as rows `claimed(key, at, ref, cc, dev, bot,
/// cnt, via, why, prefetch, u)`, each value brought within the CHECK constraints: the write never depends on
/// the sender having normalized it. With a guard table, only the batches this write
/// claimed there (their guard row carries `?2`); without one (a write that is never
/// repeated), every batch, and `?2` is unused.
pub fn claimed(guard: Option<&str>) -> String {
    let source = match guard {
        Some(table) => format!("JOIN {table} AS g ON g.id = {BATCH_ID} AND g.write_id = ?2"),
        None => "JOIN (SELECT ?2 AS write_id) AS g".to_string(),
    };
    format!(
        "raw (key, at, ref, cc, dev, bot, cnt, via, why, u) AS ( \
           SELECT {RECORD_COLUMNS} FROM json_each(?1) AS m {source}, \
           json_each(m.value, '{VISITS_PATH}') AS v), \
         claimed (key, at, ref, cc, dev, bot, cnt, via, why, prefetch, u) AS MATERIALIZED ( \
           SELECT key, CAST(at AS INTEGER), \
                  CASE WHEN typeof(ref) = 'text' AND length(ref) BETWEEN 1 AND 255 THEN ref END, \
                  CASE WHEN typeof(cc) = 'text' AND length(cc) = 2 THEN cc END, \
                  CASE WHEN dev IN ('desktop', 'mobile', 'tablet', 'bot', 'other') THEN dev ELSE 'other' END, \
                  CASE WHEN bot = 1 THEN 1 ELSE 0 END, \
                  CASE WHEN cnt = 1 THEN 1 ELSE 0 END, \
                  CASE WHEN typeof(via) = 'text' AND length(via) BETWEEN 1 AND 20 THEN via END, \
                  CASE WHEN typeof(why) = 'text' AND length(why) BETWEEN 1 AND 20 THEN why END, \
                  CASE WHEN why IN {PREFETCH_REASONS} THEN 1 ELSE 0 END, \
                  CASE WHEN typeof(u) = 'integer' AND u > 0 AND u < {ENTRY_LIMIT} \
                       AND (u & 63) BETWEEN 1 AND {SPARSE_MAX_RANK} THEN u END \
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

/// How a stored sketch is tallied: per (day,) form and rank, how many entries.
#[derive(Deserialize)]
struct TallyRow {
    #[serde(default)]
    day: f64,
    sparse: f64,
    rank: f64,
    n: f64,
}

/// The tally of one sketch from its rows: sparse if any entry is (a stored sketch is
/// all of one form).
fn tally<'a>(rows: impl Iterator<Item = &'a TallyRow>) -> Tally {
    let mut sparse = 0u32;
    let mut dense = Vec::new();
    let mut is_sparse = false;
    for row in rows {
        if row.sparse != 0.0 {
            is_sparse = true;
            sparse += row.n as u32;
        } else {
            dense.push((row.rank as u8, row.n as u32));
        }
    }
    if is_sparse {
        Tally::Sparse(sparse)
    } else {
        Tally::Dense(dense)
    }
}

/// The SQL that tallies the entries `j` of a sketch by form and rank.
const TALLY: &str = "substr(j.key, 1, 1) = 's' AS sparse, \
     CASE WHEN substr(j.key, 1, 1) = 's' THEN 0 ELSE j.value END AS rank, COUNT(*) AS n";

#[derive(Deserialize)]
struct HourRow {
    hour: f64,
    clicks: f64,
}

#[derive(Deserialize)]
struct DayRow {
    day: f64,
    clicks: f64,
    dims: String,
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
            self.db.statement(
                &format!(
                    "WITH {claimed}, \
                     clicked AS (SELECT * FROM claimed WHERE prefetch = 0), \
                     v (key, day, k, n) AS ( \
                       SELECT key, at / {DAY_MS}, '{REFERRER}:' || COALESCE(ref, ''), COUNT(*) FROM clicked GROUP BY 1, 2, 3 \
                       UNION ALL SELECT key, at / {DAY_MS}, '{COUNTRY}:' || COALESCE(cc, ''), COUNT(*) FROM clicked GROUP BY 1, 2, 3 \
                       UNION ALL SELECT key, at / {DAY_MS}, '{DEVICE}:' || dev, COUNT(*) FROM clicked GROUP BY 1, 2, 3 \
                       UNION ALL SELECT key, at / {DAY_MS}, '{VIA}:' || via, COUNT(*) FROM clicked \
                         WHERE via IS NOT NULL GROUP BY 1, 2, 3 \
                       UNION ALL SELECT key, at / {DAY_MS}, '{BOT_REASON}:' || why, COUNT(*) FROM claimed \
                         WHERE why IS NOT NULL GROUP BY 1, 2, 3), \
                     ranked AS (SELECT v.*, ROW_NUMBER() OVER \
                       (PARTITION BY key, day, substr(k, 1, 2) ORDER BY n DESC, k) AS rank FROM v), \
                     capped (key, day, k, n) AS (SELECT key, day, \
                       CASE WHEN rank <= {VALUES_PER_DAY} THEN k ELSE substr(k, 1, 2) || '{OTHER}' END, SUM(n) \
                       FROM ranked GROUP BY 1, 2, 3), \
                     split (key, day, dims) AS (SELECT key, day, json_group_object(k, n) FROM capped GROUP BY 1, 2), \
                     totals (key, day, n, bots) AS (SELECT key, at / {DAY_MS}, SUM(1 - prefetch), SUM(bot * (1 - prefetch)) \
                       FROM claimed GROUP BY 1, 2), \
                     entries (key, day, k, n) AS (SELECT key, at / {DAY_MS}, 's' || (u >> 6), MAX(u & 63) \
                       FROM clicked WHERE u IS NOT NULL AND bot = 0 GROUP BY 1, 2, 3), \
                     sketch (key, day, visitors) AS (SELECT key, day, json_group_object(k, n) FROM entries GROUP BY 1, 2), \
                     per_hour (key, day, hours) AS (SELECT key, day, json_group_object(h, n) FROM ( \
                       SELECT key, at / {DAY_MS} AS day, CAST((at % {DAY_MS}) / {HOUR_MS} AS TEXT) AS h, COUNT(*) AS n \
                       FROM clicked GROUP BY 1, 2, 3) GROUP BY 1, 2) \
                     INSERT INTO daily (link_key, day, clicks, bots, dims, visitors, hours) \
                     SELECT t.key, t.day, t.n, t.bots, s.dims, {fresh}, COALESCE(p.hours, '{{}}') \
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
                    fresh = merged_sketch("SELECT key AS k, value AS n FROM json_each(v.visitors)"),
                    merge = merged_sketch(
                        "SELECT key AS k, value AS n FROM json_each(daily.visitors) \
                         UNION ALL SELECT key, value FROM json_each(excluded.visitors)"
                    )
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
    /// statement reading one row per day, whatever the link's traffic; the split by
    /// dimension is summed here.
    pub async fn breakdown(
        &self,
        key: &str,
        window: &Window,
        top: usize,
    ) -> Result<Breakdown, StorageError> {
        let since_day = window.since.millis().div_euclid(DAY_MS);
        let args = [key.into(), JsValue::from_f64(since_day as f64)];
        // One round trip: the daily rows, each day's visitor sketch tallied, and the
        // window's sketches merged (a union: a visitor of several days counts once).
        let results = self
            .db
            .batch(
                vec![
                    self.db.statement(
                        "SELECT day, clicks, dims FROM daily WHERE link_key = ?1 AND day >= ?2",
                        &args,
                        "stats",
                    )?,
                    self.db.statement(
                        &format!(
                            "SELECT d.day AS day, {TALLY} FROM daily AS d, json_each(d.visitors) AS j \
                             WHERE d.link_key = ?1 AND d.day >= ?2 GROUP BY 1, 2, 3"
                        ),
                        &args,
                        "visitors per day",
                    )?,
                    self.db.statement(
                        &format!(
                            "SELECT {TALLY} FROM json_each({}) AS j GROUP BY 1, 2",
                            merged_sketch(
                                "SELECT j.key AS k, j.value AS n FROM daily AS d, \
                                 json_each(d.visitors) AS j WHERE d.link_key = ?1 AND d.day >= ?2"
                            )
                        ),
                        &args,
                        "visitors of the window",
                    )?,
                    self.db.statement(
                        "SELECT d.day * 24 + CAST(h.key AS INTEGER) AS hour, h.value AS clicks \
                         FROM daily AS d, json_each(d.hours) AS h WHERE d.link_key = ?1 AND d.day >= ?3",
                        &[
                            args[0].clone(),
                            args[1].clone(),
                            JsValue::from_f64(
                                (window.first_recent_hour() * HOUR_MS).div_euclid(DAY_MS) as f64,
                            ),
                        ],
                        "clicks by hour",
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
        let (Some(days), Some(per_day), Some(window_rows), Some(hours)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(StorageError::new(
                "D1 stats",
                "a result missing from the batch",
            ));
        };
        let rows: Vec<DayRow> = days.results().map_err(failed)?;
        let per_day: Vec<TallyRow> = per_day.results().map_err(failed)?;
        let window_rows: Vec<TallyRow> = window_rows.results().map_err(failed)?;
        let hours: Vec<HourRow> = hours.results().map_err(failed)?;
        let mut breakdown = Breakdown {
            by_hour: hours
                .into_iter()
                .map(|h| (h.hour as i64, h.clicks as i64))
                .collect(),
            ..Breakdown::default()
        };
        let mut days_seen: Vec<i64> = per_day.iter().map(|r| r.day as i64).collect();
        days_seen.sort_unstable();
        days_seen.dedup();
        breakdown.visitors_by_day = days_seen
            .into_iter()
            .map(|day| {
                let estimate = tally(per_day.iter().filter(|r| r.day as i64 == day)).estimate();
                (day, estimate)
            })
            .collect();
        breakdown.visitors = tally(window_rows.iter()).estimate();
        let mut totals: BTreeMap<String, i64> = BTreeMap::new();
        for row in rows {
            breakdown.by_day.push((row.day as i64, row.clicks as i64));
            let dims: BTreeMap<String, i64> = serde_json::from_str(&row.dims).map_err(|e| {
                StorageError::new(format!("daily row of key {key} day {}", row.day as i64), e)
            })?;
            for (name, clicks) in dims {
                *totals.entry(name).or_default() += clicks;
            }
        }
        let mut split: [Vec<(String, i64)>; 5] = Default::default();
        for (name, clicks) in totals {
            let Some((dim, value)) = name.split_once(':') else {
                continue;
            };
            let slot = match dim {
                REFERRER => &mut split[0],
                COUNTRY => &mut split[1],
                DEVICE => &mut split[2],
                VIA => &mut split[3],
                BOT_REASON => &mut split[4],
                _ => continue,
            };
            slot.push((value.to_string(), clicks));
        }
        for values in &mut split {
            values.sort_by(|(a, x), (b, y)| y.cmp(x).then_with(|| a.cmp(b)));
            values.truncate(top);
        }
        let [referrers, countries, devices, served_by, bot_reasons] = split;
        breakdown.referrers = referrers;
        breakdown.countries = countries;
        breakdown.devices = devices;
        breakdown.served_by = served_by;
        breakdown.bot_reasons = bot_reasons;
        Ok(breakdown)
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
