//! Kutt's API v2 (`/api/v2/...`), as Kutt's documentation and the `kutt` npm client
//! speak it: links (list, create, update, delete, stats), health, and the user's info
//! and domains, authenticated by `X-API-KEY` with this service's API keys. Errors are
//! Kutt's `{"error": "..."}`. What maps to what: docs/compat.md.
//!
//! `/api/v2` lies under the operator API's `/api`; it is answered here, before the
//! operator API's authentication, and only here: no operator route is reachable
//! through it, and with Kutt switched off it is an unknown operator path again.

use serde_json::{json, Map, Value};
use worker::Request;

use super::{actor, header, operator};
use crate::domain::access::Operation;
use crate::domain::address::Domain;
use crate::domain::key::Key;
use crate::domain::link::Link;
use crate::domain::link_request::{LinkPatch, NewLink};
use crate::domain::stats::Window;
use crate::domain::timestamp::Timestamp;
use crate::handlers::auth::Operator;
use crate::handlers::context::Ctx;
use crate::handlers::operations::{self, Created};
use crate::http::body::{self, MAX_BODY_BYTES};
use crate::http::error::ApiError;
use crate::http::response::{self, Reply, CREATED, OK};
use crate::http::route::Method;
use crate::storage::listing::ListFilter;

/// Kutt's page size, and the most one page may hold.
const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 100;
/// Kutt's statistics periods: the days each covers.
const PERIODS: [(&str, &str); 4] = [
    ("lastDay", "1"),
    ("lastWeek", "7"),
    ("lastMonth", "30"),
    ("lastYear", "365"),
];

/// An endpoint of the API, with the link id (this service's key) it names.
#[derive(Debug, PartialEq, Eq)]
enum Endpoint<'a> {
    Health,
    List,
    Create,
    Update(&'a str),
    Remove(&'a str),
    Stats(&'a str),
    User,
    /// Adding or removing a domain: domains are the instance's `DOMAINS` here.
    DomainChange,
}

fn endpoint(method: Method, path: &str) -> Option<Endpoint<'_>> {
    use Method::{Delete, Get, Head, Patch, Post};
    let rest = path.strip_prefix("/api/v2")?;
    let read = matches!(method, Get | Head);
    let found = match rest {
        "/health" if read => Endpoint::Health,
        "/links" if read => Endpoint::List,
        "/links" if method == Post => Endpoint::Create,
        "/users" if read => Endpoint::User,
        "/domains" if method == Post => Endpoint::DomainChange,
        _ => {
            if let Some(id) = rest.strip_prefix("/domains/") {
                return (method == Delete && !id.contains('/')).then_some(Endpoint::DomainChange);
            }
            let id = rest.strip_prefix("/links/")?;
            if let Some(id) = id.strip_suffix("/stats") {
                // The `kutt` client asks for statistics with DELETE (its `stats()`); a
                // read either way, never a deletion.
                return (read || method == Delete).then_some(Endpoint::Stats(id));
            }
            if id.contains('/') {
                return None;
            }
            match method {
                Patch => Endpoint::Update(id),
                Delete => Endpoint::Remove(id),
                _ => return None,
            }
        }
    };
    Some(found)
}

/// Kutt's error answer: a status and `{"error": words}`.
struct Refusal {
    status: u16,
    words: String,
}

impl Refusal {
    fn new(status: u16, words: impl Into<String>) -> Refusal {
        Refusal {
            status,
            words: words.into(),
        }
    }

    fn render(self) -> worker::Result<Reply> {
        response::json(self.status, &json!({ "error": self.words }))
    }
}

/// An error of the service's own operations, in Kutt's words.
impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Refusal {
        e.log();
        let status = e.status();
        match e {
            ApiError::NotFound => Refusal::new(status, "Link could not be found."),
            ApiError::KeyTaken(_) | ApiError::KeyIsAlias(_) => {
                Refusal::new(400, "Custom URL is already in use.")
            }
            ApiError::Unauthorized | ApiError::OperatorApiOff => {
                Refusal::new(401, "API key is not correct.")
            }
            // Kutt's words name its fields; the service's name its own.
            ApiError::BadRequest(why) | ApiError::Unprocessable(why) => Refusal::new(
                400,
                why.replacen("target_url", "target", 1)
                    .replacen("custom_key", "customurl", 1)
                    .replacen("title", "description", 1),
            ),
            e => Refusal::new(status, e.detail()),
        }
    }
}

