//! Shlink's REST API v3 (`/rest/v3/...`, `/rest/health`), as its OpenAPI document and
//! `@shlinkio/shlink-js-sdk` speak it: short URLs, their visits, tags, domains and the
//! health check, authenticated by `X-Api-Key` with this service's API keys. Errors are
//! RFC 7807 problems with Shlink's `type` URIs. What maps to what: docs/compat.md.

use serde_json::{json, Map, Value};
use worker::Request;

use super::{header, operator};
use crate::domain::access::Operation;
use crate::domain::address::Domain;
use crate::domain::controls::normalize_tag;
use crate::domain::key::Key;
use crate::domain::link::Link;
use crate::domain::link_request::{LinkPatch, NewLink};
use crate::domain::timestamp::Timestamp;
use crate::handlers::auth::Operator;
use crate::handlers::context::Ctx;
use crate::handlers::operations::{self, Created};
use crate::http::body::{self, MAX_BODY_BYTES};
use crate::http::error::ApiError;
use crate::http::response::{self, Reply, NO_CONTENT, OK};
use crate::http::route::Method;
use crate::storage::listing::{ListFilter, ListOrder};

/// The Shlink version `/rest/health` reports: the last of the 3.x line, whose REST API
/// v3 this adapter follows (clients read the version to pick the features they use).
const SHLINK_VERSION: &str = "3.7.0";
/// Where Shlink's problem types live.
const PROBLEM_BASE: &str = "https://shlink.io/api/error/";
/// Raw visits a visits listing reads at most (newest first).
const VISITS_CAP: u32 = 1000;
/// Shlink's default page size.
const DEFAULT_ITEMS: usize = 10;
/// Short URLs one listing page shows at most (`itemsPerPage=-1` included): each shown
/// link's bot clicks are one D1 read, and a request has a bounded number of them.
const MAX_LIST_ITEMS: usize = 100;

