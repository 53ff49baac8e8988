//! The `links` table in D1, and the database handle every table's code shares. The SQL
//! of links lives here; the SQL of clicks lives with the click writer (`clicks::writer`).

use std::collections::HashMap;
use std::rc::Rc;

use serde::Deserialize;
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1DatabaseSession, D1PreparedStatement, D1Result, Env};

use super::counters;
use super::error::StorageError;
use crate::config::DB_BINDING;
use crate::domain::address::{Domain, LinkName};
use crate::domain::controls::Controls;
use crate::domain::health::{DeadLinkMode, Health, HealthState};
use crate::domain::import::{ImportedLink, OnConflict};
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

/// An imported link ready for its row: the item, its target's hash, and the hash of
/// a secret drawn for it (every row has an owner's secret, imported ones too).
pub struct ImportRow<'a> {
    pub link: &'a ImportedLink,
    pub target_hash: String,
    pub secret_hash: SecretHash,
}

/// The most JSON one import statement binds: D1 refuses a string over 2 MB, and 1,000
/// links with the longest targets would pass it.
pub const MAX_IMPORT_JSON_BYTES: usize = 1_000_000;

/// What an import did to one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportWrite {
    Created,
    Updated,
    /// The key was taken and left as it was.
    Exists,
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

/// A stored row that does not decode into a [`Link`]: its key as stored, and why.
#[derive(Debug)]
pub struct UnreadableRow {
    pub key: String,
    pub error: StorageError,
}

/// The D1 binding and the calls every table's code makes through it: each statement is
/// counted for the benchmark and each failure keeps its operation and cause. Cloning
/// shares the binding (one lookup per request).
#[derive(Clone)]
pub struct Database {
    db: Rc<Handle>,
}

/// Plain calls always reach the primary; a session's may be answered by a read replica
/// (on Cloudflare, with read replication on; locally there is only the primary).
enum Handle {
    Primary(D1Database),
    Session(D1DatabaseSession),
}

/// Where a D1 session's first query may be answered (D1's Sessions API). Every later
/// query of the session sees at least what the earlier ones saw.
pub enum SessionStart<'a> {
    /// Any replica, the nearest: fastest, and possibly a little behind the primary.
    Nearest,
    /// The primary: sees every write committed before it.
    Primary,
    /// A replica that has caught up with this bookmark (from an earlier response).
    After(&'a str),
}

impl Database {
    /// Opens the links database; a missing binding is an unavailable store.
    pub fn from_env(env: &Env) -> Result<Database, StorageError> {
        Database::from_binding(env, DB_BINDING)
    }

    /// Opens the D1 database bound as `name`.
    pub fn from_binding(env: &Env, name: &str) -> Result<Database, StorageError> {
        Ok(Database {
            db: Rc::new(Handle::Primary(binding(env, name)?)),
        })
    }

    /// Opens a session on the links database.
    pub fn session(env: &Env, start: SessionStart<'_>) -> Result<Database, StorageError> {
        let db = binding(env, DB_BINDING)?;
        let start = match start {
            SessionStart::Nearest => "first-unconstrained",
            SessionStart::Primary => "first-primary",
            SessionStart::After(bookmark) => bookmark,
        };
        let session = db
            .with_session(Some(start))
            .map_err(|e| StorageError::new("D1 session".to_string(), e))?;
        Ok(Database {
            db: Rc::new(Handle::Session(session)),
        })
    }

    /// The latest bookmark of a session: a later session started `After` it sees every
    /// write this one made or saw. `None` for plain calls or before the first query.
    pub fn bookmark(&self) -> Option<String> {
        match &*self.db {
            Handle::Primary(_) => None,
            Handle::Session(session) => session.get_bookmark().ok().flatten(),
        }
    }

    pub fn statement(
        &self,
        sql: &str,
        args: &[JsValue],
        what: &str,
    ) -> Result<D1PreparedStatement, StorageError> {
        counters::d1_statements(1);
        let statement = match &*self.db {
            Handle::Primary(db) => db.prepare(sql),
            Handle::Session(session) => session.prepare(sql),
        };
        statement.bind(args).map_err(failed(what))
    }

    /// Runs one statement that returns no rows; how many rows it changed.
    pub async fn execute(
        &self,
        sql: &str,
        args: &[JsValue],
        what: &str,
    ) -> Result<usize, StorageError> {
        let result = self
            .statement(sql, args, what)?
            .run()
            .await
            .map_err(failed(what))?;
        Ok(changes(&result))
    }

