//! The `links` and `visits` tables in D1. All SQL of the service lives in this file.

use serde::Deserialize;
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result, Env};

use super::counters;
use crate::config::DB_BINDING;
use crate::domain::key::Key;
use crate::domain::link::{Link, RedirectStatus};
use crate::domain::link_request::{Change, LinkPatch};
use crate::domain::secret::{sha256_hex, SecretHash};
use crate::domain::stats::{CountryClicks, DeviceClicks, HostClicks, Stats, Window, TOP};
use crate::domain::timestamp::{Timestamp, DAY_MS};
use crate::domain::visit::VisitRecord;
use crate::http::error::ApiError;

/// A new row, with the secret already hashed.
pub struct NewRow<'a> {
    pub key: &'a Key,
    pub target_url: &'a str,
    pub target_host: &'a str,
    pub target_hash: &'a str,
    pub secret_hash: &'a SecretHash,
    pub expires_at: Option<Timestamp>,
    pub max_clicks: Option<i64>,
    pub redirect_status: Option<RedirectStatus>,
    pub forward_query: bool,
    pub reuse: bool,
    pub now: Timestamp,
}

/// How a request names a link: its owner by the secret's hash, the operator by key.
pub enum LinkRef<'a> {
    Secret(&'a SecretHash),
    Key(&'a Key),
}

/// A page of links, newest first, and the cursor of the next page.
pub struct Page {
    pub links: Vec<Link>,
    pub next_cursor: Option<String>,
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
    expires_at: Option<i64>,
    max_clicks: Option<i64>,
    redirect_status: Option<i64>,
    forward_query: i64,
    version: i64,
}

impl From<LinkRow> for Link {
    fn from(row: LinkRow) -> Link {
        Link {
            key: row.key,
            target_url: row.target_url,
            is_active: row.is_active != 0,
            clicks: row.clicks,
            created_at: Timestamp::from_millis(row.created_at),
            expires_at: row.expires_at.map(Timestamp::from_millis),
            max_clicks: row.max_clicks,
            redirect_status: row.redirect_status.and_then(RedirectStatus::from_code),
            forward_query: row.forward_query != 0,
            version: row.version,
        }
    }
}

const LINK_COLUMNS: &str = "key, target_url, is_active, clicks, created_at, expires_at, \
                            max_clicks, redirect_status, forward_query, version";

fn unavailable(what: &str) -> impl Fn(worker::Error) -> ApiError + '_ {
    move |e| ApiError::StorageUnavailable(format!("D1 {what}: {e}"))
}

fn ms(t: Timestamp) -> JsValue {
    // Milliseconds since 1970 stay below 2^53 for another 285,000 years.
    JsValue::from_f64(t.millis() as f64)
}

fn int(n: i64) -> JsValue {
    JsValue::from_f64(n as f64)
}

fn opt<T>(value: Option<T>, f: impl Fn(T) -> JsValue) -> JsValue {
    value.map_or(JsValue::NULL, f)
}

fn flag(b: bool) -> JsValue {
    int(i64::from(b))
}

fn changes(result: &D1Result) -> usize {
    result
        .meta()
        .ok()
        .flatten()
        .and_then(|m| m.changes)
        .unwrap_or(0)
}

impl LinkRef<'_> {
    fn condition(&self) -> (&'static str, JsValue) {
        match self {
            LinkRef::Secret(hash) => ("secret_hash = ?1", hash.as_str().into()),
            LinkRef::Key(key) => ("key = ?1", key.as_str().into()),
        }
    }
}

impl LinkStore {
    /// Opens the D1 binding; a missing binding is an unavailable store.
    pub fn from_env(env: &Env) -> Result<LinkStore, ApiError> {
        let db = env.d1(DB_BINDING).map_err(unavailable("binding"))?;
        Ok(LinkStore { db })
    }

    fn statement(
        &self,
        sql: &str,
        args: &[JsValue],
        what: &str,
    ) -> Result<D1PreparedStatement, ApiError> {
        counters::d1_statements(1);
        self.db.prepare(sql).bind(args).map_err(unavailable(what))
    }