/// An endpoint of the API, with the short code it names.
#[derive(Debug, PartialEq, Eq)]
enum Endpoint<'a> {
    Health,
    List,
    Create,
    Show(&'a str),
    Edit(&'a str),
    Delete(&'a str),
    Visits(&'a str),
    VisitsOverview,
    Tags,
    TagsStats,
    Domains,
}

/// The endpoint of (method, path); `None` for anything else, which Shlink answers as a
/// route that does not exist.
fn endpoint(method: Method, path: &str) -> Option<Endpoint<'_>> {
    use Method::{Delete, Get, Head, Patch, Post};
    if path == "/rest/health" {
        return matches!(method, Get | Head).then_some(Endpoint::Health);
    }
    let rest = path.strip_prefix("/rest/v3")?;
    let read = matches!(method, Get | Head);
    let found = match rest {
        "/health" if read => Endpoint::Health,
        "/short-urls" if read => Endpoint::List,
        "/short-urls" if method == Post => Endpoint::Create,
        "/visits" if read => Endpoint::VisitsOverview,
        "/tags" if read => Endpoint::Tags,
        "/tags/stats" if read => Endpoint::TagsStats,
        "/domains" if read => Endpoint::Domains,
        _ => {
            let code = rest.strip_prefix("/short-urls/")?;
            if let Some(code) = code.strip_suffix("/visits") {
                return (read && !code.contains('/')).then_some(Endpoint::Visits(code));
            }
            if code.contains('/') {
                return None;
            }
            match method {
                Get | Head => Endpoint::Show(code),
                Patch => Endpoint::Edit(code),
                Delete => Endpoint::Delete(code),
                _ => return None,
            }
        }
    };
    Some(found)
}

/// An RFC 7807 problem as Shlink words it.
struct Problem {
    status: u16,
    /// The last segment of the type URI (`short-url-not-found`).
    kind: &'static str,
    title: &'static str,
    detail: String,
    /// Shlink's extra members (`shortCode`, `customSlug`, `invalidElements`).
    extra: Map<String, Value>,
}

impl Problem {
    fn new(status: u16, kind: &'static str, title: &'static str, detail: String) -> Problem {
        Problem {
            status,
            kind,
            title,
            detail,
            extra: Map::new(),
        }
    }

    fn with(mut self, name: &str, value: Value) -> Problem {
        self.extra.insert(name.to_string(), value);
        self
    }

    fn route_not_found() -> Problem {
        Problem::new(
            404,
            "not-found",
            "Not found",
            "Requested route does not exist.".into(),
        )
    }

    fn short_url_not_found(code: &str, domain: Option<&str>) -> Problem {
        let detail = match domain {
            Some(d) => format!("No URL found with short code \"{code}\" for domain \"{d}\""),
            None => format!("No URL found with short code \"{code}\""),
        };
        let problem = Problem::new(404, "short-url-not-found", "Short URL not found", detail)
            .with("shortCode", json!(code));
        match domain {
            Some(d) => problem.with("domain", json!(d)),
            None => problem,
        }
    }

    fn invalid(detail: String, element: &str) -> Problem {
        Problem::new(400, "invalid-data", "Invalid data", detail)
            .with("invalidElements", json!([element]))
    }

    fn render(self) -> worker::Result<Reply> {
        let mut body = Map::new();
        body.insert("type".into(), json!(format!("{PROBLEM_BASE}{}", self.kind)));
        body.insert("title".into(), json!(self.title));
        body.insert("detail".into(), json!(self.detail));
        body.insert("status".into(), json!(self.status));
        body.extend(self.extra);
        response::typed(
            self.status,
            "application/problem+json",
            serde_json::to_vec(&Value::Object(body))?,
        )
    }
}

/// Shlink's field names and the service's, for requests in and error words out.
const FIELDS: &[(&str, &str)] = &[
    ("longUrl", "target_url"),
    ("customSlug", "custom_key"),
    ("tags", "tags"),
    ("title", "title"),
    ("validSince", "valid_since"),
    ("validUntil", "expires_at"),
    ("maxVisits", "max_clicks"),
    ("crawlable", "crawlable"),
    ("forwardQuery", "forward_query"),
    ("domain", "domain"),
];

/// An error of the service's own operations, in Shlink's words. `code`: the short
/// code the request named, for the not-found problem.
fn problem_of(e: ApiError, code: Option<&str>, domain: Option<&str>) -> Problem {
    e.log();
    let status = e.status();
    match e {
        ApiError::NotFound => match code {
            Some(code) => Problem::short_url_not_found(code, domain),
            None => Problem::route_not_found(),
        },
        ApiError::KeyTaken(slug) | ApiError::KeyIsAlias(slug) => Problem::new(
            400,
            "non-unique-slug",
            "Invalid custom slug",
            format!("Provided slug \"{slug}\" is already in use."),
        )
        .with("customSlug", json!(slug)),
        ApiError::Unauthorized | ApiError::OperatorApiOff => Problem::new(
            401,
            "invalid-api-key",
            "Invalid API key",
            "Provided API key does not exist or is invalid.".into(),
        ),
        ApiError::DomainForbidden(name) => Problem::new(
            404,
            "domain-not-found",
            "Domain not found",
            format!("Domain with authority \"{name}\" could not be found"),
        )
        .with("authority", json!(name)),
        ApiError::BadRequest(why) | ApiError::Unprocessable(why) => {
            // The service's words name its own fields; Shlink's clients know theirs.
            let (element, words) = FIELDS
                .iter()
                .find(|(_, ours)| why.starts_with(ours))
                .map_or(("", why.clone()), |(theirs, ours)| {
                    (*theirs, why.replacen(ours, theirs, 1))
                });
            let problem = Problem::new(400, "invalid-data", "Invalid data", words);
            if element.is_empty() {
                problem.with("invalidElements", json!([]))
            } else {
                problem.with("invalidElements", json!([element]))
            }
        }
        e @ (ApiError::Forbidden(_) | ApiError::NoRole(_) | ApiError::AccessRefused(_)) => {
            Problem::new(status, "forbidden-operation", "Forbidden", e.detail())
        }
        e @ (ApiError::RateLimited(_) | ApiError::TooManyAttempts(_)) => {
            Problem::new(status, "too-many-requests", "Too many requests", e.detail())
        }
        e if status >= 500 => Problem::new(
            status,
            "internal-server-error",
            "Internal Server Error",
            e.detail(),
        ),
        e => Problem::new(status, "invalid-data", "Invalid data", e.detail()),
    }
}

/// Answers a request under `/rest`.
pub async fn handle(method: Method, req: &mut Request, cx: &Ctx) -> worker::Result<Reply> {
    let path = req.path();
    let answer = match endpoint(method, &path) {
        None => Err(Problem::route_not_found()),
        Some(Endpoint::Health) => return health(cx).await,
        Some(endpoint) => serve(endpoint, req, cx).await,
    };
    answer.or_else(Problem::render)
}

/// `GET /rest/health`: whether the links database answers, without a key.
async fn health(cx: &Ctx) -> worker::Result<Reply> {
    let pass = match cx.links() {
        Ok(store) => store.ping().await.is_ok(),
        Err(_) => false,
    };
    let body = json!({
        "status": if pass { "pass" } else { "fail" },
        "version": SHLINK_VERSION,
        "links": {
            "about": "https://shlink.io",
            "project": "https://github.com/shlinkio/shlink",
        },
    });
    response::typed(
        if pass { OK } else { 503 },
        "application/health+json",
        serde_json::to_vec(&body)?,
    )
}

/// The operation each endpoint performs, as the operator API's permission matrix names
/// it: the same roles allow the same things through either API.
fn operation(endpoint: &Endpoint<'_>) -> Operation {
    match endpoint {
        Endpoint::List | Endpoint::Domains => Operation::ListLinks,
        Endpoint::Show(_) => Operation::ShowLink,
        Endpoint::Create => Operation::CreateLinks,
        Endpoint::Edit(_) | Endpoint::Delete(_) => Operation::ChangeLink,
        Endpoint::Visits(_) => Operation::LinkStats,
        // Totals over every link, as the native `/api/tags` reads them.
        Endpoint::Health | Endpoint::VisitsOverview | Endpoint::Tags | Endpoint::TagsStats => {
            Operation::Export
        }
    }
}

async fn serve(endpoint: Endpoint<'_>, req: &mut Request, cx: &Ctx) -> Result<Reply, Problem> {
    let token = header(req, "X-Api-Key");
    // The body is read before the key is checked: an answer sent with the request's
    // body unread leaves the client's kept-alive connection unusable (Node's http
    // agent, which clients of this API use, has its next request on it reset).
    let body = match endpoint {
        Endpoint::Create | Endpoint::Edit(_) => match object_body(req).await {
            Ok(body) => body,
            Err(Failure::Shlink(p)) => return Err(p),
            Err(Failure::Api(e)) => return Err(problem_of(e, None, None)),
        },
        _ => Map::new(),
    };
    if token.as_deref().is_none_or(|t| t.trim().is_empty()) {
        return Err(Problem::new(
            401,
            "missing-authentication",
            "Invalid authorization",
            "Expected one of the following authentication headers, [\"X-Api-Key\"], but none were provided".into(),
        ));
    }
    let client = operations::client_ip(req);
    let op = operator(token.as_deref(), operation(&endpoint), cx)
        .await
        .map_err(|e| problem_of(e, None, None))?;
    let domain_param = cx.query_param("domain").filter(|d| !d.is_empty());
    let domain = domain_param.as_deref();
    let code = match &endpoint {
        Endpoint::Show(c) | Endpoint::Edit(c) | Endpoint::Delete(c) | Endpoint::Visits(c) => {
            Some(*c)
        }
        _ => None,
    };
    let result = match endpoint {
        Endpoint::List => list(&op, cx).await,
        Endpoint::Create => create(body, client, &op, cx).await,
        Endpoint::Show(code) => show(code, &op, cx).await,
        Endpoint::Edit(code) => edit(code, body, &op, cx).await,
        Endpoint::Delete(code) => delete(code, &op, cx).await,
        Endpoint::Visits(code) => visits(code, &op, cx).await,
        Endpoint::VisitsOverview => visits_overview(&op, cx).await,
        Endpoint::Tags => tags(&op, cx, false).await,
        Endpoint::TagsStats => tags(&op, cx, true).await,
        Endpoint::Domains => domains(&op, cx),
        Endpoint::Health => Err(ApiError::NotFound.into()),
    };
    result.map_err(|e| match e {
        Failure::Api(e) => problem_of(e, code, domain),
        Failure::Shlink(p) => p,
    })
}

/// A failure of an endpoint: the service's own error, or one only Shlink has.
enum Failure {
    Api(ApiError),
    Shlink(Problem),
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Failure {
        Failure::Api(e)
    }
}

impl From<crate::storage::error::StorageError> for Failure {
    fn from(e: crate::storage::error::StorageError) -> Failure {
        Failure::Api(e.into())
    }
}

impl From<worker::Error> for Failure {
    fn from(e: worker::Error) -> Failure {
        Failure::Api(ApiError::Internal(e.to_string()))
    }
}

type Answer = Result<Reply, Failure>;

fn ok(body: &Value) -> Answer {
    Ok(response::json(OK, body)?)
}

/// `2019-01-01T00:00:00+00:00`: the ATOM form Shlink writes its dates in.
fn date(at: Timestamp) -> String {
    let rfc = at.to_rfc3339();
    match rfc.strip_suffix('Z') {
        Some(bare) => format!("{bare}+00:00"),
        None => rfc,
    }
}

/// How Shlink names a link's domain: `null` for the default domain, else its host.
fn domain_name(domain: &Domain) -> Value {
    domain.host().map_or(Value::Null, |h| json!(h))
}

/// A link as Shlink's `ShortUrl`; `bots`: the part of its clicks made by bots.
fn short_url(link: &Link, bots: i64, cx: &Ctx) -> Value {
    let routing = &link.controls.routing;
    json!({
        "shortCode": link.key.as_str(),
        "shortUrl": cx.short_url(&link.name()),
        "longUrl": link.target_url,
        "dateCreated": date(link.created_at),
        "visitsSummary": {
            "total": link.clicks,
            "nonBots": link.clicks - bots,
            "bots": bots,
        },
        "tags": link.controls.tags,
        "meta": {
            "validSince": routing.valid_since.map(date),
            "validUntil": link.settings.expires_at.map(date),
            "maxVisits": link.settings.max_clicks,
        },
        "domain": domain_name(&link.domain),
        "title": link.controls.title,
        "crawlable": routing.crawlable,
        "forwardQuery": link.settings.forward_query,
        "hasRedirectRules": routing.rules_value().is_some() || routing.split_value().is_some(),
    })
}

/// A link's bot clicks, from its exact counters.
async fn bots_of(link: &Link, cx: &Ctx) -> Result<i64, ApiError> {
    let totals = cx.links()?.totals(link.stats_key()).await?;
    Ok(totals.map_or(0, |t| t.bots))
}

/// The link a short code names for this operator, on `?domain=`. A deactivated link is
/// answered as missing: Shlink deletes, this service deactivates (docs/compat.md).
async fn find(code: &str, op: &Operator, cx: &Ctx) -> Result<Link, ApiError> {
    let key = Key::parse(code).map_err(|_| ApiError::NotFound)?;
    let name = op.name(key, cx)?;
    let link = cx.links()?.find(&op.link(&name)).await?;
    link.filter(|l| l.is_active).ok_or(ApiError::NotFound)
}

async fn show(code: &str, op: &Operator, cx: &Ctx) -> Answer {
    let link = find(code, op, cx).await?;
    let bots = bots_of(&link, cx).await?;
    ok(&short_url(&link, bots, cx))
}

/// The body as a JSON object, or Shlink's invalid-data problem.
async fn object_body(req: &mut Request) -> Result<Map<String, Value>, Failure> {
    let raw = body::read_json(req, MAX_BODY_BYTES).await?;
    match serde_json::from_slice::<Value>(&raw) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Failure::Shlink(Problem::invalid(
            "Provided data is not valid: the body must be a JSON object".into(),
            "",
        ))),
    }
}