    /// Runs statements in one round trip and one transaction.
    pub async fn batch(
        &self,
        statements: Vec<D1PreparedStatement>,
        what: &str,
    ) -> Result<Vec<D1Result>, StorageError> {
        match &*self.db {
            Handle::Primary(db) => db.batch(statements).await,
            Handle::Session(session) => session.batch(statements).await,
        }
        .map_err(failed(what))
    }

    /// The first row of a query, decoded as `T`.
    pub async fn first<T: for<'de> Deserialize<'de>>(
        &self,
        sql: &str,
        args: &[JsValue],
        what: &str,
    ) -> Result<Option<T>, StorageError> {
        self.statement(sql, args, what)?
            .first(None)
            .await
            .map_err(failed(what))
    }

    /// Every row of a query.
    pub async fn rows<T: for<'de> Deserialize<'de>>(
        &self,
        sql: &str,
        args: &[JsValue],
        what: &str,
    ) -> Result<Vec<T>, StorageError> {
        self.statement(sql, args, what)?
            .all()
            .await
            .map_err(failed(what))?
            .results()
            .map_err(failed(what))
    }
}

fn binding(env: &Env, name: &str) -> Result<D1Database, StorageError> {
    env.d1(name)
        .map_err(|e| StorageError::new(format!("D1 binding {name}"), e))
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
    domain: String,
    key: String,
    target_url: String,
    is_active: f64,
    clicks: f64,
    imported_clicks: f64,
    created_at: f64,
    expires_at: Option<f64>,
    max_clicks: Option<f64>,
    redirect_status: Option<f64>,
    forward_query: f64,
    version: f64,
    controls: Option<String>,
    stats_key: String,
    dead_link_mode: Option<String>,
    health_state: String,
    health_checked_at: Option<f64>,
    health_status: Option<f64>,
    health_reason: Option<String>,
    health_since: Option<f64>,
    health_failures: f64,
}

/// Numbers that JavaScript (and so D1's binding) represents exactly.
const MAX_EXACT: f64 = 9_007_199_254_740_991.0;

/// A whole number within the exact range, or why not.
pub(super) fn whole(n: f64, column: &str) -> Result<i64, String> {
    if n.fract() == 0.0 && n.abs() <= MAX_EXACT {
        Ok(n as i64)
    } else {
        // The value itself is not printed: formatting an f64 would bring core's float
        // printing into the wasm (about 6 KB gzip) for one log line.
        Err(format!("{column} is not an exact integer"))
    }
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

/// Tags and how many links and clicks carry each.
#[derive(Deserialize)]
pub struct TagTotal {
    pub tag: String,
    pub links: f64,
    pub clicks: f64,
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
}

/// Keeps the operation and the runtime's cause together for the log.
fn failed(what: &str) -> impl Fn(worker::Error) -> StorageError + '_ {
    move |e| StorageError::new(format!("D1 {what}"), e)
}

/// Milliseconds since 1970 as D1 binds them: the domain bounds every timestamp it
/// accepts well below 2^53, where f64 stops being exact.
pub fn ms(t: Timestamp) -> JsValue {
    JsValue::from_f64(t.millis() as f64)
}

/// An integer as D1 binds it (an f64); the domain keeps accepted integers below 2^53.
pub fn int(n: i64) -> JsValue {
    JsValue::from_f64(n as f64)
}

pub(super) fn opt<T>(value: Option<T>, f: impl Fn(T) -> JsValue) -> JsValue {
    value.map_or(JsValue::NULL, f)
}

fn flag(b: bool) -> JsValue {
    int(i64::from(b))
}

