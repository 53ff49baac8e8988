//! Binding names and settings. The binding names must match `wrangler.toml`.

use worker::Env;

/// The D1 database of links.
pub const DB_BINDING: &str = "DB";
/// The KV namespace that caches key -> target.
pub const KV_BINDING: &str = "LINKS";

/// How long a KV read may be served from the reading location's cache. KV's minimum is
/// 30 s; this bounds how long another location can keep redirecting after a
/// deactivation (plus KV's own propagation, documented as up to 60 s).
pub const KV_CACHE_TTL_SECONDS: u64 = 60;
/// How long a cache entry lives at all; a link not visited for a day is read from D1
/// again, which keeps KV from holding every link ever made.
pub const KV_ENTRY_TTL_SECONDS: u64 = 24 * 60 * 60;

/// Settings read from `[vars]` once per request.
pub struct Config {
    /// The public origin of short links, without a trailing slash (`BASE_URL`).
    pub base_url: Option<String>,
}

impl Config {
    pub fn from_env(env: &Env) -> Config {
        let base_url = env
            .var("BASE_URL")
            .ok()
            .map(|v| v.to_string().trim().trim_end_matches('/').to_string())
            .filter(|v| !v.is_empty());
        Config { base_url }
    }
}