/// Shlink's fields as the service's own creation or change body. Fields Shlink has and
/// this service cannot honour are refused as invalid data, naming them; fields neither
/// knows are ignored, as Shlink ignores them.
fn native_fields(body: &Map<String, Value>, creating: bool) -> Result<Value, Failure> {
    let mut native = Map::new();
    for (theirs, ours) in FIELDS {
        if let Some(value) = body.get(*theirs) {
            if !creating && matches!(*theirs, "customSlug" | "domain") {
                continue;
            }
            native.insert((*ours).to_string(), value.clone());
        }
    }
    if creating {
        if body.get("findIfExists") == Some(&Value::Bool(true)) {
            native.insert("reuse".into(), Value::Bool(true));
        }
        if body.get("shortCodeLength").is_some_and(|v| !v.is_null()) {
            return Err(Failure::Shlink(Problem::invalid(
                "shortCodeLength is not supported here: the length of drawn short codes is the instance's KEY_LENGTH".into(),
                "shortCodeLength",
            )));
        }
    }
    if body.get("deviceLongUrls").is_some_and(|v| !v.is_null()) {
        return Err(Failure::Shlink(Problem::invalid(
            "deviceLongUrls is not supported here: use this service's targeting rules".into(),
            "deviceLongUrls",
        )));
    }
    Ok(Value::Object(native))
}