    async fn batch(
        &self,
        statements: Vec<D1PreparedStatement>,
        what: &str,
    ) -> Result<Vec<D1Result>, ApiError> {
        self.db.batch(statements).await.map_err(unavailable(what))
    }

    async fn first<T: for<'de> Deserialize<'de>>(
        &self,
        sql: &str,
        args: &[JsValue],
        what: &str,
    ) -> Result<Option<T>, ApiError> {
        self.statement(sql, args, what)?
            .first(None)
            .await
            .map_err(unavailable(what))
    }

    async fn all<T: for<'de> Deserialize<'de>>(
        &self,
        sql: &str,
        args: &[JsValue],
        what: &str,
    ) -> Result<Vec<T>, ApiError> {
        self.statement(sql, args, what)?
            .all()
            .await
            .map_err(unavailable(what))?
            .results()
            .map_err(unavailable(what))
    }

    fn insert_statement(&self, row: &NewRow<'_>) -> Result<D1PreparedStatement, ApiError> {
        // DO NOTHING on any uniqueness conflict: a taken key, or (for reuse) another
        // shared link for the same target. The caller tells them apart.
        self.statement(
            "INSERT INTO links (key, target_url, target_host, target_hash, secret_hash, \
             expires_at, max_clicks, redirect_status, forward_query, reuse, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11) ON CONFLICT DO NOTHING",
            &[
                row.key.as_str().into(),
                row.target_url.into(),
                row.target_host.into(),
                row.target_hash.into(),
                row.secret_hash.as_str().into(),
                opt(row.expires_at, ms),
                opt(row.max_clicks, int),
                opt(row.redirect_status, |s| int(i64::from(s.code()))),
                flag(row.forward_query),
                flag(row.reuse),
                ms(row.now),
            ],
            "insert",
        )
    }

    /// Inserts a link unless a unique index refuses it. Returns whether the row was
    /// inserted: the index decides collisions, never a read-then-write.
    pub async fn insert(&self, row: &NewRow<'_>) -> Result<bool, ApiError> {
        let result = self
            .insert_statement(row)?
            .run()
            .await
            .map_err(unavailable("insert"))?;
        Ok(changes(&result) == 1)
    }

    /// Inserts many links in one round trip; one `bool` per row, in order.
    pub async fn insert_many(&self, rows: &[NewRow<'_>]) -> Result<Vec<bool>, ApiError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let statements = rows
            .iter()
            .map(|row| self.insert_statement(row))
            .collect::<Result<Vec<_>, _>>()?;
        let results = self.batch(statements, "bulk insert").await?;
        Ok(results.iter().map(|r| changes(r) == 1).collect())
    }

    /// The active shared link for a target, found through the partial unique index.
    pub async fn find_reusable(&self, target_hash: &str) -> Result<Option<Link>, ApiError> {
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM links WHERE target_hash = ?1 AND reuse = 1 AND is_active = 1"
        );
        let row: Option<LinkRow> = self
            .first(&sql, &[target_hash.into()], "find reusable")
            .await?;
        Ok(row.map(Link::from))
    }

    pub async fn find(&self, link: &LinkRef<'_>) -> Result<Option<Link>, ApiError> {
        let (condition, arg) = link.condition();
        let sql = format!("SELECT {LINK_COLUMNS} FROM links WHERE {condition}");
        let row: Option<LinkRow> = self.first(&sql, &[arg], "find").await?;
        Ok(row.map(Link::from))
    }

