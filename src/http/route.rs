//! Routing as a pure function from (method, path) to a [`Route`], with keys and secrets
//! parsed on the way so that a path that cannot name a link never reaches storage.

use crate::domain::access::Actor;
use crate::domain::key::Key;
use crate::domain::secret::SecretKey;

/// The request methods the service distinguishes; everything else is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
    Options,
    Other,
}

impl Method {
    pub fn parse(raw: &str) -> Method {
        match raw {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            "OPTIONS" => Method::Options,
            _ => Method::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Other => "",
        }
    }
}

/// Every path template the service serves and the methods it allows there, in the
/// `Allow` header's spelling. This table is the router's own truth: `resolve` takes
/// allowed methods from it, and a test holds the OpenAPI document to it.
pub const ROUTES: &[(&str, &str)] = &[
    ("/", "GET, HEAD"),
    ("/healthz", "GET, HEAD"),
    ("/openapi.json", "GET, HEAD"),
    ("/docs", "GET, HEAD"),
    ("/dashboard", "GET, HEAD"),
    ("/url", "POST"),
    ("/{key}", "GET, HEAD, POST"),
    ("/{key}+", "GET, HEAD"),
    ("/{key}/qr", "GET, HEAD"),
    ("/admin/{secret_key}", "GET, HEAD, POST, PATCH, DELETE"),
    ("/admin/{secret_key}/stats", "GET, HEAD"),
    ("/admin/{secret_key}/visits", "GET, HEAD"),
    ("/admin/{secret_key}/check", "POST"),
    ("/api/links", "GET, HEAD"),
    ("/api/links/bulk", "POST"),
    ("/api/links/export", "GET, HEAD"),
    ("/api/links/import", "POST"),
    ("/api/links/{key}", "GET, HEAD, PATCH, DELETE"),
    ("/api/tags", "GET, HEAD"),
    ("/robots.txt", "GET, HEAD"),
    ("/api/links/{key}/stats", "GET, HEAD"),
    ("/api/links/{key}/check", "POST"),
    ("/api/keys", "GET, HEAD, POST"),
    ("/api/keys/{id}", "GET, HEAD, DELETE"),
    ("/api/audit", "GET, HEAD"),
    ("/api/audit/export", "GET, HEAD"),
    ("/api/domains", "GET, HEAD"),
    ("/api/me", "GET, HEAD"),
];

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Home,
    Health,
    /// A file that Workers Static Assets serves before the worker runs (the API
    /// description, its pages; `[assets]` in wrangler.toml, built by `site/`). Routed
    /// so that other methods get 405 like any route; a `GET` reaches the worker only
    /// when it runs without the assets, and finds nothing.
    Static,
    /// The operator dashboard: a page that asks for an API key, then uses the operator API.
    Dashboard,
    Create,
    /// `GET` counts a click; `HEAD` answers the same and counts nothing.
    Redirect {
        key: Key,
        count_click: bool,
    },
    /// A protected link's password form, posted back: redirects (and counts) like
    /// `GET` once the password is right.
    Unlock {
        key: Key,
    },
    Peek {
        key: Key,
    },
    Qr {
        key: Key,
    },
    AdminShow {
        secret: SecretKey,
    },
    /// A settings form of the admin page, posted without the script.
    AdminForm {
        secret: SecretKey,
    },
    AdminPatch {
        secret: SecretKey,
    },
    AdminDeactivate {
        secret: SecretKey,
    },
    AdminStats {
        secret: SecretKey,
    },
    /// The raw visits kept (`VISIT_RETENTION_DAYS`), newest first.
    AdminVisits {
        secret: SecretKey,
    },
    /// Checks the link's target now (rate-limited per link).
    AdminCheck {
        secret: SecretKey,
    },
    ApiList,
    ApiBulk,
    ApiExport,
    /// Links brought in from another shortener, with their keys, dates and clicks.
    ApiImport,
    ApiShow {
        key: Key,
    },
    ApiPatch {
        key: Key,
    },
    ApiDelete {
        key: Key,
    },
    /// Every tag in use, with its links and clicks.
    ApiTags,
    /// Crawlers may follow only the links marked `crawlable`.
    Robots,
    /// A link's statistics, as its owner sees them, by key.
    ApiStats {
        key: Key,
    },
    ApiCheck {
        key: Key,
    },
    KeysList,
    KeysCreate,
    KeyShow {
        id: String,
    },
    KeyRevoke {
        id: String,
    },
    AuditList,
    AuditExport,
    /// The domains this instance serves, with their fallbacks and link counts.
    ApiDomains,
    /// Who the caller is: how they signed in, their role and domains.
    ApiMe,
    /// The benchmark's storage counters ([`BENCH_COUNTERS_PATH`]); routed only as
    /// [`bench_counters`] says, so it is not in [`ROUTES`] or the API description.
    BenchCounters,
}