/// `POST /rest/v3/short-urls`: through the same creation (limits, checks, audit) as
/// the operator API, on the same creation rate limit as `POST /url`.
async fn create(body: Map<String, Value>, client: String, op: &Operator, cx: &Ctx) -> Answer {
    operations::rate_limit(client, cx).await?;
    let native = native_fields(&body, true)?;
    let own_hosts = cx.own_hosts();
    let new = NewLink::from_value(native, &cx.target_policy(&own_hosts), cx.now)
        .map_err(ApiError::from)?;
    let link = match operations::create(new, Some(op), cx).await? {
        Created::Made { link, .. } | Created::Reused(link) => link,
    };
    let bots = bots_of(&link, cx).await?;
    ok(&short_url(&link, bots, cx))
}

/// `PATCH /rest/v3/short-urls/{shortCode}`: the same change as the operator API's
/// `PATCH`, audited the same way.
async fn edit(code: &str, body: Map<String, Value>, op: &Operator, cx: &Ctx) -> Answer {
    let native = native_fields(&body, false)?;
    let link = find(code, op, cx).await?;
    let changed = match &native {
        Value::Object(fields) if fields.is_empty() => link,
        _ => {
            let own_hosts = cx.own_hosts();
            let raw = serde_json::to_vec(&native).map_err(|e| ApiError::Internal(e.to_string()))?;
            let patch = LinkPatch::from_json(&raw, &cx.target_policy(&own_hosts), cx.now)
                .map_err(ApiError::from)?;
            let name = link.name();
            let updated = operations::change(&op.link(&name), &patch, cx).await?;
            operations::audit_change(op, &updated, native, cx).await;
            updated
        }
    };
    let bots = bots_of(&changed, cx).await?;
    ok(&short_url(&changed, bots, cx))
}

