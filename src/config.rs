//! Binding names and settings. The binding names must match `wrangler.toml`.

use worker::Env;

use crate::domain::link::RedirectStatus;

/// The D1 database of links.
pub const DB_BINDING: &str = "DB";
/// The KV namespace that caches key -> redirect rule.
pub const KV_BINDING: &str = "LINKS";

/// How long a KV read may be served from the reading location's cache. This bounds how
/// long another location can keep redirecting after a deactivation or edit (plus KV's
/// own propagation, documented as up to 60 s).
pub const KV_CACHE_TTL_SECONDS: u64 = 60;
/// How long a cache entry lives at all; a link not visited for a day is read from D1
/// again, which keeps KV from holding every link ever made.
pub const KV_ENTRY_TTL_SECONDS: u64 = 24 * 60 * 60;
/// Default browser cache lifetime of 301/308 redirects (`PERMANENT_REDIRECT_MAX_AGE`).
pub const DEFAULT_PERMANENT_MAX_AGE: u32 = 300;

/// Settings read from `[vars]` and secrets once per request.
pub struct Config {
    /// The public origin of short links, without a trailing slash (`BASE_URL`).
    pub base_url: Option<String>,
    /// Status of links that do not choose one (`DEFAULT_REDIRECT_STATUS`, else 302).
    pub default_redirect: RedirectStatus,
    /// Seconds a browser may cache a 301/308 (`PERMANENT_REDIRECT_MAX_AGE`).
    pub permanent_max_age: u32,
    /// The operator API's bearer token (`ADMIN_TOKEN` secret); `None` disables `/api`.
    pub admin_token: Option<String>,
}

fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .ok()
        .map(|v| v.to_string().trim().to_string())
        .filter(|v| !v.is_empty())
}

impl Config {
    pub fn from_env(env: &Env) -> Config {
        Config {
            base_url: var(env, "BASE_URL").map(|v| v.trim_end_matches('/').to_string()),
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
        }
    }
}
