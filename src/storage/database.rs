//! The D1 database handle every table's code shares, and how values are bound to and
//! read from it: each statement is counted, each failure keeps its operation and cause.

use std::cell::OnceCell;
use std::rc::Rc;

use serde::Deserialize;
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1DatabaseSession, D1PreparedStatement, D1Result, Env};

use super::counters;
use super::error::StorageError;
use crate::config::DB_BINDING;
use crate::domain::timestamp::Timestamp;

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

/// The links database's primary for one request, opened on first use and shared by
/// every store that holds a clone (the rule store's re-check, click writes, password
/// attempts), so the binding is looked up once per request.
#[derive(Clone)]
pub struct Primary {
    env: Env,
    cell: Rc<OnceCell<Result<Database, StorageError>>>,
}

impl Primary {
    /// Nothing is opened until [`Primary::get`].
    pub fn of(env: &Env) -> Primary {
        Primary {
            env: env.clone(),
            cell: Rc::new(OnceCell::new()),
        }
    }

    /// The primary, opened on the first call.
    pub fn get(&self) -> Result<Database, StorageError> {
        self.cell
            .get_or_init(|| Database::from_env(&self.env))
            .clone()
    }
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

/// Keeps the operation and the runtime's cause together for the log.
pub(super) fn failed(what: &str) -> impl Fn(worker::Error) -> StorageError + '_ {
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

pub(super) fn flag(b: bool) -> JsValue {
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

/// A list of strings as one bound JSON array, for `IN (SELECT value FROM json_each(?))`.
pub(super) fn json_list(list: &[String]) -> Result<JsValue, StorageError> {
    serde_json::to_string(list)
        .map(JsValue::from)
        .map_err(|e| StorageError::new("D1 list argument", e))
}