/// Where the benchmark reads the storage counters: under the operator API, so that the
/// operator's authentication runs before anything answers there.
pub const BENCH_COUNTERS_PATH: &str = "/api/__bench/counters";

/// Whether a request reads the benchmark's storage counters: only with the
/// `BENCH_COUNTERS` var "1" (`enabled`), and only for the `ADMIN_TOKEN` holder, so a
/// deployment with the var left on still shows them to nobody else.
pub fn bench_counters(path: &str, enabled: bool, actor: Option<&Actor>) -> bool {
    enabled && path == BENCH_COUNTERS_PATH && matches!(actor, Some(Actor::Root))
}

/// Why no route matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoRoute {
    NotFound,
    /// The path is known but not with this method; the methods it allows.
    MethodNotAllowed(&'static str),
}

/// True for the operator API, which answers only to the operator's token.
pub fn is_operator_path(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// A path matched to its template, with its parameters parsed.
enum Path {
    Fixed(&'static str),
    Link(Key),
    Peek(Key),
    Qr(Key),
    Admin(SecretKey),
    AdminStats(SecretKey),
    AdminVisits(SecretKey),
    AdminCheck(SecretKey),
    ApiLink(Key),
    ApiStats(Key),
    ApiCheck(Key),
    ApiKey(String),
}

impl Path {
    fn template(&self) -> &'static str {
        match self {
            Path::Fixed(template) => template,
            Path::Link(_) => "/{key}",
            Path::Peek(_) => "/{key}+",
            Path::Qr(_) => "/{key}/qr",
            Path::Admin(_) => "/admin/{secret_key}",
            Path::AdminStats(_) => "/admin/{secret_key}/stats",
            Path::AdminVisits(_) => "/admin/{secret_key}/visits",
            Path::AdminCheck(_) => "/admin/{secret_key}/check",
            Path::ApiLink(_) => "/api/links/{key}",
            Path::ApiStats(_) => "/api/links/{key}/stats",
            Path::ApiCheck(_) => "/api/links/{key}/check",
            Path::ApiKey(_) => "/api/keys/{id}",
        }
    }
}

fn classify(path: &str) -> Option<Path> {
    if let Some(&(template, _)) = ROUTES.iter().find(|(t, _)| *t == path) {
        return Some(Path::Fixed(template));
    }
    let rest = path.strip_prefix('/')?;
    if let Some(rest) = rest.strip_prefix("admin/") {
        if let Some(secret) = rest.strip_suffix("/stats") {
            return SecretKey::parse(secret).ok().map(Path::AdminStats);
        }
        if let Some(secret) = rest.strip_suffix("/visits") {
            return SecretKey::parse(secret).ok().map(Path::AdminVisits);
        }
        if let Some(secret) = rest.strip_suffix("/check") {
            return SecretKey::parse(secret).ok().map(Path::AdminCheck);
        }
        return SecretKey::parse(rest).ok().map(Path::Admin);
    }
    if let Some(key) = rest.strip_prefix("api/links/") {
        if let Some(key) = key.strip_suffix("/stats") {
            return Key::parse(key).ok().map(Path::ApiStats);
        }
        if let Some(key) = key.strip_suffix("/check") {
            return Key::parse(key).ok().map(Path::ApiCheck);
        }
        return Key::parse(key).ok().map(Path::ApiLink);
    }
    if let Some(id) = rest.strip_prefix("api/keys/") {
        return is_key_id(id).then(|| Path::ApiKey(id.to_string()));
    }
    if let Some(key) = rest.strip_suffix('+') {
        return Key::parse(key).ok().map(Path::Peek);
    }
    if let Some(key) = rest.strip_suffix("/qr") {
        return Key::parse(key).ok().map(Path::Qr);
    }
    Key::parse(rest).ok().map(Path::Link)
}

/// An API key's public id as issued (`key_` and 12 symbols of the key alphabet).
fn is_key_id(id: &str) -> bool {
    id.strip_prefix("key_").is_some_and(|rest| {
        rest.len() == 12
            && rest
                .bytes()
                .all(|b| crate::domain::random::ALPHABET.contains(&b))
    })
}

fn allowed(template: &str) -> &'static str {
    ROUTES
        .iter()
        .find(|(t, _)| *t == template)
        .map_or("", |(_, m)| m)
}

