//! Listing the `links` table for the operator: pages by keyset cursor, filters, the
//! export's pages, and the overviews (tags, domains).

use serde::Deserialize;
use worker::wasm_bindgen::JsValue;

use super::database::{json_list, ms, whole};
use super::error::StorageError;
use super::links::{link_of, LinkRow, LinkStore, UnreadableRow, LINK_COLUMNS};
use crate::domain::address::Domain;
use crate::domain::health::HealthState;
use crate::domain::key::Key;
use crate::domain::link::Link;
use crate::domain::timestamp::Timestamp;

/// A page of links, newest first, and the cursor of the next page.
pub struct Page {
    pub links: Vec<Link>,
    pub next_cursor: Option<String>,
}

/// One page of an export: every row in order, each decoded or the reason it could not
/// be, and where the next page starts (absent after the last page).
pub struct ExportPage {
    pub rows: Vec<Result<Link, UnreadableRow>>,
    pub next: Option<Cursor>,
}

/// Tags and how many links and clicks carry each.
#[derive(Deserialize)]
pub struct TagTotal {
    pub tag: String,
    pub links: f64,
    pub clicks: f64,
    /// The part of `clicks` made by bots.
    pub bots: f64,
}

/// Clicks over every link a listing reaches, and the part of them made by bots.
#[derive(Deserialize)]
pub struct ClickTotals {
    pub clicks: f64,
    pub bots: f64,
}

/// The operator list's filters.
#[derive(Default)]
pub struct ListFilter<'a> {
    /// Links on this domain.
    pub domain: Option<&'a Domain>,
    /// Links on these domains only (a key limited to some domains), as stored.
    pub domains: Option<&'a [String]>,
    pub host: Option<&'a str>,
    pub tag: Option<&'a str>,
    /// Matched, case-insensitively, anywhere in the title or the target.
    pub search: Option<&'a str>,
    /// Links whose target is in this health state.
    pub health: Option<HealthState>,
    /// Links created by this operator (a creator key sees only its own).
    pub created_by: Option<&'a str>,
    /// Active links only (the other shorteners' APIs delete where this one
    /// deactivates, so a deactivated link is gone to them).
    pub active_only: bool,
    /// Links carrying these tags: any of them, or all of them with `.1` true.
    pub tags: Option<(&'a [String], bool)>,
    /// Links created at or after this instant.
    pub created_from: Option<Timestamp>,
    /// Links created at or before this instant.
    pub created_to: Option<Timestamp>,
    /// Leaves out links whose click limit is used up.
    pub not_exhausted: bool,
    /// Leaves out links that have expired by this instant.
    pub not_expired_at: Option<Timestamp>,
}

/// What an ordered page ([`LinkStore::page_at`]) is sorted by; ties, and no order at
/// all, fall back to the listing's newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOrder {
    Created,
    Key,
    Target,
    Title,
    Clicks,
}

impl ListOrder {
    fn column(self) -> &'static str {
        match self {
            ListOrder::Created => "created_at",
            ListOrder::Key => "key",
            ListOrder::Target => "target_url",
            ListOrder::Title => "(controls ->> '$.title')",
            ListOrder::Clicks => "clicks",
        }
    }
}

/// How many links a filter matches and their clicks (imported ones included).
#[derive(Deserialize)]
pub struct ListTotals {
    pub links: f64,
    pub clicks: f64,
}

