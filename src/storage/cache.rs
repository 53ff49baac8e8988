//! The KV cache of key -> target for active links. KV is an optimisation: every failure
//! here is logged and treated as a miss, so redirects fall back to D1.

use worker::{console_error, Env, KvStore};

use crate::config::{KV_BINDING, KV_CACHE_TTL_SECONDS, KV_ENTRY_TTL_SECONDS};
use crate::domain::key::Key;

/// The KV namespace of cached targets, when it is bound.
pub struct LinkCache {
    kv: Option<KvStore>,
}

/// The one place that knows how a link's key is spelled in KV.
fn entry_name(key: &Key) -> String {
    format!("link:{key}")
}

impl LinkCache {
    /// Opens the KV binding; without one the cache is simply empty.
    pub fn from_env(env: &Env) -> LinkCache {
        let kv = match env.kv(KV_BINDING) {
            Ok(kv) => Some(kv),
            Err(e) => {
                console_error!("KV binding {KV_BINDING} unavailable, serving from D1: {e}");
                None
            }
        };
        LinkCache { kv }
    }

    /// The cached target of an active link, if any.
    pub async fn target(&self, key: &Key) -> Option<String> {
        let kv = self.kv.as_ref()?;
        match kv
            .get(&entry_name(key))
            .cache_ttl(KV_CACHE_TTL_SECONDS)
            .text()
            .await
        {
            Ok(value) => value,
            Err(e) => {
                console_error!("KV read for key {key} failed: {e}");
                None
            }
        }
    }

    /// Caches the target of a link that D1 just showed to be active.
    pub async fn fill(&self, key: &Key, target: &str) {
        let Some(kv) = self.kv.as_ref() else { return };
        let put = match kv.put(&entry_name(key), target) {
            Ok(put) => put.expiration_ttl(KV_ENTRY_TTL_SECONDS).execute().await,
            Err(e) => Err(e),
        };
        if let Err(e) = put {
            console_error!("KV write for key {key} failed: {e}");
        }
    }

    /// Drops a link from the cache after D1 stopped it redirecting.
    pub async fn evict(&self, key: &Key) {
        let Some(kv) = self.kv.as_ref() else { return };
        if let Err(e) = kv.delete(&entry_name(key)).await {
            console_error!("KV delete for key {key} failed: {e}");
        }
    }
}
