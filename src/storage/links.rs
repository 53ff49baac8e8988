//! The `links` table in D1: a row and its decoding, how a request names a link, and
//! the single-link writes and reads (insert, find, change, rename, aliases, totals).
//! Import and listing are the same table's, in `import.rs` and `listing.rs`.

use serde::Deserialize;
use worker::wasm_bindgen::JsValue;
use worker::{D1PreparedStatement, D1Result, Env};

use super::database::{failed, flag, int, ms, opt, whole, Database};
use super::error::StorageError;
use crate::domain::address::{Domain, LinkName};
use crate::domain::controls::Controls;
use crate::domain::health::{DeadLinkMode, Health, HealthState};
use crate::domain::key::Key;
use crate::domain::link::{Link, LinkSettings, RedirectStatus};
use crate::domain::link_request::{Change, LinkPatch, NewLink};
use crate::domain::secret::{sha256_hex, SecretHash};
use crate::domain::stats::Totals;
use crate::domain::timestamp::Timestamp;

/// A new row: what the creator asked for, under a drawn key, with the secret already
/// hashed.
pub struct NewRow<'a> {
    pub name: &'a LinkName,
    pub new: &'a NewLink,
    pub target_hash: &'a str,
    pub secret_hash: &'a SecretHash,
    pub now: Timestamp,
    /// The operator who made it (`root` or an API key id); `None` for public creation.
    pub created_by: Option<&'a str>,
}