/// The `WHERE` clause of `filter` (empty for none) and its arguments, numbered from
/// `?1`; more arguments may follow them.
fn conditions(filter: &ListFilter<'_>) -> Result<(Vec<String>, Vec<JsValue>), StorageError> {
    let mut conditions = Vec::new();
    let mut args: Vec<JsValue> = Vec::new();
    if let Some(domain) = filter.domain {
        args.push(domain.stored().into());
        conditions.push(format!("domain = ?{}", args.len()));
    }
    if let Some(list) = filter.domains {
        args.push(json_list(list)?);
        conditions.push(format!(
            "domain IN (SELECT value FROM json_each(?{}))",
            args.len()
        ));
    }
    if let Some(host) = filter.host {
        args.push(host.into());
        conditions.push(format!("target_host = ?{}", args.len()));
    }
    if let Some(tag) = filter.tag {
        args.push(tag.into());
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM json_each(links.controls, '$.tags') WHERE value = ?{})",
            args.len()
        ));
    }
    if let Some((tags, all)) = filter.tags.filter(|(t, _)| !t.is_empty()) {
        args.push(json_list(tags)?);
        let within = format!(
            "FROM json_each(links.controls, '$.tags') WHERE value IN (SELECT value FROM json_each(?{}))",
            args.len()
        );
        if all {
            args.push(JsValue::from(distinct(tags) as f64));
            conditions.push(format!(
                "(SELECT COUNT(DISTINCT value) {within}) = ?{}",
                args.len()
            ));
        } else {
            conditions.push(format!("EXISTS (SELECT 1 {within})"));
        }
    }
    if let Some(search) = filter.search {
        // LIKE with its wildcards escaped: the words are matched as typed.
        let escaped = search
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        args.push(format!("%{escaped}%").into());
        conditions.push(format!(
            "(target_url LIKE ?{n} ESCAPE '\\' OR (controls ->> '$.title') LIKE ?{n} ESCAPE '\\')",
            n = args.len()
        ));
    }
    if let Some(state) = filter.health {
        args.push(state.as_str().into());
        conditions.push(format!("health_state = ?{}", args.len()));
    }
    if let Some(by) = filter.created_by {
        args.push(by.into());
        conditions.push(format!("created_by = ?{}", args.len()));
    }
    if filter.active_only {
        conditions.push("is_active = 1".into());
    }
    if let Some(from) = filter.created_from {
        args.push(ms(from));
        conditions.push(format!("created_at >= ?{}", args.len()));
    }
    if let Some(to) = filter.created_to {
        args.push(ms(to));
        conditions.push(format!("created_at <= ?{}", args.len()));
    }
    if filter.not_exhausted {
        conditions.push("(max_clicks IS NULL OR clicks < max_clicks)".into());
    }
    if let Some(now) = filter.not_expired_at {
        args.push(ms(now));
        conditions.push(format!(
            "(expires_at IS NULL OR expires_at > ?{})",
            args.len()
        ));
    }
    Ok((conditions, args))
}

/// How many different tags `tags` holds.
fn distinct(tags: &[String]) -> usize {
    let mut seen: Vec<&str> = tags.iter().map(String::as_str).collect();
    seen.sort_unstable();
    seen.dedup();
    seen.len()
}

fn where_clause(conditions: &[String]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    }
}

impl LinkStore {
    /// Every tag in use, with how many links carry it and their clicks. Reads every
    /// tagged link: the operator's overview, not a hot path.
    /// `domains`: only links on these (stored) domains, for a key limited to them.
    pub async fn tag_totals(
        &self,
        domains: Option<&[String]>,
    ) -> Result<Vec<TagTotal>, StorageError> {
        let (only, args) = match domains {
            None => ("", Vec::new()),
            Some(list) => (
                "AND links.domain IN (SELECT value FROM json_each(?1))",
                vec![json_list(list)?],
            ),
        };
        self.db
            .rows(
                &format!(
                    "SELECT t.value AS tag, COUNT(*) AS links, SUM(links.clicks) AS clicks, \
                     SUM(links.bot_clicks) AS bots \
                     FROM links, json_each(links.controls, '$.tags') AS t \
                     WHERE links.controls <> '{{}}' {only} GROUP BY t.value ORDER BY links DESC, tag"
                ),
                &args,
                "tag totals",
            )
            .await
    }

