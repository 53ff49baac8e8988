//! What every handler may need about the request it serves: the bindings (each opened
//! at most once), the settings, the time, and the request URL parsed only on demand.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::rc::Rc;

use worker::{Context, Env, Request};

use crate::clicks::analytics::Shard;
use crate::clicks::ClickWriter;
use crate::clock::now;
use crate::config::Config;
use crate::domain::address::{Domain, LinkName};
use crate::domain::key::Key;
use crate::domain::link_request::TargetPolicy;
use crate::domain::timestamp::Timestamp;
use crate::health::{self, Checker, Notice};
use crate::http::error::ApiError;
use crate::http::response::BOOKMARK_HEADER;
use crate::storage::database::{Database, Primary, SessionStart};
use crate::storage::error::StorageError;
use crate::storage::links::LinkStore;
use crate::storage::rules::RuleStore;

/// The per-request context.
pub struct Ctx {
    pub env: Env,
    pub ctx: Context,
    pub config: Rc<Config>,
    pub now: Timestamp,
    /// The request URL as the runtime gave it; parsed only by the handlers that need
    /// its origin or host (a redirect needs neither).
    url: String,
    parsed: OnceCell<Option<url::Url>>,
    origin: OnceCell<String>,
    /// The links database's primary, shared by the rule store, click writes and
    /// password attempts: one binding lookup per request.
    primary: Primary,
    rules: OnceCell<RuleStore>,
    /// The client's `X-D1-Bookmark`, if it has a bookmark's shape. Anything else is
    /// ignored: the session then starts at the primary, which is never behind.
    bookmark: Option<String>,
    links: OnceCell<Result<Database, StorageError>>,
    /// The domain the request came in on.
    domain: OnceCell<Domain>,
}

/// Longest bookmark accepted back from a client (D1's are 59 characters today).
const MAX_BOOKMARK_LEN: usize = 128;

impl Ctx {
    pub fn new(req: &Request, env: Env, ctx: Context) -> Ctx {
        let primary = Primary::of(&env);
        Ctx {
            config: Config::get(&env),
            env,
            ctx,
            now: now(),
            url: req.inner().url(),
            parsed: OnceCell::new(),
            origin: OnceCell::new(),
            primary,
            rules: OnceCell::new(),
            bookmark: req
                .headers()
                .get(BOOKMARK_HEADER)
                .ok()
                .flatten()
                .filter(|b| is_bookmark(b)),
            links: OnceCell::new(),
            domain: OnceCell::new(),
        }
    }

    /// The domain this request came in on: a host listed in `DOMAINS`, else the
    /// primary. Without listed domains this reads nothing from the request.
    pub fn domain(&self) -> &Domain {
        self.domain.get_or_init(|| {
            if !self.config.domains.lists_any() {
                return Domain::primary();
            }
            self.hostname()
                .map_or_else(Domain::primary, |host| self.config.domains.of_host(host))
        })
    }

    /// The link `key` on the domain this request came in on: how a visitor names it.
    pub fn name_here(&self, key: Key) -> LinkName {
        LinkName::new(self.domain().clone(), key)
    }

    /// The domain a client names (a body field or `?domain=`), or this request's when
    /// it names none. An operator's choice is also held to its key's domains
    /// (`auth::Operator::chosen_domain`).
    pub fn chosen_domain(&self, named: Option<&str>) -> Result<Domain, ApiError> {
        match named {
            None => Ok(self.domain().clone()),
            Some(name) => Ok(self.config.domains.named(name, self.hostname())?),
        }
    }