/// How a request names a link: its owner by the secret's hash, the operator by its
/// domain and key, a creator key by those among the links it created (another's link
/// is not found), and a click by the name its statistics are kept under.
pub enum LinkRef<'a> {
    Secret(&'a SecretHash),
    Name(&'a LinkName),
    Owned { name: &'a LinkName, by: &'a str },
    Stats(&'a str),
}

/// A stored row that does not decode into a [`Link`]: its key as stored, and why.
#[derive(Debug)]
pub struct UnreadableRow {
    pub key: String,
    pub error: StorageError,
}

/// The D1 table of links.
#[derive(Clone)]
pub struct LinkStore {
    pub(super) db: Database,
}

/// A row as D1 gives it. Numbers are read as JavaScript gives them (f64) and checked
/// in [`Link::try_from`], so a value out of range fails its own row, not the whole query.
#[derive(Deserialize)]
pub(super) struct LinkRow {
    pub(super) domain: String,
    pub(super) key: String,
    pub(super) target_url: String,
    pub(super) is_active: f64,
    pub(super) clicks: f64,
    pub(super) imported_clicks: f64,
    pub(super) created_at: f64,
    pub(super) expires_at: Option<f64>,
    pub(super) max_clicks: Option<f64>,
    pub(super) redirect_status: Option<f64>,
    pub(super) forward_query: f64,
    pub(super) version: f64,
    pub(super) controls: Option<String>,
    pub(super) stats_key: String,
    pub(super) dead_link_mode: Option<String>,
    pub(super) health_state: String,
    pub(super) health_checked_at: Option<f64>,
    pub(super) health_status: Option<f64>,
    pub(super) health_reason: Option<String>,
    pub(super) health_since: Option<f64>,
    pub(super) health_failures: f64,
}

impl TryFrom<LinkRow> for Link {
    type Error = StorageError;

    /// Parses the stored key once, here: every layer above holds a [`Key`].
    fn try_from(row: LinkRow) -> Result<Link, StorageError> {
        let bad = |e: String| StorageError::new(format!("D1 row of key {:?}", row.key), e);
        let key = Key::parse(&row.key).map_err(|e| bad(e.to_string()))?;
        let domain = Domain::from_stored(&row.domain).map_err(|e| bad(e.to_string()))?;
        let time = |n: f64, column| whole(n, column).map(Timestamp::from_millis);
        Ok(Link {
            target_url: row.target_url.clone(),
            is_active: row.is_active != 0.0,
            clicks: whole(row.clicks, "clicks").map_err(bad)?,
            imported_clicks: whole(row.imported_clicks, "imported_clicks").map_err(bad)?,
            created_at: time(row.created_at, "created_at").map_err(bad)?,
            settings: LinkSettings {
                expires_at: row
                    .expires_at
                    .map(|n| time(n, "expires_at"))
                    .transpose()
                    .map_err(bad)?,
                max_clicks: row
                    .max_clicks
                    .map(|n| whole(n, "max_clicks"))
                    .transpose()
                    .map_err(bad)?,
                redirect_status: row
                    .redirect_status
                    .and_then(|n| RedirectStatus::from_code(n as i64)),
                forward_query: row.forward_query != 0.0,
                dead_link_mode: row.dead_link_mode.as_deref().and_then(DeadLinkMode::parse),
            },
            version: whole(row.version, "version").map_err(bad)?,
            controls: match row.controls.as_deref() {
                None | Some("{}") => Controls::default(),
                Some(json) => {
                    Controls::from_json(json).map_err(|e| bad(format!("controls: {e}")))?
                }
            },
            stats_key: row.stats_key.clone(),
            health: Health {
                state: HealthState::parse(&row.health_state)
                    .ok_or_else(|| bad("health_state is not a known state".into()))?,
                checked_at: row
                    .health_checked_at
                    .map(|n| time(n, "health_checked_at"))
                    .transpose()
                    .map_err(bad)?,
                status_code: row
                    .health_status
                    .and_then(|n| u16::try_from(whole(n, "health_status").ok()?).ok()),
                reason: row.health_reason.clone(),
                since: row
                    .health_since
                    .map(|n| time(n, "health_since"))
                    .transpose()
                    .map_err(bad)?,
                failures: u32::try_from(
                    whole(row.health_failures, "health_failures").map_err(bad)?,
                )
                .unwrap_or(u32::MAX),
            },
            key,
            domain,
        })
    }
}

/// Decodes one row; the error names the row's key.
pub(super) fn link_of(row: LinkRow) -> Result<Link, UnreadableRow> {
    let key = row.key.clone();
    Link::try_from(row).map_err(|error| UnreadableRow { key, error })
}

/// The first row, decoded; an unreadable row is an error of the whole call.
pub(super) fn single(rows: Vec<LinkRow>) -> Result<Option<Link>, StorageError> {
    match rows.into_iter().next() {
        None => Ok(None),
        Some(row) => link_of(row).map(Some).map_err(|bad| bad.error),
    }
}

pub(super) const LINK_COLUMNS: &str =
    "domain, key, target_url, is_active, clicks, imported_clicks, \
     created_at, expires_at, max_clicks, redirect_status, forward_query, version, controls, \
     stats_key, dead_link_mode, health_state, health_checked_at, health_status, health_reason, \
     health_since, health_failures";

/// What a change of a link came to.
pub enum Updated {
    Link(Box<Link>),
    Missing,
    /// The new key of a rename is another link's key or an alias.
    KeyTaken,
}

/// A link's name as one bound value: `[domain, key]` in JSON, read back by
/// [`NAME_CONDITION`]. One value, so every caller numbers its own from ?2.
fn name_arg(name: &LinkName) -> JsValue {
    serde_json::json!([name.domain.stored(), name.key.as_str()])
        .to_string()
        .into()
}

/// The (domain, key) unique index serves this: both sides are constants of the query.
const NAME_CONDITION: &str = "domain = json_extract(?1, '$[0]') AND key = json_extract(?1, '$[1]')";

impl LinkRef<'_> {
    fn condition(&self) -> (&'static str, JsValue) {
        match self {
            LinkRef::Secret(hash) => ("secret_hash = ?1", hash.as_str().into()),
            LinkRef::Name(name) => (NAME_CONDITION, name_arg(name)),
            LinkRef::Owned { name, by } => (
                "domain = json_extract(?1, '$[0]') AND key = json_extract(?1, '$[1]') \
                 AND created_by = json_extract(?1, '$[2]')",
                serde_json::json!([name.domain.stored(), name.key.as_str(), by])
                    .to_string()
                    .into(),
            ),
            LinkRef::Stats(stats_key) => ("stats_key = ?1", (*stats_key).into()),
        }
    }
}

impl LinkStore {
    /// Opens the D1 binding; a missing binding is an unavailable store.
    pub fn from_env(env: &Env) -> Result<LinkStore, StorageError> {
        Database::from_env(env).map(LinkStore::on)
    }

    /// The links table of an already opened database.
    pub fn on(db: Database) -> LinkStore {
        LinkStore { db }
    }

    pub(super) fn statement(
        &self,
        sql: &str,
        args: &[JsValue],
        what: &str,
    ) -> Result<D1PreparedStatement, StorageError> {
        self.db.statement(sql, args, what)
    }

    pub(super) async fn batch(
        &self,
        statements: Vec<D1PreparedStatement>,
        what: &str,
    ) -> Result<Vec<D1Result>, StorageError> {
        self.db.batch(statements, what).await
    }

    fn insert_statement(&self, row: &NewRow<'_>) -> Result<D1PreparedStatement, StorageError> {
        let settings = &row.new.settings;
        // DO NOTHING on any uniqueness conflict: a taken key, or (for reuse) another
        // shared link for the same target. The caller tells them apart.
        // RETURNING: the caller answers with the row as stored, not a copy rebuilt
        // from the request that could drift from the table's defaults.
        self.statement(
            &format!(
                "INSERT INTO links (key, target_url, target_host, target_hash, secret_hash, \
                 expires_at, max_clicks, redirect_status, forward_query, reuse, created_at, updated_at, controls, \
                 dead_link_mode, created_by, domain, stats_key) \
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12, ?13, ?14, ?15, ?16 \
                 WHERE NOT EXISTS (SELECT 1 FROM link_aliases WHERE domain = ?15 AND alias = ?1) \
                 ON CONFLICT DO NOTHING RETURNING {LINK_COLUMNS}"
            ),
            &[
                row.name.key.as_str().into(),
                row.new.target.as_str().into(),
                row.new.target.host().into(),
                row.target_hash.into(),
                row.secret_hash.as_str().into(),
                opt(settings.expires_at, ms),
                opt(settings.max_clicks, int),
                opt(settings.redirect_status, |s| int(i64::from(s.code()))),
                flag(settings.forward_query),
                flag(row.new.reuse),
                ms(row.now),
                row.new.controls.to_json().into(),
                opt(settings.dead_link_mode, |m| m.as_str().into()),
                opt(row.created_by, JsValue::from),
                row.name.domain.stored().into(),
                row.name.qualified().as_ref().into(),
            ],
            "insert",
        )
    }

    /// Inserts a link unless a unique index refuses it. Returns the row as written, or
    /// `None` when it was refused: the index decides collisions, never a read-then-write.
    pub async fn insert(&self, row: &NewRow<'_>) -> Result<Option<Link>, StorageError> {
        let rows: Vec<LinkRow> = self
            .insert_statement(row)?
            .all()
            .await
            .map_err(failed("insert"))?
            .results()
            .map_err(failed("insert"))?;
        single(rows)
    }

    /// Inserts many links in one round trip; per row, in order, the row as written or
    /// `None` when it was refused.
    pub async fn insert_many(
        &self,
        rows: &[NewRow<'_>],
    ) -> Result<Vec<Option<Link>>, StorageError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let statements = rows
            .iter()
            .map(|row| self.insert_statement(row))
            .collect::<Result<Vec<_>, _>>()?;
        self.batch(statements, "bulk insert")
            .await?
            .iter()
            .map(|r| single(r.results().map_err(failed("bulk insert"))?))
            .collect()
    }

    /// The active shared link for a target, found through the partial unique index.
    pub async fn find_reusable(
        &self,
        domain: &Domain,
        target_hash: &str,
    ) -> Result<Option<Link>, StorageError> {
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM links \
             WHERE domain = ?2 AND target_hash = ?1 AND reuse = 1 AND is_active = 1"
        );
        single(
            self.db
                .rows(
                    &sql,
                    &[target_hash.into(), domain.stored().into()],
                    "find reusable",
                )
                .await?,
        )
    }

    /// The link a reference names; by key, a renamed link's former key (an alias)
    /// names it too.
    pub async fn find(&self, link: &LinkRef<'_>) -> Result<Option<Link>, StorageError> {
        let (condition, arg) = link.condition();
        let sql = match link {
            // A creator key names its link by the current key only.
            LinkRef::Secret(_) | LinkRef::Owned { .. } | LinkRef::Stats(_) => {
                format!("SELECT {LINK_COLUMNS} FROM links WHERE {condition}")
            }
            // Two index lookups at most, and only the second on a key that no link has.
            LinkRef::Name(_) => format!(
                "SELECT {LINK_COLUMNS} FROM links WHERE {condition} UNION ALL \
                 SELECT {LINK_COLUMNS} FROM links WHERE id = (SELECT link_id FROM link_aliases \
                 WHERE domain = json_extract(?1, '$[0]') AND alias = json_extract(?1, '$[1]')) \
                 LIMIT 1"
            ),
        };
        single(self.db.rows(&sql, &[arg], "find").await?)
    }

    /// Applies a change and returns the link as it now is. Every change bumps
    /// `version` (so a concurrent cache fill notices) and takes the link out of the
    /// dedupe pool: an edited link is no longer "the" link for its original target.
    pub async fn update(
        &self,
        link: &LinkRef<'_>,
        patch: &LinkPatch,
        now: Timestamp,
    ) -> Result<Updated, StorageError> {
        let (condition, selector) = link.condition();
        let mut args = vec![selector.clone(), ms(now)];
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
            (
                "dead_link_mode",
                change(&patch.dead_link_mode, |m| m.as_str().into()),
            ),
        ];
        for (column, value) in changes {
            if let Some(value) = value {
                args.push(value);
                sets.push(format!("{column} = ?{}", args.len()));
            }
        }
        // Only the control paths named change, in SQL: two owners' concurrent changes of
        // different controls both land, and nothing is read first.
        let paths = patch.controls.json_paths();
        if !paths.is_empty() {
            let mut removed = Vec::new();
            let mut set = Vec::new();
            for (path, value) in paths {
                match value {
                    None => removed.push(format!("'{path}'")),
                    Some(json) => {
                        args.push(json.into());
                        set.push(format!("'{path}', json(?{})", args.len()));
                    }
                }
            }
            let mut expr = "controls".to_string();
            if !removed.is_empty() {
                expr = format!("json_remove({expr}, {})", removed.join(", "));
            }
            if !set.is_empty() {
                expr = format!("json_set({expr}, {})", set.join(", "));
            }
            sets.push(format!("controls = {expr}"));
        }
        sets.extend(health_after(patch).iter().map(|s| s.to_string()));
        let sql = format!(
            "UPDATE links SET {} WHERE {condition} RETURNING {LINK_COLUMNS}",
            sets.join(", ")
        );
        let Some(new_key) = patch.rename.as_ref() else {
            return Ok(match single(self.db.rows(&sql, &args, "update").await?)? {
                Some(link) => Updated::Link(Box::new(link)),
                None => Updated::Missing,
            });
        };
        // A rename: the change, then the current key kept as an alias, then the new
        // key, in one transaction. The new key's uniqueness among links (the unique
        // index) and among aliases (a trigger, migration 0007) abort the whole batch,
        // so a refused rename changes nothing.
        let alias_args = [selector.clone(), new_key.as_str().into()];
        let key_args = [selector, new_key.as_str().into(), ms(now)];
        let statements = vec![
            self.statement(&sql, &args, "update")?,
            self.statement(
                &format!(
                    "INSERT INTO link_aliases (domain, alias, link_id) \
                     SELECT domain, key, id FROM links WHERE {condition} AND key <> ?2"
                ),
                &alias_args,
                "keep alias",
            )?,
            self.statement(
                &format!(
                    "UPDATE links SET key = ?2, \
                     version = version + 1, updated_at = ?3 \
                     WHERE {condition} RETURNING {LINK_COLUMNS}"
                ),
                &key_args,
                "rename",
            )?,
        ];
        match self.batch(statements, "rename").await {
            Ok(results) => {
                let rows: Vec<LinkRow> = match results.last() {
                    Some(last) => last.results().map_err(failed("rename"))?,
                    None => Vec::new(),
                };
                Ok(match single(rows)? {
                    Some(link) => Updated::Link(Box::new(link)),
                    None => Updated::Missing,
                })
            }
            // Refused by a constraint if the new key is taken: say so; otherwise the
            // failure is the database's.
            Err(e) => {
                if self.key_taken_beside(link, new_key).await? {
                    Ok(Updated::KeyTaken)
                } else {
                    Err(e)
                }
            }
        }
    }

    /// Whether `key` is a link's key or an alias on the domain of the link `beside`.
    async fn key_taken_beside(
        &self,
        beside: &LinkRef<'_>,
        key: &Key,
    ) -> Result<bool, StorageError> {
        #[derive(Deserialize)]
        struct Row {}
        let (condition, selector) = beside.condition();
        let domain = format!("(SELECT domain FROM links WHERE {condition})");
        let rows: Vec<Row> = self
            .db
            .rows(
                &format!(
                    "SELECT 1 FROM links WHERE domain = {domain} AND key = ?2 UNION ALL \
                     SELECT 1 FROM link_aliases WHERE domain = {domain} AND alias = ?2"
                ),
                &[selector, key.as_str().into()],
                "key taken",
            )
            .await?;
        Ok(!rows.is_empty())
    }

    /// The former keys (aliases) of the link named `name`.
    pub async fn aliases(&self, name: &LinkName) -> Result<Vec<String>, StorageError> {
        #[derive(Deserialize)]
        struct Row {
            alias: String,
        }
        let rows: Vec<Row> = self
            .db
            .rows(
                "SELECT alias FROM link_aliases \
                 WHERE link_id = (SELECT id FROM links WHERE domain = ?1 AND key = ?2)",
                &[name.domain.stored().into(), name.key.as_str().into()],
                "aliases",
            )
            .await?;
        Ok(rows.into_iter().map(|r| r.alias).collect())
    }

    /// The current keys of up to `limit` links marked `crawlable` that are active, oldest
    /// first. Reads the links with controls: `/robots.txt` only, served cached.
    pub async fn crawlable_keys(
        &self,
        domain: &Domain,
        limit: u32,
    ) -> Result<Vec<String>, StorageError> {
        #[derive(Deserialize)]
        struct Row {
            key: String,
        }
        let rows: Vec<Row> = self
            .db
            .rows(
                &format!(
                    "SELECT key FROM links WHERE domain = ?1 AND controls <> '{{}}' AND is_active = 1 \
                     AND controls ->> '$.crawlable' = 1 ORDER BY created_at LIMIT {limit}"
                ),
                &[domain.stored().into()],
                "crawlable keys",
            )
            .await?;
        Ok(rows.into_iter().map(|r| r.key).collect())
    }

    /// The exact counters of one link, from its row (O(1) whatever its traffic).
    /// `key` is the link's stats key ([`Link::stats_key`]).
    pub async fn totals(&self, key: &str) -> Result<Option<Totals>, StorageError> {
        #[derive(Deserialize)]
        struct Row {
            clicks: f64,
            bot_clicks: f64,
            first_click_at: Option<f64>,
            last_click_at: Option<f64>,
        }
        let row: Option<Row> = self
            .db
            .first(
                "SELECT clicks, bot_clicks, first_click_at, last_click_at FROM links \
                 WHERE stats_key = ?1",
                &[key.into()],
                "stats totals",
            )
            .await?;
        let bad = |e: String| StorageError::new(format!("D1 totals of key {key}"), e);
        let time = |t: Option<f64>, column| {
            t.map(|n| whole(n, column).map(Timestamp::from_millis))
                .transpose()
                .map_err(bad)
        };
        row.map(|r| {
            Ok(Totals {
                clicks: whole(r.clicks, "clicks").map_err(bad)?,
                bots: whole(r.bot_clicks, "bot_clicks").map_err(bad)?,
                first_click_at: time(r.first_click_at, "first_click_at")?,
                last_click_at: time(r.last_click_at, "last_click_at")?,
            })
        })
        .transpose()
    }

    /// A trivial query that proves the database answers.
    pub async fn ping(&self) -> Result<(), StorageError> {
        self.db.execute("SELECT 1", &[], "ping").await?;
        Ok(())
    }
}

/// What a change does to the health columns: a new target has not been checked (its
/// old health, dead perhaps, said nothing about it), and a link that may redirect again
/// (reactivated, a later expiry, a higher limit) is due for a check at once, as the
/// scheduled checks may have set aside while it could not redirect.
fn health_after(patch: &LinkPatch) -> &'static [&'static str] {
    if patch.target.is_some() {
        &[
            "health_state = 'unknown'",
            "health_checked_at = NULL",
            "health_status = NULL",
            "health_reason = NULL",
            "health_since = NULL",
            "health_failures = 0",
            "health_due_at = 0",
        ]
    } else if patch.is_active.is_some()
        || patch.expires_at != Change::Keep
        || patch.max_clicks != Change::Keep
    {
        &["health_due_at = 0"]
    } else {
        &[]
    }
}

fn change<T>(c: &Change<T>, f: impl Fn(&T) -> JsValue) -> Option<JsValue> {
    match c {
        Change::Keep => None,
        Change::Clear => Some(JsValue::NULL),
        Change::Set(v) => Some(f(v)),
    }
}
