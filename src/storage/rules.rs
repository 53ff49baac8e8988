//! The one type the redirect asks for a link's redirect rule: this isolate's memory,
//! then KV, then D1, and after a D1 read the verified refill of both caches. Each
//! binding is opened at most once per request.

use std::cell::OnceCell;
use std::future::Future;
use std::rc::Rc;

use worker::Env;

use super::cache::LinkCache;
use super::database::{Database, Primary, SessionStart};
use super::error::StorageError;
use super::links::{LinkRef, LinkStore};
use super::memory;
use crate::domain::address::LinkName;
use crate::domain::link::{Link, LinkState, RedirectRule};
use crate::domain::outcome::Standing;
use crate::domain::timestamp::Timestamp;
use crate::log::LogLine;

/// The answer to a lookup by key: facts, not a decision (`domain/outcome.rs` decides
/// what the visitor gets).
pub enum Lookup {
    /// The link redirects by this rule.
    Found(Found),
    /// The link exists but does not redirect now: why, and the fallback URL its owner
    /// set, if any.
    Stopped {
        state: LinkState,
        fallback: Option<String>,
    },
    /// No link has this key.
    Missing,
}

impl Lookup {
    /// The facts the visit's decision reads: the rule (unless its host is on the
    /// operator's blocklist), or why the link does not redirect.
    pub fn standing(&self, blocked_hosts: &[String]) -> Standing<'_> {
        match self {
            Lookup::Found(found) => Standing::live(&found.rule, blocked_hosts),
            Lookup::Stopped { state, fallback } => Standing::Stopped {
                state: *state,
                fallback: fallback.as_deref(),
            },
            Lookup::Missing => Standing::Missing,
        }
    }
}

/// A live rule, and whether it was read from D1 (then the caches are owed a refill).
pub struct Found {
    pub rule: RedirectRule,
    from_d1: bool,
}

/// Redirect rules for one request, through every tier. Cloning shares the bindings.
#[derive(Clone)]
pub struct RuleStore {
    db: Primary,
    nearest: Rc<OnceCell<Result<Database, StorageError>>>,
    kv: Rc<LinkCache>,
}

impl RuleStore {
    /// The tiers for one request; each binding is opened when first needed.
    pub fn from_env(env: &Env) -> RuleStore {
        RuleStore::with_primary(env, Primary::of(env))
    }

    /// The tiers for one request, sharing the request's handle on the primary.
    pub fn with_primary(env: &Env, db: Primary) -> RuleStore {
        RuleStore {
            db,
            nearest: Rc::new(OnceCell::new()),
            kv: Rc::new(LinkCache::from_env(env)),
        }
    }

    /// The primary: the re-check after a cache fill must see every change committed
    /// before it.
    fn database(&self) -> Result<Database, StorageError> {
        self.db.get()
    }

    /// A session that may read from the nearest replica: a cache miss is answered as
    /// fast as the edge allows, at most as stale as replication lag (docs/architecture.md).
    fn nearest(&self) -> Result<Database, StorageError> {
        self.nearest
            .get_or_init(|| Database::session(self.kv.env(), SessionStart::Nearest))
            .clone()
    }

    /// The rule of the link `name` now. Only active links are cached, so a cache hit
    /// needs only the expiry check; a miss learns from D1 whether the link exists and
    /// redirects.
    pub async fn lookup(&self, name: &LinkName, now: Timestamp) -> Result<Lookup, StorageError> {
        let qualified = name.qualified();
        let cached = match memory::get(&qualified, now) {
            Some(rule) => Some(rule),
            None => {
                let rule = self.kv.get(name).await;
                if let Some(rule) = &rule {
                    memory::put(&qualified, rule, now);
                }
                rule
            }
        };
        if let Some(rule) = cached {
            let stopped = if rule.is_expired(now) {
                LinkState::Expired
            } else if rule.is_scheduled(now) {
                LinkState::Scheduled
            } else {
                return Ok(Lookup::Found(Found {
                    rule,
                    from_d1: false,
                }));
            };
            return Ok(Lookup::Stopped {
                state: stopped,
                fallback: rule.fallback().map(str::to_string),
            });
        }
        let link = LinkStore::on(self.nearest()?)
            .find(&LinkRef::Name(name))
            .await?;
        Ok(match link {
            None => Lookup::Missing,
            Some(link) => match link.state(now) {
                LinkState::Active => Lookup::Found(Found {
                    rule: RedirectRule::visited_as(&link, &qualified),
                    from_d1: true,
                }),
                state => Lookup::Stopped {
                    state,
                    fallback: link.controls.routing.fallback_url,
                },
            },
        })
    }

    /// The cache fill a lookup answered from D1 owes, to run after the response: `None`
    /// for a cache hit, and for a miss before the link's `after_misses`-th in this
    /// isolate (see [`memory::admit`]).
    pub fn refill(
        &self,
        key: &LinkName,
        found: &Found,
        now: Timestamp,
        after_misses: u32,
    ) -> Option<impl Future<Output = ()>> {
        if !found.from_d1 || !memory::admit(&key.qualified(), now, after_misses) {
            return None;
        }
        let (store, rule, key) = (self.clone(), found.rule.clone(), key.clone());
        Some(async move { store.fill_checked(&key, &rule, now).await })
    }

    /// Brings the caches in line with a link D1 just changed: its new rule if it still
    /// redirects, else no entry at all.
    pub async fn settle(&self, link: &Link, now: Timestamp) {
        if link.state(now) == LinkState::Active {
            self.fill_checked(&link.name(), &RedirectRule::of(link), now)
                .await;
        } else {
            self.evict(&link.name()).await;
        }
    }

    /// Caches a rule read from D1, then reads D1 again: a deactivation or edit that
    /// landed between the first read and the KV write would otherwise be undone by this
    /// fill, and the old target would redirect again until the entry expired. Every
    /// change bumps the link's version, so comparing versions catches all of them.
    async fn fill_checked(&self, key: &LinkName, rule: &RedirectRule, now: Timestamp) {
        memory::put(&key.qualified(), rule, now);
        self.kv.put(key, rule, now).await;
        let current = match self.database() {
            Ok(db) => LinkStore::on(db).find(&LinkRef::Name(key)).await,
            Err(e) => Err(e),
        };
        match current {
            Ok(Some(link))
                if link.version == rule.version && link.state(now) == LinkState::Active => {}
            Ok(_) => self.evict(key).await,
            Err(e) => {
                LogLine::error("cache.recheck")
                    .message("re-check after cache fill failed")
                    .key(&key.to_string())
                    .cause(e)
                    .emit();
                self.evict(key).await;
            }
        }
    }

    /// Drops a name (a renamed link's former key, say) from both caches.
    pub async fn forget(&self, key: &LinkName) {
        self.evict(key).await;
    }

    /// Drops a link from both caches after D1 stopped or changed its redirect.
    pub async fn evict(&self, key: &LinkName) {
        memory::forget(&key.qualified());
        self.kv.evict(key).await;
    }
}
