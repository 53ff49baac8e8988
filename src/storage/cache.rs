//! The KV tier of the rule cache: key -> redirect rule for active links, and the one
//! place that knows how an entry is named and spelled in KV. KV is an optimisation:
//! every failure here is logged and treated as a miss, so redirects fall back to D1.

use std::cell::{Cell, OnceCell};

use worker::{Env, KvStore};

use super::counters;
use crate::config::{KV_BINDING, KV_CACHE_TTL_SECONDS, KV_ENTRY_TTL_SECONDS};
use crate::domain::address::LinkName;
use crate::domain::controls::Routing;
use crate::domain::health::{DeadLinkMode, DeadTarget};
use crate::domain::link::{RedirectRule, RedirectStatus, RuleControls};
use crate::domain::timestamp::Timestamp;
use crate::log::LogLine;

/// KV refuses expirations less than 60 s ahead.
const KV_MIN_TTL_SECONDS: u64 = 60;

/// The KV namespace of cached rules, when it is bound. One per request: it logs the
/// first KV failure of the request and stays quiet after, so an outage does not flood
/// the logs with one line per call.
pub struct LinkCache {
    env: Env,
    kv: OnceCell<Option<KvStore>>,
    failed: Cell<bool>,
}

/// The one place that knows how a link's key is spelled in KV.
/// `link:` and the link's qualified name: `link:abc` on the primary domain (as before
/// domains existed), `link:go.example.com/abc` on another.
fn entry_name(name: &LinkName) -> String {
    format!("link:{name}")
}

/// The one place that knows how a rule is spelled in KV: newline-separated fields with
/// the target last (a serialized URL never contains a newline). A plain split, so the
/// redirect path of a plain link parses no JSON; a link with routing controls carries
/// them as one line of compact JSON (which escapes newlines), parsed on a memory miss
/// only. The dead field is empty unless the target is dead, then `<since ms>:<mode>`
/// (mode empty for the instance's default). Values in any other shape (such as the bare
/// targets of the first release, or formats 1 and 2, which lacked the controls or the
/// health) decode to `None` and are refilled from D1.
pub fn encode(rule: &RedirectRule) -> String {
    let routing = rule.routing().map(Routing::to_json).unwrap_or_default();
    format!(
        "3\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
        rule.version,
        rule.status.map_or(0, RedirectStatus::code),
        u8::from(rule.forward_query),
        rule.expires_at
            .map_or(String::new(), |t| t.millis().to_string()),
        u8::from(rule.metered),
        rule.controls.stats_key.as_deref().unwrap_or_default(),
        routing,
        rule.dead.map_or(String::new(), |d| format!(
            "{}:{}",
            d.since.millis(),
            d.mode.map_or("", DeadLinkMode::as_str)
        )),
        rule.target
    )
}

fn decode_dead(field: &str) -> Option<Option<DeadTarget>> {
    if field.is_empty() {
        return Some(None);
    }
    let (since, mode) = field.split_once(':')?;
    Some(Some(DeadTarget {
        since: Timestamp::from_millis(since.parse().ok()?),
        mode: match mode {
            "" => None,
            m => Some(DeadLinkMode::parse(m)?),
        },
    }))
}

pub fn decode(value: &str) -> Option<RedirectRule> {
    let mut parts = value.splitn(10, '\n');
    if parts.next()? != "3" {
        return None;
    }
    let version = parts.next()?.parse().ok()?;
    let status = match parts.next()?.parse().ok()? {
        0 => None,
        code => Some(RedirectStatus::from_code(code)?),
    };
    let forward_query = parts.next()? == "1";
    let expires_at = match parts.next()? {
        "" => None,
        ms => Some(Timestamp::from_millis(ms.parse().ok()?)),
    };
    let metered = parts.next()? == "1";
    let stats_key = Some(parts.next()?)
        .filter(|k| !k.is_empty())
        .map(str::to_string);
    let routing = match parts.next()? {
        "" => None,
        json => Some(std::rc::Rc::new(Routing::from_json(json).ok()?)),
    };
    let dead = decode_dead(parts.next()?)?;
    let target = parts.next()?.to_string();
    Some(RedirectRule {
        target,
        version,
        status,
        forward_query,
        expires_at,
        metered,
        controls: RuleControls { stats_key, routing },
        dead,
    })
}

impl LinkCache {
    /// A cache for one request; the binding is opened when first needed.
    pub fn from_env(env: &Env) -> LinkCache {
        LinkCache {
            env: env.clone(),
            kv: OnceCell::new(),
            failed: Cell::new(false),
        }
    }

    /// The bindings this cache was made from (the rule store opens D1 from them).
    pub fn env(&self) -> &Env {
        &self.env
    }

    /// The KV binding, looked up on first use: a redirect answered from the isolate's
    /// memory never pays for the lookup. Without a binding the cache is simply empty.
    fn kv(&self) -> Option<&KvStore> {
        self.kv
            .get_or_init(|| match self.env.kv(KV_BINDING) {
                Ok(kv) => Some(kv),
                Err(e) => {
                    self.report(
                        LogLine::error("kv")
                            .message("KV binding unavailable, serving from D1")
                            .cause(e),
                    );
                    None
                }
            })
            .as_ref()
    }