    /// One page of links, newest first, by keyset pagination on (created_at, key): each
    /// page is an index range scan, however deep, never an OFFSET.
    pub async fn list(
        &self,
        cursor: Option<&Cursor>,
        limit: u32,
        filter: &ListFilter<'_>,
    ) -> Result<Page, StorageError> {
        let (mut conditions, mut args) = conditions(filter)?;
        if let Some(cursor) = cursor {
            args.push(ms(cursor.created_at));
            args.push(cursor.key.as_str().into());
            args.push(cursor.domain.as_str().into());
            conditions.push(format!(
                "(created_at, key, domain) < (?{}, ?{}, ?{})",
                args.len() - 2,
                args.len() - 1,
                args.len()
            ));
        }
        let filter = where_clause(&conditions);
        // One extra row tells whether another page follows.
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM links {filter} \
             ORDER BY created_at DESC, key DESC, domain DESC LIMIT {}",
            limit + 1
        );
        let mut links = self
            .db
            .rows(&sql, &args, "list")
            .await?
            .into_iter()
            .map(|row| link_of(row).map_err(|bad| bad.error))
            .collect::<Result<Vec<Link>, _>>()?;
        let next_cursor = if links.len() > limit as usize {
            links.truncate(limit as usize);
            links.last().map(|l| {
                Cursor {
                    created_at: l.created_at,
                    key: l.key.as_str().to_string(),
                    domain: l.domain.stored().to_string(),
                }
                .encode()
            })
        } else {
            None
        };
        Ok(Page { links, next_cursor })
    }

    /// Links `offset` onwards of those `filter` matches, sorted by `order` (column,
    /// descending) and then newest first: for the other shorteners' APIs, which page
    /// by number and sort by any field. A deep page costs its offset in rows read;
    /// the operator API pages by cursor instead ([`LinkStore::list`]).
    pub async fn page_at(
        &self,
        filter: &ListFilter<'_>,
        order: Option<(ListOrder, bool)>,
        offset: u64,
        limit: u32,
    ) -> Result<Vec<Link>, StorageError> {
        let (conditions, args) = conditions(filter)?;
        let first = order.map_or(String::new(), |(by, descending)| {
            format!(
                "{} {}, ",
                by.column(),
                if descending { "DESC" } else { "ASC" }
            )
        });
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM links {} \
             ORDER BY {first}created_at DESC, key DESC, domain DESC LIMIT {limit} OFFSET {offset}",
            where_clause(&conditions)
        );
        self.db
            .rows(&sql, &args, "page at")
            .await?
            .into_iter()
            .map(|row| link_of(row).map_err(|bad| bad.error))
            .collect()
    }

    /// How many links `filter` matches and their clicks: one pass over them.
    pub async fn totals_of(&self, filter: &ListFilter<'_>) -> Result<ListTotals, StorageError> {
        let (conditions, args) = conditions(filter)?;
        let totals: Option<ListTotals> = self
            .db
            .first(
                &format!(
                    "SELECT COUNT(*) AS links, COALESCE(SUM(clicks), 0) AS clicks FROM links {}",
                    where_clause(&conditions)
                ),
                &args,
                "list totals",
            )
            .await?;
        Ok(totals.unwrap_or(ListTotals {
            links: 0.0,
            clicks: 0.0,
        }))
    }

    /// The clicks of every link (on `domains`, as stored, for a key limited to them):
    /// one pass over the table, for an instance-wide overview, not a hot path.
    pub async fn click_totals(
        &self,
        domains: Option<&[String]>,
    ) -> Result<ClickTotals, StorageError> {
        let (only, args) = match domains {
            None => ("", Vec::new()),
            Some(list) => (
                "WHERE domain IN (SELECT value FROM json_each(?1))",
                vec![json_list(list)?],
            ),
        };
        let totals: Option<ClickTotals> = self
            .db
            .first(
                &format!(
                    "SELECT COALESCE(SUM(clicks), 0) AS clicks, \
                     COALESCE(SUM(bot_clicks), 0) AS bots FROM links {only}"
                ),
                &args,
                "click totals",
            )
            .await?;
        Ok(totals.unwrap_or(ClickTotals {
            clicks: 0.0,
            bots: 0.0,
        }))
    }

    /// How many links each domain has (as stored: '' is the primary). One pass over
    /// the (domain, created_at, key) index: the operator's overview, not a hot path.
    pub async fn domain_counts(&self) -> Result<Vec<(String, i64)>, StorageError> {
        #[derive(Deserialize)]
        struct Row {
            domain: String,
            links: f64,
        }
        let rows: Vec<Row> = self
            .db
            .rows(
                "SELECT domain, COUNT(*) AS links FROM links GROUP BY domain",
                &[],
                "domain counts",
            )
            .await?;
        rows.into_iter()
            .map(|r| {
                whole(r.links, "links")
                    .map(|n| (r.domain, n))
                    .map_err(|e| StorageError::new("D1 domain counts", e))
            })
            .collect()
    }

    /// Up to `limit` links after `after`, oldest first: one page of an export. A row
    /// that does not decode is returned as such, so the export can report it and go on.
    pub async fn export_page(
        &self,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<ExportPage, StorageError> {
        let (filter, args) = match after {
            Some(c) => (
                "WHERE (created_at, key, domain) > (?1, ?2, ?3)",
                vec![
                    ms(c.created_at),
                    c.key.as_str().into(),
                    c.domain.as_str().into(),
                ],
            ),
            None => ("", Vec::new()),
        };
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM links {filter} ORDER BY created_at, key, domain LIMIT {limit}"
        );
        let raw: Vec<LinkRow> = self.db.rows(&sql, &args, "export").await?;
        let full = raw.len() == limit as usize;
        // The cursor comes from the raw row, so an unreadable last row does not end the
        // export early.
        let next = match raw.last() {
            Some(row) if full => Some(Cursor {
                created_at: Timestamp::from_millis(
                    whole(row.created_at, "created_at")
                        .map_err(|e| StorageError::new("D1 export cursor", e))?,
                ),
                key: row.key.clone(),
                domain: row.domain.clone(),
            }),
            _ => None,
        };
        Ok(ExportPage {
            rows: raw.into_iter().map(link_of).collect(),
            next,
        })
    }
}