/// `DELETE /rest/v3/short-urls/{shortCode}`: a deactivation, audited as the operator
/// API's `DELETE` is; the link then answers as missing here.
async fn delete(code: &str, op: &Operator, cx: &Ctx) -> Answer {
    let link = find(code, op, cx).await?;
    let name = link.name();
    operations::deactivate(&op.link(&name), Some(op), cx).await?;
    Ok(response::typed(NO_CONTENT, "application/json", Vec::new())?)
}

/// Shlink's `page` and `itemsPerPage` (`-1`: everything in one page).
fn paging(cx: &Ctx) -> Result<(usize, Option<usize>), Failure> {
    let number = |name: &str| -> Result<Option<i64>, Failure> {
        match cx.query_param(name).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(raw) => raw.parse::<i64>().map(Some).map_err(|_| {
                Failure::Shlink(Problem::invalid(format!("{name} must be an integer"), name))
            }),
        }
    };
    let page = number("page")?.unwrap_or(1).max(1);
    let per_page = match number("itemsPerPage")? {
        None => Some(DEFAULT_ITEMS),
        Some(n) if n < 1 => None,
        Some(n) => Some(usize::try_from(n).unwrap_or(DEFAULT_ITEMS)),
    };
    Ok((usize::try_from(page).unwrap_or(1), per_page))
}

