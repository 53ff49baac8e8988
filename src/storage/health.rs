//! The health columns of the `links` table: which links the scheduled checks take
//! next, and the record of one check. The columns are described in
//! `migrations/0006_health.sql`.

use super::database::{int, ms, opt};
use super::error::StorageError;
use super::links::{link_of, single, LinkRow, LinkStore, LINK_COLUMNS};
use crate::domain::health::{Health, HealthState};
use crate::domain::link::Link;
use crate::domain::timestamp::Timestamp;

impl LinkStore {
    /// Up to `limit` links that redirect now and are due for a check, stalest first:
    /// a range scan of `links_health_due`. Expired and exhausted links are skipped, as
    /// no visitor can reach their target through this service.
    pub async fn due_for_check(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<Link>, StorageError> {
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM links WHERE is_active = 1 AND health_due_at <= ?1 \
             AND (expires_at IS NULL OR expires_at > ?1) \
             AND (max_clicks IS NULL OR clicks < max_clicks) \
             ORDER BY health_due_at, id LIMIT ?2"
        );
        let rows: Vec<LinkRow> = self
            .db
            .rows(&sql, &[ms(now), int(i64::from(limit))], "due for check")
            .await?;
        rows.into_iter()
            .map(|row| link_of(row).map_err(|bad| bad.error))
            .collect()
    }

    /// Sets aside, until `until`, up to `limit` due links that cannot redirect (expired,
    /// or at their click limit): [`Self::due_for_check`] skips them, and left due they
    /// would be read again by every run. A change that lets one redirect again makes it
    /// due at once (see `links::health_after`). How many were set aside.
    pub async fn park_unreachable(
        &self,
        now: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> Result<usize, StorageError> {
        self.db
            .execute(
                "UPDATE links SET health_due_at = ?2 WHERE id IN (SELECT id FROM links \
                 WHERE is_active = 1 AND health_due_at <= ?1 \
                 AND ((expires_at IS NOT NULL AND expires_at <= ?1) \
                 OR (max_clicks IS NOT NULL AND clicks >= max_clicks)) LIMIT ?3)",
                &[ms(now), ms(until), int(i64::from(limit))],
                "park unreachable",
            )
            .await
    }

    /// Records a check of `key` whose previous health was `before`, and returns the
    /// link as it now is. Only if nobody recorded another check since `before` was
    /// read (`None`: someone did, and their record stands): two checks racing cannot
    /// count one failure twice. When the link turns dead or stops being dead its
    /// redirect changes, so `version` is bumped for the cache's re-check.
    pub async fn record_check(
        &self,
        stats_key: &str,
        before: &Health,
        after: &Health,
        due_at: Timestamp,
    ) -> Result<Option<Link>, StorageError> {
        let redirect_changes =
            (before.state == HealthState::Dead) != (after.state == HealthState::Dead);
        let sql = format!(
            "UPDATE links SET health_state = ?2, health_checked_at = ?3, health_status = ?4, \
             health_reason = ?5, health_since = ?6, health_failures = ?7, health_due_at = ?8, \
             version = version + ?9 \
             WHERE stats_key = ?1 AND health_checked_at IS ?10 RETURNING {LINK_COLUMNS}"
        );
        let rows: Vec<LinkRow> = self
            .db
            .rows(
                &sql,
                &[
                    stats_key.into(),
                    after.state.as_str().into(),
                    opt(after.checked_at, ms),
                    opt(after.status_code, |c| int(i64::from(c))),
                    opt(after.reason.as_deref(), |r| r.into()),
                    opt(after.since, ms),
                    int(i64::from(after.failures)),
                    ms(due_at),
                    int(i64::from(redirect_changes)),
                    opt(before.checked_at, ms),
                ],
                "record check",
            )
            .await?;
        single(rows)
    }
}