/// Where the next page of a listing starts: after this (created_at, key, domain). The
/// domain breaks ties between equal keys made in the same millisecond on two domains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: Timestamp,
    pub key: String,
    /// As stored: '' for the primary domain.
    pub domain: String,
}

impl Cursor {
    /// `<created_at ms>.<key>[.<domain>]`: keys cannot contain a dot, so everything
    /// after the second dot is the domain; the primary's cursors read as before.
    pub fn encode(&self) -> String {
        if self.domain.is_empty() {
            format!("{}.{}", self.created_at.millis(), self.key)
        } else {
            format!("{}.{}.{}", self.created_at.millis(), self.key, self.domain)
        }
    }

    pub fn parse(raw: &str) -> Option<Cursor> {
        let (ms, rest) = raw.split_once('.')?;
        let (key, domain) = match rest.split_once('.') {
            Some((key, domain)) => (key, Domain::from_stored(domain).ok()?.host()?.to_string()),
            None => (rest, String::new()),
        };
        let key = Key::parse(key).ok()?;
        Some(Cursor {
            created_at: Timestamp::parse_millis(ms).ok()?,
            key: key.as_str().to_string(),
            domain,
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
            domain: String::new(),
        };
        assert_eq!(c.encode(), "1795290489123.abc-1");
        assert_eq!(Cursor::parse(&c.encode()), Some(c.clone()));
        let on_domain = Cursor {
            domain: "go.example.com".into(),
            ..c
        };
        assert_eq!(on_domain.encode(), "1795290489123.abc-1.go.example.com");
        assert_eq!(Cursor::parse(&on_domain.encode()), Some(on_domain));
        for raw in [
            "",
            "abc",
            "12.",
            ".abc",
            "x.abc",
            "12.a b",
            "12.ab",
            "1.2.abc",
            "12.abc.",
            "12.abc.Not Host",
        ] {
            assert_eq!(Cursor::parse(raw), None, "{raw:?}");
        }
    }
}
