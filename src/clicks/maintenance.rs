//! The click store's upkeep jobs, each bounded per run: pruning raw visits past
//! `VISIT_RETENTION_DAYS`, daily aggregates past `AGGREGATE_RETENTION_DAYS` and batch
//! guards past the queue's retention, folding visits recorded before the
//! aggregates existed into them, and folding old days into months. The Cron entry (`background::upkeep`) calls each one
//! and logs its failure.

use serde::Deserialize;
use worker::Env;

use std::collections::BTreeMap;

use super::analytics::{prune_guards, FoldedMonth, Shard, VALUES_PER_DAY};
use super::batch::{
    batch_ids_before, batches_under, shard_of_batch, VisitRecord, MAX_MESSAGE_BYTES,
};
use super::writer::ID_LEN;
use crate::config::{Config, CLICK_GUARD_DAYS};
use crate::domain::random::random_string;
use crate::domain::rollup::Rollup;
use crate::domain::stats::{HOUR_MS, RECENT_HOURS};
use crate::domain::timestamp::{month_start, Timestamp, DAY_MS};
use crate::storage::database::{int, Database};
use crate::storage::error::StorageError;

/// Raw visits deleted per statement, and statements per shard per run.
const PRUNE_BATCH: u32 = 5_000;
const PRUNE_ROUNDS: u32 = 20;
/// Legacy visits folded per round, and rounds per run (a D1 statement binds one JSON
/// text, so a round is one read, one write per shard and one delete).
const FOLD_BATCH: u32 = 1_000;
const FOLD_ROUNDS: u32 = 20;

/// Deletes raw visits older than the retention (all of them when it is 0: the
/// operator turned raw visits off), oldest first, a bounded number per run.
pub async fn prune_visits(
    env: &Env,
    config: &Config,
    now: Timestamp,
) -> Result<usize, StorageError> {
    let before =
        Timestamp::from_millis(now.millis() - i64::from(config.visit_retention_days) * DAY_MS + 1);
    in_rounds(env, config, async |shard: &Shard| {
        shard.prune_visits(before, PRUNE_BATCH).await
    })
    .await
}

/// Runs a bounded delete on every shard until it deletes less than a full batch, at
/// most `PRUNE_ROUNDS` times per shard; the total deleted.
async fn in_rounds(
    env: &Env,
    config: &Config,
    delete: impl AsyncFn(&Shard) -> Result<usize, StorageError>,
) -> Result<usize, StorageError> {
    let mut pruned = 0;
    for shard in 0..config.analytics_shards {
        let shard = Shard::open(env, shard)?;
        pruned += rounds(async || delete(&shard).await).await?;
    }
    Ok(pruned)
}

/// Repeats a bounded delete until it deletes less than a full batch, at most
/// `PRUNE_ROUNDS` times; the total deleted.
async fn rounds(
    delete: impl AsyncFn() -> Result<usize, StorageError>,
) -> Result<usize, StorageError> {
    let mut pruned = 0;
    for _ in 0..PRUNE_ROUNDS {
        let n = delete().await?;
        pruned += n;
        if n < PRUNE_BATCH as usize {
            break;
        }
    }
    Ok(pruned)
}

/// Deletes daily aggregates older than `AGGREGATE_RETENTION_DAYS` (none when it is 0).
pub async fn prune_days(env: &Env, config: &Config, now: Timestamp) -> Result<usize, StorageError> {
    if config.aggregate_retention_days == 0 {
        return Ok(0);
    }
    // The retention counts today: 400 days keep today and the 399 before it.
    let before_day =
        now.millis().div_euclid(DAY_MS) - i64::from(config.aggregate_retention_days) + 1;
    let days = in_rounds(env, config, async |shard: &Shard| {
        shard.prune_days(before_day, PRUNE_BATCH).await
    })
    .await?;
    // A folded month goes once every one of its days is past the retention.
    let before_month = month_start(before_day);
    let months = in_rounds(env, config, async |shard: &Shard| {
        shard.prune_months(before_month, PRUNE_BATCH).await
    })
    .await?;
    Ok(days + months)
}

