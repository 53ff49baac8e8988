//! One check of one link: observe the target, work out the new health, record it, and
//! bring the cached rule and the operator's webhook in line when the link turned dead
//! or recovered.

use worker::Env;

use super::probe;
use super::webhook::Notice;
use crate::clock::now;
use crate::config::Config;
use crate::domain::health::Observation;
use crate::domain::link::Link;
use crate::domain::link_request::TargetPolicy;
use crate::storage::error::StorageError;
use crate::storage::links::{LinkRef, LinkStore};
use crate::storage::rules::RuleStore;

/// What checks need from where they run (a request or the Cron Trigger).
pub struct Checker<'a> {
    pub env: &'a Env,
    pub config: &'a Config,
    /// The target rules every hop is held to.
    pub policy: TargetPolicy<'a>,
    /// The service's public origin, named in the `User-Agent` and in notices.
    pub origin: Option<&'a str>,
}

/// A link after its check, and the notice owed to the operator, if any.
pub struct Checked {
    pub link: Link,
    pub notice: Option<Notice>,
}

impl Checker<'_> {
    /// Fetches `target` as a check does, and says what was seen.
    pub async fn observe(&self, target: &str) -> Observation {
        probe::observe(
            target,
            &self.policy,
            &probe::user_agent(self.origin),
            self.config.health_check_timeout_ms,
        )
        .await
    }

    /// Checks `link` now and records the result.
    pub async fn check(&self, store: &LinkStore, link: &Link) -> Result<Checked, StorageError> {
        let seen = self.observe(&link.target_url).await;
        self.record(store, link, &seen).await
    }

    /// Records what a check of `link` saw. When the link turned dead or recovered, its
    /// cached rule is rewritten here (so this location's next visitor sees it at once)
    /// and a notice is returned for the webhook.
    pub async fn record(
        &self,
        store: &LinkStore,
        link: &Link,
        seen: &Observation,
    ) -> Result<Checked, StorageError> {
        let at = now();
        let after = link.health.after(seen, at);
        let recorded = store
            .record_check(link.stats_key(), &link.health, &after, after.next_check(at))
            .await?;
        let Some(updated) = recorded else {
            // Another check was recorded since this one read the link: its record
            // stands, and this one is answered with it.
            let current = store.find(&LinkRef::Name(&link.name())).await?;
            return Ok(Checked {
                link: current.unwrap_or_else(|| link.clone()),
                notice: None,
            });
        };
        if updated.version != link.version {
            RuleStore::from_env(self.env).settle(&updated, at).await;
        }
        let notice = link
            .health
            .transition_to(&after)
            .and_then(|t| Notice::new(t, &link.health, &updated, self.origin, at));
        Ok(Checked {
            link: updated,
            notice,
        })
    }
}
