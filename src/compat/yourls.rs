//! YOURLS's API (`/yourls-api.php`), as YOURLS's documentation and the `yourls` PyPI
//! client speak it: `shorturl`, `expand`, `url-stats`, `stats`, `db-stats` and
//! `version`, answered in `format=json`, `xml` or `simple`, with the parameters in the
//! query or a posted form. A request is signed with `signature` (this service's API
//! key, or the signature token derived from it, plain or time-limited) or `username`
//! and `password` (the key's id and the key). What maps to what, and how a signature
//! is made: docs/compat.md.

use serde_json::{json, Map, Value};
use worker::Request;

use crate::domain::access::{Actor, Operation};
use crate::domain::key::Key;
use crate::domain::link::Link;
use crate::domain::link_request::NewLink;
use crate::domain::timestamp::Timestamp;
use crate::domain::yourls_signature;
use crate::handlers::auth::{self, Operator};
use crate::handlers::context::Ctx;
use crate::handlers::operations::{self, Created};
use crate::http::body::{self, MAX_BODY_BYTES};
use crate::http::error::ApiError;
use crate::http::response::{self, Reply};
use crate::http::route::Method;
use crate::storage::listing::{ListFilter, ListOrder};
use crate::webcrypto;

/// The YOURLS version `version` reports: the release whose API this follows.
const YOURLS_VERSION: &str = "1.9.2";
/// Links `stats` reads at most, and returns at most.
const MAX_STATS_LIMIT: usize = 100;

/// The answer's format (`format=`); YOURLS's default is XML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
    Simple,
}

/// An answer: its HTTP status, the fields of its body, and its `simple` form.
struct Answer {
    status: u16,
    body: Map<String, Value>,
}

impl Answer {
    fn new(status: u16, body: Value) -> Answer {
        let mut map = match body {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        map.insert("statusCode".into(), json!(status));
        Answer { status, body: map }
    }

    /// A refusal as YOURLS words one: `errorCode` and `message`.
    fn error(status: u16, message: impl Into<String>) -> Answer {
        Answer::new(
            status,
            json!({ "errorCode": status, "message": message.into() }),
        )
    }

    fn render(mut self, format: Format) -> worker::Result<Reply> {
        let simple = self.body.remove("simple");
        match format {
            Format::Json => response::typed(
                self.status,
                "application/json; charset=utf-8",
                serde_json::to_vec(&Value::Object(self.body))?,
            ),
            Format::Xml => {
                let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<result>");
                for (name, value) in &self.body {
                    xml_element(&mut xml, name, value);
                }
                xml.push_str("</result>");
                response::typed(self.status, "application/xml; charset=utf-8", xml)
            }
            // YOURLS writes only the `simple` field, when the action has one.
            Format::Simple => {
                let text = match simple {
                    Some(Value::String(s)) => s,
                    _ => String::new(),
                };
                response::typed(self.status, "text/plain; charset=utf-8", text)
            }
        }
    }
}

/// One value as YOURLS's XML encoder writes it: objects nest, everything else is text.
fn xml_element(xml: &mut String, name: &str, value: &Value) {
    xml.push('<');
    xml.push_str(name);
    xml.push('>');
    match value {
        Value::Object(map) => {
            for (child, v) in map {
                xml_element(xml, child, v);
            }
        }
        Value::Null => {}
        Value::String(s) => escape_into(xml, s),
        other => escape_into(xml, &other.to_string()),
    }
    xml.push_str("</");
    xml.push_str(name);
    xml.push('>');
}

fn escape_into(xml: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => xml.push_str("&amp;"),
            '<' => xml.push_str("&lt;"),
            '>' => xml.push_str("&gt;"),
            '"' => xml.push_str("&quot;"),
            '\'' => xml.push_str("&apos;"),
            c => xml.push(c),
        }
    }
}

/// The request's parameters: the query's, then a posted form's.
struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }
}