/// One page of `items` and Shlink's paginator for it.
fn paginate<T>(items: Vec<T>, page: usize, per_page: Option<usize>) -> (Vec<T>, Value) {
    let total = items.len();
    let size = per_page.unwrap_or(total.max(1));
    let shown: Vec<T> = items
        .into_iter()
        .skip((page - 1).saturating_mul(size))
        .take(size)
        .collect();
    let pagination = pagination(page, per_page, shown.len(), total as u64);
    (shown, pagination)
}

/// Shlink's `pagination` object of page `page` (from 1), which shows `shown` of
/// `total` items, `per_page` a page (all on one page without it).
fn pagination(page: usize, per_page: Option<usize>, shown: usize, total: u64) -> Value {
    let size = per_page.map_or(total.max(1), |n| n as u64);
    json!({
        "currentPage": page,
        "pagesCount": total.div_ceil(size.max(1)),
        "itemsPerPage": per_page.map_or(json!(-1), |n| json!(n)),
        "itemsInCurrentPage": shown,
        "totalItems": total,
    })
}

/// A date filter (`startDate`, `endDate`): ISO 8601 as Shlink's clients send it.
fn date_param(name: &str, cx: &Ctx) -> Result<Option<Timestamp>, Failure> {
    match cx.query_param(name).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(raw) => Timestamp::parse_rfc3339(&raw).map(Some).map_err(|_| {
            Failure::Shlink(Problem::invalid(
                format!("{name} must be an ISO 8601 date and time"),
                name,
            ))
        }),
    }
}