/// Daily rows folded per round, and rounds per shard per run: 5,000 rows a run, 720,000
/// a day per shard. A round is one read of days, one of their months, and one
/// transaction writing the months (one statement per 500 KB of them, usually one) and
/// deleting the days.
const MONTH_FOLD_BATCH: u32 = 250;
const MONTH_FOLD_ROUNDS: u32 = 20;

/// The first day that stays a day: the first of the previous UTC month. Days before it
/// are folded into months, so the daily rows kept always cover the last 31 days (every
/// window up to 31 days reads days only) and at most 62.
pub fn first_daily_day(now: Timestamp) -> i64 {
    month_start(month_start(now.millis().div_euclid(DAY_MS)) - 1)
}

/// Folds the daily rows of days before [`first_daily_day`] into one row per link and
/// month (clicks and bots summed, dims summed and capped at `VALUES_PER_DAY` per
/// dimension, visitor sketches united, hours dropped), bounded per run. Thirteen
/// months of statistics then keep about one row per link and month, not one per day
/// (docs/scaling.md). Only this job writes `monthly`, one run at a time (every ten
/// minutes, each bounded well below that).
pub async fn fold_months(
    env: &Env,
    config: &Config,
    now: Timestamp,
) -> Result<usize, StorageError> {
    let before_day = first_daily_day(now);
    let mut folded = 0;
    for n in 0..config.analytics_shards {
        let shard = Shard::open(env, n)?;
        for _ in 0..MONTH_FOLD_ROUNDS {
            let days = shard.old_days(before_day, MONTH_FOLD_BATCH).await?;
            let mut months: BTreeMap<(&str, i64), Rollup> = BTreeMap::new();
            for day in &days {
                months
                    .entry((day.link_key.as_str(), month_start(day.day as i64)))
                    .or_default()
                    .add(&day.rollup()?);
            }
            let pairs: Vec<(&str, i64)> = months.keys().copied().collect();
            let stored = shard.months(&pairs).await?;
            for month in &stored {
                if let Some(rollup) = months.get_mut(&(month.link_key.as_str(), month.month as i64))
                {
                    rollup.add(&month.rollup()?);
                }
            }
            for rollup in months.values_mut() {
                rollup.cap(VALUES_PER_DAY);
            }
            let written: Vec<FoldedMonth> = months
                .iter()
                .map(|(&(link_key, month), rollup)| FoldedMonth {
                    link_key,
                    month,
                    rollup,
                })
                .collect();
            let keys: Vec<(&str, i64)> = days
                .iter()
                .map(|d| (d.link_key.as_str(), d.day as i64))
                .collect();
            if !keys.is_empty() {
                shard.fold(&written, &keys).await?;
            }
            folded += days.len();
            if days.len() < MONTH_FOLD_BATCH as usize {
                break;
            }
        }
    }
    Ok(folded)
}

/// Empties the hourly split of daily rows that no statistics answer shows any more
/// (days wholly before the last `RECENT_HOURS`), bounded like the other prunes. Only the
/// last few such days are looked at: each run clears what the previous day left, and a
/// Cron job that stopped for longer than that leaves older hours in place (they cost
/// storage, not correctness).
pub async fn prune_hours(
    env: &Env,
    config: &Config,
    now: Timestamp,
) -> Result<usize, StorageError> {
    let first_shown_day = (now.millis().div_euclid(HOUR_MS) - RECENT_HOURS + 1) * HOUR_MS / DAY_MS;
    let (from, to) = (first_shown_day - HOURS_LOOKBACK_DAYS, first_shown_day - 1);
    in_rounds(env, config, async |shard: &Shard| {
        shard.clear_hours(from, to, PRUNE_BATCH).await
    })
    .await
}

/// Days before the first shown one that `prune_hours` looks at.
const HOURS_LOOKBACK_DAYS: i64 = 7;