/// Rows the statement changed, as D1 reports it.
pub fn changes(result: &D1Result) -> usize {
    result
        .meta()
        .ok()
        .flatten()
        .and_then(|m| m.changes)
        .unwrap_or(0)
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

    fn statement(
        &self,
        sql: &str,
        args: &[JsValue],
        what: &str,
    ) -> Result<D1PreparedStatement, StorageError> {
        self.db.statement(sql, args, what)
    }

    async fn batch(
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
        self.statement(
            "INSERT INTO links (key, target_url, target_host, target_hash, secret_hash, \
             expires_at, max_clicks, redirect_status, forward_query, reuse, created_at, updated_at, controls, \
             dead_link_mode, created_by, domain, stats_key) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12, ?13, ?14, ?15, ?16 \
             WHERE NOT EXISTS (SELECT 1 FROM link_aliases WHERE domain = ?15 AND alias = ?1) \
             ON CONFLICT DO NOTHING",
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

    /// Inserts a link unless a unique index refuses it. Returns whether the row was
    /// inserted: the index decides collisions, never a read-then-write.
    pub async fn insert(&self, row: &NewRow<'_>) -> Result<bool, StorageError> {
        let result = self
            .insert_statement(row)?
            .run()
            .await
            .map_err(failed("insert"))?;
        Ok(changes(&result) == 1)
    }

    /// Inserts many links in one round trip; one `bool` per row, in order.
    pub async fn insert_many(&self, rows: &[NewRow<'_>]) -> Result<Vec<bool>, StorageError> {
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

    /// Writes imported links in one D1 batch (one transaction: all rows or none); one
    /// [`ImportWrite`] per row, in order. A taken key is left alone under
    /// [`OnConflict::Skip`] and replaced under [`OnConflict::Update`].
    ///
    /// The rows travel as JSON, one statement per group of at most
    /// [`MAX_IMPORT_JSON_BYTES`] (`INSERT ... SELECT ... FROM json_each(?1)`), not as a
    /// statement per row: binding 1,000 statements of 13 values each cost the worker
    /// more than everything else an import does (measured: 138 ms of a 1,000-link call).
    pub async fn import(
        &self,
        domain: &Domain,
        rows: &[ImportRow<'_>],
        on_conflict: OnConflict,
        now: Timestamp,
        created_by: Option<&str>,
    ) -> Result<Vec<ImportWrite>, StorageError> {
        #[derive(Deserialize)]
        struct Written {
            key: String,
            version: f64,
        }
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        // Both forms return the key and version of each row they wrote: version 1 for a
        // row inserted, more for one updated (an update bumps it); no row for a key left
        // alone. An update replaces the imported part of the counter and keeps the
        // clicks counted here since: `clicks` never drops below what this service counted.
        let conflict = match on_conflict {
            OnConflict::Skip => "ON CONFLICT DO NOTHING",
            OnConflict::Update => {
                "ON CONFLICT (domain, key) DO UPDATE SET target_url = excluded.target_url, \
                 target_host = excluded.target_host, target_hash = excluded.target_hash, \
                 expires_at = excluded.expires_at, max_clicks = excluded.max_clicks, \
                 redirect_status = excluded.redirect_status, \
                 forward_query = excluded.forward_query, is_active = excluded.is_active, \
                 clicks = links.clicks - links.imported_clicks + excluded.imported_clicks, \
                 imported_clicks = excluded.imported_clicks, \
                 imported_at = excluded.imported_at, created_at = excluded.created_at, \
                 controls = json_patch(links.controls, excluded.controls), \
                 reuse = 0, version = links.version + 1, updated_at = excluded.updated_at"
            }
        };
        // SQLite needs the WHERE to tell the upsert's ON from a join's. The WHERE also
        // passes over a key that became an alias since the caller looked (the alias
        // trigger of 0009 would abort the whole batch): that row is written by nobody
        // and reported as taken.
        let sql = format!(
            "INSERT INTO links (key, target_url, target_host, target_hash, secret_hash, \
             expires_at, max_clicks, redirect_status, forward_query, is_active, clicks, \
             imported_clicks, imported_at, created_at, updated_at, controls, created_by, \
             domain, stats_key) \
             SELECT r->>0, r->>1, r->>2, r->>3, r->>4, r->>5, r->>6, r->>7, r->>8, r->>9, \
             r->>10, r->>10, ?2, r->>11, ?2, r->>12, ?3, ?4, \
             CASE ?4 WHEN '' THEN r->>0 ELSE ?4 || '/' || (r->>0) END \
             FROM (SELECT value AS r FROM json_each(?1)) \
             WHERE NOT EXISTS (SELECT 1 FROM link_aliases WHERE domain = ?4 AND alias = r->>0) \
             {conflict} RETURNING key, version"
        );
        let mut groups: Vec<String> = Vec::new();
        let mut group = String::from("[");
        for row in rows {
            let link = row.link;
            let settings = &link.settings;
            // Written by hand rather than by serializing a tuple: the wasm already has
            // string escaping and integer printing, a 12-tuple serializer it has not.
            let text = |t: &str| {
                serde_json::to_string(t).map_err(|e| StorageError::new("D1 import rows", e))
            };
            let number = |n: Option<i64>| n.map_or_else(|| "null".to_string(), |n| n.to_string());
            // Title and tags, the only controls an import carries (an update merges
            // them into the link's other controls).
            let controls = Controls {
                title: link.title.clone(),
                tags: link.tags.clone(),
                ..Controls::default()
            };
            let encoded = format!(
                "[{},{},{},{},{},{},{},{},{},{},{},{},{}]",
                text(link.key.as_str())?,
                text(link.target.as_str())?,
                text(link.target.host())?,
                text(row.target_hash.as_str())?,
                text(row.secret_hash.as_str())?,
                number(settings.expires_at.map(Timestamp::millis)),
                number(settings.max_clicks),
                number(settings.redirect_status.map(|s| i64::from(s.code()))),
                u8::from(settings.forward_query),
                u8::from(link.is_active),
                link.clicks,
                link.created_at.unwrap_or(now).millis(),
                text(&controls.to_json())?,
            );
            if group.len() > 1 && group.len() + encoded.len() + 1 > MAX_IMPORT_JSON_BYTES {
                group.push(']');
                groups.push(std::mem::replace(&mut group, String::from("[")));
            }
            if group.len() > 1 {
                group.push(',');
            }
            group.push_str(&encoded);
        }
        group.push(']');
        groups.push(group);
        let statements = groups
            .iter()
            .map(|g| {
                let by = created_by.map_or(JsValue::NULL, JsValue::from);
                let args = [g.as_str().into(), ms(now), by, domain.stored().into()];
                self.statement(&sql, &args, "import")
            })
            .collect::<Result<Vec<_>, _>>()?;
        // RETURNING promises no order, so rows are matched to their writes by key.
        let mut written: HashMap<String, f64> = HashMap::with_capacity(rows.len());
        for result in self.batch(statements, "import").await? {
            let rows: Vec<Written> = result.results().map_err(failed("import result"))?;
            written.extend(rows.into_iter().map(|w| (w.key, w.version)));
        }
        Ok(rows
            .iter()
            .map(|row| match written.get(row.link.key.as_str()) {
                None => ImportWrite::Exists,
                Some(version) if *version > 1.0 => ImportWrite::Updated,
                Some(_) => ImportWrite::Created,
            })
            .collect())
    }

    /// Which of `keys` are taken: one query, the keys passed as one JSON array (D1
    /// binds at most 100 parameters per statement; an import checks up to 1,000 keys).
    pub async fn existing_keys(
        &self,
        domain: &Domain,
        keys: &[&str],
    ) -> Result<Vec<String>, StorageError> {
        #[derive(Deserialize)]
        struct Row {
            key: String,
        }
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let list =
            serde_json::to_string(keys).map_err(|e| StorageError::new("D1 existing keys", e))?;
        let rows: Vec<Row> = self
            .db
            .rows(
                "SELECT key FROM links WHERE domain = ?2 AND key IN (SELECT value FROM json_each(?1))",
                &[list.into(), domain.stored().into()],
                "existing keys",
            )
            .await?;
        Ok(rows.into_iter().map(|r| r.key).collect())
    }

    /// Which of `keys` are former keys of a renamed link on `domain` (its aliases: they
    /// still redirect to it, so no other link may take them). One query, the keys as
    /// one JSON array, as in [`LinkStore::existing_keys`].
    pub async fn alias_keys(
        &self,
        domain: &Domain,
        keys: &[&str],
    ) -> Result<Vec<String>, StorageError> {
        #[derive(Deserialize)]
        struct Row {
            alias: String,
        }
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let list =
            serde_json::to_string(keys).map_err(|e| StorageError::new("D1 alias keys", e))?;
        let rows: Vec<Row> = self
            .db
            .rows(
                "SELECT alias FROM link_aliases WHERE domain = ?2 \
                 AND alias IN (SELECT value FROM json_each(?1))",
                &[list.into(), domain.stored().into()],
                "alias keys",
            )
            .await?;
        Ok(rows.into_iter().map(|r| r.alias).collect())
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
                    "SELECT t.value AS tag, COUNT(*) AS links, SUM(links.clicks) AS clicks \
                     FROM links, json_each(links.controls, '$.tags') AS t \
                     WHERE links.controls <> '{{}}' {only} GROUP BY t.value ORDER BY links DESC, tag"
                ),
                &args,
                "tag totals",
            )
            .await
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

    /// One page of links, newest first, by keyset pagination on (created_at, key): each
    /// page is an index range scan, however deep, never an OFFSET.
    pub async fn list(
        &self,
        cursor: Option<&Cursor>,
        limit: u32,
        filter: &ListFilter<'_>,
    ) -> Result<Page, StorageError> {
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
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
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

    /// A trivial query that proves the database answers.
    pub async fn ping(&self) -> Result<(), StorageError> {
        self.db.execute("SELECT 1", &[], "ping").await?;
        Ok(())
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

/// A list of strings as one bound JSON array, for `IN (SELECT value FROM json_each(?))`.
fn json_list(list: &[String]) -> Result<JsValue, StorageError> {
    serde_json::to_string(list)
        .map(JsValue::from)
        .map_err(|e| StorageError::new("D1 list argument", e))
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