impl From<crate::storage::error::StorageError> for Refusal {
    fn from(e: crate::storage::error::StorageError) -> Refusal {
        ApiError::from(e).into()
    }
}

impl From<worker::Error> for Refusal {
    fn from(e: worker::Error) -> Refusal {
        ApiError::Internal(e.to_string()).into()
    }
}

type Answer = Result<Reply, Refusal>;

/// Answers a request under `/api/v2`.
pub async fn handle(method: Method, req: &mut Request, cx: &Ctx) -> worker::Result<Reply> {
    let path = req.path();
    let answer = match endpoint(method, &path) {
        None => Err(Refusal::new(404, "Not found.")),
        Some(Endpoint::Health) => return response::typed(OK, "text/plain; charset=utf-8", "OK"),
        Some(endpoint) => serve(endpoint, req, cx).await,
    };
    answer.or_else(Refusal::render)
}

async fn serve(endpoint: Endpoint<'_>, req: &mut Request, cx: &Ctx) -> Answer {
    let token = header(req, "X-API-KEY");
    // The body is read before the key is checked: an answer sent with the request's
    // body unread leaves the client's kept-alive connection unusable (Node's http
    // agent, which the `kutt` client uses, has its next request on it reset).
    let body = match endpoint {
        Endpoint::Create | Endpoint::Update(_) => object_body(req).await?,
        _ => Map::new(),
    };
    let op = |operation| operator(token.as_deref(), operation, cx);
    match endpoint {
        Endpoint::List => list(&op(Operation::ListLinks).await?, cx).await,
        Endpoint::Create => {
            let client = operations::client_ip(req);
            create(body, client, &op(Operation::CreateLinks).await?, cx).await
        }
        Endpoint::Update(id) => update(id, body, &op(Operation::ChangeLink).await?, cx).await,
        Endpoint::Remove(id) => remove(id, &op(Operation::ChangeLink).await?, cx).await,
        Endpoint::Stats(id) => stats(id, &op(Operation::LinkStats).await?, cx).await,
        Endpoint::User => user(token.as_deref(), cx).await,
        Endpoint::DomainChange => {
            actor(token.as_deref(), cx).await?;
            Err(Refusal::new(
                400,
                "Domains cannot be added or removed through the API here: they are the instance's DOMAINS setting.",
            ))
        }
        Endpoint::Health => Err(Refusal::new(404, "Not found.")),
    }
}

/// A link as Kutt's `Link`: its id is the key, which the client sends back in paths.
fn link_view(link: &Link, cx: &Ctx) -> Value {
    let created = link.created_at.to_rfc3339();
    json!({
        "id": link.key.as_str(),
        "address": link.key.as_str(),
        "link": cx.short_url(&link.name()),
        "target": link.target_url,
        "description": link.controls.title,
        "password": link.controls.routing.password_hash.is_some(),
        "banned": false,
        "visit_count": link.clicks,
        "expire_in": link.settings.expires_at.map(Timestamp::to_rfc3339),
        "domain": link.domain.host(),
        "created_at": created,
        "updated_at": created,
    })
}

/// The link an id names for this operator (`?domain=` for a link off the request's
/// domain); a deactivated one is missing, as a deleted Kutt link is.
async fn find(id: &str, op: &Operator, cx: &Ctx) -> Result<Link, ApiError> {
    let key = Key::parse(id).map_err(|_| ApiError::NotFound)?;
    let name = op.name(key, cx)?;
    let link = cx.links()?.find(&op.link(&name)).await?;
    link.filter(|l| l.is_active).ok_or(ApiError::NotFound)
}