    /// Applies a change and returns the link as it now is. Every change bumps
    /// `version` (so a concurrent cache fill notices) and takes the link out of the
    /// dedupe pool: an edited link is no longer "the" link for its original target.
    pub async fn update(
        &self,
        link: &LinkRef<'_>,
        patch: &LinkPatch,
        now: Timestamp,
    ) -> Result<Option<Link>, ApiError> {
        let (condition, selector) = link.condition();
        let mut args = vec![selector, ms(now)];
        let mut sets = vec![
            "version = version + 1".to_string(),
            "reuse = 0".to_string(),
            "updated_at = ?2".to_string(),
        ];
        let target = patch.target.as_ref();
        let changes = [
            ("target_url", target.map(|t| t.as_str().into())),
            ("target_host", target.map(|t| t.host().into())),
            ("target_hash", target.map(|t| sha256_hex(t.as_str()).into())),
            ("is_active", patch.is_active.map(flag)),
            ("forward_query", patch.forward_query.map(flag)),
            ("expires_at", change(&patch.expires_at, |t| ms(*t))),
            ("max_clicks", change(&patch.max_clicks, |n| int(*n))),
            (
                "redirect_status",
                change(&patch.redirect_status, |s| int(i64::from(s.code()))),
            ),
        ];
        for (column, value) in changes {
            if let Some(value) = value {
                args.push(value);
                sets.push(format!("{column} = ?{}", args.len()));
            }
        }
        let sql = format!(
            "UPDATE links SET {} WHERE {condition} RETURNING {LINK_COLUMNS}",
            sets.join(", ")
        );
        let row: Option<LinkRow> = self.first(&sql, &args, "update").await?;
        Ok(row.map(Link::from))
    }

    /// Counts one visit: the click increment and the visit row are written together in
    /// one batch (one transaction). The increment is conditional, so the database
    /// decides whether the link may still be visited: a deactivated, expired or
    /// exhausted link gains nothing, and concurrent visits can never push `clicks` past
    /// `max_clicks`. Returns whether the visit was counted.
    pub async fn record_visit(
        &self,
        key: &Key,
        visit: &VisitRecord,
        now: Timestamp,
    ) -> Result<bool, ApiError> {
        let bot = int(i64::from(visit.bot));
        let count = self.statement(
            "UPDATE links SET clicks = clicks + 1, bot_clicks = bot_clicks + ?3, \
             first_click_at = COALESCE(first_click_at, ?2), last_click_at = ?2 \
             WHERE key = ?1 AND is_active = 1 \
             AND (expires_at IS NULL OR expires_at > ?2) \
             AND (max_clicks IS NULL OR clicks < max_clicks)",
            &[key.as_str().into(), ms(now), bot.clone()],
            "count click",
        )?;
        // changes() is the row count of the UPDATE just before, in the same transaction.
        let row = self.statement(
            "INSERT INTO visits (link_id, at, referrer_host, country, device, is_bot) \
             SELECT id, ?2, ?3, ?4, ?5, ?6 FROM links WHERE key = ?1 AND changes() = 1",
            &[
                key.as_str().into(),
                ms(now),
                opt(visit.referrer_host.as_deref(), JsValue::from),
                opt(visit.country.as_deref(), JsValue::from),
                visit.device.as_str().into(),
                bot,
            ],
            "record visit",
        )?;
        let results = self.batch(vec![count, row], "record visit").await?;
        Ok(results.first().is_some_and(|r| changes(r) == 1))
    }

    /// Writes visits and their clicks in one D1 batch (one transaction, two statements
    /// whatever the batch size). `batches` is a JSON array of click batches, each
    /// `{"visits":[...]}` as `storage::clicks` builds them, read here by `json_each`
    /// (so the worker never parses them). Visits go in first, each under its id, so
    /// a redelivered batch adds nothing; then every link gains exactly the visits this
    /// write added (those tagged with `batch`). Every visit counts, even if its link
    /// was deactivated before the batch landed: the redirect was served.
    pub async fn record_visits(&self, batches: &str, batch: &str) -> Result<(), ApiError> {
        // Rows without an id could not be told apart on a redelivery, and rows that break
        // a constraint are skipped (OR IGNORE covers CHECK and NOT NULL), not the batch.
        let insert = self.statement(
            "INSERT OR IGNORE INTO visits \
             (visit_id, batch, link_id, at, referrer_host, country, device, is_bot) \
             SELECT v.value ->> 'id', ?2, l.id, v.value ->> 'at', v.value ->> 'ref', \
                    v.value ->> 'cc', v.value ->> 'dev', v.value ->> 'bot' \
             FROM json_each(?1) AS m, json_each(m.value, '$.visits') AS v \
             JOIN links AS l ON l.key = v.value ->> 'key' \
             WHERE v.value ->> 'id' IS NOT NULL",
            &[batches.into(), batch.into()],
            "record visits",
        )?;
        // One pass over this batch's rows (the `visits_batch` index), grouped per link.
        // Correlated subqueries here would be planned on `visits (link_id, at)` and read
        // every visit the link ever had, on every flush.
        let count = self.statement(
            "UPDATE links SET \
             clicks = clicks + agg.n, \
             bot_clicks = bot_clicks + agg.bots, \
             first_click_at = COALESCE(first_click_at, agg.first), \
             last_click_at = MAX(COALESCE(last_click_at, 0), agg.last) \
             FROM (SELECT link_id, COUNT(*) AS n, SUM(is_bot) AS bots, \
                          MIN(at) AS first, MAX(at) AS last \
                   FROM visits WHERE batch = ?1 GROUP BY link_id) AS agg \
             WHERE links.id = agg.link_id",
            &[batch.into()],
            "count clicks",
        )?;
        let results = self.batch(vec![insert, count], "record visits").await?;
        for meta in results.iter().filter_map(|r| r.meta().ok().flatten()) {
            counters::click_rows_read(meta.rows_read.unwrap_or(0) as u64);
        }
        Ok(())
    }