/// Deletes the guards of batches sent before the queue could still redeliver them, in
/// bounded rounds like the other prunes. (Guards of legacy and fold batches are named
/// by their content, not their time, and stay: one per message sent before batch ids,
/// one per 1,000 visits folded.)
pub async fn prune_all_guards(
    env: &Env,
    config: &Config,
    now: Timestamp,
) -> Result<usize, StorageError> {
    let before = batch_ids_before(now.millis() - CLICK_GUARD_DAYS * DAY_MS);
    let links = Database::from_env(env)?;
    let before = before.as_str();
    let mut pruned =
        rounds(async || prune_guards(&links, "click_batches", before, PRUNE_BATCH).await).await?;
    pruned += in_rounds(env, config, async |shard: &Shard| {
        shard.prune_guards(before, PRUNE_BATCH).await
    })
    .await?;
    Ok(pruned)
}

/// A visit row of the links database from before the aggregates.
#[derive(Deserialize)]
struct LegacyVisit {
    id: f64,
    key: Option<String>,
    at: f64,
    referrer_host: Option<String>,
    country: Option<String>,
    device: String,
    is_bot: f64,
}

/// Folds the links database's old `visits` rows into the aggregates, then deletes
/// them there. Each round's batches are named by the rows they hold, so a round that
/// is repeated after a failure (between the shard write and the delete) is applied
/// once: the shards' guards recognize it. Their clicks are in the counters already.
pub async fn fold_legacy_visits(
    env: &Env,
    config: &Config,
    now: Timestamp,
) -> Result<usize, StorageError> {
    let links = Database::from_env(env)?;
    let keep_since = (config.visit_retention_days > 0).then(|| {
        Timestamp::from_millis(now.millis() - i64::from(config.visit_retention_days) * DAY_MS)
    });
    let mut folded = 0;
    for _ in 0..FOLD_ROUNDS {
        let rows: Vec<LegacyVisit> = links
            .rows(
                &format!(
                    "SELECT v.id AS id, l.stats_key AS key, v.at AS at, v.referrer_host AS referrer_host, \
                     v.country AS country, v.device AS device, v.is_bot AS is_bot \
                     FROM visits AS v LEFT JOIN links AS l ON l.id = v.link_id \
                     ORDER BY v.id LIMIT {FOLD_BATCH}"
                ),
                &[],
                "read legacy visits",
            )
            .await?;
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            break;
        };
        let (first, last) = (first.id as i64, last.id as i64);
        let full = rows.len() == FOLD_BATCH as usize;
        // A visit whose link is gone has nothing to fold into; it is deleted with the rest.
        let records: Vec<VisitRecord> = rows
            .into_iter()
            .filter_map(|v| {
                Some(VisitRecord {
                    key: v.key?,
                    at: v.at as i64,
                    referrer_host: v.referrer_host,
                    country: v.country,
                    device: v.device,
                    bot: u8::from(v.is_bot != 0.0),
                    counted: 1,
                    via: None,
                    why: None,
                    src: None,
                    cmp: None,
                    // Folded visits predate the sketch: clicks, not visitors.
                    visitor: None,
                })
            })
            .collect();
        let mut n = 0;
        let ids = || {
            n += 1;
            Ok(format!("fold-{first}-{last}-{n}"))
        };
        let batches = batches_under(&records, config.analytics_shards, MAX_MESSAGE_BYTES, ids)
            .map_err(|e| StorageError::new("fold batches", e))?;
        for shard in 0..config.analytics_shards {
            let mine: Vec<&str> = batches
                .iter()
                .filter(|b| shard_of_batch(b) == shard)
                .map(String::as_str)
                .collect();
            if !mine.is_empty() {
                // Fresh per attempt: a repeated round must not claim the guards of the
                // attempt before it.
                let write_id =
                    random_string(ID_LEN).map_err(|e| StorageError::new("fold write id", e))?;
                Shard::open(env, shard)?
                    .apply(&mine, &write_id, true, keep_since)
                    .await?;
            }
        }
        links
            .execute(
                "DELETE FROM visits WHERE id BETWEEN ?1 AND ?2",
                &[int(first), int(last)],
                "delete folded visits",
            )
            .await?;
        folded += records.len();
        if !full {
            break;
        }
    }
    Ok(folded)
}
