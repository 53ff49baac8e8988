//! The `links` table in D1, and the database handle every table's code shares. The SQL
//! of links lives here; the SQL of clicks lives with the click writer (`clicks::writer`).

use std::rc::Rc;

use serde::Deserialize;
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1DatabaseSession, D1PreparedStatement, D1Result, Env};

use super::counters;
use super::error::StorageError;
use crate::config::DB_BINDING;
use crate::domain::key::Key;
use crate::domain::link::{Link, LinkSettings, RedirectStatus};
use crate::domain::link_request::{Change, LinkPatch, NewLink};
use crate::domain::secret::{sha256_hex, SecretHash};
use crate::domain::stats::Totals;
use crate::domain::timestamp::Timestamp;

/// A new row: what the creator asked for, under a drawn key, with the secret already
/// hashed.
pub struct NewRow<'a> {
    pub key: &'a Key,
    pub new: &'a NewLink,
    pub target_hash: &'a str,
    pub secret_hash: &'a SecretHash,
    pub now: Timestamp,
    /// The operator who made it (`root` or an API key id); `None` for public creation.
    pub created_by: Option<&'a str>,
}

/// How a request names a link: its owner by the secret's hash, the operator by key, and
/// a creator key by key among the links it created (another's link is not found).
pub enum LinkRef<'a> {
    Secret(&'a SecretHash),
    Key(&'a Key),
    Owned { key: &'a Key, by: &'a str },
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
    db: Database,
}

/// A row as D1 gives it. Numbers are read as JavaScript gives them (f64) and checked
/// in [`Link::try_from`], so a value out of range fails its own row, not the whole query.
#[derive(Deserialize)]
struct LinkRow {
    key: String,
    target_url: String,
    is_active: f64,
    clicks: f64,
    created_at: f64,
    expires_at: Option<f64>,
    max_clicks: Option<f64>,
    redirect_status: Option<f64>,
    forward_query: f64,
    version: f64,
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
        let time = |n: f64, column| whole(n, column).map(Timestamp::from_millis);
        Ok(Link {
            target_url: row.target_url.clone(),
            is_active: row.is_active != 0.0,
            clicks: whole(row.clicks, "clicks").map_err(bad)?,
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
            },
            version: whole(row.version, "version").map_err(bad)?,
            key,
        })
    }
}

/// Decodes one row; the error names the row's key.
fn link_of(row: LinkRow) -> Result<Link, UnreadableRow> {
    let key = row.key.clone();
    Link::try_from(row).map_err(|error| UnreadableRow { key, error })
}

/// The first row, decoded; an unreadable row is an error of the whole call.
fn single(rows: Vec<LinkRow>) -> Result<Option<Link>, StorageError> {
    match rows.into_iter().next() {
        None => Ok(None),
        Some(row) => link_of(row).map(Some).map_err(|bad| bad.error),
    }
}

const LINK_COLUMNS: &str = "key, target_url, is_active, clicks, created_at, expires_at, \
                            max_clicks, redirect_status, forward_query, version";

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

fn opt<T>(value: Option<T>, f: impl Fn(T) -> JsValue) -> JsValue {
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

impl LinkRef<'_> {
    fn condition(&self) -> (&'static str, JsValue) {
        match self {
            LinkRef::Secret(hash) => ("secret_hash = ?1", hash.as_str().into()),
            LinkRef::Key(key) => ("key = ?1", key.as_str().into()),
            // One bound value (callers number theirs from ?2): the key and the creator
            // as a JSON pair. The key's index still serves the lookup.
            LinkRef::Owned { key, by } => (
                "key = json_extract(?1, '$[0]') AND created_by = json_extract(?1, '$[1]')",
                serde_json::json!([key.as_str(), by]).to_string().into(),
            ),
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
             expires_at, max_clicks, redirect_status, forward_query, reuse, created_at, updated_at, \
             created_by) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12) ON CONFLICT DO NOTHING",
            &[
                row.key.as_str().into(),
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
                opt(row.created_by, JsValue::from),
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

    /// The active shared link for a target, found through the partial unique index.
    pub async fn find_reusable(&self, target_hash: &str) -> Result<Option<Link>, StorageError> {
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM links WHERE target_hash = ?1 AND reuse = 1 AND is_active = 1"
        );
        single(
            self.db
                .rows(&sql, &[target_hash.into()], "find reusable")
                .await?,
        )
    }

    pub async fn find(&self, link: &LinkRef<'_>) -> Result<Option<Link>, StorageError> {
        let (condition, arg) = link.condition();
        let sql = format!("SELECT {LINK_COLUMNS} FROM links WHERE {condition}");
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
    ) -> Result<Option<Link>, StorageError> {
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
        single(self.db.rows(&sql, &args, "update").await?)
    }

    /// The exact counters of one link, from its row (O(1) whatever its traffic).
    pub async fn totals(&self, key: &Key) -> Result<Option<Totals>, StorageError> {
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
                "SELECT clicks, bot_clicks, first_click_at, last_click_at FROM links WHERE key = ?1",
                &[key.as_str().into()],
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
        host: Option<&str>,
        created_by: Option<&str>,
    ) -> Result<Page, StorageError> {
        let mut conditions = Vec::new();
        let mut args: Vec<JsValue> = Vec::new();
        if let Some(host) = host {
            args.push(host.into());
            conditions.push(format!("target_host = ?{}", args.len()));
        }
        if let Some(by) = created_by {
            args.push(by.into());
            conditions.push(format!("created_by = ?{}", args.len()));
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
                }
                .encode()
            })
        } else {
            None
        };
        Ok(Page { links, next_cursor })
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
                "WHERE (created_at, key) > (?1, ?2)",
                vec![ms(c.created_at), c.key.as_str().into()],
            ),
            None => ("", Vec::new()),
        };
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM links {filter} ORDER BY created_at, key LIMIT {limit}"
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
            }),
            _ => None,
        };
        Ok(ExportPage {
            rows: raw.into_iter().map(link_of).collect(),
            next,
        })
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
            created_at: Timestamp::parse_millis(ms).ok()?,
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