    /// Logs a KV failure once per request: a request that touches KV twice while KV is
    /// down says so once.
    fn report(&self, line: LogLine) {
        if !self.failed.replace(true) {
            line.emit();
        }
    }

    /// The rule KV holds for an active link, if any.
    pub async fn get(&self, key: &LinkName) -> Option<RedirectRule> {
        let kv = self.kv()?;
        counters::kv_read();
        match kv
            .get(&entry_name(key))
            .cache_ttl(KV_CACHE_TTL_SECONDS)
            .text()
            .await
        {
            Ok(value) => value.as_deref().and_then(decode),
            Err(e) => {
                let key = key.to_string();
                self.report(
                    LogLine::error("kv")
                        .message("KV read failed")
                        .key(&key)
                        .cause(e),
                );
                None
            }
        }
    }

    /// Caches the rule of a link that D1 just showed to be active. The entry expires
    /// with the link (or after a day); a link expiring within a minute is not cached.
    pub async fn put(&self, key: &LinkName, rule: &RedirectRule, now: Timestamp) {
        let Some(kv) = self.kv() else { return };
        let mut ttl = KV_ENTRY_TTL_SECONDS;
        if let Some(at) = rule.expires_at {
            let left = u64::try_from((at.millis() - now.millis()) / 1000).unwrap_or(0);
            if left < KV_MIN_TTL_SECONDS {
                return self.evict(key).await;
            }
            ttl = ttl.min(left);
        }
        counters::kv_write();
        let put = match kv.put(&entry_name(key), encode(rule)) {
            Ok(put) => put.expiration_ttl(ttl).execute().await,
            Err(e) => Err(e),
        };
        if let Err(e) = put {
            let key = key.to_string();
            self.report(
                LogLine::error("kv")
                    .message("KV write failed")
                    .key(&key)
                    .cause(e),
            );
        }
    }

    /// Drops a link from the cache after D1 stopped or changed its redirect.
    pub async fn evict(&self, key: &LinkName) {
        let Some(kv) = self.kv() else { return };
        counters::kv_delete();
        if let Err(e) = kv.delete(&entry_name(key)).await {
            let key = key.to_string();
            self.report(
                LogLine::error("kv")
                    .message("KV delete failed")
                    .key(&key)
                    .cause(e),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> RedirectRule {
        RedirectRule {
            target: "https://example.com/a?b=c#d".into(),
            version: 7,
            status: Some(RedirectStatus::PermanentRedirect),
            forward_query: false,
            expires_at: Some(Timestamp::from_millis(1_795_290_489_000)),
            metered: true,
            controls: RuleControls::default(),
            dead: None,
        }
    }

    #[test]
    fn rules_round_trip_through_the_kv_format() {
        assert_eq!(decode(&encode(&rule())), Some(rule()));
        let plain = RedirectRule {
            status: None,
            expires_at: None,
            metered: false,
            forward_query: true,
            ..rule()
        };
        assert_eq!(decode(&encode(&plain)), Some(plain));
        let routing = Routing::from_json(
            r#"{"fallback_url":"https://f.example/","rules":[{"when":{"language":["de"]},"target_url":"https://a.example/\nx"}]}"#,
        )
        .unwrap();
        let controlled = RedirectRule {
            controls: RuleControls {
                stats_key: Some("first-key".into()),
                routing: Some(std::rc::Rc::new(routing)),
            },
            ..rule()
        };
        assert_eq!(decode(&encode(&controlled)), Some(controlled.clone()));
        for mode in [
            None,
            Some(DeadLinkMode::Gone),
            Some(DeadLinkMode::Interstitial),
        ] {
            let dead = RedirectRule {
                dead: Some(DeadTarget {
                    since: Timestamp::from_millis(1_795_290_000_000),
                    mode,
                }),
                ..controlled.clone()
            };
            assert_eq!(decode(&encode(&dead)), Some(dead));
        }
    }

    #[test]
    fn values_in_any_other_shape_are_misses() {
        for value in [
            "https://example.com/",
            "",
            "3",
            "1\n1\n0\n1\n\n0\nhttps://a.com/",
            // Format 2 (controls, no health) and the health branch's own format 2.
            "2\n1\n0\n1\n\n0\n\n\nhttps://a.com/",
            "2\n1\n0\n1\n\n0\n\nhttps://a.com/",
            "4\n1\n0\n1\n\n0\n\n\n\nhttps://a.com/",
            "3\nx\n0\n1\n\n0\n\n\n\nhttps://a.com/",
            "3\n1\n303\n1\n\n0\n\n\n\nhttps://a.com/",
            "3\n1\n0\n1\n\n0\n\n{not json\n\nhttps://a.com/",
            "3\n1\n0\n1\n\n0\n\n\n12\nhttps://a.com/",
            "3\n1\n0\n1\n\n0\n\n\n12:dead\nhttps://a.com/",
        ] {
            assert_eq!(decode(value), None, "{value:?}");
        }
    }
}