    /// Statistics of one link: O(1) totals from the link row, and breakdowns over the
    /// window read through the `visits (link_id, at)` index, all in one round trip.
    pub async fn stats(&self, key: &Key, window: &Window) -> Result<Stats, ApiError> {
        #[derive(Deserialize)]
        struct Totals {
            clicks: i64,
            bot_clicks: i64,
            first_click_at: Option<i64>,
            last_click_at: Option<i64>,
        }
        #[derive(Deserialize)]
        struct Group {
            name: Option<String>,
            clicks: i64,
        }
        #[derive(Deserialize)]
        struct Day {
            day: i64,
            clicks: i64,
        }
        let args = || -> [JsValue; 2] { [key.as_str().into(), ms(window.since)] };
        let in_window =
            "FROM visits WHERE link_id = (SELECT id FROM links WHERE key = ?1) AND at >= ?2";
        let group = |column: &str, limit: usize| {
            format!(
                "SELECT {column} AS name, COUNT(*) AS clicks {in_window} \
                 GROUP BY {column} ORDER BY clicks DESC, name LIMIT {limit}"
            )
        };
        let statements = vec![
            self.statement(
                "SELECT clicks, bot_clicks, first_click_at, last_click_at FROM links WHERE key = ?1",
                &[key.as_str().into()],
                "stats totals",
            )?,
            self.statement(
                &format!("SELECT at / {DAY_MS} AS day, COUNT(*) AS clicks {in_window} GROUP BY day"),
                &args(),
                "stats by day",
            )?,
            self.statement(&group("referrer_host", TOP), &args(), "stats referrers")?,
            self.statement(&group("country", TOP), &args(), "stats countries")?,
            self.statement(&group("device", 5), &args(), "stats devices")?,
        ];
        let results = self.batch(statements, "stats").await?;
        let rows = |i: usize| -> Result<&D1Result, ApiError> {
            results
                .get(i)
                .ok_or_else(|| ApiError::StorageUnavailable("D1 stats: short batch".into()))
        };
        let parse = |e: worker::Error| ApiError::StorageUnavailable(format!("D1 stats: {e}"));
        let totals: Totals = rows(0)?
            .results::<Totals>()
            .map_err(parse)?
            .into_iter()
            .next()
            .ok_or(ApiError::NotFound)?;
        let days: Vec<Day> = rows(1)?.results().map_err(parse)?;
        let groups =
            |i: usize| -> Result<Vec<Group>, ApiError> { rows(i)?.results().map_err(parse) };
        let fmt = |t: Option<i64>| t.map(|ms| Timestamp::from_millis(ms).to_rfc3339());
        Ok(Stats {
            clicks: totals.clicks,
            humans: totals.clicks - totals.bot_clicks,
            bots: totals.bot_clicks,
            first_click_at: fmt(totals.first_click_at),
            last_click_at: fmt(totals.last_click_at),
            days: window.days,
            by_day: window.by_day(&days.iter().map(|d| (d.day, d.clicks)).collect::<Vec<_>>()),
            referrers: groups(2)?
                .into_iter()
                .map(|g| HostClicks {
                    host: g.name.unwrap_or_else(|| "direct".into()),
                    clicks: g.clicks,
                })
                .collect(),
            countries: groups(3)?
                .into_iter()
                .map(|g| CountryClicks {
                    country: g.name.unwrap_or_else(|| "unknown".into()),
                    clicks: g.clicks,
                })
                .collect(),
            devices: groups(4)?
                .into_iter()
                .map(|g| DeviceClicks {
                    device: g.name.unwrap_or_else(|| "other".into()),
                    clicks: g.clicks,
                })
                .collect(),
        })
    }