/// A query parameter as a count, within `max`.
fn count(name: &str, default: usize, max: usize, cx: &Ctx) -> Result<usize, Refusal> {
    match cx.query_param(name).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= max)
            .ok_or_else(|| Refusal::new(400, format!("{name} must be a number from 0 to {max}."))),
    }
}

/// `GET /api/v2/links?skip=&limit=&search=`: the operator API's listing (a key's
/// domains, a creator key's own links), newest first. `all` is accepted and changes
/// nothing: a key's role already decides whose links it sees.
async fn list(op: &Operator, cx: &Ctx) -> Answer {
    let limit = count("limit", DEFAULT_LIMIT, MAX_LIMIT, cx)?.max(1);
    let skip = count("skip", 0, usize::MAX, cx)?;
    let search = cx
        .query_param("search")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if search.as_ref().is_some_and(|s| s.chars().count() > 200) {
        return Err(Refusal::new(400, "search must be at most 200 characters."));
    }
    let filter = ListFilter {
        domains: op.domains(),
        search: search.as_deref(),
        created_by: op.scope(),
        active_only: true,
        ..ListFilter::default()
    };
    let store = cx.links()?;
    let total = store.totals_of(&filter).await?.links as u64;
    let skip = skip as u64;
    let shown = if skip < total {
        store.page_at(&filter, None, skip, limit as u32).await?
    } else {
        Vec::new()
    };
    let data: Vec<Value> = shown.iter().map(|l| link_view(l, cx)).collect();
    Ok(response::json(
        OK,
        &json!({ "limit": limit, "skip": skip, "total": total, "data": data }),
    )?)
}

/// Kutt's `expire_in` (`"2 minutes"`, `"3h"`, `"1 day"`): the instant it ends, `now`
/// plus the span, in the service's own form. `None` for words that are no span.
fn expiry(raw: &str, now: Timestamp) -> Option<String> {
    let raw = raw.trim();
    let split = raw
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let amount: f64 = number.parse().ok().filter(|n: &f64| *n > 0.0)?;
    let seconds = match unit.trim().to_ascii_lowercase().as_str() {
        "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" => 0.001,
        "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86_400.0,
        "w" | "week" | "weeks" => 604_800.0,
        "y" | "yr" | "yrs" | "year" | "years" => 31_557_600.0,
        _ => return None,
    };
    let millis = (amount * seconds * 1000.0).round();
    if !millis.is_finite() || millis > 1e15 {
        return None;
    }
    Some(Timestamp::from_millis(now.millis().saturating_add(millis as i64)).to_rfc3339())
}

/// The body as a JSON object.
async fn object_body(req: &mut Request) -> Result<Map<String, Value>, Refusal> {
    let raw = body::read_json(req, MAX_BODY_BYTES).await?;
    match serde_json::from_slice::<Value>(&raw) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Refusal::new(400, "The body must be a JSON object.")),
    }
}

/// Kutt's fields as the service's own body; `renames`: the update's `address`.
fn native_fields(body: &Map<String, Value>, cx: &Ctx) -> Result<Map<String, Value>, Refusal> {
    let mut native = Map::new();
    for (theirs, ours) in [
        ("target", "target_url"),
        ("description", "title"),
        ("password", "password"),
        ("customurl", "custom_key"),
        ("reuse", "reuse"),
        ("domain", "domain"),
        ("address", "key"),
    ] {
        match body.get(theirs) {
            None | Some(Value::Null) => {}
            // Kutt's clients send empty strings for fields left blank.
            Some(Value::String(s)) if s.is_empty() && theirs != "target" => {}
            Some(value) => {
                native.insert(ours.to_string(), value.clone());
            }
        }
    }
    match body.get("expire_in") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s.is_empty() => {}
        Some(Value::String(s)) => {
            let at = expiry(s, cx.now).ok_or_else(|| {
                Refusal::new(
                    400,
                    "Expire time should be a number followed by a unit: 2 minutes, 5 hours, 1 day.",
                )
            })?;
            native.insert("expires_at".into(), json!(at));
        }
        Some(_) => return Err(Refusal::new(400, "Expire time should be a string.")),
    }
    Ok(native)
}

