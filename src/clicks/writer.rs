//! The D1 writes of clicks: the statistics on the analytics shards, then the exact
//! counters on the link rows; and the admission of a click-limited visit.
//!
//! Each side keeps a guard per click batch (`applied_batches` on a shard,
//! `click_batches` in the links database), claimed in the same transaction as that
//! side's update, so a batch applied twice (a queue redelivery after a partial
//! failure) counts once on each side. The shards are written first, so when a link's
//! counter shows a click its statistics already hold it.

use std::collections::BTreeMap;

use worker::wasm_bindgen::JsValue;
use worker::Env;

use super::analytics::{claimed, guard_sql, Shard};
use super::batch::{joined, shard_of_batch};
use crate::config::Config;
use crate::domain::link::LinkState;
use crate::domain::random::random_string;
use crate::domain::timestamp::{Timestamp, DAY_MS};
use crate::log::LogLine;
use crate::storage::counters;
use crate::storage::database::{int, ms, Database};
use crate::storage::error::StorageError;
use crate::storage::links::{LinkRef, LinkStore};

/// Symbols of a batch or write id: 31^16 ≈ 7 × 10^23, no collision in practice.
pub const ID_LEN: usize = 16;

/// The most JSON one D1 write of clicks binds (D1's limit for a string is 2 MB).
pub const MAX_WRITE_BYTES: usize = 1_000_000;

/// `batches` in order, in consecutive groups of at most `limit` bytes each (a batch
/// over the limit alone still makes a group: the sender keeps batches far smaller).
fn groups_under(batches: &[String], limit: usize) -> Vec<&[String]> {
    let mut groups = Vec::new();
    let (mut start, mut size) = (0, 0);
    for (i, batch) in batches.iter().enumerate() {
        if i > start && size + batch.len() > limit {
            groups.extend(batches.get(start..i));
            (start, size) = (i, 0);
        }
        size += batch.len() + 1;
    }
    if start < batches.len() {
        groups.extend(batches.get(start..));
    }
    groups
}

/// Whether a visit to a click-limited link was counted, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Counted,
    /// The link exists but may not be visited (deactivated, expired or exhausted).
    Refused(LinkState),
    /// No link has this key (any more).
    Missing,
}

/// Writes clicks to the links database and the analytics shards.
pub struct ClickWriter {
    db: Database,
}

impl ClickWriter {
    /// A writer on an already opened links database.
    pub fn on(db: Database) -> ClickWriter {
        ClickWriter { db }
    }

    /// Writes click batches: each shard's batches to that shard, then every counter in
    /// the links database. With `retried` (a queue delivery, which may come again),
    /// each side claims every batch in a guard table first, in the same transaction as
    /// its update: either step can fail alone, and the redelivery completes the missing
    /// one and repeats nothing. Without it (the direct write after the click window,
    /// which nothing repeats) no guard is written, and the counters are written even
    /// when a shard fails: they are the exact record, the statistics are not, and the
    /// shard's failure is logged here (the caller logs only lost clicks).
    ///
    /// The batches go in groups of at most [`MAX_WRITE_BYTES`] of JSON, one D1 write
    /// each: D1 refuses a string parameter over 2 MB, and a queue delivery of 100
    /// messages can carry 10 MB. A group that fails fails a retried write at once (the
    /// groups before it are guarded); otherwise the rest still go, and the first
    /// failure is returned.
    pub async fn write(
        &self,
        env: &Env,
        config: &Config,
        batches: &[String],
        now: Timestamp,
        retried: bool,
    ) -> Result<(), StorageError> {
        let mut first_failure = None;
        for group in groups_under(batches, MAX_WRITE_BYTES) {
            if let Err(e) = self.write_group(env, config, group, now, retried).await {
                if retried {
                    return Err(e);
                }
                first_failure.get_or_insert(e);
            }
        }
        first_failure.map_or(Ok(()), Err)
    }

    async fn write_group(
        &self,
        env: &Env,
        config: &Config,
        batches: &[String],
        now: Timestamp,
        retried: bool,
    ) -> Result<(), StorageError> {
        let write_id = random_string(ID_LEN).map_err(|e| StorageError::new("click write id", e))?;
        let mut by_shard: BTreeMap<u32, Vec<&str>> = BTreeMap::new();
        for batch in batches {
            by_shard
                .entry(shard_of_batch(batch))
                .or_default()
                .push(batch);
        }
        let keep_since = (config.visit_retention_days > 0).then(|| {
            Timestamp::from_millis(now.millis() - i64::from(config.visit_retention_days) * DAY_MS)
        });
        let mut shard_failure = None;
        for (shard, batches) in by_shard {
            let applied = match Shard::open(env, shard) {
                Ok(db) => db.apply(&batches, &write_id, retried, keep_since).await,
                Err(e) => Err(e),
            };
            if let Err(e) = applied {
                if retried {
                    return Err(e);
                }
                shard_failure = Some(e);
            }
        }
        self.count(batches, &write_id, retried).await?;
        if let Some(e) = shard_failure {
            // The clicks are counted; only their statistics are missing.
            LogLine::error("clicks.statistics")
                .message(
                    "statistics of click batches were not recorded (their clicks were counted)",
                )
                .count("batches", batches.len() as u64)
                .cause(e)
                .emit();
        }
        Ok(())
    }

