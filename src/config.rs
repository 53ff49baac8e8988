//! Binding names and settings. The binding names must match `wrangler.toml`.

use std::cell::OnceCell;
use std::rc::Rc;

use worker::Env;

use crate::domain::compat::CompatApis;
use crate::domain::domains::Domains;
use crate::domain::health::DeadLinkMode;
use crate::domain::key::{GENERATED_LEN, MIN_LEN};
use crate::domain::link::RedirectStatus;
use crate::domain::shard::MAX_SHARDS;
use crate::log::LogLine;

/// The longest `VISIT_RETENTION_DAYS` or `AGGREGATE_RETENTION_DAYS` honoured: ten years.
pub const MAX_RETENTION_DAYS: u32 = 3650;
/// Daily aggregates kept by default: thirteen months and a margin.
pub const DEFAULT_AGGREGATE_RETENTION_DAYS: u32 = 400;

/// The D1 database of links.
pub const DB_BINDING: &str = "DB";
/// The KV namespace that caches key -> redirect rule.
pub const KV_BINDING: &str = "LINKS";
/// The queue that carries click batches to D1 when bound (`[[queues.producers]]`).
pub const CLICKS_QUEUE_BINDING: &str = "CLICKS";
/// The queue that carries link health notices to the operator's webhook when bound.
pub const HEALTH_QUEUE_BINDING: &str = "HEALTH_NOTICES";
/// The queues' names (`queue = ...` in `wrangler.toml`): the consumer tells its
/// deliveries apart by them (see `background::queues`).
pub const CLICKS_QUEUE_NAME: &str = "shortener-clicks";
pub const HEALTH_QUEUE_NAME: &str = "shortener-health-notices";
/// The first analytics database; shard `n` > 0 is `ANALYTICS_{n}` (see
/// [`analytics_binding`]).
pub const ANALYTICS_BINDING: &str = "ANALYTICS";
/// The optional Workers Analytics Engine dataset that receives every raw click.
pub const CLICK_EVENTS_BINDING: &str = "CLICK_EVENTS";
/// How long the guard of an applied click batch is kept. A batch comes again only when
/// its delivery was retried (the consumer failed or did not acknowledge it), which
/// Cloudflare Queues does after the retry delay, at most 12 hours; a day covers that.
/// A message whose delivery never succeeded has no guard to lose.
pub const CLICK_GUARD_DAYS: i64 = 1;

/// The binding name of analytics shard `n`.
pub fn analytics_binding(n: u32) -> String {
    if n == 0 {
        ANALYTICS_BINDING.to_string()
    } else {
        format!("{ANALYTICS_BINDING}_{n}")
    }
}

/// The Workers Rate Limiting binding that limits creations per client IP.
pub const CREATE_LIMITER_BINDING: &str = "CREATE_LIMITER";

/// How long a KV read may be served from the reading location's cache (KV's minimum),
/// and also how long an isolate keeps a rule in memory. Together, 60 s: with KV's own
/// propagation (documented as up to 60 s) this bounds how long another location can
/// keep redirecting after a deactivation or edit.
pub const KV_CACHE_TTL_SECONDS: u64 = 30;
/// How long a cache entry lives at all; a link not visited for a day is read from D1
/// again, which keeps KV from holding every link ever made.
pub const KV_ENTRY_TTL_SECONDS: u64 = 24 * 60 * 60;
/// `CACHE_AFTER_MISSES` when unset: a link's rule is cached on its second cache miss in
/// an isolate within [`CACHE_MISS_WINDOW_SECONDS`], so a link visited once (most links)
/// costs no KV write and no re-check read. 1 caches on every first miss.
pub const DEFAULT_CACHE_AFTER_MISSES: u32 = 2;
/// How long an isolate remembers a link's cache misses.
pub const CACHE_MISS_WINDOW_SECONDS: u64 = 60 * 60;
/// Default browser cache lifetime of 301/308 redirects (`PERMANENT_REDIRECT_MAX_AGE`).
pub const DEFAULT_PERMANENT_MAX_AGE: u32 = 300;
/// Links checked per scheduled run by default (`HEALTH_CHECKS_PER_RUN`): with at most
/// [`crate::health::MAX_REQUESTS_PER_CHECK`] requests each, 8 checks stay under the
/// 50 outbound requests a Workers Free invocation may make.
pub const DEFAULT_HEALTH_CHECKS_PER_RUN: u32 = 8;
/// The most `HEALTH_CHECKS_PER_RUN` honoured (the paid plans' subrequest limit is 1,000).
pub const MAX_HEALTH_CHECKS_PER_RUN: u32 = 100;
/// Time one check may take, redirects included (`HEALTH_CHECK_TIMEOUT_MS`).
pub const DEFAULT_HEALTH_CHECK_TIMEOUT_MS: u32 = 5_000;
pub const MAX_HEALTH_CHECK_TIMEOUT_MS: u32 = 30_000;
/// Shortest time between two on-demand checks of one link (`HEALTH_CHECK_MIN_INTERVAL_SECONDS`).
pub const DEFAULT_HEALTH_CHECK_MIN_INTERVAL_SECONDS: u32 = 60;