/// Resolves a request to a route.
pub fn resolve(method: Method, path: &str) -> Result<Route, NoRoute> {
    use Method::{Delete, Get, Patch};
    let path = classify(path).ok_or(NoRoute::NotFound)?;
    let allow = allowed(path.template());
    if !allow.split(", ").any(|m| m == method.as_str()) {
        return Err(NoRoute::MethodNotAllowed(allow));
    }
    let route = match (path, method) {
        (Path::Fixed("/"), _) => Route::Home,
        (Path::Fixed("/healthz"), _) => Route::Health,
        (Path::Fixed("/openapi.json" | "/docs"), _) => Route::Static,
        (Path::Fixed("/dashboard"), _) => Route::Dashboard,
        (Path::Fixed("/url"), _) => Route::Create,
        (Path::Fixed("/api/links"), _) => Route::ApiList,
        (Path::Fixed("/api/links/bulk"), _) => Route::ApiBulk,
        (Path::Fixed("/api/links/export"), _) => Route::ApiExport,
        (Path::Fixed("/api/tags"), _) => Route::ApiTags,
        (Path::Fixed("/robots.txt"), _) => Route::Robots,
        (Path::Fixed("/api/links/import"), _) => Route::ApiImport,
        (Path::Fixed("/api/keys"), Method::Post) => Route::KeysCreate,
        (Path::Fixed("/api/keys"), _) => Route::KeysList,
        (Path::Fixed("/api/audit"), _) => Route::AuditList,
        (Path::Fixed("/api/audit/export"), _) => Route::AuditExport,
        (Path::Fixed("/api/domains"), _) => Route::ApiDomains,
        (Path::Fixed("/api/me"), _) => Route::ApiMe,
        (Path::Fixed(_), _) => return Err(NoRoute::NotFound),
        (Path::Link(key), Method::Post) => Route::Unlock { key },
        (Path::Link(key), _) => Route::Redirect {
            key,
            count_click: method == Get,
        },
        (Path::Peek(key), _) => Route::Peek { key },
        (Path::Qr(key), _) => Route::Qr { key },
        (Path::Admin(secret), Patch) => Route::AdminPatch { secret },
        (Path::Admin(secret), Method::Post) => Route::AdminForm { secret },
        (Path::Admin(secret), Delete) => Route::AdminDeactivate { secret },
        (Path::Admin(secret), _) => Route::AdminShow { secret },
        (Path::AdminStats(secret), _) => Route::AdminStats { secret },
        (Path::AdminVisits(secret), _) => Route::AdminVisits { secret },
        (Path::AdminCheck(secret), _) => Route::AdminCheck { secret },
        (Path::ApiCheck(key), _) => Route::ApiCheck { key },
        (Path::ApiLink(key), Patch) => Route::ApiPatch { key },
        (Path::ApiLink(key), Delete) => Route::ApiDelete { key },
        (Path::ApiLink(key), _) => Route::ApiShow { key },
        (Path::ApiStats(key), _) => Route::ApiStats { key },
        (Path::ApiKey(id), Delete) => Route::KeyRevoke { id },
        (Path::ApiKey(id), _) => Route::KeyShow { id },
    };
    Ok(route)
}

#[cfg(test)]
mod tests;