/// `POST /api/v2/links`: the operator API's creation (a password is hashed as this
/// service hashes one), on the creation rate limit of `POST /url`.
async fn create(body: Map<String, Value>, client: String, op: &Operator, cx: &Ctx) -> Answer {
    operations::rate_limit(client, cx).await?;
    let mut native = native_fields(&body, cx)?;
    native.remove("key");
    let own_hosts = cx.own_hosts();
    let new = NewLink::from_value(Value::Object(native), &cx.target_policy(&own_hosts), cx.now)
        .map_err(ApiError::from)?;
    let (Created::Made { link, .. } | Created::Reused(link)) =
        operations::create(new, Some(op), cx).await?;
    Ok(response::json(CREATED, &link_view(&link, cx))?)
}

/// `PATCH /api/v2/links/{id}`: the operator API's change; a new `address` renames the
/// link (its old key stays as an alias, as a native rename leaves it).
async fn update(id: &str, body: Map<String, Value>, op: &Operator, cx: &Ctx) -> Answer {
    let mut native = native_fields(&body, cx)?;
    for creation_only in ["password", "custom_key", "reuse", "domain"] {
        native.remove(creation_only);
    }
    let link = find(id, op, cx).await?;
    if native.get("key").and_then(Value::as_str) == Some(link.key.as_str()) {
        native.remove("key");
    }
    if native.is_empty() {
        return Ok(response::json(OK, &link_view(&link, cx))?);
    }
    let sent = Value::Object(native);
    let raw = serde_json::to_vec(&sent).map_err(|e| ApiError::Internal(e.to_string()))?;
    let own_hosts = cx.own_hosts();
    let patch = LinkPatch::from_json(&raw, &cx.target_policy(&own_hosts), cx.now)
        .map_err(ApiError::from)?;
    let name = link.name();
    let updated = operations::change(&op.link(&name), &patch, cx).await?;
    operations::audit_change(op, &updated, sent, cx).await;
    Ok(response::json(OK, &link_view(&updated, cx))?)
}

/// `DELETE /api/v2/links/{id}`: the operator API's deactivation, audited as it is.
async fn remove(id: &str, op: &Operator, cx: &Ctx) -> Answer {
    let link = find(id, op, cx).await?;
    let name = link.name();
    operations::deactivate(&op.link(&name), Some(op), cx).await?;
    Ok(response::json(
        OK,
        &json!({ "message": "Link has been deleted successfully." }),
    )?)
}

/// One statistics list of Kutt's (`[{"name", "value"}]`) from the service's (`field`
/// names the value in each entry).
fn named_values(stats: &Value, list: &str, field: &str) -> Value {
    let entries = stats.get(list).and_then(Value::as_array);
    Value::Array(
        entries
            .into_iter()
            .flatten()
            .map(|e| json!({ "name": e.get(field), "value": e.get("clicks") }))
            .collect(),
    )
}