/// Answers `/yourls-api.php`.
pub async fn handle(method: Method, req: &mut Request, cx: &Ctx) -> worker::Result<Reply> {
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(cx.query().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    match method {
        Method::Get | Method::Head => {}
        Method::Post => match body::read_form(req, MAX_BODY_BYTES).await {
            Ok(form) => pairs.extend(form),
            Err(e) => return refusal(&e).render(Format::Json),
        },
        _ => return Answer::error(405, "Method not allowed").render(Format::Json),
    }
    let params = Params(pairs);
    let format = match params.get("format") {
        Some("json" | "jsonp") => Format::Json,
        Some("simple") => Format::Simple,
        _ => Format::Xml,
    };
    let client = operations::client_ip(req);
    serve(&params, client, cx).await.render(format)
}

/// The key a request is signed with: `signature` (the key, or its signature token),
/// or `username` (the key's id, `root` for `ADMIN_TOKEN`) with `password` (the key).
fn credentials(params: &Params) -> Option<(&str, Option<&str>)> {
    match (
        params.get("signature"),
        params.get("username"),
        params.get("password"),
    ) {
        (Some(signature), _, _) => Some((signature, None)),
        (None, Some(user), Some(password)) => Some((password, Some(user))),
        _ => None,
    }
}

/// YOURLS's answer to every failed sign-in.
fn log_in() -> Answer {
    Answer::error(403, "Please log in")
}

/// Who signed the request. A plain `signature` is the key itself or the key's
/// signature token; with `timestamp`, it is `hash(timestamp . token)`, checked
/// against the token of every active key (`yourls_signature`, docs/compat.md).
async fn signer(params: &Params, cx: &Ctx) -> Result<Actor, Answer> {
    let (presented, user) = credentials(params).ok_or_else(log_in)?;
    let unknown = |e: ApiError| match e {
        ApiError::Unauthorized | ApiError::OperatorApiOff => log_in(),
        e => refusal(&e),
    };
    let secret = cx.config.admin_token.as_deref().ok_or_else(log_in)?;
    let actor = match (user, params.get("timestamp")) {
        (Some(user), _) => {
            let actor = auth::actor_of(presented, cx).await.map_err(unknown)?;
            if actor.id() != user {
                return Err(log_in());
            }
            actor
        }
        (None, Some(timestamp)) => {
            let hash = yourls_signature::Hash::parse(params.get("hash")).ok_or_else(|| {
                Answer::error(
                    403,
                    "Please log in: hash must be md5, sha1, sha256 or sha512",
                )
            })?;
            if !yourls_signature::fresh(timestamp, cx.now.millis().div_euclid(1000)) {
                return Err(Answer::error(
                    403,
                    "Please log in: the timestamp is more than 12 hours away",
                ));
            }
            timed_signer(secret, hash, timestamp, presented, cx).await?
        }
        (None, None) => match auth::actor_of(presented, cx).await {
            Ok(actor) => actor,
            Err(ApiError::Unauthorized) => {
                derived(secret, cx, |token| {
                    yourls_signature::matches(presented, token)
                })
                .await?
            }
            Err(e) => return Err(unknown(e)),
        },
    };
    Ok(actor)
}

/// The active actor whose time-limited signature is `presented`: the digest of
/// `timestamp . token` is the runtime's (`webcrypto::digest`), one per actor tried.
async fn timed_signer(
    secret: &str,
    hash: yourls_signature::Hash,
    timestamp: &str,
    presented: &str,
    cx: &Ctx,
) -> Result<Actor, Answer> {
    for actor in auth::actors(cx).await.map_err(|e| refusal(&e))? {
        let token = yourls_signature::token(secret.as_bytes(), actor.id());
        let input = yourls_signature::timed_input(timestamp, &token);
        let digest = webcrypto::digest(hash.webcrypto_name(), input.as_bytes())
            .await
            .map_err(|e| refusal(&ApiError::Internal(format!("digest: {e}"))))?;
        if yourls_signature::matches(presented, &yourls_signature::hex(&digest)) {
            return Ok(actor);
        }
    }
    Err(log_in())
}

/// The active actor whose signature token passes `check` (root and every active key
/// are tried: a handful of HMACs, no stored secret).
async fn derived(secret: &str, cx: &Ctx, check: impl Fn(&str) -> bool) -> Result<Actor, Answer> {
    let actors = auth::actors(cx).await.map_err(|e| refusal(&e))?;
    actors
        .into_iter()
        .find(|a| check(&yourls_signature::token(secret.as_bytes(), a.id())))
        .ok_or_else(log_in)
}

/// The operator a signed request names, let in for `op`.
async fn signed_in(params: &Params, op: Operation, cx: &Ctx) -> Result<Operator, Answer> {
    let actor = signer(params, cx).await?;
    auth::admit(actor, op).map_err(|e| refusal(&e))
}

/// `action=signature` (an action of this service, as YOURLS plugins add actions):
/// the signature token of the key the request is signed with, for clients that sign
/// with a token or a time-limited signature.
async fn signature(params: &Params, cx: &Ctx) -> Result<Answer, Answer> {
    let actor = signer(params, cx).await?;
    let secret = cx.config.admin_token.as_deref().ok_or_else(log_in)?;
    let token = yourls_signature::token(secret.as_bytes(), actor.id());
    Ok(Answer::new(
        200,
        json!({ "signature": token, "message": "success", "simple": token }),
    ))
}

/// An error of the service's own operations, as YOURLS words a refusal.
fn refusal(e: &ApiError) -> Answer {
    e.log();
    Answer::error(e.status(), e.detail())
}

async fn serve(params: &Params, client: String, cx: &Ctx) -> Answer {
    let outcome = match params.get("action") {
        Some("version") => Ok(Answer::new(
            200,
            json!({ "version": YOURLS_VERSION, "message": "success" }),
        )),
        Some("shorturl") => shorten(params, client, cx).await,
        Some("expand") => expand(params, cx).await,
        Some("url-stats") => url_stats(params, cx).await,
        Some("stats") => stats(params, cx).await,
        Some("db-stats") => db_stats(params, cx).await,
        Some("signature") => signature(params, cx).await,
        _ => Err(Answer::error(
            400,
            "Unknown or missing \"action\" parameter",
        )),
    };
    outcome.unwrap_or_else(|answer| answer)
}

/// YOURLS's date form, `2024-01-31 12:00:00` (UTC here).
fn date(at: Timestamp) -> String {
    at.to_rfc3339().replacen('T', " ", 1).replace('Z', "")
}

/// A link as YOURLS's `url` / `link` entry.
fn entry(link: &Link, cx: &Ctx) -> Value {
    json!({
        "keyword": link.key.as_str(),
        "shorturl": cx.short_url(&link.name()),
        "url": link.target_url,
        "title": link.controls.title.as_deref().unwrap_or(""),
        "date": date(link.created_at),
        "timestamp": date(link.created_at),
        // Not kept: the creator's address is nobody's business here.
        "ip": "",
        "clicks": link.clicks.to_string(),
    })
}

/// `action=shorturl&url=&keyword=&title=`: the operator API's creation, on the
/// creation rate limit of `POST /url`.
async fn shorten(params: &Params, client: String, cx: &Ctx) -> Result<Answer, Answer> {
    let op = signed_in(params, Operation::CreateLinks, cx).await?;
    let nourl = || {
        Answer::new(
            400,
            json!({
                "status": "fail",
                "code": "error:nourl",
                "message": "Missing or malformed URL",
                "errorCode": "400",
            }),
        )
    };
    let url = params.get("url").ok_or_else(nourl)?;
    operations::rate_limit(client, cx)
        .await
        .map_err(|e| refusal(&e))?;
    let mut fields = Map::new();
    fields.insert("target_url".into(), json!(url));
    if let Some(keyword) = params.get("keyword") {
        fields.insert("custom_key".into(), json!(keyword));
    }
    if let Some(title) = params.get("title") {
        fields.insert("title".into(), json!(title));
    }
    let own_hosts = cx.own_hosts();
    let new =
        match NewLink::from_value(Value::Object(fields), &cx.target_policy(&own_hosts), cx.now) {
            Ok(new) => new,
            Err(e) => {
                let e = ApiError::from(e);
                return Err(if e.detail().starts_with("target_url") {
                    nourl()
                } else {
                    refusal(&e)
                });
            }
        };
    let keyword = new.custom_key.as_ref().map(|k| k.as_str().to_string());
    let link = match operations::create(new, Some(&op), cx).await {
        Ok(Created::Made { link, .. } | Created::Reused(link)) => link,
        // YOURLS reports a taken keyword as a failed request answered with 200.
        Err(ApiError::KeyTaken(_) | ApiError::KeyIsAlias(_)) => {
            let keyword = keyword.unwrap_or_default();
            return Err(Answer::new(
                200,
                json!({
                    "status": "fail",
                    "code": "error:keyword",
                    "message": format!("Short URL {keyword} already exists in database or is reserved"),
                    "errorCode": "400",
                }),
            ));
        }
        Err(e) => return Err(refusal(&e)),
    };
    let short = cx.short_url(&link.name());
    let title = link.controls.title.clone().unwrap_or_default();
    Ok(Answer::new(
        200,
        json!({
            "url": entry(&link, cx),
            "status": "success",
            "message": format!("{} added to database", link.target_url),
            "title": title,
            "shorturl": short,
            "simple": short,
        }),
    ))
}

/// The link `shorturl=` names (a short URL or its keyword) for this operator; a
/// deactivated one is missing, as a deleted YOURLS link is.
async fn find(params: &Params, op: &Operator, cx: &Ctx) -> Result<Link, Answer> {
    let missing = || {
        Answer::new(
            404,
            json!({
                "errorCode": "404",
                "message": "Error: short URL not found",
                "simple": "not found",
            }),
        )
    };
    let raw = params.get("shorturl").ok_or_else(missing)?;
    let keyword = raw.trim_end_matches('/').rsplit('/').next().unwrap_or(raw);
    let key = Key::parse(keyword).map_err(|_| missing())?;
    let name = op.name(key, cx).map_err(|e| refusal(&e))?;
    let store = cx.links().map_err(|e| refusal(&e.into()))?;
    match store.find(&op.link(&name)).await {
        Ok(Some(link)) if link.is_active => Ok(link),
        Ok(_) => Err(missing()),
        Err(e) => Err(refusal(&e.into())),
    }
}

/// `action=expand&shorturl=`.
async fn expand(params: &Params, cx: &Ctx) -> Result<Answer, Answer> {
    let op = signed_in(params, Operation::ShowLink, cx).await?;
    let link = find(params, &op, cx).await?;
    Ok(Answer::new(
        200,
        json!({
            "keyword": link.key.as_str(),
            "shorturl": cx.short_url(&link.name()),
            "longurl": link.target_url,
            "title": link.controls.title.as_deref().unwrap_or(""),
            "message": "success",
            "simple": link.target_url,
        }),
    ))
}

/// `action=url-stats&shorturl=`: the link and its clicks.
async fn url_stats(params: &Params, cx: &Ctx) -> Result<Answer, Answer> {
    let op = signed_in(params, Operation::LinkStats, cx).await?;
    let link = find(params, &op, cx).await?;
    Ok(Answer::new(
        200,
        json!({ "message": "success", "link": entry(&link, cx) }),
    ))
}

/// The links this key reaches (its domains, a creator key's own; active ones, as
/// YOURLS has no inactive links), how many they are, and YOURLS's `stats` object of
/// their totals.
async fn reached<'a>(op: &'a Operator, cx: &Ctx) -> Result<(ListFilter<'a>, u64, Value), Answer> {
    let filter = ListFilter {
        domains: op.domains(),
        created_by: op.scope(),
        active_only: true,
        ..ListFilter::default()
    };
    let store = cx.links().map_err(|e| refusal(&e.into()))?;
    let totals = store
        .totals_of(&filter)
        .await
        .map_err(|e| refusal(&e.into()))?;
    let links = totals.links as u64;
    let stats = json!({
        "total_links": links.to_string(),
        "total_clicks": (totals.clicks as u64).to_string(),
    });
    Ok((filter, links, stats))
}