/// Every value of a repeated query parameter (`tags[]=a&tags[]=b`, or `tags=a`).
fn query_values(name: &str, cx: &Ctx) -> Vec<String> {
    let bracketed = format!("{name}[]");
    url::form_urlencoded::parse(cx.query().as_bytes())
        .filter(|(k, _)| k == name || *k == bracketed)
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

/// `GET /rest/v3/short-urls`: the operator API's listing (its filters, a key's domains
/// and a creator key's own links) with Shlink's tag modes, dates, exclusions, order
/// and numbered pages, all in the query (`LinkStore::page_at`), however many links.
async fn list(op: &Operator, cx: &Ctx) -> Answer {
    let (page, per_page) = paging(cx)?;
    // itemsPerPage -1 ("all") gets the largest page, as every other page size does.
    let size = per_page.map_or(MAX_LIST_ITEMS, |n| n.min(MAX_LIST_ITEMS));
    let mut tags = Vec::new();
    for raw in query_values("tags", cx) {
        tags.push(
            normalize_tag(&raw)
                .map_err(|why| Problem::invalid(why, "tags"))
                .map_err(Failure::Shlink)?,
        );
    }
    let all_tags = cx.query_param("tagsMode").as_deref() == Some("all");
    let search = cx
        .query_param("searchTerm")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if search.as_ref().is_some_and(|s| s.chars().count() > 200) {
        return Err(Failure::Shlink(Problem::invalid(
            "searchTerm must be at most 200 characters".into(),
            "searchTerm",
        )));
    }
    let domain = match cx.query_param("domain").filter(|d| !d.is_empty()) {
        None => None,
        Some(name) => Some(op.chosen_domain(Some(&name), cx)?),
    };
    let (since, until) = (date_param("startDate", cx)?, date_param("endDate", cx)?);
    let flag = |name: &str| cx.query_param(name).as_deref() == Some("true");
    let (no_exhausted, no_expired) = (
        flag("excludeMaxVisitsReached"),
        flag("excludePastValidUntil"),
    );
    let order = order(cx.query_param("orderBy").as_deref())?;
    let filter = ListFilter {
        domain: domain.as_ref(),
        domains: op.domains(),
        tags: Some((tags.as_slice(), all_tags)),
        search: search.as_deref(),
        created_by: op.scope(),
        active_only: true,
        created_from: since,
        created_to: until,
        not_exhausted: no_exhausted,
        not_expired_at: no_expired.then_some(cx.now),
        ..ListFilter::default()
    };
    let store = cx.links()?;
    let total = store.totals_of(&filter).await?.links as u64;
    let offset = ((page - 1) as u64).saturating_mul(size as u64);
    let shown = if offset < total {
        store.page_at(&filter, order, offset, size as u32).await?
    } else {
        Vec::new()
    };
    let bots = futures_util::future::try_join_all(shown.iter().map(|l| bots_of(l, cx))).await?;
    let data: Vec<Value> = shown
        .iter()
        .zip(bots)
        .map(|(l, bots)| short_url(l, bots, cx))
        .collect();
    let pagination = pagination(page, Some(size), data.len(), total);
    ok(&json!({ "shortUrls": { "data": data, "pagination": pagination } }))
}

/// Shlink's `orderBy` (`field-ASC` or `field-DESC`) as a column and whether it is
/// descending; `None` (the native listing's newest first) without one.
fn order(order_by: Option<&str>) -> Result<Option<(ListOrder, bool)>, Failure> {
    let Some(raw) = order_by.filter(|o| !o.is_empty()) else {
        return Ok(None);
    };
    let (field, dir) = raw.split_once('-').unwrap_or((raw, "ASC"));
    let bad = || {
        Failure::Shlink(Problem::invalid(
            format!("orderBy '{raw}' is not one of dateCreated, shortCode, longUrl, title, visits or nonBotVisits, with -ASC or -DESC"),
            "orderBy",
        ))
    };
    let by = match field {
        "dateCreated" => ListOrder::Created,
        "shortCode" => ListOrder::Key,
        "longUrl" => ListOrder::Target,
        "title" => ListOrder::Title,
        "visits" | "nonBotVisits" => ListOrder::Clicks,
        _ => return Err(bad()),
    };
    match dir {
        "ASC" => Ok(Some((by, false))),
        "DESC" => Ok(Some((by, true))),
        _ => Err(bad()),
    }
}

/// `GET /rest/v3/short-urls/{shortCode}/visits`: the raw visits this service keeps
/// (`VISIT_RETENTION_DAYS`), newest first, at most [`VISITS_CAP`].
async fn visits(code: &str, op: &Operator, cx: &Ctx) -> Answer {
    let (page, per_page) = paging(cx)?;
    let (since, until) = (date_param("startDate", cx)?, date_param("endDate", cx)?);
    let no_bots = cx.query_param("excludeBots").as_deref() == Some("true");
    let link = find(code, op, cx).await?;
    let short = cx.short_url(&link.name());
    let rows = operations::recent_visits(&link, None, VISITS_CAP, cx).await?;
    let kept: Vec<Value> = rows
        .iter()
        .filter(|v| {
            let at = Timestamp::from_millis(v.at as i64);
            !(no_bots && v.is_bot != 0.0)
                && since.is_none_or(|s| at >= s)
                && until.is_none_or(|u| at <= u)
        })
        .map(|v| {
            json!({
                "referer": v.referrer_host.as_deref().unwrap_or(""),
                "date": date(Timestamp::from_millis(v.at as i64)),
                // Not kept: only a device class is (docs/privacy).
                "userAgent": "",
                "visitLocation": v.country.as_ref().map(|c| json!({
                    "countryCode": c,
                    "countryName": Value::Null,
                    "regionName": Value::Null,
                    "cityName": Value::Null,
                    "latitude": Value::Null,
                    "longitude": Value::Null,
                    "timezone": Value::Null,
                    "isEmpty": false,
                })),
                "potentialBot": v.is_bot != 0.0,
                "visitedUrl": short,
                "redirectUrl": Value::Null,
            })
        })
        .collect();
    let (data, pagination) = paginate(kept, page, per_page);
    ok(&json!({ "visits": { "data": data, "pagination": pagination } }))
}

/// `GET /rest/v3/visits`: the clicks of every link this key reaches; no orphan visits
/// are recorded here (a visit to no link is not counted).
async fn visits_overview(op: &Operator, cx: &Ctx) -> Answer {
    let totals = cx.links()?.click_totals(op.domains()).await?;
    let (total, bots) = (totals.clicks as i64, totals.bots as i64);
    ok(&json!({ "visits": {
        "nonOrphanVisits": { "total": total, "nonBots": total - bots, "bots": bots },
        "orphanVisits": { "total": 0, "nonBots": 0, "bots": 0 },
    } }))
}

/// `GET /rest/v3/tags` and `/rest/v3/tags/stats`: the tags in use, as `/api/tags`.
async fn tags(op: &Operator, cx: &Ctx, with_stats: bool) -> Answer {
    let totals = cx.links()?.tag_totals(op.domains()).await?;
    let data: Vec<Value> = totals
        .iter()
        .map(|t| {
            if !with_stats {
                return json!(t.tag);
            }
            let (clicks, bots) = (t.clicks as i64, t.bots as i64);
            json!({
                "tag": t.tag,
                "shortUrlsCount": t.links as i64,
                "visitsSummary": { "total": clicks, "nonBots": clicks - bots, "bots": bots },
            })
        })
        .collect();
    let (data, pagination) = paginate(data, 1, None);
    ok(&json!({ "tags": { "data": data, "pagination": pagination } }))
}

/// `GET /rest/v3/domains`: the domains this instance serves (those the key reaches),
/// with their fallbacks as Shlink's redirects.
fn domains(op: &Operator, cx: &Ctx) -> Answer {
    let domains = &cx.config.domains;
    let redirects = |d: &Domain| {
        let f = domains.fallbacks(d);
        json!({
            "baseUrlRedirect": f.root,
            "regular404Redirect": f.not_found,
            "invalidShortUrlRedirect": f.inactive,
        })
    };
    let primary = Domain::primary();
    let data: Vec<Value> = domains
        .all()
        .iter()
        .filter(|d| op.actor().reaches(d.stored()))
        .map(|d| {
            let origin = cx.short_origin(d);
            let authority = origin.split_once("://").map_or(&*origin, |(_, a)| a);
            json!({
                "domain": authority,
                "isDefault": d.is_primary(),
                "redirects": redirects(d),
            })
        })
        .collect();
    ok(&json!({ "domains": { "data": data, "defaultRedirects": redirects(&primary) } }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_path_and_method_reaches_its_endpoint() {
        use Method::*;
        let table = [
            (Get, "/rest/health", Some(Endpoint::Health)),
            (Get, "/rest/v3/health", Some(Endpoint::Health)),
            (Get, "/rest/v3/short-urls", Some(Endpoint::List)),
            (Post, "/rest/v3/short-urls", Some(Endpoint::Create)),
            (Get, "/rest/v3/short-urls/abc", Some(Endpoint::Show("abc"))),
            (
                Patch,
                "/rest/v3/short-urls/abc",
                Some(Endpoint::Edit("abc")),
            ),
            (
                Delete,
                "/rest/v3/short-urls/abc",
                Some(Endpoint::Delete("abc")),
            ),
            (
                Get,
                "/rest/v3/short-urls/abc/visits",
                Some(Endpoint::Visits("abc")),
            ),
            (Get, "/rest/v3/visits", Some(Endpoint::VisitsOverview)),
            (Get, "/rest/v3/tags", Some(Endpoint::Tags)),
            (Get, "/rest/v3/tags/stats", Some(Endpoint::TagsStats)),
            (Get, "/rest/v3/domains", Some(Endpoint::Domains)),
            (Post, "/rest/health", None),
            (Delete, "/rest/v3/short-urls/abc/visits", None),
            (Get, "/rest/v3/short-urls/a/b", None),
            (Put, "/rest/v3/short-urls/abc", None),
            (Get, "/rest/v2/short-urls", None),
        ];
        for (method, path, expected) in table {
            assert_eq!(endpoint(method, path), expected, "{method:?} {path}");
        }
    }

    #[test]
    fn pages_count_every_item_and_show_only_their_own() {
        let (shown, pagination) = paginate((1..=25).collect::<Vec<_>>(), 3, Some(10));
        assert_eq!(shown, vec![21, 22, 23, 24, 25]);
        assert_eq!(pagination["pagesCount"], 3);
        assert_eq!(pagination["totalItems"], 25);
        let (all, pagination) = paginate((1..=25).collect::<Vec<_>>(), 1, None);
        assert_eq!(all.len(), 25);
        assert_eq!(pagination["itemsPerPage"], -1);
    }

    #[test]
    fn dates_are_written_in_the_atom_form() {
        assert_eq!(date(Timestamp::from_millis(0)), "1970-01-01T00:00:00+00:00");
    }
}