/// `GET /api/v2/links/{id}/stats`: the link with the service's statistics over the
/// last day, week, month and year. Views are per day (Kutt's are per hour for the
/// last day and per month for the year); browsers and operating systems are not kept
/// here (only a device class is), so those lists are empty.
async fn stats(id: &str, op: &Operator, cx: &Ctx) -> Answer {
    let link = find(id, op, cx).await?;
    let mut windows = Vec::new();
    for (_, days) in PERIODS {
        windows.push(
            Window::parse(Some(days), cx.now).map_err(|e| ApiError::Internal(e.to_string()))?,
        );
    }
    let all = futures_util::future::try_join_all(
        windows
            .iter()
            .map(|w| operations::stats(link.stats_key(), w, cx)),
    )
    .await?;
    let mut body = link_view(&link, cx);
    for ((period, _), stats) in PERIODS.iter().zip(all) {
        let stats = serde_json::to_value(&stats).map_err(|e| ApiError::Internal(e.to_string()))?;
        let views: Vec<Value> = stats
            .get("by_day")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|d| d.get("clicks").cloned().unwrap_or(json!(0)))
            .collect();
        if let Some(map) = body.as_object_mut() {
            map.insert(
                (*period).to_string(),
                json!({
                    "stats": {
                        "browser": [],
                        "os": [],
                        "country": named_values(&stats, "countries", "country"),
                        "referrer": named_values(&stats, "referrers", "host"),
                    },
                    "views": views,
                }),
            );
        }
    }
    if let Some(map) = body.as_object_mut() {
        map.insert("updatedAt".into(), json!(cx.now.to_rfc3339()));
    }
    Ok(response::json(OK, &body)?)
}

/// `GET /api/v2/users`: who the key is, and the domains it may use besides the
/// primary (Kutt lists a user's own domains).
async fn user(token: Option<&str>, cx: &Ctx) -> Answer {
    let who = actor(token, cx).await?;
    let domains = &cx.config.domains;
    let listed: Vec<Value> = domains
        .all()
        .iter()
        .filter(|d| !d.is_primary() && who.reaches(d.stored()))
        .map(|d: &Domain| {
            let host = domains.name_of(d);
            json!({
                "id": host,
                "address": host,
                "banned": false,
                "homepage": domains.fallbacks(d).root,
                "created_at": Value::Null,
                "updated_at": Value::Null,
            })
        })
        .collect();
    Ok(response::json(
        OK,
        &json!({
            "apikey": token.unwrap_or_default().trim(),
            "email": who.id(),
            "domains": listed,
        }),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_path_and_method_reaches_its_endpoint() {
        use Method::*;
        let table = [
            (Get, "/api/v2/health", Some(Endpoint::Health)),
            (Get, "/api/v2/links", Some(Endpoint::List)),
            (Post, "/api/v2/links", Some(Endpoint::Create)),
            (Patch, "/api/v2/links/abc", Some(Endpoint::Update("abc"))),
            (Delete, "/api/v2/links/abc", Some(Endpoint::Remove("abc"))),
            (Get, "/api/v2/links/abc/stats", Some(Endpoint::Stats("abc"))),
            (
                Delete,
                "/api/v2/links/abc/stats",
                Some(Endpoint::Stats("abc")),
            ),
            (Get, "/api/v2/users", Some(Endpoint::User)),
            (Post, "/api/v2/domains", Some(Endpoint::DomainChange)),
            (Delete, "/api/v2/domains/x", Some(Endpoint::DomainChange)),
            (Get, "/api/v2/links/abc", None),
            (Put, "/api/v2/links/abc", None),
            (Get, "/api/v2/keys", None),
            (Get, "/api/v2", None),
        ];
        for (method, path, expected) in table {
            assert_eq!(endpoint(method, path), expected, "{method:?} {path}");
        }
    }

    #[test]
    fn expire_in_spans_become_instants_and_other_words_are_refused() {
        let now = Timestamp::from_millis(0);
        let table = [
            ("2 minutes", Some("1970-01-01T00:02:00Z")),
            ("3h", Some("1970-01-01T03:00:00Z")),
            ("1 day", Some("1970-01-02T00:00:00Z")),
            (" 1 Week ", Some("1970-01-08T00:00:00Z")),
            ("0 days", None),
            ("soon", None),
            ("5 fortnights", None),
            ("", None),
        ];
        for (raw, expected) in table {
            assert_eq!(expiry(raw, now).as_deref(), expected, "{raw:?}");
        }
    }
}