/// `action=stats&filter=top|bottom|rand|last&limit=&start=`.
async fn stats(params: &Params, cx: &Ctx) -> Result<Answer, Answer> {
    let op = signed_in(params, Operation::Export, cx).await?;
    let number = |name: &str, default: u64| match params.get(name) {
        None => Ok(default),
        Some(raw) => raw
            .parse::<u64>()
            .map_err(|_| Answer::error(400, format!("{name} must be a number"))),
    };
    let limit = number("limit", 10)?.clamp(1, MAX_STATS_LIMIT as u64);
    let start = number("start", 0)?;
    let (filter, total, stats) = reached(&op, cx).await?;
    let (order, offset) = match params.get("filter").unwrap_or("top") {
        "top" => (Some((ListOrder::Clicks, true)), start),
        "bottom" => (Some((ListOrder::Clicks, false)), start),
        // The listing is newest first already.
        "last" => (None, start),
        // Moved along by the clock: a sample, not a secret.
        "rand" | "random" => {
            let shift = u64::try_from(cx.now.millis()).unwrap_or(0) % total.max(1);
            (None, (start.saturating_add(shift)) % total.max(1))
        }
        other => {
            return Err(Answer::error(
                400,
                format!("filter '{other}' is not one of top, bottom, rand or last"),
            ))
        }
    };
    let links = cx
        .links()
        .map_err(|e| refusal(&e.into()))?
        .page_at(&filter, order, offset, limit as u32)
        .await
        .map_err(|e| refusal(&e.into()))?;
    let mut listed = Map::new();
    for (i, link) in links.iter().enumerate() {
        listed.insert(format!("link_{}", i + 1), entry(link, cx));
    }
    Ok(Answer::new(
        200,
        json!({ "links": listed, "stats": stats, "message": "success" }),
    ))
}

