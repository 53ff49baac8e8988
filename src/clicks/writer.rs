//! The D1 write of clicks: the exact counters on the link row and one row per visit.
//! The SQL of clicks lives here, next to the format it reads (`batch`).

use worker::wasm_bindgen::JsValue;

use super::batch::{joined, VisitRecord, RECORD_COLUMNS, VISITS_PATH};
use crate::domain::key::Key;
use crate::domain::link::LinkState;
use crate::domain::random::random_string;
use crate::domain::timestamp::Timestamp;
use crate::storage::counters;
use crate::storage::d1::{changes, ms, Database, LinkRef, LinkStore};
use crate::storage::error::StorageError;

/// Symbols of a visit or batch id: 31^16 ≈ 7 × 10^23, no collision in practice.
pub const ID_LEN: usize = 16;

/// Whether a visit to a click-limited link was counted, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Counted,
    /// The link exists but may not be visited (deactivated, expired or exhausted).
    Refused(LinkState),
    /// No link has this key (any more).
    Missing,
}

/// Writes clicks to the links database.
pub struct ClickWriter {
    db: Database,
}

/// The visits of the batches in `?1` as rows `r(id, key, at, ref, cc, dev, bot)`, each
/// value brought within the `visits` CHECK constraints: a row that broke one would be
/// skipped by the insert and its click lost, so the write never depends on the sender
/// having normalized it (the domain does; this is the storage's own guarantee).
fn records_cte() -> String {
    format!(
        "WITH raw (id, key, at, ref, cc, dev, bot) AS ( \
           SELECT {RECORD_COLUMNS} FROM json_each(?1) AS m, json_each(m.value, '{VISITS_PATH}') AS v), \
         r (id, key, at, ref, cc, dev, bot) AS ( \
           SELECT id, key, CAST(at AS INTEGER), \
                  CASE WHEN typeof(ref) = 'text' AND length(ref) BETWEEN 1 AND 255 THEN ref END, \
                  CASE WHEN typeof(cc) = 'text' AND length(cc) = 2 THEN cc END, \
                  CASE WHEN dev IN ('desktop', 'mobile', 'tablet', 'bot', 'other') THEN dev ELSE 'other' END, \
                  CASE WHEN bot = 1 THEN 1 ELSE 0 END \
           FROM raw WHERE id IS NOT NULL AND at IS NOT NULL) "
    )
}

impl ClickWriter {
    /// A writer on an already opened database.
    pub fn on(db: Database) -> ClickWriter {
        ClickWriter { db }
    }

    /// Writes visits and their clicks in one D1 batch (one transaction, two statements
    /// whatever the batch size), under a fresh write id. Visits go in first, each under
    /// its id, so a redelivered batch adds nothing; then every link gains exactly the
    /// visits this write added (those tagged with the write id). Every visit counts,
    /// even if its link was deactivated before the batch landed: the redirect was served.
    pub async fn write(&self, batches: &[String]) -> Result<(), StorageError> {
        let write_id = random_string(ID_LEN).map_err(|e| StorageError::new("click write id", e))?;
        let insert = self.db.statement(
            &format!(
                "{} INSERT OR IGNORE INTO visits \
                 (visit_id, batch, link_id, at, referrer_host, country, device, is_bot) \
                 SELECT r.id, ?2, l.id, r.at, r.ref, r.cc, r.dev, r.bot \
                 FROM r JOIN links AS l ON l.key = r.key",
                records_cte()
            ),
            &[joined(batches).into(), write_id.as_str().into()],
            "record visits",
        )?;
        // One pass over this write's rows (the `visits_batch` index), grouped per link.
        // Correlated subqueries here would be planned on `visits (link_id, at)` and read
        // every visit the link ever had, on every flush.
        let count = self.db.statement(
            "UPDATE links SET \
             clicks = clicks + agg.n, \
             bot_clicks = bot_clicks + agg.bots, \
             first_click_at = COALESCE(first_click_at, agg.first), \
             last_click_at = MAX(COALESCE(last_click_at, 0), agg.last) \
             FROM (SELECT link_id, COUNT(*) AS n, SUM(is_bot) AS bots, \
                          MIN(at) AS first, MAX(at) AS last \
                   FROM visits WHERE batch = ?1 GROUP BY link_id) AS agg \
             WHERE links.id = agg.link_id",
            &[write_id.as_str().into()],
            "count clicks",
        )?;
        let results = self.db.batch(vec![insert, count], "record visits").await?;
        for meta in results.iter().filter_map(|r| r.meta().ok().flatten()) {
            counters::click_rows_read(meta.rows_read.unwrap_or(0) as u64);
        }
        Ok(())
    }

    /// Counts one visit to a click-limited link before it redirects. The increment and
    /// the visit row are written together in one batch (one transaction). The increment
    /// is conditional, so the database decides whether the link may still be visited: a
    /// deactivated, expired or exhausted link gains nothing, and concurrent visits can
    /// never push `clicks` past `max_clicks`. With no record (a HEAD), nothing is
    /// counted and only the link's state is read.
    pub async fn admit(
        &self,
        key: &Key,
        record: Option<&VisitRecord>,
        now: Timestamp,
    ) -> Result<Admission, StorageError> {
        let Some(record) = record else {
            return self.state(key, now).await;
        };
        let batch = super::batch::batches_under(std::slice::from_ref(record), usize::MAX)
            .map_err(|e| StorageError::new("click record", e))?;
        let count = self.db.statement(
            "UPDATE links SET clicks = clicks + 1, bot_clicks = bot_clicks + ?3, \
             first_click_at = COALESCE(first_click_at, ?2), last_click_at = ?2 \
             WHERE key = ?1 AND is_active = 1 \
             AND (expires_at IS NULL OR expires_at > ?2) \
             AND (max_clicks IS NULL OR clicks < max_clicks)",
            &[
                key.as_str().into(),
                ms(now),
                JsValue::from_f64(f64::from(u8::from(record.bot == 1))),
            ],
            "count click",
        )?;
        // changes() is the row count of the UPDATE just before, in the same transaction.
        let row = self.db.statement(
            &format!(
                "{} INSERT OR IGNORE INTO visits \
                 (visit_id, link_id, at, referrer_host, country, device, is_bot) \
                 SELECT r.id, l.id, r.at, r.ref, r.cc, r.dev, r.bot \
                 FROM r JOIN links AS l ON l.key = r.key WHERE changes() = 1",
                records_cte()
            ),
            &[joined(&batch).into()],
            "record visit",
        )?;
        let results = self.db.batch(vec![count, row], "record visit").await?;
        if results.first().is_some_and(|r| changes(r) == 1) {
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
    async fn state(&self, key: &Key, now: Timestamp) -> Result<Admission, StorageError> {
        let link = LinkStore::on(self.db.clone())
            .find(&LinkRef::Key(key))
            .await?;
        Ok(match link.map(|l| l.state(now)) {
            None => Admission::Missing,
            Some(LinkState::Active) => Admission::Counted,
            Some(state) => Admission::Refused(state),
        })
    }
}