    /// Adds the clicks of the batches to their links' counters, once per batch (with
    /// `guarded`, under the `click_batches` guard). Clicks a click-limited link counted
    /// on admission are left out.
    async fn count(
        &self,
        batches: &[String],
        write_id: &str,
        guarded: bool,
    ) -> Result<(), StorageError> {
        let args = [JsValue::from(joined(batches)), JsValue::from(write_id)];
        let mut statements = Vec::with_capacity(2);
        if guarded {
            statements.push(self.db.statement(
                &guard_sql("click_batches"),
                &args,
                "claim click batches",
            )?);
        }
        // One pass over the batches' visits, grouped per link.
        let count = self.db.statement(
            &format!(
                "WITH {} UPDATE links SET \
                 clicks = clicks + agg.n, \
                 bot_clicks = bot_clicks + agg.bots, \
                 first_click_at = COALESCE(first_click_at, agg.first), \
                 last_click_at = MAX(COALESCE(last_click_at, 0), agg.last) \
                 FROM (SELECT key, COUNT(*) AS n, SUM(bot) AS bots, MIN(at) AS first, MAX(at) AS last \
                       FROM claimed WHERE cnt = 0 AND prefetch = 0 GROUP BY key) AS agg \
                 WHERE links.stats_key = agg.key",
                claimed(guarded.then_some("click_batches"))
            ),
            &args,
            "count clicks",
        )?;
        statements.push(count);
        let results = self.db.batch(statements, "count clicks").await?;
        counters::click_rows(&results);
        Ok(())
    }

    /// Counts one visit to a click-limited link before it redirects. The increment is
    /// conditional, so the database decides whether the link may still be visited: a
    /// deactivated, expired or exhausted link gains nothing, and concurrent visits can
    /// never push `clicks` past `max_clicks`. The visit's statistics follow through the
    /// click window, marked as counted. Without `count` (a HEAD) nothing is counted and
    /// only the link's state is read.
    pub async fn admit(
        &self,
        key: &str,
        count: Option<bool>,
        now: Timestamp,
    ) -> Result<Admission, StorageError> {
        let Some(bot) = count else {
            return self.state(key, now).await;
        };
        let counted = self
            .db
            .execute(
                "UPDATE links SET clicks = clicks + 1, bot_clicks = bot_clicks + ?3, \
                 first_click_at = COALESCE(first_click_at, ?2), last_click_at = ?2 \
                 WHERE stats_key = ?1 AND is_active = 1 \
                 AND (expires_at IS NULL OR expires_at > ?2) \
                 AND (max_clicks IS NULL OR clicks < max_clicks)",
                &[key.into(), ms(now), int(i64::from(bot))],
                "count click",
            )
            .await?;
        if counted == 1 {
            return Ok(Admission::Counted);
        }
        // Refused: say why. A link that reads as active again lost a race for its last
        // click, so it is exhausted.
        Ok(match self.state(key, now).await? {
            Admission::Counted => Admission::Refused(LinkState::Exhausted),
            refused => refused,
        })
    }

    /// Whether the link would admit a visit now (`Counted`), or why not.
    async fn state(&self, key: &str, now: Timestamp) -> Result<Admission, StorageError> {
        let link = LinkStore::on(self.db.clone())
            .find(&LinkRef::Stats(key))
            .await?;
        Ok(match link.map(|l| l.state(now)) {
            None => Admission::Missing,
            Some(LinkState::Active) => Admission::Counted,
            Some(state) => Admission::Refused(state),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_big_delivery_is_written_in_groups_under_the_limit_in_order() {
        let batches: Vec<String> = (0..10).map(|i| format!("{i}").repeat(300)).collect();
        let groups = groups_under(&batches, 1000);
        assert_eq!(groups.len(), 4);
        assert!(groups
            .iter()
            .all(|g| g.iter().map(|b| b.len() + 1).sum::<usize>() <= 1000));
        assert_eq!(groups.concat(), batches);
        let huge = vec!["x".repeat(5000), "y".into()];
        assert_eq!(groups_under(&huge, 1000), vec![&huge[..1], &huge[1..]]);
        assert!(groups_under(&[], 1000).is_empty());
    }
}