/// `Retry-After` of a rate-limited creation: the longest period the binding supports.
pub const RATE_LIMIT_RETRY_AFTER_SECONDS: u32 = 60;

/// Which browser origins may call the JSON API (`CORS_ORIGINS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    None,
    Any,
    List(Vec<String>),
}

impl CorsOrigins {
    fn parse(raw: Option<String>) -> CorsOrigins {
        match raw.as_deref().map(str::trim) {
            None | Some("") => CorsOrigins::None,
            Some("*") => CorsOrigins::Any,
            Some(list) => CorsOrigins::List(
                list.split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
                    .filter(|o| !o.is_empty())
                    .collect(),
            ),
        }
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`, if allowed.
    pub fn allow(&self, origin: &str) -> Option<String> {
        match self {
            CorsOrigins::None => None,
            CorsOrigins::Any => Some("*".into()),
            CorsOrigins::List(list) => list
                .iter()
                .any(|o| o.eq_ignore_ascii_case(origin))
                .then(|| origin.to_string()),
        }
    }
}

/// Settings from `[vars]` and secrets. They are fixed for the life of a deployment, so
/// they are read once per isolate, not once per request.
pub struct Config {
    /// The public origin of short links, without a trailing slash (`BASE_URL`).
    pub base_url: Option<String>,
    /// The host of `BASE_URL`, refused as a target.
    pub base_host: Option<String>,
    /// Status of links that do not choose one (`DEFAULT_REDIRECT_STATUS`, else 302).
    pub default_redirect: RedirectStatus,
    /// Seconds a browser may cache a 301/308 (`PERMANENT_REDIRECT_MAX_AGE`).
    pub permanent_max_age: u32,
    /// The operator API's bearer token (`ADMIN_TOKEN` secret); `None` disables `/api`.
    pub admin_token: Option<String>,
    /// Target hosts refused at creation and on redirect (`BLOCKED_HOSTS`, comma-separated).
    pub blocked_hosts: Vec<String>,
    /// Origins allowed to call the API from a browser (`CORS_ORIGINS`: `*` or a list).
    pub cors: CorsOrigins,
    /// Length of generated keys (`KEY_LENGTH`, 3 to 8; only collision tests lower it).
    pub key_length: usize,
    /// Whether `/api/__bench/counters` answers the operator (`BENCH_COUNTERS` = "1").
    pub bench_counters: bool,
    /// Analytics databases (`ANALYTICS_SHARDS`, 1 to 64; default 1).
    pub analytics_shards: u32,
    /// Days raw visits are kept (`VISIT_RETENTION_DAYS`; default 0: none, only the
    /// aggregates; see docs/scaling.md for why).
    pub visit_retention_days: u32,
    /// Cache misses of a link (in one isolate, within an hour) before its rule is
    /// written to memory and KV (`CACHE_AFTER_MISSES`, 1 to 10; default 2).
    pub cache_after_misses: u32,
    /// Whether the optional `CLICK_EVENTS` Analytics Engine dataset is bound.
    pub click_events: bool,
    /// Days of daily aggregates kept (`AGGREGATE_RETENTION_DAYS`; default 400, a little
    /// over thirteen months; 0 keeps them forever).
    pub aggregate_retention_days: u32,
    /// Signs the cookies that remember a right link password (`COOKIE_SECRET` secret).
    /// Without it, [`DEV_COOKIE_SECRET`]: fine on a laptop, forgeable in production.
    pub cookie_secret: String,
    /// Seconds a right password is remembered (`PASSWORD_REMEMBER_SECONDS`; default a
    /// day, at most 30 days).
    pub password_remember_seconds: u32,
    /// Password attempts per link per [`PASSWORD_WINDOW_SECONDS`]
    /// (`PASSWORD_ATTEMPTS_PER_LINK`; default 20).
    pub password_attempts_per_link: u32,
    /// Password attempts per client address per window (`PASSWORD_ATTEMPTS_PER_CLIENT`;
    /// default 10).
    pub password_attempts_per_client: u32,
    /// What visitors of a dead link get unless the link chose (`DEAD_LINK_MODE`).
    pub dead_link_mode: DeadLinkMode,
    /// Links checked per scheduled run (`HEALTH_CHECKS_PER_RUN`; 0 turns scheduled
    /// checks off).
    pub health_checks_per_run: u32,
    /// Milliseconds one check may take, redirects included (`HEALTH_CHECK_TIMEOUT_MS`).
    pub health_check_timeout_ms: u32,
    /// Seconds between two on-demand checks of one link
    /// (`HEALTH_CHECK_MIN_INTERVAL_SECONDS`).
    pub health_check_min_interval_seconds: u32,
    /// Where link health changes are posted (`HEALTH_WEBHOOK_URL`), and the secret they
    /// are signed with (`WEBHOOK_SECRET`); both are needed to send.
    pub health_webhook: Option<(String, String)>,
    /// The domains served besides the primary, and every domain's fallbacks
    /// (`DOMAINS`, see docs/teams.md).
    pub domains: Domains,
    /// `COMPAT_APIS`: the other shorteners' APIs answered here (docs/compat.md); an
    /// invalid list switches them all off and says why in the log.
    pub compat_apis: CompatApis,
    /// Why `DOMAINS` was refused, if it was: the instance then serves the primary
    /// domain only, logs the reason, and `/healthz` reports it.
    pub domains_error: Option<String>,
    /// Settings left at a default that is unsafe or silently off in production, as
    /// (`/healthz` field, reason): logged once per isolate and reported by `/healthz`.
    pub unsafe_defaults: Vec<(&'static str, &'static str)>,
}

/// The secrets a deployment needs and left unset, as (`/healthz` field, reason): an
/// unset `COOKIE_SECRET` signs password cookies with a key anyone can read in this
/// repository; a `HEALTH_WEBHOOK_URL` without `WEBHOOK_SECRET` sends nothing (notices
/// are only ever sent signed), which no one would notice otherwise.
pub fn unsafe_defaults(
    cookie_secret_set: bool,
    webhook_url_set: bool,
    webhook_secret_set: bool,
) -> Vec<(&'static str, &'static str)> {
    let mut found = Vec::new();
    if !cookie_secret_set {
        found.push((
            "cookie_secret",
            "COOKIE_SECRET is not set: password cookies are signed with a public default key, so anyone can forge one and skip a link's password; set the COOKIE_SECRET secret",
        ));
    }
    if webhook_url_set && !webhook_secret_set {
        found.push((
            "webhook_secret",
            "HEALTH_WEBHOOK_URL is set but WEBHOOK_SECRET is not: health notices are only sent signed, so none is sent; set the WEBHOOK_SECRET secret",
        ));
    }
    found
}

/// The cookie secret when `COOKIE_SECRET` is not set: public, so a deployment must set
/// its own (docs/controls.md).
pub const DEV_COOKIE_SECRET: &str = "dev-only-cookie-secret-set-COOKIE_SECRET";
/// The window password attempts are counted in: 15 minutes.
pub const PASSWORD_WINDOW_SECONDS: i64 = 15 * 60;
const MAX_REMEMBER_SECONDS: u32 = 30 * 24 * 3600;

fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .ok()
        .map(|v| v.to_string().trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A binding that exists but is not a string var (a TOML table under `[vars]`).
fn is_set_but_not_a_string(env: &Env, name: &str) -> bool {
    worker::js_sys::Reflect::get(env, &name.into())
        .is_ok_and(|v| !v.is_undefined() && !v.is_null() && v.as_string().is_none())
}

thread_local! {
    static CONFIG: OnceCell<Rc<Config>> = const { OnceCell::new() };
}

impl Config {
    /// The isolate's settings, read from `env` on first use.
    pub fn get(env: &Env) -> Rc<Config> {
        CONFIG.with(|cell| cell.get_or_init(|| Rc::new(Config::from_env(env))).clone())
    }

    fn from_env(env: &Env) -> Config {
        let base_url = var(env, "BASE_URL").map(|v| v.trim_end_matches('/').to_string());
        let base_host = base_url
            .as_deref()
            .and_then(|b| url::Url::parse(b).ok())
            .and_then(|u| u.host_str().map(str::to_string));
        // A string holding JSON, not a TOML table: reading an object var would bring
        // serde-wasm-bindgen's deserializer into the wasm for one setting. A table is
        // refused in words rather than read as no domains.
        let domains_raw = var(env, "DOMAINS");
        let parsed = match &domains_raw {
            None if is_set_but_not_a_string(env, "DOMAINS") => Err(
                "DOMAINS must be a string of JSON (in wrangler.toml, DOMAINS = '''{...}'''), not a table"
                    .to_string(),
            ),
            raw => Domains::parse(raw.as_deref(), base_host.as_deref()),
        };
        let (domains, domains_error) = match parsed {
            Ok(domains) => (domains, None),
            Err(e) => {
                LogLine::error("config.domains")
                    .message("DOMAINS does not parse; serving the primary domain only")
                    .cause(&e)
                    .emit();
                (
                    Domains::parse(None, base_host.as_deref()).unwrap_or_default(),
                    Some(e),
                )
            }
        };
        let cookie_secret = env
            .secret("COOKIE_SECRET")
            .ok()
            .map(|v| v.to_string())
            .or_else(|| var(env, "COOKIE_SECRET"))
            .filter(|v| !v.is_empty());
        let webhook_url = var(env, "HEALTH_WEBHOOK_URL");
        let webhook_secret = env
            .secret("WEBHOOK_SECRET")
            .ok()
            .map(|v| v.to_string())
            .filter(|v| !v.is_empty());
        let unsafe_defaults = unsafe_defaults(
            cookie_secret.is_some(),
            webhook_url.is_some(),
            webhook_secret.is_some(),
        );
        // Read once per isolate, so said once per isolate: loud where the operator
        // looks first, without a line on every request.
        for (_, why) in &unsafe_defaults {
            LogLine::warn("config.unsafe_default").cause(why).emit();
        }
        let compat_apis =
            CompatApis::parse(var(env, "COMPAT_APIS").as_deref()).unwrap_or_else(|e| {
                LogLine::error("config.compat_apis")
                    .message("COMPAT_APIS does not parse; every compatible API is off")
                    .cause(&e)
                    .emit();
                CompatApis::none()
            });
        Config {
            compat_apis,
            domains,
            domains_error,
            unsafe_defaults,
            base_url,
            base_host,
            default_redirect: var(env, "DEFAULT_REDIRECT_STATUS")
                .and_then(|v| v.parse().ok())
                .and_then(RedirectStatus::from_code)
                .unwrap_or(RedirectStatus::Found),
            permanent_max_age: var(env, "PERMANENT_REDIRECT_MAX_AGE")
                .and_then(|v| v.parse().ok())
                .unwrap_or(DEFAULT_PERMANENT_MAX_AGE),
            admin_token: env
                .secret("ADMIN_TOKEN")
                .ok()
                .map(|v| v.to_string())
                .filter(|v| !v.is_empty()),
            blocked_hosts: var(env, "BLOCKED_HOSTS")
                .map(|v| {
                    v.split(',')
                        .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
                        .filter(|h| !h.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            cors: CorsOrigins::parse(var(env, "CORS_ORIGINS")),
            key_length: var(env, "KEY_LENGTH")
                .and_then(|v| v.parse().ok())
                .map_or(GENERATED_LEN, |n: usize| n.clamp(MIN_LEN, GENERATED_LEN)),
            bench_counters: var(env, "BENCH_COUNTERS").as_deref() == Some("1"),
            analytics_shards: var(env, "ANALYTICS_SHARDS")
                .and_then(|v| v.parse().ok())
                .map_or(1, |n: u32| n.clamp(1, MAX_SHARDS)),
            visit_retention_days: var(env, "VISIT_RETENTION_DAYS")
                .and_then(|v| v.parse().ok())
                .map_or(0, |n: u32| n.min(MAX_RETENTION_DAYS)),
            click_events: env.analytics_engine(CLICK_EVENTS_BINDING).is_ok(),
            cache_after_misses: var(env, "CACHE_AFTER_MISSES")
                .and_then(|v| v.parse().ok())
                .map_or(DEFAULT_CACHE_AFTER_MISSES, |n: u32| n.clamp(1, 10)),
            aggregate_retention_days: var(env, "AGGREGATE_RETENTION_DAYS")
                .and_then(|v| v.parse().ok())
                .map_or(DEFAULT_AGGREGATE_RETENTION_DAYS, |n: u32| {
                    n.min(MAX_RETENTION_DAYS)
                }),
            cookie_secret: cookie_secret.unwrap_or_else(|| DEV_COOKIE_SECRET.to_string()),
            password_remember_seconds: var(env, "PASSWORD_REMEMBER_SECONDS")
                .and_then(|v| v.parse().ok())
                .map_or(24 * 3600, |n: u32| n.clamp(1, MAX_REMEMBER_SECONDS)),
            password_attempts_per_link: var(env, "PASSWORD_ATTEMPTS_PER_LINK")
                .and_then(|v| v.parse().ok())
                .map_or(20, |n: u32| n.max(1)),
            password_attempts_per_client: var(env, "PASSWORD_ATTEMPTS_PER_CLIENT")
                .and_then(|v| v.parse().ok())
                .map_or(10, |n: u32| n.max(1)),
            dead_link_mode: var(env, "DEAD_LINK_MODE")
                .and_then(|v| DeadLinkMode::parse(&v.to_ascii_lowercase()))
                .unwrap_or(DeadLinkMode::Redirect),
            health_checks_per_run: var(env, "HEALTH_CHECKS_PER_RUN")
                .and_then(|v| v.parse().ok())
                .map_or(DEFAULT_HEALTH_CHECKS_PER_RUN, |n: u32| {
                    n.min(MAX_HEALTH_CHECKS_PER_RUN)
                }),
            health_check_timeout_ms: var(env, "HEALTH_CHECK_TIMEOUT_MS")
                .and_then(|v| v.parse().ok())
                .map_or(DEFAULT_HEALTH_CHECK_TIMEOUT_MS, |n: u32| {
                    n.clamp(100, MAX_HEALTH_CHECK_TIMEOUT_MS)
                }),
            health_check_min_interval_seconds: var(env, "HEALTH_CHECK_MIN_INTERVAL_SECONDS")
                .and_then(|v| v.parse().ok())
                .unwrap_or(DEFAULT_HEALTH_CHECK_MIN_INTERVAL_SECONDS),
            health_webhook: webhook_url.zip(webhook_secret),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unset_secret_that_weakens_or_silences_something_is_reported() {
        let fields = |c, u, w| {
            unsafe_defaults(c, u, w)
                .into_iter()
                .map(|(field, _)| field)
                .collect::<Vec<_>>()
        };
        assert_eq!(fields(true, false, false), Vec::<&str>::new());
        assert_eq!(fields(true, true, true), Vec::<&str>::new());
        assert_eq!(fields(false, false, false), vec!["cookie_secret"]);
        assert_eq!(fields(true, true, false), vec!["webhook_secret"]);
        // A secret without a webhook to sign for weakens nothing.
        assert_eq!(fields(true, false, true), Vec::<&str>::new());
        assert_eq!(
            fields(false, true, false),
            vec!["cookie_secret", "webhook_secret"]
        );
        assert!(unsafe_defaults(false, false, false)[0]
            .1
            .contains("COOKIE_SECRET"));
    }

    #[test]
    fn cors_origins_allow_exactly_what_was_configured() {
        let list = CorsOrigins::parse(Some("https://app.example, https://Other.example/".into()));
        assert_eq!(
            list.allow("https://app.example"),
            Some("https://app.example".into())
        );
        assert_eq!(
            list.allow("https://other.example"),
            Some("https://other.example".into())
        );
        assert_eq!(list.allow("https://evil.example"), None);
        assert_eq!(
            CorsOrigins::parse(Some("*".into())).allow("https://x.example"),
            Some("*".into())
        );
        assert_eq!(CorsOrigins::parse(None).allow("https://app.example"), None);
        assert_eq!(CorsOrigins::parse(Some(" ".into())), CorsOrigins::None);
    }
}