    /// The origin of short URLs on `domain`: the primary's is [`Ctx::origin`]; another
    /// domain's is `https://host`, or this request's own origin when it came in on that
    /// host (so a local run keeps its scheme and port).
    pub fn short_origin(&self, domain: &Domain) -> Cow<'_, str> {
        match domain.host() {
            None => Cow::Borrowed(self.origin()),
            Some(_) => Cow::Owned(
                origin_on(
                    domain,
                    self.origin(),
                    self.here().as_ref().map(|(h, o)| (*h, o.as_str())),
                )
                .into_owned(),
            ),
        }
    }

    /// The request's host name and origin, when the URL parses.
    pub fn here(&self) -> Option<(&str, String)> {
        let url = self.parsed()?;
        Some((url.host_str()?, url.origin().ascii_serialization()))
    }

    /// The short URL of `name`.
    pub fn short_url(&self, name: &LinkName) -> String {
        format!("{}/{}", self.short_origin(&name.domain), name.key)
    }

    /// The request's host name, without port, read from the URL string: the redirect
    /// path needs only this, not a full URL parse.
    pub fn hostname(&self) -> Option<&str> {
        let rest = self.url.split_once("://")?.1;
        let authority = rest.split(['/', '?', '#']).next()?;
        let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next()?,
            None => authority.split(':').next()?,
        };
        (!host.is_empty()).then_some(host)
    }

    /// The bookmark to hand back: the latest point of the links database this request
    /// read or wrote, when it used it.
    pub fn bookmark(&self) -> Option<String> {
        self.links.get()?.as_ref().ok()?.bookmark()
    }

    /// Redirect rules through every cache tier, on this request's primary.
    pub fn rules(&self) -> &RuleStore {
        self.rules
            .get_or_init(|| RuleStore::with_primary(&self.env, self.primary.clone()))
    }

    /// The links database's primary: click writes and password attempts, which must see
    /// every write before them. The owner's and operator's reads and writes go through
    /// [`Ctx::links`]' session instead.
    pub fn primary(&self) -> Result<Database, StorageError> {
        self.primary.get()
    }

    /// The links table, in a D1 session: one that starts where the client's bookmark
    /// points (any replica that has caught up with it may answer), else at the primary.
    /// Either way an owner reads what they wrote; the response hands back the session's
    /// bookmark. Redirects never come here (see `RuleStore`).
    pub fn links(&self) -> Result<LinkStore, StorageError> {
        self.database().map(LinkStore::on)
    }

    /// The links database in this request's session (see [`Ctx::links`]).
    pub fn database(&self) -> Result<Database, StorageError> {
        self.links
            .get_or_init(|| {
                let start = match &self.bookmark {
                    Some(bookmark) => SessionStart::After(bookmark),
                    None => SessionStart::Primary,
                };
                Database::session(&self.env, start)
            })
            .clone()
    }

    /// The analytics shard that holds the statistics kept under `stats_key`.
    pub fn analytics(&self, stats_key: &str) -> Result<Shard, StorageError> {
        Shard::of(&self.env, stats_key, self.config.analytics_shards)
    }

    /// The click writer (for click-limited links, which count before redirecting).
    pub fn clicks(&self) -> Result<ClickWriter, StorageError> {
        self.primary().map(ClickWriter::on)
    }

    fn parsed(&self) -> Option<&url::Url> {
        self.parsed
            .get_or_init(|| url::Url::parse(&self.url).ok())
            .as_ref()
    }

    /// `BASE_URL`, or the request's own origin: the prefix of every short URL.
    pub fn origin(&self) -> &str {
        self.origin
            .get_or_init(|| match (&self.config.base_url, self.parsed()) {
                (Some(base), _) => base.clone(),
                (None, Some(url)) => url.origin().ascii_serialization(),
                (None, None) => String::new(),
            })
    }

    /// The request's query string without `?` (empty when there is none). Request URLs
    /// carry no fragment, so everything after the first `?` is the query.
    pub fn query(&self) -> &str {
        self.url.split_once('?').map_or("", |(_, query)| query)
    }

    /// Host names this service answers on (the request's, `BASE_URL`'s and every
    /// domain in `DOMAINS`); targets on them would loop.
    pub fn own_hosts(&self) -> Vec<&str> {
        self.parsed()
            .and_then(url::Url::host_str)
            .into_iter()
            .chain(self.config.base_host.as_deref())
            .chain(self.config.domains.hosts())
            .collect()
    }

    /// The rules a target must meet here, for `own_hosts` borrowed from the caller.
    pub fn target_policy<'a>(&'a self, own_hosts: &'a [&'a str]) -> TargetPolicy<'a> {
        TargetPolicy {
            own_hosts,
            blocked_hosts: &self.config.blocked_hosts,
            to_ascii: crate::whatwg::to_ascii,
        }
    }

    /// A health checker for this request: its hops are held to `target_policy`, and
    /// its `User-Agent` names this service's origin.
    pub fn checker<'a>(&'a self, own_hosts: &'a [&'a str]) -> Checker<'a> {
        Checker {
            env: &self.env,
            config: &self.config,
            policy: self.target_policy(own_hosts),
            origin: Some(self.origin()),
        }
    }

    /// Sends a health notice after the response: its retries must not hold the answer.
    pub fn notify(&self, notice: Option<Notice>) {
        if let Some(notice) = notice {
            let (env, config) = (self.env.clone(), self.config.clone());
            self.ctx
                .wait_until(async move { health::dispatch(&env, &config, &notice).await });
        }
    }

    /// `?limit=`: `default` when absent, else an integer from 1 to `max`.
    pub fn limit_param(&self, default: u32, max: u32) -> Result<u32, ApiError> {
        match self.query_param("limit") {
            None => Ok(default),
            Some(raw) => raw
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    ApiError::BadRequest(format!("limit must be an integer from 1 to {max}"))
                }),
        }
    }

    /// The first value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.query().as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// The origin of short URLs on `domain`: `primary` for the primary domain; for another,
/// the request's own origin when it came in on that host (`here`: host and origin, so
/// a local run keeps its scheme and port), else `https://host`.
pub fn origin_on<'a>(
    domain: &Domain,
    primary: &'a str,
    here: Option<(&str, &str)>,
) -> Cow<'a, str> {
    match (domain.host(), here) {
        (None, _) => Cow::Borrowed(primary),
        (Some(host), Some((h, origin))) if h.eq_ignore_ascii_case(host) => {
            Cow::Owned(origin.to_string())
        }
        (Some(host), _) => Cow::Owned(format!("https://{host}")),
    }
}

/// What D1 bookmarks look like (`00000000-00000034-00000000-…`): dashes and
/// alphanumerics, and not a session constraint, which the API would take as one.
fn is_bookmark(raw: &str) -> bool {
    (1..=MAX_BOOKMARK_LEN).contains(&raw.len())
        && raw.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
        && !raw.starts_with("first-")
}