    /// One page of links, newest first, by keyset pagination on (created_at, key): each
    /// page is an index range scan, however deep, never an OFFSET.
    pub async fn list(
        &self,
        cursor: Option<&Cursor>,
        limit: u32,
        host: Option<&str>,
    ) -> Result<Page, ApiError> {
        let mut conditions = Vec::new();
        let mut args: Vec<JsValue> = Vec::new();
        if let Some(host) = host {
            args.push(host.into());
            conditions.push(format!("target_host = ?{}", args.len()));
        }
        if let Some(cursor) = cursor {
            args.push(ms(cursor.created_at));
            args.push(cursor.key.as_str().into());
            conditions.push(format!(
                "(created_at, key) < (?{}, ?{})",
                args.len() - 1,
                args.len()
            ));
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        // One extra row tells whether another page follows.
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM links {filter} ORDER BY created_at DESC, key DESC LIMIT {}",
            limit + 1
        );
        let mut links: Vec<Link> = self
            .all::<LinkRow>(&sql, &args, "list")
            .await?
            .into_iter()
            .map(Link::from)
            .collect();
        let next_cursor = if links.len() > limit as usize {
            links.truncate(limit as usize);
            links.last().map(|l| {
                Cursor {
                    created_at: l.created_at,
                    key: l.key.clone(),
                }
                .encode()
            })
        } else {
            None
        };
        Ok(Page { links, next_cursor })
    }

    /// A trivial query that proves the database answers.
    pub async fn ping(&self) -> Result<(), ApiError> {
        self.statement("SELECT 1", &[], "ping")?
            .run()
            .await
            .map_err(unavailable("ping"))?;
        Ok(())
    }

    /// Up to `limit` links after `after`, oldest first: one page of an export.
    pub async fn export_page(
        &self,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Vec<Link>, ApiError> {
        let (filter, args) = match after {
            Some(c) => (
                "WHERE (created_at, key) > (?1, ?2)",
                vec![ms(c.created_at), c.key.as_str().into()],
            ),
            None => ("", Vec::new()),
        };
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM links {filter} ORDER BY created_at, key LIMIT {limit}"
        );
        let rows = self.all::<LinkRow>(&sql, &args, "export").await?;
        Ok(rows.into_iter().map(Link::from).collect())
    }
}

fn change<T>(c: &Change<T>, f: impl Fn(&T) -> JsValue) -> Option<JsValue> {
    match c {
        Change::Keep => None,
        Change::Clear => Some(JsValue::NULL),
        Change::Set(v) => Some(f(v)),
    }
}

/// Where the next page of a listing starts: after this (created_at, key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: Timestamp,
    pub key: String,
}

impl Cursor {
    /// `<created_at ms>.<key>`: keys cannot contain a dot.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.created_at.millis(), self.key)
    }

    pub fn parse(raw: &str) -> Option<Cursor> {
        let (ms, key) = raw.split_once('.')?;
        let key = Key::parse(key).ok()?;
        Some(Cursor {
            created_at: Timestamp::from_millis(ms.parse().ok()?),
            key: key.as_str().to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        let c = Cursor {
            created_at: Timestamp::from_millis(1_795_290_489_123),
            key: "abc-1".into(),
        };
        assert_eq!(Cursor::parse(&c.encode()), Some(c));
        for raw in [
            "", "abc", "12.", ".abc", "x.abc", "12.a b", "12.ab", "1.2.abc",
        ] {
            assert_eq!(Cursor::parse(raw), None, "{raw:?}");
        }
    }
}