/// `action=db-stats`: how many links and clicks this key reaches.
async fn db_stats(params: &Params, cx: &Ctx) -> Result<Answer, Answer> {
    let op = signed_in(params, Operation::Export, cx).await?;
    let (_, _, stats) = reached(&op, cx).await?;
    Ok(Answer::new(
        200,
        json!({ "db-stats": stats, "message": "success" }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_nests_objects_and_escapes_text() {
        let mut xml = String::new();
        xml_element(
            &mut xml,
            "link",
            &json!({ "url": "https://e.x/?a=1&b=<2>", "clicks": 3 }),
        );
        assert_eq!(
            xml,
            "<link><clicks>3</clicks><url>https://e.x/?a=1&amp;b=&lt;2&gt;</url></link>"
        );
    }

    #[test]
    fn a_signature_wins_over_a_username_and_a_password_needs_its_user() {
        let params = |pairs: &[(&str, &str)]| {
            Params(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        };
        assert_eq!(
            credentials(&params(&[("signature", "sk_a"), ("username", "u")])),
            Some(("sk_a", None))
        );
        assert_eq!(
            credentials(&params(&[("username", "key_x"), ("password", "sk_b")])),
            Some(("sk_b", Some("key_x")))
        );
        assert_eq!(credentials(&params(&[("password", "sk_b")])), None);
        assert_eq!(credentials(&params(&[("signature", "")])), None);
    }

    #[test]
    fn dates_are_written_in_yourls_form() {
        assert_eq!(date(Timestamp::from_millis(0)), "1970-01-01 00:00:00");
    }
}
